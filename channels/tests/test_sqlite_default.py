"""Channel feeds on SQLite, the embedded default `make demo` runs on: every channel and
format is served from the SQL the feed reads (no PostgreSQL-only function), with the same
left-out counts. Run in a subprocess with its own SQLite settings, as a demo runs."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

SCRIPT = r"""
import json
from decimal import Decimal
from django.test import Client
from catalogs.models import ReviewStatus
from catalogs.tests.factories import CatalogFactory, ProductFactory
from channels import selectors, services
from channels.specs import CHANNEL_FORMATS
from channels.tests.factories import ChannelFeedFactory

catalog = CatalogFactory(currency="USD")
for sku, brand, price in [("A1", "Acme", "12.99"), ("A2", "", "1200.5"), ("L" * 60, "Acme", "3")]:
    ProductFactory(catalog=catalog, sku=sku, brand=brand, price=Decimal(price),
                   sale_price=None, review_status=ReviewStatus.AVAILABLE)
out = {}
for channel, formats in CHANNEL_FORMATS.items():
    for fmt in formats:
        feed = ChannelFeedFactory(catalog=catalog, channel=channel, format=fmt)
        response = Client().get(services.feed_path(feed))
        body = b"".join(response.streaming_content) if response.streaming else response.content
        out[f"{channel}-{fmt}"] = {
            "status": response.status_code,
            "body": body.decode(),
            "left_out": vars(selectors.feed_left_out(feed)),
        }
print("RESULT " + json.dumps(out))
"""


def test_every_channel_and_format_is_served_on_sqlite(on_sqlite):
    feeds = on_sqlite(SCRIPT)
    assert len(feeds) == 5
    for name, feed in feeds.items():
        assert feed["status"] == 200, (name, feed["body"][-2000:])
        assert "12.99 USD" in feed["body"], name  # SQLite's float read as the amount
        google = name.startswith("google")
        # no brand (nor GTIN or MPN): not on TikTok or Meta
        assert ("1200.50 USD" in feed["body"]) == google, name
        assert ("L" * 60 in feed["body"]) != google, name  # over Google's 50-character ids
        assert feed["left_out"]["long_id"] == (1 if google else 0), name
        assert feed["left_out"]["no_brand"] == (0 if google else 1), name
