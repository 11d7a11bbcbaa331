import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from catalog_health.csv_export import csv_lines, safe_cell, stamped_filename


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("|cmd", "'|cmd"),
        ("%0A", "'%0A"),
        ("Plain", "Plain"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (12, "12"),
        (-5, "-5"),  # a number is a value, not a formula
        (Decimal("-1.50"), "-1.50"),
        (True, "True"),
    ],
)
def test_safe_cell(value, cell):
    assert safe_cell(value) == cell


def test_csv_lines_round_trip():
    text = "".join(csv_lines(["sku", "title"], [["=1+1", 'say "hi", ok'], ["A", None]]))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["sku", "title"], ["'=1+1", 'say "hi", ok'], ["A", ""]]


@pytest.mark.parametrize(
    ("time_zone", "name"),
    [
        ("UTC", "products-shoes-20261207-2330.csv"),
        ("Pacific/Kiritimati", "products-shoes-20261208-1330.csv"),  # the next day there
        ("America/Los_Angeles", "products-shoes-20261207-1530.csv"),
        ("Asia/Kolkata", "products-shoes-20261208-0500.csv"),
    ],
)
def test_download_names_are_stamped_on_the_tenants_clock(time_zone, name):
    now = datetime(2026, 12, 7, 23, 30, 59, tzinfo=UTC)
    assert stamped_filename("products-shoes", time_zone=time_zone, now=now) == name
