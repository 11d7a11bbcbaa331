"""CSV/TSV feeds as blocks of canonical string columns (pure: pyarrow, no ORM).

pyarrow's CSV reader (C++, every cell a string) reads the file block by block: whole
(``iter_csv_tables``) in an encoding whose bytes cannot be split safely, otherwise record by
record (``iter_csv_record_tables``: exact line numbers, rows that cannot be read on their
own become row errors, and the unchanged records of the last pull are skipped unread, see
RecordMatcher). readers.parse_feed_tables validates the blocks.
"""

from __future__ import annotations

import csv
import io
import re
from collections import deque
from collections.abc import Iterator
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from catalogs.order_formats import product_feed_refusal

from . import parsing as P
from . import records as R
from .columnar import BLOCK_SIZE, DUPLICATE_ID
from .parsing import FeedError, RowError, ValidationState


def header_names(head: bytes, encoding: str, delimiter: str | None) -> tuple[list[str], str]:
    """The cells of the header line as written, and the delimiter (sniffed unless given)."""
    text = P._decode_head(head, encoding).lstrip("\ufeff")
    first = re.split(r"\r\n|\r|\n", text, maxsplit=1)[0]
    delimiter = delimiter or P.sniff_delimiter(first)
    try:
        names = next(csv.reader([first], delimiter=delimiter), [])
    except csv.Error as exc:
        raise FeedError("malformed", f"The feed's header line cannot be read: {exc}") from exc
    if not names:
        raise FeedError("empty", "The feed file is empty.")
    return names, delimiter


def _columns(head: bytes, encoding: str, delimiter: str | None) -> tuple[list[str], str]:
    """Canonical column names of the header, and the delimiter; no id column is an error."""
    raw_names, delimiter = header_names(head, encoding, delimiter)
    # an order export has an id-like column (SKU ID, Id) and would ingest as products
    refusal = product_feed_refusal(raw_names)
    if refusal:
        raise FeedError("columns", refusal)
    names = P.normalise_headers(raw_names)
    if P.missing_required_columns(names):
        looked = "looked for " + ", ".join(P.FIELD_ALIASES["sku"])
        if all(_COLUMN_NAME_RE.fullmatch(n.strip().lstrip("\ufeff")) for n in raw_names):
            shown = ", ".join(n.strip().lstrip("\ufeff") for n in raw_names[:20])
            raise FeedError(
                "columns", f"The feed has no id column ({looked}); its columns are: {shown}."
            )
        # not a feed header: an error page, a JSON document... Its text may hold secrets
        # (tokens, internal names), and run messages are shown to every member: describe it
        raise FeedError(
            "columns",
            f"The file is not a product feed: its first line is not a header of column names "
            f"({looked}). It looks like {P.describe_body(head)}.",
        )
    return names, delimiter


# a column name shown back to the user: printable words, as feed templates name columns
_COLUMN_NAME_RE = re.compile(r"\w[\w .:/()\-]{0,59}")


def _read_options(names: list[str], delimiter: str, on_invalid) -> dict[str, Any]:
    """pyarrow's parse and convert options: every cell a string, bad rows to ``on_invalid``."""
    return {
        "parse_options": pacsv.ParseOptions(
            delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_invalid
        ),
        "convert_options": pacsv.ConvertOptions(
            column_types={c: pa.string() for c in names},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    }


def _reader_error(exc: Exception) -> FeedError:
    if isinstance(exc, UnicodeError):
        return FeedError("encoding", f"The feed's text encoding could not be read: {exc}")
    # pyarrow quotes the row it could not read: the body's text stays out of run messages
    msg = re.sub(r"(got \d+)\s*:.*", r"\1", str(exc), flags=re.S)[:300]
    if "Empty CSV file" in msg:
        return FeedError("empty", "The feed file is empty.")
    return FeedError("malformed", f"The feed file could not be read as a table: {msg}")


def _bad_row(
    line: int, text: str, expected: int, actual: int, names: list[str], delimiter: str
) -> RowError:
    """A row with the wrong number of fields, with its id when the text shows one."""
    try:
        cells = next(csv.reader([text.split("\n", 1)[0]], delimiter=delimiter), [])
    except csv.Error:
        cells = []
    at = names.index("sku")
    sku = (cells[at] if len(cells) > at else "")[:100]
    return RowError(line, sku, "row", f"the row has {actual} fields, the header {expected}")


def iter_csv_tables(
    stream: IO[bytes],
    *,
    head: bytes,
    encoding: str,
    delimiter: str | None = None,
    columns: tuple[list[str], str] | None = None,
) -> Iterator[tuple[pa.Table, list[int], list[RowError]]]:
    """Stream a CSV/TSV feed as (table of canonical string columns, line numbers, bad rows).

    Line numbers count the header as line 1. A row with the wrong number of fields is a
    row error; its line is estimated (the reader does not report it), and the lines of
    later rows assume one line per record. ``columns``: the column names (one "sku") and
    the delimiter to read with, instead of the header's canonical names.
    """
    names, delimiter = columns or _columns(head, encoding, delimiter)
    bad: list[tuple[str, int, int]] = []

    def on_invalid(row) -> str:
        bad.append((row.text or "", row.expected_columns, row.actual_columns))
        return "skip"

    enc = "utf8" if encoding in ("utf-8", "utf8") else encoding
    try:
        reader = pacsv.open_csv(
            stream,
            read_options=pacsv.ReadOptions(
                block_size=BLOCK_SIZE, column_names=names, skip_rows=1, encoding=enc
            ),
            **_read_options(names, delimiter, on_invalid),
        )
        line = 2
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                batch = None
            errors = []
            for text, expected, actual in bad:
                errors.append(_bad_row(line, text, expected, actual, names, delimiter))
                line += 1
            bad.clear()
            if batch is None:
                if errors:
                    yield pa.table({c: pa.array([], pa.string()) for c in names}), [], errors
                return
            n = batch.num_rows
            yield pa.Table.from_batches([batch]), list(range(line, line + n)), errors
            line += n
    except (pa.ArrowInvalid, UnicodeError) as exc:
        raise _reader_error(exc) from exc


class RecordMatcher:
    """Decides, block by block, which records need parsing: the caller's ``lookup`` says
    which record hashes belong to an active product whose content came from that very
    record last time (``-1`` = none). Those records are unchanged: their ids count as seen
    (so a later row with the same id is a duplicate, as in a full parse) and they are
    listed in ``matched`` instead of being parsed. A hash seen twice, or an id that an
    earlier row already claimed, is parsed, so the duplicate rules see it."""

    def __init__(self, lookup, skus: list[str], products_version: Any = None):
        self.lookup = lookup  # hashes -> index into skus, or -1
        self.skus = skus
        self.products_version = products_version  # the catalog's, read with the fingerprints
        self.used = np.zeros(len(skus), dtype=bool)
        self.matched_skus: list[str] = []
        self.matched_lines: list[int] = []
        self.block: dict[str, int] = {}

    def __call__(
        self, block: R.RecordBlock, hashes: np.ndarray, state: ValidationState
    ) -> np.ndarray:
        """The records of ``block`` to parse (a boolean mask)."""
        idx = self.lookup(hashes)
        at = np.flatnonzero(idx >= 0)
        self.block = {}
        parse = np.ones(len(block), dtype=bool)
        if not at.size:
            return parse
        js = idx[at]
        _, first = np.unique(js, return_index=True)
        once = np.zeros(len(js), dtype=bool)
        once[first] = True
        once &= ~self.used[js]
        seen = state.seen
        matched = [self.skus[j] for j in js.tolist()]
        if not once.all() or not seen.isdisjoint(matched):  # (else, most blocks: all match)
            take = [
                k
                for k, (sku, first_time) in enumerate(zip(matched, once.tolist(), strict=True))
                if first_time and sku not in seen  # a repeat or a claimed id is parsed
            ]
            at, js = at[take], js[take]
            matched = [matched[k] for k in take]
        self.used[js] = True
        lines = block.lines[at].tolist()
        seen.update(matched)
        self.block = dict(zip(matched, lines, strict=True))
        self.matched_skus += matched
        self.matched_lines += lines
        state.received += len(matched)
        parse[at] = False
        return parse

    def parsed_before_matched(self, errors: list[RowError]) -> bool:
        """A parsed row rejected as a duplicate of an unchanged record further down the same
        block: a full parse would have kept the parsed row instead. (The caller parses the
        whole feed again; it does not happen in real feeds.)"""
        return any(e.message == DUPLICATE_ID and self.block.get(e.sku, 0) > e.line for e in errors)


def _read_block(
    body: bytes, names: list[str], delimiter: str, encoding: str
) -> tuple[pa.Table, list[tuple[str, int, int]]]:
    bad: list[tuple[str, int, int]] = []

    def on_invalid(row) -> str:
        bad.append((row.text or "", row.expected_columns, row.actual_columns))
        return "skip"

    table = pacsv.read_csv(
        io.BytesIO(body),
        read_options=pacsv.ReadOptions(
            column_names=names, encoding=encoding, use_threads=True, block_size=1 << 22
        ),
        **_read_options(names, delimiter, on_invalid),
    )
    return table, bad


def _locate_bad_rows(
    block: R.RecordBlock, kept: np.ndarray, bad: list[tuple[str, int, int]], encoding: str
) -> list[int] | None:
    """Positions (among the kept records) of the rows the reader rejected, by their text;
    None when a text matches no record (the caller then stores no fingerprints)."""
    texts: dict[str, list[int]] = {}
    for pos, i in enumerate(np.flatnonzero(kept).tolist()):
        text = block.record(i).decode(encoding, "replace").rstrip("\r\n")
        texts.setdefault(text, []).append(pos)
    out = []
    for text, _, _ in bad:
        found = texts.get(text.rstrip("\r\n"))
        if not found:
            return None
        out.append(found.pop(0))
    return out


def _first_non_ascii(data: bytes) -> bytes:
    """64 KiB of ``data`` from its first line holding a byte above 0x7F."""
    at = next(i for i, b in enumerate(data) if b > 0x7F) if len(data) < 4096 else None
    if at is None:
        view = np.frombuffer(data, np.uint8)
        at = int(np.argmax(view > 0x7F))
    start = data.rfind(b"\n", 0, at) + 1
    return data[start : start + 65536]


def _line_by_line(
    record: bytes, first_line: int, names: list[str], delimiter: str, encoding: str
) -> tuple[pa.Table, np.ndarray, list[RowError]]:
    """A record the reader rejected that spans several lines: a quote opened by mistake ran
    over the line breaks of the rows after it. Each line is read on its own instead, so
    only the row with the stray quote is an error and the rows it swallowed apply."""
    tables, lines, errors = [], [], []
    for j, piece in enumerate(re.split(rb"(?<=\n)", record)):
        if not piece.strip(b"\r\n"):
            continue
        # a line that no reader reads as one row (a bare CR, a NUL...) gets the message it
        # gets anywhere else in the file
        one = R.RecordBlock(piece, np.array([0]), np.array([len(piece)]), np.array([0]))
        problem = R.problem_records(
            one, encoding=encoding, delimiter=delimiter.encode(encoding)
        ).get(0)
        text = piece.decode(encoding, "replace")
        if problem is None and text.count('"') % 2 and _csv_rows(text, delimiter) is None:
            problem = "the row has a quote that is never closed"  # (the reader takes it)
        if problem is None:
            table, bad = _read_block(piece, names, delimiter, encoding)
            if not bad and table.num_rows == 1:
                tables.append(table)
                lines.append(first_line + j)
                continue
        sku = _record_sku(piece, names, delimiter, encoding)
        errors.append(
            RowError(first_line + j, sku, "row", problem)
            if problem
            else _bad_row(
                first_line + j, text, len(names), _count(text, delimiter), names, delimiter
            )
        )
    table = (
        pa.concat_tables(tables)
        if tables
        else pa.table({c: pa.array([], pa.string()) for c in names})
    )
    return table, np.array(lines, np.int64), errors


def _one_row(record: bytes, delimiter: str, encoding: str) -> bool:
    """Whether a record of several lines that the reader rejected is one row with a field
    too many or too few (e.g. a quoted line break in a row with an unquoted comma in an
    image link), not a stray quote that swallowed the rows after it: the record is one
    well-formed CSV row, and a later line starts inside its quoted value (the line's first
    cell holds the closing quote). Lines read on their own would make a product of that
    line's end."""
    text = record.decode(encoding, "replace")
    later = text.rstrip("\r\n").split("\n")[1:]
    return _csv_rows(text, delimiter) == 1 and any(
        '"' in line.split(delimiter, 1)[0] for line in later
    )


def _csv_rows(text: str, delimiter: str) -> int | None:
    """How many rows ``text`` holds as strict CSV, or None when it is not well-formed (a
    quoted value never closed, or text right after a closing quote)."""
    try:
        return sum(
            1 for _ in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        )
    except csv.Error:
        return None


def _count(text: str, delimiter: str) -> int:
    try:
        return len(next(csv.reader([text.rstrip("\r\n")], delimiter=delimiter), []))
    except csv.Error:
        return 0


def _record_sku(record: bytes, names: list[str], delimiter: str, encoding: str) -> str:
    """The id of a record that cannot be read as a whole, when its first line shows one."""
    text = record[:4096].decode(encoding, "replace").replace("\x00", "")
    try:
        cells = next(
            csv.reader([re.split(r"\r\n|\r|\n", text, maxsplit=1)[0]], delimiter=delimiter)
        )
    except (csv.Error, StopIteration):
        return ""
    at = names.index("sku")
    return (cells[at].strip() if len(cells) > at else "")[:100]


def _unterminated(block: R.RecordBlock) -> bool:
    """Whether the block's last record has no line end: the file's last record."""
    end = int(block.ends[-1])
    return end > 0 and block.data[end - 1 : end] not in (b"\n", b"\r")


def _short_last_row(bad: list[tuple], bad_lines: list[int], last: int) -> int | None:
    """The last record's line when it is a bad row with fewer fields than the header:
    with no line end after it, the mark of a file cut off mid-row."""
    for (_text, expected, actual), line in zip(bad, bad_lines, strict=True):
        if line == last and actual < expected:
            return line
    return None


# blocks split and hashed ahead of a matcher still loading (bounded memory)
AHEAD_BYTES = 256 << 20


def _ahead_of(matcher, blocks: Iterator[tuple]) -> Iterator[tuple]:
    """``blocks`` in order. While ``matcher`` is still loading (its ``ready()`` is false:
    the last pull's fingerprints read on another connection), the next blocks are split
    and hashed and held, up to AHEAD_BYTES of them, rather than waiting for it."""
    if getattr(matcher, "ready", None) is None:
        yield from blocks
        return
    held: deque[tuple] = deque()
    size = 0
    try:
        for item in blocks:
            held.append(item)
            size += len(item[0].data)
            while held and (size >= AHEAD_BYTES or matcher.ready()):
                first = held.popleft()
                size -= len(first[0].data)
                yield first
    except Exception:  # the blocks before a bad one are read first, as without a matcher
        yield from held
        raise
    yield from held


def iter_csv_record_tables(
    stream: IO[bytes],
    *,
    head: bytes,
    encoding: str,
    delimiter: str | None = None,
    context: tuple[str, ...] = (),
    state: ValidationState,
    matcher: RecordMatcher | None = None,
    undecided: bool = False,
    columns: tuple[list[str], str] | None = None,
) -> Iterator[tuple[pa.Table, np.ndarray, list[RowError], np.ndarray | None]]:
    """Stream a CSV/TSV feed (in an encoding whose newline and quote are single bytes) as
    (table of canonical string columns, exact line numbers, bad rows, record hashes).

    Records are split and hashed before parsing (``records``); with a ``matcher`` the
    unchanged ones are left out, so a re-pull parses only what changed. The hashes (keyed
    by the header line and ``context``) are None for a block whose records the reader did
    not see one for one. ``undecided``: the head was plain ASCII, so the first block with
    other bytes decides between UTF-8 and Windows-1252 (what came before reads the same in
    both). ``columns`` as in iter_csv_tables.
    """
    names, delimiter = columns or _columns(head, encoding, delimiter)
    split_on = delimiter.encode(encoding)

    def hashed_blocks(
        encoding: str, undecided: bool
    ) -> Iterator[tuple[R.RecordBlock, np.ndarray, dict, str, str]]:
        """Each block of records with their hashes, problems and encoding (as decided by
        then): what needs no matcher, so it can run ahead of one still loading."""
        enc = "utf8" if encoding in ("utf-8", "utf8", "utf-8-sig") else encoding
        key: int | None = None
        for block in R.iter_record_blocks(stream, first_line=1, delimiter=split_on):
            if key is None:  # the first record is the header line
                key = R.fingerprint_key(block.record(0), delimiter, encoding, *context)
                block = R.RecordBlock(
                    block.data,
                    block.starts[1:],
                    block.ends[1:],
                    block.lines[1:],
                    open_quote=block.open_quote,
                )
                if not len(block):
                    continue
            if undecided and not block.join().isascii():
                undecided = False
                encoding = P.detect_encoding(_first_non_ascii(block.join()))
                enc = "utf8" if encoding == "utf-8" else encoding
            hashes = R.record_hashes(block, key)
            problems = R.problem_records(block, encoding=encoding, delimiter=split_on)
            yield block, hashes, problems, encoding, enc

    blocks = _ahead_of(matcher, hashed_blocks(encoding, undecided))
    try:
        for block, hashes, problems, encoding, enc in blocks:
            kept = (
                matcher(block, hashes, state)
                if matcher is not None
                else np.ones(len(block), dtype=bool)
            )
            split: list[tuple[pa.Table, np.ndarray, list[RowError]]] = []
            if block.open_quote and kept[-1]:  # each of its lines is read on its own
                kept[-1] = False
                last = len(block) - 1
                split.append(
                    _line_by_line(block.record(last), int(block.lines[last]), names, delimiter, enc)
                )
                if _unterminated(block):  # the file may have been cut inside the value
                    state.cut_off_line = int(block.lines[last])
            unreadable = []
            for i, message in sorted(problems.items()):
                if kept[i]:  # (a record skipped as unchanged was read fine before)
                    kept[i] = False
                    sku = _record_sku(block.record(i), names, delimiter, encoding)
                    unreadable.append(RowError(int(block.lines[i]), sku, "row", message))
            n_kept = int(kept.sum())
            if n_kept == 0:  # all unchanged: nothing to read, but progress to report
                empty = pa.table({c: pa.array([], pa.string()) for c in names})
                yield empty, np.array([], np.int64), unreadable, np.array([], np.int64)
                for table, lines, errors in split:  # (no fingerprints: read every time)
                    yield table, lines, errors, None
                continue
            body = block.join(None if n_kept == len(block) else kept)
            table, bad = _read_block(body, names, delimiter, enc)
            lines = block.lines[kept]
            kept_hashes: np.ndarray | None = hashes[kept]
            bad_at: list[int] | None = []
            if table.num_rows + len(bad) != n_kept:
                bad_at = None
            elif bad:
                bad_at = _locate_bad_rows(block, kept, bad, enc)
            if bad_at is None:  # the reader split differently: estimate lines, no hashes
                kept_hashes = None
                first = int(lines[0])
                lines = np.arange(first, first + table.num_rows, dtype=np.int64)
                bad_lines = [first] * len(bad)
            else:
                good = np.ones(n_kept, dtype=bool)
                good[bad_at] = False
                bad_lines = lines[bad_at].tolist()
                lines, kept_hashes = lines[good], kept_hashes[good]
            errors = [
                _bad_row(line, text, expected, actual, names, delimiter)
                for (text, expected, actual), line in zip(bad, bad_lines, strict=True)
            ]
            if bad and _unterminated(block):
                state.cut_off_line = _short_last_row(bad, bad_lines, int(block.lines[-1]))
            if bad_at:  # a bad record of several lines: a quote that opened by mistake
                kept_at = np.flatnonzero(kept)
                for k, pos in enumerate(bad_at):
                    record = block.record(int(kept_at[pos]))
                    if b"\n" in record.rstrip(b"\r\n") and not _one_row(record, delimiter, enc):
                        pieces = _line_by_line(record, bad_lines[k], names, delimiter, enc)
                        # Only when the lines after its first read as rows of their own did a
                        # stray quote swallow them; otherwise the record is one bad row (e.g. a
                        # quoted line break in a row with a field too many): one error.
                        if (pieces[1] > bad_lines[k]).any():
                            split.append(pieces)
                            errors[k] = None
            yield table, lines, unreadable + [e for e in errors if e is not None], kept_hashes
            for table, lines, errors in split:  # (no fingerprints: read every time)
                yield table, lines, errors, None
    except R.RecordTooLong as exc:
        raise FeedError(
            "malformed",
            f"A row of the feed runs over {R.MAX_RECORD_BYTES >> 20} MB without ending: a quote "
            "that is never closed, or a file without line breaks. Nothing was applied.",
        ) from exc
    except (pa.ArrowInvalid, UnicodeError) as exc:
        raise _reader_error(exc) from exc
