"""Writers and channel values, without a database: escaping, spec values."""

import csv
import io
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from channels import specs
from channels.writers import G_NS, write_feed, xml_text

HOSTILE = 'A & B <script>alert(1)</script> ]]> "q" \x00\x0b end'


def _body(fmt, columns, items):
    return b"".join(write_feed(fmt, columns, items, title="Shop & Co", link="https://x/?a=1&b=2"))


def test_xml_escapes_feed_text_and_drops_forbidden_characters():
    body = _body("xml", ["id", "title"], [{"id": "1", "title": HOSTILE}])
    root = ET.fromstring(body)  # noqa: S314 - our output; raises on a raw "<", "&" or NUL
    item = root.find("channel/item")
    assert item.find("title").text == 'A & B <script>alert(1)</script> ]]> "q"  end'
    assert item.find(f"{{{G_NS}}}id").text == "1"
    assert b"<script>" not in body


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
@pytest.mark.parametrize(
    "evil", ['=HYPERLINK("http://x")', "+1+2", "-2+3", "@SUM(A1)", "\tx", "|cmd"]
)
def test_csv_and_tsv_cells_carry_formula_like_text_unchanged(fmt, evil):
    # a channel reads the feed as data: an apostrophe would become part of the title
    body = _body(fmt, ["id", "title"], [{"id": "1", "title": evil}]).decode()
    rows = list(csv.reader(io.StringIO(body), delimiter="," if fmt == "csv" else "\t"))
    # TSV writes a tab inside a value as a space
    assert rows[1][1] == (evil if fmt == "csv" else evil.replace("\t", " ")), rows


def test_tsv_has_no_tabs_or_line_breaks_inside_values():
    body = _body("tsv", ["id", "description"], [{"id": "1", "description": "a\tb\nc\r\nd"}])
    lines = body.decode().splitlines()
    assert lines == ["id\tdescription", "1\ta b c  d"]


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('"Pro" Runner', '"""Pro"" Runner"'),  # Google reads a leading quote as quoting
        ('"', '""""'),
        ('12" pan', '12" pan'),  # a quote inside an unquoted value is a quote
    ],
)
def test_tsv_quotes_a_value_that_starts_with_a_quote(value, written):
    body = _body("tsv", ["id", "title"], [{"id": "1", "title": value}]).decode()
    assert body.splitlines()[1] == f"1\t{written}"
    assert list(csv.reader(io.StringIO(body), delimiter="\t"))[1] == ["1", value]


def test_xml_text_fast_path_returns_the_same_string():
    s = "plain"
    assert xml_text(s) is s


ROW = (
    1,
    "A1",
    "G1",
    "T",
    "D",
    "https://l",
    "https://i",
    '["https://i2","https://i3"]',
    "B",
    "123",
    "M",
    "",
    "backorder",
    Decimal("12.9"),
    None,
    "",
    "Shoes",
    "Apparel",
    "{}",
    "at_risk",
)


@pytest.mark.parametrize(
    ("channel", "id_col", "availability"),
    [
        ("google", "id", "backorder"),
        ("meta", "id", "available for order"),
        ("tiktok", "sku_id", "available for order"),
    ],
)
def test_items_carry_each_channels_words(channel, id_col, availability):
    item = specs.item_builder(channel, catalog_currency="EUR", label_slot=2)(ROW)
    assert item[id_col] == "A1"
    assert item["price"] == "12.90 EUR"  # the catalog's currency when the product has none
    assert item["sale_price"] == ""
    assert item["availability"] == availability
    assert item["condition"] == "new"
    assert item["additional_image_link"] == "https://i2,https://i3"
    assert item["custom_label_2"] == "at_risk"


@pytest.mark.parametrize(
    ("value", "google", "meta"),
    [
        ("in_stock", "in stock", "in stock"),
        ("out_of_stock", "out of stock", "out of stock"),
        ("preorder", "preorder", "preorder"),
        ("backorder", "backorder", "available for order"),
        ("discontinued", "out of stock", "discontinued"),
    ],
)
def test_availability_words(value, google, meta):
    assert specs.availability_word("google", value) == google
    assert specs.availability_word("meta", value) == meta
    assert specs.availability_word("tiktok", value) == meta


def test_tiktok_header_starts_with_its_template():
    assert ",".join(specs.base_columns("tiktok", label_slot=None)[:9]) == (
        "sku_id,title,description,availability,condition,price,link,image_link,brand"
    )


@pytest.mark.parametrize(
    ("amount", "currency", "written"),
    [
        (Decimal("12.99"), "USD", "12.99 USD"),
        (Decimal("12.9"), "EUR", "12.90 EUR"),
        (Decimal("1200.00"), "JPY", "1200 JPY"),
        (Decimal("1200"), "KRW", "1200 KRW"),
        (Decimal("25000.00"), "VND", "25000 VND"),
        (Decimal("990.00"), "CLP", "990 CLP"),
        (Decimal("1500.00"), "ISK", "1500 ISK"),
        (Decimal("1500.00"), "jpy", "1500 JPY"),  # a lower-case code: a yen price, in capitals
        (Decimal("1200.50"), "JPY", "1201 JPY"),  # ties away from zero, as PostgreSQL
        (Decimal("1200.49"), "JPY", "1200 JPY"),
        (Decimal("0.00"), "JPY", "0 JPY"),
        (Decimal("4990.00"), "HUF", "4990.00 HUF"),  # ISO 4217: two minor units
        (Decimal("1.50"), "KWD", "1.500 KWD"),  # three minor units
        (Decimal("12.99"), "XYZ", "12.99 XYZ"),  # unknown code: two decimals
        (None, "JPY", ""),
    ],
)
def test_prices_have_their_currencys_minor_units(amount, currency, written):
    assert specs.money(amount, currency) == written


@pytest.mark.parametrize("fmt", ["xml", "csv", "tsv"])
def test_every_format_writes_a_yen_price_without_decimals(fmt):
    row = list(ROW)
    row[13], row[14], row[15] = Decimal("1200.00"), Decimal("990.00"), "JPY"
    item = specs.item_builder("google", catalog_currency="USD", label_slot=None)(tuple(row))
    body = _body(fmt, ["id", "price", "sale_price"], [item]).decode()
    assert "1200 JPY" in body and "990 JPY" in body
    assert ".00" not in body


@pytest.mark.parametrize("fmt", ["xml", "csv", "tsv"])
def test_a_comma_inside_an_image_url_does_not_split_it(fmt):
    row = list(ROW)
    row[7] = ["https://cdn.example/w_100,h_100/a.jpg", "", "https://cdn.example/b.jpg"]
    item = specs.item_builder("google", catalog_currency="USD", label_slot=None)(tuple(row))
    # Google's text feeds: "," separates the images, a comma inside one is written %2C
    assert item["additional_image_link"] == (
        "https://cdn.example/w_100%2Ch_100/a.jpg,https://cdn.example/b.jpg"
    )
    body = _body(fmt, ["id", "additional_image_link"], [item])
    if fmt == "xml":
        root = ET.fromstring(body)  # noqa: S314 - our own output
        images = [e.text for e in root.iter(f"{{{G_NS}}}additional_image_link")]
    else:
        rows = list(csv.reader(io.StringIO(body.decode()), delimiter="," if fmt == "csv" else "\t"))
        images = rows[1][1].split(",")
    assert images == ["https://cdn.example/w_100%2Ch_100/a.jpg", "https://cdn.example/b.jpg"]


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("a\x0bb\x0cc", "abc"),  # vertical tab, form feed
        ("\x00\x01\x08\x0e\x1f end", " end"),  # every other C0 control XML 1.0 forbids
        ("non\ufffechar\uffff", "nonchar"),
        ("\x0b=HYPERLINK(1)", "=HYPERLINK(1)"),  # dropped, the rest as it is
        ("Ünïcödé ✓ \u202eRTL 🙂", "Ünïcödé ✓ \u202eRTL 🙂"),
    ],
)
def test_table_cells_drop_the_characters_xml_forbids(fmt, value, written):
    body = _body(fmt, ["id", "title"], [{"id": "1", "title": value}]).decode()
    rows = list(csv.reader(io.StringIO(body), delimiter="," if fmt == "csv" else "\t"))
    assert rows[1] == ["1", written]
    assert body.count("\n") == 2


@pytest.mark.parametrize(
    ("sale_price", "written"),
    [
        (Decimal("9.99"), "2026-01-01T00:00Z/2026-01-31T23:59Z"),
        (None, ""),  # a date without a sale price says nothing a channel can use
    ],
)
def test_the_sale_price_effective_date_goes_only_with_a_sale_price(sale_price, written):
    row = list(ROW)
    row[14] = sale_price
    row[18] = '{"sale_price_effective_date": "2026-01-01T00:00Z/2026-01-31T23:59Z"}'
    item = specs.item_builder("google", catalog_currency="EUR", label_slot=None)(tuple(row))
    assert item["sale_price_effective_date"] == written


@pytest.mark.parametrize(
    ("channel", "custom", "written"),
    [
        (
            "meta",
            '{"fb_product_category": "Clothing & Accessories > Shoes"}',
            "Clothing & Accessories > Shoes",
        ),
        ("meta", "{}", ""),
        ("google", '{"fb_product_category": "Clothing"}', None),  # Meta's taxonomy only
        ("tiktok", '{"fb_product_category": "Clothing"}', None),
    ],
)
def test_meta_items_carry_metas_own_category(channel, custom, written):
    row = list(ROW)
    row[18] = custom
    item = specs.item_builder(channel, catalog_currency="EUR", label_slot=None)(tuple(row))
    assert item.get("fb_product_category") == written
    assert ("fb_product_category" in specs.SPECS[channel].columns) == (written is not None)


FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # one emoji of five code points
THUMB = "\U0001f44d\U0001f3fd"  # thumbs up, medium skin tone


@pytest.mark.parametrize(
    ("text", "limit", "shortened"),
    [
        ("Trail Runner", 12, "Trail Runner"),  # fits
        ("Trail Runner Shoe", 14, "Trail Runner"),  # after the last whole word
        ("abcd efgh ijkl", 9, "abcd efgh"),  # a space right after the limit: a whole word
        ("Shoe - red, blue", 12, "Shoe - red"),  # joining punctuation goes with the cut
        ("x" * 20, 10, "x" * 10),  # one long word: between characters
        ("Nike " + "鞋" * 200, 150, "Nike " + "鞋" * 145),  # no spaces: not just "Nike"
        ("e\u0301" * 6, 5, "e\u0301e\u0301"),  # never an accent without its letter
        ("ab" + FAMILY, 5, "ab"),  # never part of an emoji sequence
        (THUMB * 3, 3, THUMB),  # nor an emoji without its skin tone
        ("\U0001d4b3" * 10, 5, "\U0001d4b3" * 5),  # code points, not UTF-16 halves
        ("e" + "\u0301" * 20, 5, "e" + "\u0301" * 4),  # one cluster over the limit
        ("ab\u3000" + "字" * 10, 3, "ab"),  # an ideographic space is a space
    ],
)
def test_shorten_at_a_word_or_grapheme_boundary(text, limit, shortened):
    assert specs.shorten(text, limit) == shortened
    assert len(shortened) <= limit


@pytest.mark.parametrize(
    ("channel", "title", "description"), [("google", 150, 5000), ("meta", 200, 9999)]
)
def test_texts_over_a_channels_limit_are_shortened_to_it(channel, title, description):
    fit = specs.item_fitter(channel)
    item = fit(
        {
            "title": "word " * 3000,
            "description": "word " * 3000,
            "brand": "Kestrel",
            "price": "1.00 USD",
            "image_link": "https://i/1.jpg",
            "link": "https://shop.example/p/1",
        }
    )
    assert title - 5 <= len(item["title"]) <= title
    assert description - 5 <= len(item["description"]) <= description
    assert item["title"].endswith("word")
