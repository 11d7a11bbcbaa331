# SQL below is built from our own models' table names and the callers' SQL; every value goes
# through parameters.
# ruff: noqa: S608
"""Writes of the product list's sort keys (catalogs.ProductSortKey): the side table that
keeps the title, price and last-changed sorts off the products' own indexes.

Triggers (catalogs migrations 0009 and 0021) keep it in step with the products row by row;
bulk writers turn them off for their transaction and write the keys set-based instead. On
PostgreSQL the table is partitioned by catalog, so a catalog's first pull builds its
partition's indexes in bulk.
"""

from __future__ import annotations

import contextlib

from django.db import OperationalError, connection, transaction

from .models import Product, ProductSortKey

SORT_KEY_TABLE = ProductSortKey._meta.db_table
# When 'on' for a transaction, the insert and update triggers (catalogs migrations 0009 and
# 0021) leave the products' sort keys alone: the transaction writes them in bulk itself.
DEFER_SORT_KEYS = "catalog_health.defer_sort_keys"


def sort_keys_defer(cursor) -> None:
    """Inside a transaction about to write products in bulk: the triggers write no sort
    keys; ``sort_keys_fill_new_partition`` (a first pull) must follow."""
    cursor.execute(f"SET LOCAL {DEFER_SORT_KEYS} = 'on'")


@contextlib.contextmanager
def sort_keys_written_after(cursor, *, catalog_id: int, ids_sql: str, params: list):
    """Around bulk writes of some products of a catalog (``ids_sql``: their ids): the
    triggers stay off, then two set-based statements write their sort keys (10,000 changed
    products: ~0.9 s against ~1.2 s by row triggers). Not on SQLite, nor when the caller
    deferred them already (a first pull fills its partition itself)."""
    if connection.vendor == "postgresql":
        cursor.execute("SELECT current_setting(%s, true)", [DEFER_SORT_KEYS])
    if connection.vendor != "postgresql" or cursor.fetchone()[0] == "on":
        yield
        return
    sort_keys_defer(cursor)
    yield
    keys, table = "title, price, last_changed_at", SORT_KEY_TABLE
    written = (
        "SELECT p.tenant_id, p.id, p.catalog_id, p.title, p.price, p.last_changed_at "
        f"FROM {Product._meta.db_table} p WHERE p.id IN ({ids_sql})"
    )
    cursor.execute(
        f"UPDATE {table} k SET ({keys}) = (w.title, w.price, w.last_changed_at) "
        f"FROM ({written}) w WHERE k.catalog_id = %s AND k.product_id = w.id "
        "AND (k.title, k.price, k.last_changed_at) IS DISTINCT FROM "
        "(w.title, w.price, w.last_changed_at)",
        [*params, catalog_id],
    )
    cursor.execute(
        f"INSERT INTO {table} (tenant_id, product_id, catalog_id, {keys}) {written} "
        f"AND NOT EXISTS (SELECT 1 FROM {table} k WHERE k.catalog_id = %s AND k.product_id = p.id)",
        [*params, catalog_id],
    )
    cursor.execute(f"SET LOCAL {DEFER_SORT_KEYS} = 'off'")


def sort_key_partition(catalog_id: int) -> str:
    return f"{SORT_KEY_TABLE}_c{int(catalog_id)}"


def sort_keys_fill_new_partition(cursor, *, tenant_id: int, catalog_id: int) -> bool:
    """Write the sort keys of a catalog whose products were created with the triggers
    deferred (a first pull), in the caller's transaction, on PostgreSQL.

    A new partition is filled, then its four indexes are built from its rows, then it is
    attached: at a million products ~3.7 s against ~12 s for PostgreSQL maintaining the
    title, price and last-changed indexes row by row as the products arrive
    (bench/RESULTS.md). The ATTACH locks the default partition (it checks that no row of
    the catalog is there), so it is the caller's last statement before COMMIT. Returns
    False when the catalog already had a partition (its products were all deleted since):
    the rows then go into it, with row-by-row index maintenance.
    """
    partition = sort_key_partition(catalog_id)
    select = (
        "SELECT tenant_id, id AS product_id, catalog_id, {title}, price, last_changed_at "
        "FROM catalogs_product WHERE tenant_id = %s AND catalog_id = %s"
    )
    sort_keys_drop_unattached(cursor, catalog_id=catalog_id)
    attached = _partition_state(cursor, catalog_id)[1]
    if attached:
        _delete_stale_sort_keys(cursor, tenant_id=tenant_id, catalog_id=catalog_id)
        cursor.execute(
            f"INSERT INTO {SORT_KEY_TABLE} "
            "(tenant_id, product_id, catalog_id, title, price, last_changed_at) "
            + select.format(title="title"),
            [tenant_id, catalog_id],
        )
    else:
        # CREATE TABLE AS writes in bulk (faster than INSERT … SELECT), in title order so
        # that the title index's build finds its rows already sorted (0.4-0.5 s at 1M
        # instead of 1.2 s); the partition must carry the parent's NOT NULLs.
        # The partition's title takes the parent's collation (ATTACH requires it): "C" where
        # catalogs migration 0015 found the database's own order to be byte order.
        title = f"title COLLATE {_title_collation(cursor)} AS title"
        cursor.execute(
            f"CREATE TABLE {partition} AS {select.format(title=title)} ORDER BY title, id",
            [tenant_id, catalog_id],
        )
        cursor.execute(
            f"ALTER TABLE {partition} ALTER tenant_id SET NOT NULL, "
            "ALTER product_id SET NOT NULL, ALTER catalog_id SET NOT NULL, "
            "ALTER title SET NOT NULL, ALTER last_changed_at SET NOT NULL"
        )
        sort_keys_index_partition(cursor, partition)
        sort_keys_attach_partition(cursor, tenant_id=tenant_id, catalog_id=catalog_id)
    cursor.execute(f"SET LOCAL {DEFER_SORT_KEYS} = 'off'")
    return not attached


def _partition_state(cursor, catalog_id: int) -> tuple[bool, bool]:
    """Whether the catalog's partition table exists, and whether it is attached."""
    cursor.execute(
        "SELECT t.oid IS NOT NULL, EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = t.oid) "
        "FROM (SELECT to_regclass(%s) AS oid) t",
        [sort_key_partition(catalog_id)],
    )
    return cursor.fetchone()


def _delete_stale_sort_keys(cursor, *, tenant_id: int, catalog_id: int) -> None:
    """Rows left by products that went without their delete trigger (a TRUNCATE) would make
    an ATTACH fail; a first pull's products are all new, so any row of its catalog is
    stale."""
    cursor.execute(
        f"DELETE FROM {SORT_KEY_TABLE} WHERE tenant_id = %s AND catalog_id = %s",
        [tenant_id, catalog_id],
    )


def sort_keys_index_builds(partition: str) -> tuple[list[str], list[str]]:
    """A filled partition's four index builds, in two halves of about equal work (at a
    million products 1.2 s and 1.4 s): its primary key's unique index and the title's, then
    the price's and the last change's. They are the parent's index definitions, which ATTACH
    adopts instead of building its own. A CREATE INDEX takes a SHARE lock, which does not
    conflict with itself: once the table is committed, the halves can be built at the same
    time on two connections (``sort_keys_finish_partition`` then follows on one of them)."""
    builds = [f"CREATE UNIQUE INDEX {partition}_pkey ON {partition} (product_id, catalog_id)"]
    for name, key in (("title", "title"), ("price", "price"), ("changed", "last_changed_at")):
        builds.append(f"CREATE INDEX {partition}_{name} ON {partition} ({key}, product_id)")
    return builds[:2], builds[2:]


def sort_keys_build_indexes(cursor, builds: list[str]) -> None:
    """Run some of ``sort_keys_index_builds`` in the cursor's transaction."""
    # maintenance_work_mem: the index builds sort in memory (PostgreSQL's default 64 MB
    # spills a million titles to disk)
    cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
    for build in builds:
        cursor.execute(build)


def sort_keys_finish_partition(cursor, partition: str) -> None:
    """Once its indexes are built: the partition's primary key (its unique index, adopted
    without a scan) and its statistics."""
    cursor.execute(
        f"ALTER TABLE {partition} ADD CONSTRAINT {partition}_pkey "
        f"PRIMARY KEY USING INDEX {partition}_pkey"
    )
    cursor.execute(f"ANALYZE {partition}")


def sort_keys_index_partition(cursor, partition: str) -> None:
    """A filled, not yet attached partition's primary key and sort indexes, built from its
    rows one after the other, and its statistics."""
    for builds in sort_keys_index_builds(partition):
        sort_keys_build_indexes(cursor, builds)
    sort_keys_finish_partition(cursor, partition)


def sort_keys_attach_partition(cursor, *, tenant_id: int, catalog_id: int) -> None:
    """Attach the catalog's indexed partition, in the transaction of its first pull. The
    ATTACH locks the default partition (it checks that no row of the catalog is there), so
    it is the caller's last statement before COMMIT."""
    _delete_stale_sort_keys(cursor, tenant_id=tenant_id, catalog_id=catalog_id)
    cursor.execute(
        f"ALTER TABLE {SORT_KEY_TABLE} ATTACH PARTITION {sort_key_partition(catalog_id)} "
        f"FOR VALUES IN ({int(catalog_id)})"
    )


def sort_keys_new_partition_table(cursor, *, tenant_id: int, catalog_id: int) -> str | None:
    """On a connection of its own, for a catalog's first pull (whose transaction holds the
    catalog): a new, empty partition table to fill beside the pull and index
    (``sort_keys_index_builds``), committed unattached; the pull's transaction attaches
    it (``sort_keys_attach_partition``). A table left unattached by a pull that failed
    after it was committed is dropped first. None when the catalog has a partition already
    (its products were all deleted since): ``sort_keys_fill_new_partition`` fills that."""
    partition = sort_key_partition(catalog_id)
    if _partition_state(cursor, catalog_id)[1]:
        return None
    sort_keys_drop_unattached(cursor, catalog_id=catalog_id)
    # LIKE takes the parent's columns with their NOT NULLs and the title's collation;
    # the CHECK spares the ATTACH a scan of the rows for their catalog
    cursor.execute(
        f"CREATE TABLE {partition} (LIKE {SORT_KEY_TABLE}, "
        f"CHECK (catalog_id = {int(catalog_id)} AND tenant_id = {int(tenant_id)}))"
    )
    return partition


def sort_keys_drop_unattached(cursor, *, catalog_id: int) -> None:
    """Drop the catalog's partition table if it is not attached (a first pull that failed
    after committing it); an attached one is the catalog's and stays."""
    exists, attached = _partition_state(cursor, catalog_id)
    if exists and not attached:
        cursor.execute(f"DROP TABLE {sort_key_partition(catalog_id)}")


def _title_collation(cursor) -> str:
    """The sort key table's title collation, quoted ("default" unless migration 0015 set
    "C")."""
    cursor.execute(
        "SELECT n.nspname, c.collname FROM pg_attribute a "
        "JOIN pg_collation c ON c.oid = a.attcollation "
        "JOIN pg_namespace n ON n.oid = c.collnamespace "
        "WHERE a.attrelid = %s::regclass AND a.attname = 'title'",
        [SORT_KEY_TABLE],
    )
    schema, name = cursor.fetchone()
    return f"{connection.ops.quote_name(schema)}.{connection.ops.quote_name(name)}"


def sort_keys_drop_orphan_partitions() -> int:
    """Drop the sort key partitions of deleted catalogs (their delete emptied them), and
    the partition tables a first pull left unattached (sort_keys_new_partition_table) whose
    catalog is deleted, one transaction each; returns how many went. Dropping a partition
    locks the whole sort key table for an instant, so each drop waits at most half a second
    for that lock and is otherwise left for the next run, rather than queueing every product
    list behind it."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.relname, i.inhrelid IS NOT NULL FROM pg_class c "
            "LEFT JOIN pg_inherits i ON i.inhrelid = c.oid "
            "WHERE (i.inhparent = %s::regclass OR i.inhrelid IS NULL) "
            "AND c.relkind = 'r' AND c.relname LIKE %s "
            "AND NOT EXISTS (SELECT 1 FROM catalogs_catalog k "
            "  WHERE c.relname = %s || k.id::text)",
            [SORT_KEY_TABLE, f"{SORT_KEY_TABLE}\\_c%", f"{SORT_KEY_TABLE}_c"],
        )
        orphans = cur.fetchall()
    dropped = 0
    for partition, attached in orphans:
        try:
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute("SET LOCAL lock_timeout = '500ms'")
                table = connection.ops.quote_name(partition)
                cur.execute(f"SELECT EXISTS (SELECT 1 FROM {table})")
                if attached and cur.fetchone()[0]:  # a catalog deleted mid-way: not ours
                    continue
                cur.execute(f"DROP TABLE {table}")
        except OperationalError:  # lock not granted in time: the next run tries again
            continue
        dropped += 1
    return dropped
