"""Split a CSV/TSV byte stream into records without parsing them, and fingerprint each one
(pure: numpy and hashlib, no ORM).

A re-pull of a big feed usually changes a few rows. Hashing every raw record and comparing
with the hashes stored on the products by the last pull lets the pipeline parse, validate
and stage only the records that changed: unchanged records are recognised from their bytes.

A record ends at a newline outside quotes. RFC 4180 escapes a quote by doubling it, so the
parity of the quote characters before a newline says whether it is inside a quoted value;
the reader (pyarrow) decides the same way, except that a quote opens a quoted value only at
the start of a field (a quote inside an unquoted value is a character), and so does the
splitter. Where a feed still splits otherwise, the caller sees a record count that does
not match the reader's rows and stores no fingerprints for that block, so such rows are
simply parsed every time.
"""

from __future__ import annotations

import codecs
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

import numpy as np
import xxhash

NEWLINE, QUOTE, CR = 10, 34, 13
BLOCK_BYTES = 8 << 20
MAX_RECORD_BYTES = 32 << 20  # one product row; more is an unclosed quote or no line breaks
# Encodings in which a newline and a quote are the bytes 0x0A and 0x22 and never part of
# another character: the splitter works on their bytes. (Not UTF-16.)
SPLITTABLE_ENCODINGS = frozenset(
    {"utf-8", "utf8", "utf-8-sig", "ascii", "latin-1", "latin1", "iso8859-1", "cp1252"}
)
# bump when parsing or validation rules change what a row means: every record then reads as
# new once, and every source's next pull reads its file even when unchanged (rules_version)
FINGERPRINT_VERSION = b"3"


@dataclass(frozen=True)
class RecordBlock:
    """Whole records: ``data[starts[i]:ends[i]]`` is record i (with its line ending), which
    starts on physical line ``lines[i]`` of the file (the header is line 1)."""

    data: bytes
    starts: np.ndarray
    ends: np.ndarray
    lines: np.ndarray
    # the block is the file's last record, in which a quoted value is still open at the end
    # of the file: a quote never closed, which ran over every line after it
    open_quote: bool = False

    def __len__(self) -> int:
        return len(self.starts)

    def record(self, i: int) -> bytes:
        return self.data[self.starts[i] : self.ends[i]]

    def join(self, mask: np.ndarray | None = None) -> bytes:
        """The records (all, or those where ``mask`` is true) as one CSV body."""
        if mask is None:
            if len(self) == 0:
                return b""
            return self.data[self.starts[0] : self.ends[-1]]
        data = self.data
        return b"".join(data[s:e] for s, e in zip(self.starts[mask], self.ends[mask], strict=True))


MAX_ROW_BYTES = 1 << 20  # a longer record is a row error (a field may hold 64 KiB)
UTF8_ENCODINGS = frozenset({"utf-8", "utf8", "utf-8-sig"})
NUL_MESSAGE = "the row contains a NUL byte, which no product field can hold"
CR_MESSAGE = (
    "the row contains a carriage return (CR) outside quotes, which splits it in two; "
    "quote the value or remove the CR"
)
UTF8_MESSAGE = (
    "the row has bytes that are not valid UTF-8 (the rest of the file is UTF-8); "
    "save the file as UTF-8"
)
LONG_MESSAGE = f"the row is longer than {MAX_ROW_BYTES >> 20} MiB (a field may hold 64 KiB)"


def problem_records(
    block: RecordBlock, *, encoding: str, delimiter: bytes = b","
) -> dict[int, str]:
    """Records that cannot be read as a row on their own, by index: a NUL byte, a bare CR
    outside quoted values (a reader would end the row there and shift every later line; a
    quote inside an unquoted value quotes nothing, see iter_record_blocks), bytes
    that are not UTF-8 in a UTF-8 file, more than MAX_ROW_BYTES. Each becomes a row error;
    the rest of the block reads as usual. A few scans of the block's bytes, in C."""
    out: dict[int, str] = {}
    if not len(block):
        return out
    data, ends = block.data, block.ends
    first, last = int(block.starts[0]), int(ends[-1])

    def mark(positions: np.ndarray, message: str) -> None:
        for r in np.unique(np.searchsorted(ends, positions, side="right")).tolist():
            out.setdefault(int(r), message)

    for i in np.flatnonzero(ends - block.starts > MAX_ROW_BYTES).tolist():
        out[int(i)] = LONG_MESSAGE
    if data.find(b"\x00", first, last) >= 0 or data.find(b"\r", first, last) >= 0:
        a = np.frombuffer(data, np.uint8, count=last)
        mark(np.flatnonzero(a[first:] == 0) + first, NUL_MESSAGE)
        crs = np.flatnonzero(a[first:] == CR) + first
        if crs.size:
            following = np.append(a, np.uint8(NEWLINE))[crs + 1]
            crs = crs[following != NEWLINE]
        if crs.size:  # outside quotes: an even number of quotes before it in its record
            quotes = np.flatnonzero(a == QUOTE)
            record_start = block.starts[np.searchsorted(ends, crs, side="right")]
            odd = ((np.searchsorted(quotes, crs) - np.searchsorted(quotes, record_start)) & 1) == 1
            inside = np.zeros(crs.size, dtype=bool)
            if odd.any():
                inside[odd] = _opened_at_field_start(
                    a, quotes, record_start[odd], crs[odd], delimiter
                )
            mark(crs[~inside], CR_MESSAGE)
    if encoding in UTF8_ENCODINGS:
        view, pos = memoryview(data), first
        while pos < last:
            try:
                codecs.utf_8_decode(view[pos:last], "strict", True)
                break
            except UnicodeDecodeError as exc:
                r = int(np.searchsorted(ends, pos + exc.start, side="right"))
                out.setdefault(r, UTF8_MESSAGE)
                pos = int(ends[r])
    return out


class RecordTooLong(ValueError):
    """No record boundary within MAX_RECORD_BYTES: the feed cannot be split safely."""


def iter_record_blocks(
    stream: IO[bytes],
    *,
    first_line: int = 2,
    block_bytes: int | None = None,
    max_record_bytes: int | None = None,
    delimiter: bytes = b",",
) -> Iterator[RecordBlock]:
    """Blocks of whole records read from ``stream`` (positioned after the header line).
    Empty lines are skipped, as the reader skips them; they still count as lines. Memory
    stays bounded: a record longer than ``max_record_bytes`` raises RecordTooLong.
    ``delimiter``: a quote opens a quoted value only at the start of a field."""
    limit = max_record_bytes or MAX_RECORD_BYTES
    block_bytes = block_bytes or BLOCK_BYTES
    carry = b""
    line = first_line
    while True:
        chunk = stream.read(block_bytes)
        buf = carry + chunk if carry else chunk
        if not chunk:  # end of the stream: what is left is the last record (no newline)
            if len(buf) > limit:
                raise RecordTooLong(len(buf))
            if buf.strip(b"\r\n"):
                yield RecordBlock(
                    buf,
                    np.array([0]),
                    np.array([len(buf)]),
                    np.array([line], np.int64),
                    open_quote=_open_at_end(buf, delimiter),
                )
            return
        a = np.frombuffer(buf, np.uint8)
        newlines = np.flatnonzero(a == NEWLINE)
        ends = _record_ends(a, newlines, np.flatnonzero(a == QUOTE), delimiter)
        if ends.size == 0:  # one record longer than the block: read on
            if len(buf) > limit:
                raise RecordTooLong(len(buf))
            carry = buf
            continue
        starts = np.empty_like(ends)
        starts[0] = 0
        starts[1:] = ends[:-1]
        lines = line + np.searchsorted(newlines, starts)
        last = int(ends[-1])
        line += int(np.searchsorted(newlines, last))  # the newlines in buf[:last]
        carry = buf[last:]
        if len(carry) > limit:
            raise RecordTooLong(len(carry))
        keep = _not_empty(a, starts, ends)
        if not keep.all():
            starts, ends, lines = starts[keep], ends[keep], lines[keep]
        if starts.size:
            yield RecordBlock(buf, starts, ends, lines.astype(np.int64))


def _open_at_end(record: bytes, delimiter: bytes) -> bool:
    """Whether a quoted value is still open at the end of ``record`` (the file's last): a
    line end after it would not end the record."""
    if b'"' not in record:
        return False
    a = np.frombuffer(record + b"\n", np.uint8)
    ends = _record_ends(a, np.flatnonzero(a == NEWLINE), np.flatnonzero(a == QUOTE), delimiter)
    return not ends.size or int(ends[-1]) != len(a)


def _record_ends(
    a: np.ndarray, newlines: np.ndarray, quotes: np.ndarray, delimiter: bytes
) -> np.ndarray:
    """The end (after its newline) of each record of ``a``, which starts outside quotes.

    A newline ends a record when the quotes before it are balanced, except that a quote
    opens a quoted value only at the start of a field, as the reader reads it: a quote in
    an unquoted value (an inch mark: ``TV 55" screen``) is a character, and must not run
    the rest of the file into one record. Balanced quotes decide, in C, unless they would
    open a value anywhere else; then the block's lines holding quotes are read quote by
    quote (the reader's rules: "" inside a quoted value is a quote, a closing quote ends
    it, a quote opens one only at the start of a field)."""
    if not quotes.size:
        return newlines + 1
    before = np.searchsorted(quotes, newlines)  # the quotes before each newline
    balanced = newlines[(before & 1) == 0] + 1
    counts = np.diff(before, prepend=0)
    # read by balanced quotes, a quote at an even place opens a value unless it is the
    # second of a doubled quote ("" inside a quoted value)
    at = np.arange(quotes.size)
    prev = np.where(quotes > 0, a[np.maximum(quotes - 1, 0)], NEWLINE)
    opens = ((at & 1) == 0) & (prev != QUOTE)
    if np.isin(prev[opens], _field_starts(delimiter)).all():
        return balanced  # (every file a CSV writer wrote)
    # read the lines holding quotes one by one, quote by quote (only in a block with such a
    # quote: a file a CSV writer wrote never comes here)
    lines = np.flatnonzero(counts)
    if not lines.size:  # (the quotes are all after the last newline)
        return balanced
    state = np.zeros(lines.size, dtype=bool)  # inside a quoted value after the line
    field_starts, view = set(_field_starts(delimiter)), a.data
    positions, inside = quotes.tolist(), False
    spans = zip((before - counts)[lines].tolist(), before[lines].tolist(), strict=True)
    for k, (first, last) in enumerate(spans):
        j = first
        while j < last:
            p = positions[j]
            if inside and j + 1 < last and positions[j + 1] == p + 1:
                j += 2  # "" inside a quoted value
                continue
            if inside:
                inside = False  # closes it (what follows up to a delimiter is text)
            elif p == 0 or view[p - 1] in field_starts:
                inside = True  # at the start of a field: opens a quoted value
            j += 1
        state[k] = inside
    last_quoted = np.searchsorted(lines, np.arange(newlines.size), side="right") - 1
    after = (last_quoted >= 0) & state[np.maximum(last_quoted, 0)]
    return newlines[~after] + 1


def _opened_at_field_start(
    a: np.ndarray, quotes: np.ndarray, starts: np.ndarray, upto: np.ndarray, delimiter: bytes
) -> np.ndarray:
    """For each span ``starts[i]:upto[i]`` (which starts outside quotes and holds an odd
    number of them; sorted): whether the quoted value it leaves open was opened at the start
    of a field. Its opening quote is the span's last quote at an even place in it that is
    not the second of a doubled quote ("" inside a quoted value)."""
    if not starts.size:
        return np.zeros(0, dtype=bool)
    segments = np.unique(starts)
    segment = np.searchsorted(segments, quotes, side="right") - 1
    at = np.arange(quotes.size) - np.searchsorted(quotes, segments)[np.maximum(segment, 0)]
    prev = a[np.maximum(quotes - 1, 0)]
    opens = ((at & 1) == 0) & ~((prev == QUOTE) & (at > 0))
    last_open = np.maximum.accumulate(np.where(opens, np.arange(quotes.size), -1))
    found = last_open[np.searchsorted(quotes, upto) - 1]
    inside = found >= np.searchsorted(quotes, starts)
    opener = quotes[np.maximum(found, 0)]
    field_starts = _field_starts(delimiter)
    return inside & ((opener == 0) | np.isin(a[np.maximum(opener - 1, 0)], field_starts))


def _field_starts(delimiter: bytes) -> tuple[int, ...]:
    """The bytes after which a field starts (a quote there opens a quoted value)."""
    return (NEWLINE, CR, *delimiter) if len(delimiter) == 1 else (NEWLINE, CR, *b",;\t|")


def _not_empty(a: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    length = ends - starts
    first = a[starts]
    blank = (length == 1) | ((length == 2) & (first == CR))
    return ~blank


def fingerprint_key(*parts: str | bytes) -> int:
    """The key of the record hashes: what else decides how a record reads (the header line,
    the format, the encoding, the catalog's default currency and country, the rules' version).
    A change of any of them makes every record look new once."""
    h = hashlib.blake2b(FINGERPRINT_VERSION, digest_size=32)
    for p in parts:
        b = p if isinstance(p, bytes) else p.encode("utf-8", "surrogatepass")
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return int.from_bytes(h.digest()[:8], "little")


def rules_version() -> str:
    """FINGERPRINT_VERSION as a source remembers it with the validators of its last good
    pull."""
    return FINGERPRINT_VERSION.decode("ascii")


def record_hashes(block: RecordBlock, key: int) -> np.ndarray:
    """A 64-bit hash of each record's bytes, seeded with ``key`` (signed, to fit a
    PostgreSQL bigint). xxh3: ~0.2 µs a record, five times cheaper than blake2b here; not
    cryptographic, which is fine: a collision could only hide a seller's own change, with
    odds of 2^-64 per changed row."""
    data, digest = block.data, xxhash.xxh3_64_intdigest
    hashes = np.fromiter(
        (
            digest(data[s:e], key)
            for s, e in zip(block.starts.tolist(), block.ends.tolist(), strict=True)
        ),
        np.uint64,
        len(block),
    )
    return hashes.view(np.int64)
