"""The sort keys' title compares bytes (COLLATE "C") on a database whose own collation
already orders text by code point: C, POSIX and glibc's C.UTF-8.

Those orders are the same: C.UTF-8 collates by code point, which for UTF-8 is byte order,
and PostgreSQL breaks strcoll() ties with strcmp() anyway. But PostgreSQL gives only "C"
its fast path (memcmp and abbreviated sort keys); under any other libc collation every
comparison goes through strcoll(), and a catalog's first pull sorts a million titles twice
(the partition's fill in title order, then its title index): ~0.9 s of the 4-5 s the sort
keys take at 1M products. The product list's title order is unchanged (catalogs/tests/
test_sort_key_collation.py). Every other database (en_US.utf8, ICU, PostgreSQL 17's builtin
provider) keeps its collation: its order is not byte order, or is already as fast.

catalogs.sort_keys.sort_keys_fill_new_partition reads the column's collation rather than
assuming it, so a later ALTER of the column that resets it leaves first pulls working.
"""

from django.db import migrations

TABLE = "catalogs_productsortkey"
# libc collations whose order is byte order
BYTE_ORDER_COLLATIONS = ("C", "POSIX", "C.UTF-8", "C.utf8")


def database_collates_by_code_point(cursor) -> bool:
    """Whether the database's default collation is a libc one in BYTE_ORDER_COLLATIONS."""
    cursor.execute("SELECT current_setting('server_version_num')::int")
    provider = "datlocprovider" if cursor.fetchone()[0] >= 150000 else "'c'"
    cursor.execute(
        f"SELECT datcollate, {provider} FROM pg_database WHERE datname = current_database()"
    )
    collate, provider = cursor.fetchone()
    return provider == "c" and collate in BYTE_ORDER_COLLATIONS


def title_bytes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cur:
        if not database_collates_by_code_point(cur):
            return
    # the partitions follow, and their title indexes are rebuilt; the rows stay as they are
    schema_editor.execute(f'ALTER TABLE {TABLE} ALTER COLUMN title TYPE varchar(500) COLLATE "C"')


def title_default(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN title TYPE varchar(500)")


class Migration(migrations.Migration):
    dependencies = [
        ("catalogs", "0014_order_fewer_indexes"),
    ]

    operations = [migrations.RunPython(title_bytes, title_default)]
