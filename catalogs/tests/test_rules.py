from decimal import Decimal as D

import pytest

from catalogs.rules import product_edit_errors

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
