"""The product page shows what the apps built on catalogs know of a product, registered from
their AppConfig.ready(): its flagged status with reasons, and the source its data came from."""

import pytest
from django.urls import reverse

from catalog_health.tenancy.roles import Role
from catalogs.tests.factories import CatalogFactory, ProductFactory
from feeds.tests.factories import FeedRunFactory, ProductSourceFactory
from flagged.tests.factories import FlagStateFactory

pytestmark = pytest.mark.django_db


def product_page(client, member, product):
    client.force_login(member(product.tenant, Role.SELLER))
    url = reverse(
        "catalogs:product_detail",
        kwargs={
            "tenant_slug": product.tenant.slug,
            "catalog_id": product.catalog_id,
            "product_id": product.pk,
        },
    )
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_an_impacted_product_shows_its_status_reasons_and_details_link(client, member, tenant_a):
    product = ProductFactory(catalog=CatalogFactory(tenant=tenant_a))
    FlagStateFactory(product=product)
    body = product_page(client, member, product)
    assert 'id="product-panel-flagged"' in body
    assert "Impacted" in body and "Overdue unshipped rate 12" in body
    assert f"/t/{tenant_a.slug}/flagged/{product.pk}/" in body


def test_a_product_never_flagged_has_no_flagged_panel(client, member, tenant_a):
    product = ProductFactory(catalog=CatalogFactory(tenant=tenant_a))
    assert 'id="product-panel-flagged"' not in product_page(client, member, product)


def test_the_page_names_the_source_whose_next_pull_overwrites_an_edit(client, member, tenant_a):
    catalog = CatalogFactory(tenant=tenant_a)
    source = ProductSourceFactory(catalog=catalog, name="Nightly Shopify export")
    run = FeedRunFactory(source=source)
    product = ProductFactory(catalog=catalog, last_seen_run_id=run.pk)
    body = product_page(client, member, product)
    assert 'id="product-source-name"' in body and "Nightly Shopify export" in body
    assert f"/t/{tenant_a.slug}/sources/{source.pk}/" in body


def test_another_tenants_run_id_names_no_source(client, member, tenant_a, tenant_b):
    foreign_run = FeedRunFactory(
        source=ProductSourceFactory(catalog=CatalogFactory(tenant=tenant_b))
    )
    product = ProductFactory(
        catalog=CatalogFactory(tenant=tenant_a), last_seen_run_id=foreign_run.pk
    )
    body = product_page(client, member, product)
    assert foreign_run.source.name not in body
