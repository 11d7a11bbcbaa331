"""Links reach the channels as RFC 3986 URLs (Google requires them): what must be is
percent-encoded, in every channel, format and path, and the channel's length is judged on
the link as written."""

import random
from decimal import Decimal

import pytest
from django.db import connection

from catalogs.models import ReviewStatus
from catalogs.tests.factories import ProductFactory
from channels import selectors, services, specs, xml_sql

from .factories import ChannelFeedFactory
from .test_values import FEEDS, available, images_of, items_of

pytestmark = pytest.mark.django_db

LINKS = [
    # (stored, sent)
    ("https://shop.example.com/p/a1", "https://shop.example.com/p/a1"),
    ("https://shop.example.com/p/Blue Shoe", "https://shop.example.com/p/Blue%20Shoe"),
    ("https://shop.example.com/p/café?size=½", "https://shop.example.com/p/caf%C3%A9?size=%C2%BD"),
    # escapes and reserved characters stay; a "%" that starts no escape is one
    (
        "https://s.example/a%20b?q=x&y=[1],2;@!$'()*+#f",
        "https://s.example/a%20b?q=x&y=[1],2;@!$'()*+#f",
    ),
    ("https://s.example/50%off", "https://s.example/50%25off"),
    ('https://s.example/{x}|"<y>"^`\\', "https://s.example/%7Bx%7D%7C%22%3Cy%3E%22%5E%60%5C"),
    # spaces at the ends trimmed, tabs and line breaks dropped as a browser drops them
    (" https://s.example/a\tb\n ", "https://s.example/ab"),
    # the host goes as stored (no IDNA in the database's path); its path is encoded
    ("https://bücher.example/straße", "https://bücher.example/stra%C3%9Fe"),
]


@pytest.mark.parametrize(("channel", "fmt", "rules"), FEEDS)
def test_links_go_percent_encoded(client, catalog, channel, fmt, rules):
    for i, (stored, _sent) in enumerate(LINKS):
        available(
            catalog,
            f"U{i}",
            link=stored,
            image_link=stored,
            additional_image_links=[stored],
        )
    feed = ChannelFeedFactory(catalog=catalog, channel=channel, format=fmt, rules=rules)
    items = items_of(client, feed)
    images = images_of(client, feed)
    sent = [
        (items[f"U{i}"]["link"], items[f"U{i}"]["image_link"], images[f"U{i}"])
        for i in range(len(LINKS))
    ]
    # a comma in an additional image URL is %2C (Google's rule for text feeds)
    assert sent == [(s, s, [s.replace(",", "%2C")]) for _stored, s in LINKS]


def test_a_link_a_rule_adds_to_is_encoded(client, catalog):
    available(catalog, "R1", link="https://shop.example.com/p/r1")
    rules = [{"op": "suffix", "field": "link", "value": "?utm_campaign=Spring sale"}]
    feed = ChannelFeedFactory(catalog=catalog, channel="google", format="tsv", rules=rules)
    link = items_of(client, feed)["R1"]["link"]
    assert link == "https://shop.example.com/p/r1?utm_campaign=Spring%20sale"


@pytest.mark.parametrize(("channel", "fmt", "rules"), FEEDS)
def test_a_link_over_the_limit_as_written_leaves_the_product_out_and_counted(
    client, catalog, channel, fmt, rules
):
    # within Google's 2,000 characters as stored, over them as written ("é" is "%C3%A9")
    available(catalog, "L1", link="https://s.example/" + "é" * 331)  # 2,004 as written
    available(catalog, "L2", image_link="https://s.example/" + " " * 700 + "a.jpg")  # 2,123
    available(catalog, "L3", link="https://s.example/" + "é" * 330 + "ab")  # 2,000
    feed = ChannelFeedFactory(catalog=catalog, channel=channel, format=fmt, rules=rules)
    items = items_of(client, feed)
    google = channel == "google"
    assert sorted(items) == (["L3"] if google else ["L1", "L2", "L3"])
    if google:
        assert len(items["L3"]["link"]) == 2000
    assert selectors.feed_left_out(feed).long_value == (2 if google else 0)
    assert selectors.feed_left_out(feed).included == (1 if google else 3)


@pytest.mark.parametrize(("channel", "fmt", "rules"), FEEDS)
def test_an_image_url_of_forbidden_characters_only_is_no_image(
    client, catalog, channel, fmt, rules
):
    urls = [f"https://shop.example.com/i/{n}.jpg" for n in range(12)]
    available(catalog, "F1", additional_image_links=["\x01\x02", "\x0b", *urls])
    available(catalog, "F2", additional_image_links=["\x01"])
    feed = ChannelFeedFactory(catalog=catalog, channel=channel, format=fmt, rules=rules)
    images = images_of(client, feed)
    count = 20 if channel == "meta" else 10
    assert images == {"F1": urls[:count], "F2": []}


@pytest.mark.parametrize("channel", ["google", "meta"])
def test_both_xml_paths_write_links_alike(catalog, channel):
    for i, (stored, _sent) in enumerate(LINKS):
        available(
            catalog,
            f"B{i}",
            link=stored,
            image_link="\x01" if i == 3 else stored,
            additional_image_links=[stored, "\x01", " ", stored + ",x"][: i % 5],
        )
    available(catalog, "B9", additional_image_links=["\x01\x02"])
    available(catalog, "B10", additional_image_links=["https://s.example/é" * 200])
    feed = ChannelFeedFactory(catalog=catalog, channel=channel, format="xml")
    fast = b"".join(services.feed_body(feed, link="https://l/"))
    reference = b"".join(services.feed_body(feed, link="https://l/", fast=False))
    assert fast.count(b"<item>") == reference.count(b"<item>") >= len(LINKS)
    assert b"<g:additional_image_link></g:additional_image_link>" not in fast
    assert fast == reference


URL_ALPHABET = "ab/:?#%%4F, \t\x01\x7f\u3000é\U0001f600[]{}|\"'<>\\^`~"


def test_sql_writes_links_as_python_does():
    rng = random.Random(20260102)
    heads = ["", "https://", "https://bü.example", "x:", "http://h:80"]
    links = [
        rng.choice(heads) + "".join(rng.choice(URL_ALPHABET) for _ in range(rng.randint(0, 20)))
        for _ in range(600)
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {xml_sql.link('t.v')} FROM unnest(%s::text[]) "  # noqa: S608
            "WITH ORDINALITY AS t(v, i) ORDER BY t.i",
            [links],
        )
        assert [row[0] for row in cursor.fetchall()] == [specs.url(u) for u in links]


REFUSED = [
    # (sku, fields, left out for)
    ("P1", {"price": None}, "no_price"),
    ("P2", {"price": Decimal("0.40"), "currency": "JPY"}, "no_price"),  # written 0 JPY
    ("P3", {"price": Decimal("0.00")}, "no_price"),
    ("P4", {"price": Decimal("-5.00")}, "no_price"),
    ("P5", {"image_link": ""}, "no_image"),
    ("P6", {"image_link": "\x01 \x0b"}, "no_image"),  # nothing once the writers drop these
    ("P7", {"price": Decimal("0.50"), "currency": "jpy"}, None),  # 1 JPY
    ("P8", {}, None),
]


@pytest.mark.parametrize(("channel", "fmt", "rules"), FEEDS)
def test_items_without_a_price_above_zero_or_an_image_are_left_out_and_counted(
    client, catalog, channel, fmt, rules
):
    # Google, Meta and TikTok all require a price and an image_link: such an item is refused
    for sku, fields, _reason in REFUSED:
        available(catalog, sku, **fields)
    ProductFactory(catalog=catalog, sku="Q1", image_link="", review_status=ReviewStatus.PENDING)
    feed = ChannelFeedFactory(
        catalog=catalog, channel=channel, format=fmt, rules=rules, include_pending=True
    )
    items = items_of(client, feed)
    assert sorted(items) == ["P7", "P8"]
    assert items["P7"]["price"] == "1 JPY"
    left_out = selectors.feed_left_out(feed)
    assert (left_out.no_price, left_out.no_image, left_out.included) == (4, 3, 2)


def test_a_rule_that_gives_an_image_keeps_the_item(client, catalog):
    available(catalog, "N1", image_link="")
    rules = [{"op": "set", "field": "image_link", "value": "https://shop.example.com/i/n1.jpg"}]
    feed = ChannelFeedFactory(catalog=catalog, channel="google", format="tsv", rules=rules)
    assert items_of(client, feed)["N1"]["image_link"] == "https://shop.example.com/i/n1.jpg"
    assert selectors.feed_left_out(feed).no_image == 1  # counted before the rules
