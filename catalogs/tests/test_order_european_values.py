"""Dates and counts as sellers in Europe save them (pure, tables of cases): day.month.year
(de, at, ch, pl, ru … spreadsheets) and day-month-year (nl) dates, and counts whose thousands
are grouped otherwise than by a comma (1.200, 1 200, 1'200)."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from catalogs.order_formats import (
    date_order_detect,
    date_order_detect_frame,
    has_slash_dates,
    parse_count,
    parse_times,
)
from catalogs.order_formats.values import counts_decimal_comma_detect, decimal_comma_decide
from catalogs.order_io import FileError

NBSP, NARROW_NBSP = "\u00a0", "\u202f"


# --- dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "order", "tz", "expected"),
    [
        ("24.12.2026 10:00", "dmy", "UTC", datetime(2026, 12, 24, 10, tzinfo=UTC)),
        ("24.12.2026 10:00:15", "dmy", "UTC", datetime(2026, 12, 24, 10, 0, 15, tzinfo=UTC)),
        ("24.12.2026", "dmy", "UTC", datetime(2026, 12, 24, tzinfo=UTC)),
        ("1.3.2026 9:05", "dmy", "UTC", datetime(2026, 3, 1, 9, 5, tzinfo=UTC)),
        ("01.03.2026 09:05:00", "dmy", "UTC", datetime(2026, 3, 1, 9, 5, tzinfo=UTC)),
        # the tenant's time zone, as for any time without an offset
        ("24.12.2026 10:00", "dmy", "Europe/Berlin", datetime(2026, 12, 24, 9, tzinfo=UTC)),
        # day first whatever the order of the file's slash dates, or none decided
        ("03.04.2026 10:00", "mdy", "UTC", datetime(2026, 4, 3, 10, tzinfo=UTC)),
        ("03.04.2026 10:00", None, "UTC", datetime(2026, 4, 3, 10, tzinfo=UTC)),
        # day-month-year (nl) follows the file's date order, as slash dates do
        ("24-12-2026 10:00", "dmy", "UTC", datetime(2026, 12, 24, 10, tzinfo=UTC)),
        ("03-04-2026 10:00:15", "dmy", "UTC", datetime(2026, 4, 3, 10, 0, 15, tzinfo=UTC)),
        ("03-04-2026 10:00", "mdy", "UTC", datetime(2026, 3, 4, 10, tzinfo=UTC)),
        ("24-12-2026", "dmy", "UTC", datetime(2026, 12, 24, tzinfo=UTC)),
    ],
)
def test_dotted_and_dashed_dates_are_read(raw, order, tz, expected):
    parsed = parse_times(pd.Series([raw]), date_order=order, tz=tz)
    assert not parsed["bad"][0]
    assert parsed["at"][0].to_pydatetime() == expected


@pytest.mark.parametrize(
    ("raw", "order"),
    [
        ("31.02.2026 10:00", "dmy"),
        ("13.13.2026", "dmy"),
        # a clock out of range is no time, not the next hour or day
        ("24.12.2026 25:00", "dmy"),
        ("24.12.2026 10:61", "dmy"),
        ("24/12/2026 25:00", "dmy"),
        ("24/12/2026 10:60", "dmy"),
        ("12/24/2026 10:00:75", "mdy"),
        ("12/24/2026 10:61 PM", "mdy"),
        ("24.12.2026x", "dmy"),
        ("24-12-2026 10:00", None),  # as ambiguous as 03/04: never guessed
        # two-digit years are not read, as slash ones are not (24/12/26)
        ("24.12.26 10:00:15", "dmy"),
        ("24.12.26", "dmy"),
        ("24-12-26 10:00", "dmy"),
        ("24/12/26 10:00:15", "dmy"),
    ],
)
def test_dates_that_are_not_read(raw, order):
    parsed = parse_times(pd.Series([raw]), date_order=order, tz="UTC")
    assert parsed["bad"][0]
    assert pd.isna(parsed["at"][0])


def test_dotted_dates_stay_day_first_beside_month_first_ones():
    column = pd.Series(["12/24/2026 10:00:00 AM", "03.04.2026 10:00", "", "2026-05-06T07:00Z"])
    at = parse_times(column, date_order="mdy", tz="UTC")["at"]
    assert list(at) == [
        pd.Timestamp("2026-12-24 10:00", tz="UTC"),
        pd.Timestamp("2026-04-03 10:00", tz="UTC"),
        pd.NaT,
        pd.Timestamp("2026-05-06 07:00", tz="UTC"),
    ]


@pytest.mark.parametrize(
    ("values", "order"),
    [
        # a date written with points is day-first, whatever its day: it tells the file
        (["03.04.2026 10:00"], "dmy"),
        ([" 24.12.2026"], "dmy"),
        (["03.04.2026", "03/04/2026 10:00:00"], "dmy"),
        # day-month-year tells as a slash date does: only by a number above 12
        (["24-12-2026 10:00"], "dmy"),
        (["12-24-2026 10:00"], "mdy"),
        (["03-04-2026 10:00"], None),
        (["2026-03-04 10:00:00"], None),
        (["24.12.26 10:00:15"], None),  # not read (two-digit year): it tells nothing
    ],
)
def test_what_dotted_and_dashed_dates_tell_of_the_date_order(values, order):
    assert date_order_detect(values) == order
    assert date_order_detect_frame(pd.DataFrame({"at": values}), ["at"]) == order


@pytest.mark.parametrize(
    "values",
    [
        ["03.04.2026", "04/13/2026 1:00:00 PM"],
        ["24-12-2026", "12-24-2026"],
        ["24.12.2026", "12-24-2026"],
    ],
)
def test_a_file_mixing_day_first_and_month_first_dates_is_refused(values):
    with pytest.raises(FileError, match="mixes"):
        date_order_detect(values)
    with pytest.raises(FileError, match="mixes"):
        date_order_detect_frame(pd.DataFrame({"at": values}), ["at"])


@pytest.mark.parametrize(
    ("values", "needs_an_order"),
    [
        (["03/04/2026"], True),
        (["03-04-2026 10:00"], True),
        (["03.04.2026 10:00"], False),  # always day-first: it needs no date order
        (["2026-03-04"], False),
    ],
)
def test_which_dates_need_a_date_order(values, needs_an_order):
    assert has_slash_dates(pd.DataFrame({"at": values}), ["at"]) is needs_an_order


# --- counts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "decimal_comma", "n"),
    [
        # a decimal-comma file groups thousands with points (de, nl, pt-BR …)
        ("1.200", True, 1200),
        ("12.345.678", True, 12_345_678),
        ("1.000", True, 1000),
        ("2,0", True, 2),
        ("2", True, 2),
        # a decimal-point file groups them with commas, as ever (and India's lakhs)
        ("1,200", False, 1200),
        ("1,00,000", False, 100_000),
        ("2.0", False, 2),
        ("2.00", False, 2),
        # a blank (fr: a no-break or narrow no-break space) or an apostrophe (ch) in any file
        ("1 200", True, 1200),
        ("1 200", False, 1200),
        (f"1{NBSP}200", True, 1200),
        (f"1{NARROW_NBSP}200", False, 1200),
        (f"12{NARROW_NBSP}345{NARROW_NBSP}678", True, 12_345_678),
        ("1'200", True, 1200),
        ("1'200", False, 1200),
        ("1’200", True, 1200),
        ("1’200", False, 1200),
        ("", False, None),
    ],
)
def test_counts_grouped_by_thousands_are_read(raw, decimal_comma, n):
    parsed = parse_count(pd.Series([raw]), decimal_comma=decimal_comma)
    assert not parsed["bad"][0]
    assert (None if pd.isna(parsed["n"][0]) else int(parsed["n"][0])) == n


@pytest.mark.parametrize(
    ("raw", "decimal_comma"),
    [
        # the file's decimal mark is not a thousands separator: 1.2 and 1,2 are no whole numbers
        ("1.200", False),
        ("1,200", True),
        # nor are three decimals read as zero ones: 1.000 is 1 or 1000, never guessed
        ("1.000", False),
        ("1,000", True),
        ("1.5", False),
        ("1,5", True),
        # groups of thousands have three digits
        ("1.2", True),
        ("1,2", False),
        ("1 2", False),
        ("1'20", True),
        ("12.34.5", True),
        (".200", True),
        ("1.200,5", True),
        ("x", False),
        ("-1", True),
    ],
)
def test_counts_that_are_not_whole_numbers_are_refused(raw, decimal_comma):
    parsed = parse_count(pd.Series([raw]), decimal_comma=decimal_comma)
    assert parsed["bad"][0]
    assert pd.isna(parsed["n"][0])


def test_a_count_reads_as_in_a_decimal_point_file_by_default():
    parsed = parse_count(pd.Series(["1,200", "1.200", "1'200"]))
    assert list(parsed["bad"]) == [False, True, False]


@pytest.mark.parametrize(
    ("raw", "decimal_comma"),
    [("2.000.000.001", True), ("2,000,000,001", False), (f"2{NBSP}000{NBSP}000{NBSP}001", True)],
)
def test_a_grouped_count_too_large_says_so(raw, decimal_comma):
    parsed = parse_count(pd.Series([raw]), decimal_comma=decimal_comma)
    assert parsed["too_large"][0] and parsed["bad"][0]


@pytest.mark.parametrize(
    ("values", "says"),
    [
        (["1.200", "3"], {True}),
        (["12.345.678"], {True}),
        (["1,200", "3"], {False}),
        (["1,00,000"], {False}),
        (["1.200", "1,200"], {True, False}),
        # no thousands grouped by a point or a comma: nothing told
        (["12", "2.0", "1 200", "1'200", "", "x"], set()),
    ],
)
def test_what_counts_tell_of_the_decimal_mark(values, says):
    assert counts_decimal_comma_detect(pd.Series(values)) == says


@pytest.mark.parametrize(
    ("amounts", "counts", "decimal_comma"),
    [
        # the amounts decide; counts grouped otherwise are then refused line by line
        ({True}, set(), True),
        ({True}, {False}, True),
        ({False}, {True}, False),
        # no amount tells (or the file has none, as daily impressions): the counts do
        (set(), {True}, True),
        (set(), {False}, False),
        (set(), set(), False),
    ],
)
def test_a_file_s_decimal_mark_is_decided_once(amounts, counts, decimal_comma):
    assert decimal_comma_decide(amounts=amounts, counts=counts) is decimal_comma


@pytest.mark.parametrize(("amounts", "counts"), [({True, False}, set()), (set(), {True, False})])
def test_a_file_mixing_decimal_marks_is_refused(amounts, counts):
    with pytest.raises(FileError, match="mixes"):
        decimal_comma_decide(amounts=amounts, counts=counts)
