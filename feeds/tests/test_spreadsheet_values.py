"""Values as spreadsheets and other locales write them: a GTIN a spreadsheet turned into a
number, prices grouped with a no-break space, schema.org availability names (no database)."""

from __future__ import annotations

import io

import pytest

from feeds import parsing as p
from feeds.tests.feed_rows import parse_feed


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("4006381333931", "4006381333931"),
        ("4006381333931.0", "4006381333931"),  # a float's tail (pandas, Sheets, an XLSX cell)
        ("4006381333931.00", "4006381333931"),
        ("4006381333931,0", "4006381333931"),  # the same in a comma locale
        (" 0012345678905.0 ", "0012345678905"),
        ("", ""),
        ("ISBN 978-3-16-148410-0", "ISBN 978-3-16-148410-0"),  # not a number: as written
        ("4006381333931.5", "4006381333931.5"),  # not a float's tail: as written
    ],
)
def test_a_gtin_with_a_float_tail_reads_as_its_digits(raw, expected):
    assert p.parse_gtin(raw) == expected


@pytest.mark.parametrize(
    "raw", ["4.00638E+12", "4,00638E+12", "4.006381333931e+12", "4E12", "1.23457E+11"]
)
def test_a_gtin_in_scientific_notation_is_refused(raw):
    with pytest.raises(ValueError, match="spreadsheet turned the GTIN into a number"):
        p.parse_gtin(raw)


def _rows(data: bytes):
    good, errors = [], []
    for rows, errs in parse_feed(io.BytesIO(data), default_currency="EUR"):
        good += rows
        errors += [e for e in errs if e.severity == "error"]
    return {r["sku"]: r for r in good}, errors


def test_a_csv_saved_by_a_spreadsheet_stores_whole_gtins_and_rejects_cut_ones():
    data = (
        b"id,title,price,gtin\n"
        b"1,Hat,12.99 EUR,4006381333931.0\n"
        b"2,Cap,5 EUR,4.00638E+12\n"
        b"3,Mug,7 EUR,0012345678905\n"
    )
    rows, errors = _rows(data)

    assert {s: r["gtin"] for s, r in rows.items()} == {"1": "4006381333931", "3": "0012345678905"}
    assert [(e.line, e.sku, e.field) for e in errors] == [(3, "2", "gtin")]
    assert "spreadsheet turned the GTIN into a number" in errors[0].message
    assert "4.00638E+12" in errors[0].message


@pytest.mark.parametrize(
    ("raw", "amount", "currency"),
    [
        ("1\u00a0234,56 €", "1234.56", "EUR"),  # French: a no-break space between thousands
        ("1\u202f234,56 EUR", "1234.56", "EUR"),  # a narrow no-break space (CLDR's French)
        ("12,99\u00a0€", "12.99", "EUR"),
        ("CHF 1\u2019234.50", "1234.50", "CHF"),  # Swiss: a typographic apostrophe
    ],
)
def test_prices_grouped_as_locales_group_them(raw, amount, currency):
    assert p.parse_price(raw) == (p.Decimal(amount), currency)


def test_a_locale_grouped_price_reads_through_the_pipeline():
    rows, errors = _rows('id,price\n1,"1\u00a0234,56 €"\n'.encode())
    assert not errors and rows["1"]["price"] == "1234.56"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://schema.org/LimitedAvailability", "in_stock"),
        ("LimitedAvailability", "in_stock"),
        ("OnlineOnly", "in_stock"),
        ("https://schema.org/SoldOut", "out_of_stock"),
        ("SoldOut", "out_of_stock"),
        ("PreSale", "preorder"),
        ("http://schema.org/BackOrder", "backorder"),
    ],
)
def test_schema_org_availability_names(raw, expected):
    assert p.parse_availability(raw) == expected
    rows, errors = _rows(f"id,availability\n1,{raw}\n".encode())
    assert not errors and rows["1"]["availability"] == expected
