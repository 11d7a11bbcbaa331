"""The review engine: every rule once, over the Arrow columns of a block of products.

A block is a ``pyarrow.Table`` with the columns of :data:`BLOCK_SCHEMA` (a catalog chunk
read from PostgreSQL, or :func:`block_from_products` for plain mappings; a seller's edit is
a block of one). :func:`review_block` returns per row whether it is Unavailable (an error)
and one table of issues ordered by row, then by the rules' fixed order (the order below;
policy terms: title before description, then the order of the terms in the context).

Regular expressions run through ``pyarrow.compute`` (RE2: linear time, no backtracking on
hostile feed text); the GTIN check digit is a matrix product over the digits. Python
touches only the few rows whose message needs a ``Decimal`` written as the seller typed it.

RE2 differs from Python's ``re`` in ways that matter here, so the patterns spell out what
Python meant: ``\\w`` is ``[\\pL\\pN_]``, ``\\s`` is Python's whitespace set, ``\\d`` is
``[0-9]``. Case-insensitive matching is Unicode simple case folding (``ß`` does not match
``ss``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .catalog import (
    AVAILABILITY_VALUES,
    CONDITION_VALUES,
    DENIED_CLAIM,
    ERROR,
    PROHIBITED,
    RULES,
    SEVERITIES,
    VARIANT_ATTRIBUTES,
    Issue,
    PolicyTermSpec,
    tokenize,
)

_TEXT = (
    "sku",
    "title",
    "description",
    "link",
    "image_link",
    "brand",
    "gtin",
    "mpn",
    "condition",
    "availability",
    "currency",
    "item_group_id",
    # Numbers as the text they were given in ("" or null: empty), so garbage is reported
    # and messages show the value as written.
    "price",
    "sale_price",
    "shipping_fee",
    "inventory_quantity",
)
BLOCK_SCHEMA = pa.schema(
    [
        *(pa.field(n, pa.string()) for n in _TEXT),
        pa.field("additional_image_links", pa.list_(pa.string())),
        # Lower-cased keys of custom_attributes; null when it is not a mapping.
        pa.field("attribute_keys", pa.list_(pa.string())),
    ]
)
ISSUE_SCHEMA = pa.schema(
    [
        ("row", pa.int64()),
        ("code", pa.string()),
        ("severity", pa.string()),
        ("field", pa.string()),
        ("message", pa.string()),
        ("how_to_fix", pa.string()),
        ("rule", pa.string()),
    ]
)

# Python's \w, \s and the characters between words, in RE2 syntax.
_W = r"\pL\pN_"
_SPACE = (
    r"\t\n\x0b\f\r \x1c-\x1f\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}"
    r"\x{202f}\x{205f}\x{3000}"
)
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_URL_RE = (
    r"(?i)^[a-z][a-z0-9+.-]*://"  # scheme
    rf"(?:[^{_SPACE}/?#@]+@)?"  # userinfo
    rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9a-f:.]+\])"  # host name or [IPv6]
    r"(?::[0-9]{1,5})?"  # port
    rf"(?:[/?#][^{_SPACE}]*)?$"
)
_SCHEME_RE = r"^[a-zA-Z][a-zA-Z0-9+.-]*:"
_HTTP_RE = r"(?i)^https?:"
# The path (before any ? or #) ends in an image type.
_IMAGE_RE = r"(?i)^[^#?]*\.(?:jpe?g|png|gif|webp|bmp|tiff?)(?:[#?]|$)"
# Emoji and pictographic symbols (incl. flags, variation selector 16 and ZWJ).
_EMOJI_RE = (
    r"[\x{1f000}-\x{1faff}\x{2600}-\x{27bf}\x{2b00}-\x{2bff}"
    r"\x{231a}\x{231b}\x{23e9}-\x{23fa}\x{fe0f}\x{200d}]"
)
# "!!", "??", "?!", "$$$", "***", "....": more than an ellipsis or one mark. RE2 has no
# back-references: one alternative per repeated symbol.
_REPEATED = "|".join(re.escape(c) + "{3,}" for c in "*#$%@~^=+|<>_")
_PUNCT_RE = f"(?P<m>[!?¡¿]{{2,}}|{_REPEATED}|\\.{{4,}}|,{{2,}})"
_NUMBER_RE = r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
_GTIN_SHAPE_RE = r"^(?:[0-9]{8}|[0-9]{12,14})$"
_GTIN_WEIGHTS = np.array([3, 1] * 6 + [3], dtype=np.int64)  # 13 digits left of the check


def _words_pattern(words: Sequence[str]) -> str:
    """Words in order, whole, anything but word characters between them. Each word is
    escaped: an admin's term is text, never a pattern."""
    return f"[^{_W}]+".join(re.escape(w) for w in words)


def _whole(inner: str) -> str:
    return f"(?i)(?:^|[^{_W}])(?:{inner})(?:[^{_W}]|$)"


@dataclass
class ReviewContext:
    """Everything the rules need besides the products, compiled once per review run.

    ``duplicate_ids`` are the normalised ids (:func:`normalize_id`) shared by two products
    of the catalog: the engine never looks across rows, so a product's review does not
    depend on which block it is in."""

    currency: str = ""
    terms: Sequence[PolicyTermSpec] = ()
    title_max_length: int = 150
    description_max_length: int = 5000
    caps_min_letters: int = 8
    duplicate_ids: frozenset[str] = frozenset()
    _terms: list[tuple[PolicyTermSpec, str]] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        self.currency = (self.currency or "").strip().upper()
        seen: set[tuple[str, ...]] = set()
        for spec in self.terms:
            words = tuple(tokenize(spec.term))
            if words and words not in seen:  # the first entry of the same words wins
                seen.add(words)
                self._terms.append((spec, _words_pattern(words)))
        self.any_term_re = _whole("|".join(p for _, p in self._terms)) if self._terms else ""
        self._dups = pa.array(sorted(self.duplicate_ids), pa.string())


@dataclass
class BlockReview:
    """The review of a block: per row Unavailable or not, and the issues in order."""

    unavailable: np.ndarray  # bool, one per row
    issues: pa.Table  # ISSUE_SCHEMA, ordered by row then rule order

    def statuses(self) -> list[str]:
        return ["unavailable" if u else "available" for u in self.unavailable]

    def issues_per_row(self) -> list[list[Issue]]:
        out: list[list[Issue]] = [[] for _ in range(len(self.unavailable))]
        for r in self.issues.to_pylist():
            row = r.pop("row")
            out[row].append(Issue(**r))
        return out


# --- column helpers ---------------------------------------------------------


def _str(a) -> pa.Array:
    return pc.fill_null(a, "")


def _trim(a) -> pa.Array:
    return pc.utf8_trim_whitespace(_str(a))


def _empty(a) -> np.ndarray:
    return _np(pc.equal(pc.utf8_length(a), 0))


def _np(mask) -> np.ndarray:
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)


def _match(a, pattern: str) -> np.ndarray:
    return _np(pc.match_substring_regex(a, pattern))


def _cut(a, n: int = 60) -> pa.Array:
    longer = pc.greater(pc.utf8_length(a), n)
    return pc.if_else(
        longer, pc.binary_join_element_wise(pc.utf8_slice_codeunits(a, 0, n - 1), "…", ""), a
    )


def _fmt(*parts) -> pa.Array:
    """Element-wise concatenation of string arrays and constants."""
    return pc.binary_join_element_wise(
        *(pa.scalar(p, pa.string()) if isinstance(p, str) else p for p in parts), ""
    )


def _decimal_text(values: list[str | None]) -> list[str]:
    """Numbers written as ``Decimal`` writes them (what the seller typed, normalised)."""
    return [str(Decimal((v or "").strip())) for v in values]


def _numbers(a) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(empty, valid, value) of a column of numbers as text."""
    raw = pc.fill_null(a, "")
    empty = _empty(raw)
    t = pc.utf8_trim_whitespace(raw)
    valid = _match(t, _NUMBER_RE)
    value = pc.cast(pc.if_else(pa.array(valid), t, pa.scalar(None, pa.string())), pa.float64())
    return empty, valid & ~empty, pc.fill_null(value, 0.0).to_numpy(zero_copy_only=False)


def _fixed_width_digits(a: pa.Array, width: int) -> np.ndarray:
    """(n, width) digit matrix of a string array whose values are all ``width`` ASCII
    digits, read from the array's data buffer without a Python loop."""
    n = len(a)
    a = pa.concat_arrays([a]) if a.offset else a
    if n == 0:
        return np.zeros((0, width), dtype=np.int64)
    offsets = np.frombuffer(a.buffers()[1], dtype=np.int32)[: n + 1]
    data = np.frombuffer(a.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[0] + n * width]
    return data.reshape(n, width).astype(np.int64) - 48


def gtin_check(gtins) -> tuple[np.ndarray, np.ndarray]:
    """(invalid, reserved) per GTIN of a string array: invalid unless 8/12/13/14 digits
    (spaces and hyphens ignored) with a correct GS1 mod-10 check digit and not all zeros;
    reserved when a valid 12+ digit GTIN starts with 2 (store-internal) or 98/99."""
    g = pc.replace_substring(pc.replace_substring(_trim(gtins), " ", ""), "-", "")
    shape = _match(g, _GTIN_SHAPE_RE)
    g14 = pc.if_else(pa.array(shape), pc.utf8_lpad(g, 14, "0"), "0" * 14)
    d = _fixed_width_digits(g14, 14)
    check_ok = (10 - (d[:, :13] @ _GTIN_WEIGHTS) % 10) % 10 == d[:, 13]
    invalid = ~shape | ~check_ok | (d == 0).all(axis=1)
    long = _np(pc.greater(pc.utf8_length(g), 8))
    reserved = ~invalid & long & ((d[:, 1] == 2) | ((d[:, 1] == 9) & (d[:, 2] >= 8)))
    return invalid, reserved


def url_check(urls, *, image: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(not_http, invalid, not_image_type) per URL of a string array, disjoint: a URL with
    another scheme is not_http; one that is not a well-formed http(s) URL invalid; with
    ``image``, a well-formed one whose path does not end in an image type not_image_type."""
    u = _trim(urls)
    scheme = _match(u, _SCHEME_RE)
    not_http = scheme & ~_match(u, _HTTP_RE)
    invalid = ~not_http & (~scheme | ~_match(u, _URL_RE))
    not_image = np.zeros(len(u), dtype=bool)
    if image:
        not_image = ~not_http & ~invalid & ~_match(u, _IMAGE_RE)
    return not_http, invalid, not_image


# --- the review -------------------------------------------------------------


class _Issues:
    """Collects the issues rule by rule; ``slot`` is the rule's place in the order."""

    def __init__(self, n: int):
        self.n = n
        self.parts: list[pa.Table] = []
        self.errors = np.zeros(n, dtype=bool)

    def add(
        self,
        slot: int,
        code: str,
        mask: np.ndarray,
        message: Callable[[pa.Array], Any] | str,
        *,
        fld: str = "",
        severity: str = "",
        how: str = "",
        rule: str = "",
    ) -> None:
        if not mask.any():
            return
        info = RULES[code]
        rows = pa.array(np.flatnonzero(mask), pa.int64())
        k = len(rows)
        msg = message if isinstance(message, str) else message(rows)
        if isinstance(msg, list):
            msg = pa.array(msg, pa.string())
        severity = severity or info.severity
        if severity == ERROR:
            self.errors |= mask
        cols = {
            "row": rows,
            "code": pa.array([code] * k, pa.string()),
            "severity": pa.array([severity] * k, pa.string()),
            "field": pa.array([fld or info.field] * k, pa.string()),
            "message": msg if isinstance(msg, pa.Array) else pa.array([msg] * k, pa.string()),
            "how_to_fix": pa.array([how or info.how_to_fix] * k, pa.string()),
            "rule": pa.array([rule or code] * k, pa.string()),
            "slot": pa.array(np.full(k, slot, dtype=np.int64)),
        }
        self.parts.append(pa.table(cols))

    def result(self) -> BlockReview:
        if not self.parts:
            return BlockReview(self.errors, ISSUE_SCHEMA.empty_table())
        t = pa.concat_tables(self.parts, promote_options="permissive")
        t = t.sort_by([("row", "ascending"), ("slot", "ascending")]).drop_columns(["slot"])
        return BlockReview(self.errors, t.cast(ISSUE_SCHEMA))


def review_block(block: pa.Table, ctx: ReviewContext) -> BlockReview:
    """The review of every product of ``block`` (columns of :data:`BLOCK_SCHEMA`)."""
    block = block.select(BLOCK_SCHEMA.names).cast(BLOCK_SCHEMA).combine_chunks()
    n = block.num_rows
    col = {
        name: block.column(name).chunk(0) if block.column(name).num_chunks else pa.array([], t)
        for name, t in zip(BLOCK_SCHEMA.names, BLOCK_SCHEMA.types, strict=True)
    }
    out = _Issues(n)
    add = out.add

    def take(a):
        return lambda rows: pc.take(a, rows)

    sku, title, description = _str(col["sku"]), _str(col["title"]), _str(col["description"])
    link, image_link = _str(col["link"]), _str(col["image_link"])

    # Required fields and duplicate ids.
    no_sku = _empty(_trim(sku))
    add(1, "missing_sku", no_sku, "The product has no id.")
    if ctx.duplicate_ids:
        dup = _np(pc.is_in(pc.utf8_lower(_trim(sku)), value_set=ctx._dups)) & ~no_sku
        add(
            1,
            "duplicate_id",
            dup,
            lambda r: _fmt(
                "Another product in this catalog also has the id “", pc.take(sku, r), "”."
            ),
        )
    add(2, "missing_title", _empty(_trim(title)), "The product has no title.")
    add(3, "missing_description", _empty(_trim(description)), "The product has no description.")

    # Links.
    for slot, name, text, image in ((4, "link", link, False), (5, "image_link", image_link, True)):
        missing = _empty(_trim(text))
        not_http, invalid, not_image = url_check(text, image=image)
        label = "image link" if image else "link"
        cut = take(_cut(text))
        add(
            slot,
            f"missing_{name}",
            missing,
            f"The product has no {label}."
            if image
            else "The product has no link to its page in your shop.",
        )
        add(
            slot,
            f"{name}_not_http",
            not_http & ~missing,
            lambda r, cut=cut, label=label: _fmt(
                f"The {label} “", cut(r), "” is not an http(s) address."
            ),
        )
        add(
            slot,
            f"{name}_invalid",
            invalid & ~missing,
            lambda r, cut=cut, label=label: _fmt(
                f"The {label} “", cut(r), "” is not a valid web address."
            ),
        )
        if image:
            add(
                slot,
                "image_link_not_image_type",
                not_image & ~missing,
                lambda r, cut=cut: _fmt(
                    "The image link “",
                    cut(r),
                    "” does not end in an image type such as .jpg or .png.",
                ),
            )
    extra = col["additional_image_links"]
    if n and pc.sum(pc.list_value_length(extra)).as_py():
        flat = _str(pc.list_flatten(extra))
        parents = pc.list_parent_indices(extra).to_numpy()
        not_http, invalid, not_image = url_check(flat, image=True)
        bad = not_http | invalid | not_image
        count = np.bincount(parents[bad], minlength=n)
        first_rows, first_at = np.unique(parents[bad], return_index=True)
        first = np.zeros(n, dtype=np.int64)
        first[first_rows] = np.flatnonzero(bad)[first_at]
        add(
            6,
            "additional_image_link_invalid",
            count > 0,
            lambda r: _fmt(
                pc.cast(pa.array(count[r.to_numpy()]), pa.string()),
                " additional image link(s) are not http(s) links to an image, e.g. “",
                _cut(pc.take(flat, pa.array(first[r.to_numpy()]))),
                "”.",
            ),
        )

    # Availability and condition.
    avail = _trim(col["availability"])
    no_avail = _empty(avail)
    add(7, "missing_availability", no_avail, "The product has no availability.")
    known = pc.is_in(
        pc.replace_substring(pc.utf8_lower(avail), "_", " "),
        value_set=pa.array(sorted(AVAILABILITY_VALUES)),
    )
    add(
        7,
        "availability_invalid",
        ~_np(known) & ~no_avail,
        lambda r: _fmt("“", _cut(pc.take(avail, r), 30), "” is not an availability."),
    )
    cond = _trim(col["condition"])
    known = pc.is_in(pc.utf8_lower(cond), value_set=pa.array(sorted(CONDITION_VALUES)))
    add(
        8,
        "condition_invalid",
        ~_np(known) & ~_empty(cond),
        lambda r: _fmt("“", _cut(pc.take(cond, r), 30), "” is not a condition."),
    )

    # Prices.
    raw_price, raw_sale = _str(col["price"]), _str(col["sale_price"])
    p_empty, p_ok, price = _numbers(raw_price)
    add(9, "missing_price", p_empty, "The product has no price.")
    add(
        9,
        "missing_price",
        ~p_empty & ~p_ok,
        lambda r: _fmt("The price “", _cut(pc.take(raw_price, r), 30), "” is not a number."),
    )
    add(
        9,
        "price_not_positive",
        p_ok & (price <= 0),
        lambda r: [
            f"The price is {v}; it must be above zero."
            for v in _decimal_text(pc.take(raw_price, r).to_pylist())
        ],
    )
    s_empty, s_ok, sale = _numbers(raw_sale)
    add(
        10,
        "sale_price_not_below_price",
        ~s_empty & ~s_ok,
        lambda r: _fmt("The sale price “", _cut(pc.take(raw_sale, r), 30), "” is not a number."),
    )
    add(
        11,
        "sale_price_not_below_price",
        s_ok & p_ok & (price > 0) & (sale >= price),
        lambda r: [
            f"The sale price {s} is not below the price {p}."
            for s, p in zip(
                _decimal_text(pc.take(raw_sale, r).to_pylist()),
                _decimal_text(pc.take(raw_price, r).to_pylist()),
                strict=True,
            )
        ],
    )
    if ctx.currency:
        cur = pc.utf8_upper(_trim(col["currency"]))
        add(
            12,
            "currency_mismatch",
            ~_empty(cur) & _np(pc.not_equal(cur, ctx.currency)),
            lambda r: _fmt(
                "The price is in ", pc.take(cur, r), f" but the catalog sells in {ctx.currency}."
            ),
        )
    raw_fee = _str(col["shipping_fee"])
    _, f_ok, fee = _numbers(raw_fee)
    add(
        13,
        "shipping_fee_negative",
        f_ok & (fee < 0),
        lambda r: [
            f"The shipping fee is {v}." for v in _decimal_text(pc.take(raw_fee, r).to_pylist())
        ],
    )
    qty = _str(col["inventory_quantity"])
    add(
        14,
        "inventory_negative",
        _np(pc.starts_with(qty, "-")),
        lambda r: _fmt("The inventory quantity is ", pc.take(qty, r), "."),
    )

    # Lengths.
    for slot, name, text, limit in (
        (15, "title", title, ctx.title_max_length),
        (16, "description", description, ctx.description_max_length),
    ):
        length = pc.utf8_length(text)
        add(
            slot,
            f"{name}_too_long",
            _np(pc.greater(length, limit)),
            lambda r, length=length, name=name, limit=limit: _fmt(
                f"The {name} has ",
                pc.cast(pc.take(length, r), pa.string()),
                f" characters; the limit is {limit}.",
            ),
        )

    # Identifiers (google/shoptimizer-style).
    gtin, brand = _trim(col["gtin"]), _trim(col["brand"])
    has_gtin, has_brand = ~_empty(gtin), ~_empty(brand)
    if has_gtin.any():
        invalid, reserved = gtin_check(gtin)
        add(
            17,
            "gtin_invalid",
            has_gtin & invalid,
            lambda r: _fmt(
                "“",
                _cut(pc.take(gtin, r), 30),
                "” is not a valid GTIN: it must have 8, 12, 13 or 14 digits and a correct "
                "check digit.",
            ),
        )
        add(
            17,
            "gtin_reserved",
            has_gtin & reserved,
            lambda r: _fmt("The GTIN ", pc.take(gtin, r), " is in a reserved range."),
        )
        add(18, "brand_missing", has_gtin & ~has_brand, "The product has a GTIN but no brand.")
    add(
        18,
        "identifier_missing",
        ~has_gtin & has_brand & _empty(_trim(col["mpn"])),
        lambda r: _fmt(
            "The brand is “", _cut(pc.take(brand, r), 30), "” but there is no GTIN or MPN."
        ),
    )

    # Variants without item_group_id (TikTok).
    keys = col["attribute_keys"]
    if n and pc.sum(pc.list_value_length(keys)).as_py():
        flat = _str(pc.list_flatten(keys))
        parents = pc.list_parent_indices(keys).to_numpy()
        names = []
        hit = np.zeros(n, dtype=bool)
        for attr in sorted(VARIANT_ATTRIBUTES):
            has = np.zeros(n, dtype=bool)
            has[parents[_np(pc.equal(flat, attr))]] = True
            hit |= has
            names.append(pc.if_else(pa.array(has), f"{attr}, ", ""))
        hit &= _empty(_trim(col["item_group_id"]))
        joined = pc.utf8_rtrim(_fmt(*names), ", ")  # attribute names have no "," or " "
        add(
            19,
            "variant_missing_item_group_id",
            hit,
            lambda r: _fmt(
                "The product has variant attributes (",
                pc.take(joined, r),
                ") but no item_group_id.",
            ),
        )

    # Title style.
    add(
        20,
        "title_has_emoji",
        _match(title, _EMOJI_RE),
        "The title contains emojis or pictographic symbols.",
    )
    caps = _np(pc.utf8_is_upper(title)) & _np(
        pc.greater_equal(pc.count_substring_regex(title, r"\pL"), ctx.caps_min_letters)
    )
    add(21, "policy_all_caps_title", caps, "The title is written entirely in capital letters.")
    add(
        22,
        "policy_excessive_punctuation",
        _match(title, _PUNCT_RE),
        lambda r: _fmt(
            "The title contains “",
            pc.struct_field(pc.extract_regex(pc.take(title, r), _PUNCT_RE), [0]),
            "”.",
        ),
    )

    # Policy terms and denied claims: each term once, where it first appears.
    if ctx._terms and n:
        _policy(ctx, out, title, description)
    return out.result()


def _policy(ctx: ReviewContext, out: _Issues, title: pa.Array, description: pa.Array) -> None:
    n, k = out.n, len(ctx._terms)
    found = [np.zeros(n, dtype=bool) for _ in ctx._terms]
    for f_idx, (fld, text) in enumerate((("title", title), ("description", description))):
        # One pass of the terms' alternation picks the few rows worth a look per term.
        candidates = np.flatnonzero(_match(text, ctx.any_term_re))
        if not len(candidates):
            continue
        sub = pc.take(text, pa.array(candidates))
        for t_idx, (spec, pattern) in enumerate(ctx._terms):
            mask = np.zeros(n, dtype=bool)
            mask[candidates[_match(sub, _whole(pattern))]] = True
            mask &= ~found[t_idx]
            found[t_idx] |= mask
            code, msg, severity, how = _policy_issue(spec, fld)
            out.add(
                100 + f_idx * k + t_idx,
                code,
                mask,
                msg,
                fld=fld,
                severity=severity,
                how=how,
                rule=f"policy.{spec.kind}:{spec.term}",
            )


def _policy_issue(spec: PolicyTermSpec, fld: str) -> tuple[str, str, str, str]:
    cat = f" ({spec.category})" if spec.category else ""
    if spec.kind == DENIED_CLAIM:
        code = "policy_denied_claim"
        msg = f"The {fld} makes the claim “{spec.term}”{cat}, which ads may not make."
    elif spec.kind == PROHIBITED:
        code = "policy_prohibited_term"
        msg = f"The {fld} contains “{spec.term}”, a prohibited term{cat}."
    else:
        code = "policy_restricted_term"
        msg = f"The {fld} contains “{spec.term}”, a restricted term{cat}."
    info = RULES[code]
    severity = spec.severity if spec.severity in SEVERITIES else info.severity
    return code, msg, severity, spec.how_to_fix or info.how_to_fix


# --- plain mappings into a block ----------------------------------------------


def _text(v: Any) -> str:
    """A field as text: feeds are data, and a number or list where text belongs is
    reviewed as its text rather than crashing the review."""
    if v is None:
        return ""
    return v if isinstance(v, str) else str(v)


def _number_text(v: Any) -> str | None:
    if v is None or (isinstance(v, str) and v == ""):
        return None
    if isinstance(v, Decimal | float) and not isinstance(v, bool):
        try:
            return str(v) if isinstance(v, Decimal) else repr(v)
        except (InvalidOperation, ValueError):  # pragma: no cover - str() of a Decimal
            return "NaN"
    return _text(v)


def _links(v: Any) -> list[str] | None:
    if not v:
        return None
    if isinstance(v, str):
        return [x for x in v.split(",") if x.strip()]
    if isinstance(v, list | tuple):
        return [_text(x) if x is not None else "None" for x in v]
    return [_text(v)]


def block_from_products(products: Sequence[Mapping[str, Any]]) -> pa.Table:
    """A block from mappings with the field names of ``catalogs.Product`` (missing keys
    count as empty; any value type is accepted and reviewed as its text)."""
    cols: dict[str, list] = {name: [] for name in BLOCK_SCHEMA.names}
    for p in products:
        get = p.get
        for name in (
            "sku",
            "title",
            "description",
            "link",
            "image_link",
            "brand",
            "gtin",
            "mpn",
            "condition",
            "availability",
            "currency",
            "item_group_id",
        ):
            cols[name].append(_text(get(name)))
        for name in ("price", "sale_price", "shipping_fee"):
            cols[name].append(_number_text(get(name)))
        q = get("inventory_quantity")
        cols["inventory_quantity"].append(
            str(q) if isinstance(q, int) and not isinstance(q, bool) else None
        )
        cols["additional_image_links"].append(_links(get("additional_image_links")))
        attrs = get("custom_attributes")
        cols["attribute_keys"].append(
            [str(k).lower() for k in attrs] if attrs and isinstance(attrs, Mapping) else None
        )
    return pa.table(cols, schema=BLOCK_SCHEMA)


def review_products(products: Sequence[Mapping[str, Any]], ctx: ReviewContext) -> BlockReview:
    """:func:`review_block` of plain mappings (a seller's edit, tests)."""
    return review_block(block_from_products(products), ctx)
