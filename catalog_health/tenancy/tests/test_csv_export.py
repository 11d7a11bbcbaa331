import csv
import io
from decimal import Decimal

import pytest

from catalog_health.csv_export import csv_lines, safe_cell


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
