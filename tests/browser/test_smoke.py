"""Browser smoke test: log in, switch tenant, open a product, edit its inventory, see it saved."""

import pytest
from playwright.sync_api import expect

from catalog_health.tenancy.models import Membership
from catalog_health.tenancy.roles import Role
from catalogs.models import Product
from catalogs.tests.factories import CatalogFactory, ProductFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_login_switch_tenant_edit_inventory(
    page, live_server, login, screenshot, member, tenant_a, tenant_b
):
    user = member(tenant_a, Role.SELLER, username="sam")
    user.set_password("s3cret-pass")
    user.save()
    Membership.objects.create(tenant=tenant_b, user=user, role=Role.SELLER)
    CatalogFactory(tenant=tenant_a, name="A catalog")
    catalog_b = CatalogFactory(tenant=tenant_b, name="Outdoor EU")
    product = ProductFactory(catalog=catalog_b, title="Trail Runner GTX", inventory_quantity=3)

    login("sam", "s3cret-pass")
    # Two tenants: the home page lets the seller choose.
    expect(page.get_by_role("heading", name="Your tenants")).to_be_visible()
    page.get_by_role("link", name="Tenant A").click()
    expect(page.get_by_role("link", name="A catalog")).to_be_visible()
    screenshot("smoke-1-catalogs-tenant-a")

    # Switch tenant from the navigation bar.
    page.click("#tenant-switcher")
    page.get_by_role("link", name="Tenant B").click()
    expect(page.get_by_role("link", name="Outdoor EU")).to_be_visible()
    expect(page.get_by_role("link", name="A catalog")).to_be_hidden()

    page.get_by_role("link", name="Outdoor EU").click()
    page.get_by_role("link", name="Trail Runner GTX").click()
    screenshot("smoke-2-product")
    page.fill("#id_inventory_quantity", "17")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Product saved.")).to_be_visible()
    assert page.input_value("#id_inventory_quantity") == "17"
    screenshot("smoke-3-product-saved")
    product.refresh_from_db()
    assert product.inventory_quantity == 17
    assert Product.objects.for_tenant(tenant_b).get(pk=product.pk).inventory_quantity == 17
