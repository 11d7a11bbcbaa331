"""Pure tests of order and impression parsing (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalogs.order_io import (
    IMPRESSION_COLUMNS,
    MAX_FILE_ROWS,
    ORDER_COLUMNS,
    SHIP_BY_REQUIRED,
    FileError,
    ImpressionRow,
    OrderRow,
    csv_records,
    impression_row_parse,
    impressions_parse,
    order_row_parse,
    orders_parse,
    parse_datetime,
)

GOOD = {
    "order_id": "A-1",
    "sku": "SKU-1",
    "quantity": "2",
    "item_price": "19.90",
    "shipping_fee": "4.5",
    "placed_at": "2026-03-01T10:00:00Z",
    "ship_by": "2026-03-03T10:00:00Z",
    "shipped_at": "",
    "delivered_at": "",
    "cancelled_at": "",
    "cancel_reason": "",
    "tracking_number": "",
}


def test_good_order():
    row = order_row_parse(2, GOOD, tz="UTC")
    assert isinstance(row, OrderRow)
    assert row.quantity == 2
    assert row.item_price == Decimal("19.90")
    assert row.shipping_fee == Decimal("4.50")
    assert row.placed_at == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert row.shipped_at is None


@pytest.mark.parametrize(
    ("changes", "column", "fragment"),
    [
        ({"order_id": ""}, "order_id", "required"),
        ({"sku": " "}, "sku", "required"),
        ({"sku": "x" * 101}, "sku", "longer than 100"),
        ({"quantity": "two"}, "quantity", "whole number"),
        ({"quantity": "0"}, "quantity", "at least 1"),
        ({"quantity": "-3"}, "quantity", "between"),
        ({"item_price": ""}, "item_price", "amount"),
        ({"item_price": "NaN"}, "item_price", "amount between"),
        ({"item_price": "-1"}, "item_price", "amount between"),
        ({"item_price": "1.999"}, "item_price", "two decimals"),
        ({"shipping_fee": "1e99"}, "shipping_fee", "amount between"),
        ({"placed_at": ""}, "placed_at", "required"),
        ({"placed_at": "yesterday"}, "placed_at", "ISO 8601"),
        (
            {"placed_at": "2999-03-01T10:00:00Z", "ship_by": "2999-03-03T10:00:00Z"},
            "placed_at",
            "2999-03-01 10:00 is in the future",
        ),
        ({"ship_by": "2026-02-28T00:00:00Z"}, "ship_by", "before placed_at"),
        ({"shipped_at": "2026-02-01"}, "shipped_at", "before placed_at"),
        ({"cancel_reason": "lost"}, "cancel_reason", "one of"),
        ({"cancelled_at": "2026-03-02"}, "cancel_reason", "required when"),
        ({"cancel_reason": "other"}, "cancelled_at", "required when"),
        (
            {"cancelled_at": "2026-03-02", "cancel_reason": "other", "shipped_at": "2026-03-02"},
            "cancelled_at",
            "both shipped and cancelled",
        ),
        ({"delivered_at": "2026-03-04"}, "delivered_at", "needs shipped_at"),
        ({"tracking_number": "a\x00b"}, "tracking_number", "U+0000 NULL"),
    ],
)
def test_bad_order(changes, column, fragment):
    errors = order_row_parse(7, {**GOOD, **changes}, tz="UTC")
    assert isinstance(errors, list)
    assert any(e.column == column and fragment in e.message and e.line == 7 for e in errors), errors
    assert str(errors[0]).startswith("line 7, ")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-01T10:00:00Z", datetime(2026, 3, 1, 10, tzinfo=UTC)),
        (
            "2026-03-01T10:00:00+02:00",
            datetime(2026, 3, 1, 10, tzinfo=timezone(timedelta(hours=2))),
        ),
        ("2026-03-01 10:00", datetime(2026, 3, 1, 10, tzinfo=UTC)),
        ("2026-03-01", datetime(2026, 3, 1, tzinfo=UTC)),
        ("0001-01-01", None),
        ("03/01/2026", None),
        ("", None),
    ],
)
def test_parse_datetime(text, expected):
    assert parse_datetime(text, tz="UTC") == expected


NEW_YORK = "America/New_York"

# A time without an offset is a wall-clock time in the tenant's time zone, as in every export
# (order_formats.values.parse_times), daylight saving days included: a time the clocks skip
# (8 March 2026, 02:00 -> 03:00) moves forward to 03:00, one they go through twice
# (1 November 2026, 01:00 -> 00:00 again) is the later, standard one
WALL_TIMES = [
    ("2026-12-06T10:00:00", NEW_YORK, datetime(2026, 12, 6, 15, tzinfo=UTC)),
    ("2026-12-06 10:00", NEW_YORK, datetime(2026, 12, 6, 15, tzinfo=UTC)),
    ("2026-07-06T10:00:00", NEW_YORK, datetime(2026, 7, 6, 14, tzinfo=UTC)),
    ("2026-12-06", NEW_YORK, datetime(2026, 12, 6, 5, tzinfo=UTC)),
    ("2026-03-08T02:30:00", NEW_YORK, datetime(2026, 3, 8, 7, tzinfo=UTC)),
    ("2026-11-01T01:30:00", NEW_YORK, datetime(2026, 11, 1, 6, 30, tzinfo=UTC)),
    ("2026-03-29T02:30:00", "Europe/Paris", datetime(2026, 3, 29, 1, tzinfo=UTC)),
    ("2026-10-25T02:30:00", "Europe/Paris", datetime(2026, 10, 25, 1, 30, tzinfo=UTC)),
    ("2026-12-06T10:00:00", "America/Sao_Paulo", datetime(2026, 12, 6, 13, tzinfo=UTC)),
    # an offset given is kept
    ("2026-12-06T10:00:00Z", NEW_YORK, datetime(2026, 12, 6, 10, tzinfo=UTC)),
    ("2026-12-06T10:00:00+01:00", NEW_YORK, datetime(2026, 12, 6, 9, tzinfo=UTC)),
]


@pytest.mark.parametrize(("text", "tz", "expected"), WALL_TIMES)
def test_the_apps_times_without_an_offset_are_in_the_tenants_time_zone(text, tz, expected):
    assert parse_datetime(text, tz=tz) == expected
    row = order_row_parse(2, {**GOOD, "placed_at": text, "ship_by": "2026-12-31T23:00:00Z"}, tz=tz)
    assert isinstance(row, OrderRow) and row.placed_at == expected


@pytest.mark.parametrize(("text", "tz", "expected"), WALL_TIMES)
def test_the_apps_times_read_as_the_exports_times(text, tz, expected):
    """One rule for a time without an offset: the exports' reader gives the same instant."""
    import pandas as pd

    from catalogs.order_formats.values import parse_times

    exports = parse_times(pd.Series([text], dtype="str"), date_order="dmy", tz=tz)
    assert exports["at"].iloc[0].to_pydatetime() == parse_datetime(text, tz=tz) == expected


@pytest.mark.parametrize(
    ("record", "ok"),
    [
        ({"sku": "S", "date": "2026-03-01", "impressions": "10", "clicks": "2"}, True),
        ({"sku": "S", "date": "2026-03-01", "impressions": "10", "clicks": ""}, True),
        ({"sku": "S", "date": "2026-02-30", "impressions": "10", "clicks": "2"}, False),
        ({"sku": "S", "date": "2026-03-01", "impressions": "ten", "clicks": "2"}, False),
        ({"sku": "S", "date": "2026-03-01", "impressions": "1", "clicks": "2"}, False),
        ({"sku": "", "date": "2026-03-01", "impressions": "1", "clicks": "0"}, False),
        ({"sku": "S", "date": "2999-03-01", "impressions": "10", "clicks": "2"}, False),
    ],
)
def test_impression_rows(record, ok):
    parsed = impression_row_parse(2, record)
    assert isinstance(parsed, ImpressionRow) is ok


def test_csv_file_with_good_and_bad_rows_and_duplicates():
    header = ",".join(ORDER_COLUMNS)
    good = ",".join(GOOD[c] for c in ORDER_COLUMNS)
    later = good.replace(",2,", ",3,", 1)
    bad = good.replace("SKU-1", "", 1)
    text = "\ufeff" + "\n".join([header, good, bad, "", later]) + "\n"
    result = orders_parse(csv_records(text.encode(), ORDER_COLUMNS), tz="UTC", handling_days=3)
    assert len(result.rows) == 1 and result.rows[0].quantity == 3  # last one wins
    assert [(e.line, e.column) for e in result.errors] == [(3, "sku")]


@pytest.mark.parametrize(
    ("prices", "expected"),
    [
        (("19.90", "4.5"), [Decimal("19.90"), Decimal("4.50")]),
        (("19,90", "4,5"), [Decimal("19.90"), Decimal("4.50")]),
        # a decimal comma anywhere in the file: points group thousands
        (("1.234,50", "1.234"), [Decimal("1234.50"), Decimal("1234.00")]),
        # no amount tells: a decimal point, as before
        (("12", "0"), [Decimal("12.00"), Decimal("0.00")]),
    ],
)
def test_the_apps_csv_reads_its_amounts_by_the_files_decimal_mark(prices, expected):
    """Excel in a European locale saves the app's CSV with semicolons and decimal commas."""
    header = ";".join(ORDER_COLUMNS)
    lines = [
        ";".join(
            {**GOOD, "order_id": f"A-{n}", "item_price": price, "shipping_fee": "0"}[c]
            for c in ORDER_COLUMNS
        )
        for n, price in enumerate(prices)
    ]
    result = orders_parse(
        csv_records("\n".join([header, *lines]) + "\n", ORDER_COLUMNS), tz="UTC", handling_days=3
    )
    assert not result.errors
    assert [r.item_price for r in result.rows] == expected


@pytest.mark.parametrize(
    ("ship_by", "due"),
    [
        # a day: due by its end, 23:59:59 in the tenant's time zone (New York: UTC-5)
        ("2026-03-03", datetime(2026, 3, 4, 4, 59, 59, tzinfo=UTC)),
        # also on the days daylight saving time makes 23 and 25 hours long
        ("2026-03-08", datetime(2026, 3, 9, 3, 59, 59, tzinfo=UTC)),
        ("2026-11-01", datetime(2026, 11, 2, 4, 59, 59, tzinfo=UTC)),
        ("2026-03-03T10:00:00", datetime(2026, 3, 3, 15, tzinfo=UTC)),
        ("2026-03-03T10:00:00Z", datetime(2026, 3, 3, 10, tzinfo=UTC)),
        ("2026-03-03T00:00:00-03:00", datetime(2026, 3, 3, 3, tzinfo=UTC)),
    ],
)
def test_a_ship_by_day_of_the_apps_csv_is_due_at_its_end(ship_by, due):
    row = order_row_parse(2, {**GOOD, "ship_by": ship_by}, tz=NEW_YORK)
    assert isinstance(row, OrderRow) and row.ship_by == due


@pytest.mark.parametrize(
    ("handling_days", "ship_by"),
    [
        # a file: the placed time plus the catalog's handling time (no paid time in the CSV)
        (3, datetime(2026, 3, 4, 10, tzinfo=UTC)),
        (0, datetime(2026, 3, 1, 10, tzinfo=UTC)),
        # the API: every line gives its ship-by
        (None, SHIP_BY_REQUIRED),
    ],
)
def test_a_line_without_a_ship_by(handling_days, ship_by):
    row = order_row_parse(2, {**GOOD, "ship_by": ""}, tz="UTC", handling_days=handling_days)
    if isinstance(row, OrderRow):
        assert row.ship_by == ship_by
    else:
        assert [(e.column, e.message) for e in row] == [("ship_by", ship_by)]


def test_the_apps_csv_mixing_decimal_commas_and_points_is_refused():
    header = ",".join(ORDER_COLUMNS)
    lines = [
        ",".join({**GOOD, "order_id": f"A-{n}", "item_price": price}[c] for c in ORDER_COLUMNS)
        for n, price in enumerate(['"19,90"', "19.90"])
    ]
    with pytest.raises(FileError, match="mixes decimal commas and decimal points") as refused:
        orders_parse(
            csv_records("\n".join([header, *lines]) + "\n", ORDER_COLUMNS),
            tz="UTC",
            handling_days=3,
        )
    # the first amount of each mark: line 2's price, and its own shipping fee (4.5)
    assert "'19,90' (line 2, item_price) has a decimal comma" in str(refused.value)
    assert "'4.5' (line 2, shipping_fee) a decimal point" in str(refused.value)


def test_impressions_csv():
    text = "sku,date,impressions,clicks\nA,2026-03-01,5,1\nA,2026-03-01,6,1\nB,2026-03-01,7,0\n"
    result = impressions_parse(csv_records(text, IMPRESSION_COLUMNS))
    assert [(r.sku, r.impressions) for r in result.rows] == [("A", 6), ("B", 7)]


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "empty"),
        (b"\xff\xfe\x00x", "UTF-8"),
        (b"sku,date\nA,2026-03-01\n", "missing impressions, clicks"),
        (b"sku,date,impressions,clicks,extra\n", "unknown extra"),
        (b"sku,date,impressions,clicks\nA,\x00,1,1\n", "NUL"),
    ],
)
def test_csv_file_errors(data, fragment):
    with pytest.raises(FileError, match=fragment):
        list(csv_records(data, IMPRESSION_COLUMNS))


def test_csv_row_cap():
    text = "sku,date,impressions,clicks\n" + "A,2026-03-01,1,0\n" * (MAX_FILE_ROWS + 1)
    with pytest.raises(FileError, match="split the file"):
        list(csv_records(text, IMPRESSION_COLUMNS))


@given(st.dictionaries(st.sampled_from(ORDER_COLUMNS), st.text(max_size=40), max_size=12))
def test_order_parser_never_crashes(record):
    parsed = order_row_parse(2, record, tz="UTC")
    assert isinstance(parsed, OrderRow) or (parsed and all(e.message for e in parsed))


@given(st.binary(max_size=300))
def test_csv_reader_only_raises_file_error(data):
    try:
        result = impressions_parse(
            csv_records(b"sku,date,impressions,clicks\n" + data, IMPRESSION_COLUMNS)
        )
    except FileError:
        return
    for row in result.rows:
        assert isinstance(row.date, date)
