"""XML items are validated by the same rules as CSV rows (columnar.validate_table): hostile
items get the row errors and warnings a CSV row with the same cells gets, at the item's
position (the "line" of an XML item; a CSV row's line counts the header as line 1)."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from xml.sax.saxutils import escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.columnar import DUPLICATE_ID
from feeds.parsing import RowError, ValidationState
from feeds.tests.feed_rows import parse_feed

NS = 'xmlns:g="http://base.google.com/ns/1.0"'
NESTED_SHIPPING = (
    "<g:shipping><g:country>US</g:country><g:service>Std</g:service>"
    "<g:price>5.99 USD</g:price></g:shipping>"
)


class Nested(str):
    """A value written as child elements in XML (``xml``) and as ``self`` in CSV."""

    xml: str

    def __new__(cls, cell: str, xml: str) -> Nested:
        obj = super().__new__(cls, cell)
        obj.xml = xml
        return obj


def xml_feed(items: list[dict[str, str]]) -> bytes:
    """RSS 2.0 with the g: namespace: the known fields as g: elements, others as they are."""
    out = [f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" {NS}><channel><title>t']
    out.append("</title>")
    for item in items:
        out.append("<item>")
        for name, value in item.items():
            if isinstance(value, Nested):
                out.append(value.xml)
            else:
                out.append(f"<{name}>{escape(value)}</{name}>")
        out.append("</item>")
    out.append("</channel></rss>")
    return "".join(out).encode()


def csv_feed(items: list[dict[str, str]]) -> tuple[bytes, list[int]]:
    """The same items as CSV (a column for every element any item has, "" where it has
    none), and each row's line."""
    columns = list(dict.fromkeys(k for item in items for k in item))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    lines, line = [], 2
    for item in items:
        lines.append(line)
        before = buf.tell()
        writer.writerow([str(item.get(c, "")) for c in columns])
        line += buf.getvalue()[before:].count("\n")
    return buf.getvalue().encode(), lines


def parsed(data: bytes, *, partial: bool = False, chunk_rows: int = 50_000):
    state = ValidationState(default_currency="USD", country="US", partial=partial)
    rows: list[dict[str, str]] = []
    errors: list[RowError] = []
    for good, errs in parse_feed(io.BytesIO(data), state=state, chunk_rows=chunk_rows):
        rows += good
        errors += errs
    return rows, errors, (state.received, state.rejected, state.warnings)


def same_as_csv(items: list[dict[str, str]], *, partial: bool = False):
    """Parse the items as XML and as CSV and check both give the same rows, errors,
    warnings and counts (CSV lines mapped to item positions). Returns the XML result."""
    xml = parsed(xml_feed(items), partial=partial)
    data, lines = csv_feed(items)
    rows, errors, counts = parsed(data, partial=partial)
    position = {line: i + 1 for i, line in enumerate(lines)}
    position[1] = 1  # a column's warning: the header's line in CSV, the first item's in XML
    assert [e for e in xml[1]] == [replace(e, line=position[e.line]) for e in errors]
    assert xml[0] == [r | {"line": str(position[int(r["line"])])} for r in rows]
    assert xml[2] == counts
    return xml


ID = "g:id"
IN_STOCK = {"g:availability": "in stock"}
NO_ID = "the row has no id, so it cannot be identified"
UNREAD_PRICE = "cannot read price “{}” (expected e.g. 12.99 USD)"
QTY_WARNING = "quantity “{}” is not a whole number of at most 9 digits; left empty"
KEPT = "column “{}” maps to no product field; kept as a custom attribute"

CASES = [
    (
        "missing id",
        [{"g:title": "Hat", "g:price": "1 USD", **IN_STOCK}, {ID: "  ", **IN_STOCK}],
        [(1, "", "id", NO_ID, "error"), (2, "", "id", NO_ID, "error")],
    ),
    (
        "missing fields are kept for review; missing availability is a warning",
        [{ID: "A"}, {ID: "B", "g:title": ""}],
        [
            (1, "A", "availability", "availability missing; taken as in stock", "warning"),
            (2, "B", "availability", "availability missing; taken as in stock", "warning"),
        ],
    ),
    (
        "bad prices",
        [
            {ID: "A", "g:price": "free", **IN_STOCK},
            {ID: "B", "g:price": "1.234.5,6.7 USD", **IN_STOCK},
            {ID: "C", "g:price": "12.99", "g:sale_price": "cheap", **IN_STOCK},
            {ID: "D", "g:price": "12.99 USD EUR", **IN_STOCK},
            {ID: "E", "g:price": "1000000000 USD", **IN_STOCK},
            {ID: "F", "g:price": "USD 12,99", **IN_STOCK},
        ],
        [
            (1, "A", "price", UNREAD_PRICE.format("free"), "error"),
            (2, "B", "price", "cannot read price “1.234.5,6.7 USD”", "error"),
            (3, "C", "sale_price", UNREAD_PRICE.format("cheap"), "error"),
            (4, "D", "price", UNREAD_PRICE.format("12.99 USD EUR"), "error"),
            (5, "E", "price", "price is too large", "error"),
        ],
    ),
    (
        "duplicates: only an accepted row claims its id",
        [
            {ID: "A", "g:price": "free", **IN_STOCK},
            {ID: "A", **IN_STOCK},
            {ID: "A", "g:price": "bad", **IN_STOCK},
            {ID: "B", **IN_STOCK},
        ],
        [
            (1, "A", "price", UNREAD_PRICE.format("free"), "error"),
            (3, "A", "id", DUPLICATE_ID, "error"),
        ],
    ),
    (
        "bad availability",
        [{ID: "A", "g:availability": "maybe"}, {ID: "B", "g:availability": "Out-Of-Stock"}],
        [
            (
                1,
                "A",
                "availability",
                "unknown availability “maybe” (use in stock, out of stock, preorder or backorder)",
                "error",
            )
        ],
    ),
    (
        "over-long fields",
        [
            {ID: "x" * 101, **IN_STOCK},
            {ID: "B", "g:title": "t" * 501, **IN_STOCK},
            {ID: "C", "g:description": "d" * 10_001, **IN_STOCK},
            {ID: "D", "colour": "c" * (64 * 1024 + 1), **IN_STOCK},
            {ID: "E", "g:title": "t" * 500, "colour": "c" * (64 * 1024), **IN_STOCK},
        ],
        [
            (1, "", "colour", KEPT.format("colour"), "warning"),
            (1, "x" * 100, "id", "id is longer than 100 characters", "error"),
            (2, "B", "title", "title is longer than 500 characters", "error"),
            (3, "C", "description", "description is longer than 10000 characters", "error"),
            (4, "D", "colour", "colour is longer than 64 KiB", "error"),
            # kept, cut to a custom attribute's 5,000 characters
            (
                5,
                "E",
                "colour",
                "colour is longer than 5,000 characters; the rest was dropped",
                "warning",
            ),
        ],
    ),
    (
        "unknown elements are custom attributes, named once",
        [{ID: "A", "colour": "red", **IN_STOCK}, {ID: "B", "colour": "", **IN_STOCK}],
        [(1, "", "colour", KEPT.format("colour"), "warning")],
    ),
    (
        "nested shipping entries read as GMC text",
        [
            {ID: "A", "g:shipping": Nested("US::Std:5.99 USD", NESTED_SHIPPING), **IN_STOCK},
            {
                ID: "B",
                "g:shipping": Nested(
                    "US:::five",
                    "<g:shipping><g:country>US</g:country><g:price>five</g:price></g:shipping>",
                ),
                **IN_STOCK,
            },
        ],
        [(2, "B", "shipping", UNREAD_PRICE.format("five"), "error")],
    ),
    (
        "warnings: unknown condition, a quantity that is not a number",
        [{ID: "A", "g:condition": "mint", "g:quantity": "lots", **IN_STOCK}],
        [
            (1, "A", "condition", "unknown condition “mint” ignored", "warning"),
            (1, "A", "quantity", QTY_WARNING.format("lots"), "warning"),
        ],
    ),
]


@pytest.mark.parametrize(("case", "items", "expected"), CASES, ids=[c[0] for c in CASES])
def test_hostile_items_get_the_errors_a_csv_row_gets(case, items, expected):
    _rows, errors, _counts = same_as_csv(items)
    assert errors == [RowError(*e) for e in expected]


def test_nested_shipping_takes_the_catalogs_country_entry():
    item = {ID: "A", "g:shipping": Nested("US::Std:5.99 USD", NESTED_SHIPPING), **IN_STOCK}
    rows, _, _ = same_as_csv([item])
    assert rows[0]["shipping_fee"] == "5.99"


def test_repeated_nested_shipping_takes_the_catalogs_country_entry():
    """One <g:shipping> per country, as Merchant Center feeds list them: the catalog's
    country's entry is taken, as from the entries of a CSV cell."""
    shipping = "".join(
        f"<g:shipping><g:country>{c}</g:country><g:price>{p}</g:price></g:shipping>"
        for c, p in (("US", "5.00 USD"), ("GB", "7.00 GBP"))
    )
    item = {ID: "A", "g:shipping": Nested("US:::5.00 USD,GB:::7.00 GBP", shipping), **IN_STOCK}
    fees = []
    for data in (xml_feed([item]), csv_feed([item])[0]):
        state = ValidationState(default_currency="GBP", country="GB")
        fees += [
            r["shipping_fee"] for good, _ in parse_feed(io.BytesIO(data), state=state) for r in good
        ]
    assert fees == ["7.00", "7.00"]


def test_an_unknown_nested_element_is_kept_as_its_json():
    data = xml_feed([{ID: "A", **IN_STOCK, "x": Nested("", "<size><w>3</w><h>4</h></size>")}])
    rows, errors, _ = parsed(data)
    assert rows[0]["custom_attributes"] == '{"size": "{\\"h\\": \\"4\\", \\"w\\": \\"3\\"}"}'
    assert [(e.field, e.severity) for e in errors] == [("size", "warning")]


def test_a_repeated_element_keeps_its_first_value_and_images_add_up():
    data = (
        f"<rss {NS}><channel><item><g:id>A</g:id><g:price>1 USD</g:price>"
        "<g:price>oops</g:price><g:availability>in stock</g:availability>"
        "<g:additional_image_link>a.jpg</g:additional_image_link>"
        "<g:additional_image_link>b.jpg</g:additional_image_link></item></channel></rss>"
    ).encode()
    rows, errors, _ = parsed(data)
    assert errors == [] and rows[0]["price"] == "1.00"
    assert rows[0]["additional_image_links"] == '["a.jpg", "b.jpg"]'


def test_an_image_element_is_one_url_whatever_commas_it_holds():
    """XML gives each additional image an element of its own: a comma in one is part of its
    URL (stored %2C, as a text feed must write it), not a separator."""
    data = (
        f"<rss {NS}><channel><item><g:id>A</g:id><g:price>1 USD</g:price>"
        "<g:availability>in stock</g:availability>"
        "<g:additional_image_link>https://c.test/w_9,h_9/a.jpg</g:additional_image_link>"
        "<g:additional_image_link>https://c.test/b.jpg</g:additional_image_link>"
        "</item></channel></rss>"
    ).encode()
    rows, errors, _ = parsed(data)
    assert errors == []
    assert rows[0]["additional_image_links"] == (
        '["https://c.test/w_9%2Ch_9/a.jpg", "https://c.test/b.jpg"]'
    )


@pytest.mark.parametrize("chunk_rows", [1, 2, 3, 50_000])
def test_item_positions_are_the_lines_across_chunks(chunk_rows):
    items = [{ID: s, **IN_STOCK} for s in ("A", "", "B", "A", "C", "")]
    rows, errors, counts = parsed(xml_feed(items), chunk_rows=chunk_rows)
    assert [(e.line, e.sku, e.field) for e in errors] == [
        (2, "", "id"),
        (4, "A", "id"),
        (6, "", "id"),
    ]
    assert [(r["line"], r["sku"]) for r in rows] == [("1", "A"), ("3", "B"), ("5", "C")]
    assert counts == (6, 3, 0)


def test_update_mode_warns_as_csv_does():
    """An item without an element another item has: the field is in the file, as an empty
    cell in CSV."""
    items = [{ID: "A", **IN_STOCK}, {ID: "B", "g:price": "2 USD"}]
    rows, errors, _ = same_as_csv(items, partial=True)
    assert [(e.line, e.field) for e in errors] == [(2, "availability")]
    assert rows[1]["availability"] == "in_stock"


# ------------------------------------------------------------- any items, both formats

_values = {
    "g:id": st.sampled_from(["", "A", "B", "A", " C ", "x" * 101, "D", "Ünï"]),
    "g:title": st.sampled_from(["", "Hat", "y" * 501, 'Q"uote\\ & <b>', "tab\there"]),
    "g:price": st.sampled_from(
        ["", "1 USD", "12.5 usd", "USD 3", "12,99 EUR", "1,234.56 USD", "free", "5"]
    ),
    "g:sale_price": st.sampled_from(["", "1", "2 USD", "bad"]),
    "g:availability": st.sampled_from(["", "in stock", "OUT_OF_STOCK", "maybe", "pre-order"]),
    "g:condition": st.sampled_from(["", "new", "Used", "mint"]),
    "g:quantity": st.sampled_from(["", "5", "-2", "lots"]),
    "g:shipping": st.sampled_from(["", "US:::5 USD", "GB:::3 GBP,US:::4.5 USD", "nope"]),
    "g:additional_image_link": st.sampled_from(["", "a.jpg, b.jpg"]),
    "color": st.sampled_from(["", "red", 'say "hi"', "line\nbreak", "c" * (64 * 1024 + 1)]),
}
_items = st.lists(
    st.sets(st.sampled_from(sorted(_values))).flatmap(
        lambda keys: st.fixed_dictionaries({k: _values[k] for k in ("g:id", *sorted(keys))})
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(_items, st.booleans())
def test_any_items_read_as_xml_and_as_csv_alike(items, partial):
    same_as_csv(items, partial=partial)
