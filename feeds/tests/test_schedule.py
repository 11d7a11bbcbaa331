"""Schedule times as written, and next pull times (table-driven, including DST changes in
the tenant's zone)."""

from datetime import UTC, datetime, time

import pytest

from feeds.schedule import next_pull_after, parse_schedule_time


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


@pytest.mark.parametrize(
    ("text", "at"),
    [
        ("06:30", time(6, 30)),
        ("6:30", time(6, 30)),
        ("06:30:00", time(6, 30)),
        ("23:59:00.000", time(23, 59)),
        ("00:00", time(0, 0)),
    ],
)
def test_a_schedule_time_is_read_as_the_tenants_wall_clock(text, at):
    assert parse_schedule_time(text, time_zone="Asia/Tokyo") == at


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("06:00:30+02:00", "without a UTC offset"),
        ("06:00z", "without a UTC offset"),
        ("06:00+0530", "without a UTC offset"),
        ("06:00-05", "without a UTC offset"),
        ("06:00:30", "whole minutes"),
        ("06:00:00,5", "whole minutes"),
        ("25:00", "HH:MM"),
        ("23:60", "HH:MM"),
        ("06:00:60", "HH:MM"),
        ("6pm", "HH:MM"),
        ("0600", "HH:MM"),
        (" 06:00", "HH:MM"),
        ("06:00\n", "HH:MM"),
        ("٠٦:٣٠", "HH:MM"),  # Arabic-Indic digits
        ("", "HH:MM"),
    ],
)
def test_a_schedule_time_the_scheduler_would_misread_is_refused(text, says):
    with pytest.raises(ValueError, match=says) as refused:
        parse_schedule_time(text, time_zone="Asia/Tokyo")
    assert says != "without a UTC offset" or "Asia/Tokyo" in str(refused.value)
