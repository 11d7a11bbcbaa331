"""Order exports as sellers download them: recognise the source from the header and read
TikTok Shop, Shopify and column-mapped files into the app's order lines.

Pure (pandas, no ORM). A file is read in chunks of strings; each chunk goes through two
steps:

1. a *format* step turns the source's columns into the app's fields, still as text
   (TikTok: SKU from Seller SKU then SKU ID, cancellations and their reasons; Shopify: the
   order-level cells of an order's first row copied to its other line rows);
2. one *typing* step shared by every format parses ids, numbers and times column by column
   (vectorised), derives the ship-by time where the file has none, and checks each line,
   naming the line and column of every problem.

Two things are decided once per file, before any chunk is read, because one value cannot
tell: whether slash dates are day-first or month-first (a day above 12 anywhere settles it;
otherwise the tenant's setting; otherwise the file is refused, never guessed), and whether
a comma is the decimal separator (``BRL 35,91``).
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from .order_io import CANCEL_REASONS, FileError, RowError

CHUNK_ROWS = 50_000
MAX_MONEY = 9_999_999_999.99
MAX_COUNT = 2_000_000_000

# The app's order line, as the typing step produces it.
OUT_COLUMNS = (
    "line",
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
TIME_FIELDS = ("placed_at", "paid_at", "ship_by", "shipped_at", "delivered_at", "cancelled_at")
MONEY_FIELDS = ("item_price", "shipping_fee")
# What a mapping may assign a column to (the app's fields plus paid_at for ship-by).
MAPPABLE_FIELDS = (
    "order_id",
    "sku",
    "quantity",
    "item_price",
    "shipping_fee",
    "placed_at",
    "paid_at",
    "ship_by",
    "shipped_at",
    "delivered_at",
    "cancelled_at",
    "cancel_reason",
    "tracking_number",
)
IMPRESSION_FIELDS = ("sku", "date", "impressions", "clicks")


def header_key(name: object) -> str:
    """A column name compared loosely: BOM, outer blanks and case do not matter."""
    return re.sub(r"\s+", " ", str(name).replace("\ufeff", "").strip()).lower()


def header_signature(header: Iterable[object]) -> str:
    """What identifies an export layout: its loosely compared column names, in order."""
    joined = "\x1f".join(header_key(h) for h in header)
    return hashlib.sha256(joined.encode()).hexdigest()


# --- recognising the source -----------------------------------------------------------------

TIKTOK_REQUIRED = ("order id", "order status", "sku id", "seller sku", "quantity", "created time")
SHOPIFY_REQUIRED = ("name", "created at", "lineitem quantity", "lineitem sku", "lineitem price")
APP_ORDER_COLUMNS = (
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


@dataclass(frozen=True)
class Detected:
    """What a header looks like: a format key, what it holds and a name for people."""

    key: str  # app_orders, app_impressions, tiktok_orders, shopify_orders, product_feed, unknown
    kind: str  # orders, impressions, products, unknown
    label: str


def detect_format(header: Iterable[object]) -> Detected:
    """Recognise a file from its header row (column names only, any order)."""
    cols = {header_key(h) for h in header}
    if set(APP_ORDER_COLUMNS) <= cols:
        return Detected("app_orders", "orders", "Catalog Health order CSV")
    if {"sku", "date", "impressions"} <= cols and not cols & {"order_id", "order id"}:
        return Detected("app_impressions", "impressions", "Catalog Health impressions CSV")
    if set(TIKTOK_REQUIRED) <= cols:
        return Detected("tiktok_orders", "orders", "TikTok Shop order export")
    if set(SHOPIFY_REQUIRED) <= cols:
        return Detected("shopify_orders", "orders", "Shopify orders export")
    if {"handle", "variant sku"} <= cols or {"handle", "title", "variant price"} <= cols:
        return Detected("shopify_products", "products", "Shopify products export")
    ids = {"id", "g:id", "sku", "item_id", "product id", "product_id"}
    product_cols = {"title", "g:title", "price", "g:price", "link", "g:link", "availability"}
    product_cols |= {"image_link", "g:image_link", "description", "g:description", "brand"}
    if cols & ids and len(cols & product_cols) >= 2:
        return Detected("product_feed", "products", "product feed")
    return Detected("unknown", "unknown", "unrecognised file")


def wrong_kind_message(detected: Detected, wanted: str) -> str:
    """Why a file is refused when it holds something else than was asked for."""
    where = {
        "products": "upload it as a product source of the catalog, not here",
        "orders": "upload it as order lines",
        "impressions": "upload it as daily impressions",
    }.get(detected.kind, "")
    return f"This file looks like a {detected.label}, not {wanted}: {where}."


# --- reading a file -------------------------------------------------------------------------

XLSX_MAGIC = b"PK\x03\x04"


# A file is its bytes (an upload) or a path (the command, a large file): read from a path,
# only the chunk being worked on is in memory.
Source = bytes | Path


def _head(data: Source, size: int = 65536) -> bytes:
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data[:size])
    with open(data, "rb") as f:
        return f.read(size)


def _open(data: Source):
    return io.BytesIO(data) if isinstance(data, bytes | bytearray | memoryview) else str(data)


def is_blank(data: Source) -> bool:
    head = _head(data)
    return not head.strip() and len(head) < 65536


def is_xlsx(data: Source) -> bool:
    return _head(data, 4) == XLSX_MAGIC


def _check_text(data: Source) -> None:
    head = _head(data)
    if b"\x00" in head:
        raise FileError("The file contains NUL bytes; it is neither CSV nor XLSX.")
    try:
        head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:
            raise FileError("The file is not UTF-8 text (save it as CSV UTF-8).") from None


def read_header(data: Source) -> list[str]:
    """The header row of a CSV or XLSX file."""
    if is_xlsx(data):
        frame = _read_xlsx(data, nrows=0)
        return [str(c) for c in frame.columns]
    _check_text(data)
    try:
        frame = pd.read_csv(_open(data), dtype=str, nrows=0, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise FileError(f"Not a CSV file: {str(exc)[:200]}") from None
    return [str(c) for c in frame.columns]


MAX_XLSX_UNPACKED = 400 * 1024 * 1024


def _check_xlsx(data: Source) -> None:
    """Refuse a workbook that would unpack to more than MAX_XLSX_UNPACKED (a zip bomb)
    before openpyxl inflates it."""
    try:
        with zipfile.ZipFile(_open(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise FileError("Not a readable XLSX workbook (a broken zip archive).") from None
    if unpacked > MAX_XLSX_UNPACKED:
        raise FileError(
            f"The workbook unpacks to {unpacked // 2**20} MB, more than "
            f"{MAX_XLSX_UNPACKED // 2**20} MB: save it as CSV."
        )


def _read_xlsx(data: Source, **kwargs) -> pd.DataFrame:
    _check_xlsx(data)
    try:
        return pd.read_excel(
            _open(data), dtype=str, keep_default_na=False, engine="openpyxl", **kwargs
        )
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        raise FileError(f"Not a readable XLSX workbook: {str(exc)[:200]}") from None


def read_chunks(
    data: Source, *, usecols: list[str] | None = None, chunk_rows: int = CHUNK_ROWS
) -> Iterator[pd.DataFrame]:
    """The file's rows as frames of strings ('' for empty), with a ``line`` column (the
    header is line 1); usecols limits the columns read (names as in the header)."""
    if is_xlsx(data):
        frame = _read_xlsx(data, usecols=usecols)
        frame = frame.fillna("").astype(str)
        frame.insert(0, "line", np.arange(2, len(frame) + 2))
        for start in range(0, len(frame), chunk_rows):
            yield frame.iloc[start : start + chunk_rows].reset_index(drop=True)
        return
    _check_text(data)
    try:
        reader = pd.read_csv(
            _open(data),
            dtype=str,
            keep_default_na=False,
            encoding="utf-8-sig",
            usecols=usecols,
            chunksize=chunk_rows,
            skip_blank_lines=True,
        )
        # line numbers: blank lines are skipped by pandas, so this counts data rows; exports
        # have no blank lines in the middle (a quoted multi-line cell would shift it too)
        first = 2
        for chunk in reader:
            chunk = chunk.reset_index(drop=True)
            chunk.insert(0, "line", np.arange(first, first + len(chunk)))
            first += len(chunk)
            yield chunk
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise FileError(f"Not valid CSV: {str(exc)[:200]}") from None
    except pd.errors.EmptyDataError:
        raise FileError("The file is empty.") from None


# --- values ---------------------------------------------------------------------------------


def clean_text(values: pd.Series) -> pd.Series:
    """Outer blanks and tabs off (TikTok ends long ids with a tab so spreadsheets keep them
    as text), and the spreadsheet text guards ="…" and a leading apostrophe."""
    s = values.astype(str).str.strip()
    guarded = s.str.startswith('="') | s.str.startswith("'")
    if guarded.any():  # rare: only then the slower replacements
        s = s.str.replace(r'^="(.*)"$', r"\1", regex=True)
        s = s.str.replace(r"^'", "", regex=True).str.strip()
    return s


_SLASH = re.compile(
    r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})"
    r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?\s*$"
)
_SLASH_STR = _SLASH.pattern
# Without \s: parse_times matches it on stripped text, and pandas hands any pattern with
# \s to Python's re (one call per value) instead of pyarrow's RE2 (C++).
_ISO_START = r"^\d{4}-\d{1,2}-\d{1,2}"
# Python's \s spelled out as literal characters (every str.isspace() one), for the same
# reason: the same matches, run by RE2.
BLANKS = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())


def date_order_detect(values: Iterable[str]) -> str | None:
    """'dmy' or 'mdy' when some slash date settles it (a first number above 12 is a day,
    a second above 12 is a day), None when none does. FileError when the file has both."""
    found: set[str] = set()
    for value in values:
        m = _SLASH.match(value)
        if not m:
            continue
        a, b = int(m.group(1)), int(m.group(2))
        if a > 12 >= b:
            found.add("dmy")
        elif b > 12 >= a:
            found.add("mdy")
        if len(found) == 2:
            raise FileError(
                "The file mixes day-first and month-first dates (e.g. 13/01 and 01/13); "
                "export it again with one date format."
            )
    return found.pop() if found else None


def date_order_detect_frame(frame: pd.DataFrame, columns: Iterable[str]) -> str | None:
    """date_order_detect over the slash dates of some columns of a frame, vectorised."""
    orders: set[str] = set()
    for col in columns:
        if col not in frame:
            continue
        values = frame[col].astype(str)
        # plain patterns (run by pyarrow in C++): a first number above 12 is a day, so is
        # a second one
        if values.str.match(r"\s*(?:0?[1-9]|1[0-2])/(?:1[3-9]|2\d|3[01])/\d{4}").any():
            orders.add("mdy")
        if values.str.match(r"\s*(?:1[3-9]|2\d|3[01])/(?:0?[1-9]|1[0-2])/\d{4}").any():
            orders.add("dmy")
    if len(orders) == 2:
        raise FileError(
            "The file mixes day-first and month-first dates (e.g. 13/01 and 01/13); "
            "export it again with one date format."
        )
    return orders.pop() if orders else None


def has_slash_dates(frame: pd.DataFrame, columns: Iterable[str]) -> bool:
    return any(
        col in frame and frame[col].astype(str).str.match(r"^\s*\d{1,2}/\d{1,2}/\d{4}").any()
        for col in columns
    )


def parse_times(values: pd.Series, *, date_order: str | None, tz: str) -> pd.DataFrame:
    """Times as text -> ``at`` (UTC, NaT when empty) and ``bad`` (text that is not a time).

    Slash dates follow date_order ('dmy' or 'mdy'; a 12-hour clock with AM/PM is read
    either way); ISO 8601 times keep their offset; a time without an offset is in tz.
    """
    text = values.astype(str).str.strip()
    empty = text.eq("")
    result = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us, UTC]")

    iso = text.str.match(_ISO_START)
    if iso.any():
        iso_text = text[iso]
        offset = iso_text.str.contains(r"(?:[+-]\d{2}:?\d{2}|[Zz])$", regex=True)
        fixed = iso_text.str.replace(r"\s+([+-]\d{2}):?(\d{2})$", r"\1:\2", regex=True)
        if offset.any():
            result[fixed[offset].index] = pd.to_datetime(
                fixed[offset], format="ISO8601", utc=True, errors="coerce"
            ).astype("datetime64[us, UTC]")
        naive = fixed[~offset]
        if len(naive):
            local = pd.to_datetime(naive, format="ISO8601", errors="coerce")
            result[naive.index] = _localize(local, tz)

    slash = ~iso & ~empty
    if slash.any() and date_order in ("dmy", "mdy"):
        # the usual layouts first, at C speed; the regex below reads what they leave
        day_month = "%m/%d/%Y" if date_order == "mdy" else "%d/%m/%Y"
        for layout in (f"{day_month} %I:%M:%S %p", f"{day_month} %H:%M:%S"):
            fast = pd.to_datetime(text[slash], format=layout, errors="coerce")
            done = fast.notna()
            if done.any():
                result[fast[done].index] = _localize(fast[done], tz)
                slash &= ~done.reindex(slash.index, fill_value=False)
    if slash.any():
        parts = text[slash].str.extract(_SLASH_STR)
        a = pd.to_numeric(parts[0], errors="coerce")
        b = pd.to_numeric(parts[1], errors="coerce")
        if date_order == "dmy":
            day, month = a, b
        elif date_order == "mdy":
            day, month = b, a
        else:
            day = month = pd.Series(np.nan, index=parts.index)
        hour = pd.to_numeric(parts[3], errors="coerce").fillna(0)
        ampm = parts[6].str.lower()
        bad_clock = ampm.notna() & ((hour < 1) | (hour > 12))
        hour = hour.where(ampm.isna(), hour % 12 + np.where(ampm == "pm", 12, 0))
        stamp = pd.to_datetime(
            pd.DataFrame(
                {
                    "year": pd.to_numeric(parts[2], errors="coerce"),
                    "month": month,
                    "day": day,
                    "hour": hour,
                    "minute": pd.to_numeric(parts[4], errors="coerce").fillna(0),
                    "second": pd.to_numeric(parts[5], errors="coerce").fillna(0),
                }
            ),
            errors="coerce",
        )
        stamp[bad_clock] = pd.NaT
        result[stamp.index] = _localize(stamp, tz)

    years = result.dt.year
    result[(years < 1970) | (years > 2999)] = pd.NaT
    return pd.DataFrame({"at": result, "bad": ~empty & result.isna()})


def _localize(naive: pd.Series, tz: str) -> pd.Series:
    naive = naive.astype("datetime64[us]")
    # a wall time that happens twice (clocks back) is read as the later, standard time; one
    # that never happens (clocks forward) moves forward
    local = naive.dt.tz_localize(
        tz, ambiguous=np.zeros(len(naive), dtype=bool), nonexistent="shift_forward"
    )
    return local.dt.tz_convert("UTC")


def decimal_comma_detect(values: pd.Series) -> bool | None:
    """True when amounts use a decimal comma (``35,91``, ``1.234,56``), False when a decimal
    point, None when no amount tells (``1,234`` and ``12`` could be either)."""
    s = values.astype(str).str.replace(r"[^\d,.]", "", regex=True)
    comma = s.str.contains(r"(?:^|\d),\d{1,2}$|\.\d{3},\d+$", regex=True).any()
    point = s.str.contains(r"(?:^|\d)\.\d{1,2}$|,\d{3}\.\d+$", regex=True).any()
    if comma and point:
        raise FileError(
            "The file mixes decimal commas and decimal points in its amounts "
            "(e.g. 35,91 and 35.91); export it again with one number format."
        )
    if comma:
        return True
    if point:
        return False
    return None


def parse_money(values: pd.Series, *, decimal_comma: bool) -> pd.DataFrame:
    """Amounts as text (``BRL 35,91``, ``$1,234.50``, ``R$ 1.234,56``, ``12``) ->
    ``amount`` (text with a decimal point and two decimals, '' when empty) and ``bad``."""
    text = values.astype(str).str.strip()
    empty = text.eq("")
    # currency codes or symbols before or after the number, and blanks inside it (plain
    # patterns without look-arounds: pyarrow runs them in C++ instead of Python's re)
    number = text.str.replace(r"^[^0-9.,-]*", "", regex=True)
    number = number.str.replace(r"[^0-9.,]*$", "", regex=True)
    number = number.str.replace(f"[{BLANKS}']", "", regex=True)
    if decimal_comma:
        number = number.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    else:
        number = number.str.replace(",", "", regex=False)
    ok = number.str.fullmatch(r"\d{1,10}(?:\.\d{1,2})?|\d{0,10}\.\d{1,2}")
    # more decimals than cents: refused rather than rounded
    amount = pd.to_numeric(number.where(ok, None), errors="coerce")
    bad = ~empty & (amount.isna() | (amount > MAX_MONEY))
    cents = (amount.where(~bad) * 100).round().astype("Int64")
    formatted = (cents // 100).astype(str) + "." + (cents % 100).astype(str).str.zfill(2)
    formatted = formatted.where(cents.notna().to_numpy(), "")
    return pd.DataFrame({"amount": formatted, "bad": bad})


def parse_count(values: pd.Series) -> pd.DataFrame:
    """Whole numbers as text (``2``, ``2.0`` from a spreadsheet, ``1,200``) -> ``n``, ``bad``."""
    text = values.astype(str).str.strip().str.replace(f"[,{BLANKS}]", "", regex=True)
    text = text.str.replace(r"\.0+$", "", regex=True)
    empty = text.eq("")
    ok = text.str.fullmatch(r"\d{1,10}")
    n = pd.to_numeric(text.where(ok), errors="coerce")
    bad = ~empty & (n.isna() | (n > MAX_COUNT))
    return pd.DataFrame({"n": n.where(~bad).astype("Int64"), "bad": bad})


# --- formats: source columns -> the app's fields, as text -----------------------------------

# TikTok Shop: what each column means (matched loosely, see header_key)
TIKTOK_COLUMNS = {
    "order_id": "order id",
    "status": "order status",
    "cancel_type": "cancelation/return type",
    "sku_id": "sku id",
    "seller_sku": "seller sku",
    "quantity": "quantity",
    "item_price": "sku unit original price",
    "subtotal_after": "sku subtotal after discount",
    "shipping_fee": "shipping fee after discount",
    "original_shipping_fee": "original shipping fee",
    "placed_at": "created time",
    "paid_at": "paid time",
    "shipped_at": "shipped time",
    "delivered_at": "delivered time",
    "cancelled_at": "cancelled time",
    "cancel_by": "cancel by",
    "cancel_reason": "cancel reason",
    "tracking_number": "tracking id",
}
SHOPIFY_COLUMNS = {
    "order_id": "name",
    "sku": "lineitem sku",
    "quantity": "lineitem quantity",
    "item_price": "lineitem price",
    "shipping_fee": "shipping",
    "placed_at": "created at",
    "paid_at": "paid at",
    "shipped_at": "fulfilled at",
    "cancelled_at": "cancelled at",
    "fulfillment_status": "fulfillment status",
    "line_fulfillment_status": "lineitem fulfillment status",
    "financial_status": "financial status",
}
# Shopify's order-level cells, present on an order's first row only
SHOPIFY_ORDER_LEVEL = (
    "placed_at",
    "paid_at",
    "shipped_at",
    "cancelled_at",
    "shipping_fee",
    "fulfillment_status",
    "financial_status",
)

OUT_OF_STOCK_WORDS = (
    r"out of stock|out-of-stock|no stock|sold out|stock|inventory|sem estoque|agotado"
)
BUYER_WORDS = (
    r"buyer|customer|change(?:d)? (?:of )?mind|no longer need|ordered by mistake"
    r"|wrong item ordered|comprador"
)


def cancel_reason_map(reason: pd.Series, by: pd.Series | None = None) -> pd.Series:
    """A marketplace's cancel reason (and who cancelled) -> out_of_stock, buyer_request or
    other. Out-of-stock reasons win whoever cancelled; then a buyer's cancellation."""
    text = reason.astype(str).str.lower()
    who = by.astype(str).str.lower() if by is not None else pd.Series("", index=text.index)
    out = pd.Series("other", index=text.index, dtype=object)
    buyer = text.str.contains(BUYER_WORDS, regex=True) | who.str.contains("buyer|customer")
    out[buyer] = "buyer_request"
    out[text.str.contains(OUT_OF_STOCK_WORDS, regex=True)] = "out_of_stock"
    return out


def _col(frame: pd.DataFrame, columns: dict[str, str], name: str) -> pd.Series:
    """A source column by its role ('' everywhere when the file does not have it)."""
    source = columns.get(name)
    if source is not None and source in frame:
        return frame[source]
    return pd.Series("", index=frame.index, dtype=object)


def _keyed(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with its columns renamed to their header_key (the line column kept)."""
    return frame.rename(columns=lambda c: c if c == "line" else header_key(c))


def tiktok_fields(frame: pd.DataFrame) -> pd.DataFrame:
    """TikTok Shop rows -> the app's fields as text, plus ``skip`` (why a row is not an
    order line to import: '' for most)."""
    f = _keyed(frame)
    c = TIKTOK_COLUMNS
    out = pd.DataFrame({"line": f["line"]})
    out["order_id"] = clean_text(_col(f, c, "order_id"))
    seller_sku = clean_text(_col(f, c, "seller_sku"))
    out["sku"] = seller_sku.where(seller_sku.ne(""), clean_text(_col(f, c, "sku_id")))
    out["quantity"] = _col(f, c, "quantity")
    out["item_price"] = _col(f, c, "item_price")
    out["shipping_fee"] = _col(f, c, "shipping_fee")
    for name in ("placed_at", "paid_at", "shipped_at", "delivered_at", "cancelled_at"):
        out[name] = clean_text(_col(f, c, name))
    out["ship_by"] = ""
    out["tracking_number"] = clean_text(_col(f, c, "tracking_number"))
    status = clean_text(_col(f, c, "status")).str.lower()
    cancel_type = clean_text(_col(f, c, "cancel_type")).str.lower()
    cancelled = (
        status.str.contains("cancel") | cancel_type.eq("cancel") | out["cancelled_at"].ne("")
    )
    # a return after delivery is not a cancellation of the order line
    cancelled &= ~cancel_type.str.contains("return|refund") | status.str.contains("cancel")
    reason = cancel_reason_map(_col(f, c, "cancel_reason"), _col(f, c, "cancel_by"))
    out["cancel_reason"] = reason.where(cancelled, "")
    out["cancelled_at"] = out["cancelled_at"].where(cancelled, "")
    out["skip"] = np.where(status.eq("unpaid"), "unpaid order (not placed yet)", "")
    return out


def shopify_fields(frame: pd.DataFrame) -> pd.DataFrame:
    """Shopify orders rows -> the app's fields as text; an order's first row carries the
    order-level cells (created, paid, fulfilled, cancelled, shipping), later rows of the
    same Name get them."""
    f = _keyed(frame)
    c = SHOPIFY_COLUMNS
    out = pd.DataFrame({"line": f["line"]})
    out["order_id"] = clean_text(_col(f, c, "order_id"))
    out["sku"] = clean_text(_col(f, c, "sku"))
    out["quantity"] = _col(f, c, "quantity")
    out["item_price"] = _col(f, c, "item_price")
    for name in SHOPIFY_ORDER_LEVEL:
        out[name] = clean_text(_col(f, c, name))
    out = shopify_fill_order_level(out)
    line_status = clean_text(_col(f, c, "line_fulfillment_status")).str.lower()
    order_status = out["fulfillment_status"].str.lower()
    # a line is shipped when the order is fulfilled, or partly and this line is
    shipped = order_status.eq("fulfilled") | line_status.eq("fulfilled")
    shipped &= ~line_status.isin(["pending", "unfulfilled", "restocked"]) | order_status.eq(
        "fulfilled"
    )
    out["shipped_at"] = out["shipped_at"].where(shipped, "")
    cancelled = out["cancelled_at"].ne("")
    out["cancel_reason"] = np.where(cancelled, "other", "")
    out["ship_by"] = ""
    out["delivered_at"] = ""
    out["tracking_number"] = ""
    out["skip"] = ""
    return out.drop(columns=["fulfillment_status", "financial_status"])


def shopify_fill_order_level(out: pd.DataFrame) -> pd.DataFrame:
    """Copy each order's first-row cells to its later rows (same order id, empty cells)."""
    for name in SHOPIFY_ORDER_LEVEL:
        if name not in out:
            continue
        first = out[name].where(out[name].ne("")).groupby(out["order_id"]).transform("first")
        out[name] = out[name].where(out[name].ne(""), first.fillna(""))
    return out


@dataclass
class ColumnMapping:
    """Any other export: which source column holds each app field, plus how its cancel
    reason values read (source value -> out_of_stock / buyer_request / other)."""

    columns: dict[str, str]  # app field -> source column name (as in the header)
    cancel_values: dict[str, str] = field(default_factory=dict)

    def errors(self, header: Iterable[object], *, kind: str = "orders") -> list[str]:
        keys = {header_key(h) for h in header}
        fields = MAPPABLE_FIELDS if kind == "orders" else IMPRESSION_FIELDS
        required = (
            ("order_id", "sku", "placed_at") if kind == "orders" else ("sku", "date", "impressions")
        )
        problems = [f"{name} needs a column" for name in required if not self.columns.get(name)]
        for name, column in self.columns.items():
            if name not in fields:
                problems.append(f"{name} is not a field")
            elif column and header_key(column) not in keys:
                problems.append(f"{name}: no column {column!r} in the file")
        for value, reason in self.cancel_values.items():
            if reason not in CANCEL_REASONS:
                problems.append(f"cancel reason {value!r} must map to one of {CANCEL_REASONS}")
        return problems


def mapped_fields(frame: pd.DataFrame, mapping: ColumnMapping) -> pd.DataFrame:
    """Rows of any export -> the app's fields as text, through a column mapping."""
    f = _keyed(frame)
    cols = {k: header_key(v) for k, v in mapping.columns.items() if v}
    out = pd.DataFrame({"line": f["line"]})
    for name in MAPPABLE_FIELDS:
        out[name] = clean_text(_col(f, cols, name)) if name in cols else ""
    raw_reason = out["cancel_reason"].astype(str).str.strip()
    values = {header_key(k): v for k, v in mapping.cancel_values.items()}
    mapped = raw_reason.map(lambda v: values.get(header_key(v)) if v else "")
    guessed = cancel_reason_map(raw_reason)
    cancelled = out["cancelled_at"].ne("") | raw_reason.ne("")
    out["cancel_reason"] = mapped.fillna(guessed).where(cancelled, "")
    out["skip"] = ""
    return out


def app_fields(frame: pd.DataFrame) -> pd.DataFrame:
    """The app's own CSV: its columns already are the fields."""
    return mapped_fields(
        frame, ColumnMapping(columns={c: c for c in APP_ORDER_COLUMNS if c in _keyed(frame)})
    )


# --- typing and checking --------------------------------------------------------------------


@dataclass(frozen=True)
class ReadOptions:
    """What one file is read with (decided once per file)."""

    tz: str = "UTC"
    date_order: str | None = None  # 'dmy' / 'mdy'; None only when the file has no slash dates
    decimal_comma: bool = False
    handling_days: int = 3


def typed_lines(fields: pd.DataFrame, options: ReadOptions) -> tuple[pd.DataFrame, list[RowError]]:
    """Fields as text -> the app's order lines (OUT_COLUMNS; times UTC, amounts as text with
    two decimals) and the row errors of the lines left out."""
    errors: list[RowError] = []
    bad = pd.Series(False, index=fields.index)
    lines = fields["line"]

    def refuse(mask: pd.Series, column: str, message: str, values: pd.Series | None = None):
        nonlocal bad
        mask = mask.fillna(False).astype(bool) & ~bad
        if values is None:
            errors.extend(RowError(int(line), column, message) for line in lines[mask])
        else:
            errors.extend(
                RowError(int(line), column, f"{message} (got {str(value)[:40]!r})")
                for line, value in zip(lines[mask], values[mask], strict=True)
            )
        bad |= mask

    skip = fields["skip"].astype(str) if "skip" in fields else pd.Series("", index=fields.index)
    for reason in skip[skip.ne("")].unique():
        refuse(skip.eq(reason), "", f"skipped: {reason}")

    out = pd.DataFrame({"line": lines})
    for name in ("order_id", "sku", "tracking_number"):
        out[name] = fields[name].astype(str)
    refuse(out["order_id"].eq(""), "order_id", "is required")
    refuse(out["sku"].eq(""), "sku", "is required")
    refuse(out["order_id"].str.len() > 64, "order_id", "is longer than 64 characters")
    refuse(out["sku"].str.len() > 100, "sku", "is longer than 100 characters")
    refuse(out["tracking_number"].str.len() > 64, "tracking_number", "is longer than 64 characters")
    for name in ("order_id", "sku", "tracking_number"):
        refuse(
            out[name].str.contains(r"[\x00-\x1f]", regex=True), name, "contains control characters"
        )

    qty = parse_count(fields["quantity"])
    refuse(qty["bad"], "quantity", "must be a whole number", fields["quantity"])
    out["quantity"] = qty["n"].fillna(1)
    refuse(out["quantity"] < 1, "quantity", "must be at least 1")

    for name in MONEY_FIELDS:
        money = parse_money(fields[name], decimal_comma=options.decimal_comma)
        refuse(money["bad"], name, "must be an amount like 12.50", fields[name])
        out[name] = money["amount"]
    refuse(out["item_price"].eq(""), "item_price", "is required")
    out["shipping_fee"] = out["shipping_fee"].where(out["shipping_fee"].ne(""), "0.00")

    times = {}
    for name in TIME_FIELDS:
        parsed = parse_times(fields[name], date_order=options.date_order, tz=options.tz)
        refuse(parsed["bad"], name, "is not a date and time we can read", fields[name])
        times[name] = parsed["at"]

    refuse(times["placed_at"].isna(), "placed_at", "is required")
    handling = pd.Timedelta(timedelta(days=options.handling_days))
    start = times["paid_at"].fillna(times["placed_at"])
    ship_by = times["ship_by"].fillna(start + handling)
    shipped, delivered, cancelled = (
        times["shipped_at"],
        times["delivered_at"],
        times["cancelled_at"],
    )
    reason = fields["cancel_reason"].astype(str)
    # cancelled after it shipped (a return): the line counts as shipped
    returned = cancelled.notna() & shipped.notna()
    cancelled = cancelled.where(~returned)
    reason = reason.where(~returned, "")
    refuse(~reason.isin(["", *CANCEL_REASONS]), "cancel_reason", "is not a known reason")
    refuse(reason.ne("") & cancelled.isna(), "cancelled_at", "is required for a cancelled line")
    refuse(shipped < times["placed_at"], "shipped_at", "is before the order was placed")
    refuse(ship_by < times["placed_at"], "ship_by", "is before the order was placed")
    refuse(delivered.notna() & shipped.isna(), "delivered_at", "needs a shipped time")
    out["placed_at"] = times["placed_at"]
    out["ship_by"] = ship_by
    out["shipped_at"] = shipped
    out["delivered_at"] = delivered
    out["cancelled_at"] = cancelled
    out["cancel_reason"] = reason.where(cancelled.notna(), "")
    good = out[~bad].reset_index(drop=True)
    good["quantity"] = good["quantity"].astype("int64")
    return good[list(OUT_COLUMNS)], errors


FORMAT_FIELDS = {
    "tiktok_orders": tiktok_fields,
    "shopify_orders": shopify_fields,
    "app_orders": app_fields,
}


def source_time_columns(key: str, mapping: ColumnMapping | None = None) -> list[str]:
    """The header names (loose keys) of a format's time columns."""
    if key == "tiktok_orders":
        return [
            TIKTOK_COLUMNS[n]
            for n in ("placed_at", "paid_at", "shipped_at", "delivered_at", "cancelled_at")
        ]
    if key == "shopify_orders":
        return [SHOPIFY_COLUMNS[n] for n in ("placed_at", "paid_at", "shipped_at", "cancelled_at")]
    if key == "app_orders":
        return ["placed_at", "ship_by", "shipped_at", "delivered_at", "cancelled_at"]
    if mapping:
        return [header_key(mapping.columns[n]) for n in TIME_FIELDS if mapping.columns.get(n)]
    return []


def source_money_columns(key: str, mapping: ColumnMapping | None = None) -> list[str]:
    if key == "tiktok_orders":
        return [TIKTOK_COLUMNS["item_price"], TIKTOK_COLUMNS["shipping_fee"]]
    if key == "shopify_orders":
        return [SHOPIFY_COLUMNS["item_price"], SHOPIFY_COLUMNS["shipping_fee"]]
    if key == "app_orders":
        return ["item_price", "shipping_fee"]
    if mapping:
        return [header_key(mapping.columns[n]) for n in MONEY_FIELDS if mapping.columns.get(n)]
    return []


# --- one file, end to end -------------------------------------------------------------------


@dataclass
class OrderFile:
    """An order export, recognised and with its per-file choices made; ``chunks()`` reads
    it (again) chunk by chunk into typed order lines and row errors."""

    data: Source
    detected: Detected
    header: list[str]
    options: ReadOptions
    mapping: ColumnMapping | None = None
    chunk_rows: int = CHUNK_ROWS
    date_order_source: str = ""  # 'file', 'setting' or '' (no slash dates)

    @property
    def used_columns(self) -> set[str]:
        key = self.detected.key
        if key == "tiktok_orders":
            used = set(TIKTOK_COLUMNS.values())
        elif key == "shopify_orders":
            used = set(SHOPIFY_COLUMNS.values())
        elif key == "app_orders":
            used = set(APP_ORDER_COLUMNS)
        else:
            used = {header_key(c) for c in (self.mapping.columns.values() if self.mapping else ())}
        return used

    @property
    def unmapped_columns(self) -> list[str]:
        used = self.used_columns
        return [h for h in self.header if header_key(h) not in used and str(h).strip()]

    def _fields(self, frame: pd.DataFrame) -> pd.DataFrame:
        if self.mapping is not None:
            return mapped_fields(frame, self.mapping)
        return FORMAT_FIELDS[self.detected.key](frame)

    def chunks(self) -> Iterator[tuple[pd.DataFrame, list[RowError], int]]:
        """(typed lines, row errors, rows read) per chunk of the file."""
        carry: pd.DataFrame | None = None
        shopify = self.detected.key == "shopify_orders" and self.mapping is None
        used = self.used_columns
        usecols = [h for h in self.header if header_key(h) in used]
        for frame in read_chunks(self.data, usecols=usecols, chunk_rows=self.chunk_rows):
            if shopify:
                # an order's rows may straddle two chunks: its later rows need its first
                if carry is not None:
                    frame = pd.concat([carry, frame], ignore_index=True)
                ids = clean_text(_col(_keyed(frame), SHOPIFY_COLUMNS, "order_id"))
                tail = ids.eq(ids.iloc[-1]) if len(ids) else ids.astype(bool)
                # the rows of the chunk's last order wait for the next chunk
                carry, frame = frame[tail], frame[~tail]
                if not len(frame):
                    continue
            yield self._typed(frame)
        if carry is not None and len(carry):
            yield self._typed(carry)

    def _typed(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[RowError], int]:
        lines, errors = typed_lines(self._fields(frame), self.options)
        return lines, errors, len(frame)


def order_file_open(
    data: Source,
    *,
    tz: str = "UTC",
    date_order: str = "",
    handling_days: int = 3,
    mapping: ColumnMapping | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> OrderFile:
    """Recognise an order export and make its per-file choices.

    date_order is the tenant's setting ('dmy', 'mdy' or ''), used only when the file's own
    dates cannot tell. FileError when the file is not orders (saying what it looks like),
    needs a column mapping, or has ambiguous dates and no setting to settle them.
    """
    if is_blank(data):
        raise FileError("The file is empty.")
    header = read_header(data)
    detected = detect_format(header)
    if mapping is not None:
        problems = mapping.errors(header)
        if problems:
            raise FileError("The column mapping does not fit this file: " + "; ".join(problems))
        detected = Detected("mapped", "orders", "export read through a column mapping")
    elif detected.kind != "orders":
        if detected.kind == "unknown":
            raise FileError(
                "This file's columns are not a format we recognise (TikTok Shop, Shopify or "
                "our own CSV): map its columns once and the mapping is used next time."
            )
        raise FileError(wrong_kind_message(detected, "order lines"))
    by_key = {header_key(h): h for h in header}
    time_cols = [by_key[c] for c in source_time_columns(detected.key, mapping) if c in by_key]
    money_cols = [by_key[c] for c in source_money_columns(detected.key, mapping) if c in by_key]
    found_order: str | None = None
    slash = False
    comma: set[bool] = set()
    if time_cols or money_cols:
        # one pass over the times and amounts only: what the whole file says
        for frame in read_chunks(data, usecols=time_cols + money_cols, chunk_rows=chunk_rows * 4):
            order = date_order_detect_frame(frame, time_cols)
            if order:
                if found_order and found_order != order:
                    date_order_detect_frame(
                        pd.DataFrame({"a": ["13/01/2000", "01/13/2000"]}), ["a"]
                    )
                found_order = order
            slash = slash or has_slash_dates(frame, time_cols)
            for col in money_cols:
                said = decimal_comma_detect(frame[col])
                if said is not None:
                    comma.add(said)
    if len(comma) == 2:
        raise FileError(
            "The file mixes decimal commas and decimal points in its amounts; export it again "
            "with one number format."
        )
    source = ""
    if found_order:
        source = "file"
    elif slash:
        if date_order not in ("dmy", "mdy"):
            raise FileError(
                "No date in this file has a day above 12, so it cannot tell whether 03/04 is "
                "3 April or March 4: choose the date order (day first or month first) and "
                "upload it again."
            )
        found_order, source = date_order, "setting"
    return OrderFile(
        data=data,
        detected=detected,
        header=header,
        options=ReadOptions(
            tz=tz,
            date_order=found_order,
            decimal_comma=comma == {True},
            handling_days=handling_days,
        ),
        mapping=mapping,
        chunk_rows=chunk_rows,
        date_order_source=source,
    )


# --- daily impressions from any export ------------------------------------------------------

IMPRESSION_GUESSES = {
    "sku": (
        "sku",
        "seller sku",
        "product id",
        "product_id",
        "item id",
        "item_id",
        "offer id",
        "content id",
        "id",
    ),
    "date": ("date", "day", "stat date", "reporting starts", "date_start"),
    "impressions": ("impressions", "impr.", "impr", "product impressions"),
    "clicks": ("clicks", "link clicks", "product clicks"),
}


def impression_mapping_guess(header: Iterable[object]) -> ColumnMapping | None:
    """A mapping from the usual column names (Google, Meta, TikTok reports and our own CSV),
    or None when the sku, date or impressions column is not obvious."""
    by_key = {header_key(h): str(h) for h in header}
    columns = {}
    for name, guesses in IMPRESSION_GUESSES.items():
        found = next((by_key[g] for g in guesses if g in by_key), None)
        if found:
            columns[name] = found
    if not all(columns.get(n) for n in ("sku", "date", "impressions")):
        return None
    return ColumnMapping(columns=columns)


@dataclass
class ImpressionFile:
    """A daily-impressions export with its mapping and date order decided."""

    data: Source
    header: list[str]
    mapping: ColumnMapping
    date_order: str | None
    chunk_rows: int = CHUNK_ROWS

    @property
    def unmapped_columns(self) -> list[str]:
        used = {header_key(c) for c in self.mapping.columns.values() if c}
        return [h for h in self.header if header_key(h) not in used and str(h).strip()]

    def chunks(self) -> Iterator[tuple[pd.DataFrame, list[RowError], int]]:
        """(sku, date, impressions, clicks, line) frames, row errors, rows read."""
        for frame in read_chunks(self.data, chunk_rows=self.chunk_rows):
            yield (*typed_impressions(frame, self.mapping, self.date_order), len(frame))


def typed_impressions(
    frame: pd.DataFrame, mapping: ColumnMapping, date_order: str | None
) -> tuple[pd.DataFrame, list[RowError]]:
    f = _keyed(frame)
    cols = {k: header_key(v) for k, v in mapping.columns.items() if v}
    errors: list[RowError] = []
    bad = pd.Series(False, index=f.index)

    def refuse(mask, column, message):
        nonlocal bad
        mask = mask.fillna(False).astype(bool) & ~bad
        errors.extend(RowError(int(line), column, message) for line in f["line"][mask])
        bad |= mask

    sku = clean_text(_col(f, cols, "sku"))
    refuse(sku.eq(""), "sku", "is required")
    refuse(sku.str.len() > 100, "sku", "is longer than 100 characters")
    days = parse_times(clean_text(_col(f, cols, "date")), date_order=date_order, tz="UTC")
    refuse(days["at"].isna(), "date", "is not a date we can read")
    impressions = parse_count(_col(f, cols, "impressions"))
    refuse(impressions["bad"] | impressions["n"].isna(), "impressions", "must be a whole number")
    clicks = parse_count(_col(f, cols, "clicks"))
    refuse(clicks["bad"], "clicks", "must be a whole number")
    clicks_n = clicks["n"].fillna(0)
    refuse(clicks_n > impressions["n"].fillna(0), "clicks", "cannot exceed impressions")
    out = pd.DataFrame(
        {
            "line": f["line"],
            "sku": sku,
            "date": days["at"].dt.date,
            "impressions": impressions["n"],
            "clicks": clicks_n,
        }
    )[~bad].reset_index(drop=True)
    out["impressions"] = out["impressions"].astype("int64")
    out["clicks"] = out["clicks"].astype("int64")
    return out, errors


def impression_file_open(
    data: Source,
    *,
    mapping: ColumnMapping | None = None,
    date_order: str = "",
    chunk_rows: int = CHUNK_ROWS,
) -> ImpressionFile:
    """Recognise a daily-impressions export: the mapping given, else one guessed from the
    usual column names. FileError when it is orders or a product feed, or needs a mapping."""
    if is_blank(data):
        raise FileError("The file is empty.")
    header = read_header(data)
    if mapping is None:
        detected = detect_format(header)
        if detected.kind in ("orders", "products"):
            raise FileError(wrong_kind_message(detected, "daily impressions"))
        mapping = impression_mapping_guess(header)
        if mapping is None:
            raise FileError(
                "This file's columns do not say which holds the product id, the date and the "
                "impressions: map its columns once and the mapping is used next time."
            )
    problems = mapping.errors(header, kind="impressions")
    if problems:
        raise FileError("The column mapping does not fit this file: " + "; ".join(problems))
    date_col = {header_key(h): h for h in header}.get(header_key(mapping.columns["date"]))
    found: str | None = None
    slash = False
    for frame in read_chunks(data, usecols=[date_col], chunk_rows=chunk_rows * 4):
        order = date_order_detect_frame(frame, [date_col])
        if order and found and order != found:
            raise FileError("The file mixes day-first and month-first dates.")
        found = order or found
        slash = slash or has_slash_dates(frame, [date_col])
    if not found and slash:
        if date_order not in ("dmy", "mdy"):
            raise FileError(
                "No date in this file has a day above 12, so it cannot tell whether 03/04 is "
                "3 April or March 4: choose the date order (day first or month first) and "
                "upload it again."
            )
        found = date_order
    return ImpressionFile(
        data=data, header=header, mapping=mapping, date_order=found, chunk_rows=chunk_rows
    )
