"""The title sort's collation (catalogs migration 0015): "C" on a database whose own
collation orders by code point, and the same product list order either way."""

import importlib

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalogs import selectors, sort_keys
from catalogs.models import Product
from catalogs.tests.factories import CatalogFactory

migration = importlib.import_module("catalogs.migrations.0015_product_sort_title_bytes")

# case, accents (precomposed and combining), other scripts, emoji (4-byte UTF-8), digits,
# punctuation, spaces, private use and the last code points: where a locale's order and
# byte order part
TITLES = [
    "apple",
    "Apple",
    "APPLE",
    "apple ",
    " apple",
    "äpple",
    "a\u0308pple",
    "Äpple",
    "zebra",
    "Zebra",
    "éclair",
    "Eclair",
    "eclair",
    "ß",
    "ss",
    "Ω",
    "日本",
    "한국",
    "🍎 apple",
    "🍏",
    "😀",
    "\ue000",
    "\uffff",
    "\U0010fffd",
    "10",
    "9",
    "-",
    "_",
    "a-b",
    "ab",
    "a_b",
    "",
    "apple",  # a tie: broken by id
]


def _by_code_point() -> bool:
    with connection.cursor() as cur:
        return migration.database_collates_by_code_point(cur)


def _title_collation() -> str:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.collname FROM pg_attribute a JOIN pg_collation c ON c.oid = a.attcollation "
            "WHERE a.attrelid = 'catalogs_productsortkey'::regclass AND a.attname = 'title'"
        )
        return cur.fetchone()[0]


def _products(tenant, catalog) -> None:
    Product.objects.bulk_create(
        Product(tenant=tenant, catalog=catalog, sku=f"S{i:03}", title=title)
        for i, title in enumerate(TITLES)
    )


def _title_pages(tenant, catalog, size: int = 4) -> list[tuple[str, int]]:
    """The product list sorted by title, page after page through its keyset cursors."""
    seen, cursor = [], None
    while True:
        page = selectors.product_page(
            tenant=tenant, catalog=catalog, filters={}, cursor=cursor, sort="title", size=size
        )
        seen += [(p.title, p.pk) for p in page.rows]
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


def _database_order(catalog) -> list[tuple[str, int]]:
    """The products by title in the database's own collation, ties by id."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT title, id FROM catalogs_product WHERE catalog_id = %s "
            'ORDER BY title COLLATE "default", id',
            [catalog.pk],
        )
        return [tuple(row) for row in cur.fetchall()]


@pytest.mark.django_db
def test_the_title_column_compares_bytes_only_where_the_database_orders_by_code_point():
    assert _title_collation() == ("C" if _by_code_point() else "default")


@pytest.mark.django_db
@pytest.mark.parametrize("partition", [True, False], ids=["own partition", "default partition"])
def test_the_product_list_sorts_titles_in_the_databases_own_order(tenant_a, partition):
    """A first pull's partition (filled in bulk) and the default partition (rows written by
    the triggers) list titles as the database's collation orders them, across pages; on a
    code-point database that is Python's order of the strings."""
    catalog = CatalogFactory(tenant=tenant_a)
    if partition:
        with transaction.atomic(), connection.cursor() as cur:
            sort_keys.sort_keys_defer(cur)
            _products(tenant_a, catalog)
            assert sort_keys.sort_keys_fill_new_partition(
                cur, tenant_id=tenant_a.pk, catalog_id=catalog.pk
            )
    else:
        _products(tenant_a, catalog)
    listed = _title_pages(tenant_a, catalog)
    assert listed == _database_order(catalog)
    if _by_code_point():
        assert [t for t, _ in listed] == sorted(TITLES)


@pytest.mark.django_db
def test_a_partition_follows_the_title_collation_the_table_has(tenant_a):
    """Migration 0015 reversed (or the column altered back to the default collation): a
    first pull's partition takes the table's collation, so its ATTACH succeeds, and the
    order is the same."""
    orders = []
    for forwards in (False, True):
        with connection.schema_editor() as editor:
            (migration.title_bytes if forwards else migration.title_default)(None, editor)
        expected = "C" if forwards and _by_code_point() else "default"
        assert _title_collation() == expected
        catalog = CatalogFactory(tenant=tenant_a)
        with transaction.atomic(), connection.cursor() as cur:
            sort_keys.sort_keys_defer(cur)
            _products(tenant_a, catalog)
            assert sort_keys.sort_keys_fill_new_partition(
                cur, tenant_id=tenant_a.pk, catalog_id=catalog.pk
            )
        orders.append([t for t, _ in _title_pages(tenant_a, catalog, size=50)])
    assert orders[0] == orders[1]


@pytest.mark.django_db
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        # any code point PostgreSQL stores in UTF-8 text (no NUL, no surrogates)
        st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=6),
        min_size=2,
        max_size=40,
    )
)
def test_where_the_column_compares_bytes_the_database_orders_the_same(texts):
    """The premise of migration 0015, checked on this database: where it applies "C", its
    default collation orders any text exactly as "C" does."""
    if not _by_code_point():
        pytest.skip("the database's collation is not byte order: the column keeps it")
    with connection.cursor() as cur:
        values = ", ".join(["(%s, %s)"] * len(texts))
        params = [v for i, t in enumerate(texts) for v in (t, i)]
        orders = []
        for collation in ('"default"', '"C"'):
            cur.execute(
                f"SELECT i FROM (VALUES {values}) v (t, i) ORDER BY t COLLATE {collation}, i",  # noqa: S608 - fixed collation names
                params,
            )
            orders.append([row[0] for row in cur.fetchall()])
    assert orders[0] == orders[1]
