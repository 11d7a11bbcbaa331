"""A line's tracking number is unknown (NULL) when its source does not say, "" when the
source says it has none: every import path carries the difference, and an import that does
not say keeps a number already known (typed in Manage Orders, or from an earlier file)."""

from __future__ import annotations

import csv
import io
from types import SimpleNamespace

import pytest

from catalogs import order_files, order_merge, order_uploads, services
from catalogs.models import ColumnMappingPreset, Order
from catalogs.order_formats import header_signature
from catalogs.tests.export_samples import SHOPIFY_ORDERS, tiktok_csv, tiktok_row
from catalogs.tests.factories import CatalogFactory, ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)

# the three ways a file reaches the table: the staging merge, a first load streamed into
# the bare table, and the embedded (SQLite) path's ORM upsert
PATHS = ("merge", "first load", "orm")


@pytest.fixture
def path(request, monkeypatch):
    """Send orders_import_file down one of PATHS."""
    if request.param == "first load":
        monkeypatch.setattr(order_merge, "BULK_MIN_LINES", 1)
        monkeypatch.setattr(order_merge, "_orders_table_smaller_than", lambda cur, n: True)
    elif request.param == "orm":
        monkeypatch.setattr(order_files, "connection", SimpleNamespace(vendor="sqlite"))
    return request.param


def _import(tenant, catalog, data):
    return order_files.orders_import_file(tenant=tenant, catalog=catalog, data=data, actor=None)


def _tracking(tenant) -> dict[tuple[str, str], str | None]:
    return dict(
        ((o, s), t)
        for o, s, t in Order.objects.for_tenant(tenant).values_list(
            "order_id", "sku", "tracking_number"
        )
    )


def _without_column(data: bytes, column: str) -> bytes:
    """An export without one of its columns (a TikTok Shop export set up without it)."""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    drop = rows[0].index(column)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(
        [c for i, c in enumerate(row) if i != drop] for row in rows
    )
    return out.getvalue().encode()


@pytest.mark.parametrize("path", PATHS, indirect=True)
def test_a_shopify_export_leaves_tracking_unknown(tenant_a, catalog, path):
    result = _import(tenant_a, catalog, SHOPIFY_ORDERS)
    assert result.written == 3 and not result.errors
    assert _tracking(tenant_a) == {
        ("#1001", "SKU-1"): None,
        ("#1001", "SKU-2"): None,
        ("#1002", "SKU-1"): None,
    }


@pytest.mark.parametrize("path", PATHS, indirect=True)
def test_a_tracking_number_typed_in_manage_orders_survives_the_next_shopify_export(
    tenant_a, catalog, path
):
    _import(tenant_a, catalog, SHOPIFY_ORDERS)
    shirt = Order.objects.for_tenant(tenant_a).get(order_id="#1001", sku="SKU-1")
    assert services.orders_mark_shipped(tenant=tenant_a, actor=None, tracking={shirt.pk: "1ZA"})
    again = _import(tenant_a, catalog, SHOPIFY_ORDERS)
    assert (again.written, again.unchanged) == (0, 3)
    assert _tracking(tenant_a)[("#1001", "SKU-1")] == "1ZA"
    # a change elsewhere in the line is written, the number still kept
    changed = SHOPIFY_ORDERS.replace(b"10:00:00 -0500,1,Shirt", b"10:00:00 -0500,2,Shirt")
    third = _import(tenant_a, catalog, changed)
    assert (third.written, third.unchanged) == (1, 2)
    shirt.refresh_from_db()
    assert (shirt.quantity, shirt.tracking_number) == (2, "1ZA")


@pytest.mark.parametrize("path", PATHS, indirect=True)
def test_a_file_with_a_tracking_column_overwrites_even_with_an_empty_cell(tenant_a, catalog, path):
    _import(tenant_a, catalog, tiktok_csv(tiktok_row(tracking="BR1"), tiktok_row(order_id="2")))
    assert _tracking(tenant_a)[("576461413040442221", "SKU-1")] == "BR1"
    emptied = _import(
        tenant_a, catalog, tiktok_csv(tiktok_row(tracking=""), tiktok_row(order_id="2"))
    )
    assert (emptied.written, emptied.unchanged) == (1, 1)
    # known to have none: "", not unknown
    assert _tracking(tenant_a) == {
        ("576461413040442221", "SKU-1"): "",
        ("2", "SKU-1"): "BR123456789",
    }
    again = _import(
        tenant_a, catalog, tiktok_csv(tiktok_row(tracking=""), tiktok_row(order_id="2"))
    )
    assert (again.written, again.unchanged) == (0, 2)


@pytest.mark.parametrize("path", PATHS, indirect=True)
def test_a_tiktok_export_without_its_tracking_column_leaves_tracking_unknown(
    tenant_a, catalog, path
):
    _import(tenant_a, catalog, tiktok_csv(tiktok_row(tracking="BR1")))
    data = _without_column(tiktok_csv(tiktok_row(tracking="")), "Tracking ID")
    result = _import(tenant_a, catalog, data)
    assert (result.written, result.unchanged) == (0, 1)
    assert _tracking(tenant_a) == {("576461413040442221", "SKU-1"): "BR1"}


def _preset(tenant, columns: dict[str, str], header: list[str]):
    return ColumnMappingPreset.objects.create(
        tenant=tenant,
        kind="orders",
        name="Mine",
        header=header,
        header_key=header_signature(header),
        columns=columns,
    )


@pytest.mark.parametrize("path", PATHS, indirect=True)
def test_a_mapped_file_has_tracking_known_only_when_a_column_is_mapped_to_it(
    tenant_a, catalog, path
):
    header = ["Order", "Item", "Price", "Ordered", "Shipped", "Parcel"]
    data = (
        b"Order,Item,Price,Ordered,Shipped,Parcel\n"
        b"B-1,SKU-1,19.90,2026-03-01 10:00,2026-03-02 10:00,\n"
        b"B-2,SKU-2,19.90,2026-03-01 10:00,2026-03-02 10:00,PX9\n"
    )
    columns = {
        "order_id": "Order",
        "sku": "Item",
        "item_price": "Price",
        "placed_at": "Ordered",
        "shipped_at": "Shipped",
    }
    preset = _preset(tenant_a, columns, header)
    _import(tenant_a, catalog, data)
    assert _tracking(tenant_a) == {("B-1", "SKU-1"): None, ("B-2", "SKU-2"): None}
    preset.columns = {**columns, "tracking_number": "Parcel"}
    preset.save()
    result = _import(tenant_a, catalog, data)
    assert (result.written, result.unchanged) == (2, 0)
    assert _tracking(tenant_a) == {("B-1", "SKU-1"): "", ("B-2", "SKU-2"): "PX9"}


def test_the_preview_shows_an_unknown_tracking_as_unknown(tenant_a, catalog):
    result = order_files.orders_preview(tenant=tenant_a, catalog=catalog, data=SHOPIFY_ORDERS)
    assert [row["tracking_number"] for row in result.first_rows] == [None, None, None]
    cells = order_uploads._preview_cells(result.first_rows, kind="orders", tenant=tenant_a)
    assert [row[-1] for row in cells] == ["unknown"] * 3
    tiktok = order_files.orders_preview(
        tenant=tenant_a, catalog=catalog, data=tiktok_csv(tiktok_row(tracking=""))
    )
    cells = order_uploads._preview_cells(tiktok.first_rows, kind="orders", tenant=tenant_a)
    assert cells[0][-1] == "—"


def test_lines_imported_from_shopify_before_become_unknown(tenant_a, catalog):
    """The data migration: a catalog that had a Shopify export imported gets its lines of
    tracking "" unknown (a typed number stays); another catalog's lines stay none."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module(
        "catalogs.migrations.0018_order_tracking_unknown_shopify_lines"
    )
    other = CatalogFactory(tenant=tenant_a, name="TikTok shop", currency="BRL")
    ProductFactory(tenant=tenant_a, catalog=other, sku="SKU-1")
    _import(tenant_a, catalog, SHOPIFY_ORDERS)
    _import(tenant_a, other, tiktok_csv(tiktok_row(tracking="")))
    Order.objects.for_tenant(tenant_a).filter(tracking_number=None).update(tracking_number="")
    Order.objects.for_tenant(tenant_a).filter(order_id="#1002").update(tracking_number="1ZT")
    migration.shopify_lines_unknown(apps, None)
    assert _tracking(tenant_a) == {
        ("#1001", "SKU-1"): None,
        ("#1001", "SKU-2"): None,
        ("#1002", "SKU-1"): "1ZT",
        ("576461413040442221", "SKU-1"): "",
    }
