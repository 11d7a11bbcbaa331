from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D

import pytest

from catalogs.rules import (
    future_day_error,
    future_limit,
    future_time_error,
    future_times_errors,
    product_edit_errors,
    product_edit_refusal,
)

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


# --- dates in the future -----------------------------------------------------------------------

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("placed_at", "time_zone", "refused_as"),
    [
        (NOW, "UTC", None),
        (NOW - timedelta(days=400), "UTC", None),
        # a marketplace in another time zone may already be on tomorrow: a day is allowed
        (NOW + timedelta(hours=23), "UTC", None),
        (NOW + timedelta(days=1), "UTC", None),
        (NOW + timedelta(days=1, minutes=1), "UTC", "2026-11-21 09:01"),
        # a typo in the year
        (datetime(2027, 11, 19, 9, 0, tzinfo=UTC), "UTC", "2027-11-19 09:00"),
        # 12/11 (12 November) read month first: 11 December
        (datetime(2026, 12, 11, 14, 0, tzinfo=UTC), "UTC", "2026-12-11 14:00"),
        # named in the tenant's time zone, which the allowance does not change
        (datetime(2026, 11, 21, 12, 0, tzinfo=UTC), "America/Sao_Paulo", "2026-11-21 09:00"),
        (datetime(2026, 11, 21, 8, 0, tzinfo=UTC), "Pacific/Auckland", None),
    ],
)
def test_an_order_placed_more_than_a_day_from_now_is_refused(placed_at, time_zone, refused_as):
    error = future_time_error(placed_at, limit=future_limit(now=NOW, time_zone=time_zone))
    if refused_as is None:
        assert error is None
    else:
        assert error.startswith(f"{refused_as} is in the future: after ")
        assert f"({time_zone})" in error
        assert "whether day and month" in error


LATER = NOW + timedelta(days=1, minutes=1)
SOON = NOW + timedelta(hours=20)


@pytest.mark.parametrize(
    ("times", "refused"),
    [
        ({"placed_at": NOW, "shipped_at": SOON, "delivered_at": SOON}, []),
        ({"placed_at": NOW, "shipped_at": LATER}, ["shipped_at"]),
        ({"placed_at": NOW, "shipped_at": NOW, "delivered_at": LATER}, ["delivered_at"]),
        ({"placed_at": NOW, "cancelled_at": LATER}, ["cancelled_at"]),
        ({"placed_at": LATER, "shipped_at": LATER}, ["placed_at", "shipped_at"]),
        # a ship-by lies ahead of every open order; a time not given is not checked
        ({"placed_at": NOW, "ship_by": LATER + timedelta(days=30), "shipped_at": None}, []),
    ],
)
def test_the_times_a_line_has_already_lived_are_checked(times, refused):
    limit = future_limit(now=NOW, time_zone="UTC")
    errors = future_times_errors(times, limit=limit)
    assert list(errors) == refused
    for name in refused:
        assert errors[name] == future_time_error(times[name], limit=limit)


@pytest.mark.parametrize(
    ("now", "day", "time_zone", "refused"),
    [
        (NOW, date(2026, 11, 20), "UTC", False),
        (NOW, date(2025, 11, 20), "UTC", False),
        # tomorrow is allowed, the day after is not
        (NOW, date(2026, 11, 21), "UTC", False),
        (NOW, date(2026, 11, 22), "UTC", True),
        (NOW, date(2027, 11, 20), "UTC", True),
        (NOW, date(2026, 12, 11), "UTC", True),  # 12/11 read the wrong way
        # the tenant's tomorrow: 12:00 UTC on the 20th is 01:00 on the 21st in Auckland...
        (datetime(2026, 11, 20, 12, 0, tzinfo=UTC), date(2026, 11, 22), "Pacific/Auckland", False),
        (datetime(2026, 11, 20, 12, 0, tzinfo=UTC), date(2026, 11, 22), "UTC", True),
        (datetime(2026, 11, 20, 12, 0, tzinfo=UTC), date(2026, 11, 23), "Pacific/Auckland", True),
        # ...and 05:00 UTC on the 20th is 21:00 on the 19th in Los Angeles
        (
            datetime(2026, 11, 20, 5, 0, tzinfo=UTC),
            date(2026, 11, 20),
            "America/Los_Angeles",
            False,
        ),
        (datetime(2026, 11, 20, 5, 0, tzinfo=UTC), date(2026, 11, 21), "America/Los_Angeles", True),
    ],
)
def test_impressions_dated_after_tomorrow_are_refused(now, day, time_zone, refused):
    error = future_day_error(day, limit=future_limit(now=now, time_zone=time_zone))
    if not refused:
        assert error is None
    else:
        assert error.startswith(f"{day.isoformat()} is in the future: after ")
        assert f"({time_zone})" in error
