"""The product list's keyset pages (catalog_health.pagination) with hand-made cursors."""

import pytest

from catalog_health.pagination import encode_cursor, keyset_paginate
from catalogs.models import Product
from catalogs.tests.factories import ProductFactory


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["\x00", "SKU\x00-1"])
def test_a_cursor_holding_a_nul_opens_the_first_page(value):
    """PostgreSQL stores no NUL in text: a hand-made cursor holding one names no row, and
    comparing with it must not fail the page."""
    products = [ProductFactory(sku=f"S{i}") for i in range(3)]
    page = keyset_paginate(
        Product.objects.filter(pk__in=[p.pk for p in products]),
        sort="sku",
        cursor=encode_cursor(value, 1),
        page_size=10,
    )
    assert sorted(p.pk for p in page.rows) == sorted(p.pk for p in products)
