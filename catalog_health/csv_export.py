"""CSV exports that spreadsheets cannot turn into formulas, and the streamed download every
app's export answers with.

Text from feeds and orders is data. A cell starting with one of FORMULA_PREFIXES is run as a
formula by Excel, LibreOffice or Google Sheets (OWASP "CSV injection"), so such text gets a
leading apostrophe. Real numbers are left alone: they are values, not formulas.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.http import StreamingHttpResponse
from django.utils import timezone

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%")


def safe_cell(value: object) -> str:
    """One cell as text that no spreadsheet evaluates."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def safe_row(values: Iterable[object]) -> list[str]:
    return [safe_cell(v) for v in values]


def csv_lines(header: Sequence[str], rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """CSV text one line at a time, for a StreamingHttpResponse."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    yield buf.getvalue()
    for row in rows:
        buf.seek(0)
        buf.truncate()
        writer.writerow(safe_row(row))
        yield buf.getvalue()


def csv_download(
    filename: str, header: Sequence[str], rows: Iterable[Iterable[object]]
) -> StreamingHttpResponse:
    """A CSV file to save, streamed a line at a time (any number of rows in constant memory),
    every cell formula-safe."""
    response = StreamingHttpResponse(
        csv_lines(header, rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def stamped_filename(stem: str, *, time_zone: str, now: datetime | None = None) -> str:
    """`stem-YYYYMMDD-HHMM.csv`, stamped on the tenant's clock: the date and time its pages
    show, not the server's."""
    local = (now or timezone.now()).astimezone(ZoneInfo(time_zone))
    return f"{stem}-{local:%Y%m%d-%H%M}.csv"
