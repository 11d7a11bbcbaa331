"""An operator's product edit in Django admin goes through the seller's service: only the
seller-editable fields, validated, audited, sent back to review, and seen by the channel
feeds (their ETag changes) like a seller's edit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from catalog_health.tenancy.models import AuditEvent
from catalogs.models import Product, ReviewStatus
from catalogs.tests.factories import CatalogFactory, ProductFactory
from channels.selectors import feed_version
from channels.tests.factories import ChannelFeedFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def product(tenant_a):
    catalog = CatalogFactory(tenant=tenant_a, currency="USD")
    return ProductFactory(
        catalog=catalog,
        sku="HAT-1",
        price=Decimal("20.00"),
        sale_price=None,
        inventory_quantity=5,
        availability="in_stock",
        review_status=ReviewStatus.AVAILABLE,
    )


def _form(product: Product, **changes) -> dict:
    data = {
        "inventory_quantity": product.inventory_quantity,
        "price": product.price,
        "sale_price": product.sale_price or "",
        "shipping_fee": product.shipping_fee if product.shipping_fee is not None else "",
        "availability": product.availability,
    }
    return {**data, **changes}


def test_an_admin_edit_is_audited_sent_to_review_and_changes_the_feeds_etag(
    admin_client, product, django_capture_on_commit_callbacks
):
    feed = ChannelFeedFactory(catalog=product.catalog)
    before = feed_version(feed).etag
    url = reverse("admin:catalogs_product_change", args=[product.pk])
    with django_capture_on_commit_callbacks(execute=False):
        response = admin_client.post(url, _form(product, price="18.50"))
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.price == Decimal("18.50")
    assert product.review_status == ReviewStatus.PENDING
    entry = AuditEvent.objects.get(action="product.updated")
    assert entry.changes == {"price": ["20.00", "18.50"]}
    assert feed_version(feed).etag != before


def test_review_status_and_feed_fields_are_read_only_in_admin(admin_client, product):
    url = reverse("admin:catalogs_product_change", args=[product.pk])
    posted = _form(product, review_status=ReviewStatus.UNAVAILABLE, title="Changed", sku="X")
    admin_client.post(url, posted)
    product.refresh_from_db()
    assert (product.review_status, product.title, product.sku) == (
        ReviewStatus.AVAILABLE,
        product.title,
        "HAT-1",
    )
    assert product.title != "Changed"
    assert admin_client.get(reverse("admin:catalogs_product_add")).status_code == 403


def test_an_invalid_admin_edit_is_refused_and_changes_nothing(admin_client, product):
    url = reverse("admin:catalogs_product_change", args=[product.pk])
    response = admin_client.post(url, _form(product, sale_price="25.00"))
    assert response.status_code == 200
    assert "Sale price must be lower than the price." in response.content.decode()
    product.refresh_from_db()
    assert product.sale_price is None and product.review_status == ReviewStatus.AVAILABLE
    assert not AuditEvent.objects.filter(action="product.updated").exists()


def test_a_product_its_feed_removed_is_read_only_in_admin(admin_client, product):
    from datetime import UTC, datetime

    Product.objects.filter(pk=product.pk).update(removed_at=datetime(2026, 3, 5, 12, tzinfo=UTC))
    url = reverse("admin:catalogs_product_change", args=[product.pk])

    page = admin_client.get(url)
    refused = admin_client.post(url, _form(product, price="18.50"))

    assert page.status_code == 200
    body = page.content.decode()
    assert 'name="_save"' not in body
    assert "The feed removed this product on 2026-03-05" in body
    assert refused.status_code == 403
    product.refresh_from_db()
    assert product.price == Decimal("20.00")
    assert not AuditEvent.objects.filter(action="product.updated").exists()
