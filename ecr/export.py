"""CSV export of diagnostics rows, safe against formula injection (pure)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

# Spreadsheets run a cell starting with one of these as a formula (OWASP "CSV
# injection"); feed text is data, so such a cell gets a leading apostrophe.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%")


def neutralise(value: object) -> str:
    """One cell as text that no spreadsheet evaluates."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text[:1] in _FORMULA_START else text


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """CSV text, one line at a time (for a streaming response)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    yield buf.getvalue()
    for row in rows:
        buf.seek(0)
        buf.truncate()
        writer.writerow([neutralise(v) for v in row])
        yield buf.getvalue()
