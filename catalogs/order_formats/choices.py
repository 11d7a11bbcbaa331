"""The choices made once per order or impressions file, before any of its lines is typed:
the order of day and month in its dates, and whether it writes numbers with a decimal comma.
One pass over its time, amount and count columns tells (values.py: what each value tells);
a file that tells both ways is refused, one whose dates cannot tell needs a date order."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from ..order_io import AmountSeen, DateOrderNeeded, FileError, mixed_decimal_marks
from .detection import Source, read_chunks
from .values import (
    MIXED_DATES,
    counts_decimal_comma_detect,
    date_order_detect_frame,
    decimal_mark_told,
    has_slash_dates,
)

NO_DATE_TELLS = (
    "No date in this file has a day above 12, so it cannot tell whether 03/04 is 3 April or "
    "March 4: choose the date order (day first or month first)."
)


@dataclass
class FileSays:
    """What a file's times, amounts and counts tell (all of them, or its first chunk's)."""

    date_order: str | None = None  # 'dmy' / 'mdy': settled by a day above 12 or a dotted date
    slash: bool = False  # it has dates that only a date order reads (slash or dash ones)
    # decimal comma (True) or point (False), each with the first amount that told it
    amounts: dict[bool, AmountSeen] = field(default_factory=dict)
    counts: set[bool] = field(default_factory=set)  # the same, as its counts group thousands


def file_says(
    data: Source,
    *,
    time_cols: Iterable[str],
    money_cols: Iterable[str] = (),
    count_cols: Iterable[str] = (),
    chunk_rows: int,
    engine: str = "pandas",
    whole: bool = True,
    skip_line: int | None = None,
) -> FileSays:
    """One pass over some columns of a file only (its first chunk unless whole): what its
    times, amounts and counts tell. FileError when its dates tell both orders."""
    time_cols, money_cols, count_cols = list(time_cols), list(money_cols), list(count_cols)
    said = FileSays()
    if not (time_cols or money_cols or count_cols):
        return said
    usecols = list(dict.fromkeys([*time_cols, *money_cols, *count_cols]))
    for frame in read_chunks(data, usecols=usecols, chunk_rows=chunk_rows, engine=engine):
        frame = without_line(frame, skip_line)
        order = date_order_detect_frame(frame, time_cols)
        if order:
            if said.date_order and said.date_order != order:
                raise FileError(MIXED_DATES)
            said.date_order = order
        said.slash = said.slash or has_slash_dates(frame, time_cols)
        for col in money_cols:
            told, seen = decimal_mark_told(frame, col)
            if told is not None and told not in said.amounts:
                said.amounts[told] = seen
                if len(said.amounts) == 2:  # another column or chunk said the other
                    raise FileError(
                        mixed_decimal_marks(comma=said.amounts[True], point=said.amounts[False])
                    )
        for col in count_cols:
            said.counts |= counts_decimal_comma_detect(frame[col])
        if not whole:
            break
    return said


def date_order_settle(said: FileSays, date_order: str) -> tuple[str | None, str]:
    """The file's date order and what decided it: 'file' (a date of it tells), 'setting'
    (date_order, the tenant's or the one chosen for this file, when none does) or '' (no
    date needs one). DateOrderNeeded when its dates need one and date_order is none."""
    if said.date_order:
        return said.date_order, "file"
    if not said.slash:
        return None, ""
    if date_order not in ("dmy", "mdy"):
        raise DateOrderNeeded(NO_DATE_TELLS)
    return date_order, "setting"


def without_line(frame: pd.DataFrame, line: int | None) -> pd.DataFrame:
    """frame without the row of that line number (only the frame that starts at or before
    it is filtered: lines ascend)."""
    if line is None or not len(frame) or frame["line"].iat[0] > line:
        return frame
    return frame[frame["line"].ne(line)].reset_index(drop=True)


def without_empty_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """frame without the rows whose every cell is empty: a spreadsheet saved again writes
    its empty rows as bare delimiters (eBay's report has one under its header). They hold
    no line, so they are neither lines nor problems."""
    empty = frame.drop(columns="line").eq("").all(axis=1)
    if not empty.any():
        return frame
    return frame[~empty].reset_index(drop=True)
