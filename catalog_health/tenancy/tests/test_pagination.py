from datetime import UTC, datetime
from decimal import Decimal

import pytest

from catalog_health.pagination import decode_cursor, encode_cursor


@pytest.mark.parametrize(
    "value",
    [None, 0, "abc", "ünï", Decimal("12.30"), datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)],
)
def test_cursor_round_trip(value):
    assert decode_cursor(encode_cursor(value, 42)) == (value, 42)


@pytest.mark.parametrize("garbage", ["", "x", "%%%", "bnVsbA", "W10", "WyJhIl0"])
def test_malformed_cursor_is_ignored(garbage):
    assert decode_cursor(garbage) is None
