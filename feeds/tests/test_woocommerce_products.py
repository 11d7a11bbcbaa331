"""A WooCommerce product export as feed rows (the pure reading; the pipeline's end-to-end
test is test_woocommerce_import.py)."""

from __future__ import annotations

import io

import pytest

from feeds import woocommerce_products as W
from feeds.parsing import ValidationState
from feeds.tests.feed_rows import parse_feed
from feeds.tests.woocommerce_export import HEADER, Export


def read(rows: list[dict[str, str]], header=HEADER, *, cut: int | None = None):
    """Products and problems of the rows (lines from 2), fed in two parts at ``cut``."""
    products = W.Products(header)
    items = list(enumerate(rows, start=2))
    cut = len(items) if cut is None else cut
    out, problems = [], []
    for part in (items[:cut], items[cut:]):
        got, more = products.add(part)
        out += got
        problems += more
    got, more = products.finish()
    return out + got, problems + more


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (HEADER, True),
        (["\ufeffID", "Type", "SKU", "Name", "Published", "In stock?", "Regular price"], True),
        (["SKU", "Name", "Regular price", "Sale price", "In stock?"], True),
        # other feeds keep their own reading (and which of id and sku wins)
        (["id", "sku", "title", "price", "availability"], False),
        (["id", "title", "regular_price", "sale_price", "published"], False),
        (["Handle", "Variant SKU", "Published", "Variant Price"], False),
    ],
)
def test_the_export_is_recognised_from_its_header(header, expected):
    assert W.is_products_export(header) is expected


@pytest.mark.parametrize(
    ("cells", "availability", "quantity"),
    [
        ({"In stock?": "1", "Stock": "5"}, "in stock", "5"),
        ({"In stock?": "1", "Stock": ""}, "in stock", ""),  # stock not managed
        ({"In stock?": "0", "Stock": ""}, "out of stock", ""),
        ({"In stock?": "0", "Stock": "0"}, "out of stock", "0"),
        ({"In stock?": "1", "Stock": "0", "Backorders allowed?": "0"}, "out of stock", "0"),
        ({"In stock?": "1", "Stock": "-1", "Backorders allowed?": "1"}, "backorder", "-1"),
        ({"In stock?": "1", "Stock": "0", "Backorders allowed?": "notify"}, "backorder", "0"),
        ({"In stock?": "backorder", "Stock": "-3"}, "backorder", "-3"),
        ({"In stock?": "", "Stock": ""}, "in stock", ""),
    ],
)
def test_availability_follows_stock_status_stock_and_backorders(cells, availability, quantity):
    (_, product), *_ = read([{"SKU": "A", "Type": "simple", **cells}])[0]
    assert (product["availability"], product["quantity"]) == (availability, quantity)


@pytest.mark.parametrize(
    ("cells", "field", "expected"),
    [
        ({"Description": "a\\nb", "Short description": "s"}, "description", "a\nb"),
        ({"Description": "path C:\\\\new"}, "description", "path C:\\new"),
        ({"Description": "", "Short description": "short"}, "description", "short"),
        ({"Name": "'=SUM(A1)"}, "title", "=SUM(A1)"),
        ({"Name": "'-20% off"}, "title", "-20% off"),
        ({"Name": "It's"}, "title", "It's"),
        ({"Regular price": "12,50", "Sale price": "9,99"}, "price", "12,50"),
        ({"Regular price": "12,50", "Sale price": "9,99"}, "sale_price", "9,99"),
        ({"Regular price": "", "Sale price": "9.99"}, "price", "9.99"),
        ({"Regular price": "", "Sale price": "9.99"}, "sale_price", ""),
        ({"Categories": "Home \\, Garden > Pots, Sale"}, "product_type", "Home , Garden > Pots"),
        ({"Brands": "Kestrel, Lumen"}, "brand", "Kestrel"),
        ({"Attribute 2 name": "Brand", "Attribute 2 value(s)": "Lumen"}, "brand", "Lumen"),
        ({"Meta: _alg_ean": "0012345678905"}, "gtin", "0012345678905"),
        (
            {"GTIN, UPC, EAN, or ISBN": "4006381333931", "Meta: _alg_ean": "1"},
            "gtin",
            "4006381333931",
        ),
        (
            {"Images": "https://x.test/a.jpg, https://x.test/b,c.jpg"},
            "image_link",
            "https://x.test/a.jpg",
        ),
        (
            {"Images": "https://x.test/a.jpg, https://x.test/b\\,c.jpg, https://x.test/d.jpg"},
            "additional_image_link",
            "https://x.test/b%2Cc.jpg,https://x.test/d.jpg",
        ),
    ],
)
def test_cells_are_read_as_the_shop_holds_them(cells, field, expected):
    (_, product), *_ = read([{"ID": "7", "SKU": "A", "Type": "simple", **cells}])[0]
    assert product[field] == expected


def test_an_id_is_the_sku_else_the_post_id_and_a_row_without_either_is_an_error():
    rows = [
        {"ID": "7", "SKU": "A", "Type": "simple"},
        {"ID": "8", "SKU": "", "Type": "simple"},
        {"ID": "", "SKU": "", "Type": "simple", "Name": "Nameless"},
    ]
    out, problems = read(rows)
    assert [(line, p["sku"]) for line, p in out] == [(2, "A"), (3, "8")]
    assert [(p.line, p.field, p.message, p.severity) for p in problems] == [
        (4, "SKU", W.NO_ID, "error")
    ]


def test_unpublished_products_and_variations_of_unpublished_parents_are_left_out():
    rows = [
        {"ID": "1", "SKU": "P", "Type": "simple", "Published": "2"},
        {"ID": "2", "SKU": "V", "Type": "variable", "Published": "0"},
        {"ID": "3", "SKU": "V-1", "Type": "variation", "Published": "1", "Parent": "V"},
        {"ID": "4", "SKU": "V-2", "Type": "variation", "Published": "0", "Parent": "V"},
        {"ID": "5", "SKU": "OK", "Type": "simple", "Published": "1"},
    ]
    out, problems = read(rows)
    assert [p["sku"] for _, p in out] == ["OK"]
    assert [(p.line, p.sku, p.message) for p in problems] == [
        (2, "P", "left out: the product is pending review in WooCommerce"),
        (4, "V-1", "left out: the product is private in WooCommerce"),
        (5, "V-2", "left out: the product is private in WooCommerce"),
    ]


ROWS = [
    {"ID": "5", "SKU": "", "Type": "variable", "Name": "Tee", "Description": "Soft",
     "Images": "https://x.test/t.jpg, https://x.test/t2.jpg", "Categories": "Shirts",
     "Stock": "4", "Brands": "Kestrel"},
    {"ID": "6", "SKU": "TEE-S", "Type": "variation", "Name": "Tee - S", "Parent": "id:5",
     "Stock": "parent", "Regular price": "10"},
    {"ID": "7", "SKU": "TEE-M", "Type": "variation", "Name": "", "Parent": "id:5",
     "Images": "https://x.test/t-m.jpg", "Regular price": "11", "In stock?": "0"},
    {"ID": "8", "SKU": "MUG", "Type": "simple", "Name": "Mug", "Regular price": "3"},
]  # fmt: skip


@pytest.mark.parametrize("cut", range(len(ROWS) + 1))
def test_variations_inherit_their_parent_across_blocks(cut):
    out, problems = read(ROWS, cut=cut)
    assert problems == []
    products = {p["sku"]: p for _, p in out}
    assert list(products) == ["TEE-S", "TEE-M", "MUG"]
    small, medium = products["TEE-S"], products["TEE-M"]
    assert small["item_group_id"] == medium["item_group_id"] == "5"
    assert (small["title"], medium["title"]) == ("Tee - S", "Tee")
    assert small["description"] == "Soft" and small["brand"] == "Kestrel"
    assert small["product_type"] == "Shirts"
    assert (small["availability"], small["quantity"]) == ("in stock", "4")  # the parent's stock
    assert small["image_link"] == "https://x.test/t.jpg"
    assert small["additional_image_link"] == "https://x.test/t2.jpg"
    assert medium["image_link"] == "https://x.test/t-m.jpg"
    assert medium["additional_image_link"] == "https://x.test/t.jpg,https://x.test/t2.jpg"
    assert medium["availability"] == "out of stock"
    assert products["MUG"]["item_group_id"] == ""


def test_a_variation_before_its_parent_waits_and_one_without_a_parent_is_warned():
    rows = [ROWS[1], ROWS[3], ROWS[0], {**ROWS[2], "Parent": "GONE"}]
    out, problems = read(rows)
    assert [(line, p["sku"], p["description"]) for line, p in out] == [
        (3, "MUG", ""),
        (2, "TEE-S", "Soft"),
        (5, "TEE-M", ""),
    ]
    assert [(p.line, p.sku, p.field, p.severity) for p in problems] == [
        (5, "TEE-M", "Parent", "warning")
    ]
    assert problems[0].message == W.ORPHAN.format("GONE")


def test_an_export_without_some_columns_writes_only_the_fields_it_has():
    header = ["ID", "SKU", "Name", "Published", "In stock?", "Regular price"]
    assert W.Products(header).columns == ["sku", "title", "availability", "price"]


def test_the_pipeline_reads_the_export_with_its_bom_and_validates_its_rows():
    ex = Export()
    ex.product({"ID": "10", "Type": "simple", "SKU": "A", "Name": "Hat", "Regular price": "5"})
    ex.product({"ID": "11", "Type": "simple", "SKU": "A", "Name": "Dup", "Regular price": "5"})
    ex.product({"ID": "12", "Type": "simple", "SKU": "B", "Name": "Bad", "Regular price": "x"})
    state = ValidationState(default_currency="EUR")
    rows, errors = [], []
    for good, errs in parse_feed(io.BytesIO(ex.render()), state=state):
        rows += good
        errors += errs
    assert [(r["sku"], r["price"], r["currency"]) for r in rows] == [("A", "5.00", "EUR")]
    assert [(e.line, e.sku, e.field) for e in errors] == [(3, "A", "id"), (4, "B", "price")]
