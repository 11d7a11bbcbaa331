"""Pages of product sources and runs: roles, write-only password, Request Data Now, run page,
progress JSON, row errors CSV, confirmation, fixed query counts."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog_health.tenancy.roles import Role
from feeds import crypto, services
from feeds.models import FeedRun, FeedSettings, ProductSource, RunStatus
from feeds.tests.factories import (
    FeedRowErrorFactory,
    FeedRunChangeFactory,
    FeedRunFactory,
    ProductSourceFactory,
    held_import_run,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def fs(db):
    s = FeedSettings.load()
    s.manual_refresh_min_seconds = 0
    s.save()
    return s


def url(name, tenant, **kw):
    return reverse(f"feeds:{name}", kwargs={"tenant_slug": tenant.slug, **kw})


def test_add_source_keeps_password_write_only(client, member, tenant_a, catalog):
    client.force_login(member(tenant_a, Role.ADVERTISER))
    response = client.post(
        url("catalog_sources", tenant_a, catalog_id=catalog.pk),
        {
            "name": "Main",
            "kind": "url",
            "url": "https://shop.example.com/feed.csv",
            "username": "shop",
            "password": "hunter2-secret",
            "format": "auto",
            "compression": "auto",
            "mode": "replace",
            "schedule": "daily",
            "schedule_time": "06:30",
            "enabled": "on",
        },
    )
    assert response.status_code == 302
    source = ProductSource.objects.for_tenant(tenant_a).get()
    assert crypto.decrypt(source.password_encrypted) == "hunter2-secret"
    assert source.next_pull_at is not None
    for page in (
        url("source_detail", tenant_a, source_id=source.pk),
        url("catalog_sources", tenant_a, catalog_id=catalog.pk),
    ):
        body = client.get(page).content.decode()
        assert "hunter2-secret" not in body and source.password_encrypted not in body


def test_invalid_source_shows_errors(client, member, tenant_a, catalog):
    client.force_login(member(tenant_a, Role.ADVERTISER))
    response = client.post(
        url("catalog_sources", tenant_a, catalog_id=catalog.pk),
        {
            "name": "X",
            "kind": "url",
            "url": "ftp://x",
            "format": "auto",
            "compression": "auto",
            "mode": "replace",
            "schedule": "weekly",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Only http:// and https://" in body or "Enter a valid URL" in body


def test_viewer_sees_sources_but_cannot_refresh(client, member, tenant_a, catalog, fs):
    source = ProductSourceFactory(catalog=catalog)
    client.force_login(member(tenant_a, Role.VIEWER))
    assert client.get(url("catalog_sources", tenant_a, catalog_id=catalog.pk)).status_code == 200
    response = client.post(url("source_refresh", tenant_a, source_id=source.pk))
    assert response.status_code == 403
    assert not FeedRun.objects.for_tenant(tenant_a).exists()


def test_request_data_now_then_second_click_shows_same_run(client, member, tenant_a, catalog, fs):
    source = ProductSourceFactory(catalog=catalog)
    client.force_login(member(tenant_a, Role.ADVERTISER))
    first = client.post(url("source_refresh", tenant_a, source_id=source.pk))
    run = FeedRun.objects.for_tenant(tenant_a).get()
    assert first.status_code == 302 and first["Location"] == url(
        "run_detail", tenant_a, run_id=run.pk
    )
    second = client.post(url("source_refresh", tenant_a, source_id=source.pk), follow=True)
    assert FeedRun.objects.for_tenant(tenant_a).count() == 1
    assert "already in progress" in second.content.decode()


def test_password_prompt_when_none_is_stored(client, member, tenant_a, catalog, fs):
    source = ProductSourceFactory(catalog=catalog, username="shop")
    client.force_login(member(tenant_a, Role.ADVERTISER))
    page = client.get(url("catalog_sources", tenant_a, catalog_id=catalog.pk)).content.decode()
    assert url("source_refresh", tenant_a, source_id=source.pk) in page
    response = client.post(url("source_refresh", tenant_a, source_id=source.pk))
    assert response.status_code == 200 and "needs its password" in response.content.decode()
    assert not FeedRun.objects.for_tenant(tenant_a).exists()
    client.post(url("source_refresh", tenant_a, source_id=source.pk), {"password": "pw"})
    run = FeedRun.objects.for_tenant(tenant_a).get()
    assert crypto.decrypt(run.one_time_password_encrypted) == "pw"
    source.refresh_from_db()
    assert source.password_encrypted == ""


def test_rate_limit_message(client, member, tenant_a, catalog, fs):
    fs.manual_refresh_min_seconds = 120
    fs.save()
    source = ProductSourceFactory(catalog=catalog)
    client.force_login(member(tenant_a, Role.ADVERTISER))
    client.post(url("source_refresh", tenant_a, source_id=source.pk))
    FeedRun.objects.for_tenant(tenant_a).update(status=RunStatus.SUCCEEDED)
    response = client.post(url("source_refresh", tenant_a, source_id=source.pk), follow=True)
    assert "you can request data again in" in response.content.decode()
    assert FeedRun.objects.for_tenant(tenant_a).count() == 1


def test_broker_down_says_refresh_not_queued(
    client, member, tenant_a, catalog, fs, dead_broker, django_capture_on_commit_callbacks
):
    source = ProductSourceFactory(catalog=catalog)
    client.force_login(member(tenant_a, Role.ADVERTISER))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("source_refresh", tenant_a, source_id=source.pk))
    run = FeedRun.objects.for_tenant(tenant_a).get()
    assert run.status == RunStatus.FAILED and run.error_code == "queue"
    page = client.get(response["Location"]).content.decode()
    assert "could not be queued" in page


def test_run_page_progress_errors_and_diff(client, member, tenant_a, catalog):
    run = FeedRunFactory(source__catalog=catalog, received=3, created=1, rejected=1)
    FeedRowErrorFactory(run=run, line=4, sku='=HYPERLINK("http://x")', message="bad <b>")
    FeedRunChangeFactory(run=run, sku="A1", changes={"title": ["<i>old</i>", "new"]})
    client.force_login(member(tenant_a, Role.VIEWER))
    body = client.get(url("run_detail", tenant_a, run_id=run.pk)).content.decode()
    assert "&lt;i&gt;old&lt;/i&gt;" in body and "<i>old</i>" not in body
    assert "bad &lt;b&gt;" in body
    progress = client.get(url("run_progress", tenant_a, run_id=run.pk)).json()
    assert progress["status"] == "succeeded" and progress["counts"]["created"] == 1
    response = client.get(url("run_errors_csv", tenant_a, run_id=run.pk))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["line", "sku", "field", "severity", "message"]
    assert rows[1][1] == '\'=HYPERLINK("http://x")'  # formula neutralised


def test_run_page_uses_fixed_number_of_queries(
    client, member, tenant_a, catalog, django_assert_max_num_queries
):
    run = FeedRunFactory(source__catalog=catalog)
    client.force_login(member(tenant_a, Role.VIEWER))
    client.get(url("run_detail", tenant_a, run_id=run.pk))  # stores the tenant in the session
    counts = []
    for n in (1, 40):
        FeedRunChangeFactory.create_batch(n, run=run)
        FeedRowErrorFactory.create_batch(n, run=run)
        with CaptureQueriesContext(connection) as q:
            assert client.get(url("run_detail", tenant_a, run_id=run.pk)).status_code == 200
        counts.append(len(q))
    assert counts[0] == counts[1], counts


def test_source_list_uses_fixed_number_of_queries(client, member, tenant_a, catalog):
    client.force_login(member(tenant_a, Role.VIEWER))
    client.get(url("source_list", tenant_a))  # stores the tenant in the session
    counts = []
    for n in (1, 20):
        for _ in range(n):
            FeedRunFactory(source=ProductSourceFactory(catalog=catalog))
        with CaptureQueriesContext(connection) as q:
            assert client.get(url("source_list", tenant_a)).status_code == 200
        counts.append(len(q))
    assert counts[0] == counts[1], counts


def test_confirm_held_run_from_page(client, member, tenant_a, catalog):
    run = FeedRunFactory(
        source__catalog=catalog,
        status=RunStatus.NEEDS_CONFIRMATION,
        removed=7,
        error_message="would remove 7",
    )
    client.force_login(member(tenant_a, Role.VIEWER))
    assert client.post(url("run_confirm", tenant_a, run_id=run.pk)).status_code == 403
    client.force_login(member(tenant_a, Role.ADVERTISER))
    body = client.get(url("run_detail", tenant_a, run_id=run.pk)).content.decode()
    assert "Apply and remove 7 products" in body
    client.post(url("run_confirm", tenant_a, run_id=run.pk), {"action": "discard"})
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED


def test_upload_page_runs_pipeline(client, member, tenant_a, catalog, fs):
    from django.core.files.uploadedfile import SimpleUploadedFile

    source = ProductSourceFactory(catalog=catalog, kind="upload")
    client.force_login(member(tenant_a, Role.ADVERTISER))
    f = SimpleUploadedFile("feed.csv", b"id,title,price\n1,Hat,5 USD\n")
    response = client.post(url("source_upload", tenant_a, source_id=source.pk), {"file": f})
    run = FeedRun.objects.for_tenant(tenant_a).get()
    assert response["Location"] == url("run_detail", tenant_a, run_id=run.pk)
    run = services.feed_run_execute(tenant_id=tenant_a.pk, run_id=run.pk)
    assert run.status == RunStatus.SUCCEEDED and run.created == 1


def test_freshness_warning_on_tab(client, member, tenant_a, catalog):
    ProductSourceFactory(catalog=catalog)
    client.force_login(member(tenant_a, Role.VIEWER))
    body = client.get(url("catalog_sources", tenant_a, catalog_id=catalog.pk)).content.decode()
    assert "never been refreshed" in body and "before running campaigns" in body


def test_delete_source_keeps_products(client, member, tenant_a, catalog):
    from catalogs.tests.factories import ProductFactory

    source = ProductSourceFactory(catalog=catalog)
    ProductFactory(catalog=catalog, tenant=tenant_a)
    client.force_login(member(tenant_a, Role.ADVERTISER))
    page = client.get(url("source_detail", tenant_a, source_id=source.pk)).content.decode()
    assert "Yes, delete" in page
    response = client.post(url("source_detail", tenant_a, source_id=source.pk), {"delete": "1"})
    assert response.status_code == 302
    assert not ProductSource.objects.for_tenant(tenant_a).exists()
    assert catalog.products.count() == 1


def test_a_run_holding_one_removal_says_one_product(client, member, tenant_a, catalog, fs):
    """A one-product catalog replaced by a feed of other products: the page offered to
    "Apply and remove 1 products" after "would remove 1 of the catalog's 1 products"."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    source = ProductSourceFactory(catalog=catalog, kind="upload")
    user = member(tenant_a, Role.ADVERTISER)
    for rows in (b"A\tCap\t3 USD\n", b"B\tHat\t4 USD\nC\tScarf\t5 USD\n"):
        upload = SimpleUploadedFile("feed.tsv", b"id\ttitle\tprice\n" + rows)
        run, _ = services.feed_run_upload(
            tenant=tenant_a, source=source, actor=user, uploaded=upload
        )
        run = services.feed_run_execute(tenant_id=tenant_a.pk, run_id=run.pk)
    assert run.status == RunStatus.NEEDS_CONFIRMATION, run.error_message
    client.force_login(user)
    page = client.get(url("run_detail", tenant_a, run_id=run.pk)).content.decode()
    assert "Apply and remove 1 product<" in page
    assert "would remove 1 of the catalog&#x27;s 1 product (" in page
    assert "1 products" not in page


def test_the_source_form_names_the_time_zone_of_its_schedule(client, member, tenant_a, catalog):
    """The schedule time is read in the tenant's time zone; the form said "the tenant's
    time zone" and never which one, on the add form and on a source's page alike."""
    tenant_a.time_zone = "Europe/Berlin"
    tenant_a.save()
    client.force_login(member(tenant_a, Role.ADVERTISER))
    source = ProductSourceFactory(catalog=catalog)
    for page in (
        url("catalog_sources", tenant_a, catalog_id=catalog.pk) + "?new=1",
        url("source_detail", tenant_a, source_id=source.pk),
    ):
        body = client.get(page).content.decode()
        assert "HH:MM in Europe/Berlin" in body, page


@pytest.mark.django_db(transaction=True)  # the enqueue runs when the confirmation commits
def test_a_confirmation_the_queue_never_got_leaves_the_run_held(
    client, member, tenant_a, catalog, fs, tmp_path, dead_broker
):
    """Confirmed while the task queue is down: the page said "Confirmed: the run is applying
    the feed." and the run ended failed, with nothing left to confirm. It stays held, and
    the page says to confirm again."""
    held = held_import_run(tenant=tenant_a, catalog=catalog, path=tmp_path / "feed.csv")
    client.force_login(member(tenant_a, Role.ADVERTISER))
    form = {"action": "confirm", "removal_digest": held.held_removals_digest}
    response = client.post(url("run_confirm", tenant_a, run_id=held.pk), form)
    held.refresh_from_db()
    assert held.status == RunStatus.NEEDS_CONFIRMATION and held.confirmed_at is None
    page = client.get(response["Location"]).content.decode()
    assert "Confirmed: the run is applying" not in page
    assert "could not be queued" in page and "confirm again in a minute" in page
    assert "would remove 8 of the catalog" in page  # the hold's own message stays
    assert "Apply and remove 8 products" in page  # and it can be confirmed again


def test_what_changed_lists_products_by_sku_on_every_page(client, member, tenant_a, catalog):
    run = FeedRunFactory(source__catalog=catalog)
    # recorded in the order the feed had them, which a seller cannot follow
    recorded = ["SKU-1-01047", "SKU-1-00103", "SKU-1-01049"]
    recorded += [f"SKU-1-{n:05d}" for n in range(2000, 1970, -1)]
    for i, sku in enumerate(recorded):
        FeedRunChangeFactory(run=run, sku=sku, kind="created" if i % 3 else "updated")
    client.force_login(member(tenant_a, Role.VIEWER))

    def listed(query: dict) -> list[str]:
        skus, cursor = [], None
        while True:
            page = client.get(
                url("run_detail", tenant_a, run_id=run.pk),
                {**query, **({"cursor": cursor} if cursor else {})},
            ).context["page"]
            skus += [ch.sku for ch in page.rows]
            if not (cursor := page.next_cursor):
                return skus

    assert listed({}) == sorted(recorded)
    created = [s for i, s in enumerate(recorded) if i % 3]
    assert listed({"kind": "created"}) == sorted(created)


@pytest.mark.parametrize(
    ("rejected", "warnings", "red", "yellow"),
    [(0, 0, False, False), (2, 0, True, False), (0, 5, False, True)],
)
def test_only_a_count_above_zero_looks_alarming(
    client, member, tenant_a, catalog, rejected, warnings, red, yellow
):
    run = FeedRunFactory(source__catalog=catalog, rejected=rejected, warnings=warnings)
    client.force_login(member(tenant_a, Role.VIEWER))
    body = client.get(url("run_detail", tenant_a, run_id=run.pk)).content.decode()
    rejected_tag = body.split('data-count="rejected"')[0].rsplit("<div", 1)[1]
    warnings_tag = body.split('data-count="warnings"')[0].rsplit("<div", 1)[1]
    assert ("text-danger" in rejected_tag) is red
    assert ("text-warning-emphasis" in warnings_tag) is yellow


def test_the_run_page_names_its_number_and_the_id_of_its_address(
    client, member, tenant_a, tenant_b, catalog
):
    FeedRunFactory(source__catalog=catalog)
    FeedRunFactory(source__catalog__tenant=tenant_b)  # another tenant's run takes an id
    run = FeedRunFactory(source__catalog=catalog)
    assert (run.number, run.pk - 1) != (run.pk, run.number)  # #2 at an id that is not 2
    client.force_login(member(tenant_a, Role.VIEWER))
    body = client.get(url("run_detail", tenant_a, run_id=run.pk)).content.decode()
    assert f"Run #{run.number}</h1>" in body
    note = body.split('id="run-id"', 1)[1].split("</", 1)[0]
    assert f"id {run.pk}" in note and "address" in note
