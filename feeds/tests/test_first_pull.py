"""A first pull into an empty catalog COPYs its rows straight into the products table while
the parser reads on (feeds.ingest.writers._ProductWriter), in one transaction committed only when
the run succeeds. It must give exactly what the staged path gives, and fail as cleanly."""

from __future__ import annotations

import gzip

import pytest
from django.db import connection, transaction
from psycopg import sql

from catalogs.models import Product, ProductSortKey
from catalogs.sort_keys import sort_key_partition
from catalogs.tests.factories import CatalogFactory, ProductFactory
from feeds import records
from feeds.ingest import context, pipeline, staging, writers
from feeds.models import FeedRunChange, FeedSettings, RunStatus
from feeds.tests.factories import ProductSourceFactory
from feeds.tests.test_services import feed, n_rows, upload_run

pytestmark = pytest.mark.django_db(transaction=True)

RICH_FEED = (
    "id,title,description,link,image_link,additional_image_link,price,sale_price,"
    "availability,brand,gtin,shipping,color\n"
    "A-1,Café crème 50 cl,Smooth,https://s.example/a1,https://s.example/a1.jpg,"
    '"https://s.example/a1b.jpg,https://s.example/a1c.jpg",12.99 USD,9.99 USD,in stock,'
    "Lumen,4006381333931,US:::5.99 USD,Navy\n"
    "A-2,No price yet,,https://s.example/a2,,,,,preorder,Lumen,,,\n"
    "A-3,Bad price,D,https://s.example/a3,https://s.example/a3.jpg,,ten dollars,,in stock,,,,\n"
    'A-4,"Quoted, with comma",D,https://s.example/a4,https://s.example/a4.jpg,,"12,50 EUR",'
    ",out of stock,Kestrel,,,Red\n"
    "A-1,Duplicate of the first,D,https://s.example/x,https://s.example/x.jpg,,1.00 USD,,"
    "in stock,,,,\n"
)
COMPARED = [
    f.attname
    for f in Product._meta.concrete_fields
    if f.attname
    not in {
        "id",
        "catalog_id",
        "first_seen_at",
        "last_changed_at",
        "last_seen_at",
        "last_seen_run_id",
        "review_requested_at",
        "reviewed_at",
        "created_at",
        "updated_at",
        "review_status",  # set by the review that follows, compared on its own below
    }
]


@pytest.fixture(autouse=True)
def fs(db):
    FeedSettings.objects.update_or_create(
        pk=1, defaults={"manual_refresh_min_seconds": 0, "rejected_share_threshold": 0.5}
    )


@pytest.fixture
def direct_writers(monkeypatch):
    """Every _ProductWriter.open answer (a writer, or None when the catalog has products)."""
    opened = []
    original = writers._ProductWriter.open.__func__

    def spy(cls, ctx):
        writer = original(cls, ctx)
        opened.append(writer)
        return writer

    monkeypatch.setattr(writers._ProductWriter, "open", classmethod(spy))
    return opened


def _snapshot(catalog):
    products = list(Product.objects.filter(catalog=catalog).order_by("sku").values(*COMPARED))
    for p in products:
        p.pop("tenant_id")
    return products


def _sort_keys(catalog):
    """The catalog's sort keys, as (sku, title, price), and the partitions holding them."""
    keys = sorted(
        ProductSortKey.objects.filter(catalog=catalog).values_list("product__sku", "title", "price")
    )
    with connection.cursor() as cur:
        cur.execute(
            "SELECT DISTINCT tableoid::regclass::text FROM catalogs_productsortkey "
            "WHERE catalog_id = %s",
            [catalog.pk],
        )
        partitions = {row[0] for row in cur.fetchall()}
    return keys, partitions


def _partition_exists(catalog) -> bool:
    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", [sort_key_partition(catalog.pk)])
        return cur.fetchone()[0]


def _changes(run):
    rows = FeedRunChange.objects.filter(run=run).order_by("sku")
    linked = Product.objects.filter(pk__in=[r.product_id for r in rows])
    skus = dict(linked.values_list("pk", "sku"))
    # linked to the products they describe
    assert [skus.get(r.product_id) for r in rows] == [r.sku for r in rows]
    return [(r.kind, r.sku, r.changes) for r in rows]


@pytest.mark.parametrize("role_may_skip_fk_checks", [True, False])
def test_a_first_pull_gives_what_the_staged_pull_gives(
    tenant_a, direct_writers, monkeypatch, role_may_skip_fk_checks
):
    if not role_may_skip_fk_checks:  # a role without SET on session_replication_role
        monkeypatch.setattr(writers, "_skip_foreign_key_checks", lambda conn: False)
    direct_catalog = CatalogFactory(tenant=tenant_a)
    staged_catalog = CatalogFactory(tenant=tenant_a)
    direct = upload_run(tenant_a, ProductSourceFactory(catalog=direct_catalog), RICH_FEED.encode())
    assert [type(w) for w in direct_writers] == [writers._ProductWriter]
    assert direct_writers[0].fk_checks_skipped is role_may_skip_fk_checks
    with transaction.atomic():  # inside a transaction the pipeline stages (no second connection)
        staged = upload_run(
            tenant_a, ProductSourceFactory(catalog=staged_catalog), RICH_FEED.encode()
        )
    assert len(direct_writers) == 1  # the staged run never tried the direct path

    assert direct.status == staged.status == RunStatus.SUCCEEDED, direct.error_message
    counts = ("received", "created", "updated", "unchanged", "removed", "rejected", "warnings")
    assert [getattr(direct, c) for c in counts] == [getattr(staged, c) for c in counts]
    assert (direct.created, direct.rejected) == (3, 2)  # the bad price and the duplicate
    assert _snapshot(direct_catalog) == _snapshot(staged_catalog)
    assert _changes(direct) == _changes(staged)
    # the list's sort keys: built in bulk into the catalog's own partition by the first
    # pull (triggers deferred, whatever the role), by the triggers on the staged path
    direct_keys, direct_partitions = _sort_keys(direct_catalog)
    staged_keys, staged_partitions = _sort_keys(staged_catalog)
    assert direct_keys == staged_keys
    assert [k[:2] for k in direct_keys] == [
        ("A-1", "Café crème 50 cl"),
        ("A-2", "No price yet"),
        ("A-4", "Quoted, with comma"),
    ]
    assert direct_partitions == {sort_key_partition(direct_catalog.pk)}
    assert staged_partitions == {"catalogs_productsortkey_default"}
    cafe = Product.objects.get(catalog=direct_catalog, sku="A-1")
    assert cafe.title == "Café crème 50 cl" and str(cafe.price) == "12.99"
    assert cafe.additional_image_links == ["https://s.example/a1b.jpg", "https://s.example/a1c.jpg"]
    assert cafe.custom_attributes == {"color": "Navy"} and cafe.feed_line_hash
    # the bookkeeping times come from the database default: the transaction's start
    times = {cafe.first_seen_at, cafe.last_changed_at, cafe.last_seen_at, cafe.created_at}
    assert times == {cafe.updated_at} == {cafe.review_requested_at}
    assert direct.started_at <= cafe.created_at <= direct.finished_at
    assert cafe.last_seen_run_id == direct.pk and cafe.removed_at is None
    assert sorted(
        Product.objects.filter(catalog=direct_catalog).values_list("review_status", flat=True)
    ) == sorted(
        Product.objects.filter(catalog=staged_catalog).values_list("review_status", flat=True)
    )


@pytest.mark.parametrize("limit", [0, 2, 100])
def test_a_first_pull_keeps_as_many_created_products_in_its_diff_as_the_staged_pull(
    tenant_a, direct_writers, limit
):
    """The diff sample is written as soon as it is full (while parsing), else at the
    commit; either way it holds what the staged path holds, linked to its products."""
    FeedSettings.objects.filter(pk=1).update(max_stored_changes=limit)
    direct_catalog = CatalogFactory(tenant=tenant_a)
    staged_catalog = CatalogFactory(tenant=tenant_a)
    direct = upload_run(tenant_a, ProductSourceFactory(catalog=direct_catalog), RICH_FEED.encode())
    with transaction.atomic():
        staged = upload_run(
            tenant_a, ProductSourceFactory(catalog=staged_catalog), RICH_FEED.encode()
        )
    assert [type(w) for w in direct_writers] == [writers._ProductWriter]
    assert direct.status == staged.status == RunStatus.SUCCEEDED, direct.error_message
    assert len(_changes(direct)) == min(limit, 3)
    assert _changes(direct) == _changes(staged)


def test_the_next_pull_of_a_direct_first_pull_skips_what_came_back(tenant_a, direct_writers):
    catalog = CatalogFactory(tenant=tenant_a)
    source = ProductSourceFactory(catalog=catalog)
    first = upload_run(tenant_a, source, feed(n_rows(300)))
    assert first.created == 300 and direct_writers[0] is not None
    rows = n_rows(300)
    rows[7] = ("S00007", "Renamed", "10.00 USD")
    again = upload_run(tenant_a, source, feed(rows))
    assert len(direct_writers) == 1  # fingerprints found: the staged path, records skipped
    assert (again.created, again.updated, again.unchanged) == (0, 1, 299)
    assert Product.objects.get(catalog=catalog, sku="S00007").title == "Renamed"


def test_a_first_pull_over_the_rejected_share_leaves_the_catalog_empty_and_unlocked(
    tenant_a, direct_writers
):
    catalog = CatalogFactory(tenant=tenant_a)
    source = ProductSourceFactory(catalog=catalog)
    bad = [*n_rows(3), *((f"X{i}", "Bad", "oops") for i in range(4))]  # 4 of 7 rejected
    run = upload_run(tenant_a, source, feed(bad))
    assert run.status == RunStatus.FAILED and run.error_code == "rejected_share"
    assert direct_writers[0].rows_written == 3  # written, then rolled back
    assert not Product.objects.filter(catalog=catalog).exists()
    assert not FeedRunChange.objects.filter(run=run).exists()
    assert not _partition_exists(catalog)  # built in the same transaction, rolled back
    # the catalog's lock went with the rolled back transaction: the next pull applies
    run = upload_run(tenant_a, source, feed(n_rows(5)))
    assert run.status == RunStatus.SUCCEEDED and run.created == 5
    assert _sort_keys(catalog)[1] == {sort_key_partition(catalog.pk)}


def test_a_first_pull_that_breaks_after_whole_blocks_were_written_changes_nothing(
    tenant_a, direct_writers, monkeypatch
):
    """A gzip feed that expands past the size cap fails as a whole once the cap is
    reached, after the blocks before it were already COPYed into the products table."""
    # the expansion check before parsing would stop it first: without it, the cap is met
    # mid-parse, as any failure after the first blocks would be
    monkeypatch.setattr(pipeline, "check_expansion", lambda *args, **kwargs: 0)
    FeedSettings.objects.filter(pk=1).update(max_feed_bytes=12_000_000)  # > one 8 MB block
    catalog = CatalogFactory(tenant=tenant_a)
    source = ProductSourceFactory(catalog=catalog)
    data = feed(n_rows(200_000))
    assert len(data) > 12_000_000
    run = upload_run(tenant_a, source, gzip.compress(data))
    assert run.status == RunStatus.FAILED and run.error_code == "too_large", run.error_message
    assert direct_writers[0].rows_written > 0
    assert not Product.objects.filter(catalog=catalog).exists()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("failing_call", [1, 2])
def test_a_block_that_fails_in_the_writers_thread_fails_the_run_and_changes_nothing(
    tenant_a, direct_writers, monkeypatch, failing_call
):
    """Blocks are encoded in the writer's own thread while the parser goes on: a failure
    there (the first block's, or a later one's) fails the run, never hangs it, and rolls
    back what was written."""
    monkeypatch.setattr(records, "BLOCK_BYTES", 16 << 10)  # blocks of ~300 rows
    blocks = []  # the products blocks encoded (their issues are encoded too)
    real_encode = writers.pgcopy.encode_rows

    def encode_rows(table, kinds):
        if "sku" in table.column_names:
            blocks.append(table.num_rows)
            if len(blocks) == failing_call:
                raise ValueError("a price is not a decimal with two places and at most 8 digits")
        return real_encode(table, kinds)

    monkeypatch.setattr(writers.pgcopy, "encode_rows", encode_rows)
    catalog = CatalogFactory(tenant=tenant_a)
    source = ProductSourceFactory(catalog=catalog)
    run = upload_run(tenant_a, source, feed(n_rows(3_000)))
    assert run.status == RunStatus.FAILED, run.error_message
    assert direct_writers[0] is not None
    assert len(blocks) == failing_call  # no block after the failing one was encoded
    assert not Product.objects.filter(catalog=catalog).exists()
    monkeypatch.setattr(writers.pgcopy, "encode_rows", real_encode)
    run = upload_run(tenant_a, source, feed(n_rows(5)))  # the catalog was not left locked
    assert run.status == RunStatus.SUCCEEDED and run.created == 5


def test_a_catalog_with_products_is_not_a_first_pull(tenant_a, direct_writers):
    catalog = CatalogFactory(tenant=tenant_a)
    ProductFactory(catalog=catalog, tenant=tenant_a, sku="S00001", title="Made by hand")
    run = upload_run(tenant_a, ProductSourceFactory(catalog=catalog), feed(n_rows(3)))
    assert direct_writers == [None]
    assert (run.created, run.updated) == (2, 1)
    assert Product.objects.get(catalog=catalog, sku="S00001").title == "Product 1"


def test_a_first_pull_into_a_catalog_emptied_since_fills_its_partition(tenant_a, direct_writers):
    """A catalog whose products were all deleted after its first pull keeps its (empty)
    partition: the next first pull writes its sort keys there, and the list sorts them."""
    from catalogs import selectors

    catalog = CatalogFactory(tenant=tenant_a)
    source = ProductSourceFactory(catalog=catalog)
    assert upload_run(tenant_a, source, feed(n_rows(5))).created == 5
    Product.objects.filter(catalog=catalog).delete()  # the delete trigger empties it
    assert _sort_keys(catalog) == ([], set()) and _partition_exists(catalog)
    rows = [("B2", "Beta", "2.00 USD"), ("A1", "Alpha", "30.00 USD"), ("C3", "Gamma", "1 USD")]
    run = upload_run(tenant_a, source, feed(rows))
    assert run.status == RunStatus.SUCCEEDED and run.created == 3
    assert all(w is not None for w in direct_writers)
    keys, partitions = _sort_keys(catalog)
    assert [k[:2] for k in keys] == [("A1", "Alpha"), ("B2", "Beta"), ("C3", "Gamma")]
    assert partitions == {sort_key_partition(catalog.pk)}
    page = selectors.product_page(
        tenant=tenant_a, catalog=catalog, filters={}, cursor=None, sort="-price", size=25
    )
    assert [p.sku for p in page.rows] == ["A1", "B2", "C3"]


def _replication_role(conn) -> str:
    return conn.execute("SHOW session_replication_role").fetchone()[0]


def test_foreign_key_checks_are_skipped_only_where_the_role_may_skip_them(db):
    conn = staging._second_connection(autocommit=False)
    try:
        assert writers._skip_foreign_key_checks(conn)  # the tests connect as a superuser
        assert _replication_role(conn) == "replica"
        conn.rollback()
        assert _replication_role(conn) == "origin"  # SET LOCAL: this transaction only
        conn.execute("CREATE ROLE ch_test_plain_role NOLOGIN")  # rolled back below
        conn.execute("SET LOCAL ROLE ch_test_plain_role")
        assert not writers._skip_foreign_key_checks(conn)
        assert _replication_role(conn) == "origin"  # refused, and the transaction goes on
    finally:
        conn.rollback()
        conn.close()


def test_a_catalog_not_held_under_its_lock_is_never_written_without_checks(tenant_a, tenant_b):
    """The direct path writes without foreign key checks only into a catalog it has
    locked: another tenant's catalog, or one deleted before the lock, take the staged
    path, whose checks fail the run."""
    catalog = CatalogFactory(tenant=tenant_a)
    gone = CatalogFactory(tenant=tenant_a)
    gone_pk = gone.pk
    gone.delete()
    gone.pk = gone_pk

    def ctx(tenant, catalog):
        return context._Ctx(
            tenant=tenant,
            run=None,
            catalog=catalog,
            source=None,
            fs=FeedSettings.load(),
            temp_files=[],
            keep_file=False,
        )

    assert writers._ProductWriter.open(ctx(tenant_b, catalog)) is None
    assert writers._ProductWriter.open(ctx(tenant_a, gone)) is None


@pytest.mark.timeout(60)
def test_data_the_server_refuses_as_the_copy_ends_fails_the_writer_instead_of_hanging(db):
    """psycopg reports a COPY's data errors when the COPY ends, after the writer took the
    producer's last message: the writer must raise, not wait for another."""
    import psycopg

    writer = writers._StageWriter.__new__(writers._StageWriter)
    writer.conn = staging._second_connection(autocommit=True)
    try:
        writer.conn.execute("CREATE TEMPORARY TABLE copy_refusal (n integer)")
        writer._start("copy_refusal", ["n"])
        writer.queue.put(b"not a number\n")
        with pytest.raises(psycopg.errors.InvalidTextRepresentation):
            writer.finish_copy()
    finally:
        writer.conn.close()


def _partition_attached(catalog) -> bool:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass(%s))",
            [sort_key_partition(catalog.pk)],
        )
        return cur.fetchone()[0]


def _sort_key_times(catalog) -> set[tuple]:
    """(product's last change, its sort key's) pairs."""
    return set(
        ProductSortKey.objects.filter(catalog=catalog).values_list(
            "product__last_changed_at", "last_changed_at"
        )
    )


def _sort_key_writers(monkeypatch) -> list:
    """The sort key writers the first pulls open, as they open them."""
    opened = []
    original = writers._SortKeyWriter.open.__func__

    def spy(cls, ctx, conn, pg_timestamp):
        opened.append(original(cls, ctx, conn, pg_timestamp))
        return opened[-1]

    monkeypatch.setattr(writers._SortKeyWriter, "open", classmethod(spy))
    return opened


def test_a_reviewed_first_pull_writes_its_sort_keys_beside_its_products(
    tenant_a, direct_writers, monkeypatch
):
    """With the products' ids known as they are written (ECR on), their sort keys are
    COPYed into a partition of their own on another connection and attached at the
    COMMIT: the same keys as the staged path's, the products' own change time."""
    opened = _sort_key_writers(monkeypatch)
    catalog, staged_catalog = CatalogFactory(tenant=tenant_a), CatalogFactory(tenant=tenant_a)
    run = upload_run(tenant_a, ProductSourceFactory(catalog=catalog), RICH_FEED.encode())
    with transaction.atomic():
        upload_run(tenant_a, ProductSourceFactory(catalog=staged_catalog), RICH_FEED.encode())
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert len(opened) == 1 and opened[0].committed  # built beside, then attached
    keys, partitions = _sort_keys(catalog)
    assert keys == _sort_keys(staged_catalog)[0] and len(keys) == 3
    assert partitions == {sort_key_partition(catalog.pk)} and _partition_attached(catalog)
    times = _sort_key_times(catalog)
    assert len(times) == 1 and {a == b for a, b in times} == {True}
    with connection.cursor() as cur:  # its own indexes adopted by the ATTACH: none built again
        cur.execute(
            "SELECT count(*) FROM pg_index WHERE indrelid = to_regclass(%s)",
            [sort_key_partition(catalog.pk)],
        )
        assert cur.fetchone()[0] == 4


@pytest.mark.parametrize("failing", ["own builds", "builds beside", "primary key"])
def test_a_sort_key_writer_that_fails_leaves_the_partition_to_the_products(
    tenant_a, direct_writers, monkeypatch, failing
):
    """Its table is dropped and the products' transaction builds the partition from the
    rows, as when the ids are not known ahead: whichever of its two connections fails."""
    build_indexes = writers.sort_keys_build_indexes

    def builds(cursor, statements):
        if (failing == "own builds") == any("_title" in s for s in statements):
            cursor.execute("SELECT 1/0")
        build_indexes(cursor, statements)

    def finish(cursor, partition):
        cursor.execute("SELECT 1/0")

    if failing == "primary key":
        monkeypatch.setattr(writers, "sort_keys_finish_partition", finish)
    else:
        monkeypatch.setattr(writers, "sort_keys_build_indexes", builds)
    catalog = CatalogFactory(tenant=tenant_a)
    run = upload_run(tenant_a, ProductSourceFactory(catalog=catalog), feed(n_rows(40)))
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert direct_writers[0].sort_keys is None  # given up, its table dropped
    keys, partitions = _sort_keys(catalog)
    assert len(keys) == 40 and partitions == {sort_key_partition(catalog.pk)}
    assert _partition_attached(catalog)


def test_the_sort_keys_table_is_committed_then_indexed_on_two_connections(
    tenant_a, direct_writers, monkeypatch
):
    """PostgreSQL builds an index with parallel workers only on a table that was not created
    in the same transaction, and only then can a second connection build half of its
    indexes at the same time: both see the filled table, unindexed, as the builds start."""
    seen = []
    build_indexes = writers.sort_keys_build_indexes

    def watched(cursor, statements):
        other = staging._second_connection(autocommit=True)
        try:
            partition = sort_key_partition(catalog.pk)
            rows = other.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(partition))
            ).fetchone()[0]
            indexes = other.execute(
                "SELECT count(*) FROM pg_index WHERE indrelid = to_regclass(%s)", [partition]
            ).fetchone()[0]
        finally:
            other.close()
        cursor.execute("SELECT pg_backend_pid()")
        seen.append((cursor.fetchone()[0], rows, indexes, len(statements)))
        build_indexes(cursor, statements)

    monkeypatch.setattr(writers, "sort_keys_build_indexes", watched)
    catalog = CatalogFactory(tenant=tenant_a)
    run = upload_run(tenant_a, ProductSourceFactory(catalog=catalog), feed(n_rows(40)))
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert len(seen) == 2 and len({pid for pid, *_ in seen}) == 2  # two connections
    assert [rows for _, rows, _, _ in seen] == [40, 40]
    assert min(indexes for _, _, indexes, _ in seen) == 0  # the first sees none yet
    assert sorted(n for *_, n in seen) == [2, 2]  # the four builds, half on each
    assert _partition_attached(catalog) and len(_sort_keys(catalog)[0]) == 40
    with connection.cursor() as cur:  # all four adopted by the ATTACH, the key among them
        cur.execute(
            "SELECT count(*), count(*) FILTER (WHERE indisprimary) FROM pg_index "
            "WHERE indrelid = to_regclass(%s)",
            [sort_key_partition(catalog.pk)],
        )
        assert cur.fetchone() == (4, 1)


def test_a_first_pull_failing_after_its_sort_keys_were_committed_leaves_no_table(
    tenant_a, direct_writers, monkeypatch
):
    def refused(cursor, **kw):
        cursor.execute("SELECT 1/0")

    monkeypatch.setattr(writers, "sort_keys_attach_partition", refused)
    catalog = CatalogFactory(tenant=tenant_a)
    run = upload_run(tenant_a, ProductSourceFactory(catalog=catalog), feed(n_rows(40)))
    assert run.status == RunStatus.FAILED
    assert direct_writers[0].sort_keys.committed is False  # dropped again
    assert not Product.objects.filter(catalog=catalog).exists()
    assert not _partition_exists(catalog)


def test_a_table_left_unattached_is_dropped_by_the_next_first_pull(
    tenant_a, direct_writers, monkeypatch
):
    """A worker killed between the two commits leaves the catalog's partition table
    unattached, with sort keys of products that never were (and, killed while the indexes
    were built, the half its second connection committed): the next first pull drops it."""
    catalog = CatalogFactory(tenant=tenant_a)
    partition = sort_key_partition(catalog.pk)
    with connection.cursor() as cur:
        cur.execute(f"CREATE TABLE {partition} (LIKE catalogs_productsortkey)")
        cur.execute(f"CREATE INDEX {partition}_price ON {partition} (price, product_id)")
        cur.execute(
            f"INSERT INTO {partition} "  # noqa: S608 - our table's name
            "VALUES (%s, -1, %s, 'ghost', 1, now())",
            [tenant_a.pk, catalog.pk],
        )
    opened = _sort_key_writers(monkeypatch)
    run = upload_run(tenant_a, ProductSourceFactory(catalog=catalog), feed(n_rows(5)))
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert len(opened) == 1 and opened[0].indexed  # built beside, in a new table
    keys, _ = _sort_keys(catalog)
    assert [k[1] for k in keys] == [f"Product {i}" for i in range(5)]
    assert _partition_attached(catalog)
    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {partition}")  # noqa: S608
        assert cur.fetchone()[0] == 5


def test_a_review_that_fails_after_blocks_were_written_fails_the_run_and_changes_nothing(
    tenant_a, direct_writers, monkeypatch
):
    """A block's review failing after earlier blocks were COPYed with their review status
    fails the run, which rolls back as a whole; the next pull writes the catalog."""
    opened, calls = writers._block_reviewer, []

    def reviewer_breaking_on_the_second_block(ctx, conn):
        reviewer = opened(ctx, conn)
        review = reviewer.review_block

        def review_block(table, ids):
            calls.append(len(ids))
            if len(calls) == 2:
                raise RuntimeError("review broke")
            return review(table, ids)

        reviewer.review_block = review_block
        return reviewer

    monkeypatch.setattr(writers, "_block_reviewer", reviewer_breaking_on_the_second_block)
    catalog = CatalogFactory(tenant=tenant_a)
    source = ProductSourceFactory(catalog=catalog)
    data = feed(n_rows(200_000))
    assert len(data) > 12_000_000  # more than one 8 MB block
    run = upload_run(tenant_a, source, data)
    assert run.status == RunStatus.FAILED, run.error_message
    assert len(calls) == 2 and direct_writers[0].rows_written > 0
    assert not Product.objects.filter(catalog=catalog).exists()
    assert not FeedRunChange.objects.filter(run=run).exists()
    monkeypatch.setattr(writers, "_block_reviewer", opened)
    run = upload_run(tenant_a, source, feed(n_rows(5)))
    assert run.status == RunStatus.SUCCEEDED and run.created == 5
    assert Product.objects.filter(catalog=catalog).count() == 5
