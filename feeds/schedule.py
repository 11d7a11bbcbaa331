"""Pure schedule rules: how a schedule time is written, and when is a source's next pull,
in the tenant's time zone."""

from __future__ import annotations

import re
import zoneinfo
from datetime import datetime, time, timedelta

# H:MM or HH:MM, seconds (and a fraction) optional; a UTC offset is matched only to be refused
_WRITTEN_TIME = re.compile(
    r"(?P<hour>\d{1,2}):(?P<minute>\d{2})"
    r"(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d{1,6}))?)?"
    r"(?P<offset>[zZ]|[+-]\d{2}(?::?\d{2})?)?",
    re.ASCII,
)
WRITE_HH_MM = "Enter the time as HH:MM, 24-hour (e.g. 06:00 or 18:30)."


def parse_schedule_time(text: str, *, time_zone: str) -> time:
    """A daily or weekly pull time as written: HH:MM on the tenant's wall clock. Seconds are
    taken only when they are :00 (the API answers 06:00:00, and may be sent it back): beat
    looks for due sources once a minute. An offset is refused rather than dropped, since the
    time would then be read in the tenant's zone, not the one it was written in. Raises
    ValueError with the message to show."""
    match = _WRITTEN_TIME.fullmatch(text)
    if match is None:
        raise ValueError(WRITE_HH_MM)
    if match["offset"]:
        raise ValueError(
            "Give the time without a UTC offset: schedule times are in the tenant's time "
            f"zone ({time_zone}), as HH:MM (e.g. 06:00)."
        )
    hour, minute, second = int(match["hour"]), int(match["minute"]), int(match["second"] or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(WRITE_HH_MM)
    if second or int(match["fraction"] or 0):
        raise ValueError(
            "Give the time in whole minutes, as HH:MM: feeds are pulled on the minute."
        )
    return time(hour, minute)


def next_pull_after(
    now: datetime,
    *,
    schedule: str,
    time_zone: str = "UTC",
    at: time | None = None,
    weekday: int | None = None,
) -> datetime | None:
    """The first pull time strictly after ``now`` (aware, returned in UTC).

    hourly: the next full hour (plus ``at``'s minute when given); daily: the next ``at``
    (HH:MM) in the tenant's zone; weekly: the next ``weekday`` (0 = Monday) at ``at``;
    manual: None. Wall-clock times are kept across DST changes (a daily 09:00 stays 09:00
    local); a time that does not exist on a spring-forward day is pulled an hour later.
    """
    if schedule == "manual":
        return None
    tz = zoneinfo.ZoneInfo(time_zone or "UTC")
    utc = zoneinfo.ZoneInfo("UTC")
    local = now.astimezone(tz)
    at = at or time(0, 0)
    if schedule == "hourly":
        candidate = local.replace(minute=at.minute, second=0, microsecond=0)
        while candidate <= local:
            candidate = (candidate.astimezone(utc) + timedelta(hours=1)).astimezone(tz)
        return candidate.astimezone(utc)
    if schedule == "daily":
        day = local.date()
        for _ in range(3):
            candidate = _local_at(day, at, tz)
            if candidate > now:
                return candidate.astimezone(utc)
            day += timedelta(days=1)
    if schedule == "weekly":
        wd = 0 if weekday is None else weekday
        day = local.date() + timedelta(days=(wd - local.weekday()) % 7)
        for _ in range(3):
            candidate = _local_at(day, at, tz)
            if candidate > now:
                return candidate.astimezone(utc)
            day += timedelta(days=7)
    raise ValueError(f"unknown schedule {schedule!r}")


def _local_at(day, at: time, tz) -> datetime:
    naive = datetime.combine(day, at)
    aware = naive.replace(tzinfo=tz)
    # a wall time skipped by DST does not round-trip: move it forward by the gap
    back = aware.astimezone(zoneinfo.ZoneInfo("UTC")).astimezone(tz)
    if back.replace(tzinfo=None) != naive:
        aware = (naive + timedelta(hours=1)).replace(tzinfo=tz)
    return aware
