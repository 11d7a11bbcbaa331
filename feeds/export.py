"""Formula-injection-safe CSV of row errors (pure)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")
ROW_ERROR_HEADER = ["line", "sku", "field", "severity", "message"]


def safe_cell(value: object) -> str:
    """Text from feeds is data: a cell a spreadsheet would evaluate gets a leading quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def csv_lines(rows: Iterable[Iterable[object]], header: list[str]) -> Iterator[str]:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    yield buf.getvalue()
    for row in rows:
        buf.seek(0)
        buf.truncate()
        writer.writerow([safe_cell(v) if isinstance(v, str) else v for v in row])
        yield buf.getvalue()
