"""Reading an order CSV with pyarrow (order_formats.read_chunks engine="pyarrow") gives the
very frames pandas gives; what pyarrow cannot read goes to pandas, whose messages name it."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from catalogs.order_formats import order_file_open, read_chunks, read_header
from catalogs.order_io import FileError
from catalogs.tests.export_samples import SHOPIFY_ORDERS, TIKTOK_HEADER, tiktok_csv, tiktok_row


def _typed(data: bytes, **options) -> tuple[str, pd.DataFrame, list]:
    opened = order_file_open(data, date_order="mdy", **options)
    frames, errors = [], []
    for lines, errs, _ in opened.chunks():
        frames.append(lines)
        errors.extend(dataclasses.astuple(e) for e in errs)
    return opened.engine, pd.concat(frames, ignore_index=True), errors


TIKTOK = tiktok_csv(
    tiktok_row(),
    tiktok_row(order_id="2", seller_sku=" SKU-2 ", price="BRL 1.234,50", quantity=""),
    tiktok_row(order_id="3", seller_sku="", created="", tracking=""),
    tiktok_row(order_id="4", seller_sku="Ç-ü", status="Cancelled", shipped="", reason="x"),
)


SHOPIFY = SHOPIFY_ORDERS if isinstance(SHOPIFY_ORDERS, bytes) else SHOPIFY_ORDERS.encode()


@pytest.mark.parametrize("chunk_rows", [1, 3, 1000])
@pytest.mark.parametrize("data", [TIKTOK, SHOPIFY], ids=["tiktok", "shopify"])
def test_pyarrow_frames_are_the_pandas_frames(data, chunk_rows):
    header = read_header(data)
    for usecols in (None, header[:5], header[-3:]):
        if usecols is None:
            usecols = header
        arrow = list(read_chunks(data, usecols=usecols, chunk_rows=chunk_rows, engine="pyarrow"))
        plain = list(read_chunks(data, usecols=usecols, chunk_rows=chunk_rows))
        assert [len(f) for f in arrow] == [len(f) for f in plain]
        for a, p in zip(arrow, plain, strict=True):
            pd.testing.assert_frame_equal(a, p, check_dtype=False)
    engine, lines, errors = _typed(data, chunk_rows=chunk_rows)
    assert engine == "pyarrow"
    # the same file read by pandas throughout types to the same lines and errors
    engine_p, lines_p, errors_p = _typed(data, chunk_rows=chunk_rows, engine="pandas")
    assert engine_p == "pandas"
    pd.testing.assert_frame_equal(lines, lines_p)
    assert errors == errors_p


def test_blank_lines_and_a_bom_read_alike():
    data = b"\xef\xbb\xbf" + TIKTOK_HEADER.encode() + b"\n\n" + tiktok_row().encode() + b"\n\n"
    arrow = list(read_chunks(data, usecols=read_header(data), engine="pyarrow"))
    plain = list(read_chunks(data, usecols=read_header(data)))
    pd.testing.assert_frame_equal(arrow[0], plain[0], check_dtype=False)
    assert arrow[0]["line"].tolist() == [2]


@pytest.mark.parametrize(
    "tail",
    [
        b"1,2,3\n",  # a ragged row
        ("\n" + tiktok_row(order_id='"multi\nline"')).encode(),  # a quoted line break
    ],
    ids=["ragged", "quoted-newline"],
)
def test_what_pyarrow_cannot_read_is_read_by_pandas(tail):
    data = TIKTOK.rstrip(b"\n") + b"\n" + tail

    def outcome(engine):
        try:
            _, lines, errors = _typed(data, engine=engine)
        except FileError as exc:
            return str(exc)
        return lines.to_dict("records"), errors

    assert outcome("pyarrow") == outcome("pandas")
    if tail.startswith(b"1,2,3"):
        assert order_file_open(data, date_order="mdy").engine == "pandas"


def test_not_utf8_is_refused_with_the_readers_message():
    data = TIKTOK.replace(b"SKU-1", b"SKU-\xe9", 1)
    with pytest.raises(FileError):
        opened = order_file_open(data, date_order="mdy")
        list(opened.chunks())
