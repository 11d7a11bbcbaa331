"""Table-driven and property tests of the pure feed parsing rules (no database)."""

from __future__ import annotations

import codecs
import contextlib
import io
import json
from decimal import Decimal

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from feeds import parsing as p
from feeds.tests.feed_rows import parse_feed


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("id", "sku"),
        ("ID", "sku"),
        ("g:id", "sku"),
        ("G:ID", "sku"),
        (" Retailer ID ", "sku"),
        ("sku_id", "sku"),
        ("retailer_id", "sku"),
        ("offer id", "sku"),
        ("Title", "title"),
        ("g:image_link", "image_link"),
        ("Image Link", "image_link"),
        ("image_url", "image_link"),
        ("g:price", "price"),
        ("Sale Price", "sale_price"),
        ("availability", "availability"),
        ("quantity_to_sell_on_facebook", "quantity"),
        ("\ufeffid", "sku"),
        ("{http://base.google.com/ns/1.0}id", "sku"),
        ("Custom Label 0", "custom_label_0"),
        ("color", "color"),
    ],
)
def test_normalise_header(raw, expected):
    assert p.normalise_header(raw) == expected


def test_normalise_headers_keeps_first_of_duplicates():
    assert p.normalise_headers(["id", "g:id", "title"]) == ["sku", "sku__dup2", "title"]


@pytest.mark.parametrize(
    ("raw", "amount", "currency"),
    [
        ("12.99 USD", "12.99", "USD"),
        ("USD 12.99", "12.99", "USD"),
        ("12,99 EUR", "12.99", "EUR"),
        ("1.234,56 EUR", "1234.56", "EUR"),
        ("1,234.56 USD", "1234.56", "USD"),
        ("1,234 USD", "1234.00", "USD"),
        ("0 USD", "0.00", "USD"),
        ("$5", "5.00", "USD"),
        ("5 €", "5.00", "EUR"),
        ("usd 7", "7.00", "USD"),
        ("  3.5   GBP ", "3.50", "GBP"),
        ("1 234,50 EUR", "1234.50", "EUR"),
        ("12.500 USD", "12.50", "USD"),  # zeros past the cents change nothing
        ("1,2300 EUR", "1.23", "EUR"),
    ],
)
def test_parse_price_ok(raw, amount, currency):
    assert p.parse_price(raw) == (Decimal(amount), currency)


def test_parse_price_default_currency():
    assert p.parse_price("9.99", "CAD") == (Decimal("9.99"), "CAD")


def test_a_price_in_a_currency_that_is_not_iso_4217_is_a_row_error_naming_it():
    from feeds.columnar import validate_table

    state = p.ValidationState(default_currency="USD", country="US")
    rows = {"sku": ["A", "B", "C"], "price": ["12.99 RMB", "5 usd", "3"]}
    rows["sale_price"] = ["", "4 NIS", ""]
    good, errors = validate_table(pa.table(rows), [2, 3, 4], state)
    assert good.column("sku").to_pylist() == ["C"]
    assert [(e.line, e.field, e.message) for e in errors if e.severity == "error"] == [
        (2, "price", "price currency “RMB” is not an ISO 4217 code (e.g. USD, EUR, CNY)"),
        (3, "sale_price", "price currency “NIS” is not an ISO 4217 code (e.g. USD, EUR, CNY)"),
    ]


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "free",
        "12.99",
        "USD",
        "-3 USD",
        "1.2.3,4,5 USD",
        "USD 5 EUR",
        "1e5 USD",
        "999999999999 USD",
        "12. USD",
        ".5 USD",
        # more than two decimal places: a thousand in some notations, cents in others
        "1.234 EUR",
        "12.345 USD",
        "12,3456 EUR",
        "0.001 USD",
        # a currency that is not an ISO 4217 code: channels would refuse it
        "12.99 RMB",
        "ABC 5",
        "5 xyz",
    ],
)
def test_parse_price_rejects(raw):
    with pytest.raises(ValueError):
        p.parse_price(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("in stock", "in_stock"),
        ("in_stock", "in_stock"),
        ("In Stock", "in_stock"),
        ("https://schema.org/InStock", "in_stock"),
        ("available for order", "in_stock"),
        ("out of stock", "out_of_stock"),
        ("OUT_OF_STOCK", "out_of_stock"),
        ("discontinued", "discontinued"),
        ("preorder", "preorder"),
        ("pre-order", "preorder"),
        ("backorder", "backorder"),
    ],
)
def test_parse_availability(raw, expected):
    assert p.parse_availability(raw) == expected


@pytest.mark.parametrize("raw", ["", "maybe", "yes please"])
def test_parse_availability_rejects(raw):
    with pytest.raises(ValueError):
        p.parse_availability(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("US:::5.99 USD", [("US", "", "", "5.99", "USD")]),
        ("US:CA:Ground:5.99 USD", [("US", "CA", "Ground", "5.99", "USD")]),
        (
            "US:::5.99 USD,GB:::4 GBP",
            [("US", "", "", "5.99", "USD"), ("GB", "", "", "4.00", "GBP")],
        ),
        ("DE:::4,99 EUR", [("DE", "", "", "4.99", "EUR")]),
        ("", []),
    ],
)
def test_parse_shipping(raw, expected):
    got = [
        (s.country, s.region, s.service, str(s.price), s.currency) for s in p.parse_shipping(raw)
    ]
    assert got == expected


@pytest.mark.parametrize("raw", ["US:5.99 USD", "USA:::5 USD", "US:::abc"])
def test_parse_shipping_rejects(raw):
    with pytest.raises(ValueError):
        p.parse_shipping(raw)


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (codecs.BOM_UTF8 + b"id,title\n", "utf-8-sig"),
        (codecs.BOM_UTF16_LE + "id,title\n".encode("utf-16-le"), "utf-16"),
        ("id,title\n1,caf\u00e9\n".encode("utf-16-le"), "utf-16-le"),
        ("id,title\n1,caf\u00e9\n".encode("utf-16-be"), "utf-16-be"),
        ("id,title\n1,caf\u00e9\n".encode(), "utf-8"),
        ("id,title\n1,caf\u00e9 \u2013 x\n".encode("cp1252"), "cp1252"),
        (b"id,title\n1,\x81x\xe9\n", "latin-1"),
        ("id\n1,\u20ac".encode()[:-1], "utf-8"),  # multibyte char cut at the end
    ],
)
def test_detect_encoding(head, expected):
    assert p.detect_encoding(head) == expected


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"id,title\n1,a\n", "csv"),
        (b"id\ttitle\n1\ta\n", "tsv"),
        (b"id;title\n1;a\n", "csv"),
        (b'<?xml version="1.0"?><rss/>', "xml"),
        (b"\xef\xbb\xbf<feed xmlns='http://www.w3.org/2005/Atom'/>", "xml"),
    ],
)
def test_detect_format(head, expected):
    assert p.detect_format(head) == expected


@pytest.mark.parametrize(
    ("head", "code"),
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"<!DOCTYPE html><html><body>Login</body></html>", "html"),
        (b"<html><head></head></html>", "html"),
        (b"  <!-- x --><HTML>", "html"),
    ],
)
def test_detect_format_errors(head, code):
    with pytest.raises(p.FeedError) as exc:
        p.detect_format(head)
    assert exc.value.code == code


@pytest.mark.parametrize(
    ("name", "good"),
    [
        ("a.csv", True),
        ("dir/a.csv", True),
        ("../a.csv", False),
        ("/etc/passwd", False),
        ("a/../../b", False),
        ("C:\\x.csv", False),
        ("..\\x", False),
    ],
)
def test_safe_member_name(name, good):
    from feeds.decompress import safe_member_name

    assert safe_member_name(name) is good


def _parse(data: bytes, warnings: bool = False, **kw):
    """Parse a whole feed; return (rows, rejections) or with warnings=True all messages."""
    rows, errors = [], []
    for good, errs in parse_feed(io.BytesIO(data), **kw):
        rows += good
        errors += [e for e in errs if warnings or e.severity == "error"]
    return rows, errors


def test_csv_meta_template_with_bom_and_semicolons():
    data = "\ufeffretailer_id;Name;Price;Availability;Color\nA;Shirt;12,99 EUR;in stock;red\n"
    rows, errors = _parse(data.encode())
    assert errors == []
    assert rows[0]["sku"] == "A"
    assert rows[0]["price"] == "12.99"
    assert rows[0]["currency"] == "EUR"
    assert rows[0]["custom_attributes"] == '{"color": "red"}'


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
def test_csv_encodings_round_trip(encoding):
    data = "id\ttitle\tprice\n1\tCaf\u00e9 cr\u00e8me\t3 EUR\n".encode(encoding)
    rows, errors = _parse(data)
    assert errors == []
    assert rows[0]["title"] == "Caf\u00e9 cr\u00e8me"


def test_row_errors_carry_line_sku_field():
    data = (
        b"id,title,price,availability\n"
        b"1,ok,1 USD,in stock\n"
        b",noid,1 USD,in stock\n"
        b"1,dup,1 USD,in stock\n"
        b"3,bad price,abc,in stock\n"
        b"4,bad avail,1 USD,perhaps\n"
        b"5,,0 USD,\n"
    )
    rows, errors = _parse(data)
    assert [(e.line, e.sku, e.field) for e in errors] == [
        (3, "", "id"),
        (4, "1", "id"),
        (5, "3", "price"),
        (6, "4", "availability"),
    ]
    # missing title and zero price are kept for review, not rejected
    assert [r["sku"] for r in rows] == ["1", "5"]


def test_overlong_field_rejected():
    data = b"id,title\n1," + b"x" * 600 + b"\n"
    rows, errors = _parse(data)
    assert rows == [] and errors[0].field == "title"


def test_missing_id_column_fails_feed():
    with pytest.raises(p.FeedError) as exc:
        _parse(b"name,price\nx,1 USD\n")
    assert exc.value.code == "columns"


def test_chunks_keep_line_numbers():
    data = b"id,price\n" + b"".join(b"%d,1 USD\n" % i for i in range(25)) + b",1 USD\n"
    rows, errors = _parse(data, chunk_rows=7)
    assert len(rows) == 25
    assert errors[0].line == 27


def test_content_hash_changes_with_content_only():
    a, _ = _parse(b"id,title,price\n1,a,1 USD\n")
    b, _ = _parse(b"title,id,price\na,1,1.00 USD\n")
    c, _ = _parse(b"id,title,price\n1,b,1 USD\n")
    assert a[0]["content_hash"] == b[0]["content_hash"] != c[0]["content_hash"]


RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:g="http://base.google.com/ns/1.0"><channel><title>s</title>
<item><g:id>A1</g:id><g:title>Shoe &amp; sock</g:title><g:price>10.00 USD</g:price>
<g:availability>in stock</g:availability><link>https://x.test/a</link>
<g:shipping><g:country>US</g:country><g:service>Std</g:service>
<g:price>5.99 USD</g:price></g:shipping>
<g:custom_label_0>summer</g:custom_label_0></item>
<item><g:id>A2</g:id><g:price>oops</g:price></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:g="http://base.google.com/ns/1.0">
<entry><g:id>B1</g:id><title>T</title><link href="https://x.test/b"/><g:price>USD 2</g:price>
<g:availability>out_of_stock</g:availability></entry></feed>"""


def test_rss_items():
    rows, errors = _parse(RSS)
    assert rows[0]["sku"] == "A1"
    assert rows[0]["title"] == "Shoe & sock"
    assert rows[0]["shipping_fee"] == "5.99"
    assert '"custom_label_0": "summer"' in rows[0]["custom_attributes"]
    assert [(e.line, e.sku, e.field) for e in errors] == [(2, "A2", "price")]


def test_atom_entries():
    rows, errors = _parse(ATOM)
    assert errors == []
    assert rows[0]["link"] == "https://x.test/b"
    assert rows[0]["availability"] == "out_of_stock"


def _atom_entry(inner: str) -> bytes:
    return (
        '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" '
        'xmlns:g="http://base.google.com/ns/1.0"><entry><g:price>2 USD</g:price>'
        f"<g:availability>in stock</g:availability>{inner}</entry></feed>"
    ).encode()


@pytest.mark.parametrize(
    ("inner", "field", "expected"),
    [
        # Google's Atom 1.0 spec: <summary> is the description, <id> the id, <link href> the link
        ("<id>1a</id><summary>Soft wool.</summary>", "description", "Soft wool."),
        (
            '<id>1a</id><summary type="html">Soft &lt;b&gt;wool&lt;/b&gt;</summary>',
            "description",
            "Soft <b>wool</b>",
        ),
        (
            '<id>1a</id><summary type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">'
            "Soft <b>wool</b></div></summary>",
            "description",
            "Soft wool",
        ),
        # the full content says more than the summary
        ("<id>1a</id><summary>Short</summary><content>Long</content>", "description", "Long"),
        ("<id>1a</id><content>Long</content><summary>Short</summary>", "description", "Long"),
        # the Merchant Center attribute wins over Atom's own elements
        (
            "<id>1a</id><summary>S</summary><content>C</content><g:description>G</g:description>",
            "description",
            "G",
        ),
        ("<id>1a</id><g:description>G</g:description><summary>S</summary>", "description", "G"),
        ("<id>1a</id><g:description></g:description><summary>S</summary>", "description", "S"),
        ("<id>tag:x.test,2024:/p/1</id><g:id>B1</g:id>", "sku", "B1"),
        ("<g:id>B1</g:id><id>tag:x.test,2024:/p/1</id>", "sku", "B1"),
        (
            "<id>1a</id><title>Atom title</title><g:title>Product title</g:title>",
            "title",
            "Product title",
        ),
        # Atom: the product page is the alternate link (rel omitted means alternate)
        (
            '<id>1a</id><link rel="self" href="https://x.test/feed"/>'
            '<link rel="alternate" href="https://x.test/p"/>',
            "link",
            "https://x.test/p",
        ),
        (
            '<id>1a</id><link rel="enclosure" href="https://x.test/i.jpg"/>'
            '<link href="https://x.test/p"/>',
            "link",
            "https://x.test/p",
        ),
    ],
)
def test_atom_entry_elements_map_as_merchant_center_reads_them(inner, field, expected):
    rows, errors = _parse(_atom_entry(inner), warnings=True)
    assert rows[0][field] == expected
    assert [e for e in errors if e.field in ("summary", "content")] == []


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (
            b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><rss><item><id>&b;</id></item></rss>',
            "xml_forbidden",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b"<rss><item><id>&x;</id></item></rss>",
            "xml_forbidden",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1/x.dtd"><rss/>',
            "xml_forbidden",
        ),
        (b"<rss><item><id>1</id></rss>", "malformed"),
    ],
)
def test_hostile_xml_fails_clearly(data, code):
    with pytest.raises(p.FeedError) as exc:
        _parse(data)
    assert exc.value.code == code


# ---------------------------------------------------------------- property tests

amounts = st.decimals(min_value=0, max_value=Decimal("9999999.99"), places=2)
currencies = st.sampled_from(["USD", "EUR", "GBP", "JPY", "CAD"])


@given(amounts, currencies, st.sampled_from(["{a} {c}", "{c} {a}", "{a}{c}", "{c}{a}"]))
def test_price_round_trip_dot(amount, currency, template):
    text = template.format(a=f"{amount:.2f}", c=currency)
    assert p.parse_price(text) == (amount, currency)


@given(amounts, currencies)
def test_price_round_trip_decimal_comma(amount, currency):
    text = f"{amount:.2f}".replace(".", ",") + " " + currency
    assert p.parse_price(text) == (amount, currency)


@given(amounts, currencies)
def test_price_round_trip_grouped(amount, currency):
    text = f"{amount:,.2f} {currency}"
    assert p.parse_price(text) == (amount, currency)


@given(st.text(max_size=40))
def test_price_never_crashes(text):
    try:
        amount, cur = p.parse_price(text)
    except ValueError:
        return
    assert amount >= 0 and len(cur) == 3


@given(st.text(max_size=30))
def test_availability_never_crashes(text):
    with contextlib.suppress(ValueError):
        assert p.parse_availability(text) in {
            "in_stock",
            "out_of_stock",
            "preorder",
            "backorder",
            "discontinued",
        }


@given(st.text(max_size=60))
def test_shipping_never_crashes(text):
    with contextlib.suppress(ValueError):
        p.parse_shipping(text)


_cell = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=20).map(
    str.strip
)


@given(st.lists(st.tuples(_cell, _cell), min_size=1, max_size=30))
def test_csv_rows_survive_quoting(rows):
    """Any cell text (commas, quotes, unicode) written by csv comes back unchanged."""
    import csv as _csv

    buf = io.StringIO()
    w = _csv.writer(buf, lineterminator="\n")
    w.writerow(["id", "title"])
    for i, (_, title) in enumerate(rows):
        w.writerow([f"sku{i}", title])
    got, errors = _parse(buf.getvalue().encode())
    assert errors == []
    assert [r["title"] for r in got] == [t for _, t in rows]


@given(st.binary(max_size=300))
def test_garbage_bytes_fail_cleanly(data):
    with contextlib.suppress(p.FeedError):
        _parse(data)


def test_full_row_maps_to_product_columns():
    data = (
        b"g:id,g:item_group_id,g:title,g:description,g:link,g:image_link,"
        b"g:additional_image_link,g:brand,g:gtin,g:mpn,g:condition,g:availability,g:price,"
        b"g:sale_price,g:shipping,g:quantity,g:product_type,g:google_product_category,"
        b"custom_label_0\n"
        b'S1,G1,Shirt,Nice,https://x.test/s,https://x.test/s.jpg,"https://x.test/a.jpg,'
        b'https://x.test/b.jpg",Acme,0001234,M1,New,in stock,10 USD,8 USD,'
        b'"GB:::3 GBP,US:::5 USD",7,Apparel,1604,summer\n'
    )
    state = p.ValidationState(country="US")
    rows = [r for good, _ in parse_feed(io.BytesIO(data), state=state) for r in good]
    assert rows[0] | {"content_hash": ""} == {
        "line": "2",
        "sku": "S1",
        "item_group_id": "G1",
        "title": "Shirt",
        "description": "Nice",
        "link": "https://x.test/s",
        "image_link": "https://x.test/s.jpg",
        "additional_image_links": '["https://x.test/a.jpg", "https://x.test/b.jpg"]',
        "brand": "Acme",
        "gtin": "0001234",
        "mpn": "M1",
        "condition": "new",
        "availability": "in_stock",
        "price": "10.00",
        "sale_price": "8.00",
        "currency": "USD",
        "shipping_fee": "5.00",
        "inventory_quantity": "7",
        "product_type": "Apparel",
        "google_product_category": "1604",
        "custom_attributes": '{"custom_label_0": "summer"}',
        "content_hash": "",
    }
    # one warning: custom_label_0 is no product field (named once, kept as an attribute)
    assert state.received == 1 and state.rejected == 0 and state.warnings == 1


def test_warnings_keep_the_row():
    rows, msgs = _parse(b"id,condition,quantity\n1,mint,lots\n", warnings=True)
    assert len(rows) == 1 and rows[0]["condition"] == "" and rows[0]["inventory_quantity"] == ""
    assert {(m.field, m.severity) for m in msgs} == {
        ("availability", "warning"),
        ("condition", "warning"),
        ("quantity", "warning"),
    }


@pytest.mark.parametrize(
    "raw, stored, warned",
    [
        ("7", "7", False),
        ("-2", "-2", False),  # oversold: as the shop's system reports it
        ("999999999", "999999999", False),
        ("2147483648", "", True),  # over a 32-bit integer
        ("99999999999999", "", True),
        ("1.5", "", True),
        ("lots", "", True),
    ],
)
def test_a_quantity_is_a_whole_number_of_at_most_nine_digits(raw, stored, warned):
    rows, msgs = _parse(f"id,availability,quantity\n1,in stock,{raw}\n".encode(), warnings=True)
    assert rows[0]["inventory_quantity"] == stored
    expected = (
        [("quantity", f"quantity “{raw}” is not a whole number of at most 9 digits; left empty")]
        if warned
        else []
    )
    assert [(m.field, m.message) for m in msgs] == expected


def test_rows_with_extra_fields_become_row_errors():
    """Not lost silently: each is a row error with its id (its line number is estimated)."""
    data = b"id,price\n1,1 USD\n2,12,50 USD\n3,1 USD\n4,1,2\n"
    state = p.ValidationState()
    rows = [r for good, _ in parse_feed(io.BytesIO(data), state=state) for r in good]
    _, errors = _parse(data)
    assert [r["sku"] for r in rows] == ["1", "3"]
    assert sorted((e.sku, e.field) for e in errors) == [("2", "row"), ("4", "row")]
    assert "3 fields" in errors[0].message
    assert (state.received, state.rejected) == (4, 2)


# ------------------------------------------- the vectorised rules agree with the parsers

_values = {
    "sku": st.sampled_from(["", "A", "B", "A", " C ", "x" * 101, "D"]),
    "title": st.sampled_from(["", "Hat", "y" * 501, 'Q"uote\\', "tab\there", "Café ☕ 𝄞"]),
    "price": st.sampled_from(
        [
            *["", "1 USD", "12.5 usd", "USD 3", "12,99 EUR", "1,234.56 USD", "free"],
            *["007.10 GBP", "3 RMB", "RMB 3.5"],
        ]
    ),
    "sale_price": st.sampled_from(["", "1", "2 USD", "bad", "3.456 USD", "4.50 EUR"]),
    "availability": st.sampled_from(["", "in stock", "OUT_OF_STOCK", "maybe", "pre-order"]),
    "quantity": st.sampled_from(["", "5", "-2", "lots"]),
    "shipping": st.sampled_from(["", "US:::5 USD", "GB:::3 GBP,US:::4.5 USD", "nope", "2"]),
    "gtin": st.sampled_from(
        [
            *["", "4006381333931", "4006381333931.0", "4.00638E+12", "7,00"],
            *["12345678905.0", "12345678906", "1234565"],  # 11 digits: a UPC-A without its 0?
        ]
    ),
}


def _reason(row: dict[str, str]) -> str | None:
    """The field a row is rejected for by the value parsers and limits (None: accepted),
    duplicates left out."""
    sku = row["sku"].strip()
    if not sku or len(sku) > 100:
        return "id"
    if len(row["title"].strip()) > 500:
        return "title"
    currency = "USD"
    for f in ("price", "sale_price"):
        try:
            if row[f].strip():
                _, cur = p.parse_price(row[f].strip(), currency)
                if f == "sale_price" and cur != currency:
                    return f  # a sale price in another currency than the price
                currency = cur if f == "price" else currency
        except ValueError:
            return f
    try:
        if row["availability"].strip():
            p.parse_availability(row["availability"])
        p.parse_shipping(row["shipping"].strip(), currency)
    except ValueError as exc:
        return "availability" if "availability" in str(exc) else "shipping"
    try:
        p.parse_gtin(row["gtin"])
    except ValueError:
        return "gtin"
    return None


@given(st.lists(st.fixed_dictionaries(_values), min_size=1, max_size=25), st.integers(0, 25))
def test_vectorised_rules_agree_with_the_value_parsers(rows, cut):
    """Each row is accepted, or rejected for the first rule it breaks; accepted rows carry
    what the value parsers read (the fast paths and the parsers give the same values). The
    rows come in two blocks, so an id claimed in the first is a duplicate in the second."""
    import pyarrow as pa

    from feeds.columnar import validate_table
    from feeds.tests.feed_rows import table_rows

    state = p.ValidationState(default_currency="USD", country="US")
    rejected, accepted = {}, {}
    cut = min(cut, len(rows))
    for start, block in ((0, rows[:cut]), (cut, rows[cut:])):
        if not block:
            continue
        table = pa.table({k: [r[k] for r in block] for k in _values})
        lines = list(range(start + 2, start + len(block) + 2))
        good, errors = validate_table(table, lines, state)
        rejected.update({e.line: e.field for e in errors if e.severity == "error"})
        accepted.update({int(r["line"]): r for r in table_rows(good)})
    claimed: set[str] = set()
    for line, row in enumerate(rows, start=2):
        reason = _reason(row)
        if reason != "id" and row["sku"].strip() in claimed:
            reason = "id"  # a duplicate
        assert rejected.get(line) == reason, (row, errors)
        if reason is not None:
            continue
        out = accepted[line]
        claimed.add(out["sku"])
        assert out["content_hash"] == p.content_hash(out[c] for c in p.HASHED_COLUMNS)
        if row["price"].strip():
            amount, currency = p.parse_price(row["price"].strip(), "USD")
            assert (out["price"], out["currency"]) == (str(amount), currency)
        if row["sale_price"].strip():
            amount, _ = p.parse_price(row["sale_price"].strip(), out["currency"])
            assert out["sale_price"] == str(amount)
        if row["availability"].strip():
            assert out["availability"] == p.parse_availability(row["availability"])
        if row["shipping"].strip():
            entries = p.parse_shipping(row["shipping"].strip(), out["currency"])
            us = [e for e in entries if e.country == "US"] or entries
            same = us[0].currency == out["currency"]  # (else ignored, with a warning)
            assert out["shipping_fee"] == (str(us[0].price) if same else "")
        assert out["gtin"] == p.parse_gtin(row["gtin"])
    assert len(accepted) + len(rejected) == len(rows) == state.received


def test_block_content_hashes_are_content_hash_of_each_row():
    """Hashed from Arrow's buffers (of a sliced block too), as content_hash hashes one
    row's values."""
    from feeds.columnar import _content_hashes

    rows = [
        {c: f"{c} {i} é" if (i + len(c)) % 3 else "" for c in p.HASHED_COLUMNS} for i in range(7)
    ]
    table = pa.table({c: pa.array([r[c] for r in rows], pa.string()) for c in p.HASHED_COLUMNS})
    block = table.slice(2, 4)
    expected = [p.content_hash(r[c] for c in p.HASHED_COLUMNS) for r in rows[2:6]]
    assert _content_hashes(block).to_pylist() == expected


def _validated_rows(rows: list[dict[str, str]], *, partial: bool = False):
    from feeds.columnar import validate_table

    state = p.ValidationState(default_currency="USD", country="US", partial=partial)
    columns = {k: [r[k] for r in rows] for k in rows[0]}
    good, errors = validate_table(pa.table(columns), list(range(2, len(rows) + 2)), state)
    return good, errors


@pytest.mark.parametrize(
    ("price", "sale", "error"),
    [
        ("79.00 USD", "50.00 EUR", "sale_price is in EUR but price is in USD"),
        ("79.00 EUR", "50.00 USD", "sale_price is in USD but price is in EUR"),
        ("79.00 EUR", "€50", None),  # the same currency, written as its symbol
        ("79.00 USD", "50.00", None),  # no currency: the price's
        ("79.00", "50.00 usd", None),  # no price currency: the catalog's
        ("", "50.00 GBP", "sale_price is in GBP but price is in USD"),
    ],
)
def test_a_sale_price_in_another_currency_is_a_row_error(price, sale, error):
    """Never read as an amount in the price's currency: a €50 sale shown as $50."""
    good, errors = _validated_rows(
        [
            {
                "sku": "A",
                "title": "Hat",
                "price": price,
                "sale_price": sale,
                "availability": "in stock",
            }
        ]
    )
    rejected = [(e.field, e.message) for e in errors if e.severity == "error"]
    if error is None:
        assert rejected == [] and good.num_rows == 1
    else:
        assert good.num_rows == 0
        assert rejected == [("sale_price", f"{error}: give both in one currency")]


def test_an_update_mode_sale_price_is_checked_against_the_catalog_currency():
    good, errors = _validated_rows([{"sku": "A", "sale_price": "50.00 EUR"}], partial=True)
    assert good.num_rows == 0
    assert [e.field for e in errors if e.severity == "error"] == ["sale_price"]


def test_a_custom_attribute_cut_at_5000_characters_is_warned():
    good, errors = _validated_rows(
        [
            {"sku": "A", "price": "1 USD", "availability": "in stock", "notes": "n" * 6000},
            {"sku": "B", "price": "1 USD", "availability": "in stock", "notes": "n" * 5000},
        ]
    )
    attrs = [json.loads(v) for v in good.column("custom_attributes").to_pylist()]
    assert [len(a["notes"]) for a in attrs] == [5000, 5000]
    warned = [(e.line, e.field, e.message) for e in errors if e.severity == "warning"]
    assert warned == [(2, "notes", "notes is longer than 5,000 characters; the rest was dropped")]


@pytest.mark.parametrize(
    ("price", "shipping", "country", "fee", "warning"),
    [
        # the entry taken (the catalog's country's, else the first) in another currency:
        # never read as an amount in the price's currency, and the product stays
        ("10 USD", "GB:::7.00 GBP", "US", "", "shipping “GB:::7.00 GBP” is in GBP"),
        ("10 USD", "7.00 GBP", "US", "", "shipping “7.00 GBP” is in GBP"),
        ("10 USD", "US:::5 USD,GB:::7.00 GBP", "GB", "", "shipping “GB:::7.00 GBP” is in GBP"),
        ("10 EUR", "DE:::4,99 USD", "DE", "", "shipping “DE:::4,99 USD” is in USD"),
        # an entry that is not taken does not matter (a multi-country feed)
        ("10 USD", "US:::5 USD,GB:::7.00 GBP", "US", "5.00", None),
        ("10 USD", "GB:::7.00 GBP,US:::5 USD", "US", "5.00", None),
        # no currency: the price's; the price without currency: the catalog's
        ("10 USD", "US:::5", "US", "5.00", None),
        ("10", "US:::5 USD", "US", "5.00", None),
        ("10 EUR", "DE:::4.99 EUR", "DE", "4.99", None),
    ],
)
def test_a_shipping_entry_in_another_currency_is_ignored_with_a_warning(
    price, shipping, country, fee, warning
):
    from feeds.columnar import validate_table

    state = p.ValidationState(default_currency="USD", country=country)
    row = {"sku": "A", "price": price, "availability": "in stock", "shipping": shipping}
    good, errors = validate_table(pa.table({k: [v] for k, v in row.items()}), [2], state)
    assert good.column("shipping_fee").to_pylist() == [fee]
    warned = [(e.line, e.field, e.message) for e in errors]
    if warning is None:
        assert warned == []
    else:
        currency = good.column("currency")[0].as_py()
        assert warned == [
            (2, "shipping", f"{warning} but price is in {currency}: the entry is ignored")
        ]


@pytest.mark.parametrize(
    ("header", "cells"),
    [
        ("fb_product_category,google_product_category", "Clothing > Dresses,2271"),
        ("google_product_category,fb_product_category", "2271,Clothing > Dresses"),
        ("g:google_product_category,FB Product Category", "2271,Clothing > Dresses"),
    ],
)
def test_a_meta_template_keeps_the_facebook_and_google_categories_apart(header, cells):
    """Two taxonomies: Meta's category is never stored (or sent on) as Google's."""
    data = f"id,title,price,availability,{header}\nA,Dress,10 USD,in stock,{cells}\n"
    rows, messages = _parse(data.encode(), warnings=True)
    assert rows[0]["google_product_category"] == "2271"
    assert json.loads(rows[0]["custom_attributes"]) == {"fb_product_category": "Clothing > Dresses"}
    assert messages == []  # a known Meta column: neither unmapped nor a second column


def test_a_facebook_category_alone_is_not_a_google_category():
    data = b"id,title,price,availability,fb_product_category\nA,Dress,10 USD,in stock,Clothing\n"
    rows, _ = _parse(data)
    assert rows[0]["google_product_category"] == ""
    assert json.loads(rows[0]["custom_attributes"]) == {"fb_product_category": "Clothing"}


@pytest.mark.parametrize(
    "housekeeping",
    [
        "<updated>2024-05-01T10:00:00Z</updated>",
        "<published>2024-04-01T10:00:00Z</published>",
        "<author><name>Shop</name><email>shop@x.test</email></author>",
        "<contributor><name>Editor</name></contributor>",
        '<category term="dresses" label="Dresses"/>',
        "<rights>© Shop</rights>",
        "<source><id>tag:x.test,2024:feed</id><title>Shop</title></source>",
    ],
)
def test_atom_housekeeping_elements_are_not_product_data(housekeeping):
    """An Atom entry's own bookkeeping is on every entry of every Atom feed: not a column
    (no unmapped-column warning, no custom attribute, no field written or cleared)."""
    inner = f"<id>1a</id><title>Hat</title>{housekeeping}"
    _assert_not_product_data(_atom_entry(inner))


def _assert_not_product_data(feed: bytes) -> None:
    """The feed's one item reads as its id, title, price and availability alone: no message,
    no custom attribute, no product type, no other field written (an update-mode run keeps
    the catalog's)."""
    rows, messages = _parse(feed, warnings=True)
    assert messages == []
    assert rows[0]["custom_attributes"] == "{}" and rows[0]["product_type"] == ""
    state = p.ValidationState(default_currency="USD", partial=True)
    for _ in parse_feed(io.BytesIO(feed), state=state):
        pass
    assert p.written_fields(state.columns) == p.written_fields(
        ["sku", "title", "price", "availability"]
    )


def _rss_item(inner: str) -> bytes:
    return (
        '<?xml version="1.0"?><rss version="2.0" xmlns:g="http://base.google.com/ns/1.0">'
        "<channel><title>Shop</title><item><g:price>2 USD</g:price>"
        f"<g:availability>in stock</g:availability>{inner}</item></channel></rss>"
    ).encode()


@pytest.mark.parametrize(
    "housekeeping",
    [
        "<guid>https://x.test/p/1</guid>",
        '<guid isPermaLink="false">post-1</guid>',
        "<pubDate>Wed, 01 May 2024 10:00:00 GMT</pubDate>",
        "<comments>https://x.test/p/1#comments</comments>",
        "<author>shop@x.test (Shop)</author>",
        "<category>Dresses</category>",
        '<category domain="https://x.test/tags">sale</category>',
        '<enclosure url="https://x.test/i.jpg" length="1200" type="image/jpeg"/>',
        '<source url="https://x.test/rss">Shop</source>',
    ],
)
def test_rss_housekeeping_elements_are_not_product_data(housekeeping):
    """An RSS 2.0 item's own elements other than title, link and description (the three
    Google's RSS 2.0 spec reads) are not product data: not a column (no unmapped-column
    warning, no custom attribute, no field written or cleared); RSS's <category> is not
    the product type."""
    inner = f"<g:id>A1</g:id><title>Hat</title>{housekeeping}"
    _assert_not_product_data(_rss_item(inner))


@pytest.mark.parametrize(
    ("inner", "field", "expected"),
    [
        # Google's RSS 2.0 spec reads an item's <title>, <link> and <description>
        ("<g:id>A1</g:id><title>Hat</title>", "title", "Hat"),
        ("<g:id>A1</g:id><link>https://x.test/p/1</link>", "link", "https://x.test/p/1"),
        ("<g:id>A1</g:id><description>Soft wool.</description>", "description", "Soft wool."),
        # ...and the id only from g:id: a <guid> is the item's, not the product's
        ("<guid>post-1</guid><g:id>A1</g:id>", "sku", "A1"),
        ("<g:id>A1</g:id><guid>post-1</guid>", "sku", "A1"),
        (
            "<g:product_type>Dresses</g:product_type><category>Sale</category>",
            "product_type",
            "Dresses",
        ),
    ],
)
def test_rss_item_elements_map_as_merchant_center_reads_them(inner, field, expected):
    inner = inner if "g:id" in inner else f"<g:id>A1</g:id>{inner}"
    rows, messages = _parse(_rss_item(inner), warnings=True)
    assert rows[0][field] == expected
    assert messages == []


def test_an_rss_item_with_a_guid_and_no_id_is_rejected_for_its_missing_id():
    rows, errors = _parse(_rss_item("<guid>post-1</guid><title>Hat</title>"))
    assert rows == []
    assert [(e.line, e.field) for e in errors] == [(1, "id")]


def test_a_category_outside_rss_still_reads_as_the_product_type():
    """Only RSS 2.0's <item> has its own <category>: a plain XML export's is the product's."""
    data = (
        b"<products><item><id>A1</id><price>2 USD</price>"
        b"<category>Hats</category></item></products>"
    )
    rows, _ = _parse(data)
    assert rows[0]["product_type"] == "Hats"
