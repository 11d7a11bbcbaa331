"""Pure schedule rule: when is a source's next pull, in the tenant's time zone."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, time, timedelta


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
