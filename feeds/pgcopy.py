"""PostgreSQL's binary COPY format, from Arrow columns, by pgpq's encoder.

A first pull of a million products is bound by the PostgreSQL backend, not by the parser
(bench/RESULTS.md): in CSV the backend also splits every line and parses every number and
JSON document, ~4-6 s of its time a million rows. In binary it reads lengths and bytes;
pgpq (https://github.com/adriangb/pgpq) writes them from the Arrow buffers in compiled
code, on the parser's side, which has a core to spare. This module turns the parser's
columns (strings, mostly) into the Arrow types whose encoding each products column takes,
and refuses what would otherwise be misread.

The format (https://www.postgresql.org/docs/current/sql-copy.html, "Binary Format"): a
signature, then per row a 16-bit field count and per field a 32-bit length (-1 for NULL)
and the value in the type's binary send format, then a 16-bit -1.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from pgpq import ArrowToPostgresBinaryEncoder, encoders, schema

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"
KINDS = ("text", "jsonb", "int4", "int8", "numeric2")
# the kind for a PostgreSQL column type (text otherwise)
KIND_OF_TYPE = {"jsonb": "jsonb", "integer": "int4", "bigint": "int8", "numeric(14,2)": "numeric2"}
_INT_TYPES = {"int4": pa.int32(), "int8": pa.int64()}
# numeric(14,2) from the parser's "D.DD" strings: at most 8 integer digits (MAX_PRICE)
_NUMERIC2 = pa.decimal128(14, 2)
_PRICE_SHAPE = r"^\d{1,8}\.\d\d$"


def _empty_as_null(values: pa.Array) -> pa.Array:
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        return pc.if_else(pc.equal(values, ""), None, values)
    return values


def _typed(values: pa.Array, kind: str) -> pa.Array:
    """The column as the Arrow type that pgpq encodes as ``kind``'s PostgreSQL type."""
    if kind in ("text", "jsonb"):
        return values.cast(pa.string())
    if kind in _INT_TYPES:  # integers, or their decimal strings ("" and null are NULL)
        numbers = _empty_as_null(values)
        if not pa.types.is_integer(numbers.type):
            numbers = pc.cast(numbers, pa.int64())
        try:  # a safe cast: a number out of range is an error, never wrapped
            return numbers.cast(_INT_TYPES[kind])
        except pa.ArrowInvalid as exc:
            raise ValueError(f"an integer is out of range for {kind}") from exc
    if kind == "numeric2":  # "D.DD" strings (what feeds.columnar and parse_price give)
        prices = _empty_as_null(values)
        if not pc.all(pc.match_substring_regex(pc.fill_null(prices, "0.00"), _PRICE_SHAPE)).as_py():
            raise ValueError("a price is not a decimal with two places and at most 8 digits")
        return pc.cast(prices, _NUMERIC2)
    raise ValueError(f"no binary COPY encoding for {kind!r}")


def _encoder(field: pa.Field, kind: str):
    if kind == "jsonb":  # the text of the document after jsonb's version byte
        return encoders.StringEncoderBuilder.new_with_output(field, schema.Jsonb())
    return ArrowToPostgresBinaryEncoder.infer_encoder(field)


def encode_rows(table: pa.Table, kinds: list[str]) -> bytes:
    """The rows of ``table`` in binary COPY format (without the signature and trailer),
    its columns encoded as ``kinds`` (one of KINDS each, in column order)."""
    if len(kinds) != table.num_columns:
        raise ValueError("one kind per column")
    columns = []
    for values, kind in zip(table.columns, kinds, strict=True):
        columns.append(_typed(values.combine_chunks(), kind))
    if table.num_rows == 0:
        return b""
    names = [f"c{i}" for i in range(len(columns))]  # a table may repeat a column's name
    batch = pa.RecordBatch.from_arrays(columns, names=names)
    encoder = ArrowToPostgresBinaryEncoder.new_with_encoders(
        batch.schema,
        {f.name: _encoder(f, kind) for f, kind in zip(batch.schema, kinds, strict=True)},
    )
    encoder.write_header()  # the signature, which the caller writes once per COPY
    # the encoder holds back what it has not flushed yet: the rest comes with the trailer
    rows = encoder.write_batch(batch)
    return b"".join((rows, encoder.finish()[: -len(TRAILER)]))
