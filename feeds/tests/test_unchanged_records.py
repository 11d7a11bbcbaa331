"""A re-pull reads only the records that changed: the rest are recognised from their bytes
(``feeds.records``) and must leave exactly what a full read would have left."""

from __future__ import annotations

import threading
from decimal import Decimal

import psycopg
import pytest
from django.db import connection

from catalogs.models import Product
from catalogs.services import product_update
from catalogs.tests.factories import CatalogFactory
from feeds import records, services
from feeds.ingest import pipeline, staging
from feeds.models import FeedRowError, FeedSettings, ProductSource, RunStatus
from feeds.tests.factories import ProductSourceFactory
from feeds.tests.feedserver import send
from feeds.tests.test_services import feed, n_rows, products, upload_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(tenant_a):
    FeedSettings.objects.update_or_create(pk=1, defaults={"manual_refresh_min_seconds": 0})
    return CatalogFactory(tenant=tenant_a)


@pytest.fixture
def source(catalog):
    return ProductSourceFactory(catalog=catalog)


def tamper(catalog, sku: str) -> None:
    """Change a product behind the pipeline's back, keeping its record fingerprint: only a
    run that reads the record again puts the feed's title back."""
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE catalogs_product SET title = 'tampered', content_hash = 'x' "
            "WHERE catalog_id = %s AND sku = %s",
            [catalog.pk, sku],
        )


def title(catalog, sku: str) -> str:
    return products(catalog).get(sku=sku).title


def test_a_first_pull_stores_every_records_fingerprint(tenant_a, catalog, source):
    run = upload_run(tenant_a, source, feed(n_rows(20)))
    assert run.status == RunStatus.SUCCEEDED
    hashes = list(products(catalog).values_list("feed_line_hash", flat=True))
    assert len(hashes) == 20 and None not in hashes and len(set(hashes)) == 20


def test_a_repull_reads_only_changed_records(tenant_a, catalog, source):
    upload_run(tenant_a, source, feed(n_rows(20)))
    tamper(catalog, "S00003")
    rows = n_rows(20)
    rows[7] = ("S00007", "Seven v2", "10.00 USD")
    run = upload_run(tenant_a, source, feed(rows))
    assert (run.received, run.created, run.updated, run.unchanged) == (20, 0, 1, 19)
    assert title(catalog, "S00007") == "Seven v2"
    assert title(catalog, "S00003") == "tampered"  # recognised unread
    # a forced run reads every record again
    run = upload_run(tenant_a, source, feed(rows), force=True)
    assert (run.updated, run.unchanged) == (1, 19)
    assert title(catalog, "S00003") == "Product 3"


def test_a_sellers_edit_is_overwritten_by_the_next_pull(tenant_a, catalog, source, member):
    upload_run(tenant_a, source, feed(n_rows(5)))
    product = products(catalog).get(sku="S00001")
    product_update(tenant=tenant_a, product=product, actor=None, data={"price": Decimal("99")})
    assert products(catalog).get(sku="S00001").feed_line_hash is None
    run = upload_run(tenant_a, source, feed(n_rows(5)) + b"S09999,New,D,l,i,1 USD,in stock,B\n")
    assert (run.created, run.updated, run.unchanged) == (1, 1, 4)
    assert products(catalog).get(sku="S00001").price == Decimal("10.00")


def test_replace_mode_keeps_unread_products_and_removes_missing_ones(tenant_a, catalog, source):
    upload_run(tenant_a, source, feed(n_rows(10)))
    rows = n_rows(9)  # S00009 left the feed
    rows[0] = ("S00000", "Zero v2", "10.00 USD")
    run = upload_run(tenant_a, source, feed(rows))
    assert (run.updated, run.unchanged, run.removed) == (1, 8, 1)
    assert set(products(catalog).values_list("sku", flat=True)) == {f"S{i:05d}" for i in range(9)}
    # it comes back byte for byte: revived, since a removed product is never "unchanged"
    run = upload_run(tenant_a, source, feed([*rows, *n_rows(1, start=9)]))
    assert (run.updated, run.unchanged, run.removed) == (1, 9, 0)
    assert products(catalog).count() == 10


def test_a_duplicate_of_an_unread_record_is_rejected_as_in_a_full_read(tenant_a, catalog, source):
    upload_run(tenant_a, source, feed(n_rows(5)))
    later = feed([*n_rows(5), ("S00002", "Imposter", "1.00 USD")])
    run = upload_run(tenant_a, source, later)
    assert (run.received, run.rejected, run.unchanged, run.updated) == (6, 1, 5, 0)
    error = FeedRowError.objects.for_tenant(tenant_a).get(run=run)
    assert (error.line, error.sku) == (7, "S00002")
    assert title(catalog, "S00002") == "Product 2"


def test_a_new_row_before_its_unread_duplicate_wins_as_in_a_full_read(tenant_a, catalog, source):
    """The shortcut gives up and reads everything: the first row of an id is kept."""
    upload_run(tenant_a, source, feed(n_rows(5)))
    earlier = feed([("S00002", "First", "1.00 USD"), *n_rows(5)])
    run = upload_run(tenant_a, source, earlier)
    assert run.status == RunStatus.SUCCEEDED
    assert (run.received, run.rejected, run.updated, run.unchanged) == (6, 1, 1, 4)
    error = FeedRowError.objects.for_tenant(tenant_a).get(run=run)
    assert (error.line, error.sku) == (5, "S00002")
    assert title(catalog, "S00002") == "First"


def test_new_columns_order_reads_all_then_remembers_the_new_records(tenant_a, catalog, source):
    upload_run(tenant_a, source, feed(n_rows(6)))
    old = dict(products(catalog).values_list("sku", "feed_line_hash"))
    reordered = "brand,id,title,description,link,image_link,price,availability\n" + "".join(
        f"B,S{i:05d},Product {i},Desc,https://s.example/S{i:05d},"
        f"https://s.example/S{i:05d}.jpg,10.00 USD,in stock\n"
        for i in range(6)
    )
    run = upload_run(tenant_a, source, reordered.encode())
    assert (run.updated, run.unchanged) == (0, 6)  # same content: nothing to write
    new = dict(products(catalog).values_list("sku", "feed_line_hash"))
    assert all(new[s] is not None and new[s] != old[s] for s in old)
    tamper(catalog, "S00004")
    run = upload_run(tenant_a, source, reordered.encode() + b"B,S00099,N,D,l,i,1 USD,in stock\n")
    assert (run.created, run.unchanged) == (1, 6)
    assert title(catalog, "S00004") == "tampered"  # skipped: its record did not change


def test_another_default_currency_reads_every_record_again(tenant_a, catalog, source):
    upload_run(tenant_a, source, feed(n_rows(3, price="5")))
    tamper(catalog, "S00001")
    catalog.currency = "EUR"
    catalog.save()
    run = upload_run(tenant_a, source, feed(n_rows(3, price="5")) + b"\n")
    assert run.status == RunStatus.SUCCEEDED and run.updated == 3
    assert set(products(catalog).values_list("currency", flat=True)) == {"EUR"}
    assert title(catalog, "S00001") == "Product 1"


def test_products_without_fingerprints_are_read(tenant_a, catalog, source):
    """Products from before fingerprints existed (or from the API) are compared by content."""
    upload_run(tenant_a, source, feed(n_rows(4)))
    Product.objects.for_tenant(tenant_a).update(feed_line_hash=None)
    tamper(catalog, "S00000")
    run = upload_run(tenant_a, source, feed(n_rows(4)) + b"\n")
    assert (run.updated, run.unchanged) == (1, 3)
    assert title(catalog, "S00000") == "Product 0"
    assert None not in products(catalog).values_list("feed_line_hash", flat=True)


def test_the_diff_of_updated_products_has_every_kind_of_field(tenant_a, catalog, source):
    """The 'updated' diff is built by PostgreSQL; its values read as the Python rules write
    them: money as "12.50", quantities as numbers, lists and attributes as JSON, and an
    empty value equal to none."""
    head = "id,title,price,sale_price,quantity,additional_image_link,color,gtin,availability\n"
    before = head + "A,Shirt,10 USD,,5,https://i.example/1.jpg,red,,in stock\n"
    after = head + "A,Shirt,12.5 USD,9.99 USD,,https://i.example/2.jpg,blue,,out of stock\n"
    upload_run(tenant_a, source, before.encode())
    run = upload_run(tenant_a, source, after.encode())
    assert run.updated == 1
    from feeds.models import FeedRunChange

    change = FeedRunChange.objects.for_tenant(tenant_a).get(run=run)
    assert change.kind == "updated" and change.product_id
    assert change.changes == {
        "price": ["10.00", "12.50"],
        "sale_price": [None, "9.99"],
        "inventory_quantity": [5, None],
        "additional_image_links": [["https://i.example/1.jpg"], ["https://i.example/2.jpg"]],
        "custom_attributes": [{"color": "red"}, {"color": "blue"}],
        "availability": ["in_stock", "out_of_stock"],
    }


def test_a_catalog_changed_since_the_fingerprints_were_read_is_counted_in_full(
    tenant_a, catalog, source, monkeypatch
):
    """The shortcut's count of products to remove trusts the fingerprints only while no
    product was created, removed or brought back since they were read; otherwise every
    active product is checked against the feed."""
    from feeds.ingest import merge, pipeline

    upload_run(tenant_a, source, feed(n_rows(10)))
    versions = iter(["read with the fingerprints", "changed by another run since"])
    monkeypatch.setattr(pipeline, "_products_version", lambda catalog: next(versions))
    monkeypatch.setattr(merge, "_products_version", lambda catalog: next(versions))
    run = upload_run(tenant_a, source, feed(n_rows(9)))  # S00009 left the feed
    assert (run.status, run.received, run.unchanged, run.removed) == ("succeeded", 9, 9, 1)
    assert not products(catalog).filter(sku="S00009").exists()
    assert products(catalog).count() == 9


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_fingerprints_are_read_while_the_file_downloads(tenant_a):
    """As in a worker: a second connection reads them during the fetch; an identical file
    stops that read, a changed one uses it."""
    FeedSettings.objects.update_or_create(pk=1, defaults={"manual_refresh_min_seconds": 0})
    catalog = CatalogFactory(tenant=tenant_a)
    source = ProductSourceFactory(catalog=catalog)
    upload_run(tenant_a, source, feed(n_rows(50)))
    assert upload_run(tenant_a, source, feed(n_rows(50))).status == RunStatus.UNCHANGED
    tamper(catalog, "S00003")
    rows = n_rows(50)
    rows[9] = ("S00009", "Nine v2", "10.00 USD")
    run = upload_run(tenant_a, source, feed(rows))
    assert (run.status, run.updated, run.unchanged) == (RunStatus.SUCCEEDED, 1, 49)
    assert title(catalog, "S00003") == "tampered"  # skipped unread


@pytest.mark.timeout(60)
@pytest.mark.django_db(transaction=True)
def test_a_304_stops_the_fingerprint_read_even_between_its_queries(tenant_a, monkeypatch):
    """A cancel request that reaches the server while no query runs is lost: the read is
    cancelled again until it ends, not left to run over the whole catalog."""
    FeedSettings.objects.update_or_create(pk=1, defaults={"manual_refresh_min_seconds": 0})
    catalog = CatalogFactory(tenant=tenant_a)
    upload_run(tenant_a, ProductSourceFactory(catalog=catalog), feed(n_rows(20)))
    connected, go_on = threading.Event(), threading.Event()
    real_version = pipeline._products_version

    def version_after_the_first_cancel(catalog):
        connected.set()
        go_on.wait(10)  # the first cancel request reaches an idle connection
        return real_version(catalog)

    monkeypatch.setattr(pipeline, "_products_version", version_after_the_first_cancel)
    locker = staging._second_connection(autocommit=False)
    # the read's queries wait for this lock until they are cancelled (or 5 s have passed)
    locker.execute("LOCK TABLE catalogs_product IN ACCESS EXCLUSIVE MODE")
    unlock = threading.Timer(5, locker.rollback)
    unlock.start()
    try:
        background = pipeline._BackgroundMatcher(catalog)
        assert connected.wait(10)
        threading.Timer(0.3, go_on.set).start()
        background.cancel()
    finally:
        go_on.set()
        unlock.cancel()
        locker.close()
    assert not background.thread.is_alive()
    assert background.value is None
    error = background.error
    assert isinstance(error, psycopg.errors.QueryCanceled) or isinstance(
        error.__cause__, psycopg.errors.QueryCanceled
    )


def test_a_feed_with_a_quote_never_closed_fails_and_changes_nothing(
    tenant_a, catalog, source, monkeypatch
):
    from feeds import records

    upload_run(tenant_a, source, feed(n_rows(3)))
    monkeypatch.setattr(records, "MAX_RECORD_BYTES", 4096)
    broken = feed(n_rows(3)) + b'S00099,"Open quote,1 USD\n' + b"x" * 8000 + b"\n"
    run = upload_run(tenant_a, source, broken)
    assert run.status == RunStatus.FAILED and run.error_code == "malformed"
    assert "never closed" in run.error_message
    assert sorted(products(catalog).values_list("sku", flat=True)) == [
        "S00000",
        "S00001",
        "S00002",
    ]


# a UPC-A that a spreadsheet shortened to 11 digits, and one whose padded form is no GTIN
UPC_FEED = (
    b"id,title,description,link,image_link,price,availability,brand,gtin\n"
    b"1,Hat,D,https://s.example/1,https://s.example/1.jpg,10 USD,in stock,B,12345678905.0\n"
    b"2,Cap,D,https://s.example/2,https://s.example/2.jpg,10 USD,in stock,B,12345678906\n"
)


def gtins(catalog) -> dict[str, str]:
    return dict(products(catalog).values_list("sku", "gtin"))


def test_a_feeds_upc_a_without_its_leading_zero_is_stored_whole(tenant_a, catalog, source):
    run = upload_run(tenant_a, source, UPC_FEED)
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    # the second's padded form has a wrong check digit: kept as written, for review to report
    assert gtins(catalog) == {"1": "012345678905", "2": "12345678906"}


def test_the_next_pull_rereads_records_stored_under_the_previous_rules(
    tenant_a, catalog, source, monkeypatch
):
    """In a file that changed elsewhere, a record whose bytes did not change is skipped by its
    fingerprint, so what the rules before the UPC-A one stored (11 digits) would stay unless
    the rules' version moved on."""
    with monkeypatch.context() as m:
        m.setattr(records, "FINGERPRINT_VERSION", b"2")  # the rules that kept 11 digits
        upload_run(tenant_a, source, UPC_FEED)
    # as those rules stored it (with the content hash of that row)
    products(catalog).filter(sku="1").update(gtin="12345678905", content_hash="11 digits")

    run = upload_run(tenant_a, source, UPC_FEED.replace(b"2,Cap,", b"2,Flat cap,"))

    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert gtins(catalog)["1"] == "012345678905"


def pull_under_older_rules(catalog, monkeypatch, pull) -> None:
    """A good pull of the UPC feed by the rules that kept 11 digits, leaving what they stored."""
    with monkeypatch.context() as m:
        m.setattr(records, "FINGERPRINT_VERSION", b"2")
        run = pull()
        assert run.status == RunStatus.SUCCEEDED, run.error_message
    products(catalog).filter(sku="1").update(gtin="12345678905", content_hash="11 digits")


@pytest.mark.parametrize("remembered", ["older rules", "unknown (a source from before)"])
def test_an_identical_file_is_read_once_after_the_rules_changed(
    tenant_a, catalog, source, monkeypatch, remembered
):
    """The whole-file hash says nothing about the rules the file was read by: the first pull
    under new rules reads it (and corrects what the old ones read wrong), the next one skips it."""
    pull_under_older_rules(catalog, monkeypatch, lambda: upload_run(tenant_a, source, UPC_FEED))
    if remembered.startswith("unknown"):
        ProductSource.objects.filter(pk=source.pk).update(last_rules_version="")

    run = upload_run(tenant_a, source, UPC_FEED)

    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert (run.updated, run.unchanged) == (1, 1)
    assert gtins(catalog) == {"1": "012345678905", "2": "12345678906"}
    tamper(catalog, "2")
    again = upload_run(tenant_a, source, UPC_FEED)
    assert again.status == RunStatus.UNCHANGED
    assert title(catalog, "2") == "tampered"  # not read


def test_a_304_is_not_asked_for_after_the_rules_changed(
    tenant_a, catalog, source, monkeypatch, server
):
    """The feed server's validators say the file did not change, not how it was read: the
    first pull under new rules asks for the whole file and reads it; the next one gets a 304."""

    def handler(h):
        if h.headers.get("If-None-Match") == '"v1"':
            send(h, 304)
        else:
            send(h, 200, UPC_FEED, ETag='"v1"', Last_Modified="Wed, 01 Jan 2025 00:00:00 GMT")

    server.routes["/feed.csv"] = handler
    ProductSource.objects.filter(pk=source.pk).update(url=server.url("/feed.csv"))
    source.refresh_from_db()

    def pull():
        run, _ = services.feed_run_request(tenant=tenant_a, source=source, actor=None)
        return services.feed_run_execute(tenant_id=tenant_a.pk, run_id=run.pk)

    pull_under_older_rules(catalog, monkeypatch, pull)

    run = pull()

    conditional = {"If-None-Match", "If-Modified-Since"}
    assert not conditional & server.requests[1][1].keys()
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert gtins(catalog)["1"] == "012345678905"
    again = pull()
    assert again.status == RunStatus.UNCHANGED and again.bytes_downloaded == 0
    assert server.requests[2][1]["If-None-Match"] == '"v1"'
    assert server.requests[2][1]["If-Modified-Since"] == "Wed, 01 Jan 2025 00:00:00 GMT"


def upc_feed_with(skus: range) -> bytes:
    """UPC_FEED and one more product per sku in ``skus``."""
    return UPC_FEED + b"".join(
        b"%d,Sock %d,D,https://s.example/%d,https://s.example/%d.jpg,5 USD,in stock,B,\n"
        % (sku, sku, sku, sku)
        for sku in skus
    )


# held for its removals: 10 of the 12 products (over the share), or the 2 after the cut of a
# file that ends in the middle of a row (cannot be proven complete)
HELD_FEEDS = {
    "removal_share": UPC_FEED,
    "incomplete": upc_feed_with(range(3, 10)) + b"10,Sock 10,D",
}


@pytest.mark.parametrize("hold_reason", HELD_FEEDS)
def test_a_run_confirmed_after_the_rules_changed_keeps_the_rules_it_was_read_by(
    tenant_a, catalog, source, owner, monkeypatch, hold_reason
):
    """A held run's records were read when it was held; confirmed after an upgrade, it must
    not vouch for the new rules, or the next pull of the same file would skip what the old
    rules read wrongly."""
    held_feed = HELD_FEEDS[hold_reason]
    with monkeypatch.context() as m:
        m.setattr(records, "FINGERPRINT_VERSION", b"2")
        assert upload_run(tenant_a, source, upc_feed_with(range(3, 13))).status == "succeeded"
        held = upload_run(tenant_a, source, held_feed)
    assert held.status == RunStatus.NEEDS_CONFIRMATION and held.hold_reason == hold_reason

    services.feed_run_confirm(tenant=tenant_a, run=held, actor=owner)
    run = services.feed_run_execute(tenant_id=tenant_a.pk, run_id=held.pk)

    assert run.status == RunStatus.SUCCEEDED, run.error_message
    source.refresh_from_db()
    assert source.last_rules_version == "2"
    # as the rules that kept 11 digits stored it (with the content hash of that row)
    products(catalog).filter(sku="1").update(gtin="12345678905", content_hash="11 digits")
    again = upload_run(tenant_a, source, held_feed)
    assert again.status == RunStatus.SUCCEEDED, again.error_message
    assert gtins(catalog)["1"] == "012345678905"
    source.refresh_from_db()
    assert source.last_rules_version == records.rules_version()
