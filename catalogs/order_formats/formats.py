"""Per-source steps: TikTok Shop, Shopify, column-mapped and app files to the app's fields
(still text), the typing step they share, and opening an order file."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import partial

import numpy as np
import pandas as pd
import pyarrow as pa

from ..order_io import (
    CANCEL_REASONS,
    MAX_TEXT,
    AmountSeen,
    FileError,
    RowError,
    limit_or_now,
    mixed_decimal_marks,
)
from ..rules import HAPPENED_TIMES, FutureLimit, future_time_error, ship_by_due
from .choices import date_order_settle, file_says, without_empty_rows, without_line
from .columns import PENDING_ORDER, order_level_fill, status_applied
from .columns import column as _col
from .columns import has_words as _has
from .columns import keyed as _keyed
from .columns import lowered as _lowered
from .columns import tracking_column as _tracking
from .detection import (
    APP_ORDER_COLUMNS,
    CHUNK_ROWS,
    IMPRESSION_FIELDS,
    MAPPABLE_FIELDS,
    MONEY_FIELDS,
    OUT_COLUMNS,
    TIME_FIELDS,
    Detected,
    Source,
    detect_format,
    header_key,
    is_blank,
    lines_above_header,
    read_chunks,
    read_first_row,
    read_header,
    wrong_kind_message,
)
from .marketplaces import (
    AMAZON_COLUMNS,
    AMAZON_SHIPMENTS_COLUMNS,
    EBAY_COLUMNS,
    ETSY_ITEMS_COLUMNS,
    amazon_fields,
    amazon_shipments_fields,
    ebay_fields,
    etsy_items_fields,
)
from .values import (
    MIXED_DATES,
    SHORTENED,
    TOO_LARGE,
    by_unique,
    clean_text,
    date_order_detect_frame,
    decimal_comma_decide,
    decimal_comma_detect,
    decimal_mark_told,
    identifiers_check,
    parse_count,
    parse_money,
    parse_times,
    refusals_named,
    spreadsheet_shortened,
    tracking_numbers_check,
)

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
    text = reason.astype(str)
    who = by.astype(str) if by is not None else pd.Series("", index=text.index)
    out = pd.Series("other", index=text.index, dtype=object)
    buyer = by_unique(text, _has, BUYER_WORDS) | by_unique(who, _has, "buyer|customer")
    out[buyer] = "buyer_request"
    out[by_unique(text, _has, OUT_OF_STOCK_WORDS)] = "out_of_stock"
    return out


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
    out["tracking_number"] = _tracking(f, c)
    status = by_unique(_col(f, c, "status"), _lowered)
    cancel_type = by_unique(_col(f, c, "cancel_type"), _lowered)
    status_cancel = by_unique(status, _has, "cancel")
    cancelled = status_cancel | cancel_type.eq("cancel") | out["cancelled_at"].ne("")
    # a return after delivery is not a cancellation of the order line
    cancelled &= ~by_unique(cancel_type, _has, "return|refund") | status_cancel
    reason = cancel_reason_map(_col(f, c, "cancel_reason"), _col(f, c, "cancel_by"))
    out["cancel_reason"] = reason.where(cancelled, "")
    out["cancelled_at"] = out["cancelled_at"].where(cancelled, "")
    out["skip"] = np.where(status.eq("unpaid"), "unpaid order (not placed yet)", "")
    return out


# A real TikTok Shop export describes its columns in the row under the header ("Platform
# unique order ID.", "SKU sold quantity in the order."): that row is skipped, not refused.
# It is told by its Order ID cell: words (letters, a blank, letters), which no order id has.
DESCRIPTION_LINE = 2
_WORDS = re.compile(r"[^\W\d_]{2,}\s+[^\W\d_]")


def tiktok_description_row(order_id: str | None) -> bool:
    """Whether the Order ID cell of the row under a TikTok Shop header describes the
    column instead of holding an order id."""
    return order_id is not None and bool(_WORDS.search(order_id.strip()))


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
    # Fulfilled at is the whole order's: empty while it is partly fulfilled. A line fulfilled
    # meanwhile has no time of its own in the export; the order's creation, the one time it
    # gives that the fulfilment cannot precede, stands for it (docs/orders.md)
    fulfilled_at = out["shipped_at"].where(out["shipped_at"].ne(""), out["placed_at"])
    out["shipped_at"] = fulfilled_at.where(shipped, "")
    cancelled = out["cancelled_at"].ne("")
    out["cancel_reason"] = np.where(cancelled, "other", "")
    out["ship_by"] = ""
    out["delivered_at"] = ""
    out["tracking_number"] = _tracking(f, c)  # unknown: the export has no tracking column
    # pending: not paid yet (payment terms, a manual payment awaited), as Amazon's Pending;
    # a line that shipped or was cancelled meanwhile is imported as such
    pending = out["financial_status"].str.lower().eq("pending") & ~shipped & ~cancelled
    out["skip"] = np.where(pending, PENDING_ORDER, "")
    return out.drop(columns=["fulfillment_status", "financial_status"])


def shopify_fill_order_level(out: pd.DataFrame) -> pd.DataFrame:
    """Copy each order's first-row cells to its later rows (same order id, empty cells)."""
    return order_level_fill(out, SHOPIFY_ORDER_LEVEL)


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
    out["tracking_number"] = _tracking(f, cols)
    out["skip"] = ""
    if "status" in cols:
        out = status_applied(out, out.pop("status"))
    raw_reason = out["cancel_reason"].astype(str).str.strip()
    values = {header_key(k): v for k, v in mapping.cancel_values.items()}
    mapped = raw_reason.map(lambda v: values.get(header_key(v)) if v else "")
    guessed = cancel_reason_map(raw_reason)
    cancelled = out["cancelled_at"].ne("") | raw_reason.ne("")
    out["cancel_reason"] = mapped.fillna(guessed).where(cancelled, "")
    return out.drop(columns=["status"], errors="ignore")


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
    date_order: str | None = None  # 'dmy' / 'mdy'; None only when no date of the file needs one
    decimal_comma: bool = False  # its amounts (else counts) tell a decimal comma
    handling_days: int = 3
    limit: FutureLimit | None = None  # how late a line may have happened; None: from now, tz


def typed_lines(fields: pd.DataFrame, options: ReadOptions) -> tuple[pd.DataFrame, list[RowError]]:
    """Fields as text -> the app's order lines (OUT_COLUMNS; times UTC, amounts as text with
    two decimals) and the row errors of the lines left out."""
    errors: list[RowError] = []
    bad = pd.Series(False, index=fields.index)
    lines = fields["line"]

    def refuse(mask: pd.Series, column: str, message: str, values: pd.Series | None = None):
        nonlocal bad
        mask = mask.fillna(False).astype(bool) & ~bad
        if not mask.any():  # the usual case: no line refused for this
            return
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
    # None: the file has no tracking column (unknown); checked as "", written as None
    unknown_tracking = fields["tracking_number"].isna()
    checked = {
        name: identifiers_check(fields[name].astype(str), max_length=MAX_TEXT[name])
        for name in ("order_id", "sku")
    }
    checked["tracking_number"] = tracking_numbers_check(
        fields["tracking_number"].where(~unknown_tracking, "").astype(str)
    )
    for name, (cleaned, _) in checked.items():
        out[name] = cleaned
    refuse(out["order_id"].eq(""), "order_id", "is required")
    refuse(out["sku"].eq(""), "sku", "is required")
    for name, (_, problems) in checked.items():
        for message in problems.dropna().unique():  # rare: one refusal per distinct reason
            refuse(problems.eq(message), name, message)
        refuse(spreadsheet_shortened(out[name]), name, SHORTENED, out[name])

    qty = parse_count(fields["quantity"], decimal_comma=options.decimal_comma)
    refuse(qty["too_large"], "quantity", TOO_LARGE, fields["quantity"])
    refuse(qty["bad"], "quantity", "must be a whole number", fields["quantity"])
    out["quantity"] = qty["n"].fillna(1)
    # No units: a cancelled line as Amazon writes one (quantity 0, no price), refused below
    # unless the line is cancelled
    no_units = out["quantity"].eq(0)

    for name in MONEY_FIELDS:
        money = parse_money(fields[name], decimal_comma=options.decimal_comma)
        refuse(money["bad"], name, "must be an amount like 12.50", fields[name])
        out[name] = money["amount"]
    refuse(out["item_price"].eq("") & ~no_units, "item_price", "is required")
    if "price_covers_quantity" in fields:  # the price of all of the line's units (Amazon)
        out["item_price"] = _unit_prices(out["item_price"], out["quantity"])
    out["shipping_fee"] = out["shipping_fee"].where(out["shipping_fee"].ne(""), "0.00")

    times = {}
    for name in TIME_FIELDS:
        # a ship-by day (eBay's Ship By Date: Dec-08-26) is due by its end, not its start
        parsed = parse_times(
            fields[name], date_order=options.date_order, tz=options.tz, day_end=name == "ship_by"
        )
        refuse(parsed["bad"], name, "is not a date and time we can read", fields[name])
        times[name] = parsed["at"]

    refuse(times["placed_at"].isna(), "placed_at", "is required")
    limit = limit_or_now(options.limit, options.tz)
    latest, rule = pd.Timestamp(limit.latest_time), partial(future_time_error, limit=limit)
    for name in HAPPENED_TIMES:  # in the future (the rule takes a Timestamp: a datetime)
        for where, message in refusals_named(times[name], times[name] > latest, rule):
            refuse(where, name, message)
    start = times["paid_at"].fillna(times["placed_at"])
    ship_by = times["ship_by"].fillna(ship_by_due(start, handling_days=options.handling_days))
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
    refuse(no_units & cancelled.isna(), "quantity", "must be at least 1")
    # nothing sold nor charged: a fee ratio weighs no item value, the rates count the line
    out["item_price"] = out["item_price"].mask(no_units & out["item_price"].eq(""), "0.00")
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
    out["tracking_number"] = out["tracking_number"].astype(object).where(~unknown_tracking, None)
    good = out[~bad].reset_index(drop=True)
    good["quantity"] = good["quantity"].astype("int64")
    return good[list(OUT_COLUMNS)], errors


def _unit_prices(totals: pd.Series, quantities: pd.Series) -> pd.Series:
    """Amounts (text, two decimals) of several units -> the amount of one, to the cent."""
    many = totals.ne("") & (quantities > 1)
    if not many.any():
        return totals
    cent = Decimal("0.01")
    per_unit = [
        str((Decimal(total) / int(n)).quantize(cent, rounding=ROUND_HALF_UP))
        for total, n in zip(totals[many], quantities[many], strict=True)
    ]
    return totals.mask(many, pd.Series(per_unit, index=totals[many].index, dtype=object))


FORMAT_FIELDS = {
    "tiktok_orders": tiktok_fields,
    "shopify_orders": shopify_fields,
    "amazon_orders": amazon_fields,
    "amazon_shipments": amazon_shipments_fields,
    "etsy_order_items": etsy_items_fields,
    "ebay_orders": ebay_fields,
    "app_orders": app_fields,
}
# The built-in formats read through a table of their columns (role -> header key)
BUILT_IN_COLUMNS = {
    "tiktok_orders": TIKTOK_COLUMNS,
    "shopify_orders": SHOPIFY_COLUMNS,
    "amazon_orders": AMAZON_COLUMNS,
    "amazon_shipments": AMAZON_SHIPMENTS_COLUMNS,
    "etsy_order_items": ETSY_ITEMS_COLUMNS,
    "ebay_orders": EBAY_COLUMNS,
}
ORDER_LEVEL_FORMATS = ("shopify_orders", "ebay_orders")


def source_columns(key: str, mapping: ColumnMapping | None, fields: Iterable[str]) -> list[str]:
    """The header names (loose keys) of the columns a format reads some fields from."""
    if key in BUILT_IN_COLUMNS:
        return [BUILT_IN_COLUMNS[key][n] for n in fields if n in BUILT_IN_COLUMNS[key]]
    if key == "app_orders":
        return [n for n in fields if n in APP_ORDER_COLUMNS]
    if mapping:
        return [header_key(mapping.columns[n]) for n in fields if mapping.columns.get(n)]
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
    engine: str = "pandas"  # how a CSV is read: 'pyarrow' when it can read all of it
    # (time columns, money columns) when the choices were settled by the first chunk: each
    # chunk read is checked not to say otherwise (order_file_open)
    verify: tuple[list[str], list[str]] | None = None
    # a row that is not a line (TikTok's column descriptions): dropped as it is read, so
    # that it is neither counted nor refused, and the other lines keep their numbers
    skip_line: int | None = None
    # the amount that told the file's decimal mark, where it is: named if a chunk says the
    # other (verify)
    amounts_seen: dict[bool, AmountSeen] = field(default_factory=dict)

    @property
    def used_columns(self) -> set[str]:
        key = self.detected.key
        if key in BUILT_IN_COLUMNS:
            used = set(BUILT_IN_COLUMNS[key].values())
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
        # formats whose order cells sit on one of its rows: an order's rows are read together
        by_order = self.detected.key in ORDER_LEVEL_FORMATS and self.mapping is None
        used = self.used_columns
        usecols = [h for h in self.header if header_key(h) in used]
        for frame in self._frames(usecols):
            if self.verify is not None:
                self._check(frame, *self.verify)
            if by_order:
                # an order's rows may straddle two chunks: its later rows need its first
                if carry is not None:
                    frame = pd.concat([carry, frame], ignore_index=True)
                columns = BUILT_IN_COLUMNS[self.detected.key]
                ids = clean_text(_col(_keyed(frame), columns, "order_id"))
                tail = ids.eq(ids.iloc[-1]) if len(ids) else ids.astype(bool)
                # the rows of the chunk's last order wait for the next chunk
                carry, frame = frame[tail], frame[~tail]
                if not len(frame):
                    continue
            yield self._typed(frame)
        if carry is not None and len(carry):
            yield self._typed(carry)

    def _frames(self, usecols: list[str]) -> Iterator[pd.DataFrame]:
        """The file's frames, without skip_line."""
        for frame in self._read_frames(usecols):
            frame = without_empty_rows(without_line(frame, self.skip_line))
            if len(frame):
                yield frame

    def _read_frames(self, usecols: list[str]) -> Iterator[pd.DataFrame]:
        """The file's frames; when pyarrow fails on a later block (a ragged row, a quoted
        line break), pandas reads on from the first line not yielded yet."""
        next_line = 0
        try:
            for frame in read_chunks(
                self.data, usecols=usecols, chunk_rows=self.chunk_rows, engine=self.engine
            ):
                if len(frame):
                    next_line = int(frame["line"].iat[-1]) + 1
                yield frame
            return
        except pa.ArrowException:
            if self.engine == "pandas":
                raise
        self.engine = "pandas"
        for frame in read_chunks(self.data, usecols=usecols, chunk_rows=self.chunk_rows):
            frame = frame[frame["line"] >= next_line]
            if len(frame):
                yield frame.reset_index(drop=True)

    def _check(self, frame: pd.DataFrame, time_cols: list[str], money_cols: list[str]) -> None:
        """FileError when a chunk says otherwise than the first chunk did."""
        order = date_order_detect_frame(frame, time_cols)
        if order and order != self.options.date_order:
            raise FileError(MIXED_DATES)
        for col in money_cols:
            said = decimal_comma_detect(frame[col], lines=frame["line"], column=col)
            if said is not None and said != self.options.decimal_comma:
                # the first chunk's amounts told the other mark (verify is set so)
                marks = {
                    said: decimal_mark_told(frame, col)[1],
                    not said: self.amounts_seen[not said],
                }
                raise FileError(mixed_decimal_marks(comma=marks[True], point=marks[False]))

    def _typed(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[RowError], int]:
        # rows a format drops (eBay's footer and order rows) are not lines read
        fields = self._fields(frame)
        lines, errors = typed_lines(fields, self.options)
        return lines, errors, len(fields)


# Downloads of one row per order: an order's items, their SKUs and quantities are not in
# them, so no column mapping can read them either
ORDER_SUMMARY_REFUSALS = {
    "etsy_orders": (
        "This file looks like Etsy's Sold Orders download (one row per order, without each "
        "item's SKU and quantity): download Sold Order Items instead (Shop Manager > "
        "Settings > Options > Download Data) and upload that."
    ),
    "woocommerce_analytics_orders": (
        "This file looks like the orders download of WooCommerce Analytics (one row per "
        "order, its products by name in one cell, without SKUs): export the orders with one "
        "row per item and its SKU (an order export plugin does) and upload that."
    ),
}


def order_file_open(
    data: Source,
    *,
    tz: str = "UTC",
    date_order: str = "",
    handling_days: int = 3,
    mapping: ColumnMapping | None = None,
    chunk_rows: int = CHUNK_ROWS,
    engine: str = "pyarrow",
    limit: FutureLimit | None = None,
) -> OrderFile:
    """Recognise an order export and make its per-file choices.

    engine: how a CSV is read, "pyarrow" (when it can read every row, else pandas) or
    "pandas". limit: how late a line may have happened (catalogs.rules), else from now in tz.

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
        if detected.key in ORDER_SUMMARY_REFUSALS:
            raise FileError(ORDER_SUMMARY_REFUSALS[detected.key])
        if detected.kind == "unknown":
            raise FileError(
                "This file's columns are not a format we recognise (TikTok Shop, Shopify, "
                "Amazon All Orders or Fulfilled Shipments, Etsy Sold Order Items, eBay Orders "
                "or our own CSV): map its columns once and the mapping is used next time."
            )
        raise FileError(wrong_kind_message(detected, "order lines"))
    by_key = {header_key(h): h for h in header}
    skip_line = None
    if detected.key == "tiktok_orders" and tiktok_description_row(
        read_first_row(data, by_key[TIKTOK_COLUMNS["order_id"]])
    ):
        skip_line = DESCRIPTION_LINE + lines_above_header(data)
    time_cols, money_cols, count_cols = (
        [by_key[c] for c in source_columns(detected.key, mapping, fields) if c in by_key]
        for fields in (TIME_FIELDS, MONEY_FIELDS, ("quantity",))
    )
    # pyarrow reads the CSV when it can read every row of it (the pass below tells); else
    # pandas, whose messages name what is wrong
    if len(set(header)) != len(header):
        engine = "pandas"
    # The first chunk usually settles both choices (a day above 12, an amount with
    # decimals): then the import's own pass checks that no later chunk says otherwise
    # (OrderFile.verify) instead of a pass of its own over the whole file. Counts tell the
    # decimal mark only where no amount does: then the whole file is read.
    verify = None
    for whole in (False, True):
        says = partial(
            file_says,
            data,
            time_cols=time_cols,
            money_cols=money_cols,
            count_cols=count_cols,
            chunk_rows=chunk_rows,
            whole=whole,
            skip_line=skip_line,
        )
        try:
            said = says(engine=engine)
        except pa.ArrowException:
            engine = "pandas"
            said = says(engine=engine)
        if (said.date_order or not time_cols) and (said.amounts or not (money_cols + count_cols)):
            if not whole:
                verify = (time_cols, money_cols)
            break
    decimal_comma = decimal_comma_decide(amounts=said.amounts, counts=said.counts)
    found_order, source = date_order_settle(said, date_order)
    return OrderFile(
        data=data,
        detected=detected,
        header=header,
        options=ReadOptions(
            tz=tz,
            date_order=found_order,
            decimal_comma=decimal_comma,
            handling_days=handling_days,
            limit=limit_or_now(limit, tz),
        ),
        mapping=mapping,
        chunk_rows=chunk_rows,
        date_order_source=source,
        engine=engine,
        verify=verify,
        skip_line=skip_line,
        amounts_seen=said.amounts,
    )
