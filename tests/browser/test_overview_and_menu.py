"""Browser: the tenant home is an overview of every catalog (products, Available share, ECR,
last pull, Impacted / At risk, each a link), and the menu is grouped like the seller centers
(Products: Catalogs, Product sources, Diagnostics; Sales Accelerator: Flagged products;
Orders) with matching breadcrumbs."""

import pytest
from django.utils import timezone

from catalog_health.tenancy.roles import Role
from catalogs.models import ReviewStatus
from catalogs.tests.factories import CatalogFactory, ProductFactory
from ecr.tests.factories import EcrStateFactory
from feeds.tests.factories import ProductSourceFactory
from flagged.scoring import FlagStatus
from flagged.tests.factories import FlagStateFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def seller(member, tenant_a, login):
    user = member(tenant_a, Role.SELLER, username="sam")
    user.set_password("s3cret-pass")
    user.save()
    return user


def _shop(tenant):
    shop = CatalogFactory(tenant=tenant, name="Main shop")
    for status in (ReviewStatus.AVAILABLE, ReviewStatus.AVAILABLE, ReviewStatus.UNAVAILABLE):
        ProductFactory(catalog=shop, review_status=status)
    mug = ProductFactory(catalog=shop, sku="MUG-1", title="Blue enamel mug")
    FlagStateFactory(product=mug, status=FlagStatus.IMPACTED)
    FlagStateFactory(product=ProductFactory(catalog=shop), status=FlagStatus.AT_RISK)
    EcrStateFactory(catalog=shop, enabled=False, evaluated_at=timezone.now())
    ProductSourceFactory(catalog=shop, name="Daily feed", last_success_at=timezone.now())
    CatalogFactory(tenant=tenant, name="New shop")
    return shop, mug


def test_home_is_the_overview(page, live_server, login, screenshot, seller, tenant_a):
    shop, _mug = _shop(tenant_a)
    login("sam", "s3cret-pass")
    # (the tenant home follows settings.TENANT_HOME_URL_NAME, the overview; the menu links it)
    page.locator("#main-menu").get_by_role("link", name="Overview").click()
    assert page.url.endswith(f"/t/{tenant_a.slug}/overview/")
    row = page.locator("#overview-table tr[data-catalog='Main shop']")
    assert row.locator("[data-cell=products]").inner_text() == "5"
    assert row.locator("[data-cell=available]").inner_text() == "40%"
    # 5 products: under ECR's minimum, so its state is not evaluated (and says so)
    ecr = row.locator("[data-cell=ecr]").inner_text()
    assert ecr.startswith("Disabled") and "not evaluated" in ecr, ecr
    assert "Fresh" in row.inner_text()
    assert row.locator("[data-cell=impacted]").inner_text() == "1"
    assert row.locator("[data-cell=at_risk]").inner_text() == "1"
    new = page.locator("#overview-table tr[data-catalog='New shop']")
    # no products: under ECR's minimum, not evaluated (the same words as its ECR tab)
    assert new.locator("[data-cell=ecr] .badge").inner_text() == "Not evaluated"
    assert "fewer than 20 active products" in new.locator("[data-cell=ecr]").inner_text()
    assert new.locator("[data-cell=pull]").inner_text() == "No product source"
    screenshot("overview")

    # Each figure opens its page.
    row.locator("[data-cell=impacted]").click()
    page.wait_for_url("**/flagged/?status=impacted**")
    assert "Blue enamel mug" in page.locator("#flagged-table").inner_text()
    page.go_back()
    row.locator("[data-cell=ecr]").click()
    page.wait_for_url(f"**/catalogs/{shop.pk}/ecr/")
    page.go_back()
    row.locator("[data-cell=pull]").click()
    page.wait_for_url(f"**/catalogs/{shop.pk}/sources/")


def test_menu_groups_and_breadcrumbs(page, live_server, login, screenshot, seller, tenant_a):
    _, mug = _shop(tenant_a)
    login("sam", "s3cret-pass")
    menu = page.locator("#main-menu")
    links = [a.strip() for a in menu.locator("a.nav-link").all_inner_texts()]
    assert links == [
        "Overview",
        "Catalogs",
        "Product sources",
        "Diagnostics",
        "Flagged products",
        "Orders",
    ]
    products = menu.locator("[data-group=Products] a.nav-link").all_inner_texts()
    assert products == ["Catalogs", "Product sources", "Diagnostics"]
    accelerator = menu.locator("[data-group='Sales Accelerator'] a.nav-link").all_inner_texts()
    assert accelerator == ["Flagged products"]
    screenshot("menu", full_page=False)

    menu.get_by_role("link", name="Catalogs").click()
    page.get_by_role("link", name="Main shop").click()
    crumbs = page.locator("ol.breadcrumb li").all_inner_texts()
    assert crumbs == ["Products", "Catalogs", "Main shop"]
    assert "active" in menu.get_by_role("link", name="Catalogs").get_attribute("class")

    menu.get_by_role("link", name="Flagged products").click()
    mug_row = page.locator("#flagged-table tbody tr", has_text="Blue enamel mug")
    mug_row.get_by_role("link", name="View details").click()
    page.wait_for_url(f"**/flagged/{mug.pk}/")
    crumbs = page.locator("ol.breadcrumb li").all_inner_texts()
    assert crumbs == ["Sales Accelerator", "Flagged products", "Blue enamel mug"]
    screenshot("flagged-detail-breadcrumbs", full_page=False)
