"""What a channel receives is what the seller's catalog holds, in the form the channel
accepts: probed from outside, products with awkward values fetched over the public URL in
every channel and format, through both output paths (the database-written XML and the
Python writers)."""

import pytest

from catalogs.models import ReviewStatus
from catalogs.tests.factories import ProductFactory

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
