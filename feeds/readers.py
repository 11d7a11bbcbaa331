"""The feed readers (pure: pyarrow, no ORM): a detected stream to validated tables.

CSV/TSV blocks come from ``csv_tables`` (record by record where the unchanged records of
the last pull are skipped unread, RecordMatcher), XML items from ``xml_items``, and a
Shopify products export's rows (grouped into variants by ``shopify_products``) or a
WooCommerce product export's (products and variations, ``woocommerce_products``) from the
CSV readers too. Every block is then validated by ``columnar.validate_table``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import IO

import numpy as np
import pyarrow as pa

from . import parsing as P
from . import records as R
from . import shopify_products as S
from . import woocommerce_products as W
from . import xml_items as X
from .columnar import validate_table
from .csv_tables import RecordMatcher, header_names, iter_csv_record_tables, iter_csv_tables
from .parsing import FeedError, RowError, ValidationState


def _read_upto(stream: IO[bytes], n: int) -> bytes:
    parts, got = [], 0
    while got < n:
        b = stream.read(n - got)
        if not b:
            break
        parts.append(b)
        got += len(b)
    return b"".join(parts)


class _BytesThen(io.RawIOBase):
    """A raw stream yielding ``head`` and then the rest of ``rest`` (works unseekable)."""

    def __init__(self, head: bytes, rest: IO[bytes]):
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[override]
        if self._head:
            n = min(len(b), len(self._head))
            b[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(b))
        b[: len(data)] = data
        return len(data)


class ReparseNeeded(Exception):
    """The shortcut over unchanged records met a case only a full parse decides."""


def parse_feed_tables(
    stream: IO[bytes],
    *,
    fmt: str = "auto",
    encoding: str | None = None,
    state: ValidationState,
    chunk_rows: int = X.DEFAULT_CHUNK_ROWS,
    with_hash: bool = True,
    context: tuple[str, ...] = (),
    matcher: RecordMatcher | None = None,
) -> Iterator[tuple[pa.Table, list[RowError]]]:
    """Detect, stream and validate: yields (good rows as a table, row errors) per block.

    CSV/TSV in a byte-splittable encoding gets a ``line_hash`` column: the keyed hash of
    the row's raw record (null where unknown), which the next pull compares before parsing.
    """
    head = _read_upto(stream, 65536)
    stream = io.BufferedReader(_BytesThen(head, stream), buffer_size=1 << 20)
    detected = P.detect_format(head, encoding)
    if fmt in ("auto", "", None):
        fmt = detected
    elif detected == P.FORMAT_XML and fmt != P.FORMAT_XML:
        raise FeedError("format", "The source is set to CSV/TSV but the file is XML.")
    if fmt == P.FORMAT_XML:
        items = False
        for table, lines in X.iter_xml_tables(stream, chunk_rows=chunk_rows):
            items = True
            good, errors = validate_table(table, lines, state, with_hash=with_hash)
            yield good, P.unmapped_column_warnings(table.column_names, state, lines[0]) + errors
        if not items:  # said here: the run's own "a header but no products" is CSV's case
            raise FeedError(
                "empty",
                "The XML feed lists no products: it has no <item> (RSS) or <entry> (Atom) "
                "elements.",
            )
        return
    enc = encoding or P.detect_encoding(head)
    undecided = not encoding and enc == "utf-8" and head.isascii()
    delimiter = "\t" if fmt == P.FORMAT_TSV else None
    first_break = re.search(rb"\r\n|\r|\n", head)
    old_mac = first_break is not None and first_break.group() == b"\r"
    whole = enc not in R.SPLITTABLE_ENCODINGS or old_mac  # (lines ending in a bare CR)
    header, sniffed = header_names(head, enc, delimiter)
    export = _products_export(header)
    if export is not None:
        blocks = _export_blocks(
            stream,
            head=head,
            encoding=enc,
            header=(header, sniffed),
            id_columns=export[0],
            state=state,
            undecided=undecided,
            whole=whole,
        )
        yield from _export_tables(blocks, export[1], state, with_hash)
        return
    if whole:
        for table, lines, bad in iter_csv_tables(
            stream, head=head, encoding=enc, delimiter=delimiter
        ):
            good, errors = _validated(table, lines, bad, state, with_hash)
            yield good, P.unmapped_column_warnings(table.column_names, state, 1) + errors
        return
    for table, lines, bad, hashes in iter_csv_record_tables(
        stream,
        head=head,
        encoding=enc,
        delimiter=delimiter,
        context=context,
        state=state,
        matcher=matcher,
        undecided=undecided,
    ):
        good, errors = _validated(table, lines.tolist(), bad, state, with_hash)
        if matcher is not None and matcher.parsed_before_matched(errors):
            raise ReparseNeeded
        errors = P.unmapped_column_warnings(table.column_names, state, 1) + errors
        if not good.num_rows:
            yield good, errors
            continue
        if hashes is None:
            column = pa.nulls(good.num_rows, pa.int64())
        else:  # rows keep their order: find each good row's line among the block's lines
            column = pa.array(hashes[np.searchsorted(lines, good.column("line").to_numpy())])
        yield good.append_column("line_hash", column), errors


def _validated(table, lines, bad, state, with_hash) -> tuple[pa.Table, list[RowError]]:
    state.columns.update(table.column_names)
    state.received += len(bad)
    state.rejected += len(bad)
    if not table.num_rows:  # nothing to stage (callers skip empty tables)
        return table, sorted(bad, key=lambda e: e.line)
    good, errors = validate_table(table, lines, state, with_hash=with_hash)
    return good, sorted(bad + errors, key=lambda e: e.line)


def _products_export(header: list[str]) -> tuple[tuple[str, ...], S.Products | W.Products] | None:
    """A shop's products export recognised from its header: (the columns that name a row in
    its row errors, first found wins; the export's grouper), else None."""
    if S.is_products_export(header):
        return ("variant sku", "handle"), S.Products(header)
    if W.is_products_export(header):
        products = W.Products(header)
        return products.id_columns, products
    return None


def _export_blocks(
    stream: IO[bytes],
    *,
    head: bytes,
    encoding: str,
    header: tuple[list[str], str],
    id_columns: tuple[str, ...],
    state: ValidationState,
    undecided: bool,
    whole: bool,
) -> Iterator[tuple[list[int], list[dict[str, str]], list[RowError]]]:
    """The rows of a products export as (lines, rows by the export's column names, bad
    rows) per block. Every record is read: a product's row depends on other rows (a
    Shopify product's, a WooCommerce variation's parent), so the fingerprints of unchanged
    records do not apply."""
    raw, delimiter = header
    names = [f"c{i}" for i in range(len(raw))]
    keys = [n.strip().lstrip("\ufeff").strip().lower() for n in raw]
    names[keys.index(next(k for k in id_columns if k in keys))] = "sku"
    columns = (names, delimiter)
    if whole:
        blocks = iter_csv_tables(stream, head=head, encoding=encoding, columns=columns)
    else:
        blocks = (
            (table, lines.tolist(), bad)
            for table, lines, bad, _ in iter_csv_record_tables(
                stream,
                head=head,
                encoding=encoding,
                state=state,
                undecided=undecided,
                columns=columns,
            )
        )
    for table, lines, bad in blocks:
        cells = zip(*(table.column(n).to_pylist() for n in names), strict=True)
        yield lines, [dict(zip(raw, row, strict=True)) for row in cells], bad


def _export_tables(
    blocks, products: S.Products | W.Products, state: ValidationState, with_hash: bool
) -> Iterator[tuple[pa.Table, list[RowError]]]:
    """The products an export's grouper completed in each block (a product's rows may span
    blocks), validated as a feed's rows are."""
    for lines, rows, bad in blocks:
        yield _variants_validated(
            products, products.add(zip(lines, rows, strict=True)), bad, state, with_hash
        )
    yield _variants_validated(products, products.finish(), [], state, with_hash)


def _variants_validated(
    products: S.Products | W.Products,
    found: tuple[list[tuple[int, dict[str, str]]], list[RowError]],
    bad: list[RowError],
    state: ValidationState,
    with_hash: bool,
) -> tuple[pa.Table, list[RowError]]:
    variants, problems = found
    columns = products.columns
    table = pa.table({c: pa.array([v[c] for _, v in variants], pa.string()) for c in columns})
    warnings = [p for p in problems if p.severity == "warning"]
    state.warnings += len(warnings)
    bad = bad + [p for p in problems if p.severity == "error"]
    good, errors = _validated(table, [line for line, _ in variants], bad, state, with_hash)
    return good, sorted(errors + warnings, key=lambda e: e.line)
