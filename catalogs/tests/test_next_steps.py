"""Pages that say what to do next (empty catalog, empty Manage Orders), product titles in
Manage Orders, and what the product page tells about edits and other apps' panels."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog_health.tenancy.roles import Role
from catalogs import product_panels
from catalogs.tests.factories import CatalogFactory, ProductFactory
from catalogs.tests.order_factories import OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(tenant_a):
    return CatalogFactory(tenant=tenant_a, name="Shop")


def _orders_url(tenant) -> str:
    return reverse("catalogs:order_list", kwargs={"tenant_slug": tenant.slug})


def _upload_url(catalog) -> str:
    return reverse(
        "catalogs:catalog_upload",
        kwargs={"tenant_slug": catalog.tenant.slug, "catalog_id": catalog.pk},
    )


def test_an_empty_catalog_offers_a_product_source(client, member, catalog):
    client.force_login(member(catalog.tenant, Role.ADVERTISER))
    url = reverse(
        "catalogs:catalog_detail",
        kwargs={"tenant_slug": catalog.tenant.slug, "catalog_id": catalog.pk},
    )
    page = client.get(url).content.decode()
    sources = reverse(
        "feeds:catalog_sources",
        kwargs={"tenant_slug": catalog.tenant.slug, "catalog_id": catalog.pk},
    )
    assert 'id="catalog-empty"' in page and f"{sources}?new=1#new-source" in page
    # a search that matches nothing in a catalog with products is not "empty"
    ProductFactory(catalog=catalog, sku="A")
    page = client.get(url, {"q": "zzz"}).content.decode()
    assert 'id="catalog-empty"' not in page and "No products match" in page


def test_empty_manage_orders_offers_the_upload_page_not_a_command(client, member, catalog):
    client.force_login(member(catalog.tenant, Role.SELLER))
    page = client.get(_orders_url(catalog.tenant)).content.decode()
    assert "import_orders" not in page
    assert _upload_url(catalog) in page and 'id="orders-empty"' in page


def test_orders_filtered_by_sku_link_back_to_the_product(client, member, catalog):
    product = ProductFactory(catalog=catalog, sku="MUG-1", title="<i>Blue mug</i>")
    client.force_login(member(catalog.tenant, Role.SELLER))
    page = client.get(_orders_url(catalog.tenant), {"sku": "MUG-1"}).content.decode()
    product_url = reverse(
        "catalogs:product_detail",
        kwargs={
            "tenant_slug": catalog.tenant.slug,
            "catalog_id": catalog.pk,
            "product_id": product.pk,
        },
    )
    assert 'id="back-to-product"' in page and product_url in page
    assert "&lt;i&gt;Blue mug&lt;/i&gt;" in page and "<i>Blue mug</i>" not in page
    assert _upload_url(catalog) in page  # still offers the upload page


def test_manage_orders_shows_product_titles_in_a_fixed_number_of_queries(client, member, catalog):
    client.force_login(member(catalog.tenant, Role.SELLER))
    url = _orders_url(catalog.tenant)
    client.get(url)
    counts = []
    for n in (2, 40):
        for i in range(n):
            OrderFactory(product=ProductFactory(catalog=catalog, title=f"Title {n}-{i}"))
        with CaptureQueriesContext(connection) as queries:
            page = client.get(url, {"size": 100}).content.decode()
        counts.append(len(queries))
        assert f"Title {n}-0" in page
    assert counts[0] == counts[1], counts


def test_date_filters_are_wide_enough_to_read(client, member, catalog):
    client.force_login(member(catalog.tenant, Role.SELLER))
    page = client.get(_orders_url(catalog.tenant)).content.decode()
    assert 'class="form-control date-filter"' in page


def _product_url(product) -> str:
    return reverse(
        "catalogs:product_detail",
        kwargs={
            "tenant_slug": product.tenant.slug,
            "catalog_id": product.catalog_id,
            "product_id": product.pk,
        },
    )


@pytest.fixture
def named_source():
    registered = product_panels._source_lookup  # the feeds app's, put back afterwards
    product_panels.register_source_lookup(
        lambda *, tenant, product: product_panels.ProductSource(
            name=f"<b>Daily</b> feed of {tenant.slug}", url="/somewhere/"
        )
    )
    yield
    product_panels.register_source_lookup(registered)


def test_product_page_names_the_source_whose_next_pull_replaces_edits(
    client, member, catalog, named_source
):
    product = ProductFactory(catalog=catalog)
    client.force_login(member(catalog.tenant, Role.SELLER))
    page = client.get(_product_url(product)).content.decode()
    assert "lasts until the next pull of the product source" in page
    assert f"&lt;b&gt;Daily&lt;/b&gt; feed of {catalog.tenant.slug}" in page


def test_product_page_without_a_source_says_edits_stay(client, member, catalog):
    product = ProductFactory(catalog=catalog, last_seen_at=None)
    client.force_login(member(catalog.tenant, Role.SELLER))
    page = client.get(_product_url(product)).content.decode()
    assert "No product source has pulled this product" in page


def test_registered_panels_render_on_the_product_page(client, member, catalog):
    calls = []

    def context(*, tenant, product):
        calls.append((tenant.pk, product.pk))
        if product.sku == "HIDDEN":
            return None
        return {"title": "Extra", "lines": ["<script>x</script>"], "badge_template": ""}

    product_panels.register(
        product_panels.ProductPanel(
            key="test", template="catalogs/_product_panel.html", context=context
        )
    )
    try:
        shown, hidden = (
            ProductFactory(catalog=catalog),
            ProductFactory(catalog=catalog, sku="HIDDEN"),
        )
        client.force_login(member(catalog.tenant, Role.VIEWER))
        page = client.get(_product_url(shown)).content.decode()
        assert 'class="card mt-3 product-panel"' in page and "&lt;script&gt;x" in page
        assert "product-panel" not in client.get(_product_url(hidden)).content.decode()
        assert calls == [(catalog.tenant_id, shown.pk), (catalog.tenant_id, hidden.pk)]
    finally:
        product_panels.unregister("test")
    with pytest.raises(ValueError):
        product_panels.ProductPanel(key="x", template="x", context=context, slot="nowhere")
