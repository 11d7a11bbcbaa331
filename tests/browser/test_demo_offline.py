"""Issue 21, item 2: the demo refreshes offline.

`seed_demo` points the demo's sources at the demo's own feed server (feeds.demo_server on
127.0.0.1, as scripts/demo.sh starts it) and its product images at a local placeholder. Then,
in the browser, the advertiser's Request Data Now on "Daily feed" and on the password-protected
"Supplier feed" go through the real pipeline (run in the test process) and succeed, and no page
asks anything of a host other than the demo's own.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from catalog_health.tenancy.models import Tenant
from feeds import services
from feeds.demo_server import DEMO_FEED_PASSWORD, DEMO_FEED_USER
from feeds.models import FeedRun, ProductSource, RunStatus, Schedule, Trigger

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _run_last_manual(tenant) -> FeedRun:
    run = FeedRun.objects.for_tenant(tenant).filter(trigger=Trigger.MANUAL).latest("id")
    return services.feed_run_execute(tenant_id=tenant.pk, run_id=run.pk)


def test_demo_request_data_now_works_offline(demo, page, live_server, login, screenshot):
    hosts: set[str] = set()
    page.on("request", lambda r: hosts.add(urlsplit(r.url).hostname or ""))
    acme = Tenant.objects.get(slug="acme")
    daily = ProductSource.objects.for_tenant(acme).filter(name="Daily feed").order_by("id")[0]
    assert daily.schedule == Schedule.DAILY and daily.enabled and daily.next_pull_at
    assert daily.url.startswith(demo.base_url)

    login("advertiser", "catalog-demo")
    page.goto(f"{live_server.url}/t/acme/catalogs/{daily.catalog_id}/")
    thumbs = page.locator("img.product-thumb")
    expect(thumbs.first).to_be_visible()
    assert page.evaluate("document.querySelector('img.product-thumb').naturalWidth") > 0

    page.goto(f"{live_server.url}/t/acme/catalogs/{daily.catalog_id}/sources/")
    screenshot("issue21-2-demo-sources")
    row = page.locator("tr", has_text="Daily feed")
    row.locator("a, button", has_text="Request Data Now").click()  # no password: straight in
    page.wait_for_url("**/runs/**")
    run = _run_last_manual(acme)
    assert run.status in (RunStatus.SUCCEEDED, RunStatus.UNCHANGED), run.error_message
    page.reload()
    expect(page.locator("#run-status [data-run-status]")).to_have_attribute(
        "data-run-status", run.status
    )

    # the password-protected feed: a prompt, a wrong password, then the right one
    page.goto(f"{live_server.url}/t/acme/catalogs/{daily.catalog_id}/sources/")
    row = page.locator("tr", has_text="Supplier feed (password)")
    row.locator("a, button", has_text="Request Data Now").click()
    expect(page.get_by_text(f"Password for user {DEMO_FEED_USER}")).to_be_visible()
    page.fill("#id_password", "not it")
    page.get_by_role("button", name="Request Data Now").click()
    page.wait_for_url("**/runs/**")
    assert _run_last_manual(acme).error_code == "http_401"
    page.go_back()
    page.reload()
    page.fill("#id_password", DEMO_FEED_PASSWORD)
    page.get_by_role("button", name="Request Data Now").click()
    page.wait_for_url("**/runs/**")
    run = _run_last_manual(acme)
    assert run.status in (RunStatus.SUCCEEDED, RunStatus.UNCHANGED), run.error_message
    page.reload()
    screenshot("issue21-2-demo-password-run")
    assert hosts <= {"127.0.0.1", "localhost"}, hosts  # nothing from outside: offline
