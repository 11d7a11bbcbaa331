from datetime import UTC, datetime
from decimal import Decimal

import pytest

from catalog_health.pagination import decode_cursor, encode_cursor, keyset_paginate


@pytest.mark.parametrize(
    "value",
    [None, 0, "abc", "ünï", Decimal("12.30"), datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)],
)
def test_cursor_round_trip(value):
    assert decode_cursor(encode_cursor(value, 42)) == (value, 42)


@pytest.mark.parametrize("garbage", ["", "x", "%%%", "bnVsbA", "W10", "WyJhIl0"])
def test_malformed_cursor_is_ignored(garbage):
    assert decode_cursor(garbage) is None


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["\x00", "SKU\x00-1"])
def test_a_cursor_holding_a_nul_opens_the_first_page(value):
    """PostgreSQL stores no NUL in text: a hand-made cursor holding one names no row, and
    comparing with it must not fail the page."""
    from catalogs.models import Product
    from catalogs.tests.factories import ProductFactory

    products = [ProductFactory(sku=f"S{i}") for i in range(3)]
    page = keyset_paginate(
        Product.objects.filter(pk__in=[p.pk for p in products]),
        sort="sku",
        cursor=encode_cursor(value, 1),
        page_size=10,
    )
    assert sorted(p.pk for p in page.rows) == sorted(p.pk for p in products)
