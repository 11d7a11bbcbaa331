"""Security headers, CSRF on forms, and hostile text in pages."""

import pytest
from django.test import Client
from django.urls import reverse

from catalog_health.tenancy.roles import Role
from catalogs.tests.factories import CatalogFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_pages_send_csp_and_anti_framing_headers(client, member, tenant_a):
    client.force_login(member(tenant_a))
    response = client.get(reverse("catalogs:catalog_list", kwargs={"tenant_slug": tenant_a.slug}))
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "default-src 'self'" in csp and "object-src 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_no_inline_scripts_or_foreign_assets_in_base_page(client, member, tenant_a):
    client.force_login(member(tenant_a))
    body = client.get(
        reverse("catalogs:catalog_list", kwargs={"tenant_slug": tenant_a.slug})
    ).content.decode()
    assert "<script>" not in body  # CSP allows only script files from our origin
    for tag in ('src="http', "src='http", 'href="http', 'src="//', 'href="//'):
        # product images are data; assets are never loaded from another host
        assert tag not in body.split("<main")[0], tag


def test_forms_require_csrf_token(member, tenant_a):
    product = ProductFactory(catalog=CatalogFactory(tenant=tenant_a), inventory_quantity=5)
    client = Client(enforce_csrf_checks=True)
    client.force_login(member(tenant_a, Role.SELLER))
    url = reverse(
        "catalogs:product_detail",
        kwargs={
            "tenant_slug": tenant_a.slug,
            "catalog_id": product.catalog_id,
            "product_id": product.pk,
        },
    )
    response = client.post(url, {"inventory_quantity": 1, "availability": "in_stock"})
    assert response.status_code == 403
    product.refresh_from_db()
    assert product.inventory_quantity == 5


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "javascript:alert(1)",
    ],
)
def test_hostile_feed_text_is_escaped_in_product_pages(client, member, tenant_a, hostile):
    product = ProductFactory(
        catalog=CatalogFactory(tenant=tenant_a),
        title=hostile,
        description=hostile,
        brand=hostile,
        link=hostile,
        image_link=hostile,
    )
    client.force_login(member(tenant_a))
    url = reverse(
        "catalogs:product_detail",
        kwargs={
            "tenant_slug": tenant_a.slug,
            "catalog_id": product.catalog_id,
            "product_id": product.pk,
        },
    )
    body = client.get(url).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "<img src=x onerror" not in body
    assert 'href="javascript:' not in body and 'src="javascript:' not in body
