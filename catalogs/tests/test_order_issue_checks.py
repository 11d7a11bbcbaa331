"""The issue's bullets checked end to end where no other test does: the command with a
TikTok XLSX and a Shopify CSV as downloaded, an impressions mapping saved once and picked by
header, and order or impression files refused as product feeds (the reverse of an order
upload refusing a product feed)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from catalogs import order_files, order_uploads
from catalogs.models import DailyImpression, Order
from catalogs.order_formats import product_feed_refusal, read_header
from catalogs.order_io import FileError
from catalogs.tests.export_samples import SHOPIFY_ORDERS, tiktok_csv, tiktok_row, xlsx_of
from catalogs.tests.factories import CatalogFactory, ProductFactory

pytestmark = pytest.mark.django_db

SHOPIFY = SHOPIFY_ORDERS if isinstance(SHOPIFY_ORDERS, bytes) else SHOPIFY_ORDERS.encode()


@pytest.fixture
def catalog(tenant_a):
    catalog = CatalogFactory(tenant=tenant_a, name="Shop", currency="BRL")
    for sku in ("SKU-1", "SKU-2", "SKU-3"):
        ProductFactory(tenant=tenant_a, catalog=catalog, sku=sku)
    return catalog


def test_command_imports_a_tiktok_xlsx_as_downloaded(tmp_path, tenant_a, catalog, capsys):
    path = tmp_path / "Order-export.xlsx"
    path.write_bytes(
        xlsx_of(
            tiktok_csv(
                tiktok_row(),
                tiktok_row(
                    order_id="2",
                    seller_sku="SKU-2",
                    status="Cancelled",
                    shipped="",
                    tracking="",
                    cancelled="03/15/2026 1:00:00 AM",
                    cancel_by="Buyer",
                    reason="No longer needed",
                ),
            )
        )
    )
    call_command("import_orders", "--catalog", str(catalog.pk), str(path), "--no-score")
    out, _ = capsys.readouterr()
    assert "TikTok Shop order export" in out and "2 order rows saved" in out
    first = Order.objects.for_tenant(tenant_a).get(order_id="576461413040442221")
    # the id's trailing tab is gone, BRL 35,91 is 35.91, US time read month first
    assert first.item_price == Decimal("35.91")
    assert first.placed_at == datetime(2026, 3, 14, 21, 5, 11, tzinfo=UTC)
    assert Order.objects.for_tenant(tenant_a).get(order_id="2").cancel_reason == "buyer_request"
    call_command("import_orders", "--catalog", str(catalog.pk), str(path), "--no-score")
    out, _ = capsys.readouterr()
    assert "0 order rows saved, 2 unchanged" in out


def test_command_imports_a_shopify_export_as_downloaded(tmp_path, tenant_a, catalog, capsys):
    path = tmp_path / "orders_export_1.csv"
    path.write_bytes(SHOPIFY)
    call_command("import_orders", "--catalog", str(catalog.pk), str(path), "--no-score")
    out, _ = capsys.readouterr()
    assert "Shopify orders export" in out
    lines = Order.objects.for_tenant(tenant_a).filter(order_id="#1001").order_by("sku")
    # the second line row of #1001 has the first row's order-level cells
    assert [o.sku for o in lines] == ["SKU-1", "SKU-2"]
    assert lines[0].placed_at == lines[1].placed_at == datetime(2026, 3, 1, 15, tzinfo=UTC)
    assert lines[0].shipped_at == lines[1].shipped_at is not None


def test_impressions_mapping_is_saved_once_and_picked_by_header(tenant_a, tenant_b, catalog):
    data = b"Produto,Dia,Vistas,Toques\nSKU-1,2026-03-13,100,3\nSKU-1,2026-03-14,7,0\n"
    with pytest.raises(FileError, match="map its columns"):
        order_files.impressions_read_file(tenant=tenant_a, catalog=catalog, data=data)
    columns = {"sku": "Produto", "date": "Dia", "impressions": "Vistas", "clicks": "Toques"}
    header = read_header(data)
    order_uploads.mapping_preset_save(
        tenant=tenant_b, actor=None, kind="impressions", name="Theirs", header=header,
        columns=columns,
    )  # fmt: skip
    with pytest.raises(FileError, match="map its columns"):  # another tenant's: not used
        order_files.impressions_read_file(tenant=tenant_a, catalog=catalog, data=data)
    order_uploads.mapping_preset_save(
        tenant=tenant_a, actor=None, kind="impressions", name="Ads", header=header,
        columns=columns,
    )  # fmt: skip
    result = order_files.impressions_read_file(
        tenant=tenant_a, catalog=catalog, data=data, write=True
    )
    assert result.written == 2
    rows = DailyImpression.objects.for_tenant(tenant_a).order_by("date")
    assert [(str(r.date), r.impressions, r.clicks) for r in rows] == [
        ("2026-03-13", 100, 3),
        ("2026-03-14", 7, 0),
    ]


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (tiktok_csv(tiktok_row()), "TikTok Shop order export, not a product feed"),
        (SHOPIFY, "Shopify orders export, not a product feed"),
        (b"sku,date,impressions,clicks\nSKU-1,2026-03-01,10,1\n", "impressions"),
        (b"order_id,sku,quantity,item_price,shipping_fee,placed_at,ship_by,shipped_at,"
         b"delivered_at,cancelled_at,cancel_reason,tracking_number\n", "order CSV"),
    ],
)  # fmt: skip
def test_order_and_impression_files_are_not_product_feeds(data, fragment):
    message = product_feed_refusal(read_header(data))
    assert message and fragment in message


@pytest.mark.parametrize(
    "header",
    [
        ["id", "title", "description", "link", "image_link", "price", "availability"],
        ["Handle", "Title", "Variant SKU", "Variant Price"],  # Shopify products export
        ["ID", "SKU", "Name", "Published", "In stock?", "Regular price"],  # WooCommerce's
        ["sku_id", "title", "availability", "price", "link"],  # a TikTok catalog feed
        ["sku", "title", "price", "quantity"],
    ],
)
def test_product_feeds_are_not_refused_as_feeds(header):
    assert product_feed_refusal(header) is None
