"""The validation of feed rows, one block of columns at a time (pure: pyarrow, no ORM).

Every reader (CSV/TSV records in ``csv_tables``, XML items in ``xml_items``, a Shopify
products export's variants in ``shopify_products``, a WooCommerce product export's products
in ``woocommerce_products``) yields blocks of canonical string
columns, and ``readers.parse_feed_tables`` hands every block to ``validate_table``, on
every path (the first pull, the staged delta, SQLite). The rules run as pyarrow.compute kernels;
only the rare values that the vectorised fast paths do not recognise (e.g. "USD 12,99",
several shipping entries) go through the value parsers of ``parsing`` one by one.

A rejected row gets one error, the first of these that applies: no id, an id over 100
characters, a text field over its limit, any field over 64 KiB or holding a NUL (in column
order), an unreadable price, sale price, availability or shipping, a GTIN a spreadsheet
turned into scientific notation; a duplicate id
(an id that an earlier accepted row claimed) wins over all but the id rules. Warnings
(missing availability, unknown condition, a quantity that is not a whole number, the shipping
entry taken in another currency than the price) are given for accepted rows only.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import parsing as P
from .parsing import RowError, ValidationState

DUPLICATE_ID = "duplicate id: this id appears earlier in the feed"

MAX_ATTRIBUTE_CHARS = 5000  # a custom attribute's value (docs/feeds.md)
BLOCK_SIZE = 8 << 20  # ~16k-30k rows of a typical feed per block

_PRICE_FAST = r"^\s*(?P<i>\d{1,8})(?:\.(?P<f>\d{1,2}))?\s*(?P<c>[A-Za-z]{3})\s*$"
_SHIP_FAST = (
    r"^\s*(?P<country>[A-Za-z]{2}):(?P<region>[^:,]*):(?P<service>[^:,]*):"
    r"\s*(?P<i>\d{1,8})(?:\.(?P<f>\d{1,2}))?\s*(?P<c>[A-Za-z]{3})\s*$"
)
_ISO_CODES = pa.array(sorted(P.ISO_4217_CODES))
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


class _Rejections:
    """The reject reason of each row of a block: the first rule that matches wins."""

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
    """Validate one block of canonical string columns (``lines``: each row's line number).

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
    absent = pa.array([""] * n, pa.string())  # the value of every column the block lacks
    get = lambda c: col.get(c, absent)  # noqa: E731
    lines_py = lines.to_pylist() if isinstance(lines, pa.Array) else list(lines)
    sku = get("sku")
    reject = _Rejections(n)
    _reject_lengths(table, col, get, sku, reject)
    sku_py = sku.to_pylist()
    seen = state.seen

    default = state.default_currency
    price, cur = _prices(get("price"), "price", None, default=default, reject=reject)
    currency = pc.if_else(pc.equal(cur, ""), default, cur)
    sale, sale_cur = _prices(
        get("sale_price"), "sale_price", currency, default=default, reject=reject
    )
    _reject_sale_currency(sale, sale_cur, currency, reject)
    avail, avail_missing = _availability(get("availability"), reject)
    fee, fee_note = _shipping_fee(get("shipping"), currency, state, reject)
    gtin = _gtins(get("gtin"), reject)
    distinct_ids = _reject_duplicates(sku_py, seen, reject)

    field, message = reject.field, reject.message
    rejected = pa.array([f is not None for f in field], pa.bool_())
    ok = pc.invert(rejected)
    errors: list[RowError] = []
    for i in pc.indices_nonzero(rejected).to_pylist():
        errors.append(RowError(lines_py[i], sku_py[i][:100], field[i], message[i]))
    state.rejected += len(errors)

    # warnings (kept rows only)
    def warn(
        mask: pa.Array, f: str, fmt: str, raw: pa.Array | None = None, width: int = 20
    ) -> None:
        mask = pc.and_(mask, ok)
        if not pc.any(mask).as_py():
            return
        raw_py = raw.to_pylist() if raw is not None else None
        for i in pc.indices_nonzero(mask).to_pylist():
            msg = fmt.format(raw_py[i][:width]) if raw_py else fmt
            errors.append(RowError(lines_py[i], sku_py[i], f, msg, "warning"))
            state.warnings += 1

    if "availability" in names or not state.partial:  # (update mode: an absent column keeps)
        warn(avail_missing, "availability", "availability missing; taken as in stock")
    warn(pc.not_equal(fee_note, ""), "shipping", "{}", fee_note, width=200)
    cond_raw = pc.utf8_lower(get("condition"))
    cond_ok = pc.is_in(cond_raw, value_set=pa.array(sorted(P.CONDITIONS)))
    cond_bad = pc.and_(pc.not_equal(cond_raw, ""), pc.invert(cond_ok))
    warn(cond_bad, "condition", "unknown condition “{}” ignored", cond_raw)
    cond = pc.if_else(cond_bad, "", cond_raw)
    for k in _attribute_columns(col):  # a custom attribute keeps its first 5,000 characters
        warn(
            _longer_than(col[k], MAX_ATTRIBUTE_CHARS),
            str(k)[:100],
            f"{str(k)[:60]} is longer than {MAX_ATTRIBUTE_CHARS:,} characters; the rest was "
            "dropped",
        )
    qty_raw = get("quantity")
    qty_ok = pc.match_substring_regex(qty_raw, r"^-?\d{1,9}$")
    qty_bad = pc.and_(pc.not_equal(qty_raw, ""), pc.invert(qty_ok))
    warn(
        qty_bad,
        "quantity",
        "quantity “{}” is not a whole number of at most 9 digits; left empty",
        qty_raw,
    )
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
        "gtin": gtin,
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
    if distinct_ids is not None and good.num_rows == n:
        seen |= distinct_ids  # (a set's stored hashes, not a list hashed again)
    else:
        seen.update(good.column("sku").to_pylist())
    errors.sort(key=lambda e: (e.line, e.severity != "error"))
    if not with_hash:
        return good, errors
    good = good.append_column("content_hash", _content_hashes(good))
    return good, errors


def _content_hashes(good: pa.Table) -> pa.Array:
    """parsing.content_hash of each row's HASHED_COLUMNS, hashed from the joined values'
    UTF-8 bytes where Arrow holds them (no Python string made and encoded again per row)."""
    # the trailing "" column gives every joined value the trailing separator content_hash adds
    joined = pc.binary_join_element_wise(*(good.column(c) for c in P.HASHED_COLUMNS), "", "\x1f")
    if isinstance(joined, pa.ChunkedArray):
        joined = joined.combine_chunks()
    if not len(joined):
        return pa.array([], pa.string())
    offsets = np.frombuffer(joined.buffers()[1], dtype=np.int32)
    offsets = offsets[joined.offset : joined.offset + len(joined) + 1].tolist()
    data, digest = memoryview(joined.buffers()[2]), P.CONTENT_DIGEST
    return pa.array([digest(data[s:e]) for s, e in itertools.pairwise(offsets)], pa.string())


def _reject_lengths(table: pa.Table, col: dict, get, sku: pa.Array, reject: _Rejections) -> None:
    """The id (missing, too long), the text fields' limits, any field over 64 KiB or with
    a NUL."""
    reject(
        pc.equal(pc.binary_length(sku), 0), "id", "the row has no id, so it cannot be identified"
    )
    reject(_longer_than(sku, 100), "id", "id is longer than 100 characters")
    for f in P.TEXT_FIELDS:
        limit = P.FIELD_MAX_LENGTH[f]
        reject(_longer_than(get(f), limit), f, f"{f} is longer than {limit} characters")

    for c in table.column_names:  # any field, in column order
        if c in col:
            reject(
                _longer_than(col[c], P.MAX_FIELD_CHARS),
                str(c)[:100],
                f"{str(c)[:60]} is longer than 64 KiB",
            )
            # (CSV/TSV records with a NUL are rejected unread; this covers the other readers)
            if _has_nul(col[c]):
                reject(pc.match_substring(col[c], "\x00"), str(c)[:100], P.NUL_IN_FIELD)


def _longer_than(a: pa.Array, limit: int) -> pa.Array:
    """utf8_length(a) > limit, counting characters only where the bytes could be more
    than ``limit`` of them (a value has at least as many bytes as characters): the same
    mask, nulls included, without a pass over every value's bytes when none is that long."""
    maybe = pc.greater(pc.binary_length(a), limit)
    if not pc.any(maybe).as_py():
        return maybe
    return pc.greater(pc.utf8_length(a), limit)


def _has_nul(a: pa.Array | pa.ChunkedArray) -> bool:
    """Whether a string array's values hold a NUL byte: one scan of its data buffer."""
    for chunk in a.chunks if isinstance(a, pa.ChunkedArray) else [a]:
        if len(chunk) == 0 or chunk.null_count == len(chunk):
            continue
        wide = pa.types.is_large_string(chunk.type) or pa.types.is_large_binary(chunk.type)
        offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int64 if wide else np.int32)
        start, end = offsets[chunk.offset], offsets[chunk.offset + len(chunk)]
        data = chunk.buffers()[2]
        if end > start and not np.frombuffer(data, dtype=np.uint8)[start:end].all():
            return True
    return False


def _prices(
    raw: pa.Array, fieldname: str, defaults: pa.Array | None, *, default: str, reject: _Rejections
) -> tuple[pa.Array, pa.Array]:
    """(amount, currency) of a price column: a fast regex, the scalar parser for the rest."""
    n = len(raw)
    m = pc.extract_regex(raw, _PRICE_FAST)
    # a code that is not ISO 4217's goes to the scalar parser, which names it
    fast_ok = pc.and_(pc.is_valid(m), pc.is_in(pc.utf8_upper(pc.struct_field(m, "c")), _ISO_CODES))
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


def _reject_sale_currency(
    sale: pa.Array, sale_cur: pa.Array, currency: pa.Array, reject: _Rejections
) -> None:
    """A sale price is an amount in the price's currency (ads show the two side by side):
    one in another currency rejects the row rather than being read as the price's."""
    differ = pc.and_(pc.not_equal(sale, ""), pc.not_equal(sale_cur, currency))
    if not pc.any(differ).as_py():
        return
    sale_py, cur_py = sale_cur.to_pylist(), currency.to_pylist()
    msgs = {
        i: f"sale_price is in {sale_py[i]} but price is in {cur_py[i]}: give both in one currency"
        for i in pc.indices_nonzero(differ).to_pylist()
    }
    reject(differ, "sale_price", msgs=msgs)


def _gtins(raw: pa.Array, reject: _Rejections) -> pa.Array:
    """parsing.parse_gtin of a column: a float's ".0" tail dropped, scientific notation
    rejected (with the scalar parser's message), a UPC-A's dropped leading 0 put back (by
    the scalar parser, on the few 11-digit values)."""
    digits = pc.replace_substring_regex(raw, f"^{P.GTIN_FLOAT_TAIL}$", r"\1")
    short = pc.fill_null(pc.match_substring_regex(digits, f"^{P.UPC_A_WITHOUT_ITS_ZERO}$"), False)
    if pc.any(short).as_py():
        whole = [P.parse_gtin(v) for v in pc.filter(digits, short).to_pylist()]
        digits = pc.replace_with_mask(digits, short, pa.array(whole, digits.type))
    lost = pc.match_substring_regex(raw, f"^{P.GTIN_SCIENTIFIC}$")
    if pc.any(lost).as_py():
        raw_py = raw.to_pylist()
        msgs = {}
        for i in pc.indices_nonzero(lost).to_pylist():
            try:
                P.parse_gtin(raw_py[i])
            except ValueError as exc:
                msgs[i] = str(exc)
        reject(lost, "gtin", msgs=msgs)
    return digits


def _availability(avail_raw: pa.Array, reject: _Rejections) -> tuple[pa.Array, pa.Array]:
    """(availability, missing mask): schema.org and spelling variants mapped; missing is
    in stock (warned later), an unknown value rejects the row."""
    key = pc.utf8_lower(avail_raw)
    pos = pc.index_in(key, value_set=_AVAIL_KEYS)
    # the values not written as a key ("in_stock", a schema.org URL) spelled as one first
    odd = pc.and_(pc.is_null(pos), pc.not_equal(avail_raw, ""))
    if pc.any(odd).as_py():
        key = pc.take(key, pc.indices_nonzero(odd))
        key = pc.replace_substring_regex(key, r"^https?://schema\.org/", "")
        key = pc.replace_substring_regex(key, r"[_\-]+", " ")
        key = pc.utf8_trim_whitespace(pc.replace_substring_regex(key, r"\s+", " "))
        pos = pc.replace_with_mask(pos, odd, pc.index_in(key, value_set=_AVAIL_KEYS))
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
) -> tuple[pa.Array, pa.Array]:
    """(the shipping fee for the state's country, else of the first entry; a warning per
    row, "" for none). The entry taken in another currency than the row's price is no fee
    (only its amount would be stored, read as the price's currency): a warning, not a
    rejection, as the product itself is fine and the other entries are other countries'."""
    n = len(ship_raw)
    # a feed repeats a few shipping values: each distinct one is matched once (RE2's
    # captures cost ~0.4 s a million rows; the dictionary and the takes, a tenth of that)
    distinct = pc.dictionary_encode(ship_raw)
    sm = pc.extract_regex(distinct.dictionary, _SHIP_FAST)
    at = distinct.indices
    ship_ok = pc.take(pc.is_valid(sm), at)
    ship_cur = pc.take(pc.utf8_upper(pc.fill_null(pc.struct_field(sm, "c"), "")), at)
    foreign = pc.and_(ship_ok, pc.not_equal(ship_cur, currency))
    fee = pc.if_else(pc.and_(ship_ok, pc.invert(foreign)), pc.take(_amount(sm), at), "")
    note = pa.repeat(pa.scalar("", pa.string()), n)
    if pc.any(foreign).as_py():
        note = pc.if_else(foreign, _foreign_shipping(ship_raw, ship_cur, currency), "")
    slow = pc.indices_nonzero(pc.and_(pc.invert(ship_ok), pc.not_equal(ship_raw, ""))).to_pylist()
    if slow:
        fee_py, ship_py, cur_py = fee.to_pylist(), ship_raw.to_pylist(), currency.to_pylist()
        note_py = note.to_pylist()
        msgs = {}
        for i in slow:
            try:
                entries = P.parse_shipping(ship_py[i], cur_py[i])
            except ValueError as exc:
                msgs[i] = str(exc)
                continue
            mine = [e for e in entries if e.country == state.country.upper()] or entries
            if not mine:
                continue
            if mine[0].currency == cur_py[i]:
                fee_py[i] = str(mine[0].price)
            else:
                note_py[i] = _foreign_shipping_text(mine[0].text, mine[0].currency, cur_py[i])
        if msgs:
            mask = [i in msgs for i in range(n)]
            reject(pa.array(mask), "shipping", msgs=msgs)
        fee, note = pa.array(fee_py, pa.string()), pa.array(note_py, pa.string())
    return fee, note


_FOREIGN_SHIPPING = "shipping “{}” is in {} but price is in {}: the entry is ignored"


def _foreign_shipping_text(entry: str, entry_currency: str, currency: str) -> str:
    return _FOREIGN_SHIPPING.format(entry[:40], entry_currency, currency)


def _foreign_shipping(ship_raw: pa.Array, ship_cur: pa.Array, currency: pa.Array) -> pa.Array:
    """_FOREIGN_SHIPPING of every row, as one kernel over the columns."""
    before, middle, after, end = _FOREIGN_SHIPPING.split("{}")
    entry = pc.utf8_slice_codeunits(ship_raw, 0, 40)
    return pc.binary_join_element_wise(before, entry, middle, ship_cur, after, currency, end, "")


def _reject_duplicates(sku_py: list[str], seen: set[str], reject: _Rejections) -> set[str] | None:
    """Duplicates last: only an accepted row claims its id, and a duplicate is reported as
    such even when another field is also wrong. Returns the block's ids as a set when none
    comes twice (else None)."""
    ids = set(sku_py)
    if len(ids) == len(sku_py) and seen.isdisjoint(ids):
        return ids  # (most blocks) a set's hashing, not a loop in Python
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
    return None


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


def _attribute_columns(col: dict[str, pa.Array]) -> list[str]:
    """The block's columns that become custom attributes, in key order."""
    return sorted(
        k for k in col if k not in P.CORE_FIELDS and not k.startswith("_") and "__dup" not in k
    )


def _custom_attributes(col: dict[str, pa.Array], n: int) -> pa.Array:
    """{"key": "value", ...} with sorted keys, as json.dumps(..., ensure_ascii=False) writes."""
    keys = _attribute_columns(col)
    if not keys:
        return pa.array(["{}"] * n, pa.string())
    parts = []
    control = None
    for k in keys:
        v = pc.utf8_slice_codeunits(col[k], 0, MAX_ATTRIBUTE_CHARS)
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
            d = {str(k)[:100]: cols_py[k][i][:MAX_ATTRIBUTE_CHARS] for k in keys if cols_py[k][i]}
            result_py[i] = json.dumps(d, sort_keys=True, ensure_ascii=False)
        result = pa.array(result_py, pa.string())
    return result
