"""The app's own order CSV read as its upload preview says: times without an offset in the
tenant's time zone, as in every export; the API's bulk upsert, which shares its parser,
likewise."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from catalog_health.tenancy.roles import Role
from catalogs.models import Order
from catalogs.order_io import ORDER_COLUMNS

pytestmark = pytest.mark.django_db

NEW_YORK = "America/New_York"
LATER = timezone.now().year + 1  # a typo in the year, whenever the tests run


@pytest.fixture
def catalog(tenant_a, catalog):
    tenant_a.time_zone = NEW_YORK
    tenant_a.save(update_fields=["time_zone"])
    return catalog


def app_csv(*lines: dict[str, str]) -> bytes:
    """The app's CSV of lines given by their cells (the others empty)."""
    rows = [",".join(line.get(c, "") for c in ORDER_COLUMNS) for line in lines]
    return ("\n".join([",".join(ORDER_COLUMNS), *rows]) + "\n").encode()


def line(**cells: str) -> dict[str, str]:
    return {"order_id": "A-1", "sku": "SKU-1", "quantity": "1", "item_price": "10.00"} | cells


def _preview(client, catalog, data: bytes):
    url = reverse(
        "catalogs:catalog_upload",
        kwargs={"tenant_slug": catalog.tenant.slug, "catalog_id": catalog.pk},
    )
    page = client.post(
        url, {"kind": "orders", "file": SimpleUploadedFile("orders.csv", data)}, follow=True
    )
    return page, page.context["preview"]


def _cells(preview) -> list[dict[str, str]]:
    labels = ["line", "order_id", "sku", "quantity", "item_price", "shipping_fee"]
    labels += ["placed_at", "ship_by", "shipped_at", "delivered_at", "cancelled_at"]
    return [dict(zip(labels, row, strict=False)) for row in preview["rows"]]


def test_the_preview_reads_times_without_an_offset_in_the_tenants_time_zone(
    client, member, tenant_a, catalog
):
    client.force_login(member(tenant_a, Role.SELLER))
    data = app_csv(
        line(placed_at="2026-12-06T10:00:00", ship_by="2026-12-08"),
        line(order_id="A-2", placed_at=f"{LATER}-03-14T21:05:00", ship_by=f"{LATER}-03-20"),
    )

    page, preview = _preview(client, catalog, data)

    [first] = _cells(preview)
    assert (first["placed_at"], first["ship_by"]) == ("2026-12-06 10:00", "2026-12-08 23:59")
    [error] = preview["errors"]
    assert (error["line"], error["column"]) == (3, "placed_at")
    assert error["message"].startswith(f"{LATER}-03-14 21:05 is in the future")
    client.post(page.request["PATH_INFO"], {"date_order": ""})
    stored = Order.objects.for_tenant(tenant_a).get()
    assert stored.placed_at == datetime(2026, 12, 6, 15, tzinfo=UTC)
    assert stored.ship_by == datetime(2026, 12, 9, 4, 59, 59, tzinfo=UTC)


def test_import_orders_reads_the_apps_times_in_the_tenants_time_zone(tmp_path, tenant_a, catalog):
    path = tmp_path / "orders.csv"
    path.write_bytes(app_csv(line(placed_at="2026-07-06 10:00", ship_by="2026-07-08T12:00:00")))

    call_command("import_orders", "--catalog", str(catalog.pk), str(path), "--no-score")

    stored = Order.objects.for_tenant(tenant_a).get()
    assert stored.placed_at == datetime(2026, 7, 6, 14, tzinfo=UTC)  # EDT: UTC-4
    assert stored.ship_by == datetime(2026, 7, 8, 16, tzinfo=UTC)


def test_the_api_reads_times_without_an_offset_in_the_tenants_time_zone(
    api_client_for, member, tenant_a, catalog
):
    api = api_client_for(member(tenant_a, Role.SELLER), tenant_a)
    lines = [
        line(placed_at="2026-12-06T10:00:00", ship_by="2026-12-08", shipped_at=""),
        line(order_id="A-2", placed_at="2026-12-06T10:00:00Z", ship_by="2026-12-08T12:00:00Z"),
    ]

    body = api.post(
        "/api/v1/orders/bulk/", {"catalog": catalog.pk, "orders": lines}, format="json"
    ).json()

    assert (body["written"], body["refused"]) == (2, 0), body
    stored = {o.order_id: o for o in Order.objects.for_tenant(tenant_a)}
    assert stored["A-1"].placed_at == datetime(2026, 12, 6, 15, tzinfo=UTC)
    assert stored["A-1"].ship_by == datetime(2026, 12, 9, 4, 59, 59, tzinfo=UTC)
    # an offset given is kept
    assert stored["A-2"].placed_at == datetime(2026, 12, 6, 10, tzinfo=UTC)


# --- ship-by: from the file where it has one, else placed time + the handling time --------


def test_a_line_of_the_apps_csv_without_a_ship_by_gets_one_from_the_handling_time(
    client, member, tenant_a, catalog
):
    catalog.handling_days = 5
    catalog.save(update_fields=["handling_days"])
    client.force_login(member(tenant_a, Role.SELLER))
    data = app_csv(
        line(placed_at="2026-12-01T10:00:00"),
        line(order_id="A-2", placed_at="2026-12-01T10:00:00", ship_by="2026-12-02"),
    )

    page, preview = _preview(client, catalog, data)

    assert (preview["importable"], preview["errors"]) == (2, [])
    assert [(c["placed_at"], c["ship_by"]) for c in _cells(preview)] == [
        ("2026-12-01 10:00", "2026-12-06 10:00"),
        ("2026-12-01 10:00", "2026-12-02 23:59"),
    ]
    client.post(page.request["PATH_INFO"], {"date_order": ""})
    ship_by = dict(Order.objects.for_tenant(tenant_a).values_list("order_id", "ship_by"))
    assert ship_by["A-1"] == datetime(2026, 12, 6, 15, tzinfo=UTC)


def test_the_api_asks_for_a_ship_by_saying_what_to_send(api_client_for, member, tenant_a, catalog):
    """The API's lines keep their contract: a ship-by is required, and the refusal says why
    and what to send."""
    api = api_client_for(member(tenant_a, Role.SELLER), tenant_a)

    body = api.post(
        "/api/v1/orders/bulk/",
        {"catalog": catalog.pk, "orders": [line(placed_at="2026-12-01T10:00:00Z")]},
        format="json",
    ).json()

    assert (body["written"], body["refused"]) == (0, 1)
    [error] = body["errors"]
    assert (error["index"], error["field"]) == (0, "ship_by")
    assert "is required" in error["message"] and "handling time" in error["message"]
    assert "2026-03-04" in error["message"]  # a day alone, as an example


# --- the preview's counts -------------------------------------------------------------------


def test_the_preview_lists_an_unknown_sku_of_a_line_refused_for_another_reason(
    client, member, tenant_a, catalog
):
    """A line with a bad date and an unknown SKU: both are named, so that the file is not
    corrected for one only to be refused for the other."""
    client.force_login(member(tenant_a, Role.SELLER))
    data = app_csv(
        line(placed_at="2026-12-01T10:00:00"),
        line(order_id="A-2", sku="NOPE-SKU", placed_at="2026-13-01T10:00:00"),
        line(order_id="A-3", sku="NOPE-SKU", placed_at="2026-12-01T10:00:00"),
        line(order_id="A-4", sku="GONE-SKU", placed_at="yesterday"),
    )

    page, preview = _preview(client, catalog, data)

    assert preview["unknown_skus"] == {"GONE-SKU": [5], "NOPE-SKU": [3, 4]}
    assert [(e["line"], e["column"]) for e in preview["errors"]] == [
        (3, "placed_at"),
        (3, "sku"),
        (4, "sku"),
        (5, "placed_at"),
        (5, "sku"),
    ]
    assert (preview["refused"], preview["importable"]) == (3, 1)
    html = page.content.decode()
    assert '<div class="fs-5 text-danger" id="count-unknown">2</div>' in html
