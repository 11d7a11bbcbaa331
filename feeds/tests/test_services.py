"""The ingest pipeline and run services against real PostgreSQL (and a local HTTP server)."""

from __future__ import annotations

import gzip
from datetime import time, timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from catalog_health.tenancy.roles import Role
from catalogs.models import Product
from catalogs.tests.factories import CatalogFactory, ProductFactory
from feeds import crypto, periodic, services
from feeds.models import (
    FeedRun,
    FeedRunChange,
    FeedSettings,
    ProductSource,
    RunStatus,
    Schedule,
    Trigger,
)
from feeds.tests.factories import ProductSourceFactory
from feeds.tests.feedserver import FeedServer, body, status

pytestmark = pytest.mark.django_db

HEADER = "id,title,description,link,image_link,price,availability,brand\n"


def feed(rows: list[tuple[str, str, str]]) -> bytes:
    """rows of (sku, title, price)."""
    lines = [
        f"{sku},{title},Desc,https://s.example/{sku},https://s.example/{sku}.jpg,{price},in stock,B"
        for sku, title, price in rows
    ]
    return (HEADER + "\n".join(lines) + "\n").encode()


def n_rows(n: int, start: int = 0, price: str = "10.00 USD") -> list[tuple[str, str, str]]:
    return [(f"S{i:05d}", f"Product {i}", price) for i in range(start, start + n)]


@pytest.fixture
def fs(db):
    s = FeedSettings.load()
    s.manual_refresh_min_seconds = 0
    s.save()
    return s


def upload_run(tenant, source, data: bytes, actor=None, **kw) -> FeedRun:
    path = services.upload_path_for("feed.csv")
    with open(path, "wb") as fh:
        fh.write(data)
    run, created = services.feed_run_request(
        tenant=tenant,
        source=source,
        actor=actor,
        trigger=Trigger.UPLOAD,
        file_path=path,
        file_name="feed.csv",
        **kw,
    )
    assert created
    return services.feed_run_execute(tenant_id=tenant.pk, run_id=run.pk)


def products(catalog, active=True):
    qs = Product.objects.for_tenant(catalog.tenant_id).filter(catalog=catalog)
    return qs.filter(removed_at__isnull=True) if active else qs


def test_first_import_creates_products_pending_review(tenant_a, catalog, fs, owner):
    source = ProductSourceFactory(catalog=catalog)
    run = upload_run(tenant_a, source, feed(n_rows(5)), actor=owner)
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert (run.received, run.created, run.updated, run.unchanged, run.removed) == (5, 5, 0, 0, 0)
    assert products(catalog).count() == 5
    p = products(catalog).get(sku="S00002")
    assert p.title == "Product 2" and str(p.price) == "10.00" and p.currency == "USD"
    assert p.availability == "in_stock" and p.content_hash
    assert set(run.durations) >= {"fetching", "parsing", "validating", "applying"}
    created = FeedRunChange.objects.for_tenant(tenant_a).filter(run=run, kind="created")
    assert created.count() == 5
    assert created.get(sku="S00002").changes["title"] == [None, "Product 2"]
    assert created.get(sku="S00002").product_id == p.pk
    source.refresh_from_db()
    assert source.last_success_at and source.last_sha256 == run.content_sha256


def test_repull_touches_only_changed_rows_and_records_diff(tenant_a, catalog, fs):
    source = ProductSourceFactory(catalog=catalog)
    upload_run(tenant_a, source, feed(n_rows(50)))
    Product.objects.for_tenant(tenant_a).update(review_status="available")
    before = {p.sku: p.updated_at for p in products(catalog)}
    rows = n_rows(50)
    rows[7] = ("S00007", "Product 7 v2", '"12,50 USD"')
    run = upload_run(tenant_a, source, feed(rows))
    assert (run.created, run.updated, run.unchanged, run.removed) == (0, 1, 49, 0)
    changed = products(catalog).get(sku="S00007")
    # back to review (ECR's hook may already have reviewed it in the fast lane)
    assert changed.review_requested_at and changed.review_requested_at >= run.started_at
    assert str(changed.price) == "12.50"
    untouched = products(catalog).exclude(sku="S00007")
    assert all(p.updated_at == before[p.sku] for p in untouched)
    assert set(untouched.values_list("review_status", flat=True)) == {"available"}
    assert all(
        p.review_requested_at is None or p.review_requested_at < run.started_at for p in untouched
    )
    diff = FeedRunChange.objects.for_tenant(tenant_a).get(run=run)
    assert diff.kind == "updated" and diff.product_id == changed.pk
    assert diff.changes == {"title": ["Product 7", "Product 7 v2"], "price": ["10.00", "12.50"]}


def test_identical_file_ends_unchanged_without_parsing(tenant_a, catalog, fs):
    source = ProductSourceFactory(catalog=catalog)
    upload_run(tenant_a, source, feed(n_rows(5)))
    run = upload_run(tenant_a, source, feed(n_rows(5)))
    assert run.status == RunStatus.UNCHANGED
    assert "parsing" not in run.durations and run.received == 0


def test_replace_removes_missing_and_update_mode_keeps_them(tenant_a, catalog, fs):
    source = ProductSourceFactory(catalog=catalog)
    upload_run(tenant_a, source, feed(n_rows(10)))
    run = upload_run(tenant_a, source, feed(n_rows(8)))
    assert run.removed == 2
    assert products(catalog).count() == 8
    removed = FeedRunChange.objects.for_tenant(tenant_a).filter(run=run, kind="removed")
    assert sorted(removed.values_list("sku", flat=True)) == ["S00008", "S00009"]
    # the removed products come back when the feed lists them again
    back = upload_run(tenant_a, source, feed(n_rows(10)))
    assert back.updated == 2 and products(catalog).count() == 10
    source.mode = "update"
    source.save()
    partial = upload_run(tenant_a, source, feed(n_rows(1, price="1 USD")))
    assert partial.removed == 0 and products(catalog).count() == 10


def test_large_removal_is_held_until_confirmed(tenant_a, catalog, fs, owner):
    source = ProductSourceFactory(catalog=catalog)
    upload_run(tenant_a, source, feed(n_rows(10)))
    run = upload_run(tenant_a, source, feed(n_rows(3)))
    assert run.status == RunStatus.NEEDS_CONFIRMATION
    assert run.removed == 7 and "would remove 7 of the catalog's 10" in run.error_message
    assert products(catalog).count() == 10  # nothing applied
    services.feed_run_confirm(tenant=tenant_a, run=run, actor=owner)
    run = services.feed_run_execute(tenant_id=tenant_a.pk, run_id=run.pk)
    assert run.status == RunStatus.SUCCEEDED and run.removed == 7
    assert products(catalog).count() == 3
    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass(%s)", [run.stage_table])
        assert cur.fetchone()[0] is None  # staging dropped


def test_too_many_rejected_rows_fail_the_run_and_change_nothing(tenant_a, catalog, fs):
    source = ProductSourceFactory(catalog=catalog)
    upload_run(tenant_a, source, feed(n_rows(4)))
    rows = n_rows(4, price="5 USD") + [(f"B{i}", "Bad", "free") for i in range(2)]
    run = upload_run(tenant_a, source, feed(rows))
    assert run.status == RunStatus.FAILED and run.error_code == "rejected_share"
    assert "2 of 6 rows" in run.error_message
    assert set(products(catalog).values_list("price", flat=True)) == {
        p for p in products(catalog).values_list("price", flat=True)
    }
    assert str(products(catalog).first().price) == "10.00"  # old data intact
    assert run.row_errors.filter(field="price").count() == 2


def test_rejected_rows_below_threshold_apply_the_good_ones(tenant_a, catalog, fs):
    source = ProductSourceFactory(catalog=catalog)
    rows = [*n_rows(9), ("BAD", "Bad", "twelve")]
    run = upload_run(tenant_a, source, feed(rows))
    assert run.status == RunStatus.SUCCEEDED and run.rejected == 1 and run.created == 9
    err = run.row_errors.get()
    assert (err.line, err.sku, err.field) == (11, "BAD", "price")


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (b"<!doctype html><html><body>Sign in</body></html>", "html"),
        (b"name,price\nx,1 USD\n", "columns"),
        (b"<rss><channel><item><id>1</id></channel>", "malformed"),
        (b"id,title\n", "empty"),
    ],
)
def test_whole_feed_problems_fail_clearly(tenant_a, catalog, fs, data, code):
    source = ProductSourceFactory(catalog=catalog)
    upload_run(tenant_a, source, feed(n_rows(3)))
    run = upload_run(tenant_a, source, data)
    assert run.status == RunStatus.FAILED and run.error_code == code, run.error_message
    assert products(catalog).count() == 3


def test_gzip_xml_feed(tenant_a, catalog, fs):
    xml = (
        b'<?xml version="1.0"?><rss xmlns:g="http://base.google.com/ns/1.0"><channel>'
        b"<item><g:id>X1</g:id><g:title>Tent</g:title><g:price>99 USD</g:price>"
        b"<g:availability>preorder</g:availability></item></channel></rss>"
    )
    source = ProductSourceFactory(catalog=catalog)
    run = upload_run(tenant_a, source, gzip.compress(xml))
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert products(catalog).get(sku="X1").availability == "preorder"


def test_url_pull_with_password_and_conditional_fetch(tenant_a, catalog, fs, server, owner):
    def handler(h):
        if h.headers.get("If-None-Match") == '"v1"':
            h.send_response(304)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        data = feed(n_rows(3))
        h.send_response(200)
        h.send_header("ETag", '"v1"')
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    server.routes["/feed.csv"] = handler
    source = services.source_create(
        tenant=tenant_a,
        catalog=catalog,
        actor=owner,
        data={
            "name": "Shop",
            "url": server.url("/feed.csv"),
            "username": "shop",
            "schedule": Schedule.MANUAL,
        },
        password="s3cret",
    )
    assert "s3cret" not in source.password_encrypted
    assert crypto.decrypt(source.password_encrypted) == "s3cret"
    run, _ = services.feed_run_request(tenant=tenant_a, source=source, actor=owner)
    run = services.feed_run_execute(tenant_id=tenant_a.pk, run_id=run.pk)
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert server.requests[0][1]["Authorization"].startswith("Basic ")
    source.refresh_from_db()
    assert source.last_etag == '"v1"'
    again, _ = services.feed_run_request(tenant=tenant_a, source=source, actor=owner)
    again = services.feed_run_execute(tenant_id=tenant_a.pk, run_id=again.pk)
    assert again.status == RunStatus.UNCHANGED
    assert server.requests[1][1]["If-None-Match"] == '"v1"'


def test_an_identical_file_under_a_new_etag_is_remembered(tenant_a, catalog, fs, server):
    """A feed regenerated with the same bytes gets a new ETag: the run ends unchanged by its
    hash and keeps the new ETag, so the next pull gets a 304 instead of the whole file."""
    data = feed(n_rows(3))
    etags = iter(['"v1"', '"v2"', '"v2"'])

    def handler(h):
        etag = next(etags)
        if h.headers.get("If-None-Match") == etag:
            h.send_response(304)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        h.send_response(200)
        h.send_header("ETag", etag)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    server.routes["/feed.csv"] = handler
    source = ProductSourceFactory(catalog=catalog, url=server.url("/feed.csv"))
    statuses = []
    for _ in range(3):
        run, _ = services.feed_run_request(tenant=tenant_a, source=source, actor=None)
        run = services.feed_run_execute(tenant_id=tenant_a.pk, run_id=run.pk)
        statuses.append((run.status, run.bytes_downloaded > 0))
        source.refresh_from_db()
    assert statuses == [
        (RunStatus.SUCCEEDED, True),
        (RunStatus.UNCHANGED, True),  # downloaded, same SHA-256
        (RunStatus.UNCHANGED, False),  # 304
    ]
    assert source.last_etag == '"v2"'
    assert [r[1].get("If-None-Match") for r in server.requests] == [None, '"v1"', '"v2"']


@pytest.mark.parametrize(
    ("code", "expect"), [(401, "http_401"), (404, "http_404"), (503, "http_503")]
)
def test_http_failures_leave_catalog_unchanged(tenant_a, catalog, fs, server, code, expect):
    ProductFactory(catalog=catalog, tenant=tenant_a, sku="KEEP")
    server.routes["/f"] = status(code)
    source = ProductSourceFactory(catalog=catalog, url=server.url("/f"))
    run, _ = services.feed_run_request(tenant=tenant_a, source=source, actor=None)
    run = services.feed_run_execute(tenant_id=tenant_a.pk, run_id=run.pk)
    assert run.status == RunStatus.FAILED and run.error_code == expect
    assert list(products(catalog).values_list("sku", flat=True)) == ["KEEP"]


def test_loopback_url_refused_without_allow_list(tenant_a, catalog, fs):
    s = FeedServer()
    try:
        s.routes["/f"] = body(feed(n_rows(1)))
        source = ProductSourceFactory(catalog=catalog, url=s.url("/f"))
        run, _ = services.feed_run_request(tenant=tenant_a, source=source, actor=None)
        run = services.feed_run_execute(tenant_id=tenant_a.pk, run_id=run.pk)
        assert run.error_code == "blocked" and s.requests == []
    finally:
        s.close()


def test_one_time_password_is_used_once_and_not_stored(tenant_a, catalog, fs, server):
    server.routes["/f"] = body(feed(n_rows(1)))
    source = ProductSourceFactory(catalog=catalog, url=server.url("/f"), username="u")
    assert source.needs_password_prompt
    run, _ = services.feed_run_request(tenant=tenant_a, source=source, actor=None, password="pw")
    assert run.one_time_password_encrypted and run.one_time_password_encrypted != "pw"
    run = services.feed_run_execute(tenant_id=tenant_a.pk, run_id=run.pk)
    assert run.status == RunStatus.SUCCEEDED and run.one_time_password_encrypted == ""
    source.refresh_from_db()
    assert source.password_encrypted == ""
    remembered, _ = services.feed_run_request(
        tenant=tenant_a, source=source, actor=None, password="pw2", remember=True, force=True
    )
    source.refresh_from_db()
    assert crypto.decrypt(source.password_encrypted) == "pw2"
    assert remembered.one_time_password_encrypted == ""


def test_second_request_returns_the_active_run(tenant_a, catalog, fs):
    source = ProductSourceFactory(catalog=catalog)
    first, created = services.feed_run_request(tenant=tenant_a, source=source, actor=None)
    second, created2 = services.feed_run_request(tenant=tenant_a, source=source, actor=None)
    assert created and not created2 and first.pk == second.pk


def test_manual_requests_are_rate_limited(tenant_a, catalog, fs):
    fs.manual_refresh_min_seconds = 60
    fs.save()
    source = ProductSourceFactory(catalog=catalog)
    run, _ = services.feed_run_request(tenant=tenant_a, source=source, actor=None)
    FeedRun.objects.filter(pk=run.pk).update(status=RunStatus.SUCCEEDED)
    with pytest.raises(services.RefreshRateLimited) as exc:
        services.feed_run_request(tenant=tenant_a, source=source, actor=None)
    assert 0 < exc.value.seconds <= 60


def test_execute_twice_is_harmless(tenant_a, catalog, fs):
    source = ProductSourceFactory(catalog=catalog)
    run = upload_run(tenant_a, source, feed(n_rows(2)))
    again = services.feed_run_execute(tenant_id=tenant_a.pk, run_id=run.pk)
    assert again.status == RunStatus.SUCCEEDED and again.created == 2


def test_dispatcher_enqueues_due_sources_once(tenant_a, catalog, fs):
    now = timezone.now()
    due = ProductSourceFactory(
        catalog=catalog,
        schedule=Schedule.DAILY,
        schedule_time=time(3, 0),
        next_pull_at=now - timedelta(minutes=1),
    )
    ProductSourceFactory(
        catalog=catalog,
        schedule=Schedule.DAILY,
        schedule_time=time(3, 0),
        next_pull_at=now - timedelta(minutes=1),
        enabled=False,
    )
    ProductSourceFactory(
        catalog=catalog, schedule=Schedule.HOURLY, next_pull_at=now + timedelta(minutes=5)
    )
    busy = ProductSourceFactory(
        catalog=catalog, schedule=Schedule.HOURLY, next_pull_at=now - timedelta(minutes=1)
    )
    FeedRun.objects.create(
        tenant=tenant_a,
        catalog=catalog,
        source=busy,
        trigger="manual",
        mode="replace",
        status=RunStatus.RUNNING,
    )
    assert periodic.feed_dispatch_due(now=now) == 1
    assert periodic.feed_dispatch_due(now=now) == 0
    run = FeedRun.objects.for_tenant(tenant_a).get(source=due)
    assert run.trigger == Trigger.SCHEDULED and run.status == RunStatus.QUEUED
    due.refresh_from_db()
    busy.refresh_from_db()
    assert due.next_pull_at > now and busy.next_pull_at > now


def test_reaper_fails_stale_runs_and_emails(tenant_a, catalog, fs, member):
    member(tenant_a, Role.ADVERTISER)
    source = ProductSourceFactory(catalog=catalog)
    run = FeedRun.objects.create(
        tenant=tenant_a,
        catalog=catalog,
        source=source,
        trigger=Trigger.SCHEDULED,
        mode="replace",
        status=RunStatus.RUNNING,
        heartbeat_at=timezone.now() - timedelta(hours=2),
    )
    assert periodic.feed_reap_stale() == 1
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and run.error_code == "worker_lost"
    assert "Feed pull failed" in mail.outbox[0].subject
    assert periodic.feed_reap_stale() == 0


def test_stale_sources_email_once(tenant_a, catalog, fs, member):
    member(tenant_a, Role.ADMIN)
    source = ProductSourceFactory(catalog=catalog, schedule=Schedule.HOURLY)
    ProductSource.objects.filter(pk=source.pk).update(
        created_at=timezone.now() - timedelta(days=3),
        last_success_at=timezone.now() - timedelta(days=2),
    )
    assert periodic.feed_notify_stale() == 1
    assert "out of date" in mail.outbox[0].subject and source.name in mail.outbox[0].body
    assert f"http://127.0.0.1:8000/t/{tenant_a.slug}/sources/{source.pk}/" in mail.outbox[0].body
    assert periodic.feed_notify_stale() == 0


def test_scheduled_failure_emails_advertisers(tenant_a, catalog, fs, server, member):
    member(tenant_a, Role.ADVERTISER)
    member(tenant_a, Role.VIEWER)
    server.routes["/f"] = status(404)
    source = ProductSourceFactory(catalog=catalog, url=server.url("/f"))
    run = FeedRun.objects.create(
        tenant=tenant_a,
        catalog=catalog,
        source=source,
        trigger=Trigger.SCHEDULED,
        mode="replace",
        location=source.url,
    )
    services.feed_run_execute(tenant_id=tenant_a.pk, run_id=run.pk)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [f"advertiser-{tenant_a.slug}@example.com"]
    assert "HTTP 404" in mail.outbox[0].body


def test_import_command_service(tenant_a, catalog, fs, tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(feed(n_rows(3)))
    run = services.feed_import_command(
        tenant=tenant_a, catalog=catalog, location=str(path), mode="update"
    )
    assert run.status == RunStatus.SUCCEEDED and run.created == 3
    assert path.exists()  # an operator's file is not deleted


def test_other_tenants_products_are_never_touched(tenant_a, tenant_b, catalog, fs):
    other = CatalogFactory(tenant=tenant_b)
    ProductFactory(catalog=other, tenant=tenant_b, sku="S00000", title="Theirs")
    source = ProductSourceFactory(catalog=catalog)
    upload_run(tenant_a, source, feed(n_rows(2)))
    upload_run(tenant_a, source, feed(n_rows(1, start=5)))  # replace: removes S00000, S00001
    theirs = Product.objects.for_tenant(tenant_b).get(sku="S00000")
    assert theirs.title == "Theirs" and theirs.removed_at is None


@pytest.mark.django_db(transaction=True)
def test_pipeline_with_the_parallel_copy_writer(tenant_a):
    """Outside a transaction (as in a worker) the staging COPY runs on a second connection."""
    FeedSettings.objects.update_or_create(pk=1, defaults={"manual_refresh_min_seconds": 0})
    catalog = CatalogFactory(tenant=tenant_a)
    source = ProductSourceFactory(catalog=catalog)
    run = upload_run(tenant_a, source, feed(n_rows(3000)))
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert run.created == 3000 and products(catalog).count() == 3000
    rows = n_rows(3000)
    rows[5] = ("S00005", "Renamed", "10.00 USD")
    again = upload_run(tenant_a, source, feed(rows))
    assert (again.updated, again.unchanged) == (1, 2999)


def test_a_rejected_row_keeps_its_existing_product_in_replace_mode(tenant_a, catalog, fs):
    """Bad input loses nothing: a known product whose row is unreadable this time is kept
    (with its last good data), not removed as missing from the feed."""
    source = ProductSourceFactory(catalog=catalog)
    upload_run(tenant_a, source, feed(n_rows(10)))
    rows = [*n_rows(9), ("S00009", "Product 9", "ten dollars")]  # unparseable price
    run = upload_run(tenant_a, source, feed(rows))
    assert run.status == RunStatus.SUCCEEDED and run.rejected == 1
    assert run.removed == 0
    assert not FeedRunChange.objects.for_tenant(tenant_a).filter(run=run, kind="removed").exists()
    kept = products(catalog).get(sku="S00009")
    assert str(kept.price) == "10.00"
    # a product that really left the feed is still removed
    run = upload_run(tenant_a, source, feed([*n_rows(8), ("S00009", "P9", "oops")]))
    assert run.removed == 1
    assert not products(catalog).filter(sku="S00008").exists()
    assert products(catalog).filter(sku="S00009").exists()
