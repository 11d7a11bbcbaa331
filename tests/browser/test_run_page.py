"""Issue 21, item 6: the run page.

The badge and the phase bar say the same thing (one source: the run's state, polled), a
failed run leads with its error and the two ways out (Retry, Edit source) instead of empty
panels, and a long diff is a compact table of field: old → new, collapsed past a few fields
per product, paged, with every change in a CSV.
"""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import expect

from catalog_health.tenancy.roles import Role
from catalogs.tests.factories import CatalogFactory
from feeds.models import FeedRun, FeedRunChange
from feeds.tests.factories import FeedRunFactory, ProductSourceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def advertiser(member, tenant_a, login):
    user = member(tenant_a, Role.ADVERTISER, username="ada")
    user.set_password("pw-ada-1")
    user.save()
    login("ada", "pw-ada-1")
    return user


@pytest.fixture
def source(tenant_a):
    catalog = CatalogFactory(tenant=tenant_a, name="Garden")
    return ProductSourceFactory(catalog=catalog, name="Daily feed")


def run_url(live_server, run) -> str:
    return f"{live_server.url}/t/{run.tenant.slug}/runs/{run.pk}/"


def test_badge_and_phase_bar_agree_while_the_run_moves(
    page, live_server, screenshot, advertiser, source
):
    run = FeedRunFactory(source=source, status="running", phase="fetching")
    page.goto(run_url(live_server, run))
    badge = page.locator("#run-status [data-run-status]")
    expect(badge).to_have_text("Fetching")
    expect(page.locator('#run-phases [data-phase="fetching"]')).to_have_class(
        "list-inline-item fw-bold"
    )
    screenshot("issue21-6-badge-fetching", full_page=False)

    FeedRun.objects.filter(pk=run.pk).update(phase="parsing")
    expect(badge).to_have_text("Parsing")
    expect(page.locator('#run-phases [data-phase="parsing"]')).to_have_class(
        "list-inline-item fw-bold"
    )

    FeedRun.objects.filter(pk=run.pk).update(status="queued", phase="queued")
    expect(badge).to_have_text("Queued")


def test_a_failed_run_leads_with_its_error_retry_and_edit(
    page, live_server, screenshot, advertiser, source
):
    run = FeedRunFactory(
        source=source,
        status="failed",
        error_code="network",
        error_message="The feed server could not be reached (DNS error).",
    )
    page.goto(run_url(live_server, run))
    alert = page.locator("#run-failed")
    expect(alert).to_contain_text("The feed server could not be reached")
    expect(alert.get_by_role("button", name="Retry")).to_be_visible()
    expect(alert.get_by_role("link", name="Edit source")).to_be_visible()
    for empty in ("#run-counts", "#row-errors", "#run-diff"):
        expect(page.locator(empty)).to_have_count(0)
    screenshot("issue21-6-failed-run")

    alert.get_by_role("link", name="Edit source").click()
    expect(page).to_have_url(f"{live_server.url}/t/{run.tenant.slug}/sources/{source.pk}/#settings")


def test_a_long_diff_is_a_compact_paged_table_with_a_csv(
    page, live_server, screenshot, advertiser, source
):
    run = FeedRunFactory(source=source, updated=60)
    for i in range(60):
        FeedRunChange.objects.create(
            tenant=run.tenant,
            run=run,
            kind="updated",
            sku=f"SKU{i:03d}",
            changes={
                "title": [f"Shirt {i}", f"Shirt {i} (new)"],
                "price": ["10.00", "12.00"],
                "custom_attributes": [
                    {"color": "Red", "size": "M"},
                    {"color": "Navy", "size": "L"},
                ],
                "brand": ["A", "B"],
                "availability": ["in stock", "out of stock"],
            },
        )
    page.goto(run_url(live_server, run))
    table = page.locator("#run-changes")
    text = table.inner_text()
    assert "{'" not in text and "['" not in text  # no Python reprs
    expect(table.locator("tr[data-change]")).to_have_count(20)  # paged
    expect(table.locator("details.diff-more").first).to_contain_text("3 more fields")
    expect(table.locator('tr[data-change="SKU000"]')).to_contain_text("Shirt 0 → Shirt 0 (new)")
    height = page.evaluate("document.documentElement.scrollHeight")
    print(f"run page with 20 products of 5 changed fields: {height} px")
    assert height < 3500, height  # one table row per field: ~13,500 px for 63 of them
    screenshot("issue21-6-diff")

    table.locator("details.diff-more summary").first.click()
    expect(table.locator('tr[data-change="SKU000"]')).to_contain_text("custom_attributes › color")
    expect(table.locator('tr[data-change="SKU000"]')).to_contain_text("Red → Navy")

    with page.expect_download() as dl:
        page.get_by_role("link", name="Download all changes (CSV)").click()
    with open(dl.value.path(), encoding="utf-8") as fh:
        rows = list(csv.reader(io.StringIO(fh.read())))
    assert rows[0] == ["change", "sku", "field", "old", "new"]
    assert len(rows) == 1 + 60 * 6  # the color and size of each product are two rows
    assert ["updated", "SKU059", "custom_attributes › color", "Red", "Navy"] in rows

    page.get_by_role("link", name="Next page").click()
    expect(page.locator("#run-changes tr[data-change]")).to_have_count(20)
    page.get_by_role("link", name="Next page").click()
    expect(page.locator("#run-changes tr[data-change]")).to_have_count(20)
    expect(page.get_by_role("link", name="Next page")).to_have_count(0)
