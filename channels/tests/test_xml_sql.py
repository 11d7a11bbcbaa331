"""The database-written XML items are byte-identical to the Python writers' for the same
products: the fast path cannot drift from the reference."""

from decimal import Decimal

import pytest

from catalogs.models import ReviewStatus
from catalogs.tests.factories import ProductFactory
from channels import services

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
            custom_attributes={"sale_price_effective_date": text} if i % 2 else {},
            gtin=text,
            review_status=ReviewStatus.AVAILABLE,
        )
    feed = ChannelFeedFactory(
        catalog=catalog, channel=channel, format="xml", flagged=flagged, label_slot=3
    )
    fast = b"".join(services.feed_body(feed, link="https://l/?a&b"))
    reference = b"".join(services.feed_body(feed, link="https://l/?a&b", fast=False))
    assert fast.count(b"<item>") == reference.count(b"<item>") >= 10
    assert fast == reference
