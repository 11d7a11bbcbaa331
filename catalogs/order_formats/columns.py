"""A source's columns by their role, as every format step reads them (pandas, no ORM)."""

from __future__ import annotations

import pandas as pd

from .detection import header_key
from .values import clean_text


def has_words(values: pd.Series, pattern: str) -> pd.Series:
    return values.str.lower().str.contains(pattern, regex=True)


def column(frame: pd.DataFrame, columns: dict[str, str], name: str) -> pd.Series:
    """A source column by its role ('' everywhere when the file does not have it)."""
    source = columns.get(name)
    if source is not None and source in frame:
        return frame[source]
    return pd.Series("", index=frame.index, dtype=object)


def tracking_column(frame: pd.DataFrame, columns: dict[str, str]) -> pd.Series:
    """The tracking column's text, or None (unknown) on every line of a file without one: a
    file that does not say is not a file saying "none" (docs/orders.md, Tracking numbers)."""
    source = columns.get("tracking_number")
    if source is not None and source in frame:
        return clean_text(frame[source])
    return pd.Series(None, index=frame.index, dtype=object)


def keyed(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with its columns renamed to their header_key (the line column kept)."""
    return frame.rename(columns=lambda c: c if c == "line" else header_key(c))


def lowered(values: pd.Series) -> pd.Series:
    return clean_text(values).str.lower()


def order_level_fill(out: pd.DataFrame, names: tuple[str, ...]) -> pd.DataFrame:
    """Copy each order's first non-empty cell of some fields to its rows where they are
    empty (exports that write an order's cells on one of its rows only)."""
    for name in names:
        if name not in out:
            continue
        first = out[name].where(out[name].ne("")).groupby(out["order_id"]).transform("first")
        out[name] = out[name].where(out[name].ne(""), first.fillna(""))
    return out
