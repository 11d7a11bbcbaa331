"""Every feed the app writes reads back through its own importer (`import_feed`) to the same
products, titles, prices and availability (as far as the channel's words allow)."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from catalogs.models import Product, ReviewStatus
from catalogs.tests.factories import CatalogFactory, ProductFactory
from channels import services
from channels.specs import CHANNEL_FORMATS

from .factories import ChannelFeedFactory

pytestmark = pytest.mark.django_db

# what the importer reads back from each channel's availability word
READ_BACK = {
    "google": {
        "in_stock": "in_stock",
        "out_of_stock": "out_of_stock",
        "preorder": "preorder",
        "backorder": "backorder",
        "discontinued": "out_of_stock",  # Google has no "discontinued"
    },
    "meta": {
        "in_stock": "in_stock",
        "out_of_stock": "out_of_stock",
        "preorder": "preorder",
        "backorder": "in_stock",  # "available for order": orderable now
        "discontinued": "discontinued",
    },
}
READ_BACK["tiktok"] = READ_BACK["meta"]

CASES = [(channel, fmt) for channel, formats in CHANNEL_FORMATS.items() for fmt in formats]


@pytest.fixture
def source(tenant_a):
    catalog = CatalogFactory(tenant=tenant_a, name="Source", currency="EUR")
    texts = [
        "Trail Runner",
        "Café crème «spécial» & <more>",
        'Quote "double" and, comma',
        "Ünïcödé 雪 ✓",
        "Tab\tand newline\nin title",
        '"Pro" Runner, a quote first',
    ]
    availabilities = ["in_stock", "out_of_stock", "preorder", "backorder", "discontinued"]
    for i in range(25):
        # the catalog's currency, one of two decimals, none (1200 JPY), three (1.500 KWD)
        currency = ["", "USD", "JPY", "KWD"][i % 4]
        ProductFactory(
            catalog=catalog,
            sku=f"RT-{i:03d}",
            title=f"{texts[i % len(texts)]} {i}",
            price=Decimal("10.00") + i,
            sale_price=Decimal("5.00" if currency == "JPY" else "5.50") if i % 3 == 0 else None,
            currency=currency,
            availability=availabilities[i % len(availabilities)],
            # a comma inside an image URL: every format writes it %2C, one image still
            additional_image_links=[f"https://shop.example.com/i/w_9,h_9/{i}-2.jpg"]
            if i % 2
            else [],
            item_group_id=f"G{i // 5}",
            # Google requires it with preorder and backorder
            custom_attributes={"availability_date": "2026-03-01T13:00-0800"},
            review_status=ReviewStatus.AVAILABLE,
        )
    return catalog


@pytest.mark.parametrize(("channel", "fmt"), CASES)
def test_feed_reads_back_through_import_feed(client, tenant_a, source, tmp_path, channel, fmt):
    feed = ChannelFeedFactory(catalog=source, channel=channel, format=fmt)
    response = client.get(services.feed_path(feed))
    assert response.status_code == 200
    path = tmp_path / feed.filename
    path.write_bytes(b"".join(response.streaming_content))

    target = CatalogFactory(tenant=tenant_a, name=f"Read back {channel} {fmt}", currency="EUR")
    call_command("import_feed", "--catalog", str(target.pk), str(path))

    def snapshot(catalog):
        return {
            p.sku: p
            for p in Product.objects.for_tenant(tenant_a).filter(catalog=catalog, removed_at=None)
        }

    before, after = snapshot(source), snapshot(target)
    assert set(after) == set(before)
    for sku, p in before.items():
        q = after[sku]
        # TSV cannot carry tabs or line breaks inside a value: they become spaces there
        title = " ".join(p.title.split()) if fmt == "tsv" else p.title
        assert q.title.strip() == title.strip(), sku
        assert q.price == p.price, sku
        assert q.sale_price == p.sale_price, sku
        assert q.currency == (p.currency or source.currency), sku
        assert q.availability == READ_BACK[channel][p.availability], sku
        assert q.item_group_id == p.item_group_id, sku
        images = [url.replace(",", "%2C") for url in p.additional_image_links]
        assert q.additional_image_links == images, sku
        assert q.link == p.link and q.image_link == p.image_link, sku
        if channel == "google" and p.availability in ("preorder", "backorder"):
            assert q.custom_attributes["availability_date"] == "2026-03-01T13:00-0800", sku
