"""Next pull times, table-driven, including DST changes in the tenant's zone."""

from datetime import UTC, datetime, time

import pytest

from feeds.schedule import next_pull_after


def u(*a):
    return datetime(*a, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "kw", "expected"),
    [
        (u(2025, 1, 6, 10, 30), {"schedule": "manual"}, None),
        (u(2025, 1, 6, 10, 30), {"schedule": "hourly"}, u(2025, 1, 6, 11, 0)),
        (u(2025, 1, 6, 10, 30), {"schedule": "hourly", "at": time(0, 45)}, u(2025, 1, 6, 10, 45)),
        (u(2025, 1, 6, 11, 0), {"schedule": "hourly"}, u(2025, 1, 6, 12, 0)),
        (u(2025, 1, 6, 8, 0), {"schedule": "daily", "at": time(9, 0)}, u(2025, 1, 6, 9, 0)),
        (u(2025, 1, 6, 9, 0), {"schedule": "daily", "at": time(9, 0)}, u(2025, 1, 7, 9, 0)),
        # New York is UTC-5 in January: 09:00 local = 14:00 UTC
        (
            u(2025, 1, 6, 8, 0),
            {"schedule": "daily", "at": time(9, 0), "time_zone": "America/New_York"},
            u(2025, 1, 6, 14, 0),
        ),
        # across spring-forward (9 March 2025): 09:00 local = 13:00 UTC afterwards
        (
            u(2025, 3, 8, 15, 0),
            {"schedule": "daily", "at": time(9, 0), "time_zone": "America/New_York"},
            u(2025, 3, 9, 13, 0),
        ),
        # 02:30 does not exist on 30 March 2025 in Berlin: pulled at 03:30 local (01:30 UTC)
        (
            u(2025, 3, 29, 12, 0),
            {"schedule": "daily", "at": time(2, 30), "time_zone": "Europe/Berlin"},
            u(2025, 3, 30, 1, 30),
        ),
        # Monday 6 Jan 2025; weekly on Wednesday 06:00 UTC
        (
            u(2025, 1, 6, 12, 0),
            {"schedule": "weekly", "weekday": 2, "at": time(6, 0)},
            u(2025, 1, 8, 6, 0),
        ),
        (
            u(2025, 1, 8, 7, 0),
            {"schedule": "weekly", "weekday": 2, "at": time(6, 0)},
            u(2025, 1, 15, 6, 0),
        ),
        # Tokyo (UTC+9): Monday 00:30 local is Sunday 15:30 UTC
        (
            u(2025, 1, 5, 12, 0),
            {"schedule": "weekly", "weekday": 0, "at": time(0, 30), "time_zone": "Asia/Tokyo"},
            u(2025, 1, 5, 15, 30),
        ),
    ],
)
def test_next_pull_after(now, kw, expected):
    assert next_pull_after(now, **kw) == expected


def test_unknown_schedule():
    with pytest.raises(ValueError):
        next_pull_after(u(2025, 1, 1), schedule="fortnightly")
