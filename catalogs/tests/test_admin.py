"""Django admin writes catalogs, column mappings, order lines and daily impressions as the
pages and the API do: catalogs and column mappings through their services (their checks on
the form, an audit entry with the staff member), and a changed or deleted order line or
impression tells the apps that score them."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from catalog_health.tenancy.models import AuditEvent
from catalogs import events, order_uploads
from catalogs.models import Catalog, ColumnMappingPreset, Product
from catalogs.tests.factories import CatalogFactory, ProductFactory
from catalogs.tests.order_factories import (
    DailyImpressionFactory,
    OrderFactory,
    impression_admin_data,
    order_admin_data,
)

pytestmark = pytest.mark.django_db


def _catalog_form(catalog: Catalog, **changes) -> dict:
    return {
        "tenant": catalog.tenant_id,
        "name": catalog.name,
        "country": catalog.country,
        "currency": catalog.currency,
        "handling_days": catalog.handling_days,
        **changes,
    }


def _change_url(obj) -> str:
    return reverse(f"admin:catalogs_{obj._meta.model_name}_change", args=[obj.pk])


def test_a_catalog_changed_in_admin_is_audited_with_the_staff_member(admin_client, catalog):
    form = _catalog_form(catalog, name="Shop EU", handling_days=5)
    assert admin_client.post(_change_url(catalog), form).status_code == 302
    event = AuditEvent.objects.get(action="catalog.updated")
    assert event.changes == {"name": ["Shop", "Shop EU"], "handling_days": [3, 5]}
    assert (event.tenant_id, event.actor.username) == (catalog.tenant_id, "admin")


def test_a_catalog_added_in_admin_is_audited_with_the_staff_member(admin_client, tenant_a):
    form = _catalog_form(Catalog(tenant=tenant_a, name="Outlet", handling_days=7))
    assert admin_client.post(reverse("admin:catalogs_catalog_add"), form).status_code == 302
    catalog = Catalog.objects.for_tenant(tenant_a).get(name="Outlet")
    assert catalog.handling_days == 7
    event = AuditEvent.objects.get(action="catalog.created")
    assert (event.target_id, event.actor.username) == (str(catalog.pk), "admin")


@pytest.mark.parametrize("days", [61, 1000])
def test_a_handling_time_the_page_refuses_is_refused_in_admin(admin_client, catalog, days):
    """Ship-by of an order line without one is placed time + handling time: a year of it
    would hide every overdue order."""
    response = admin_client.post(_change_url(catalog), _catalog_form(catalog, handling_days=days))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["handling_days"] == [
        "Handling time is 0 to 60 days."
    ]
    catalog.refresh_from_db()
    assert catalog.handling_days == 3


def test_a_name_the_tenant_has_already_is_refused_in_admin(admin_client, catalog):
    CatalogFactory(tenant=catalog.tenant, name="Outlet")
    response = admin_client.post(_change_url(catalog), _catalog_form(catalog, name="Outlet"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    catalog.refresh_from_db()
    assert catalog.name == "Shop"


def test_a_catalog_stays_in_its_tenant_in_admin(admin_client, catalog, tenant_b):
    """Its products, orders and sources carry its tenant too: moving it alone would hand
    another tenant a catalog whose rows it cannot see."""
    form = _catalog_form(catalog, tenant=tenant_b.pk)
    assert admin_client.post(_change_url(catalog), form).status_code == 302
    catalog.refresh_from_db()
    assert catalog.tenant_id != tenant_b.pk


@pytest.fixture
def sales_data_events():
    """(signal, tenant id, catalog id) of each orders_changed / impressions_changed sent."""
    sent = []

    def receiver(sender, *, signal, tenant, catalog, **kwargs):
        name = "orders" if signal is events.orders_changed else "impressions"
        sent.append((name, tenant.pk, catalog.pk if catalog else None))

    for signal in (events.orders_changed, events.impressions_changed):
        signal.connect(receiver, weak=False, dispatch_uid="test_admin.sales_data")
    yield sent
    for signal in (events.orders_changed, events.impressions_changed):
        signal.disconnect(dispatch_uid="test_admin.sales_data")


def test_an_order_line_changed_in_admin_has_its_tenant_scored_again(
    admin_client, catalog, sales_data_events
):
    order = OrderFactory(product=Product.objects.get(catalog=catalog, sku="SKU-1"))
    form = order_admin_data(order, shipped_at_0="", shipped_at_1="")  # not shipped after all
    response = admin_client.post(_change_url(order), form)
    assert response.status_code == 302
    assert sales_data_events == [("orders", catalog.tenant_id, catalog.pk)]


def test_an_order_line_deleted_in_admin_has_its_tenant_scored_again(
    admin_client, catalog, sales_data_events
):
    order = OrderFactory(product=Product.objects.get(catalog=catalog, sku="SKU-1"))
    delete_url = reverse("admin:catalogs_order_delete", args=[order.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 302
    assert sales_data_events == [("orders", catalog.tenant_id, catalog.pk)]


def test_impressions_deleted_from_the_admin_list_have_their_tenant_scored_again(
    admin_client, catalog, sales_data_events
):
    rows = [
        DailyImpressionFactory(product=product)
        for product in Product.objects.filter(catalog=catalog)
    ]
    action = {"action": "delete_selected", "_selected_action": [r.pk for r in rows], "post": "yes"}
    changelist = reverse("admin:catalogs_dailyimpression_changelist")
    assert admin_client.post(changelist, action).status_code == 302
    assert sales_data_events == [("impressions", catalog.tenant_id, catalog.pk)]


def test_impressions_changed_in_admin_have_their_tenant_scored_again(
    admin_client, catalog, sales_data_events
):
    row = DailyImpressionFactory(product=Product.objects.get(catalog=catalog, sku="SKU-1"))
    form = impression_admin_data(row, impressions=5000)
    assert admin_client.post(_change_url(row), form).status_code == 302
    assert sales_data_events == [("impressions", catalog.tenant_id, catalog.pk)]


def _column_mapping(tenant) -> ColumnMappingPreset:
    return order_uploads.mapping_preset_save(
        tenant=tenant,
        actor=None,
        kind="orders",
        name="Marketplace DE",
        header=["Bestellnr", "Artikel", "Datum", "Grund"],
        columns={"order_id": "Bestellnr", "sku": "Artikel", "placed_at": "Datum"},
    )


def _column_mapping_form(preset: ColumnMappingPreset, **changes) -> dict:
    data = {
        "tenant": preset.tenant_id,
        "kind": preset.kind,
        "name": preset.name,
        "columns": json.dumps(preset.columns),
        "cancel_values": json.dumps(preset.cancel_values),
    }
    return {**data, **{k: json.dumps(v) for k, v in changes.items()}}


def test_a_column_mapping_changed_in_admin_is_audited_with_the_staff_member(admin_client, tenant_a):
    preset = _column_mapping(tenant_a)
    columns = {**preset.columns, "cancel_reason": "Grund"}
    form = _column_mapping_form(preset, columns=columns)
    assert admin_client.post(_change_url(preset), form).status_code == 302
    preset.refresh_from_db()
    assert preset.columns == columns
    event = AuditEvent.objects.get(action="mapping_preset.saved", actor__username="admin")
    assert event.changes["columns"] == columns


def test_a_column_mapping_the_upload_page_refuses_is_refused_in_admin(admin_client, tenant_a):
    """Every file with that header would be read through it."""
    preset = _column_mapping(tenant_a)
    form = _column_mapping_form(preset, columns={**preset.columns, "sku": "Produkt"})
    response = admin_client.post(_change_url(preset), form)
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        "sku: no column 'Produkt' in the file"
    ]
    preset.refresh_from_db()
    assert preset.columns["sku"] == "Artikel"


def test_a_column_mapping_deleted_in_admin_is_audited(admin_client, tenant_a):
    preset = _column_mapping(tenant_a)
    delete_url = reverse("admin:catalogs_columnmappingpreset_delete", args=[preset.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 302
    assert not ColumnMappingPreset.objects.exists()
    event = AuditEvent.objects.get(action="mapping_preset.deleted")
    assert (event.target_id, event.actor.username) == (str(preset.pk), "admin")


def test_column_mappings_deleted_from_the_admin_list_are_audited(admin_client, tenant_a):
    preset = _column_mapping(tenant_a)
    action = {"action": "delete_selected", "_selected_action": [preset.pk], "post": "yes"}
    changelist = reverse("admin:catalogs_columnmappingpreset_changelist")
    assert admin_client.post(changelist, action).status_code == 302
    assert AuditEvent.objects.filter(action="mapping_preset.deleted", actor__username="admin")


# --- Whose order line or impression ---------------------------------------------------------
# Every other entry resolves a line's product by its SKU within its tenant and catalog; in
# Django admin all four are typed, and a mismatch would file one tenant's sales under
# another's catalog or product (scored, graphed and listed there).

SALES_ROWS = {
    "order": (OrderFactory, order_admin_data),
    "dailyimpression": (DailyImpressionFactory, impression_admin_data),
}


@pytest.fixture
def other_products(catalog, tenant_b) -> dict[str, Product]:
    """A product SKU-1 of each of: tenant_a's other catalog, tenant_b's catalog."""
    outlet = CatalogFactory(tenant=catalog.tenant, name="Outlet")
    rival = CatalogFactory(tenant=tenant_b, name="Rival")
    return {
        "outlet": ProductFactory(tenant=outlet.tenant, catalog=outlet, sku="SKU-1"),
        "rival": ProductFactory(tenant=tenant_b, catalog=rival, sku="SKU-1"),
    }


# case: (the changes posted, given the other products; the fields refused)
HOSTILE_CASES = {
    "product of another catalog": (lambda o: {"product": o["outlet"].pk}, {"product"}),
    "product of another tenant": (lambda o: {"product": o["rival"].pk}, {"product"}),
    "catalog without the product": (lambda o: {"catalog": o["outlet"].catalog_id}, {"product"}),
    "catalog of another tenant": (lambda o: {"catalog": o["rival"].catalog_id}, {"catalog"}),
    "catalog and product of another tenant": (
        lambda o: {"catalog": o["rival"].catalog_id, "product": o["rival"].pk},
        {"catalog"},
    ),
    "another tenant": (lambda o: {"tenant": o["rival"].tenant_id}, {"catalog"}),
    "sku of another product": (lambda o: {"sku": "SKU-2"}, {"sku"}),
}


@pytest.mark.parametrize("model_name", SALES_ROWS)
@pytest.mark.parametrize("case", HOSTILE_CASES)
def test_admin_refuses_a_line_whose_tenant_catalog_and_product_do_not_belong_together(
    admin_client, catalog, other_products, model_name, case
):
    factory, admin_data = SALES_ROWS[model_name]
    changes, error_fields = HOSTILE_CASES[case]
    row = factory(product=Product.objects.get(catalog=catalog, sku="SKU-1"))
    stored = type(row).objects.values().get(pk=row.pk)
    form = admin_data(row, **changes(other_products))

    response = admin_client.post(_change_url(row), form)

    assert response.status_code == 200
    assert set(response.context["adminform"].form.errors) == error_fields
    assert type(row).objects.values().get(pk=row.pk) == stored


@pytest.mark.parametrize("model_name", SALES_ROWS)
def test_admin_adds_no_line_of_another_tenants_product(
    admin_client, catalog, other_products, model_name
):
    factory, admin_data = SALES_ROWS[model_name]
    model = factory._meta.model
    form = admin_data(factory.build(product=other_products["rival"]))
    form |= {"tenant": catalog.tenant_id, "catalog": catalog.pk}

    response = admin_client.post(reverse(f"admin:catalogs_{model_name}_add"), form)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    rival = other_products["rival"].pk
    assert errors["product"] == [
        f"Product {rival} (SKU-1) is not in Shop: choose one of Shop's products."
    ]
    assert not model.objects.exists()


def test_admin_names_what_does_not_belong_together(admin_client, catalog, other_products):
    order = OrderFactory(product=Product.objects.get(catalog=catalog, sku="SKU-1"))
    rival = other_products["rival"]
    for changes, field, message in [
        (
            {"catalog": rival.catalog_id, "product": rival.pk},
            "catalog",
            "Rival is another tenant's catalog: choose one of Tenant A's catalogs.",
        ),
        (
            {"sku": "SKU-2"},
            "sku",
            "The product's SKU is 'SKU-1': give it, or choose the product of SKU 'SKU-2'.",
        ),
    ]:
        response = admin_client.post(_change_url(order), order_admin_data(order, **changes))
        assert response.context["adminform"].form.errors[field] == [message]
