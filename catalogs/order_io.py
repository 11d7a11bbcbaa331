"""Pure parsing of order lines and daily impressions (CSV files and API rows).

No ORM: the services turn parsed rows into one bulk upsert. Every row either
parses into a frozen dataclass or yields readable errors naming the column, so a
file with bad rows still imports its good ones and reports the rest.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from .rules import (
    FutureLimit,
    future_day_error,
    future_limit,
    future_times_errors,
    identifier_error,
    invisible_trim,
    ship_by_due,
    tracking_number_error,
)

ORDER_COLUMNS = (
    "order_id",
    "sku",
    "quantity",
    "item_price",
    "shipping_fee",
    "placed_at",
    "ship_by",
    "shipped_at",
    "delivered_at",
    "cancelled_at",
    "cancel_reason",
    "tracking_number",
)
IMPRESSION_COLUMNS = ("sku", "date", "impressions", "clicks")
CANCEL_REASONS = ("out_of_stock", "buyer_request", "other")
MAX_TEXT = {"order_id": 64, "sku": 100}
MAX_MONEY = Decimal("9999999999.99")
MAX_COUNT = 2_000_000_000
MAX_FILE_ROWS = 200_000

# What tells a file's decimal mark, read from an amount's digits and marks alone: a decimal
# comma (35,91; 1.234,56) or a decimal point (35.91; 1,234.50); 1,234 and 12 tell nothing.
# One decision for every file: the exports' reader (order_formats.values) uses them too.
AMOUNT_MARKS_ONLY = r"[^\d,.]"
DECIMAL_COMMA_AMOUNT = r"(?:^|\d),\d{1,2}$|\.\d{3},\d+$"
DECIMAL_POINT_AMOUNT = r"(?:^|\d)\.\d{1,2}$|,\d{3}\.\d+$"
MIXED_DECIMAL_MARKS = (
    "The file mixes decimal commas and decimal points in its amounts; export it again with "
    "one number format."
)


@dataclass(frozen=True)
class AmountSeen:
    """An amount that tells its file's decimal mark, and where it is (line and column, when
    known), so that a refusal can name the cell."""

    value: str
    line: int | None = None
    column: str = ""

    def __str__(self) -> str:
        where = ", ".join(
            part for part in (f"line {self.line}" if self.line else "", self.column) if part
        )
        return f"{self.value!r} ({where})" if where else repr(self.value)


def mixed_decimal_marks(*, comma: AmountSeen, point: AmountSeen) -> str:
    """The refusal of a file whose amounts use both marks, naming the first of each."""
    return (
        "The file mixes decimal commas and decimal points in its amounts: "
        f"{comma} has a decimal comma, {point} a decimal point; give every amount the same "
        "one (correct the cells written the other way, or export the file again with one "
        "number format)."
    )


# A deadline written as a day (a ship-by day: eBay's Dec-08-26) is due by the end of it, its
# last second on the wall clock; every time of day read is written with a colon
DAY_END = time(23, 59, 59)
TIME_OF_DAY = ":"


# The API's lines keep their contract (a ship-by in every line): say what to send
SHIP_BY_REQUIRED = (
    "is required: send the time the line must ship by, in ISO 8601 (2026-03-04T18:00:00Z; a "
    "day alone, 2026-03-04, is due by its end in the tenant's time zone). Where the "
    "marketplace gives none, send placed_at plus the catalog's handling time (its Settings "
    "tab), as order files get."
)


class FileError(ValueError):
    """The file as a whole cannot be read (wrong header, not CSV, too big)."""


class DateOrderNeeded(FileError):
    """No date of the file tells day-first from month-first, and nobody said which."""


@dataclass(frozen=True)
class RowError:
    line: int  # 1-based line in the file (header is line 1); item index + 1 for the API
    column: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class OrderRow:
    order_id: str
    sku: str
    quantity: int
    item_price: Decimal
    shipping_fee: Decimal
    placed_at: datetime
    ship_by: datetime
    shipped_at: datetime | None
    delivered_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str
    tracking_number: str | None  # None: the source did not say (unknown), "": none


@dataclass(frozen=True)
class ImpressionRow:
    sku: str
    date: date
    impressions: int
    clicks: int


class _Row:
    """Collects errors while reading one row's fields."""

    def __init__(
        self,
        line: int,
        data: Mapping[str, object],
        *,
        decimal_comma: bool = False,
        tz: str = "UTC",
    ):
        self.line = line
        self.data = data
        self.decimal_comma = decimal_comma
        self.tz = tz
        self.errors: list[RowError] = []

    def err(self, column: str, message: str) -> None:
        self.errors.append(RowError(self.line, column, message))

    def raw(self, column: str) -> str:
        value = self.data.get(column)
        if value is None:
            return ""
        return str(value).strip()

    def text(self, column: str, *, required: bool) -> str:
        """An id (order id, SKU) trimmed of outer junk, or an error naming what is wrong
        with it (catalogs.rules): one with an invisible character matches nothing."""
        value = invisible_trim(self.raw(column))
        error = identifier_error(value, max_length=MAX_TEXT.get(column, 255))
        if required and not value:
            self.err(column, "is required")
        elif error:
            self.err(column, error)
        return value

    def tracking_number(self) -> str:
        """The tracking number trimmed of outer junk ("" for none), or an error naming what
        is wrong with it (catalogs.rules)."""
        value = invisible_trim(self.raw("tracking_number"))
        error = tracking_number_error(value)
        if error:
            self.err("tracking_number", error)
        return value

    def integer(self, column: str, *, default: int | None = None) -> int:
        value = self.raw(column)
        if not value and default is not None:
            return default
        try:
            number = int(value)
        except ValueError:
            self.err(column, f"must be a whole number (got {value[:30]!r})")
            return 0
        if not 0 <= number <= MAX_COUNT:
            self.err(column, f"must be between 0 and {MAX_COUNT}")
        return number

    def money(self, column: str, *, default: Decimal | None = None) -> Decimal:
        value = self.raw(column)
        if not value and default is not None:
            return default
        written = value
        if self.decimal_comma:  # 1.234,50: points group the thousands
            value = value.replace(".", "").replace(",", ".")
        try:
            amount = Decimal(value)
        except InvalidOperation:
            self.err(column, f"must be an amount like 12.50 (got {written[:30]!r})")
            return Decimal(0)
        if not amount.is_finite() or amount < 0 or amount > MAX_MONEY:
            self.err(column, "must be an amount between 0 and 9999999999.99")
            return Decimal(0)
        if amount != amount.quantize(Decimal("0.01")):
            self.err(column, "has more than two decimals")
        return amount.quantize(Decimal("0.01"))

    def moment(self, column: str, *, required: bool, day_end: bool = False) -> datetime | None:
        value = self.raw(column)
        if not value:
            if required:
                self.err(column, "is required (ISO 8601, e.g. 2026-03-01T14:30:00Z)")
            return None
        parsed = parse_datetime(value, tz=self.tz, day_end=day_end)
        if parsed is None:
            self.err(column, f"is not an ISO 8601 time (got {value[:40]!r})")
        return parsed


def parse_datetime(value: str, *, tz: str, day_end: bool = False) -> datetime | None:
    """ISO 8601 date-time; one without an offset is a wall-clock time in tz (wall_time), as
    in every export. A date alone is its first second, or with day_end (a deadline: a
    ship-by day) its last (DAY_END)."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if day_end and TIME_OF_DAY not in text:
        moment = datetime.combine(moment.date(), DAY_END, tzinfo=moment.tzinfo)
    if moment.tzinfo is None:
        moment = wall_time(moment, tz)
    if not 1970 <= moment.year <= 2999:
        return None
    return moment


def wall_time(naive: datetime, tz: str) -> datetime:
    """A wall-clock time in tz -> that instant (UTC). One the clocks go through twice (set back) is
    the later, standard time; one they skip (set forward) moves forward to the first that
    exists, when they changed: the rule the exports' times are read by, vectorised there
    (order_formats.values._localize; tested to agree)."""
    zone = ZoneInfo(tz)
    later = naive.replace(tzinfo=zone, fold=1)
    if later.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive:
        return later.astimezone(UTC)
    # skipped: the change lies between the instants the offsets after and before it give
    # (clocks change on a whole second)
    before = math.floor(later.timestamp())
    changed = math.ceil(naive.replace(tzinfo=zone, fold=0).timestamp())
    offset = datetime.fromtimestamp(changed, zone).utcoffset()
    while changed - before > 1:
        middle = (before + changed) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == offset:
            changed = middle
        else:
            before = middle
    return datetime.fromtimestamp(changed, UTC)


def limit_or_now(limit: FutureLimit | None, time_zone: str = "UTC") -> FutureLimit:
    """The future limit given (the tenant's, taken once per file or request), else the one of
    now in time_zone."""
    return limit or future_limit(now=datetime.now(UTC), time_zone=time_zone)


def order_row_parse(
    line: int,
    data: Mapping[str, object],
    *,
    tz: str,
    handling_days: int | None = None,
    decimal_comma: bool = False,
    limit: FutureLimit | None = None,
) -> OrderRow | list[RowError]:
    """One order line, or the list of what is wrong with it; tz: the tenant's time zone,
    which times without an offset are in; handling_days: the catalog's handling time, which
    gives a line without a ship-by one (rules.ship_by_due), or None when a line must give it
    (the API); decimal_comma: its file writes amounts with a decimal comma
    (amounts_decimal_comma); limit: how late it may be placed, shipped, delivered or
    cancelled (catalogs.rules)."""
    row = _Row(line, data, decimal_comma=decimal_comma, tz=tz)
    order_id = row.text("order_id", required=True)
    sku = row.text("sku", required=True)
    quantity = row.integer("quantity", default=1)
    if quantity == 0 and not any(e.column == "quantity" for e in row.errors):
        row.err("quantity", "must be at least 1")
    item_price = row.money("item_price")
    shipping_fee = row.money("shipping_fee", default=Decimal(0))
    placed_at = row.moment("placed_at", required=True)
    ship_by = row.moment("ship_by", required=False, day_end=True)
    if not row.raw("ship_by"):
        if handling_days is None:
            row.err("ship_by", SHIP_BY_REQUIRED)
        elif placed_at:
            ship_by = ship_by_due(placed_at, handling_days=handling_days)
    shipped_at = row.moment("shipped_at", required=False)
    delivered_at = row.moment("delivered_at", required=False)
    cancelled_at = row.moment("cancelled_at", required=False)
    happened = {
        "placed_at": placed_at,
        "shipped_at": shipped_at,
        "delivered_at": delivered_at,
        "cancelled_at": cancelled_at,
    }
    for name, error in future_times_errors(happened, limit=limit_or_now(limit, tz)).items():
        row.err(name, error)
    cancel_reason = row.raw("cancel_reason").lower()
    # a record without the field (or null: an API line) does not say: unknown
    tracking = row.tracking_number() if data.get("tracking_number") is not None else None
    if cancel_reason and cancel_reason not in CANCEL_REASONS:
        row.err("cancel_reason", f"must be one of {', '.join(CANCEL_REASONS)} or empty")
    if cancelled_at and not cancel_reason:
        row.err("cancel_reason", "is required when cancelled_at is set")
    if cancel_reason and not cancelled_at:
        row.err("cancelled_at", "is required when cancel_reason is set")
    if cancelled_at and shipped_at:
        row.err("cancelled_at", "an order line cannot be both shipped and cancelled")
    if placed_at and ship_by and ship_by < placed_at:
        row.err("ship_by", "is before placed_at")
    if placed_at and shipped_at and shipped_at < placed_at:
        row.err("shipped_at", "is before placed_at")
    if delivered_at and not shipped_at:
        row.err("delivered_at", "needs shipped_at")
    if row.errors:
        return row.errors
    assert placed_at and ship_by
    return OrderRow(
        order_id=order_id,
        sku=sku,
        quantity=quantity,
        item_price=item_price,
        shipping_fee=shipping_fee,
        placed_at=placed_at,
        ship_by=ship_by,
        shipped_at=shipped_at,
        delivered_at=delivered_at,
        cancelled_at=cancelled_at,
        cancel_reason=cancel_reason,
        tracking_number=tracking,
    )


def impression_row_parse(
    line: int, data: Mapping[str, object], *, limit: FutureLimit | None = None
) -> ImpressionRow | list[RowError]:
    """One day of impressions for one sku, or what is wrong with it; limit: how late it may
    be dated (catalogs.rules)."""
    row = _Row(line, data)
    sku = row.text("sku", required=True)
    raw_date = row.raw("date")
    day: date | None = None
    try:
        day = date.fromisoformat(raw_date)
    except ValueError:
        row.err("date", f"must be a date like 2026-03-01 (got {raw_date[:30]!r})")
    future = day and future_day_error(day, limit=limit_or_now(limit))
    if future:
        row.err("date", future)
    impressions = row.integer("impressions")
    clicks = row.integer("clicks", default=0)
    if clicks > impressions and not row.errors:
        row.err("clicks", "cannot exceed impressions")
    if row.errors or day is None:
        return row.errors
    return ImpressionRow(sku=sku, date=day, impressions=impressions, clicks=clicks)


@dataclass
class ParseResult:
    rows: list
    errors: list[RowError]


def _dedupe_last_wins(rows: list, key) -> list:
    seen: dict = {}
    for r in rows:
        seen[key(r)] = r
    return list(seen.values())


# the header row is looked for this far into a file
DELIMITER_HEAD_CHARS = 65536


# the delimiters a file may have, the first winning a tie
DELIMITERS = ("\t", ";", ",")


def csv_delimiter(text: str) -> str:
    """The delimiter of an order or impressions file, chosen from the start of its text: the
    one of tab, semicolon and comma that separates the names of its header row most often
    (quotes respected), a tab before a semicolon before a comma when as often, and a comma
    when none does. So a header's names may hold a comma: Excel's "Unicode Text" and any TSV
    ("Price, BRL"), and the "CSV" Excel saves in most European locales, with semicolons
    between its columns ("Preis, EUR"). Only the header decides: TikTok writes tabs into its
    CSV's values, never into its names."""
    head = text[:DELIMITER_HEAD_CHARS].removeprefix("\ufeff")
    counts = {delimiter: _separators(head, delimiter) for delimiter in DELIMITERS}
    most = max(DELIMITERS, key=lambda delimiter: counts[delimiter])  # the first of a tie
    return most if counts[most] else ","


def _separators(head: str, delimiter: str) -> int:
    """How many delimiters separate the names of the header row (quotes respected)."""
    try:
        names = next(csv.reader(io.StringIO(head, newline=""), delimiter=delimiter), [])
    except csv.Error:
        return 0
    return max(len(names) - 1, 0)


def csv_records(data: bytes | str, columns: tuple[str, ...]) -> Iterator[tuple[int, dict]]:
    """Yield (line, record) from CSV text; FileError when the header is wrong."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise FileError("The file is not UTF-8 text.") from exc
    else:
        text = data.removeprefix("\ufeff")
    if "\x00" in text:
        raise FileError("The file contains NUL bytes; it is not a CSV file.")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=csv_delimiter(text))
    try:
        header = next(reader)
    except StopIteration:
        raise FileError("The file is empty.") from None
    except csv.Error as exc:
        raise FileError(f"Not a CSV file: {exc}") from None
    header = [h.strip().lower() for h in header]
    missing = [c for c in columns if c not in header]
    unknown = [h for h in header if h and h not in columns]
    if missing or unknown:
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing))
        if unknown:
            parts.append("unknown " + ", ".join(unknown[:10]))
        raise FileError("Wrong columns (" + "; ".join(parts) + "). Expected: " + ",".join(columns))
    count = 0
    try:
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            count += 1
            if count > MAX_FILE_ROWS:
                raise FileError(f"More than {MAX_FILE_ROWS} rows; split the file.")
            yield reader.line_num, dict(zip(header, values, strict=False))
    except csv.Error as exc:
        raise FileError(f"Line {reader.line_num}: not valid CSV ({exc}).") from None


def amounts_decimal_comma(amounts: Iterable[AmountSeen]) -> bool | None:
    """True when a file's amounts use a decimal comma (35,91; 1.234,56), False when a decimal
    point, None when no amount tells; FileError when it has both, naming the first of each."""
    seen: dict[bool, AmountSeen] = {}
    told: dict[str, tuple[bool, bool]] = {}  # a value's marks, read once per distinct value
    for amount in amounts:
        if amount.value not in told:
            marks = re.sub(AMOUNT_MARKS_ONLY, "", amount.value)
            told[amount.value] = (
                re.search(DECIMAL_COMMA_AMOUNT, marks) is not None,
                re.search(DECIMAL_POINT_AMOUNT, marks) is not None,
            )
        for mark, says in zip((True, False), told[amount.value], strict=True):
            if says:
                seen.setdefault(mark, amount)
    if len(seen) == 2:
        raise FileError(mixed_decimal_marks(comma=seen[True], point=seen[False]))
    return next(iter(seen), None)


def orders_parse(
    records: Iterable[tuple[int, Mapping[str, object]]],
    *,
    tz: str,
    handling_days: int,
    limit: FutureLimit | None = None,
) -> ParseResult:
    """Parse order records, times without an offset in tz (the tenant's time zone), a line
    without a ship-by given one from handling_days (the catalog's handling time); a
    repeated (order_id, sku) keeps the last one. Whether a comma is the decimal mark is
    decided once for all the amounts (a spreadsheet in a European locale writes 1.234,50),
    as for the exports; FileError when they mix both."""
    records = list(records)
    limit = limit_or_now(limit, tz)
    decimal_comma = amounts_decimal_comma(
        AmountSeen(str(record.get(column) or ""), line, column)
        for line, record in records
        for column in ("item_price", "shipping_fee")
    )
    rows, errors = [], []
    for line, record in records:
        parsed = order_row_parse(
            line,
            record,
            tz=tz,
            handling_days=handling_days,
            decimal_comma=bool(decimal_comma),
            limit=limit,
        )
        if isinstance(parsed, list):
            errors.extend(parsed)
        else:
            rows.append(parsed)
    return ParseResult(_dedupe_last_wins(rows, lambda r: (r.order_id, r.sku)), errors)


def impressions_parse(
    records: Iterable[tuple[int, Mapping[str, object]]], *, limit: FutureLimit | None = None
) -> ParseResult:
    """Parse impression records; a repeated (sku, date) keeps the last one."""
    limit = limit_or_now(limit)
    rows, errors = [], []
    for line, record in records:
        parsed = impression_row_parse(line, record, limit=limit)
        if isinstance(parsed, list):
            errors.extend(parsed)
        else:
            rows.append(parsed)
    return ParseResult(_dedupe_last_wins(rows, lambda r: (r.sku, r.date)), errors)
