"""Catalog pages warn when the catalog's feed is stale: catalogs' pages with a product source
of feeds (a scenario across the two apps, so it lives here, not in either app's tests)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from catalogs.tests.factories import CatalogFactory, ProductFactory
from feeds.tests.factories import ProductSourceFactory

pytestmark = pytest.mark.django_db

STALE = "Refresh the feed before running campaigns"


def test_catalog_pages_warn_when_the_feed_is_stale(client, member, tenant_a):
    catalog = CatalogFactory(tenant=tenant_a)
    source = ProductSourceFactory(catalog=catalog, tenant=tenant_a)
    source.last_success_at = timezone.now() - timedelta(hours=30)
    source.save(update_fields=["last_success_at"])
    product = ProductFactory(catalog=catalog)
    client.force_login(member(tenant_a))
    kwargs = {"tenant_slug": tenant_a.slug, "catalog_id": catalog.pk}
    listing = reverse("catalogs:catalog_detail", kwargs=kwargs)
    detail = reverse("catalogs:product_detail", kwargs={**kwargs, "product_id": product.pk})
    for url in (listing, detail):
        assert STALE in client.get(url).content.decode(), url
    source.last_success_at = timezone.now() - timedelta(hours=2)
    source.save(update_fields=["last_success_at"])
    body = client.get(listing).content.decode()
    assert STALE not in body
    assert "Last refreshed" in body
