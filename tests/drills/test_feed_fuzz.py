"""Drill: product-feed fuzzing with hypothesis over the CSV, TSV and XML parsers, and through
decompression. feeds/tests/test_parsing.py already fuzzes single values (price, availability,
shipping), CSV quoting round trips and raw garbage bytes; this adds structured hostile feeds:
random headers and cells (controls, NUL, quotes, delimiters, unicode, huge cells), ragged
rows, every encoding, TSV, RSS/Atom documents with hostile text and markup, and corrupted
gzip/zip containers.

The only acceptable outcomes are rows, per-row errors (line, field, message) and a FeedError
(stable code, readable message). Every received row is accounted for.
"""

from __future__ import annotations

import gzip
import io
import zipfile
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feeds.decompress import Limits, open_decompressed
from feeds.parsing import FeedError, RowError, ValidationState
from feeds.tests.feed_rows import parse_feed

pytestmark = pytest.mark.drill

EXAMPLES = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)

KNOWN_COLUMNS = [
    "id",
    "title",
    "description",
    "link",
    "image_link",
    "price",
    "sale_price",
    "availability",
    "brand",
    "gtin",
    "shipping",
    "condition",
    "additional_image_link",
    "item_group_id",
    "inventory",
    "Title",
    " ID ",
    "g:price",
    "custom_label_0",
]
nasty_text = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8", exclude_categories=("Cs",)),
        st.sampled_from([*list(",;\t\"'\r\n\x00\ufeff=+-@<>&"), "\u202e", "\u2028"]),
    ),
    max_size=40,
)
cell = st.one_of(
    nasty_text,
    st.sampled_from(
        [
            "",
            "12.50 USD",
            "EUR 3,99",
            "in stock",
            "preorder",
            "US:::4.99 USD",
            "https://shop.example.com/p/1",
            "javascript:alert(1)",
            '=HYPERLINK("http://evil")',
            "<script>alert(1)</script>",
            "9" * 40,
            "-1",
            "NaN",
        ]
    ),
    st.text(min_size=1000, max_size=6000, alphabet="ab ,"),
)


def run_parser(data: bytes, **kw) -> tuple[int, int]:
    """Parse to the end; return (good rows, row errors). Raises only FeedError."""
    state = ValidationState(default_currency="USD", country="US")
    good = rejected_rows = 0
    for rows, errors in parse_feed(io.BytesIO(data), state=state, **kw):
        good += len(rows)
        for e in errors:
            assert isinstance(e, RowError)
            assert e.line >= 1 and e.message and e.severity in ("error", "warning")
        rejected_rows += len({e.line for e in errors if e.severity == "error"})
        for row in rows:
            assert row["sku"], row
    assert good + state.rejected == state.received, (good, state.rejected, state.received)
    return good, rejected_rows


def parses_or_fails_clearly(data: bytes, **kw) -> None:
    try:
        run_parser(data, **kw)
    except FeedError as exc:
        assert exc.code and exc.message and len(exc.message) < 1000


def delimited(header: list[str], rows: list[list[str]], sep: str) -> str:
    def q(v: str) -> str:
        return '"' + v.replace('"', '""') + '"' if any(c in v for c in f'{sep}"\r\n') else v

    return "\n".join(sep.join(q(v) for v in line) for line in [header, *rows]) + "\n"


headers = st.lists(st.one_of(st.sampled_from(KNOWN_COLUMNS), nasty_text), min_size=1, max_size=12)
ragged_rows = st.lists(st.lists(cell, max_size=14), max_size=25)
encodings = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1"])


@EXAMPLES
@given(headers, ragged_rows, st.sampled_from([",", ";", "\t", "|"]), encodings)
def test_csv_tsv_structured_fuzz(header, rows, sep, encoding):
    text = delimited(header, rows, sep)
    data = text.encode(encoding, errors="replace")
    fmt = "tsv" if sep == "\t" else "auto"
    parses_or_fails_clearly(data, fmt=fmt)
    parses_or_fails_clearly(data, fmt="auto", encoding=encoding)


@EXAMPLES
@given(ragged_rows, st.sampled_from([",", "\t"]))
def test_required_columns_fuzz_rows_are_accounted_for(rows, sep):
    """A header the parser accepts: every row is a product or a row error, never lost."""
    header = ["id", "title", "price", "link", "availability"]
    data = delimited(header, rows, sep).encode()
    try:
        good, rejected = run_parser(data, fmt="tsv" if sep == "\t" else "csv")
    except FeedError as exc:
        assert exc.code and exc.message
        return
    # A bad record spanning several lines may be read line by line (a stray quote can swallow
    # the rows after it), so the bound is the physical lines, not the generated rows.
    lines = data.count(b"\n") + data.count(b"\r") - 1
    assert good + rejected <= max(lines, 1)


item_fields = st.dictionaries(
    st.sampled_from(["g:id", "title", "g:price", "link", "description", "g:availability", "x"]),
    cell,
    max_size=7,
)


def rss(items: list[dict[str, str]], raw: bool) -> bytes:
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0" xmlns:g="http://base.google.com/ns/1.0"><channel><title>t</title>',
    ]
    for item in items:
        parts.append("<item>")
        for k, v in item.items():
            v = "".join(ch for ch in v if ch in "\t\n\r" or ord(ch) >= 0x20)
            parts.append(f"<{k}>{v if raw else escape(v)}</{k}>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8", errors="replace")


@EXAMPLES
@given(st.lists(item_fields, max_size=15), st.booleans())
def test_rss_fuzz(items, raw):
    """Escaped (well-formed) and raw (often malformed) item text."""
    parses_or_fails_clearly(rss(items, raw))
    parses_or_fails_clearly(rss(items, raw), fmt="xml")


@EXAMPLES
@given(st.lists(item_fields, max_size=10), st.integers(min_value=0, max_value=400))
def test_truncated_xml_fails_clearly(items, cut):
    data = rss(items, raw=False)
    parses_or_fails_clearly(data[: max(1, len(data) - cut)], fmt="xml")


@EXAMPLES
@given(
    st.sampled_from(["gzip", "zip"]),
    ragged_rows,
    st.integers(min_value=0, max_value=2000),
    st.binary(max_size=16),
)
def test_corrupted_archives_fail_clearly(tmp_path_factory, kind, rows, offset, junk):
    """A valid feed in gzip/zip with bytes overwritten somewhere: a clear error or rows."""
    payload = delimited(["id", "title", "price"], rows, ",").encode()
    if kind == "gzip":
        blob = bytearray(gzip.compress(payload))
    else:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("feed.csv", payload)
        blob = bytearray(buf.getvalue())
    at = offset % len(blob)
    blob[at : at + len(junk)] = junk
    path = tmp_path_factory.mktemp("fuzz") / f"feed.{kind}"
    path.write_bytes(bytes(blob))
    try:
        stream = open_decompressed(str(path), "auto", Limits(max_expanded_bytes=10_000_000))
        try:
            state = ValidationState(default_currency="USD")
            for _rows, _errors in parse_feed(stream, state=state):
                pass
        finally:
            stream.close()
    except FeedError as exc:
        assert exc.code and exc.message
