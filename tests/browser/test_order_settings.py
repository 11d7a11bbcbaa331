"""Browser: a seller sets the catalog's handling time on its Settings tab and the account's
date order on the Settings page; an ambiguous upload is then read with that date order."""

import pytest

from catalog_health.tenancy.models import AuditEvent, Tenant
from catalog_health.tenancy.roles import Role
from catalogs.models import Catalog
from catalogs.tests.export_samples import tiktok_csv, tiktok_row
from catalogs.tests.factories import CatalogFactory, ProductFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_seller_sets_handling_time_and_date_order(
    page, live_server, login, screenshot, member, tenant_a, tmp_path
):
    user = member(tenant_a, Role.SELLER, username="sam")
    user.set_password("s3cret-pass")
    user.save()
    catalog = CatalogFactory(tenant=tenant_a, name="Loja", currency="BRL")
    ProductFactory(catalog=catalog, sku="SKU-1")
    login("sam", "s3cret-pass")

    # the catalog's Settings tab: a bad value is refused in place, a good one saved
    page.goto(f"{live_server.url}/t/{tenant_a.slug}/catalogs/{catalog.pk}/")
    page.get_by_role("link", name="Settings", exact=True).click()
    page.wait_for_load_state()
    assert "3 days" in page.locator("#current-handling-days").inner_text()
    page.fill("#id_handling_days", "61")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    assert "60" in page.locator("#handling-error").inner_text()
    page.fill("#id_handling_days", "5")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    assert "5 days" in page.locator("#current-handling-days").inner_text()
    assert Catalog.objects.get(pk=catalog.pk).handling_days == 5
    screenshot("catalog-settings-handling-days")

    # Manage Orders says each catalog's handling time where it explains overdue
    page.goto(f"{live_server.url}/t/{tenant_a.slug}/orders/")
    assert "Loja: 5 days" in page.locator("#handling-times").inner_text()

    # an upload whose dates cannot tell asks, and points to the account setting
    path = tmp_path / "ambiguous.csv"
    path.write_bytes(
        tiktok_csv(
            tiktok_row(
                created="03/04/2026 10:00:00",
                paid="03/04/2026 10:05:00",
                shipped="",
                status="To ship",
                tracking="",
            )
        )
    )
    page.goto(f"{live_server.url}/t/{tenant_a.slug}/catalogs/{catalog.pk}/uploads/")
    page.set_input_files("input[name=file]", str(path))
    page.get_by_role("button", name="Upload and preview").click()
    page.wait_for_load_state()
    assert "cannot tell" in page.locator("#upload-problem").inner_text()
    upload_url = page.url
    page.locator("#date-order-default-hint a").click()
    page.wait_for_load_state()

    # the account's Settings page (also in the user menu)
    assert page.locator("h1").inner_text().startswith("Settings")
    page.get_by_label("Day first (31/12/2026)").check()
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    assert "Settings saved" in page.content()
    assert Tenant.objects.get(pk=tenant_a.pk).date_order == "dmy"
    screenshot("tenant-settings-date-order")
    assert AuditEvent.objects.filter(action="tenant.settings_changed", actor=user).exists()
    assert AuditEvent.objects.filter(action="catalog.updated", actor=user).exists()

    # the same upload now previews, read day first by the setting, ship-by + 5 days
    page.goto(upload_url)
    assert page.locator("#detected-format").inner_text() == "TikTok Shop order export"
    row = page.locator("#preview-rows tbody tr").first.inner_text()
    assert "2026-04-03 10:00" in row and "2026-04-08 10:05" in row
    assert "your account’s setting" in page.locator("#preview-counts + p").inner_text()
    screenshot("order-upload-preview-date-order-setting")


def test_an_owner_sets_the_time_zone(page, live_server, login, screenshot, member, tenant_a):
    user = member(tenant_a, Role.OWNER, username="olga")
    user.set_password("s3cret-pass")
    user.save()
    login("olga", "s3cret-pass")
    page.goto(f"{live_server.url}/t/{tenant_a.slug}/settings/")
    page.select_option("#id_time_zone", "Europe/Lisbon")
    page.get_by_role("button", name="Save time zone").click()
    page.wait_for_load_state()
    assert page.get_by_text("Time zone is now Europe/Lisbon").is_visible()
    screenshot("tenant-settings-time-zone")
    assert Tenant.objects.get(pk=tenant_a.pk).time_zone == "Europe/Lisbon"
