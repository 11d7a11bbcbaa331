"""Daily impressions from any export: guessing the column mapping and reading the file."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pandas as pd

from ..order_io import FileError, RowError, limit_or_now
from ..rules import FutureLimit, future_day_error
from .choices import date_order_settle, file_says
from .detection import (
    CHUNK_ROWS,
    Source,
    detect_format,
    header_key,
    is_blank,
    read_chunks,
    read_header,
    wrong_kind_message,
)
from .formats import ColumnMapping, _col, _keyed
from .values import (
    TOO_LARGE,
    clean_text,
    decimal_comma_decide,
    identifiers_check,
    parse_count,
    parse_times,
    refusals_named,
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
    """A daily-impressions export with its mapping, date order and decimal mark decided."""

    data: Source
    header: list[str]
    mapping: ColumnMapping
    date_order: str | None
    decimal_comma: bool = False  # its counts group thousands by points (1.200)
    chunk_rows: int = CHUNK_ROWS
    limit: FutureLimit | None = None  # how late a day may be dated; None: from now, in UTC

    @property
    def unmapped_columns(self) -> list[str]:
        used = {header_key(c) for c in self.mapping.columns.values() if c}
        return [h for h in self.header if header_key(h) not in used and str(h).strip()]

    def chunks(self) -> Iterator[tuple[pd.DataFrame, list[RowError], int]]:
        """(sku, date, impressions, clicks, line) frames, row errors, rows read."""
        for frame in read_chunks(self.data, chunk_rows=self.chunk_rows):
            typed = typed_impressions(
                frame,
                self.mapping,
                self.date_order,
                decimal_comma=self.decimal_comma,
                limit=self.limit,
            )
            yield (*typed, len(frame))


def typed_impressions(
    frame: pd.DataFrame,
    mapping: ColumnMapping,
    date_order: str | None,
    *,
    decimal_comma: bool = False,
    limit: FutureLimit | None = None,
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

    sku, problems = identifiers_check(clean_text(_col(f, cols, "sku")), max_length=100)
    refuse(sku.eq(""), "sku", "is required")
    for message in problems.dropna().unique():  # rare: one refusal per distinct reason
        refuse(problems.eq(message), "sku", message)
    days = parse_times(clean_text(_col(f, cols, "date")), date_order=date_order, tz="UTC")
    refuse(days["at"].isna(), "date", "is not a date we can read")
    limit = limit_or_now(limit)
    late = days["at"].dt.normalize() > pd.Timestamp(limit.latest_day, tz="UTC")
    for where, message in refusals_named(
        days["at"], late, lambda at: future_day_error(at.date(), limit=limit)
    ):
        refuse(where, "date", message)
    impressions = parse_count(_col(f, cols, "impressions"), decimal_comma=decimal_comma)
    refuse(impressions["too_large"], "impressions", TOO_LARGE)
    refuse(impressions["bad"] | impressions["n"].isna(), "impressions", "must be a whole number")
    clicks = parse_count(_col(f, cols, "clicks"), decimal_comma=decimal_comma)
    refuse(clicks["too_large"], "clicks", TOO_LARGE)
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
    limit: FutureLimit | None = None,
) -> ImpressionFile:
    """Recognise a daily-impressions export: the mapping given, else one guessed from the
    usual column names; limit: how late a day may be dated (catalogs.rules), else from now
    in UTC. FileError when it is orders or a product feed, needs a mapping, or mixes ways
    of writing dates or counts; DateOrderNeeded when its dates cannot tell their order and
    date_order is none."""
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
    by_key = {header_key(h): h for h in header}
    said = file_says(
        data,
        time_cols=[by_key[header_key(mapping.columns["date"])]],
        count_cols=[
            by_key[header_key(mapping.columns[n])]
            for n in ("impressions", "clicks")
            if mapping.columns.get(n)
        ],
        chunk_rows=chunk_rows * 4,
    )
    # no amounts: the counts tell the decimal mark
    decimal_comma = decimal_comma_decide(amounts=set(), counts=said.counts)
    found, _ = date_order_settle(said, date_order)
    return ImpressionFile(
        data=data,
        header=header,
        mapping=mapping,
        date_order=found,
        decimal_comma=decimal_comma,
        chunk_rows=chunk_rows,
        limit=limit_or_now(limit),
    )
