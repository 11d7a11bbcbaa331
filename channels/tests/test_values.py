"""What a channel receives is what the seller's catalog holds, in the form the channel
accepts: probed from outside, products with awkward values fetched over the public URL in
every channel and format, through both output paths (the database-written XML and the
Python writers)."""

import random
import re
import unicodedata
from decimal import Decimal

import pytest
from django.db import connection

from catalogs.models import ReviewStatus
from catalogs.tests.factories import ProductFactory
from channels import selectors, services, specs, xml_sql

from .factories import ChannelFeedFactory
from .test_delivery import body_of, fetch, table, xml_items

pytestmark = pytest.mark.django_db

# every channel and format, the XML ones also through the Python writers (a rule that
# changes nothing sends them there)
NO_OP_RULE = [{"op": "replace", "field": "title", "find": "~never~", "replace": ""}]
FEEDS = [
    ("google", "xml", []),
    ("google", "xml", NO_OP_RULE),
    ("google", "tsv", []),
    ("meta", "csv", []),
    ("meta", "xml", []),
    ("meta", "xml", NO_OP_RULE),
    ("tiktok", "csv", []),
]


def items_of(client, feed) -> dict[str, dict[str, str]]:
    """The feed's items by id, each column's first value, read by an independent parser."""
    body = body_of(fetch(client, feed))
    if feed.format == "xml":
        out = {}
        for item in xml_items(body):
            flat = {k.removeprefix("g:"): v[0] for k, v in item.items()}
            out[flat["id"]] = flat
        return out
    id_col = "sku_id" if feed.channel == "tiktok" else "id"
    return {r[id_col]: {k: v for k, v in r.items() if v} for r in table(body, feed.format)}


def available(catalog, sku, **fields):
    return ProductFactory(catalog=catalog, sku=sku, review_status=ReviewStatus.AVAILABLE, **fields)


@pytest.mark.parametrize(("channel", "fmt", "rules"), FEEDS)
def test_text_that_starts_like_a_formula_reaches_the_channel_unchanged(
    client, catalog, channel, fmt, rules
):
    # a channel reads its feed as data, never as a spreadsheet: no apostrophe in front
    texts = ["-50% Sale on shoes", "+1 Cable", "=Equal Fit", "@home Chair", "|Bar|", "%Off"]
    for i, text in enumerate(texts):
        available(catalog, f"F{i}", title=text, brand=text, description=text, mpn=text)
    feed = ChannelFeedFactory(catalog=catalog, channel=channel, format=fmt, rules=rules)
    items = items_of(client, feed)
    for i, text in enumerate(texts):
        item = items[f"F{i}"]
        assert (item["title"], item["brand"], item["description"], item["mpn"]) == (text,) * 4


GTINS = [
    ("4006 3813 3393 1", "4006381333931"),  # as printed under a barcode
    ("4006-381-33393-1", "4006381333931"),
    (" 0 12345 67890 5 ", "012345678905"),  # UPC-A
    ("9638-5074", "96385074"),  # EAN-8
    ("4006381333931", "4006381333931"),
    ("ISBN 978-3-16-148410-0", "ISBN 978-3-16-148410-0"),  # not digits: as stored
    ("123-456", "123-456"),  # six digits: no GTIN length
    ("4006 3813 3393 191", "4006 3813 3393 191"),  # fifteen digits
]


@pytest.mark.parametrize(("channel", "fmt", "rules"), FEEDS)
def test_a_gtin_written_with_separators_is_sent_as_its_digits(client, catalog, channel, fmt, rules):
    # the review reads a GTIN without its spaces and hyphens; the channels want it so too
    for i, (stored, _sent) in enumerate(GTINS):
        available(catalog, f"G{i}", gtin=stored)
    feed = ChannelFeedFactory(catalog=catalog, channel=channel, format=fmt, rules=rules)
    items = items_of(client, feed)
    assert [items[f"G{i}"]["gtin"].strip() for i in range(len(GTINS))] == [
        sent.strip() for _stored, sent in GTINS
    ]


def words(n: int) -> str:
    return ("Kestrel " * n)[: n - 1] + "x"


@pytest.mark.parametrize(("channel", "fmt", "rules"), FEEDS)
def test_texts_over_the_channels_limits_are_shortened_at_a_word(
    client, catalog, channel, fmt, rules
):
    # Google takes a brand of up to 70 characters (TikTok's texts are kept within Google's),
    # Meta up to 100; ours is 150
    available(catalog, "B1", brand=words(150))
    available(catalog, "B2", brand=words(70))
    feed = ChannelFeedFactory(catalog=catalog, channel=channel, format=fmt, rules=rules)
    items = items_of(client, feed)
    limit = 100 if channel == "meta" else 70
    brand = items["B1"]["brand"]
    assert limit - 8 <= len(brand) <= limit and brand.endswith("Kestrel")
    assert items["B2"]["brand"] == words(70)


@pytest.mark.parametrize(("channel", "fmt", "rules"), FEEDS)
def test_a_group_id_over_the_channels_limit_leaves_the_product_out_and_counted(
    client, catalog, channel, fmt, rules
):
    # Google takes an item_group_id of up to 50 characters; cut, it would join or split
    # variant groups, so the product stays out, like one with a long id
    available(catalog, "L1", item_group_id="g" * 51)
    available(catalog, "L2", item_group_id="g" * 50)
    feed = ChannelFeedFactory(catalog=catalog, channel=channel, format=fmt, rules=rules)
    items = items_of(client, feed)
    google = channel == "google"
    assert sorted(items) == (["L2"] if google else ["L1", "L2"])
    assert selectors.feed_left_out(feed).long_value == (1 if google else 0)
    assert selectors.feed_left_out(feed).included == (1 if google else 2)


@pytest.mark.parametrize(("channel", "fmt", "rules"), FEEDS)
def test_an_additional_image_url_over_the_channels_limit_is_left_out(
    client, catalog, channel, fmt, rules
):
    long_url = "https://shop.example.com/i/" + "a" * 2000 + ".jpg"
    ok = "https://shop.example.com/i/ok.jpg"
    available(catalog, "I1", additional_image_links=[long_url, ok])
    available(catalog, "I2", additional_image_links=[long_url])
    feed = ChannelFeedFactory(catalog=catalog, channel=channel, format=fmt, rules=rules)
    items = items_of(client, feed)
    if channel == "google":
        assert items["I1"]["additional_image_link"] == ok
        assert "additional_image_link" not in items["I2"]
    else:
        assert items["I2"]["additional_image_link"] == long_url


def test_values_a_rule_makes_too_long_are_fitted_after_the_rules(client, catalog):
    available(catalog, "R1", product_type=words(300))
    available(catalog, "R2", product_type="Shoes", link="https://shop.example.com/r2")
    rules = [
        {"op": "copy", "from": "product_type", "to": "custom_label_1"},
        # a link the rule makes longer than Google's 2,000 characters: cannot be cut
        {"op": "suffix", "field": "link", "value": "?" + "u" * 499},
        {"op": "suffix", "field": "link", "value": "u" * 500},
        {"op": "suffix", "field": "link", "value": "u" * 500},
        {"op": "suffix", "field": "link", "value": "u" * 473},
    ]
    feed = ChannelFeedFactory(catalog=catalog, channel="google", format="tsv", rules=rules)
    items = items_of(client, feed)
    assert sorted(items) == ["R2"]  # R1's link is two characters longer than R2's
    assert len(items["R2"]["link"]) == 2000
    feed.rules = [rules[0]]
    feed.save()
    label = items_of(client, feed)["R1"]["custom_label_1"]
    assert 90 <= len(label) <= 100 and label.endswith("Kestrel")


@pytest.mark.parametrize("channel", ["google", "meta"])
def test_both_xml_paths_fit_values_alike(catalog, channel):
    # the database-written items and the Python writers' stay byte-identical on the values
    # fitted here: separated GTINs, long brands, group ids and image URLs
    urls = [
        "https://i/" + "é" * 1982 + ",,,,.jpg",  # 2,000 characters, 2,008 as written (%2C)
        "https://i/" + "é" * 1987 + ".jpg",  # 2,001
        "https://i/" + "é" * 1986 + ".jpg",  # 2,000
        "https://i/2.jpg",
        "",
    ]
    for i, (stored, _sent) in enumerate(GTINS):
        available(
            catalog,
            f"V{i}",
            gtin=stored,
            brand=words(60 + i * 10),
            item_group_id="g" * (48 + i % 4),
            additional_image_links=urls[i % 5 :] + urls[: i % 3],
        )
    feed = ChannelFeedFactory(catalog=catalog, channel=channel, format="xml")
    fast = b"".join(services.feed_body(feed, link="https://l/"))
    reference = b"".join(services.feed_body(feed, link="https://l/", fast=False))
    assert fast.count(b"<item>") == reference.count(b"<item>") >= 4
    assert fast == reference


SALES = [
    # (price, sale price, sale price sent)
    ("12.99", "9.99", "9.99"),
    ("12.99", "12.99", None),  # equal: no sale, which channels refuse as a sale price
    ("12.99", "15.00", None),  # above the price
    ("12.99", "0.00", None),  # nothing is free by mistake
]


@pytest.mark.parametrize(("channel", "fmt", "rules"), FEEDS)
def test_a_sale_price_goes_only_when_it_is_below_the_price(client, catalog, channel, fmt, rules):
    window = "2026-01-01T00:00Z/2026-01-31T23:59Z"
    for i, (price, sale, _sent) in enumerate(SALES):
        available(
            catalog,
            f"S{i}",
            price=Decimal(price) if price else None,
            sale_price=Decimal(sale),
            custom_attributes={"sale_price_effective_date": window},
        )
    feed = ChannelFeedFactory(catalog=catalog, channel=channel, format=fmt, rules=rules)
    items = items_of(client, feed)
    sent = [
        (items[f"S{i}"].get("sale_price"), items[f"S{i}"].get("sale_price_effective_date"))
        for i in range(len(SALES))
    ]
    assert sent == [(f"{s} USD", window) if s else (None, None) for _p, _s, s in SALES]


LEFT_OUT = "left out"
AVAILABILITY_DATES = [
    # (availability, the product's availability_date, what Google gets; LEFT_OUT: the item)
    ("preorder", "2026-03-01T13:00-0800", "2026-03-01T13:00-0800"),
    ("backorder", "2026-03-01T13:00Z", "2026-03-01T13:00Z"),
    ("preorder", " 2026-03-01T13:00+01:00 ", "2026-03-01T13:00+0100"),
    # seconds and their fractions dropped: Google reads hours and minutes
    ("preorder", "2026-03-01T13:00:59.25+0530", "2026-03-01T13:00+0530"),
    ("backorder", "2026-03-01 13:00:00+02", "2026-03-01T13:00+0200"),  # a timestamptz's text
    # what Google assumes when the time or the zone is missing: midnight, UTC
    ("preorder", "2026-03-01", "2026-03-01T00:00Z"),
    ("backorder", "2026-03-01T13:00", "2026-03-01T13:00Z"),
    ("in_stock", "2026-03-01T13:00Z", None),  # said of a product in stock it means nothing
    ("in_stock", "soon", None),
    ("preorder", None, LEFT_OUT),  # no attribute
    ("backorder", "", LEFT_OUT),
    ("preorder", "next month", LEFT_OUT),
    ("preorder", "2026-13-01", LEFT_OUT),
    ("backorder", "01/03/2026", LEFT_OUT),
    ("preorder", "2026-03-01T25:00Z", LEFT_OUT),
]


def _dated_products(catalog) -> None:
    for i, (availability, date, _sent) in enumerate(AVAILABILITY_DATES):
        attrs = {} if date is None else {"availability_date": date}
        available(catalog, f"D{i}", availability=availability, custom_attributes=attrs)


@pytest.mark.parametrize(("channel", "fmt", "rules"), FEEDS)
def test_a_preorder_or_backorder_goes_to_google_only_with_its_availability_date(
    client, catalog, channel, fmt, rules
):
    # Google requires an availability date (ISO 8601 with a time zone) with preorder and
    # backorder; an imported feed's availability_date column is kept as a custom attribute.
    # Meta's and TikTok's specifications ask no date with either.
    _dated_products(catalog)
    feed = ChannelFeedFactory(catalog=catalog, channel=channel, format=fmt, rules=rules)
    items = items_of(client, feed)
    sent = {sku: item.get("availability_date") for sku, item in items.items()}
    if channel == "google":
        expected = enumerate(AVAILABILITY_DATES)
        assert sent == {f"D{i}": date for i, (_a, _d, date) in expected if date != LEFT_OUT}
    else:
        assert sent == {f"D{i}": None for i in range(len(AVAILABILITY_DATES))}


def test_google_counts_the_preorders_and_backorders_it_leaves_out_without_a_date(catalog):
    _dated_products(catalog)
    left_out = len([row for row in AVAILABILITY_DATES if row[2] == LEFT_OUT])
    for channel, fmt in (("google", "xml"), ("google", "tsv"), ("meta", "csv"), ("tiktok", "csv")):
        feed = ChannelFeedFactory(catalog=catalog, channel=channel, format=fmt)
        counts = selectors.feed_left_out(feed)
        expected = left_out if channel == "google" else 0
        assert counts.no_availability_date == expected, channel
        assert counts.included == len(AVAILABILITY_DATES) - expected, channel


def test_a_rule_gives_google_an_availability_date_checked_like_every_typed_value(client, catalog):
    _dated_products(catalog)
    rules = [{"op": "set", "field": "availability_date", "value": "2026-04-01"}]
    feed = ChannelFeedFactory(catalog=catalog, channel="google", format="tsv", rules=rules)
    sent = {sku: item.get("availability_date") for sku, item in items_of(client, feed).items()}
    assert sent == {f"D{i}": "2026-04-01T00:00Z" for i in range(len(AVAILABILITY_DATES))}
    # a rule that spoils the dates: those items are left out, and counted as such
    feed.rules = [{"op": "replace", "field": "availability_date", "find": "2026-", "replace": ""}]
    feed.save()
    sent = {sku: item.get("availability_date") for sku, item in items_of(client, feed).items()}
    assert sent == {"D7": None, "D8": None}  # in stock: no date to spoil
    assert selectors.feed_left_out(feed).invalid_value == 7


ROUNDED_SALES = [
    # (currency, price, sale price, (price, sale price) sent)
    ("JPY", "1200.40", "1200.00", ("1200 JPY", None)),  # both 1200 JPY: no sale
    ("JPY", "1200.60", "1200.40", ("1201 JPY", "1200 JPY")),
    ("JPY", "12.00", "0.40", ("12 JPY", None)),  # 0 JPY: nothing is free by mistake
    ("KRW", "1000.40", "999.50", ("1000 KRW", None)),  # both 1000 KRW, half away from zero
    ("KRW", "1000.50", "1000.49", ("1001 KRW", "1000 KRW")),
    ("USD", "12.99", "12.98", ("12.99 USD", "12.98 USD")),
]


@pytest.mark.parametrize(("channel", "fmt", "rules"), FEEDS)
def test_a_sale_price_is_compared_with_the_price_as_both_are_written(
    client, catalog, channel, fmt, rules
):
    # a yen price goes without decimals: a sale price that only differs in them is no sale
    for i, (currency, price, sale, _sent) in enumerate(ROUNDED_SALES):
        available(
            catalog, f"R{i}", currency=currency, price=Decimal(price), sale_price=Decimal(sale)
        )
    feed = ChannelFeedFactory(catalog=catalog, channel=channel, format=fmt, rules=rules)
    items = items_of(client, feed)
    sent = [
        (items[f"R{i}"].get("price"), items[f"R{i}"].get("sale_price"))
        for i in range(len(ROUNDED_SALES))
    ]
    assert sent == [s for *_c, s in ROUNDED_SALES]


def images_of(client, feed) -> dict[str, list[str]]:
    """Each item's additional images, one a value: XML elements, or a cell split on ","."""
    body = body_of(fetch(client, feed))
    if feed.format == "xml":
        return {
            item["g:id"][0]: item.get("g:additional_image_link", []) for item in xml_items(body)
        }
    id_col = "sku_id" if feed.channel == "tiktok" else "id"
    return {
        r[id_col]: [u for u in r["additional_image_link"].split(",") if u]
        for r in table(body, feed.format)
    }


@pytest.mark.parametrize(("channel", "fmt", "rules"), FEEDS)
def test_the_first_images_up_to_the_channels_count_go(client, catalog, channel, fmt, rules):
    # Google takes up to 10 additional images (TikTok's are kept within Google's), Meta up
    # to 20: the first ones go, in order; an empty URL is no image, and on Google a URL over
    # its 2,000 characters is left out before counting (Meta and TikTok have no such limit)
    urls = [f"https://shop.example.com/i/{n}.jpg" for n in range(25)]
    long_url = "https://shop.example.com/i/" + "a" * 2000 + ".jpg"
    available(catalog, "M1", additional_image_links=[urls[0], "", long_url, *urls[1:]])
    available(catalog, "M2", additional_image_links=urls[:10])
    feed = ChannelFeedFactory(catalog=catalog, channel=channel, format=fmt, rules=rules)
    images = images_of(client, feed)
    if channel == "google":
        assert images["M1"] == urls[:10]
    else:  # no URL length of their own
        count = 20 if channel == "meta" else 10
        assert images["M1"] == [urls[0], long_url, *urls[1 : count - 1]]
    assert images["M2"] == urls[:10]


@pytest.mark.parametrize("channel", ["google", "meta"])
def test_both_xml_paths_count_images_alike(catalog, channel):
    urls = [f"https://i/{n},{n}.jpg" for n in range(30)]
    for i in range(8):
        available(catalog, f"C{i}", additional_image_links=urls[i : i * 4] + ["", "\x01"] * i)
    feed = ChannelFeedFactory(catalog=catalog, channel=channel, format="xml")
    fast = b"".join(services.feed_body(feed, link="https://l/"))
    reference = b"".join(services.feed_body(feed, link="https://l/", fast=False))
    assert fast == reference


DECOMPOSED = "Cafe\u0301 cre\u0300me bru\u0302le\u0301e"  # 25 characters, 21 in NFC


@pytest.mark.parametrize(("channel", "fmt", "rules"), FEEDS)
def test_text_goes_in_nfc_and_is_counted_so(client, catalog, channel, fmt, rules):
    # channels compare text in NFC, and count "e" and a combining accent as one "é": a
    # title in decomposed form was sent so, and cut 4 characters early
    limit = specs.SPECS[channel].text_limits["title"]
    title = "x" * (limit - 21) + DECOMPOSED  # the limit exactly, in NFC
    attrs = {"fb_product_category": DECOMPOSED, "sale_price_effective_date": DECOMPOSED}
    available(
        catalog,
        "U1",
        title=title,
        description=DECOMPOSED,
        brand=DECOMPOSED,
        product_type=DECOMPOSED,
        google_product_category=DECOMPOSED,
        price=Decimal("10.00"),
        sale_price=Decimal("5.00"),
        custom_attributes=attrs,
        link="https://shop.example.com/cafe\u0301",  # a link's bytes are the server's
        mpn="e\u0301",  # a code, matched byte for byte
    )
    feed = ChannelFeedFactory(catalog=catalog, channel=channel, format=fmt, rules=rules)
    item = items_of(client, feed)["U1"]
    composed = unicodedata.normalize("NFC", DECOMPOSED)
    assert item["title"] == "x" * (limit - 21) + composed
    texts = ["description", "brand", "product_type", "google_product_category"]
    texts += ["sale_price_effective_date"] + (["fb_product_category"] if channel == "meta" else [])
    assert {col: item[col] for col in texts} == dict.fromkeys(texts, composed)
    # the link's own bytes, percent-encoded (RFC 3986), not those of its NFC form
    assert (item["link"], item["mpn"]) == ("https://shop.example.com/cafe%CC%81", "e\u0301")


def test_a_rule_adds_text_in_nfc(client, catalog):
    available(catalog, "U2", title="Tarte")
    rules = [{"op": "suffix", "field": "title", "value": " flambe\u0301e"}]
    feed = ChannelFeedFactory(catalog=catalog, channel="google", format="tsv", rules=rules)
    assert items_of(client, feed)["U2"]["title"] == "Tarte flamb\u00e9e"


def test_sql_writes_nfc_as_python_does():
    """xml_sql.nfc_text against specs.nfc (then specs.shorten) on texts of combining marks
    in and out of order, compatibility ideographs, Hangul jamo, exclusions that never
    compose, precomposed Latin and ASCII."""
    alphabet = "ae \u00e9\u0301\u0300\u0323\u0338<\uf900\u1100\u1161\u11a8\u0958\u0344\u01d5字"
    rng = random.Random(20260102)
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(400)]
    with connection.cursor() as cursor:
        for limit in (None, 3, 8):
            cursor.execute(
                f"SELECT {xml_sql.nfc_text('t.v', limit)} FROM unnest(%s::text[]) "  # noqa: S608
                "WITH ORDINALITY AS t(v, i) ORDER BY t.i",
                [texts],
            )
            expected = [
                specs.nfc(t) if limit is None else specs.shorten(specs.nfc(t), limit) for t in texts
            ]
            assert [row[0] for row in cursor.fetchall()] == expected


def test_a_text_without_a_character_that_may_not_be_nfc_is_nfc():
    # the SQL skips normalize() on such a text: it must be in NFC already
    pattern = re.compile(specs.maybe_not_nfc())
    safe = [cp for cp in range(0x20, 0x30000) if not 0xD800 <= cp <= 0xDFFF]
    safe = [chr(cp) for cp in safe if not pattern.match(chr(cp))]
    rng = random.Random(20260103)
    for _ in range(2000):
        text = "".join(rng.choice(safe) for _ in range(rng.randint(1, 6)))
        assert unicodedata.is_normalized("NFC", text), ascii(text)
