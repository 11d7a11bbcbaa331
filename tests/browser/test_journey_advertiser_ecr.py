"""Journey 2, in a real browser: an advertiser turns ECR back on.

A feed run's review left 6 of 20 products Unavailable (price 0): 70% Available, under the
80% disable threshold, so ECR is off. The advertiser sees the banner with the ratio and the
thresholds, opens Diagnostics, follows the price issue to its products, fixes four of them on
the product page; the standard review queue (run here as its beat task would) reviews them and
ECR comes back on: the banner is gone and the ECR page says Enabled.
"""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from catalog_health.tenancy.roles import Role
from catalogs.models import Product, ReviewStatus
from ecr import services, tasks
from ecr.models import CatalogEcrState, EcrEvent
from ecr.tests.factories import CatalogFactory, PendingProductFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "advertiser-pass-1"


def build_catalog_with_ecr_off(tenant):
    catalog = CatalogFactory(tenant=tenant, name="Outlet")
    PendingProductFactory.create_batch(14, catalog=catalog, tenant=tenant)
    PendingProductFactory.create_batch(6, catalog=catalog, tenant=tenant, price=Decimal("0"))
    review = services.review_after_feed_run(tenant=tenant, catalog=catalog)
    assert (review.available, review.unavailable) == (14, 6)
    assert review.ecr_changed and not review.ecr_enabled
    return catalog


def test_advertiser_fixes_products_and_ecr_comes_back(
    page, live_server, login, screenshot, member, tenant_a
):
    user = member(tenant_a, Role.ADVERTISER, username="ada")
    user.set_password(PASSWORD)
    user.save()
    catalog = build_catalog_with_ecr_off(tenant_a)

    login("ada", PASSWORD)
    page.get_by_role("link", name="Catalogs").first.click()
    page.get_by_role("link", name="Outlet").first.click()
    banner = page.locator("#ecr-banner")
    text = " ".join(banner.inner_text().split())
    assert "Enhanced Catalog Review (ECR) is disabled" in text
    assert "Only 70% of its active products are Available (14 of 20)" in text
    assert "turns off below 80%" in text and "back on at 90%" in text
    assert "fix at least 4" in text
    screenshot("journey2-1-catalog-ecr-off-banner")

    # Diagnostics: the price issue, its products, a Fix link per product.
    banner.get_by_role("link", name="Open Diagnostics").click()
    errors = page.locator("table.issue-groups").first
    price_row = errors.locator("tbody tr").filter(has_text="price")
    assert price_row.count() == 1
    assert price_row.locator("td").nth(1).inner_text().strip() == "6"
    screenshot("journey2-2-diagnostics")
    price_row.get_by_role("link", name="Products").click()
    fix_links = page.locator("#issue-products").get_by_role("link", name="Fix")
    assert fix_links.count() == 6
    screenshot("journey2-3-products-with-issue")
    hrefs = [fix_links.nth(i).get_attribute("href") for i in range(4)]

    # Fix four of them on the product page (a price above zero).
    for n, href in enumerate(hrefs):
        page.goto(live_server.url + href)
        assert page.locator("#product-issues").is_visible()
        page.fill("#id_price", f"{19 + n}.99")
        if n == 0:
            screenshot("journey2-4-product-page-before-fix")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_text("Product saved.")).to_be_visible()
    fixed = Product.objects.for_tenant(tenant_a).filter(catalog=catalog, price__gt=0)
    assert fixed.count() == 18
    # ECR is off: the edits wait in the standard review queue, the banner stays.
    assert fixed.filter(review_status=ReviewStatus.PENDING).count() == 4
    assert "changed since and waits for review" in page.locator("#product-issues").inner_text()
    text = " ".join(page.locator("#ecr-banner").inner_text().split())
    assert "2 products are Unavailable and 4 wait for review" in text
    assert "ECR turns back on once at least 4 more are Available" in text
    screenshot("journey2-5-product-saved-waiting-for-review")

    # The standard review queue runs (beat's ecr-review-queue task, every minute).
    assert tasks.review_queue_drain() == 4
    state = CatalogEcrState.objects.for_tenant(tenant_a).get(catalog=catalog)
    assert state.enabled and (state.available_count, state.active_count) == (18, 20)

    page.goto(f"{live_server.url}/t/{tenant_a.slug}/catalogs/{catalog.pk}/")
    assert page.locator("#ecr-banner").count() == 0
    screenshot("journey2-6-catalog-ecr-back-on")
    page.get_by_role("link", name="ECR", exact=True).click()
    assert page.locator("#ecr-status").inner_text().strip() == "Enabled"
    for figure in ("gauge-fig", "ratio-fig", "lanes-fig"):  # Plotly drew the charts
        page.wait_for_selector(f'[data-figure="{figure}"] .main-svg')
    events = page.locator("#ecr-events").inner_text()
    assert "90%" in events and "70%" in events
    screenshot("journey2-7-ecr-page-enabled")
    assert list(
        EcrEvent.objects.for_tenant(tenant_a).order_by("created_at").values_list("enabled")
    ) == [(False,), (True,)]
