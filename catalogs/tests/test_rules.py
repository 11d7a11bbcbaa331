from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from catalogs.rules import product_edit_errors, product_edit_refusal

BASE = {
    "price": D("10.00"),
    "sale_price": None,
    "inventory_quantity": 5,
    "shipping_fee": D("0"),
    "availability": "in_stock",
}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({}, None),
        ({"price": D("0")}, "price"),
        ({"price": D("-1")}, "price"),
        ({"price": D("1000000000000")}, "price"),
        ({"price": None}, None),  # no price is a review issue, not an edit error
        ({"sale_price": D("9.99")}, None),
        ({"sale_price": D("10.00")}, "sale_price"),
        ({"sale_price": D("12")}, "sale_price"),
        ({"sale_price": D("0")}, "sale_price"),
        ({"price": None, "sale_price": D("5")}, "sale_price"),
        ({"inventory_quantity": -1}, "inventory_quantity"),
        ({"inventory_quantity": 0}, "availability"),
        ({"inventory_quantity": 0, "availability": "out_of_stock"}, None),
        ({"inventory_quantity": None}, None),
        ({"inventory_quantity": 2_147_483_647}, None),
        ({"inventory_quantity": 2_147_483_648}, "inventory_quantity"),  # past the column
        ({"shipping_fee": D("-0.01")}, "shipping_fee"),
        ({"shipping_fee": D("0.00")}, None),
    ],
)
def test_product_edit_errors(changes, field):
    errors = product_edit_errors({**BASE, **changes})
    if field is None:
        assert errors == {}
    else:
        assert field in errors, errors


@pytest.mark.parametrize(
    ("removed_at", "time_zone", "day"),
    [
        (None, "UTC", None),
        (datetime(2026, 3, 6, 1, 30, tzinfo=UTC), "UTC", "2026-03-06"),
        # the tenant's day: 22:30 on the 5th in São Paulo, 10:30 on the 6th in Tokyo
        (datetime(2026, 3, 6, 1, 30, tzinfo=UTC), "America/Sao_Paulo", "2026-03-05"),
        (datetime(2026, 3, 6, 1, 30, tzinfo=UTC), "Asia/Tokyo", "2026-03-06"),
    ],
)
def test_a_product_its_feed_removed_is_not_edited(removed_at, time_zone, day):
    refusal = product_edit_refusal(removed_at, time_zone=time_zone)
    if day is None:
        assert refusal is None
    else:
        assert refusal.startswith(f"The feed removed this product on {day}:")
