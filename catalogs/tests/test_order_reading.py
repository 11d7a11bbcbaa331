"""Reading an order CSV with pyarrow (order_formats.read_chunks engine="pyarrow") gives the
very frames pandas gives; what pyarrow cannot read goes to pandas, whose messages name it."""

from __future__ import annotations

import codecs
import dataclasses

import pandas as pd
import pytest

from catalogs.order_formats import (
    detection,
    order_file_open,
    read_chunks,
    read_header,
    text_as_utf8,
    text_file_as_utf8,
)
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


# --- the first chunk settles the file's choices; later chunks are checked ------------------


def _rows(n: int, **fields) -> list[str]:
    return [
        tiktok_row(order_id=str(1000 + i), created=f"03/{1 + i % 28:02d}/2026 9:05:11 PM", **fields)
        for i in range(n)
    ]


def _outcome(data: bytes, **options):
    try:
        _, lines, errors = _typed(data, **options)
    except FileError as exc:
        return str(exc)
    return lines.to_dict("records"), errors


def test_a_later_chunk_with_the_other_date_order_is_refused():
    late = tiktok_row(order_id="9", created="25/03/2026 21:05:11", paid="", shipped="")
    data = tiktok_csv(*_rows(30), late)
    opened = order_file_open(data, date_order="mdy", chunk_rows=5)
    assert opened.verify is not None  # settled by the first chunk
    with pytest.raises(FileError, match="mixes day-first and month-first"):
        list(opened.chunks())


def test_a_later_chunk_with_the_other_decimal_mark_is_refused():
    data = tiktok_csv(*_rows(30), *_rows(1, price="BRL 35.91"))
    opened = order_file_open(data, date_order="mdy", chunk_rows=5)
    with pytest.raises(FileError, match="mixes decimal commas and decimal points"):
        list(opened.chunks())


# The refusal names the first amount of each mark, where it is, so that the cell is found
MIXED_MARKS = [
    (
        "one column",
        tiktok_csv(tiktok_row(), tiktok_row(order_id="2", price="BRL 35.91")),
        {},
        [
            "'BRL 35,91' (line 2, SKU Unit Original Price) has a decimal comma",
            "'BRL 35.91' (line 3, SKU Unit Original Price) a decimal point",
        ],
    ),
    (
        "two columns",
        tiktok_csv(tiktok_row(shipping="BRL 9.90")),
        {},
        [
            "'BRL 35,91' (line 2, SKU Unit Original Price) has a decimal comma",
            "'BRL 9.90' (line 2, Shipping Fee After Discount) a decimal point",
        ],
    ),
    (
        "a later chunk",
        tiktok_csv(*_rows(30), *_rows(1, price="BRL 35.91", shipping="BRL 9.90")),
        {"chunk_rows": 5},
        [
            "'BRL 35,91' (line 2, SKU Unit Original Price) has a decimal comma",
            "'BRL 35.91' (line 32, SKU Unit Original Price) a decimal point",
        ],
    ),
]


@pytest.mark.parametrize(("case", "data", "options", "named"), MIXED_MARKS)
def test_mixed_decimal_marks_are_refused_naming_where(case, data, options, named):
    with pytest.raises(FileError, match="mixes decimal commas and decimal points") as refused:
        _typed(data, **options)
    for part in named:
        assert part in str(refused.value), case
    assert "35,91 and 35.91" not in str(refused.value)  # no canned example


def test_a_first_chunk_that_cannot_tell_reads_the_whole_file():
    ambiguous = [
        tiktok_row(order_id=str(i), created="03/04/2026 9:05:11 PM", paid="", shipped="")
        for i in range(12)
    ]
    late = tiktok_row(order_id="99", created="04/13/2026 9:05:11 PM", paid="", shipped="")
    opened = order_file_open(tiktok_csv(*ambiguous, late), date_order="dmy", chunk_rows=5)
    assert opened.verify is None
    assert (opened.options.date_order, opened.date_order_source) == ("mdy", "file")
    lines, _ = pd.concat([c[0] for c in opened.chunks()]), None
    assert lines["placed_at"].iloc[0].month == 3  # 03/04 read month first, as the file says


@pytest.mark.parametrize(
    "tail",
    [
        b"1,2,3\n",  # a ragged row
        ("\n" + tiktok_row(order_id='"multi\nline"')).encode(),  # a quoted line break
    ],
    ids=["ragged", "quoted-newline"],
)
def test_pyarrow_failing_on_a_later_block_hands_over_to_pandas(monkeypatch, tail):
    from catalogs.order_formats import detection

    data = tiktok_csv(*_rows(40)).rstrip(b"\n") + b"\n" + tail
    expected = _outcome(data, engine="pandas", chunk_rows=3)
    monkeypatch.setattr(detection, "ARROW_BLOCK_BYTES", 4096)  # the bad row in a later block
    opened = order_file_open(data, date_order="mdy", chunk_rows=3)
    assert opened.engine == "pyarrow" and opened.verify is not None
    assert _outcome(data, chunk_rows=3) == expected
    lines, errors = expected  # pandas reads both files to the end
    assert {r["line"] for r in lines} | {e[0] for e in errors} == set(range(2, 43))


CAFE = "sku,title\nA-1,Café “crème”\n"


# (a file's bytes, as read: what text_as_utf8 makes of them)
TEXT_AS_UTF8 = [
    (CAFE.encode("utf-16"), CAFE.encode()),
    (codecs.BOM_UTF16_BE + CAFE.encode("utf-16-be"), CAFE.encode()),
    # a byte order mark, then not UTF-16 (an odd length): kept, reading it says so
    (CAFE.encode("utf-16")[:-1], CAFE.encode("utf-16")[:-1]),
    (CAFE.encode("cp1252"), CAFE.encode()),
    # bytes Windows-1252 leaves undefined: Latin-1
    (b"sku,title\nA-1,caf\xe9 \x81\n", "sku,title\nA-1,café \x81\n".encode()),
    # kept as they are: reading them says what is wrong, if anything
    (CAFE.encode(), CAFE.encode()),
    (codecs.BOM_UTF8 + CAFE.encode(), codecs.BOM_UTF8 + CAFE.encode()),
    (b"sku\nA-1\n", b"sku\nA-1\n"),
    # a UTF-8 file with one bad byte stays UTF-8 (that row is refused)
    (CAFE.encode() + b"B-2,\xff\n", CAFE.encode() + b"B-2,\xff\n"),
    (b"sku\x00,title\n\xe9", b"sku\x00,title\n\xe9"),
    (b"PK\x03\x04\xe9\xff", b"PK\x03\x04\xe9\xff"),
    (b"", b""),
]


@pytest.mark.parametrize(("data", "expected"), TEXT_AS_UTF8)
def test_text_as_utf8(data, expected):
    assert text_as_utf8(data) == expected


@pytest.mark.parametrize(("data", "expected"), TEXT_AS_UTF8)
def test_a_file_on_disk_is_read_as_its_bytes_are(tmp_path, monkeypatch, data, expected):
    """The command reads a path block by block: the same conversion, also where a block ends
    inside a character, and the file itself untouched."""
    monkeypatch.setattr(detection, "TEXT_BLOCK_BYTES", 3)
    path = tmp_path / "orders.csv"
    path.write_bytes(data)
    with text_file_as_utf8(path) as readable:
        assert readable.read_bytes() == expected
        assert (readable == path) == (expected == data)  # a copy only when converted
    assert path.read_bytes() == data
    assert readable.exists() == (readable == path)  # the copy is removed afterwards
