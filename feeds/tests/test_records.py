"""Record splitting and fingerprints (pure), and the parser's shortcut over unchanged records."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.parsing import ValidationState
from feeds.readers import RecordMatcher, ReparseNeeded, parse_feed_tables
from feeds.records import fingerprint_key, iter_record_blocks, record_hashes

HEADER = b"id,title,price\n"


def records(data: bytes, block_bytes: int = 1 << 20) -> list[tuple[int, bytes]]:
    out = []
    for block in iter_record_blocks(io.BytesIO(data), first_line=2, block_bytes=block_bytes):
        out += [(int(block.lines[i]), block.record(i)) for i in range(len(block))]
    return out


@pytest.mark.parametrize("block_bytes", [1, 3, 7, 1 << 20])
@pytest.mark.parametrize(
    "data, expected",
    [
        (b"a,1\nb,2\n", [(2, b"a,1\n"), (3, b"b,2\n")]),
        (b"a,1\nb,2", [(2, b"a,1\n"), (3, b"b,2")]),  # no newline at the end
        (b'"x\ny",1\nb,2\n', [(2, b'"x\ny",1\n'), (4, b"b,2\n")]),  # newline inside quotes
        (b'"say ""hi""\n!",1\nb\n', [(2, b'"say ""hi""\n!",1\n'), (4, b"b\n")]),
        (b"a\r\n\r\nb\r\n", [(2, b"a\r\n"), (4, b"b\r\n")]),  # CRLF; an empty line is skipped
        (b"\n\na\n", [(4, b"a\n")]),
        (b"", []),
    ],
)
def test_records_and_their_first_lines(data, expected, block_bytes):
    assert records(data, block_bytes) == expected


@pytest.mark.parametrize("block_bytes", [1, 5, 1 << 20])
@pytest.mark.parametrize(
    "data, delimiter, expected",
    [
        # a quote inside an unquoted value is a character (an inch mark), as the reader reads it
        (b'a,TV 55" x,1\nb,2\n', b",", [(2, b'a,TV 55" x,1\n'), (3, b"b,2\n")]),
        (b'a\tTV 55" x\t1\nb\t2\n', b"\t", [(2, b'a\tTV 55" x\t1\n'), (3, b"b\t2\n")]),
        (b'a, "x\ny",1\nb,2\n', b",", [(2, b'a, "x\n'), (3, b'y",1\n'), (4, b"b,2\n")]),
        # ... and a quoted value over two lines after it is still one record
        (
            b'a,5" x,1\nb,"x\ny",2\nc,3\n',
            b",",
            [(2, b'a,5" x,1\n'), (3, b'b,"x\ny",2\n'), (5, b"c,3\n")],
        ),
        (b'a,"x ""y""\nz",1\nb,2\n', b",", [(2, b'a,"x ""y""\nz",1\n'), (4, b"b,2\n")]),
        (
            b'"a\nb",1\nc,5" x,2\n"d\ne",3\nf;4\n',
            b",",
            [(2, b'"a\nb",1\n'), (4, b'c,5" x,2\n'), (5, b'"d\ne",3\n'), (7, b"f;4\n")],
        ),
        (b'a;"x\ny";1\nb;2" x;2\n', b";", [(2, b'a;"x\ny";1\n'), (4, b'b;2" x;2\n')]),
        # a value opened at the start of its field and never closed still runs on
        (b'a,"x,1\nb,2\n', b",", [(2, b'a,"x,1\nb,2\n')]),
    ],
)
def test_a_quote_inside_a_value_opens_nothing(data, delimiter, expected, block_bytes):
    out = []
    blocks = iter_record_blocks(
        io.BytesIO(data), first_line=2, block_bytes=block_bytes, delimiter=delimiter
    )
    for block in blocks:
        out += [(int(block.lines[i]), block.record(i)) for i in range(len(block))]
    assert out == expected


csv_cell = st.text(alphabet=st.sampled_from('ab,"\n\r é'), max_size=6)


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(st.lists(csv_cell, min_size=1, max_size=3), max_size=12), block=st.integers(1, 40)
)
def test_records_are_what_a_csv_writer_wrote(rows, block):
    """Whatever csv.writer quotes, every written row comes back as one record, on the line
    it starts on (rows that are a bare line ending are empty lines, skipped like the reader)."""
    out, expected, line = io.StringIO(), [], 2
    for row in rows:
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerow(row)
        raw = text.getvalue().encode()
        if raw not in (b"\n", b"\r\n"):
            expected.append((line, raw))
        line += raw.count(b"\n")
        out.write(text.getvalue())
    assert records(out.getvalue().encode(), block) == expected


inch_cell = st.builds(
    lambda a, b: f'{a}"{b}', st.text("ab 5é", min_size=1, max_size=4), st.text("ab 5é", max_size=3)
)


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(st.lists(st.one_of(csv_cell, inch_cell), min_size=1, max_size=3), max_size=12),
    block=st.integers(1, 40),
)
def test_records_are_the_rows_also_with_quotes_inside_values(rows, block):
    """Cells a CSV writer wrote, and unquoted cells with a quote inside (an inch mark,
    written as is): every row is one record, as the reader reads it."""
    out, expected, line = io.StringIO(), [], 2
    for row in rows:
        cells = []
        for cell in row:
            if '"' in cell[1:] and cell[0] != '"' and not set(cell) & set(",\r\n"):
                cells.append(cell)  # as is: a quote inside an unquoted value
            else:
                text = io.StringIO()
                csv.writer(text, lineterminator="\n").writerow([cell])
                cells.append(text.getvalue()[:-1])
        raw = (",".join(cells) + "\n").encode()
        if raw not in (b"\n", b"\r\n"):
            expected.append((line, raw))
        line += raw.count(b"\n")
        out.write(raw.decode())
    assert records(out.getvalue().encode(), block) == expected


def test_fingerprints_depend_on_the_bytes_and_the_key():
    block = next(iter_record_blocks(io.BytesIO(b"a,1\nb,2\na,1\n")))
    k1, k2 = fingerprint_key(b"id,price\n", "USD"), fingerprint_key(b"id,price\n", "EUR")
    h1, h2 = record_hashes(block, k1), record_hashes(block, k2)
    assert h1.dtype == np.int64
    assert h1[0] == h1[2] != h1[1]  # same bytes, same hash
    assert not set(h1) & set(h2)  # another context: every record looks new
    assert k1 == fingerprint_key(b"id,price\n", "USD")


# ----------------------------------------------------------------- the parser's shortcut


def parse(data: bytes, matcher=None):
    state = ValidationState(default_currency="USD", country="US")
    tables, errors = [], []
    for good, errs in parse_feed_tables(io.BytesIO(data), state=state, matcher=matcher):
        tables.append(good)
        errors += [e for e in errs if e.severity == "error"]  # not the warnings
    rows = [r for t in tables for r in t.to_pylist()]
    return rows, errors, state


def matcher_for(rows) -> RecordMatcher:
    """What the pipeline builds from the products: each stored record hash and its sku."""
    pairs = sorted((r["line_hash"], r["sku"]) for r in rows if r["line_hash"] is not None)
    known = np.array([h for h, _ in pairs], np.int64)

    def lookup(new):
        at = np.minimum(np.searchsorted(known, new), len(known) - 1)
        return np.where(known[at] == new, at, -1)

    return RecordMatcher(lookup, [s for _, s in pairs])


def feed(*lines: str) -> bytes:
    return HEADER + "".join(line + "\n" for line in lines).encode()


FIRST = feed("A,Alpha,1.00 USD", 'B,"Beta\nmultiline",2.00 USD', "C,Gamma,3.00 USD")


def test_every_row_gets_the_hash_of_its_record_and_its_exact_line():
    rows, errors, _ = parse(FIRST)
    assert not errors
    assert [(r["sku"], r["line"]) for r in rows] == [("A", 2), ("B", 3), ("C", 5)]
    assert all(r["line_hash"] is not None for r in rows)
    assert len({r["line_hash"] for r in rows}) == 3


def test_unchanged_records_are_not_parsed_again():
    first, _, _ = parse(FIRST)
    m = matcher_for(first)
    second = feed("A,Alpha,1.00 USD", 'B,"Beta\nmultiline",2.50 USD', "C,Gamma,3.00 USD", "D,D,4")
    rows, errors, state = parse(second, m)
    assert [(r["sku"], r["line"]) for r in rows] == [("B", 3), ("D", 6)]
    assert (m.matched_skus, m.matched_lines) == (["A", "C"], [2, 5])
    assert state.received == 4 and not errors


def test_a_new_row_with_the_id_of_an_unchanged_record_is_a_duplicate():
    m = matcher_for(parse(FIRST)[0])
    rows, errors, state = parse(feed("A,Alpha,1.00 USD", "A,Other,9.00 USD"), m)
    assert rows == [] and m.matched_skus == ["A"]
    assert [(e.line, e.sku, e.message) for e in errors] == [
        (3, "A", "duplicate id: this id appears earlier in the feed")
    ]
    assert (state.received, state.rejected) == (2, 1)


def test_a_record_repeated_byte_for_byte_is_a_duplicate():
    m = matcher_for(parse(FIRST)[0])
    rows, errors, _ = parse(feed("C,Gamma,3.00 USD", "C,Gamma,3.00 USD"), m)
    assert rows == [] and m.matched_skus == ["C"]
    assert [(e.line, e.sku) for e in errors] == [(3, "C")]


def test_a_parsed_row_before_an_unchanged_duplicate_asks_for_a_full_parse():
    """A full parse keeps the first of two rows with one id; the shortcut would keep the
    later, unchanged one, so it gives up and the pipeline reads everything."""
    m = matcher_for(parse(FIRST)[0])
    with pytest.raises(ReparseNeeded):
        parse(feed("A,New title,1.00 USD", "A,Alpha,1.00 USD"), m)


def test_a_quote_inside_an_unquoted_value_keeps_the_fingerprints():
    """pyarrow reads a quote inside an unquoted value literally, and so does the splitter:
    the records are the reader's rows, so they get fingerprints and are skipped next time."""
    data = feed('A,12" pizza,1.00 USD', "B,Beta,2.00 USD")
    rows, errors, _ = parse(data)
    assert [r["sku"] for r in rows] == ["A", "B"] and not errors
    assert None not in [r["line_hash"] for r in rows]
    m = matcher_for(rows)
    again, _, _ = parse(data, m)
    assert again == [] and m.matched_skus == ["A", "B"]


def test_a_bad_row_keeps_its_exact_line_after_a_multiline_record():
    rows, errors, _ = parse(feed('A,"two\nlines",1.00 USD', "B,too,many,fields", "C,Gamma,3"))
    assert [(r["sku"], r["line"]) for r in rows] == [("A", 2), ("C", 5)]
    assert [(e.line, e.sku, e.field) for e in errors] == [(4, "B", "row")]
    assert all(r["line_hash"] is not None for r in rows)


def test_a_quote_never_closed_fails_the_feed_with_bounded_memory(monkeypatch):
    """Hostile input: without a record boundary the splitter would hold the whole file; past
    the size of any real row it stops with a clear error instead."""
    from feeds import records
    from feeds.parsing import FeedError

    monkeypatch.setattr(records, "MAX_RECORD_BYTES", 4096)
    data = HEADER + b'A,"never closed,1.00 USD\n' + b"B,more rows,2.00 USD\n" * 500
    with pytest.raises(FeedError) as exc:
        parse(data)
    assert exc.value.code == "malformed" and "never closed" in exc.value.message


def test_lines_ending_in_a_bare_carriage_return_are_read_too():
    data = b"id,title,price\rA,Alpha,1.00 USD\rB,Beta,2.00 USD\r"
    rows, errors, _ = parse(data)
    assert [r["sku"] for r in rows] == ["A", "B"] and not errors


_pool = st.sampled_from(["A,Alpha,1.00 USD", "B,Beta,2.00 USD", "A,Other,3.00 USD", "C,G,4"])


@settings(max_examples=150, deadline=None)
@given(
    first=st.lists(_pool, min_size=1, max_size=6),
    second=st.lists(_pool, min_size=1, max_size=8),
    block=st.integers(1, 40),
)
def test_the_shortcut_keeps_and_rejects_what_a_full_read_does(first, second, block):
    """Over blocks of any size: the rows parsed plus the records matched are the rows a
    full read keeps, and the errors are the same (or the shortcut asks for a full read)."""
    from feeds import records as R

    whole = R.iter_record_blocks
    m = matcher_for(parse(feed(*first))[0])
    full_rows, full_errors, _ = parse(feed(*second))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(
            R, "iter_record_blocks", lambda stream, **kw: whole(stream, **kw, block_bytes=block)
        )
        try:
            rows, errors, state = parse(feed(*second), m)
        except ReparseNeeded:
            return
    kept = sorted(
        [(r["sku"], r["line"]) for r in rows]
        + list(zip(m.matched_skus, m.matched_lines, strict=True))
    )
    assert kept == sorted((r["sku"], r["line"]) for r in full_rows)
    assert [(e.line, e.sku) for e in errors] == [(e.line, e.sku) for e in full_errors]
    assert state.received == len(second)


class LoadingMatcher:
    """A matcher whose fingerprints are still loading on another connection for the first
    ``polls`` checks, as the pipeline's background one is: the parser may split and hash
    blocks meanwhile, and waits for it at the first lookup."""

    def __init__(self, matcher: RecordMatcher, polls: int, hashed: list):
        self.matcher, self.polls, self.hashed = matcher, polls, hashed
        self.hashed_at_first_lookup: int | None = None

    def ready(self) -> bool:
        self.polls -= 1
        return self.polls < 0

    def __call__(self, block, hashes, state):
        if self.hashed_at_first_lookup is None:
            self.hashed_at_first_lookup = len(self.hashed)
        return self.matcher(block, hashes, state)

    def parsed_before_matched(self, errors) -> bool:
        return self.matcher.parsed_before_matched(errors)


@pytest.mark.parametrize(("polls", "ahead"), [(0, 1), (3, 4), (1000, 0)])
def test_blocks_are_hashed_ahead_of_a_matcher_still_loading_and_read_alike(
    polls, ahead, monkeypatch
):
    from feeds import records

    lines = [f"S{i:03d},Title {i},{i}.00 USD" for i in range(60)]
    first, _, _ = parse(feed(*lines))
    lines[7], lines[41] = "S007,Changed,7.00 USD", 'S041,"Two\nlines",41.00 USD'
    second = feed(*lines, "S999,New,1 USD", "S003,Duplicate,3 USD", "S998,too,many,fields")
    expected = parse(second, matcher_for(first))

    monkeypatch.setattr(records, "BLOCK_BYTES", 64)  # a block a record or two
    hashed = []
    hash_block = records.record_hashes
    monkeypatch.setattr(records, "record_hashes", lambda b, k: hashed.append(1) or hash_block(b, k))
    loading = LoadingMatcher(matcher_for(first), polls, hashed)
    state = ValidationState(default_currency="USD", country="US")
    tables, errors = [], []
    for good, errs in parse_feed_tables(io.BytesIO(second), state=state, matcher=loading):
        tables.append(good)
        errors += [e for e in errs if e.severity == "error"]
    rows = [r for t in tables for r in t.to_pylist()]
    assert (rows, errors, state.received, state.rejected) == (
        expected[0],
        expected[1],
        expected[2].received,
        expected[2].rejected,
    )
    assert loading.matcher.matched_skus == [f"S{i:03d}" for i in range(60) if i not in (7, 41)]
    # while it loaded, the parser split and hashed on: every block of this small file, far
    # under the cap, once it never got ready before the end
    assert loading.hashed_at_first_lookup == (ahead or len(hashed))
    assert len(hashed) > 10
