"""Issue 21, item 1: a mistyped feed password does not lock Request Data Now, and the
catalog's banners are not repeated.

The run is executed in the test process (the same pipeline a worker runs) against a loopback
feed server behind Basic auth.
"""

from __future__ import annotations

import base64

import pytest
from playwright.sync_api import expect

from catalog_health.tenancy.roles import Role
from catalogs.tests.factories import CatalogFactory
from feeds import services
from feeds.models import FeedRun, FeedSettings, RunStatus, Trigger
from feeds.tests.factories import ProductSourceFactory
from feeds.tests.feedserver import FeedServer, send

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FEED = b"id,title,price,availability\nA1,Tent,10.00 USD,in stock\n"


@pytest.fixture
def feed_server(settings):
    settings.FEEDS_FETCH_ALLOW_LIST = ["127.0.0.0/8"]
    server = FeedServer()
    good = "Basic " + base64.b64encode(b"shop:right").decode()

    def handler(h) -> None:
        if h.headers.get("Authorization") != good:
            send(h, 401, b"no", WWW_Authenticate='Basic realm="feed"')
        else:
            send(h, 200, FEED, Content_Type="text/csv")

    server.routes["/feed.csv"] = handler
    yield server
    server.close()


def _execute_last(tenant) -> FeedRun:
    run = FeedRun.objects.for_tenant(tenant).filter(trigger=Trigger.MANUAL).latest("id")
    return services.feed_run_execute(tenant_id=tenant.pk, run_id=run.pk)


def test_wrong_password_then_right_one_without_cooldown(
    page, live_server, login, screenshot, member, tenant_a, feed_server
):
    user = member(tenant_a, Role.ADVERTISER, username="ada")
    user.set_password("pw-ada-1")
    user.save()
    fs = FeedSettings.load()
    fs.manual_refresh_min_seconds = 300  # a real cooldown: a pull must start it, a 401 not
    fs.save()
    catalog = CatalogFactory(tenant=tenant_a, name="Garden")
    source = ProductSourceFactory(
        catalog=catalog, name="Locked feed", url=feed_server.url("/feed.csv"), username="shop"
    )
    login("ada", "pw-ada-1")
    refresh = f"{live_server.url}/t/{tenant_a.slug}/sources/{source.pk}/refresh/"

    page.goto(refresh)
    page.fill("#id_password", "wrnog")
    page.get_by_role("button", name="Request Data Now").click()
    page.wait_for_url("**/runs/**")
    assert _execute_last(tenant_a).status == RunStatus.FAILED

    # Typed again, right this time: a new run, no "request data again in … s".
    page.goto(refresh)
    page.fill("#id_password", "right")
    page.get_by_role("button", name="Request Data Now").click()
    page.wait_for_url("**/runs/**")
    assert "request data again" not in page.content()
    assert _execute_last(tenant_a).status == RunStatus.SUCCEEDED
    assert FeedRun.objects.for_tenant(tenant_a).filter(trigger=Trigger.MANUAL).count() == 2

    # A real pull did start the cooldown: the page says so, once.
    page.goto(refresh)
    page.fill("#id_password", "right")
    page.get_by_role("button", name="Request Data Now").click()
    expect(page.get_by_text("request data again in")).to_have_count(1)
    screenshot("issue21-1-cooldown-after-a-pull")


def test_banners_are_not_repeated_and_wrong_passwords_have_their_own_limit(
    page, live_server, login, screenshot, member, tenant_a, feed_server
):
    user = member(tenant_a, Role.ADVERTISER, username="ada")
    user.set_password("pw-ada-1")
    user.save()
    catalog = CatalogFactory(tenant=tenant_a, name="Garden")
    source = ProductSourceFactory(
        catalog=catalog, name="Locked feed", url=feed_server.url("/feed.csv"), username="shop"
    )
    login("ada", "pw-ada-1")
    refresh = f"{live_server.url}/t/{tenant_a.slug}/sources/{source.pk}/refresh/"
    for _ in range(services.WRONG_PASSWORD_LIMIT):
        page.goto(refresh)
        page.fill("#id_password", "wrong")
        page.get_by_role("button", name="Request Data Now").click()
        page.wait_for_url("**/runs/**")
        assert _execute_last(tenant_a).status == RunStatus.FAILED
    page.goto(refresh)
    page.fill("#id_password", "wrong again")
    page.get_by_role("button", name="Request Data Now").click()
    expect(page.locator(".invalid-feedback")).to_contain_text("5 wrong passwords")
    screenshot("issue21-1-wrong-password-limit")

    page.goto(f"{live_server.url}/t/{tenant_a.slug}/catalogs/{catalog.pk}/sources/")
    expect(page.get_by_text("never been refreshed")).to_have_count(1)
    assert page.locator(".alert-warning").count() == 1
    screenshot("issue21-1-sources-one-banner")
