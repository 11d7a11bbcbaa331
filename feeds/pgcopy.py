"""PostgreSQL's binary COPY format, built a column at a time with Arrow compute.

A first pull of a million products is bound by the PostgreSQL backend, not by the parser
(bench/RESULTS.md): in CSV the backend also splits every line and parses every number and
JSON document, ~4-6 s of its time a million rows. In binary it reads lengths and bytes;
the encoding runs in Arrow's C++ kernels on the parser's side, which has a core to spare.

The format (https://www.postgresql.org/docs/current/sql-copy.html, "Binary Format"): a
signature, then per row a 16-bit field count and per field a 32-bit length (-1 for NULL)
and the value in the type's binary send format, then a 16-bit -1.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"
# plain bytes, made binary scalars by the kernels: an Arrow scalar built at import time
# would import pandas into every process that loads this module
_NULL_FIELD = b"\xff\xff\xff\xff"
_JSONB_VERSION = b"\x01"
_EMPTY = b""
# numeric(14,2) from the parser's "D.DD" strings: at most 8 integer digits (MAX_PRICE),
# so three base-10000 digits with weight 1 hold any of them (PostgreSQL strips zeros)
_NUMERIC2 = np.dtype(
    [
        ("len", ">i4"),
        ("ndigits", ">i2"),
        ("weight", ">i2"),
        ("sign", ">u2"),
        ("dscale", ">u2"),
        ("d0", ">i2"),
        ("d1", ">i2"),
        ("d2", ">i2"),
    ]
)
_LEN = np.dtype([("len", ">i4")])
_INT_DTYPES = {
    "int4": np.dtype([("len", ">i4"), ("v", ">i4")]),
    "int8": np.dtype([("len", ">i4"), ("v", ">i8")]),
}
KINDS = ("text", "jsonb", "int4", "int8", "numeric2")
# the kind for a PostgreSQL column type (text otherwise)
KIND_OF_TYPE = {"jsonb": "jsonb", "integer": "int4", "bigint": "int8", "numeric(14,2)": "numeric2"}


def _fixed(records: np.ndarray) -> pa.Array:
    """One binary value per record, its bytes as laid out by the record's dtype."""
    width = records.dtype.itemsize
    offsets = np.arange(0, (len(records) + 1) * width, width, dtype=np.int32)
    return pa.Array.from_buffers(
        pa.binary(),
        len(records),
        [None, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(records).tobytes())],
    )


def _or_null(values: pa.Array, valid: pa.Array) -> pa.Array:
    return pc.if_else(valid, values, _NULL_FIELD)


def _bytes_field(payload: pa.Array, head: bytes = b"") -> list[pa.Array]:
    """Length-prefixed variable-width values (text; jsonb with its version byte as
    ``head``), as the parts the row's join concatenates (the length, then the value): no
    copy of the values of their own. A null becomes NULL."""
    valid = pc.is_valid(payload)
    lengths = pc.fill_null(pc.add(pc.binary_length(payload), len(head)), -1)
    prefix = _fixed(lengths.to_numpy(zero_copy_only=False).astype(">i4").view(_LEN))
    parts = [prefix]
    if head:
        parts.append(pc.if_else(valid, pa.scalar(head, pa.binary()), _EMPTY))
    return [*parts, pc.fill_null(payload, _EMPTY)]


def _int_field(values: pa.Array, kind: str) -> pa.Array:
    """Integers (or their decimal strings; "" and null are NULL)."""
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        values = pc.cast(pc.if_else(pc.equal(values, ""), None, values), pa.int64())
    valid = pc.is_valid(values)
    records = np.zeros(len(values), dtype=_INT_DTYPES[kind])
    numbers = pc.fill_null(values, 0).to_numpy(zero_copy_only=False)
    bounds = np.iinfo(records.dtype["v"])
    if len(numbers) and (numbers.min() < bounds.min or numbers.max() > bounds.max):
        raise ValueError(f"an integer is out of range for {kind}")  # NumPy would wrap it
    records["len"] = records.dtype["v"].itemsize
    records["v"] = numbers
    return _or_null(_fixed(records), valid)


def _numeric2_field(values: pa.Array) -> pa.Array:
    """numeric(14,2) from "D.DD" strings (what feeds.columnar and parse_price give)."""
    values = pc.if_else(pc.equal(values, ""), None, values)
    valid = pc.is_valid(values)
    filled = pc.fill_null(values, "0.00")
    if not pc.all(pc.match_substring_regex(filled, r"^\d{1,8}\.\d\d$")).as_py():
        raise ValueError("a price is not a decimal with two places and at most 8 digits")
    cents = pc.cast(pc.replace_substring(filled, ".", ""), pa.int64()).to_numpy(
        zero_copy_only=False
    )
    whole, frac = np.divmod(cents, 100)
    records = np.zeros(len(values), dtype=_NUMERIC2)
    records["len"] = _NUMERIC2.itemsize - 4
    records["ndigits"], records["weight"], records["dscale"] = 3, 1, 2
    records["d0"], records["d1"] = np.divmod(whole, 10_000)
    records["d2"] = frac * 100
    return _or_null(_fixed(records), valid)


def _field(values: pa.Array, kind: str) -> list[pa.Array]:
    """A column's encoded fields, as parts for the row's join."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if kind == "text":
        return _bytes_field(values.cast(pa.binary()))
    if kind == "jsonb":
        return _bytes_field(values.cast(pa.binary()), _JSONB_VERSION)
    if kind in _INT_DTYPES:
        return [_int_field(values, kind)]
    if kind == "numeric2":
        return [_numeric2_field(values)]
    raise ValueError(f"no binary COPY encoding for {kind!r}")


def encode_rows(table: pa.Table, kinds: list[str]) -> bytes:
    """The rows of ``table`` in binary COPY format (without the signature and trailer),
    its columns encoded as ``kinds`` (one of KINDS each, in column order)."""
    if len(kinds) != table.num_columns:
        raise ValueError("one kind per column")
    if table.num_rows == 0:
        return b""
    count = pa.scalar(int(table.num_columns).to_bytes(2, "big"), pa.binary())
    parts = [part for i, kind in enumerate(kinds) for part in _field(table.column(i), kind)]
    rows = pc.binary_join_element_wise(count, *parts, _EMPTY)
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int32)
    start, end = offsets[rows.offset], offsets[rows.offset + len(rows)]
    return bytes(memoryview(rows.buffers()[2])[start:end])
