"""A product's image link that is not an image (a .pdf, a product page) is never requested by
the pages: the product list, the product page and Flagged products show a neutral tile saying
so, as review flags the link (`image_link_not_image_type`). The pages and review decide with
the same rule."""

from __future__ import annotations

import pyarrow as pa
import pytest
from django.urls import reverse

from catalog_health.tenancy.roles import Role
from catalogs.rules import image_link_is_image
from catalogs.tests.factories import CatalogFactory, ProductFactory
from ecr.rules.columns import url_check

LINKS = [
    # link, an image for the pages and for review
    ("https://shop.example/img/1.jpg", True),
    ("https://shop.example/img/1.JPEG?v=3", True),
    ("https://cdn.example/a/b.webp#top", True),
    ("https://shop.example/img/1.tiff", True),
    ("http://127.0.0.1:8000/static/demo/product-placeholder.png", True),
    ("https://shop.example/img/1.pdf", False),
    ("https://shop.example/products/hat", False),
    ("https://shop.example/img/1.jpg.html", False),
    ("https://shop.example/view?file=1.jpg", False),
]


@pytest.mark.parametrize(("link", "image"), LINKS)
def test_the_pages_and_review_agree_on_what_an_image_link_is(link, image):
    assert image_link_is_image(link) is image
    not_http, invalid, not_image = url_check(pa.array([link]), image=True)
    assert not (not_http[0] or invalid[0])
    assert bool(not_image[0]) is not image


PAGES = [
    ("catalogs:catalog_detail", lambda p: {"catalog_id": p.catalog_id}),
    ("catalogs:product_detail", lambda p: {"catalog_id": p.catalog_id, "product_id": p.pk}),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "kwargs"), PAGES)
def test_a_page_does_not_request_an_image_link_that_is_not_an_image(
    client, member, tenant_a, name, kwargs
):
    product = ProductFactory(
        catalog=CatalogFactory(tenant=tenant_a), image_link="https://shop.example/files/spec.pdf"
    )
    client.force_login(member(tenant_a, Role.VIEWER))
    response = client.get(reverse(name, kwargs={"tenant_slug": tenant_a.slug, **kwargs(product)}))
    html = response.content.decode()
    assert 'src="https://shop.example/files/spec.pdf"' not in html
    assert 'aria-label="Image link is not an image"' in html
