"""A Shopify products export as feed rows (the pure grouping; the pipeline's end-to-end test
is test_shopify_import.py)."""

import csv
import io

import pytest

from feeds.shopify_products import NOT_TOGETHER, Products, is_products_export, variant_rows

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
mug,,,,,,,,,,,,,,,,https://cdn/x/mug-2.jpg,,
old,Old thing,,,,Title,Default Title,,,OLD-1,,,deny,5.00,,,,,archived
bad,Bad,,,,Title,Default Title,,,BAD-1,,,deny,free,,,,,active
"""
)


def rows_of(text):
    return list(csv.DictReader(io.StringIO(text)))


def header_of(text):
    return next(csv.reader(io.StringIO(text)))


def test_variants_inherit_the_product_and_get_ids_and_prices():
    out, problems = variant_rows(
        rows_of(EXPORT), header=header_of(EXPORT), shop_url="https://shop.example.com/"
    )
    by_sku = {r["sku"]: (line, r) for line, r in out}
    assert list(by_sku) == ["TEE-R-M", "tee-Red-L", "TEE-B-M", "mug", "BAD-1"]
    assert [line for line, _ in out] == [2, 3, 4, 5, 8]
    (_, first), (_, second), (_, blue), (_, mug), (_, bad) = out
    # compare-at above the price: regular price, the variant price is the sale price
    assert (first["price"], first["sale_price"]) == ("25.00", "20.00")
    assert first["title"] == "Basic Tee - Red / M" and first["gtin"] == "0123456789012"
    assert first["item_group_id"] == "tee" and first["quantity"] == "4"
    # a later row of the handle inherits title, description, brand and image
    assert second["title"] == "Basic Tee - Red / L" and second["description"] == "<p>Soft</p>"
    assert second["brand"] == "Kestrel" and second["image_link"] == "https://cdn/x/tee.jpg"
    assert second["availability"] == "out of stock"  # tracked, 0 left, does not sell on
    assert second["additional_image_link"] == "https://cdn/x/tee-back.jpg"
    # compare-at not higher: the variant price alone; its own image first
    assert (blue["price"], blue["sale_price"]) == ("22.00", "")
    assert blue["image_link"] == "https://cdn/x/tee-blue.jpg" and blue["availability"] == "in stock"
    assert blue["additional_image_link"] == "https://cdn/x/tee.jpg,https://cdn/x/tee-back.jpg"
    # an image-only row adds an image, not a variant
    assert mug["title"] == "Mug" and mug["price"] == "9.5" and mug["item_group_id"] == "mug"
    assert mug["additional_image_link"] == "https://cdn/x/mug-2.jpg"
    assert mug["link"] == "https://shop.example.com/products/mug"
    # an unreadable price is passed on as written: the feed's validation rejects it
    assert bad["price"] == "free"
    # an archived product's variants are left out, with a warning
    assert [(p.line, p.sku, p.field, p.severity) for p in problems] == [
        (7, "OLD-1", "Status", "warning")
    ]


def test_a_product_split_across_blocks_reads_as_one():
    rows = list(enumerate(rows_of(EXPORT), start=2))
    whole, _ = variant_rows(rows_of(EXPORT), header=header_of(EXPORT))
    for cut in range(len(rows) + 1):
        products = Products(header_of(EXPORT))
        first, _ = products.add(rows[:cut])
        second, _ = products.add(rows[cut:])
        rest, _ = products.finish()
        assert first + second + rest == whole, cut


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            ",Dup,,,,Title,Default Title,,,X-1,,,deny,1.00,,,,,active\n",
            (9, "X-1", "Handle", "the row has no Handle"),
        ),
        (
            "tee,,,,,,Green,,M,TEE-G-M,,,deny,1.00,,,,,\n",
            (9, "TEE-G-M", "Handle", NOT_TOGETHER.format("tee")),
        ),
    ],
)
def test_rows_that_belong_to_no_product_are_row_errors(extra, expected):
    out, problems = variant_rows(rows_of(EXPORT + extra), header=header_of(EXPORT))
    errors = [(p.line, p.sku, p.field, p.message) for p in problems if p.severity == "error"]
    assert errors == [expected]
    assert "TEE-G-M" not in {r["sku"] for _, r in out}


def test_columns_the_export_lacks_stay_out():
    header = ["HANDLE", "title", "Variant Price"]
    out, _ = variant_rows([{"HANDLE": "h", "title": "T", "Variant Price": "3"}], header=header)
    assert out[0][1]["sku"] == "h" and out[0][1]["title"] == "T"
    assert "quantity" not in out[0][1] and "link" not in out[0][1]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (["Handle", "Title", "Body (HTML)", "Variant SKU", "Variant Price"], True),
        (["\ufeffhandle ", "variant price"], True),
        (["Handle", "Variant SKU"], True),
        (["id", "title", "price", "handle"], False),
        (["Name", "Lineitem sku", "Lineitem price"], False),
    ],
)
def test_the_export_is_recognised_from_its_header(header, expected):
    assert is_products_export(header) is expected


def test_unreadable_rows_of_an_export_are_row_errors_named_by_their_sku():
    """Through the feed reader: a row with a field too many, a NUL byte, an over-long
    title; the rest of the export, the same product's other variants too, reads."""
    from feeds.parsing import ValidationState
    from feeds.tests.feed_rows import parse_feed

    bad = (
        "tee,,,,,,Green,,S,TEE-G-S,shopify,1,deny,20.00,,,,,,extra\n"
        "tee,,,,,,Green,,M,TEE-G-M,shopify,1,deny,20.00,,,,,\x00\n"
        f"long,{'T' * 501},,,,Title,Default Title,,,LONG-1,,,deny,5.00,,,,,active\n"
    )
    state = ValidationState(default_currency="USD")
    text = EXPORT.replace("mug,Mug", bad + "mug,Mug")
    rows, errors = [], []
    for good, errs in parse_feed(io.BytesIO(text.encode()), state=state):
        rows += good
        errors += errs
    assert [(e.line, e.sku, e.field, e.severity) for e in errors] == [
        (5, "TEE-G-S", "row", "error"),
        (6, "TEE-G-M", "row", "error"),
        (7, "LONG-1", "title", "error"),
        (10, "OLD-1", "Status", "warning"),
        (11, "BAD-1", "price", "error"),
    ]
    assert [r["sku"] for r in rows] == ["TEE-R-M", "tee-Red-L", "TEE-B-M", "mug"]
    assert (state.received, state.rejected, state.warnings) == (8, 4, 1)
