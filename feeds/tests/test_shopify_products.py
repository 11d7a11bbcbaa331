"""A Shopify products export as feed rows (pure; the parser is not wired in yet)."""

import csv
import io

import pytest

from catalogs.fields import FEED_FIELDS
from feeds.shopify_products import shopify_product_rows

HEADER = (
    "Handle,Title,Body (HTML),Vendor,Type,Option1 Name,Option1 Value,Option2 Name,"
    "Option2 Value,Variant SKU,Variant Inventory Tracker,Variant Inventory Qty,"
    "Variant Inventory Policy,Variant Price,Variant Compare At Price,Variant Barcode,"
    "Image Src,Variant Image,Status\n"
)
EXPORT = (
    HEADER
    + """tee,Basic Tee,<p>Soft</p>,Kestrel,Shirts,Color,Red,Size,M,TEE-R-M,shopify,4,deny,20.00,25.00,0123456789012,https://cdn/x/tee.jpg,,active
tee,,,,,,Red,,L,,shopify,0,deny,20.00,,,https://cdn/x/tee-back.jpg,,
tee,,,,,,Blue,,M,TEE-B-M,shopify,0,continue,22.00,21.00,,,https://cdn/x/tee-blue.jpg,
mug,Mug,Big mug,Kestrel,Home,Title,Default Title,,,,,,deny,9.5,,,https://cdn/x/mug.jpg,,active
old,Old thing,,,,Title,Default Title,,,OLD-1,,,deny,5.00,,,,,archived
bad,Bad,,,,Title,Default Title,,,BAD-1,,,deny,free,,,,,active
"""
)


def rows_of(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_variants_inherit_the_product_and_get_ids_and_prices():
    out, problems = shopify_product_rows(
        rows_of(EXPORT), shop_url="https://shop.example.com/", currency="USD"
    )
    by_sku = {r["sku"]: r for r in out}
    assert list(by_sku) == ["TEE-R-M", "tee-Red-L", "TEE-B-M", "mug"]
    assert all(list(r) == list(FEED_FIELDS) for r in out)
    first, second, blue, mug = out
    # compare-at above the price: regular price, the variant price is the sale price
    assert (first["price"], first["sale_price"]) == ("25.00", "20.00")
    assert first["title"] == "Basic Tee - Red / M" and first["gtin"] == "0123456789012"
    # a later row of the handle inherits title, description, brand and image
    assert second["title"] == "Basic Tee - Red / L" and second["description"] == "<p>Soft</p>"
    assert second["brand"] == "Kestrel" and second["image_link"] == "https://cdn/x/tee.jpg"
    assert second["availability"] == "out_of_stock"  # tracked, 0 left, does not sell on
    assert second["additional_image_links"] == "https://cdn/x/tee-back.jpg"
    # compare-at not higher: the variant price alone
    assert (blue["price"], blue["sale_price"]) == ("22.00", "")
    assert blue["image_link"] == "https://cdn/x/tee-blue.jpg" and blue["availability"] == "in_stock"
    assert mug["title"] == "Mug" and mug["price"] == "9.50" and mug["item_group_id"] == "mug"
    assert mug["link"] == "https://shop.example.com/products/mug"
    assert {(p.handle, p.line) for p in problems} == {("old", 6), ("bad", 7)}


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (",Dup,,,,Title,Default Title,,,TEE-R-M,,,deny,1.00,,,,,active\n", "Handle is empty"),
        ("dup,Dup,,,,Title,Default Title,,,TEE-R-M,,,deny,1.00,,,,,active\n", "repeats"),
    ],
)
def test_bad_rows_are_left_out_with_a_reason(extra, fragment):
    _, problems = shopify_product_rows(rows_of(EXPORT + extra))
    assert any(fragment in p.message for p in problems)
