"""A download that cannot be proven complete, seen in a real browser: the run page says the
removals are held and why, and its confirm button carries the removal set it shows."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from catalog_health.tenancy.roles import Role
from catalogs.tests.factories import CatalogFactory
from feeds import services
from feeds.models import FeedSettings, RunStatus, Schedule
from feeds.tests.factories import ProductSourceFactory
from feeds.tests.feedserver import FeedServer, body, unframed

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADER = "id,title,description,link,image_link,price,availability,brand\n"


def feed(n: int, version: int = 1) -> bytes:
    return (
        HEADER
        + "".join(
            f"S{i:05d},Product {i} v{version},Desc,https://s.example/{i},"
            f"https://s.example/{i}.jpg,10.00 USD,in stock,B\n"
            for i in range(n)
        )
    ).encode()


def test_the_run_page_holds_removals_of_an_unproven_download(
    page, live_server, login, screenshot, member, tenant_a, settings
):
    settings.FEEDS_FETCH_ALLOW_LIST = ["127.0.0.0/8"]
    FeedSettings.objects.update_or_create(pk=1, defaults={"manual_refresh_min_seconds": 0})
    user = member(tenant_a, Role.ADVERTISER, username="ada")
    server = FeedServer()
    try:
        catalog = CatalogFactory(tenant=tenant_a)
        server.routes["/f.csv"] = body(feed(10))
        source = ProductSourceFactory(
            catalog=catalog, url=server.url("/f.csv"), format="csv", schedule=Schedule.MANUAL
        )
        for data in (feed(10), unframed(feed(10, version=2), cut_at=len(feed(7, version=2)))):
            server.routes["/f.csv"] = body(data) if isinstance(data, bytes) else data
            run, _ = services.feed_run_request(tenant=tenant_a, source=source, actor=user)
            run = services.feed_run_execute(tenant_id=tenant_a.pk, run_id=run.pk)
    finally:
        server.close()
    assert run.status == RunStatus.NEEDS_CONFIRMATION

    login("ada", "pw-ada")
    path = reverse("feeds:run_detail", kwargs={"tenant_slug": tenant_a.slug, "run_id": run.pk})
    page.goto(f"{live_server.url}{path}")
    expect(page.get_by_text("Removals held: the download may be incomplete.")).to_be_visible()
    expect(page.locator("#hold-message")).to_contain_text("cannot be proven complete")
    screenshot("run-held-removals")
    page.get_by_role("button", name="Remove 3 products").click()
    page.wait_for_load_state()
    run.refresh_from_db()
    assert run.status == RunStatus.QUEUED and run.confirmed_by_id == user.pk
