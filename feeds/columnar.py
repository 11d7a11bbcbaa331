"""The fast, columnar path of parsing and validation (pure: pyarrow, no ORM).

CSV/TSV is read by pyarrow's streaming CSV reader (C++, block by block, every cell a
string) and each block is validated with pyarrow.compute kernels; only the rare rows
that the vectorised fast paths do not recognise (e.g. "USD 12,99", several shipping
entries) go through the scalar parsers of ``parsing``. XML items are batched into the
same tables. The scalar ``parsing.validate_rows`` is the reference: a property test
checks that both agree row for row (including the content hash).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from . import parsing as P
from . import records as R
from .parsing import FeedError, RowError, ValidationState

DUPLICATE_ID = "duplicate id: this id appears earlier in the feed"

BLOCK_SIZE = 8 << 20  # ~16k-30k rows of a typical feed per block

_PRICE_FAST = r"^\s*(?P<i>\d{1,8})(?:\.(?P<f>\d{1,2}))?\s*(?P<c>[A-Za-z]{3})\s*$"
_SHIP_FAST = (
    r"^\s*(?P<country>[A-Za-z]{2}):(?P<region>[^:,]*):(?P<service>[^:,]*):"
    r"\s*(?P<i>\d{1,8})(?:\.(?P<f>\d{1,2}))?\s*(?P<c>[A-Za-z]{3})\s*$"
)
_AVAIL_KEYS = pa.array(list(P._AVAILABILITY_SYNONYMS))
_AVAIL_VALUES = pa.array(list(P._AVAILABILITY_SYNONYMS.values()))


def _str(col: Any, n: int) -> pa.Array:
    if col is None:
        return pa.array([""] * n, pa.string())
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if col.type != pa.string():
        col = pc.cast(col, pa.string())
    return pc.fill_null(col, "")


def _amount(m: pa.StructArray) -> pa.Array:
    """ "0012" + "5" -> "12.50" (what str(Decimal(...).quantize(0.01)) gives)."""
    ip = pc.cast(pc.cast(pc.struct_field(m, "i"), pa.int64()), pa.string())
    frac = pc.utf8_rpad(pc.fill_null(pc.struct_field(m, "f"), ""), 2, "0")
    return pc.binary_join_element_wise(ip, frac, ".")


def _scalar_rows(idx: list[int], fn) -> dict[int, Any]:
    return {i: fn(i) for i in idx}


class _Rejections:
    """The reject reason of each row of a block: first match wins (the scalar order)."""

    def __init__(self, n: int):
        self.field: list[str | None] = [None] * n
        self.message: list[str | None] = [None] * n

    def __call__(self, mask: pa.Array, f: str, msg: str | None = None, msgs: dict | None = None):
        for i in pc.indices_nonzero(mask).to_pylist():
            if self.field[i] is None:
                self.field[i] = f
                self.message[i] = msgs[i] if msgs is not None else msg


def validate_table(
    table: pa.Table,
    lines: list[int] | pa.Array,
    state: ValidationState,
    *,
    with_hash: bool = True,
) -> tuple[pa.Table, list[RowError]]:
    """Validate one block of canonical string columns; same rules as parsing.validate_rows.

    Returns the good rows as a table of parsing.OUTPUT_COLUMNS (all strings but "line")
    and the row errors (rejections and warnings). ``with_hash=False`` leaves the content
    hash out: PostgreSQL's staging table computes it itself (a generated column, in C,
    on the database's core while this process parses the next block).
    """
    n = table.num_rows
    state.received += n
    names = set(table.column_names)
    state.columns.update(names)
    col = {c: pc.utf8_trim_whitespace(_str(table.column(c), n)) for c in names}
    get = lambda c: col.get(c) if c in col else pa.array([""] * n, pa.string())  # noqa: E731
    lines_py = lines.to_pylist() if isinstance(lines, pa.Array) else list(lines)
    sku = get("sku")
    reject = _Rejections(n)
    _reject_lengths(table, col, get, sku, reject)
    sku_py = sku.to_pylist()
    seen = state.seen

    default = state.default_currency
    price, cur = _prices(get("price"), "price", None, default=default, reject=reject)
    currency = pc.if_else(pc.equal(cur, ""), default, cur)
    sale, _ = _prices(get("sale_price"), "sale_price", currency, default=default, reject=reject)
    avail, avail_missing = _availability(get("availability"), reject)
    fee = _shipping_fee(get("shipping"), currency, state, reject)
    _reject_duplicates(sku_py, seen, reject)

    field, message = reject.field, reject.message
    rejected = pa.array([f is not None for f in field])
    ok = pc.invert(rejected)
    errors: list[RowError] = []
    for i in pc.indices_nonzero(rejected).to_pylist():
        errors.append(RowError(lines_py[i], sku_py[i][:100], field[i], message[i]))
    state.rejected += len(errors)

    # warnings (kept rows only)
    def warn(mask: pa.Array, f: str, fmt: str, raw: pa.Array | None = None) -> None:
        mask = pc.and_(mask, ok)
        if not pc.any(mask).as_py():
            return
        raw_py = raw.to_pylist() if raw is not None else None
        for i in pc.indices_nonzero(mask).to_pylist():
            msg = fmt.format(raw_py[i][:20]) if raw_py else fmt
            errors.append(RowError(lines_py[i], sku_py[i], f, msg, "warning"))
            state.warnings += 1

    if "availability" in names or not state.partial:  # (update mode: an absent column keeps)
        warn(avail_missing, "availability", "availability missing; taken as in stock")
    cond_raw = pc.utf8_lower(get("condition"))
    cond_ok = pc.is_in(cond_raw, value_set=pa.array(sorted(P.CONDITIONS)))
    cond_bad = pc.and_(pc.not_equal(cond_raw, ""), pc.invert(cond_ok))
    warn(cond_bad, "condition", "unknown condition “{}” ignored", cond_raw)
    cond = pc.if_else(cond_bad, "", cond_raw)
    qty_raw = get("quantity")
    qty_ok = pc.match_substring_regex(qty_raw, r"^-?\d{1,9}$")
    qty_bad = pc.and_(pc.not_equal(qty_raw, ""), pc.invert(qty_ok))
    warn(qty_bad, "quantity", "quantity “{}” is not a number", qty_raw)
    qty = pc.if_else(
        qty_ok, pc.cast(pc.cast(pc.if_else(qty_ok, qty_raw, "0"), pa.int64()), pa.string()), ""
    )

    out = {
        "line": pa.array(lines_py, pa.int64()),
        "sku": sku,
        "item_group_id": get("item_group_id"),
        "title": get("title"),
        "description": get("description"),
        "link": get("link"),
        "image_link": get("image_link"),
        "additional_image_links": _image_links(get("additional_image_link"), n),
        "brand": get("brand"),
        "gtin": get("gtin"),
        "mpn": get("mpn"),
        "condition": cond,
        "availability": avail,
        "price": price,
        "sale_price": sale,
        "currency": currency,
        "shipping_fee": fee,
        "inventory_quantity": qty,
        "product_type": get("product_type"),
        "google_product_category": get("google_product_category"),
        "custom_attributes": _custom_attributes(col, n),
    }
    good = pa.table(out).filter(ok)
    seen.update(good.column("sku").to_pylist())
    errors.sort(key=lambda e: (e.line, e.severity != "error"))
    if not with_hash:
        return good, errors
    joined = pc.binary_join_element_wise(*(good.column(c) for c in P.HASHED_COLUMNS), "\x1f")
    hashes = [P.joined_content_hash(v) for v in joined.to_pylist()]
    good = good.append_column("content_hash", pa.array(hashes, pa.string()))
    return good, errors


def _reject_lengths(table: pa.Table, col: dict, get, sku: pa.Array, reject: _Rejections) -> None:
    """The id (missing, too long), the text fields' limits, any field over 64 KiB or with
    a NUL."""
    sku_len = pc.utf8_length(sku)
    reject(pc.equal(sku_len, 0), "id", "the row has no id, so it cannot be identified")
    reject(pc.greater(sku_len, 100), "id", "id is longer than 100 characters")
    for f in P.TEXT_FIELDS:
        limit = P.FIELD_MAX_LENGTH[f]
        reject(
            pc.greater(pc.utf8_length(get(f)), limit), f, f"{f} is longer than {limit} characters"
        )

    for c in table.column_names:  # any field, in column order (the scalar rules' order)
        if c in col:
            reject(
                pc.greater(pc.utf8_length(col[c]), P.MAX_FIELD_CHARS),
                str(c)[:100],
                f"{str(c)[:60]} is longer than 64 KiB",
            )
            # (CSV/TSV records with a NUL are rejected unread; this covers the other readers)
            reject(pc.match_substring(col[c], "\x00"), str(c)[:100], P.NUL_IN_FIELD)


def _prices(
    raw: pa.Array, fieldname: str, defaults: pa.Array | None, *, default: str, reject: _Rejections
) -> tuple[pa.Array, pa.Array]:
    """(amount, currency) of a price column: a fast regex, the scalar parser for the rest."""
    n = len(raw)
    m = pc.extract_regex(raw, _PRICE_FAST)
    fast_ok = pc.is_valid(m)
    amount = pc.if_else(fast_ok, _amount(m), "")
    cur = pc.if_else(fast_ok, pc.utf8_upper(pc.struct_field(m, "c")), "")
    slow = pc.indices_nonzero(pc.and_(pc.invert(fast_ok), pc.not_equal(raw, ""))).to_pylist()
    if not slow:
        return amount, cur
    raw_py = raw.to_pylist()
    dflt = defaults.to_pylist() if defaults is not None else None
    amount_py, cur_py = amount.to_pylist(), cur.to_pylist()
    msgs: dict[int, str] = {}
    for i in slow:
        try:
            a, c = P.parse_price(raw_py[i], dflt[i] if dflt else default)
            amount_py[i], cur_py[i] = str(a), c
        except ValueError as exc:
            msgs[i] = str(exc)
    if msgs:
        mask = [False] * n
        for i in msgs:
            mask[i] = True
        reject(pa.array(mask), fieldname, msgs=msgs)
    return pa.array(amount_py, pa.string()), pa.array(cur_py, pa.string())


def _availability(avail_raw: pa.Array, reject: _Rejections) -> tuple[pa.Array, pa.Array]:
    """(availability, missing mask): schema.org and spelling variants mapped; missing is
    in stock (warned later), an unknown value rejects the row."""
    key = pc.utf8_lower(avail_raw)
    key = pc.replace_substring_regex(key, r"^https?://schema\.org/", "")
    key = pc.replace_substring_regex(key, r"[_\-]+", " ")
    key = pc.utf8_trim_whitespace(pc.replace_substring_regex(key, r"\s+", " "))
    pos = pc.index_in(key, value_set=_AVAIL_KEYS)
    avail = pc.fill_null(pc.take(_AVAIL_VALUES, pos), "")
    avail_missing = pc.equal(avail_raw, "")
    bad_avail = pc.and_(pc.invert(avail_missing), pc.is_null(pos))
    if pc.any(bad_avail).as_py():
        raw_py = avail_raw.to_pylist()
        msgs = {}
        for i in pc.indices_nonzero(bad_avail).to_pylist():
            try:
                P.parse_availability(raw_py[i])
            except ValueError as exc:
                msgs[i] = str(exc)
        reject(bad_avail, "availability", msgs=msgs)
    return pc.if_else(avail_missing, P.AVAILABILITY_IN_STOCK, avail), avail_missing


def _shipping_fee(
    ship_raw: pa.Array, currency: pa.Array, state: ValidationState, reject: _Rejections
) -> pa.Array:
    """The shipping fee for the state's country (else the first entry)."""
    n = len(ship_raw)
    sm = pc.extract_regex(ship_raw, _SHIP_FAST)
    ship_ok = pc.is_valid(sm)
    fee = pc.if_else(ship_ok, _amount(sm), "")
    slow = pc.indices_nonzero(pc.and_(pc.invert(ship_ok), pc.not_equal(ship_raw, ""))).to_pylist()
    if slow:
        fee_py, ship_py, cur_py = fee.to_pylist(), ship_raw.to_pylist(), currency.to_pylist()
        msgs = {}
        for i in slow:
            try:
                entries = P.parse_shipping(ship_py[i], cur_py[i])
                mine = [e for e in entries if e.country == state.country.upper()] or entries
                fee_py[i] = str(mine[0].price) if mine else ""
            except ValueError as exc:
                msgs[i] = str(exc)
        if msgs:
            mask = [i in msgs for i in range(n)]
            reject(pa.array(mask), "shipping", msgs=msgs)
        fee = pa.array(fee_py, pa.string())
    return fee


def _reject_duplicates(sku_py: list[str], seen: set[str], reject: _Rejections) -> None:
    """Duplicates last, as in the scalar rules: only an accepted row claims its id, and a
    duplicate is reported as such even when another field is also wrong."""
    field, message = reject.field, reject.message
    claimed: set[str] = set()
    for i, s in enumerate(sku_py):
        if field[i] == "id":
            continue
        if s in seen or s in claimed:
            field[i] = "id"
            message[i] = DUPLICATE_ID
        elif field[i] is None:
            claimed.add(s)


def _image_links(images_raw: pa.Array, n: int) -> pa.Array:
    """Additional image links: a JSON list of at most 20 comma-separated URLs."""
    if pc.any(pc.not_equal(images_raw, "")).as_py():
        return pa.array(
            [
                json.dumps([u.strip() for u in v.split(",") if u.strip()][:20]) if v else "[]"
                for v in images_raw.to_pylist()
            ],
            pa.string(),
        )
    return pa.array(["[]"] * n, pa.string())


def _custom_attributes(col: dict[str, pa.Array], n: int) -> pa.Array:
    """{"key": "value", ...} with sorted keys, as json.dumps(..., ensure_ascii=False) writes."""
    keys = sorted(
        k for k in col if k not in P.CORE_FIELDS and not k.startswith("_") and "__dup" not in k
    )
    if not keys:
        return pa.array(["{}"] * n, pa.string())
    parts = []
    control = None
    for k in keys:
        v = pc.utf8_slice_codeunits(col[k], 0, 5000)
        has_ctrl = pc.match_substring_regex(v, r"[\x00-\x1f]")
        control = has_ctrl if control is None else pc.or_(control, has_ctrl)
        esc = pc.replace_substring(pc.replace_substring(v, "\\", "\\\\"), '"', '\\"')
        item = pc.binary_join_element_wise(
            json.dumps(str(k)[:100], ensure_ascii=False) + ': "', esc, '", ', ""
        )
        parts.append(pc.if_else(pc.equal(v, ""), "", item))
    # every item ends in ", ": join them with nothing and drop the last separator (no nulls:
    # pyarrow's join with null_handling="skip" returned a wrong length when every value of
    # a row was empty)
    body = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, "")
    body = pc.replace_substring_regex(body, r", $", "")
    result = pc.binary_join_element_wise("{", body, "}", "")
    if pc.any(control).as_py():  # rare: let json escape control characters
        result_py = result.to_pylist()
        cols_py = {k: col[k].to_pylist() for k in keys}
        for i in pc.indices_nonzero(control).to_pylist():
            d = {str(k)[:100]: cols_py[k][i][:5000] for k in keys if cols_py[k][i]}
            result_py[i] = json.dumps(d, sort_keys=True, ensure_ascii=False)
        result = pa.array(result_py, pa.string())
    return result


# --------------------------------------------------------------------------- readers


def _header(head: bytes, encoding: str, delimiter: str | None) -> tuple[list[str], str]:
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
    raw_names, delimiter = _header(head, encoding, delimiter)
    names = P.normalise_headers(raw_names)
    if P.missing_required_columns(names):
        looked = "looked for id, sku, sku_id, retailer_id, offer_id"
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
    stream: IO[bytes], *, head: bytes, encoding: str, delimiter: str | None = None
) -> Iterator[tuple[pa.Table, list[int], list[RowError]]]:
    """Stream a CSV/TSV feed as (table of canonical string columns, line numbers, bad rows).

    Line numbers count the header as line 1. A row with the wrong number of fields is a
    row error; its line is estimated (the reader does not report it), and the lines of
    later rows assume one line per record.
    """
    names, delimiter = _columns(head, encoding, delimiter)
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
        seen, skus = state.seen, self.skus
        take = [
            k
            for k, (j, first_time) in enumerate(zip(js.tolist(), once.tolist(), strict=True))
            if first_time and skus[j] not in seen  # a repeat or a claimed id is parsed
        ]
        at, js = at[take], js[take]
        self.used[js] = True
        matched = [skus[j] for j in js.tolist()]
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
        table, bad = _read_block(piece, names, delimiter, encoding)
        if bad or table.num_rows != 1:
            text = piece.decode(encoding, "replace")
            sku = _record_sku(piece, names, delimiter, encoding)
            errors.append(
                RowError(first_line + j, sku, "row", "the row has a quote that is never closed")
                if text.count('"') % 2
                else _bad_row(
                    first_line + j, text, len(names), _count(text, delimiter), names, delimiter
                )
            )
            continue
        tables.append(table)
        lines.append(first_line + j)
    table = (
        pa.concat_tables(tables)
        if tables
        else pa.table({c: pa.array([], pa.string()) for c in names})
    )
    return table, np.array(lines, np.int64), errors


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
) -> Iterator[tuple[pa.Table, np.ndarray, list[RowError], np.ndarray | None]]:
    """Stream a CSV/TSV feed (in an encoding whose newline and quote are single bytes) as
    (table of canonical string columns, exact line numbers, bad rows, record hashes).

    Records are split and hashed before parsing (``records``); with a ``matcher`` the
    unchanged ones are left out, so a re-pull parses only what changed. The hashes (keyed
    by the header line and ``context``) are None for a block whose records the reader did
    not see one for one. ``undecided``: the head was plain ASCII, so the first block with
    other bytes decides between UTF-8 and Windows-1252 (what came before reads the same in
    both).
    """
    names, delimiter = _columns(head, encoding, delimiter)
    enc = "utf8" if encoding in ("utf-8", "utf8", "utf-8-sig") else encoding
    key: int | None = None
    try:
        for block in R.iter_record_blocks(stream, first_line=1):
            if key is None:  # the first record is the header line
                key = R.fingerprint_key(block.record(0), delimiter, encoding, *context)
                block = R.RecordBlock(block.data, block.starts[1:], block.ends[1:], block.lines[1:])
                if not len(block):
                    continue
            if undecided and not block.join().isascii():
                undecided = False
                encoding = P.detect_encoding(_first_non_ascii(block.join()))
                enc = "utf8" if encoding == "utf-8" else encoding
            hashes = R.record_hashes(block, key)
            kept = (
                matcher(block, hashes, state)
                if matcher is not None
                else np.ones(len(block), dtype=bool)
            )
            problems = R.problem_records(block, encoding=encoding)
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
            split: list[tuple[pa.Table, np.ndarray, list[RowError]]] = []
            if bad_at:  # a bad record of several lines: a quote that opened by mistake
                kept_at = np.flatnonzero(kept)
                for k, pos in enumerate(bad_at):
                    record = block.record(int(kept_at[pos]))
                    if b"\n" in record.rstrip(b"\r\n"):
                        split.append(_line_by_line(record, bad_lines[k], names, delimiter, enc))
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


def _rows_to_table(rows: list[tuple[int, dict[str, Any]]]) -> tuple[pa.Table, list[int]]:
    keys: dict[str, None] = {}
    for _, r in rows:
        keys.update(dict.fromkeys(r))
    cols = {k: pa.array([P._cell(r.get(k)) for _, r in rows], pa.string()) for k in keys}
    if "sku" not in cols:
        cols["sku"] = pa.array([""] * len(rows), pa.string())
    return pa.table(cols), [ln for ln, _ in rows]


class ReparseNeeded(Exception):
    """The shortcut over unchanged records met a case only a full parse decides."""


def parse_feed_tables(
    stream: IO[bytes],
    *,
    fmt: str = "auto",
    encoding: str | None = None,
    state: ValidationState,
    chunk_rows: int = P.DEFAULT_CHUNK_ROWS,
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
        for rows in P.iter_xml_chunks(stream, chunk_rows=chunk_rows):
            table, lines = _rows_to_table(rows)
            good, errors = validate_table(table, lines, state, with_hash=with_hash)
            yield good, P.unmapped_column_warnings(table.column_names, state, lines[0]) + errors
        return
    enc = encoding or P.detect_encoding(head)
    undecided = not encoding and enc == "utf-8" and head.isascii()
    delimiter = "\t" if fmt == P.FORMAT_TSV else None
    first_break = re.search(rb"\r\n|\r|\n", head)
    old_mac = first_break is not None and first_break.group() == b"\r"
    if enc not in R.SPLITTABLE_ENCODINGS or old_mac:  # (lines ending in a bare CR: read whole)
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


def table_rows(table: pa.Table) -> list[dict[str, str]]:
    """Good rows as plain dicts of strings (what parsing.validate_rows returns)."""
    if "line_hash" in table.column_names:  # the pipeline's bookkeeping, not row content
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
    chunk_rows: int = P.DEFAULT_CHUNK_ROWS,
    state: ValidationState | None = None,
) -> Iterator[tuple[list[dict[str, str]], list[RowError]]]:
    """Detect, stream and validate: yields (normalised rows, row errors) per chunk.

    Pass ``state`` to read the running counts (received, rejected, warnings).
    """
    state = state or ValidationState(default_currency=default_currency)
    for table, errors in parse_feed_tables(
        stream, fmt=fmt, encoding=encoding, state=state, chunk_rows=chunk_rows
    ):
        yield table_rows(table), errors
