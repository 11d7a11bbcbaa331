"""The database-written XML items are byte-identical to the Python writers' for the same
products: the fast path cannot drift from the reference."""

import random
import re
import xml.etree.ElementTree as ET
from decimal import Decimal
from urllib.parse import quote

import psycopg
import pytest
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from catalogs.models import ReviewStatus
from catalogs.tests.factories import ProductFactory
from channels import services, specs, xml_sql
from channels.writers import G_NS

from .factories import ChannelFeedFactory

pytestmark = pytest.mark.django_db

NASTY = [
    "plain",
    "A & B <b>bold</b> > c",
    "quotes \"double\" and 'single'",
    "ctrl \x01\x02\x08\x0b\x0c\x0e\x1f end",
    "tab\tnew\nline\r\nreturn",
    "Ünïcödé 雪 ✓ \ufffe\uffff",
    "",
]


@pytest.mark.parametrize(
    ("channel", "flagged"), [("google", "label"), ("meta", "exclude"), ("google", "ignore")]
)
def test_fast_xml_equals_the_reference_writer(catalog, products, channel, flagged):
    for i, text in enumerate(NASTY):
        ProductFactory(
            catalog=catalog,
            sku=f"N{i}",
            title=text,
            description=text,
            brand=text,
            link=f"https://x/{i}?a=1&b=2",
            price=Decimal("0.5") if i % 2 else None,
            sale_price=Decimal("1234567.80") if i % 3 == 0 else None,
            currency="" if i % 2 else "GBP",
            availability=["in_stock", "discontinued", "backorder", "preorder"][i % 4],
            condition=["", "used", "refurbished"][i % 3],
            additional_image_links=[] if i % 2 else ["https://i/1.jpg", "https://i/2,3.jpg", ""],
            custom_attributes={
                "sale_price_effective_date": text,
                "fb_product_category": text,
                "availability_date": text,
            }
            if i % 2
            else {},
            gtin=text,
            review_status=ReviewStatus.AVAILABLE,
        )
    feed = ChannelFeedFactory(
        catalog=catalog, channel=channel, format="xml", flagged=flagged, label_slot=3
    )
    fast = b"".join(services.feed_body(feed, link="https://l/?a&b"))
    reference = b"".join(services.feed_body(feed, link="https://l/?a&b", fast=False))
    # the products without a price are left out by both
    assert fast.count(b"<item>") == reference.count(b"<item>") >= 6
    assert fast == reference


@pytest.mark.parametrize("catalog_currency", ["JPY", "usd"])
def test_fast_xml_writes_each_currencys_minor_units_as_the_reference(catalog, catalog_currency):
    catalog.currency = catalog_currency
    catalog.save()
    cases = [("", "1200.00"), ("JPY", "1200.50"), ("jpy", "99.49"), ("KRW", "-0.40")]
    cases += [("KWD", "1.50"), ("USD", "12.90"), ("HUF", "4990.00"), ("XYZ", "3.00")]
    cases += [("JPY", "0.49")]  # 0 JPY: left out by both, no price above zero
    cases += [("ßé", "1.00")]  # not a code: its letters beyond ASCII as they are
    for i, (currency, price) in enumerate(cases):
        ProductFactory(
            catalog=catalog,
            sku=f"C{i}",
            price=Decimal(price),
            sale_price=Decimal(price) / 2,
            currency=currency,
            review_status=ReviewStatus.AVAILABLE,
        )
    feed = ChannelFeedFactory(catalog=catalog, channel="google", format="xml")
    fast = b"".join(services.feed_body(feed, link="https://l/"))
    reference = b"".join(services.feed_body(feed, link="https://l/", fast=False))
    root = ET.fromstring(fast)  # noqa: S314 - our own output
    prices = [e.text for e in root.iter(f"{{{G_NS}}}price")]
    first = "1200 JPY" if catalog_currency == "JPY" else "1200.00 USD"  # codes in capitals
    # -0.40 KRW is 0 KRW: left out, no price above zero
    rest = ["1201 JPY", "99 JPY", "1.500 KWD", "12.90 USD", "4990.00 HUF", "3.00 XYZ"]
    rest += ["1.00 ßé"]
    assert prices == [first, *rest]
    assert fast == reference


@pytest.mark.parametrize("channel", ["google", "meta"])
def test_both_paths_write_the_sale_price_effective_date_only_with_a_sale_price(catalog, channel):
    window = "2026-01-01T00:00Z/2026-01-31T23:59Z"
    for sku, sale_price in (("S1", Decimal("9.99")), ("S2", None)):
        ProductFactory(
            catalog=catalog,
            sku=sku,
            price=Decimal("12.99"),
            sale_price=sale_price,
            custom_attributes={"sale_price_effective_date": window},
            review_status=ReviewStatus.AVAILABLE,
        )
    feed = ChannelFeedFactory(catalog=catalog, channel=channel, format="xml")
    fast = b"".join(services.feed_body(feed, link="https://l/"))
    reference = b"".join(services.feed_body(feed, link="https://l/", fast=False))
    assert fast == reference
    root = ET.fromstring(fast)  # noqa: S314 - our own output
    dates = {
        item.findtext(f"{{{G_NS}}}id"): item.findtext(f"{{{G_NS}}}sale_price_effective_date")
        for item in root.iter("item")
    }
    assert dates == {"S1": window, "S2": None}


SHORTEN_ALPHABET = "ab \t\n-,é\u0301\u0e34\u200d\U0001f468\U0001f3fd\u3000字\U0001d4b3&<\x01'"


def test_sql_shortens_every_text_as_python_does():
    """xml_sql.shortened against specs.shorten on many texts of spaces, accents, emoji
    sequences, CJK, astral and forbidden characters, over and under small limits."""
    rng = random.Random(20260101)
    cases = [
        ("".join(rng.choice(SHORTEN_ALPHABET) for _ in range(rng.randint(0, 30))), limit)
        for limit in (1, 2, 3, 5, 8, 13)
        for _ in range(60)
    ]
    with connection.cursor() as cursor:
        for limit in sorted({limit for _, limit in cases}):
            texts = [text for text, n in cases if n == limit]
            cursor.execute(
                f"SELECT {xml_sql.shortened('t.v', limit)} FROM unnest(%s::text[]) "  # noqa: S608
                "WITH ORDINALITY AS t(v, i) ORDER BY t.i",
                [texts],
            )
            assert [row[0] for row in cursor.fetchall()] == [
                specs.shorten(text, limit) for text in texts
            ]


@pytest.mark.parametrize("channel", ["google", "meta"])
def test_both_paths_shorten_long_texts_and_leave_long_ids_out(catalog, channel):
    long_title = "Trail runner " * 20 + "\U0001f44d\U0001f3fd" * 100  # 460 characters
    titles = [long_title, "鞋" * 300, "e\u0301" * 240, "word " * 100]
    # up to our own limit of 10,000: Google's 5,000 shortens each, Meta's 9,999 one
    descriptions = ["word " * 1999 + "x", "鞋" * 10000, "e\u0301" * 4999, long_title * 21]
    for i, (title, description) in enumerate(zip(titles, descriptions, strict=True)):
        ProductFactory(
            catalog=catalog,
            sku=f"L{i}",
            title=title,
            description=description,
            review_status=ReviewStatus.AVAILABLE,
        )
    ProductFactory(catalog=catalog, sku="X" * 51, review_status=ReviewStatus.AVAILABLE)
    feed = ChannelFeedFactory(catalog=catalog, channel=channel, format="xml")
    fast = b"".join(services.feed_body(feed, link="https://l/"))
    reference = b"".join(services.feed_body(feed, link="https://l/", fast=False))
    assert fast == reference
    spec = specs.SPECS[channel]
    root = ET.fromstring(fast)  # noqa: S314 - our own output
    items = root.findall("channel/item")
    for item, title, description in zip(items, titles, descriptions, strict=False):
        # in NFC first ("e" and a combining acute are one "é"), then shortened
        title, description = specs.nfc(title), specs.nfc(description)
        assert item.findtext("title") == specs.shorten(title, spec.text_limits["title"])
        assert len(item.findtext("title")) <= spec.text_limits["title"]
        assert item.findtext("description") == specs.shorten(
            description, spec.text_limits["description"]
        )
    assert items[0].findtext("title").rsplit(" ", 1)[1] in ("Trail", "runner")  # whole words
    ids = [item.findtext(f"{{{G_NS}}}id") for item in items]
    # Google takes ids of up to 50 characters, Meta of up to 100 (ours too)
    assert ("X" * 51 in ids) == (channel == "meta")
    assert len(ids) == len(titles) + (channel == "meta")


# Feed text that tries to pass for the fast path's markup ("<" is "\x01" and ">" "\x02"),
# or for markup in other mark schemes ("\x01\x01" for ">"), or to break out of an element,
# next to every character XML escapes or forbids.
INJECTIONS = [
    "\x01/title\x02\x01g:price\x020.01 USD\x01/g:price\x02\x01title\x02",
    "\x01/title\x01\x01\x01g:price\x01\x010.01 USD\x01/g:price\x01\x01\x01title\x01\x01",
    "\x02\x02\x01\x02 \x02x\x01 \x02&\x01",
    "</title><g:price>0.01 USD</g:price><title>",
    "& &amp; < > \" ' \x01\x01\x01 \x02\x1f end",
    "\x01",
    "\x02",
    "tab\tcr\rnl\n雪 ✓ \ufffe\uffff Ünïcödé",
    "yen \uffe5 half \uff76\uff80 full \uff21 \ufffe bom \ufeff end",
]
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _url(value: str) -> str:
    """RFC 3986 by the standard library: reserved and unreserved characters and escapes
    kept, everything else percent-encoded, the forbidden characters dropped first."""
    return quote(_FORBIDDEN.sub("", value).strip(" "), safe="!#$%&'()*+,/:;=?@[]~")


def _independent_item(product, *, suffix: str = "") -> str:
    """What a Google item must be, written with xml.etree (not the app's writers) from the
    product's own fields: empty values left out, forbidden characters dropped."""
    item = ET.Element("item")
    values = [
        ("g:id", product.sku),
        ("title", product.title + suffix),
        ("description", product.description),
        ("link", _url(product.link)),
        ("g:image_link", _url(product.image_link)),
        ("g:availability", "in stock"),
        ("g:price", f"{product.price} USD" if product.price is not None else ""),
        ("g:condition", product.condition or "new"),
        ("g:brand", product.brand),
    ]
    for url in product.additional_image_links:  # one each, a comma inside one as %2C
        values.append(("g:additional_image_link", _url(url).replace(",", "%2C")))
    values += [("g:gtin", product.gtin), ("g:mpn", product.mpn)]
    for tag, value in values:
        if value:
            ET.SubElement(item, tag).text = _FORBIDDEN.sub("", value)
    return ET.tostring(item, encoding="unicode", short_empty_elements=False) + "\n"


@pytest.mark.parametrize("rules", [[], [{"op": "suffix", "field": "title", "value": " & <co>"}]])
def test_feed_bytes_equal_an_independent_rendering_of_hostile_values(catalog, rules):
    for i, text in enumerate(INJECTIONS):
        ProductFactory(
            catalog=catalog,
            sku=f"H{i}",
            # a letter first: a title or description of forbidden characters only is none,
            # and such a product is left out (every channel requires both)
            title=f"t{text}",
            description=f"d{text}",
            brand="" if i % 2 else text,  # empty optional fields are left out
            link=f"https://x/{i}?a=1&b=<2>",
            image_link=f"https://x/{i}.jpg",
            price=Decimal("10.50"),
            currency="",
            availability="in_stock",
            condition="",
            additional_image_links=[text, "https://i/1.jpg,,https://i/2.jpg"] if i < 3 else [],
            gtin="",
            mpn=text,
            custom_attributes={},
            item_group_id="",
            review_status=ReviewStatus.AVAILABLE,
        )
    feed = ChannelFeedFactory(catalog=catalog, channel="google", format="xml", rules=rules)
    body = b"".join(services.feed_body(feed, link="https://l/"))
    items = body.decode().split("<item>")[1:]
    products = catalog.products.order_by("id")
    suffix = rules[0]["value"] if rules else ""
    expected = [_independent_item(p, suffix=suffix) for p in products]
    assert ["<item>" + item for item in items[:-1]] + [
        "<item>" + items[-1].removesuffix("</channel>\n</rss>\n")
    ] == expected
    root = ET.fromstring(body)  # noqa: S314 - our own output: well-formed, nothing injected
    prices = [e.text for e in root.iter(f"{{{G_NS}}}price")]
    assert prices == ["10.50 USD"] * len(INJECTIONS)


def _slow_unmark(marked: str) -> str:
    """unmark, one character at a time: MARK_LT and the first MARK_GT after it are markup,
    text is escaped, every other forbidden character (a MARK_GT of the text too) dropped."""
    out = []
    in_tag = False
    for ch in marked:
        if ch == "\x01":
            out.append("<")
            in_tag = True
        elif ch == "\x02" and in_tag:
            out.append(">")
            in_tag = False
        elif not _FORBIDDEN.match(ch):
            out.append({"&": "&amp;", "<": "&lt;", ">": "&gt;"}.get(ch, ch))
    return "".join(out)


def _marked(text: str) -> str:
    # as PostgreSQL writes it: feed text without MARK_LT (xml_sql._clean), then markup
    text = text.replace("\x01", "")
    return "\x01item\x02" + text + "\x01g:id\x02" + text + "\x01/g:id\x02\x01/item\x02\n" + text


@pytest.mark.parametrize("text", INJECTIONS)
def test_unmark_equals_a_character_by_character_rendering(text):
    marked = _marked(text)
    assert xml_sql.unmark(marked.encode()) == _slow_unmark(marked).encode()


@given(st.text(alphabet=st.sampled_from("\x01\x02\x03&<>a \n\ufffe\u00e9")))
def test_unmark_of_any_text_equals_the_character_by_character_rendering(text):
    marked = _marked(text)
    assert xml_sql.unmark(marked.encode()) == _slow_unmark(marked).encode()


@pytest.mark.parametrize("group", [1, 7, 512])
def test_items_stream_once_in_id_order_across_groups_and_a_failing_row_fails_the_stream(
    catalog, tenant_b, monkeypatch, group
):
    """The items come grouped by the catalog's ids: every carried item arrives once, in id
    order, whatever the group and chunk sizes, groups whose products are all left out
    included, with another catalog's products interleaved by id; and an error PostgreSQL
    raises mid-COPY reaches the caller (a feed cut short must never look complete)."""
    from catalogs.tests.factories import CatalogFactory
    from channels import selectors

    other = CatalogFactory(tenant=catalog.tenant, name="Other")
    elsewhere = CatalogFactory(tenant=tenant_b, name="Elsewhere")
    carried = []
    for i in range(120):
        # a run of 20 left out (groups with nothing to carry), then every third one
        left_out = 40 <= i < 60 or i % 3 == 0
        status = ReviewStatus.UNAVAILABLE if left_out else ReviewStatus.AVAILABLE
        ProductFactory(catalog=catalog, sku=f"S{i:04}", review_status=status)
        ProductFactory(catalog=other if i % 2 else elsewhere, review_status=status)
        if not left_out:
            carried.append(f"S{i:04}")
    feed = ChannelFeedFactory(catalog=catalog, channel="google", format="xml")
    monkeypatch.setattr(selectors, "GROUP_PRODUCTS", group)
    monkeypatch.setattr(selectors, "COPY_CHUNK_BYTES", 50)
    counter = [0]
    chunks = list(
        selectors.feed_item_chunks(feed, item_sql="p.sku || ','", item_params=[], counter=counter)
    )
    # a chunk holds whole groups: one group of 512 is one chunk
    assert len(chunks) > 5 if group < 100 else len(chunks) == 1
    assert b"".join(chunks).decode().split(",")[:-1] == carried
    assert counter == [len(carried)]

    failing = "CASE WHEN p.sku = 'S0100' THEN (1 / (length(p.sku) - 5))::text ELSE p.sku END"
    with pytest.raises(psycopg.errors.DivisionByZero):
        list(selectors.feed_item_chunks(feed, item_sql=failing, item_params=[]))
    assert catalog.products.count() == 120
