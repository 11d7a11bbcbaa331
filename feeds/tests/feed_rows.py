"""The feed pipeline's validated blocks as plain rows, for tests: what a catalog would
receive, without a database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

import pyarrow as pa

from feeds import xml_items as X
from feeds.parsing import RowError, ValidationState
from feeds.readers import parse_feed_tables


def table_rows(table: pa.Table) -> list[dict[str, str]]:
    """Good rows as dicts of strings (``line`` too), without the pipeline's bookkeeping."""
    if "line_hash" in table.column_names:
        table = table.drop_columns(["line_hash"])
    rows = table.to_pylist()
    for r in rows:
        r["line"] = str(r["line"])
    return rows


def parse_feed(
    stream: IO[bytes],
    *,
    fmt: str = "auto",
    encoding: str | None = None,
    default_currency: str = "",
    chunk_rows: int = X.DEFAULT_CHUNK_ROWS,
    state: ValidationState | None = None,
) -> Iterator[tuple[list[dict[str, str]], list[RowError]]]:
    """readers.parse_feed_tables as (good rows, row errors) per block; pass ``state`` to
    read the running counts (received, rejected, warnings)."""
    state = state or ValidationState(default_currency=default_currency)
    for table, errors in parse_feed_tables(
        stream, fmt=fmt, encoding=encoding, state=state, chunk_rows=chunk_rows
    ):
        yield table_rows(table), errors
