"""Journey 1, in a real browser: a seller fixes an Impacted product.

Flagged products -> filter Impacted -> View details (impressions graph, reasons) -> Review ->
Manage Orders filtered to the product's overdue orders -> mark them shipped with tracking
numbers -> the next scoring (run here as the hourly task would) -> the product is Resolved.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from catalog_health.tenancy.roles import Role
from catalogs.models import Order
from catalogs.tests.factories import CatalogFactory, ProductFactory
from catalogs.tests.order_factories import DailyImpressionFactory, OrderFactory
from flagged.models import FlagState
from flagged.scoring import FlagStatus
from flagged.services import flags_score

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "seller-pass-1"


def build_shop(tenant):
    """A new product with 4 of its 12 orders past ship-by (33%: Impacted), a product with
    1 overdue order in 41 (2.4%: At risk), and 30 days of impressions for the first."""
    catalog = CatalogFactory(tenant=tenant, name="Main store")
    now = timezone.now()
    mug = ProductFactory(catalog=catalog, sku="MUG-1", title="Ceramic mug, 350 ml")
    overdue = [
        OrderFactory(
            product=mug,
            order_id=f"A-{100 + i}",
            placed_at=now - timedelta(days=5, hours=i),
            ship_by=now - timedelta(days=2),
            shipped_at=None,
            tracking_number="",
        )
        for i in range(4)
    ]
    for i in range(8):  # placed today, not due yet
        OrderFactory(
            product=mug,
            order_id=f"A-{200 + i}",
            placed_at=now - timedelta(hours=2 + i),
            ship_by=now + timedelta(days=2),
            shipped_at=None,
            tracking_number="",
        )
    for d in range(30):
        DailyImpressionFactory(
            product=mug, date=now.date() - timedelta(days=d), impressions=400 + 10 * d
        )
    kettle = ProductFactory(catalog=catalog, sku="KETTLE-1", title="Travel kettle")
    for i in range(40):
        OrderFactory(product=kettle, placed_at=now - timedelta(days=6, hours=i))
    OrderFactory(
        product=kettle,
        placed_at=now - timedelta(days=4),
        ship_by=now - timedelta(days=1),
        shipped_at=None,
        tracking_number="",
    )
    flags_score(tenant=tenant)
    return mug, kettle, overdue


def test_seller_ships_overdue_orders_and_product_recovers(
    page, live_server, login, screenshot, member, tenant_a
):
    seller = member(tenant_a, Role.SELLER, username="sally")
    seller.set_password(PASSWORD)
    seller.save()
    mug, kettle, overdue = build_shop(tenant_a)
    states = {s.product_id: s.status for s in FlagState.objects.for_tenant(tenant_a)}
    assert states == {mug.pk: FlagStatus.IMPACTED, kettle.pk: FlagStatus.AT_RISK}

    login("sally", PASSWORD)
    page.get_by_role("link", name="Flagged products").click()
    assert page.locator('[data-counter="impacted"]').inner_text() == "1"
    assert page.locator('[data-counter="at_risk"]').inner_text() == "1"

    # Filter Impacted: only the mug is listed, with its reason.
    page.locator("ul.nav-tabs").get_by_role("link", name="Impacted", exact=True).click()
    page.wait_for_url("**status=impacted**")
    rows = page.locator("#flagged-table tbody tr")
    assert rows.count() == 1
    assert "Ceramic mug" in rows.first.inner_text()
    assert "Overdue unshipped rate" in rows.first.inner_text()
    assert "Travel kettle" not in page.locator("#flagged-table").inner_text()
    screenshot("journey1-1-flagged-impacted")

    # View details: metrics against targets, the reasons and the impressions graph.
    rows.first.get_by_role("link", name="View details").click()
    page.wait_for_selector("#impressions-plot .main-svg")  # Plotly drew the figure
    overdue_row = page.locator('#metrics-table tr[data-metric="overdue_unshipped_rate"]')
    assert "33.3%" in overdue_row.locator(".metric-value").inner_text()
    assert "table-danger" in overdue_row.get_attribute("class")
    assert "Impacted" in page.locator("#history-table").inner_text()
    assert "Overdue unshipped rate" in page.locator("#history-table").inner_text()
    screenshot("journey1-2-view-details")

    # Review -> Manage Orders, filtered to this product's overdue orders.
    page.get_by_role("link", name="Review overdue orders").click()
    page.wait_for_url("**/orders/**")
    assert "status=overdue" in page.url and "sku=MUG-1" in page.url
    listed = page.locator("#order-table tbody tr")
    assert listed.count() == 4
    assert {listed.nth(i).locator("td code").first.inner_text() for i in range(4)} == {
        o.order_id for o in overdue
    }
    screenshot("journey1-3-manage-orders-overdue")

    # Type a tracking number in each row (that selects the row) and ship them in one go.
    for o in overdue:
        page.fill(f'input[name="tracking-{o.pk}"]', f"1ZJOURNEY{o.pk:05d}")
    assert page.locator(".order-check:checked").count() == 4
    page.get_by_role("button", name="Ship selected").click()
    expect(page.get_by_text("4 order lines marked shipped")).to_be_visible()
    assert page.locator("#order-table tbody").inner_text().startswith("No orders match")
    screenshot("journey1-4-orders-shipped")
    shipped = Order.objects.for_tenant(tenant_a).filter(pk__in=[o.pk for o in overdue])
    assert all(o.shipped_at and o.tracking_number.startswith("1ZJOURNEY") for o in shipped)

    # The next scoring (the hourly task calls this same service).
    flags_score(tenant=tenant_a)
    page.goto(f"{live_server.url}/t/{tenant_a.slug}/flagged/{mug.pk}/")
    badge = page.locator(".status-badge").first.inner_text()
    assert badge.strip() in {"At risk", "Resolved"}, badge
    assert "Impacted → " in page.locator("#history-table").inner_text()
    screenshot("journey1-5-details-after-scoring")
    page.get_by_role("link", name="Flagged products").first.click()
    assert page.locator('[data-counter="impacted"]').inner_text() == "0"
    page.locator("ul.nav-tabs").get_by_role("link", name="Resolved", exact=True).click()
    page.wait_for_url("**status=resolved**")
    assert "Ceramic mug" in page.locator("#flagged-table").inner_text()
    screenshot("journey1-6-flagged-resolved")
