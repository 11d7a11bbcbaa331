"""Browser: View details warns that shipping overdue orders now turns them into late
dispatch, with the late dispatch rate it would lead to, before the seller ships them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog_health.tenancy.roles import Role
from catalogs.tests.factories import ProductFactory
from catalogs.tests.order_factories import OrderFactory
from flagged.services import flags_score

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_details_say_late_shipping_becomes_late_dispatch(
    page, live_server, login, screenshot, member, tenant_a
):
    seller = member(tenant_a, Role.SELLER, username="sam")
    seller.set_password("s3cret-pass")
    seller.save()
    mug = ProductFactory(catalog__tenant=tenant_a, sku="MUG-1", title="Mug", image_link="")
    now = timezone.now()
    for _ in range(8):
        OrderFactory(product=mug, ship_by=now - timedelta(days=1), shipped_at=None)
    for _ in range(12):
        OrderFactory(product=mug, ship_by=now + timedelta(days=1), shipped_at=now)
    flags_score(tenant=tenant_a, now=now)
    login("sam", "s3cret-pass")
    page.goto(f"{live_server.url}/t/{tenant_a.slug}/flagged/{mug.pk}/")
    note = " ".join(page.locator("#late-shipping").inner_text().split())
    assert "Shipping the 8 overdue orders now clears them from Overdue unshipped" in note
    assert "from 0% to 40% (8 / 20 shipped orders; target ≤ 4%)" in note
    assert "the product would be Impacted for late dispatch" in note
    page.locator("#late-shipping").scroll_into_view_if_needed()
    screenshot("flagged-late-shipping-note", full_page=False)
