"""A large first load rebuilds catalogs_order's indexes instead of maintaining them row by
row (order_merge._orders_lock_for_bulk): it must leave exactly what the usual INSERT … ON
CONFLICT merge leaves, and the table's indexes and unique constraint as they were."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, connection, transaction

from catalogs import order_files, order_merge
from catalogs.models import Order
from catalogs.tests.export_samples import tiktok_csv, tiktok_row
from catalogs.tests.factories import CatalogFactory, ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)

FIELDS = (
    "tenant_id", "catalog_id", "product_id", "order_id", "sku", "quantity", "item_price",
    "shipping_fee", "placed_at", "ship_by", "shipped_at", "delivered_at", "cancelled_at",
    "cancel_reason", "tracking_number",
)  # fmt: skip


def _indexes() -> list[tuple[str, str]]:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'catalogs_order' "
            "ORDER BY indexname"
        )
        indexes = cur.fetchall()
        cur.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'catalogs_order'::regclass ORDER BY conname"
        )
        return indexes + cur.fetchall()


def _files():
    first = tiktok_csv(
        tiktok_row(),
        tiktok_row(order_id="2", seller_sku="SKU-2", quantity="2"),
        tiktok_row(order_id="2", seller_sku="SKU-2", quantity="5"),  # the last line wins
        tiktok_row(order_id="3", seller_sku="NOPE", shipped="", tracking=""),
        tiktok_row(
            order_id="4",
            seller_sku="SKU-1",
            status="Cancelled",
            shipped="",
            tracking="",
            cancelled="03/15/2026 1:00:00 AM",
            cancel_by="Buyer",
            reason="Changed my mind",
        ),
    )
    second = tiktok_csv(
        tiktok_row(),  # unchanged
        tiktok_row(order_id="2", seller_sku="SKU-2", quantity="5", tracking="NEW"),  # changed
        tiktok_row(order_id="9", seller_sku="SKU-1"),  # new
    )
    return first, second


def _run(tenant, catalog, data):
    result = order_files.orders_import_file(tenant=tenant, catalog=catalog, data=data, actor=None)
    rows = sorted(Order.objects.for_tenant(tenant).values_list(*FIELDS), key=lambda r: (r[3], r[4]))
    return result, rows


@pytest.fixture
def shops(tenant_a, tenant_b):
    """tenant_a's catalog, and tenant_b holding the same order ids and skus (untouched)."""
    mine = CatalogFactory(tenant=tenant_a, currency="BRL")
    theirs = CatalogFactory(tenant=tenant_b, currency="BRL")
    for catalog in (mine, theirs):
        for sku in ("SKU-1", "SKU-2"):
            ProductFactory(tenant=catalog.tenant, catalog=catalog, sku=sku)
    return mine, theirs


def test_bulk_and_usual_merge_leave_the_same_orders(tenant_a, tenant_b, shops, monkeypatch):
    mine, theirs = shops
    first, second = _files()
    order_files.orders_import_file(tenant=tenant_b, catalog=theirs, data=second, actor=None)
    theirs_before = list(Order.objects.for_tenant(tenant_b).order_by("pk").values())
    indexes = _indexes()

    outcomes = {}
    for path in ("usual", "bulk"):
        Order.objects.for_tenant(tenant_a).delete()
        monkeypatch.setattr(order_merge, "BULK_MIN_LINES", 1 if path == "bulk" else 10**9)
        # whatever the table holds: the comparison is of the two merges
        monkeypatch.setattr(order_merge, "_orders_table_smaller_than", lambda cur, n: True)
        runs = []
        # the third run brings no new line: nothing to load in bulk
        for data, bulk in ((first, True), (second, True), (second, False)):
            result, rows = _run(tenant_a, mine, data)
            assert result.bulk == (path == "bulk" and bulk)
            errors = [e.line for e in result.errors]
            runs.append((result.written, result.unchanged, result.unknown_skus, errors, rows))
            assert result.orders == {first: 4, second: 3}[data]  # unknown skus' orders too
        outcomes[path] = runs
        assert _indexes() == indexes

    assert outcomes["bulk"] == outcomes["usual"]
    (w1, u1, unknown, errors, rows1), (w2, u2, *_), (w3, u3, _, _, rows3) = outcomes["bulk"]
    assert (w1, u1, unknown, errors) == (3, 0, {"NOPE": [5]}, [5])
    assert (w2, u2) == (2, 1) and (w3, u3) == (0, 3)
    assert {r[3]: r[5] for r in rows1}["2"] == 5
    assert len(rows3) == 4
    assert list(Order.objects.for_tenant(tenant_b).order_by("pk").values()) == theirs_before


def test_after_a_bulk_load_the_unique_constraint_holds(tenant_a, shops, monkeypatch):
    mine, _ = shops
    monkeypatch.setattr(order_merge, "BULK_MIN_LINES", 1)
    result = order_files.orders_import_file(
        tenant=tenant_a, catalog=mine, data=_files()[0], actor=None
    )
    assert result.bulk
    line = Order.objects.for_tenant(tenant_a).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.create(
            tenant=tenant_a,
            catalog=mine,
            product_id=line.product_id,
            order_id=line.order_id,
            sku=line.sku,
            item_price=1,
            placed_at=line.placed_at,
            ship_by=line.ship_by,
        )


def test_two_catalogs_keep_their_own_line_of_one_order_id_and_sku(tenant_a, monkeypatch):
    """A first load into one catalog, then a bulk load of the other catalog's file with the
    same order id and sku (Shopify numbers orders per store): two lines, kept on re-import."""
    monkeypatch.setattr(order_merge, "BULK_MIN_LINES", 1)
    monkeypatch.setattr(order_merge, "_orders_table_smaller_than", lambda cur, n: True)
    shops = [CatalogFactory(tenant=tenant_a, currency="BRL") for _ in range(2)]
    for shop in shops:
        ProductFactory(tenant=tenant_a, catalog=shop, sku="SKU-1")
    files = [tiktok_csv(tiktok_row(order_id="#1001", quantity=q)) for q in ("1", "2")]
    for shop, data in zip(shops, files, strict=True):
        result = order_files.orders_import_file(
            tenant=tenant_a, catalog=shop, data=data, actor=None
        )
        assert result.bulk and result.written == 1
    lines = sorted(Order.objects.for_tenant(tenant_a).values_list("catalog_id", "quantity"))
    assert lines == [(shops[0].pk, 1), (shops[1].pk, 2)]
    for shop, data in zip(shops, files, strict=True):
        again = order_files.orders_import_file(tenant=tenant_a, catalog=shop, data=data, actor=None)
        assert (again.written, again.unchanged) == (0, 1)
    assert sorted(Order.objects.for_tenant(tenant_a).values_list("catalog_id", "quantity")) == lines


def test_a_table_larger_than_the_load_keeps_the_usual_merge(tenant_a, shops, monkeypatch):
    mine, _ = shops
    monkeypatch.setattr(order_merge, "BULK_MIN_LINES", 1)
    order_files.orders_import_file(tenant=tenant_a, catalog=mine, data=_files()[0], actor=None)
    small = tiktok_csv(tiktok_row(order_id="77", seller_sku="SKU-1"))
    result = order_files.orders_import_file(tenant=tenant_a, catalog=mine, data=small, actor=None)
    assert not result.bulk and result.written == 1


def test_a_failed_bulk_load_leaves_orders_and_indexes_as_they_were(tenant_a, shops, monkeypatch):
    mine, _ = shops
    order_files.orders_import_file(tenant=tenant_a, catalog=mine, data=_files()[0], actor=None)
    before = list(Order.objects.for_tenant(tenant_a).order_by("pk").values())
    indexes = _indexes()
    monkeypatch.setattr(order_merge, "BULK_MIN_LINES", 1)
    monkeypatch.setattr(order_merge, "_orders_table_smaller_than", lambda cur, lines: True)

    original_run = order_merge._orders_merge

    def failing(result, cur, **kwargs):
        original_execute = cur.execute

        def execute(sql, params=None):
            if str(sql).lstrip().startswith("INSERT INTO catalogs_order"):
                assert result.bulk, "the bulk path runs"
                raise RuntimeError("worker lost mid-merge")
            return original_execute(sql, params)

        cur.execute = execute
        try:
            return original_run(result, cur, **kwargs)
        finally:
            cur.execute = original_execute

    monkeypatch.setattr(order_merge, "_orders_merge", failing)
    with pytest.raises(RuntimeError, match="worker lost"):
        order_files.orders_import_file(tenant=tenant_a, catalog=mine, data=_files()[1], actor=None)
    assert list(Order.objects.for_tenant(tenant_a).order_by("pk").values()) == before
    assert _indexes() == indexes


@pytest.mark.parametrize("bulk", [False, True])
def test_staged_times_keep_every_microsecond(tenant_a, shops, monkeypatch, bulk):
    """Times are staged as integer microseconds: none is rounded, near 1970 or in 2999 (an
    order is placed no later than a day from now: the far end is a ship-by from its paid
    time)."""
    mine, _ = shops
    monkeypatch.setattr(order_merge, "BULK_MIN_LINES", 1 if bulk else 10**9)
    data = tiktok_csv(
        tiktok_row(
            order_id="1",
            created="2026-03-01T10:00:00.654321Z",
            paid="2999-12-30T10:00:00.123457Z",
            shipped="",
        ),
        tiktok_row(order_id="2", created="1970-01-01T00:00:00.000001Z", paid="", shipped=""),
    )
    order_files.orders_import_file(tenant=tenant_a, catalog=mine, data=data, actor=None)
    placed = dict(Order.objects.for_tenant(tenant_a).values_list("order_id", "placed_at"))
    assert placed["1"] == datetime(2026, 3, 1, 10, 0, 0, 654321, tzinfo=UTC)
    assert placed["2"] == datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC)
    ship_by = Order.objects.for_tenant(tenant_a).get(order_id="1").ship_by
    assert ship_by == datetime(3000, 1, 2, 10, 0, 0, 123457, tzinfo=UTC)


def test_the_scoring_window_is_an_index_range_without_the_placed_index(tenant_a, shops):
    """order_tenant_placed_idx was dropped: (tenant, placed_at) ranges, flagged scoring's
    window, are still index conditions (of order_tenant_list_idx (tenant, -placed_at, -id);
    measured in docs/orders.md). A year of lines, so that the planner weighs a real table
    (on an empty one every index costs the same)."""
    mine, _ = shops
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO catalogs_order (tenant_id, catalog_id, product_id, order_id, sku, "
            "quantity, item_price, shipping_fee, placed_at, ship_by, cancel_reason, "
            "tracking_number, updated_at) "
            "SELECT %s, %s, p.id, 'O' || i, p.sku, 1, 10, 0, now() - i * interval '1 hour', "
            "now(), '', '', now() FROM generate_series(1, 8760) i "
            "CROSS JOIN (SELECT id, sku FROM catalogs_product WHERE catalog_id = %s) p",
            [tenant_a.pk, mine.pk, mine.pk],
        )
        cur.execute("ANALYZE catalogs_order")
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute(
            "EXPLAIN SELECT o.product_id, count(*) FROM catalogs_order o "
            "WHERE o.tenant_id = %s AND o.placed_at >= now() - interval '30 days' "
            "AND o.placed_at <= now() GROUP BY o.product_id",
            [tenant_a.pk],
        )
        plan = "\n".join(row[0] for row in cur.fetchall())
    assert "Seq Scan" not in plan, plan
    index_cond = [line for line in plan.splitlines() if "Index Cond" in line]
    assert index_cond and "placed_at >=" in index_cond[0], plan


def test_a_bulk_load_waits_briefly_for_readers_then_merges_as_usual(tenant_a, shops, monkeypatch):
    """Another session reading the orders (a long report) holds a lock the bulk load's
    ACCESS EXCLUSIVE waits for: after BULK_LOCK_TIMEOUT the usual merge runs instead, and
    neither the reader nor the import fails."""
    import psycopg
    from django.conf import settings

    mine, _ = shops
    monkeypatch.setattr(order_merge, "BULK_MIN_LINES", 1)
    monkeypatch.setattr(order_merge, "BULK_LOCK_TIMEOUT", "200ms")
    db = settings.DATABASES["default"]
    with psycopg.connect(
        dbname=connection.settings_dict["NAME"],
        user=db["USER"],
        host=db["HOST"],
        port=db["PORT"],
        password=db["PASSWORD"],
    ) as reader:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM catalogs_order").fetchone()  # ACCESS SHARE held
        result = order_files.orders_import_file(
            tenant=tenant_a, catalog=mine, data=_files()[0], actor=None
        )
        assert not result.bulk and result.written == 3
        # the reader goes on (read committed: it sees the import's lines)
        assert reader.execute("SELECT count(*) FROM catalogs_order").fetchone()[0] == 3
        reader.execute("ROLLBACK")
    assert Order.objects.for_tenant(tenant_a).count() == 3


def test_a_file_failing_midway_writes_nothing(tenant_a, shops, monkeypatch):
    """The file is read ahead of the staging COPY by a thread: an error in a later chunk
    reaches the import, which writes nothing and drops its staging table."""
    from catalogs.order_formats import OrderFile
    from catalogs.order_io import FileError

    mine, _ = shops
    first, second = _files()
    order_files.orders_import_file(tenant=tenant_a, catalog=mine, data=first, actor=None)
    before = list(Order.objects.for_tenant(tenant_a).order_by("pk").values())
    original_chunks = OrderFile.chunks
    staged = []

    def failing_chunks(self):
        for item in original_chunks(self):
            staged.append(len(item[0]))
            yield item
        raise FileError("Line 9: not valid CSV")

    monkeypatch.setattr(OrderFile, "chunks", failing_chunks)
    with pytest.raises(FileError, match="Line 9"):
        order_files.orders_import_file(
            tenant=tenant_a, catalog=mine, data=second, actor=None, chunk_rows=1
        )
    assert len(staged) == 3  # every chunk was read and staged before the error
    assert list(Order.objects.for_tenant(tenant_a).order_by("pk").values()) == before
    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass('pg_temp.order_import_stage')")
        assert cur.fetchone()[0] is None


def test_a_first_load_goes_straight_into_the_table(tenant_a, shops, monkeypatch):
    mine, _ = shops
    monkeypatch.setattr(order_merge, "BULK_MIN_LINES", 1)
    monkeypatch.setattr(order_merge, "_orders_table_smaller_than", lambda cur, n: True)
    result, rows = _run(tenant_a, mine, _files()[0])
    assert result.bulk and "merge: known lines" not in result.timings
    assert (result.written, result.unchanged, len(rows)) == (3, 0, 3)
    # the tenant has lines now: the next bulk load takes the usual way, known lines first
    result, _ = _run(tenant_a, mine, _files()[1])
    assert result.bulk and "merge: known lines" in result.timings


def test_lines_written_before_the_lock_make_it_no_first_load(tenant_a, shops, monkeypatch):
    """The tenant had no line when checked, one when the table is locked (another writer
    in between): the lock is let go and the usual merge runs."""
    mine, _ = shops
    order_files.orders_import_file(tenant=tenant_a, catalog=mine, data=_files()[0], actor=None)
    monkeypatch.setattr(order_merge, "BULK_MIN_LINES", 1)
    monkeypatch.setattr(order_merge, "_orders_table_smaller_than", lambda cur, n: True)
    checks = []
    real = order_merge._tenant_has_orders

    def has_orders(cur, tenant_id):
        checks.append(tenant_id)
        return real(cur, tenant_id) if len(checks) > 1 else False

    monkeypatch.setattr(order_merge, "_tenant_has_orders", has_orders)
    result, rows = _run(tenant_a, mine, _files()[1])
    assert len(checks) == 2
    assert "merge: locked" not in result.timings and "merge: known lines" in result.timings
    assert (result.written, result.unchanged, len(rows)) == (2, 1, 4)


def _repeats_file() -> bytes:
    """Repeated (order id, sku) lines next to each other and chunks apart, an unknown sku
    between them, and an order whose lines differ only by sku."""
    return tiktok_csv(
        tiktok_row(order_id="1", seller_sku="SKU-1", quantity="1"),
        tiktok_row(order_id="1", seller_sku="SKU-1", quantity="2"),  # repeats the line above
        tiktok_row(order_id="2", seller_sku="SKU-2", quantity="3"),
        tiktok_row(order_id="3", seller_sku="NOPE"),
        tiktok_row(order_id="2", seller_sku="SKU-1", quantity="4"),
        tiktok_row(order_id="4", seller_sku="SKU-2", quantity="5"),
        tiktok_row(order_id="2", seller_sku="SKU-2", quantity="6"),  # repeats line 4, apart
        tiktok_row(order_id="1", seller_sku="SKU-1", quantity="7"),  # the third of order 1
    )


@pytest.mark.parametrize("chunk_rows", [1, 3, 100])
def test_a_streamed_first_load_leaves_what_the_usual_merge_leaves(
    tenant_a, shops, monkeypatch, chunk_rows
):
    """A first load switches to streaming once BULK_MIN_LINES lines are staged: the lines
    staged so far and every later chunk go straight into the table, in file order, but for
    those a later line of their chunk repeats; a repeat across chunks fails the unique
    constraint, and its earlier lines are deleted before it is built again. Same rows,
    counts and refusals as the usual merge, whatever the chunking."""
    mine, _ = shops
    monkeypatch.setattr(order_merge, "_orders_table_smaller_than", lambda cur, n: True)
    indexes = _indexes()
    outcomes = {}
    for path, bulk_min in (("usual", 10**9), ("streamed", 2)):
        Order.objects.for_tenant(tenant_a).delete()
        monkeypatch.setattr(order_merge, "BULK_MIN_LINES", bulk_min)
        result = order_files.orders_import_file(
            tenant=tenant_a, catalog=mine, data=_repeats_file(), actor=None, chunk_rows=chunk_rows
        )
        assert result.bulk == (path == "streamed")
        rows = sorted(
            Order.objects.for_tenant(tenant_a).values_list(*FIELDS), key=lambda r: (r[3], r[4])
        )
        outcomes[path] = (
            result.written,
            result.unchanged,
            result.lines,
            result.orders,
            result.unknown_skus,
            [e.line for e in result.errors],
            rows,
        )
        assert _indexes() == indexes
    assert outcomes["streamed"] == outcomes["usual"]
    written, _, lines, orders, unknown, errors, rows = outcomes["streamed"]
    assert (written, lines, orders, unknown, errors) == (4, 8, 4, {"NOPE": [5]}, [5])
    assert {(r[3], r[4]): r[5] for r in rows} == {
        ("1", "SKU-1"): 7,
        ("2", "SKU-2"): 6,
        ("2", "SKU-1"): 4,
        ("4", "SKU-2"): 5,
    }


def test_a_streamed_first_load_failing_midway_leaves_table_and_indexes(
    tenant_a, tenant_b, shops, monkeypatch
):
    """The table is locked and its indexes dropped once the first chunks are staged; a bad
    line in a later chunk rolls all of it back: no line written, every index back, the
    staging table gone, another tenant's lines untouched."""
    from catalogs.order_formats import OrderFile
    from catalogs.order_io import FileError

    mine, theirs = shops
    order_files.orders_import_file(tenant=tenant_b, catalog=theirs, data=_files()[1], actor=None)
    theirs_before = list(Order.objects.for_tenant(tenant_b).order_by("pk").values())
    indexes = _indexes()
    monkeypatch.setattr(order_merge, "BULK_MIN_LINES", 2)
    monkeypatch.setattr(order_merge, "_orders_table_smaller_than", lambda cur, n: True)
    original_chunks = OrderFile.chunks
    results = []

    def failing_chunks(self):
        for n, item in enumerate(original_chunks(self)):
            if n == 4:
                raise FileError("Line 6: not valid CSV")
            yield item

    monkeypatch.setattr(OrderFile, "chunks", failing_chunks)
    original_start = order_merge._FirstLoad.start

    def start(self):
        original_start(self)
        results.append(self.started)

    monkeypatch.setattr(order_merge._FirstLoad, "start", start)
    with pytest.raises(FileError, match="Line 6"):
        order_files.orders_import_file(
            tenant=tenant_a, catalog=mine, data=_repeats_file(), actor=None, chunk_rows=1
        )
    assert results == [True]  # it was streaming when the file failed
    assert not Order.objects.for_tenant(tenant_a).exists()
    assert _indexes() == indexes
    assert list(Order.objects.for_tenant(tenant_b).order_by("pk").values()) == theirs_before
    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass('pg_temp.order_import_stage')")
        assert cur.fetchone()[0] is None


def test_a_streamed_first_load_of_many_chunks_keeps_every_line(tenant_a, shops, monkeypatch):
    """Thousands of lines in dozens of chunks, with repeats near and far and unknown skus:
    the streamed first load writes exactly the usual merge's rows (each chunk's lines are
    read from its own partition of the stage, whatever pages the staging rows landed on)."""
    import random

    mine, _ = shops
    rng = random.Random(18)
    rows = []
    for i in range(3000):
        order = str(rng.randrange(1200))
        sku = rng.choice(["SKU-1", "SKU-2", "SKU-2", "NOPE"])
        tracking = "T" * rng.randrange(1, 60)  # rows of varied width fill pages unevenly
        rows.append(tiktok_row(order_id=order, seller_sku=sku, quantity=str(i), tracking=tracking))
    data = tiktok_csv(*rows)
    monkeypatch.setattr(order_merge, "_orders_table_smaller_than", lambda cur, n: True)
    outcomes = {}
    for path, bulk_min in (("usual", 10**9), ("streamed", 150)):
        Order.objects.for_tenant(tenant_a).delete()
        monkeypatch.setattr(order_merge, "BULK_MIN_LINES", bulk_min)
        result, written = _run_chunked(tenant_a, mine, data, chunk_rows=97)
        assert result.bulk == (path == "streamed")
        outcomes[path] = (result.written, result.orders, len(result.errors), written)
    assert outcomes["streamed"] == outcomes["usual"]
    assert outcomes["usual"][0] == len(outcomes["usual"][3]) > 1000
    # the ids it took from the sequence: the next line inserted as usual gets a new one
    line = Order.objects.for_tenant(tenant_a).latest("id")
    line.pk, line.order_id = None, "after-the-load"
    line.save()
    assert line.pk > Order.objects.for_tenant(tenant_a).exclude(pk=line.pk).latest("id").pk


def _run_chunked(tenant, catalog, data, *, chunk_rows):
    result = order_files.orders_import_file(
        tenant=tenant, catalog=catalog, data=data, actor=None, chunk_rows=chunk_rows
    )
    return result, sorted(Order.objects.for_tenant(tenant).values_list(*FIELDS))


def test_a_first_load_asks_the_table_size_again_once_the_lines_have_doubled(
    tenant_a, shops, monkeypatch
):
    """The table holds more rows than the lines staged so far: asked again at twice the
    lines, not at every chunk, and streamed from then on."""
    mine, _ = shops
    asked = []

    def smaller_than(cur, lines):
        asked.append(lines)
        return lines > 3  # a table of three rows

    monkeypatch.setattr(order_merge, "_orders_table_smaller_than", smaller_than)
    monkeypatch.setattr(order_merge, "BULK_MIN_LINES", 1)
    result = order_files.orders_import_file(
        tenant=tenant_a, catalog=mine, data=_repeats_file(), actor=None, chunk_rows=1
    )
    assert asked == [1, 2, 4]
    assert result.bulk and "merge: known lines" not in result.timings
    assert result.written == 4
