"""The settings that decide how order files are read, edited where sellers work: a catalog's
handling time (ship-by) and the tenant's date order (ambiguous slash dates)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from catalog_health.tenancy.models import AuditEvent, Tenant
from catalog_health.tenancy.roles import Role
from catalog_health.tenancy.services import tenant_settings_update
from catalogs import order_files, services
from catalogs.models import Order

from .export_samples import TIKTOK_HEADER, tiktok_row
from .factories import CatalogFactory, ProductFactory

pytestmark = pytest.mark.django_db


def _settings_url(catalog):
    return reverse(
        "catalogs:catalog_settings",
        kwargs={"tenant_slug": catalog.tenant.slug, "catalog_id": catalog.pk},
    )


def _tenant_url(tenant):
    return reverse("tenancy:tenant_settings", kwargs={"tenant_slug": tenant.slug})


@pytest.mark.parametrize("bad", [-1, 61, True, "3", None, 1000000])
def test_handling_days_out_of_bounds_are_refused_by_the_service(tenant_a, bad):
    catalog = CatalogFactory(tenant=tenant_a)
    with pytest.raises(ValidationError):
        services.catalog_update(
            tenant=tenant_a, catalog=catalog, actor=None, data={"handling_days": bad}
        )
    catalog.refresh_from_db()
    assert catalog.handling_days == 3


@pytest.mark.parametrize("posted", ["-1", "61", "abc", "", "2.5", "3 days"])
def test_catalog_settings_form_refuses_bad_values(client, member, tenant_a, posted):
    catalog = CatalogFactory(tenant=tenant_a)
    client.force_login(member(tenant_a, Role.SELLER))
    response = client.post(_settings_url(catalog), {"handling_days": posted})
    assert response.status_code == 200
    assert response.context["form"].errors["handling_days"]
    catalog.refresh_from_db()
    assert catalog.handling_days == 3
    assert not AuditEvent.objects.filter(action="catalog.updated").exists()


def test_seller_sets_handling_days_audited_and_the_next_import_uses_it(client, member, tenant_a):
    catalog = CatalogFactory(tenant=tenant_a, currency="BRL")
    ProductFactory(catalog=catalog, sku="SKU-1")
    seller = member(tenant_a, Role.SELLER)
    client.force_login(seller)
    page = client.get(_settings_url(catalog))
    assert b"3 days" in page.content and b'id="catalog-settings-form"' in page.content
    response = client.post(_settings_url(catalog), {"handling_days": "5"})
    assert response.status_code == 302
    catalog.refresh_from_db()
    assert catalog.handling_days == 5
    event = AuditEvent.objects.get(action="catalog.updated")
    assert event.actor == seller and event.changes == {"handling_days": [3, 5]}
    data = (
        "\ufeff"
        + TIKTOK_HEADER
        + "\n"
        + tiktok_row(order_id="5001", seller_sku="SKU-1", paid="03/20/2026 4:00:00 PM")
    )
    order_files.orders_import_file(
        tenant=tenant_a, catalog=catalog, data=data.encode(), actor=seller
    )
    order = Order.objects.for_tenant(tenant_a).get(order_id="5001")
    paid = datetime(2026, 3, 20, 16, tzinfo=UTC)  # the tenant's zone is UTC
    assert order.ship_by == paid + timedelta(days=5)
    # Manage Orders says which handling time each catalog has, linking to where it is set
    orders = client.get(reverse("catalogs:order_list", kwargs={"tenant_slug": tenant_a.slug}))
    assert f"{catalog.name}: 5 days".encode() in orders.content
    assert _settings_url(catalog).encode() in orders.content


@pytest.mark.parametrize("role", [Role.VIEWER, Role.ADVERTISER])
def test_roles_without_orders_cannot_change_handling_days(client, member, tenant_a, role):
    catalog = CatalogFactory(tenant=tenant_a)
    client.force_login(member(tenant_a, role))
    assert client.get(_settings_url(catalog)).status_code == 200
    assert client.post(_settings_url(catalog), {"handling_days": "9"}).status_code == 403
    catalog.refresh_from_db()
    assert catalog.handling_days == 3


def test_another_tenants_catalog_settings_are_a_404(client, member, tenant_a, tenant_b):
    theirs = CatalogFactory(tenant=tenant_b)
    client.force_login(member(tenant_a, Role.OWNER))
    url = reverse(
        "catalogs:catalog_settings", kwargs={"tenant_slug": tenant_a.slug, "catalog_id": theirs.pk}
    )
    assert client.get(url).status_code == 404
    assert client.post(url, {"handling_days": "9"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.handling_days == 3


@pytest.mark.parametrize("bad", ["ymd", "DMY", " dmy", "x" * 500])
def test_tenant_date_order_refuses_unknown_values(client, member, tenant_a, bad):
    with pytest.raises(ValidationError):
        tenant_settings_update(tenant=tenant_a, actor=None, date_order=bad)
    client.force_login(member(tenant_a, Role.OWNER))
    response = client.post(_tenant_url(tenant_a), {"date_order": bad})
    assert response.status_code == 200 and response.context["form"].errors
    tenant_a.refresh_from_db()
    assert tenant_a.date_order == ""


def test_seller_sets_date_order_audited_and_an_ambiguous_file_reads_with_it(
    client, member, tenant_a
):
    catalog = CatalogFactory(tenant=tenant_a)
    ProductFactory(catalog=catalog, sku="SKU-1")
    seller = member(tenant_a, Role.SELLER)
    client.force_login(seller)
    # no day above 12: the file cannot tell 03/04 from 04/03
    data = (
        "\ufeff"
        + TIKTOK_HEADER
        + "\n"
        + tiktok_row(
            order_id="7001",
            seller_sku="SKU-1",
            created="03/04/2026 10:00:00",
            paid="03/04/2026 10:05:00",
            shipped="",
            status="To ship",
            tracking="",
        )
    ).encode()
    with pytest.raises(order_files.FileError, match="cannot tell"):
        order_files.orders_preview(tenant=tenant_a, catalog=catalog, data=data)
    response = client.post(_tenant_url(tenant_a), {"date_order": "dmy"})
    assert response.status_code == 302
    tenant_a.refresh_from_db()
    assert tenant_a.date_order == "dmy"
    event = AuditEvent.objects.get(action="tenant.settings_changed")
    assert event.actor == seller and event.changes == {"date_order": ["", "dmy"]}
    preview = order_files.orders_preview(tenant=tenant_a, catalog=catalog, data=data)
    assert preview.date_order == "dmy" and preview.date_order_source == "setting"
    assert preview.first_rows[0]["placed_at"] == datetime(2026, 4, 3, 10, tzinfo=UTC)
    # saving the same value again records nothing
    client.post(_tenant_url(tenant_a), {"date_order": "dmy"})
    assert AuditEvent.objects.filter(action="tenant.settings_changed").count() == 1


def test_viewer_sees_the_date_order_but_cannot_change_it(client, member, tenant_a):
    Tenant.objects.filter(pk=tenant_a.pk).update(date_order="mdy")
    client.force_login(member(tenant_a, Role.VIEWER))
    page = client.get(_tenant_url(tenant_a))
    assert page.status_code == 200 and b"Month first" in page.content
    assert b'id="tenant-settings-form"' not in page.content
    assert client.post(_tenant_url(tenant_a), {"date_order": "dmy"}).status_code == 403
    tenant_a.refresh_from_db()
    assert tenant_a.date_order == "mdy"


def test_a_tenants_date_order_does_not_touch_another_tenant(client, member, tenant_a, tenant_b):
    client.force_login(member(tenant_a, Role.OWNER))
    url = reverse("tenancy:tenant_settings", kwargs={"tenant_slug": tenant_b.slug})
    assert client.post(url, {"date_order": "dmy"}).status_code == 404
    client.post(_tenant_url(tenant_a), {"date_order": "mdy"})
    tenant_a.refresh_from_db()
    tenant_b.refresh_from_db()
    assert (tenant_a.date_order, tenant_b.date_order) == ("mdy", "")
