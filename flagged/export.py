"""CSV export cells that spreadsheets cannot execute (pure)."""

from __future__ import annotations

# A cell starting with one of these is read as a formula by Excel, LibreOffice
# and Google Sheets (OWASP "CSV injection"). Tab and carriage return too.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "|")


def csv_safe(value: object) -> str:
    """Text for one CSV cell; formula-like text is prefixed with a quote."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def csv_row(values: list[object]) -> list[str]:
    return [csv_safe(v) for v in values]
