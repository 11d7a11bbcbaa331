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


# A UPC-A read from a spreadsheet column held as a number lost its leading zero.
UPC_A_WITHOUT_ITS_ZERO = [
    ("12345678905", "012345678905"),  # 012345678905: a UPC-A with a valid check digit
    ("12345678905.0", "012345678905"),  # the float's tail, then the zero
    ("12345678905,0", "012345678905"),
    (" 36000291452 ", "036000291452"),
    ("12345678906", "12345678906"),  # the padded form's check digit is wrong: as written
    ("00000000000", "00000000000"),  # all zeros is no GTIN, whatever its check digit
    ("1234567890", "1234567890"),  # 10 digits: as written
    ("012345678905", "012345678905"),  # whole already
    ("0012345678905", "0012345678905"),  # an EAN-13 keeps the zeros it was written with
    ("1234565", "1234565"),  # 0 + 7 digits would be an RCN-8, no GTIN-8: as written
    ("1234565.0", "1234565"),
    ("1234 5678 905", "1234 5678 905"),  # not a number: as written
    ("１２３４５６７８９０５", "１２３４５６７８９０５"),  # full-width digits: as written
]


@pytest.mark.parametrize(("raw", "expected"), UPC_A_WITHOUT_ITS_ZERO)
def test_a_upc_a_that_lost_its_leading_zero_gets_it_back(raw, expected):
    assert p.parse_gtin(raw) == expected


def _columnar_gtins(values: list[str]) -> list[str]:
    import pyarrow as pa
    import pyarrow.compute as pc

    from feeds.columnar import _gtins, _Rejections

    raw = pc.utf8_trim_whitespace(pa.array(values, pa.string()))
    reject = _Rejections(len(values))
    out = _gtins(raw, reject).to_pylist()
    assert reject.field == [None] * len(values)
    return out


def test_the_columnar_gtins_restore_the_zero_as_parse_gtin_does():
    values = [raw for raw, _ in UPC_A_WITHOUT_ITS_ZERO]
    assert _columnar_gtins(values) == [expected for _, expected in UPC_A_WITHOUT_ITS_ZERO]
    assert _columnar_gtins(values) == [p.parse_gtin(v) for v in values]
    assert _columnar_gtins(values[4:]) == [p.parse_gtin(v) for v in values[4:]]  # none to restore


def test_a_spreadsheets_upc_a_reads_whole_through_the_pipeline():
    rows, errors = _rows(b"id,gtin\n1,12345678905.0\n2,12345678906\n3,36000291452\n")
    assert not errors
    assert {s: r["gtin"] for s, r in rows.items()} == {
        "1": "012345678905",
        "2": "12345678906",
        "3": "036000291452",
    }


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
