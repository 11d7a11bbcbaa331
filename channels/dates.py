"""Dates as the channels take them (pure: no Django, no ORM). specs writes items with them;
xml_sql writes the same in SQL, and selectors judges them, with these very patterns."""

from __future__ import annotations

import re

# An availability date as ISO 8601 writes one: a date, then maybe a time (seconds and their
# fractions allowed) and a zone. Read by Python and PostgreSQL alike (xml_sql, selectors);
# its groups are the date, the hours and minutes, the zone's sign and hours, its minutes.
AVAILABILITY_DATE = (
    "^[ ]*([0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01]))"
    "(?:[T ]((?:[01][0-9]|2[0-3]):[0-5][0-9])(?::[0-5][0-9](?:[.,][0-9]+)?)?"
    "(?:Z|([+-](?:0[0-9]|1[0-4]))(?::?([0-5][0-9]))?)?)?[ ]*$"
)
_AVAILABILITY_DATE = re.compile(AVAILABILITY_DATE.removesuffix("$") + "\\Z")


def availability_date(value: str) -> str:
    """The date as Google takes it, ISO 8601 with minutes and a time zone
    (2026-03-01T13:00-0800, 2026-03-01T13:00Z): seconds dropped, and a missing time or zone
    written as what Google assumes for it (midnight, UTC); "" for a value that is no such
    date. xml_sql.availability_date writes the same in SQL."""
    match = _AVAILABILITY_DATE.match(value)
    if match is None:
        return ""
    day, time, zone, minutes = match.groups()
    return f"{day}T{time or '00:00'}{zone + (minutes or '00') if zone else 'Z'}"
