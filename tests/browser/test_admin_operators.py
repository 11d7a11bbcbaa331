"""Browser: what an operator meets in Django admin — a feed source enabled again there is
scheduled again, and a tenant's last owner cannot be deleted with their account."""

from datetime import time

import pytest

from catalog_health.tenancy.models import Membership
from catalog_health.tenancy.roles import Role
from feeds.models import Schedule
from feeds.tests.factories import ProductSourceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STAFF_PASSWORD = "staff-pass-5"


@pytest.fixture
def admin_page(page, live_server, user_factory):
    staff = user_factory("stella", is_staff=True, is_superuser=True)
    staff.set_password(STAFF_PASSWORD)
    staff.save()
    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", "stella")
    page.fill("#id_password", STAFF_PASSWORD)
    page.locator("input[type=submit]").click()
    page.wait_for_selector("#site-name")
    return page


def test_a_source_enabled_again_in_admin_shows_its_next_pull(
    admin_page, live_server, screenshot, tenant_a
):
    page = admin_page
    source = ProductSourceFactory(
        catalog__tenant=tenant_a,
        name="Nightly feed",
        schedule=Schedule.DAILY,
        schedule_time=time(6, 0),
        enabled=False,
        next_pull_at=None,
    )
    page.goto(f"{live_server.url}/admin/feeds/productsource/{source.pk}/change/")
    page.check("#id_enabled")
    page.locator("input[name=_continue]").click()
    page.wait_for_load_state()
    assert page.locator(".messagelist .success").count() == 1
    source.refresh_from_db()
    assert source.enabled and source.next_pull_at is not None
    shown = page.locator(".field-next_pull_at .readonly").inner_text()
    assert shown not in ("", "-")
    screenshot("admin-source-enabled-again")


def test_the_account_of_a_tenants_last_owner_is_not_deleted(
    admin_page, live_server, screenshot, member, tenant_a
):
    page = admin_page
    owner = member(tenant_a, Role.OWNER, username="olga")
    page.goto(f"{live_server.url}/admin/auth/user/{owner.pk}/delete/")
    page.wait_for_load_state()
    error = page.locator(".messagelist .error").inner_text()
    assert "Nothing was deleted" in error and tenant_a.name in error
    screenshot("admin-last-owner-not-deleted")
    assert Membership.objects.filter(user=owner, tenant=tenant_a).exists()
