"""A WooCommerce product CSV export through the real pipeline: recognised from its header,
one product per simple product and per variation (ids from SKU, never Woo's post ID),
availability, images, prices and descriptions as the shop shows them, then the next export
in replace mode."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command

from catalogs.models import Product
from catalogs.tests.factories import CatalogFactory
from feeds.models import FeedRowError, FeedRun, FeedSettings, RunStatus
from feeds.tests.factories import ProductSourceFactory
from feeds.tests.test_services import upload_run
from feeds.tests.woocommerce_export import UPLOADS, Export, cell_list, description

# the first pull into an empty catalog COPYs outside the test's transaction, as in production
pytestmark = pytest.mark.django_db(transaction=True)

HAT_TEXT = '<p>Warm, "brushed" wool.</p>\n<ul><li>Hand wash</li></ul>'


def shop(*, hat_price: str = "24.00", mug_stock: str = "0", blue: bool = True) -> Export:
    """A small shop's export, ordered by ID as WooCommerce writes it."""
    ex = Export()
    ex.product({
        "ID": "10", "Type": "simple", "SKU": "WOO-HAT", "GTIN, UPC, EAN, or ISBN": "4006381333931",
        "Name": "Wool hat", "Short description": "A warm hat.",
        "Description": description(HAT_TEXT), "Stock": "12", "Sale price": "19,50",
        "Regular price": hat_price, "Categories": cell_list(["Accessories > Hats", "Sale"]),
        "Tags": "wool, winter", "Brands": "Kestrel",
        "Images": cell_list([f"{UPLOADS}/hat.jpg", f"{UPLOADS}/hat-back.jpg",
                             f"{UPLOADS}/hat,side.jpg"]),
    })  # fmt: skip
    ex.product({
        "ID": "11", "Type": "simple", "SKU": "WOO-MUG", "Name": "Mug",
        "Description": "Stoneware.", "In stock?": "0" if mug_stock == "0" else "1",
        "Stock": mug_stock, "Regular price": "9.00", "Images": f"{UPLOADS}/mug.jpg",
    })  # fmt: skip
    ex.product({
        "ID": "12", "Type": "simple, virtual", "Name": "Gift card", "Regular price": "25",
        "Description": "A card.",
    })  # fmt: skip
    ex.product({
        "ID": "13", "Type": "simple", "SKU": "WOO-DRAFT", "Name": "Not yet", "Published": "-1",
        "Regular price": "5",
    })  # fmt: skip
    ex.product({
        "ID": "20", "Type": "variable", "SKU": "WOO-HOODIE", "Name": "Hoodie",
        "Short description": "Cosy hoodie.", "Categories": "Clothing > Hoodies",
        "Images": cell_list([f"{UPLOADS}/hoodie.jpg", f"{UPLOADS}/hoodie-2.jpg"]),
        "Attribute 1 name": "Color", "Attribute 1 value(s)": "Red, Blue",
        "Attribute 1 visible": "1", "Attribute 1 global": "1",
        "Attribute 2 name": "Brand", "Attribute 2 value(s)": "Lumen",
        "Attribute 2 visible": "1", "Attribute 2 global": "0",
    })  # fmt: skip
    ex.product({
        "ID": "21", "Type": "variation", "SKU": "WOO-HOODIE-RED", "Name": "Hoodie - Red",
        "Stock": "3", "Regular price": "45.00", "Parent": "WOO-HOODIE",
        "Images": f"{UPLOADS}/hoodie-red.jpg", "Attribute 1 name": "Color",
        "Attribute 1 value(s)": "Red", "Attribute 1 global": "1",
    })  # fmt: skip
    if blue:
        ex.product({
            "ID": "22", "Type": "variation", "SKU": "WOO-HOODIE-BLUE", "Name": "Hoodie - Blue",
            "In stock?": "0", "Stock": "0", "Regular price": "45.00", "Parent": "WOO-HOODIE",
            "Meta: _alg_ean": "0012345678905", "Attribute 1 name": "Color",
            "Attribute 1 value(s)": "Blue", "Attribute 1 global": "1",
        })  # fmt: skip
    ex.product({
        "ID": "30", "Type": "variable", "Name": "Scarf", "Description": "Long scarf.",
        "Images": f"{UPLOADS}/scarf.jpg",
    })  # fmt: skip
    ex.product({
        "ID": "31", "Type": "variation", "SKU": "WOO-SCARF-GREEN", "Name": "Scarf - Green",
        "Stock": "parent", "Regular price": "15", "Parent": "id:30",
    })  # fmt: skip
    ex.product({"ID": "40", "Type": "variable", "SKU": "WOO-GLOVES", "Name": "Gloves",
                "Published": "-1"})  # fmt: skip
    ex.product({
        "ID": "41", "Type": "variation", "SKU": "WOO-GLOVES-S", "Name": "Gloves - S",
        "Published": "-1", "Regular price": "12", "Parent": "WOO-GLOVES",
    })  # fmt: skip
    ex.product({
        "ID": "60", "Type": "simple", "SKU": "WOO-BOOT", "Name": "'-20% Boots",
        "In stock?": "backorder", "Stock": "-2", "Backorders allowed?": "notify",
        "Regular price": "80.00",
    })  # fmt: skip
    ex.product({"ID": "70", "Type": "grouped", "SKU": "WOO-SET", "Name": "Gift set",
                "Grouped products": "WOO-HAT, WOO-MUG"})  # fmt: skip
    ex.product({"ID": "90", "Type": "simple", "SKU": "WOO-PRIVATE", "Name": "Staff only",
                "Published": "0", "Regular price": "1"})  # fmt: skip
    return ex


def test_a_woocommerce_export_imports_products_and_variations(tenant_a, tmp_path, capsys):
    path = tmp_path / "wc-product-export-1-5-2024.csv"
    path.write_bytes(shop().render())
    catalog = CatalogFactory(tenant=tenant_a, currency="EUR")

    call_command("import_feed", "--catalog", str(catalog.pk), str(path))

    summary = capsys.readouterr().out
    products = {p.sku: p for p in Product.objects.for_tenant(tenant_a).filter(catalog=catalog)}
    # ids are SKUs (the product without one: its ID); the variable and grouped products
    # are not products, the draft and private ones are left out
    assert set(products) == {
        "WOO-HAT", "WOO-MUG", "12", "WOO-HOODIE-RED", "WOO-HOODIE-BLUE", "WOO-SCARF-GREEN",
        "WOO-BOOT",
    }  # fmt: skip
    assert "created 7," in summary and "rejected 0," in summary
    run = FeedRun.objects.get(catalog=catalog)
    messages = {
        (e.line, e.sku, e.field, e.message, e.severity)
        for e in FeedRowError.objects.filter(run=run)
    }
    assert messages == {
        (5, "WOO-DRAFT", "Published", "left out: the product is a draft in WooCommerce",
         "warning"),
        (12, "WOO-GLOVES-S", "Published", "left out: the product is a draft in WooCommerce",
         "warning"),
        (15, "WOO-PRIVATE", "Published", "left out: the product is private in WooCommerce",
         "warning"),
    }  # fmt: skip

    hat = products["WOO-HAT"]
    assert (hat.price, hat.sale_price, hat.currency) == (Decimal("24"), Decimal("19.5"), "EUR")
    assert hat.title == "Wool hat" and hat.description == HAT_TEXT
    assert hat.availability == "in_stock" and hat.inventory_quantity == 12
    assert hat.image_link == f"{UPLOADS}/hat.jpg"
    assert hat.additional_image_links == [f"{UPLOADS}/hat-back.jpg", f"{UPLOADS}/hat%2Cside.jpg"]
    assert hat.brand == "Kestrel" and hat.gtin == "4006381333931"
    assert hat.product_type == "Accessories > Hats" and hat.item_group_id == ""
    assert hat.custom_attributes == {}
    mug = products["WOO-MUG"]
    assert mug.availability == "out_of_stock" and mug.inventory_quantity == 0
    card = products["12"]
    assert card.title == "Gift card" and card.price == Decimal("25")
    assert products["WOO-BOOT"].availability == "backorder"
    assert products["WOO-BOOT"].title == "-20% Boots"

    red, blue = products["WOO-HOODIE-RED"], products["WOO-HOODIE-BLUE"]
    assert red.title == "Hoodie - Red" and red.item_group_id == "WOO-HOODIE"
    assert red.description == "Cosy hoodie." and red.brand == "Lumen"
    assert red.product_type == "Clothing > Hoodies" and red.price == Decimal("45")
    assert red.image_link == f"{UPLOADS}/hoodie-red.jpg"
    assert red.additional_image_links == [f"{UPLOADS}/hoodie.jpg", f"{UPLOADS}/hoodie-2.jpg"]
    assert red.availability == "in_stock" and red.inventory_quantity == 3
    assert blue.availability == "out_of_stock" and blue.gtin == "0012345678905"
    assert blue.image_link == f"{UPLOADS}/hoodie.jpg"
    scarf = products["WOO-SCARF-GREEN"]
    assert scarf.item_group_id == "30" and scarf.description == "Long scarf."
    assert scarf.image_link == f"{UPLOADS}/scarf.jpg"


def test_the_next_export_in_replace_mode_removes_only_what_left_the_shop(tenant_a):
    """Prices and stock change, a variation is deleted in WooCommerce: the rest stays."""
    FeedSettings.objects.update_or_create(pk=1, defaults={"manual_refresh_min_seconds": 0})
    catalog = CatalogFactory(tenant=tenant_a, currency="USD")
    source = ProductSourceFactory(catalog=catalog, tenant=tenant_a)
    run = upload_run(tenant_a, source, shop().render())
    assert (run.status, run.created, run.rejected) == (RunStatus.SUCCEEDED, 7, 0)

    run = upload_run(tenant_a, source, shop(hat_price="26.00", mug_stock="4", blue=False).render())

    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert (run.updated, run.unchanged, run.removed) == (2, 4, 1)
    active = Product.objects.for_tenant(tenant_a).filter(catalog=catalog, removed_at=None)
    assert set(active.values_list("sku", flat=True)) == {
        "WOO-HAT", "WOO-MUG", "12", "WOO-HOODIE-RED", "WOO-SCARF-GREEN", "WOO-BOOT",
    }  # fmt: skip
    assert active.get(sku="WOO-HAT").price == Decimal("26.00")
    mug = active.get(sku="WOO-MUG")
    assert mug.availability == "in_stock" and mug.inventory_quantity == 4
