"""Journey 3, in a real browser with a real Celery worker: Request Data Now on a feed behind
a password.

A local HTTP server on 127.0.0.1 (started by the test) serves a CSV feed behind Basic auth,
slowly enough that the run page's progress visibly moves. The advertiser first types a wrong
password: the run fails with a clear error and the catalog is untouched. Then the right one:
the run goes through the Redis broker to the worker, the page follows its progress and shows
its counts.
"""

from __future__ import annotations

import base64
import contextlib
import time

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from catalog_health.tenancy.roles import Role
from catalogs.models import Product
from catalogs.tests.factories import CatalogFactory
from feeds import services
from feeds.models import FeedRun, FeedSettings, RunStatus, Trigger
from feeds.tests.factories import ProductSourceFactory
from feeds.tests.feedserver import FeedServer, send

pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "advertiser-pass-3"
FEED_USER = "shop-feed"
FEED_PASSWORD = "correct horse battery staple"
HEADER = "id,title,description,link,image_link,price,availability,brand\n"


def feed_csv(n: int, renamed: dict[str, str] | None = None) -> bytes:
    renamed = renamed or {}
    lines = []
    for i in range(n):
        sku = f"S{i:05d}"
        title = renamed.get(sku, f"Product {i}")
        lines.append(
            f"{sku},{title},Desc,https://s.example/{sku},https://s.example/{sku}.jpg,"
            "10.00 USD,in stock,Brand"
        )
    return (HEADER + "\n".join(lines) + "\n").encode()


def basic_auth_slow(data: bytes, *, user: str, password: str, chunks: int, pause: float):
    """200 with the feed, sent in `chunks` pieces `pause` seconds apart, for the right
    credentials; 401 otherwise."""
    expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    def handler(h) -> None:
        if h.headers.get("Authorization") != expected:
            send(h, 401, b"unauthorized", WWW_Authenticate='Basic realm="feed"')
            return
        h.send_response(200)
        h.send_header("Content-Type", "text/csv")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        size = -(-len(data) // chunks)
        for start in range(0, len(data), size):
            h.wfile.write(data[start : start + size])
            h.wfile.flush()
            time.sleep(pause)

    return handler


@pytest.fixture
def feed_server(settings, monkeypatch):
    """The loopback feed server, allowed in the SSRF allow-list of this process and (through
    the environment) of the worker process the test starts afterwards."""
    settings.FEEDS_FETCH_ALLOW_LIST = ["127.0.0.0/8"]
    monkeypatch.setenv("FEEDS_FETCH_ALLOW_LIST", "127.0.0.0/8")
    server = FeedServer()
    yield server
    server.close()


def seed_catalog(tenant, feed_server):
    """A catalog whose 5 products came from an earlier upload of the same source."""
    catalog = CatalogFactory(tenant=tenant, name="Outdoor shop")
    source = ProductSourceFactory(
        catalog=catalog,
        name="Supplier feed",
        url=feed_server.url("/feed.csv"),
        username=FEED_USER,
    )
    path = services.upload_path_for("first.csv")
    with open(path, "wb") as fh:
        fh.write(feed_csv(5))
    run, _ = services.feed_run_request(
        tenant=tenant,
        source=source,
        actor=None,
        trigger=Trigger.UPLOAD,
        file_path=path,
        file_name="first.csv",
    )
    assert services.feed_run_execute(tenant_id=tenant.pk, run_id=run.pk).status == "succeeded"
    return catalog, source


def catalog_snapshot(catalog):
    return sorted(
        Product.objects.for_tenant(catalog.tenant_id)
        .filter(catalog=catalog)
        .values_list("sku", "title", "price", "removed_at", "content_hash")
    )


def wait_finished(page, timeout_s: float = 45) -> list[tuple[str, str]]:
    """Watch the run page until it has reloaded with a final status; return the distinct
    (progress text, bar width) pairs seen while the run was active."""
    seen: list[tuple[str, str]] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        # The page reloads itself when the run ends: a read can hit the navigation.
        with contextlib.suppress(PlaywrightError):
            status = page.locator("[data-run-status]").first.get_attribute("data-run-status")
            if status not in ("queued", "running") and not page.is_visible("#run-progress"):
                return seen
            sample = (
                page.locator("#run-progress-text").inner_text(),
                page.locator("#run-bar").get_attribute("style") or "",
            )
            if not seen or seen[-1] != sample:
                seen.append(sample)
        time.sleep(0.1)
    raise AssertionError(f"the run did not finish in {timeout_s} s; seen {seen}")


def test_request_data_now_with_password_progress_counts_and_wrong_password(
    request, page, live_server, login, screenshot, member, tenant_a, feed_server
):
    user = member(tenant_a, Role.ADVERTISER, username="adrian")
    user.set_password(PASSWORD)
    user.save()
    fs = FeedSettings.load()
    fs.manual_refresh_min_seconds = 0  # two requests in a row in this test
    fs.save()
    catalog, source = seed_catalog(tenant_a, feed_server)
    before = catalog_snapshot(catalog)
    assert len(before) == 5
    # 30 products: S00000-S00004 already there (S00001 renamed), 25 new; ~3 s to download.
    feed_server.routes["/feed.csv"] = basic_auth_slow(
        feed_csv(30, renamed={"S00001": "Product 1 now in blue"}),
        user=FEED_USER,
        password=FEED_PASSWORD,
        chunks=8,
        pause=0.5,
    )
    worker = request.getfixturevalue("celery_worker_process")  # purges the queue, then starts

    login("adrian", PASSWORD)
    page.get_by_role("link", name="Product sources").first.click()
    page.get_by_role("link", name="Request Data Now").click()
    # The password prompt: no password is stored for this source.
    expect(page.get_by_text(f"Password for user {FEED_USER}")).to_be_visible()
    screenshot("journey3-1-password-prompt")

    # A wrong password: the run fails with a clear error, the catalog is untouched.
    page.fill("#id_password", "wrong password")
    page.get_by_role("button", name="Request Data Now").click()
    page.wait_for_url("**/runs/**")
    wait_finished(page)
    failed = FeedRun.objects.for_tenant(tenant_a).filter(trigger=Trigger.MANUAL).get()
    assert failed.status == RunStatus.FAILED, worker()
    alert = page.locator(".alert-danger").inner_text()
    assert "refused the username/password (HTTP 401)" in alert
    assert "The catalog was not changed." in alert
    expect(page.locator('[data-run-status="failed"]')).to_be_visible()
    screenshot("journey3-2-wrong-password-failed")
    assert catalog_snapshot(catalog) == before
    assert not failed.one_time_password_encrypted  # the typed password is not kept
    source.refresh_from_db()
    assert not source.password_encrypted  # nor remembered (the box was not ticked)

    # The right password: progress moves while the worker downloads and applies the feed.
    page.get_by_role("link", name="Supplier feed").click()
    page.get_by_role("link", name="Request Data Now").click()
    page.fill("#id_password", FEED_PASSWORD)
    page.get_by_role("button", name="Request Data Now").click()
    page.wait_for_url("**/runs/**")
    page.wait_for_selector("text=downloaded")
    expect(page.locator("#run-progress-text")).to_contain_text("Fetching", timeout=20_000)
    screenshot("journey3-3-progress")
    seen = wait_finished(page)
    texts = [t for t, _ in seen]
    assert any("Fetching" in t for t in texts), seen
    downloaded = {t.split(" · ")[-1] for t in texts if "Fetching" in t}
    assert len(downloaded) >= 2, seen  # the downloaded size moved while fetching
    assert all(w != "width: 5%;" for _, w in seen), seen  # the bar left its start

    ok = FeedRun.objects.for_tenant(tenant_a).filter(trigger=Trigger.MANUAL).latest("id")
    assert ok.status == RunStatus.SUCCEEDED, (ok.error_message, worker())
    expect(page.locator('[data-run-status="succeeded"]')).to_be_visible()
    counts = {
        key: page.locator(f'[data-count="{key}"]').inner_text()
        for key in ("received", "created", "updated", "unchanged", "removed", "rejected")
    }
    assert counts == {
        "received": "30",
        "created": "25",
        "updated": "1",
        "unchanged": "4",
        "removed": "0",
        "rejected": "0",
    }
    # the diff is paged (20 products a page, created ones first here): the Updated filter
    page.locator("#run-diff").get_by_role("link", name="Updated").click()
    assert "Product 1 now in blue" in page.locator("#run-changes").inner_text()
    screenshot("journey3-4-run-succeeded-counts", full_page=False)
    assert len(catalog_snapshot(catalog)) == 30
    assert worker().count("Task feeds.pull[") >= 2  # both runs went through the broker
