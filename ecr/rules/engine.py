"""The review engine: every rule once, over the Arrow columns of a block of products.

A block is a ``pyarrow.Table`` with the columns of :data:`BLOCK_SCHEMA` (a catalog chunk
read from PostgreSQL, or :func:`block_from_products` for plain mappings; a seller's edit is
a block of one). :func:`review_block` returns per row whether it is Unavailable (an error)
and one table of issues ordered by row, then by the rules' fixed order (the order below;
policy terms: title before description, then the order of the terms in the context).

Regular expressions run through ``pyarrow.compute`` (RE2: linear time, no backtracking on
hostile feed text); the GTIN check digit is a matrix product over the digits. Python
touches only the few rows whose message needs a ``Decimal`` written as the seller typed it.

The column checks and patterns are in :mod:`.columns`, the block's columns in
:mod:`.blocks`.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .blocks import BLOCK_SCHEMA, block_from_products
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
    plural_forms,
    tokenize,
)
from .columns import (
    EMOJI_RE,
    PUNCT_RE,
    WORD_CHARS,
    as_text,
    concat,
    cut,
    decimal_texts,
    gtin_check,
    is_empty,
    match_form,
    matches,
    numbers,
    text_lengths,
    to_mask,
    trimmed,
    url_check,
    words_text,
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
        # A term is its words (tokenize: what admin validation requires), normalised like
        # the text (words_text) so that it is a plain substring of the text it occurs in:
        # its characters are never a pattern.
        specs = [s for s in self.terms if tokenize(s.term)]
        normalised = words_text(pa.array([s.term for s in specs], pa.string())).to_pylist()
        seen: set[str] = set()
        for spec, spaced in zip(specs, normalised, strict=True):
            words = f" {spaced.strip()} "
            if words.strip() and words not in seen:  # the first entry of the same words wins
                seen.add(words)
                self._terms.append((spec, words))
        # A term also matches with the last of its words in the plural (plural_forms), so
        # each term is looked for as a few word sequences (grams): its own words first, so
        # that a plural that is itself on the list is that entry, then its plurals.
        grams_of = [[w.split()] for _, w in self._terms]
        own = {" ".join(g[0]) for g in grams_of}
        for g in grams_of:
            *head, last = g[0]
            g += [[*head, p] for p in plural_forms(last) if " ".join([*head, p]) not in own]
        # One pass over the text in match form for every term's longest word (in each of
        # its forms), as a whole word (an alternation of literals between non-word
        # characters: RE2's DFA), finds the few rows worth splitting into words. A term's
        # words occur as whole words of the text wherever the term does, so no row with a
        # term is left out; a word inside a longer one ("weight" in "lightweight") no
        # longer makes every row a candidate.
        longest: set[str] = set()
        for g in grams_of:
            at = max(range(len(g[0])), key=lambda i, g=g: len(g[0][i]))
            longest.update(form[at] for form in g)
        words = "|".join(re.escape(w) for w in sorted(longest))
        self.any_term_re = f"(?:^|[^{WORD_CHARS}])(?:{words})(?:[^{WORD_CHARS}]|$)" if words else ""
        # The grams by their number of words, as the words joined by one space, with their
        # term's place in _terms: a row's words are looked up n at a time (_term_rows). A
        # gram already taken (the same plural of two terms) stays with the first.
        by_length: dict[int, tuple[list[str], list[int]]] = {}
        taken: set[str] = set()
        for t_idx, g in enumerate(grams_of):
            for term_words in g:
                gram = " ".join(term_words)
                if gram in taken:
                    continue
                taken.add(gram)
                grams, places = by_length.setdefault(len(term_words), ([], []))
                grams.append(gram)
                places.append(t_idx)
        self._grams = {
            k: (pa.array(grams, pa.string()), np.array(places, dtype=np.int64))
            for k, (grams, places) in sorted(by_length.items())
        }
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

    sku, title = as_text(col["sku"]), as_text(col["title"])
    description = as_text(col["description"])
    link, image_link = as_text(col["link"]), as_text(col["image_link"])

    # Required fields and duplicate ids.
    no_sku = is_empty(trimmed(sku))
    add(1, "missing_sku", no_sku, "The product has no id.")
    if ctx.duplicate_ids:
        dup = to_mask(pc.is_in(pc.utf8_lower(trimmed(sku)), value_set=ctx._dups)) & ~no_sku
        add(
            1,
            "duplicate_id",
            dup,
            lambda r: concat(
                "Another product in this catalog also has the id “", pc.take(sku, r), "”."
            ),
        )
    add(2, "missing_title", is_empty(trimmed(title)), "The product has no title.")
    add(3, "missing_description", is_empty(trimmed(description)), "The product has no description.")

    # Links.
    for slot, name, text, image in ((4, "link", link, False), (5, "image_link", image_link, True)):
        missing = is_empty(trimmed(text))
        not_http, invalid, not_image = url_check(text, image=image)
        label = "image link" if image else "link"
        # shortened only for the rows a message shows, not for every link of the block
        shown = lambda r, text=text: cut(pc.take(text, r))  # noqa: E731
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
            lambda r, shown=shown, label=label: concat(
                f"The {label} “", shown(r), "” is not an http(s) address."
            ),
        )
        add(
            slot,
            f"{name}_invalid",
            invalid & ~missing,
            lambda r, shown=shown, label=label: concat(
                f"The {label} “", shown(r), "” is not a valid web address."
            ),
        )
        if image:
            add(
                slot,
                "image_link_not_image_type",
                not_image & ~missing,
                lambda r, shown=shown: concat(
                    "The image link “",
                    shown(r),
                    "” does not end in an image type such as .jpg or .png.",
                ),
            )
    extra = col["additional_image_links"]
    if n and pc.sum(pc.list_value_length(extra)).as_py():
        flat = as_text(pc.list_flatten(extra))
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
            lambda r: concat(
                pc.cast(pa.array(count[r.to_numpy()]), pa.string()),
                " additional image link(s) are not http(s) links to an image, e.g. “",
                cut(pc.take(flat, pa.array(first[r.to_numpy()]))),
                "”.",
            ),
        )

    # Availability and condition.
    avail = trimmed(col["availability"])
    no_avail = is_empty(avail)
    add(7, "missing_availability", no_avail, "The product has no availability.")
    known = pc.is_in(
        pc.replace_substring(pc.utf8_lower(avail), "_", " "),
        value_set=pa.array(sorted(AVAILABILITY_VALUES)),
    )
    add(
        7,
        "availability_invalid",
        ~to_mask(known) & ~no_avail,
        lambda r: concat("“", cut(pc.take(avail, r), 30), "” is not an availability."),
    )
    cond = trimmed(col["condition"])
    known = pc.is_in(pc.utf8_lower(cond), value_set=pa.array(sorted(CONDITION_VALUES)))
    add(
        8,
        "condition_invalid",
        ~to_mask(known) & ~is_empty(cond),
        lambda r: concat("“", cut(pc.take(cond, r), 30), "” is not a condition."),
    )

    # Prices.
    raw_price, raw_sale = as_text(col["price"]), as_text(col["sale_price"])
    p_empty, p_ok, price = numbers(raw_price)
    add(9, "missing_price", p_empty, "The product has no price.")
    add(
        9,
        "missing_price",
        ~p_empty & ~p_ok,
        lambda r: concat("The price “", cut(pc.take(raw_price, r), 30), "” is not a number."),
    )
    add(
        9,
        "price_not_positive",
        exact(p_ok & (price <= 0), lambda p: p <= 0, raw_price),
        lambda r: [
            f"The price is {v}; it must be above zero."
            for v in decimal_texts(pc.take(raw_price, r).to_pylist())
        ],
    )
    s_empty, s_ok, sale = numbers(raw_sale)
    add(
        10,
        "sale_price_not_below_price",
        ~s_empty & ~s_ok,
        lambda r: concat("The sale price “", cut(pc.take(raw_sale, r), 30), "” is not a number."),
    )
    add(
        10,
        "sale_price_not_positive",
        exact(s_ok & (sale <= 0), lambda s: s <= 0, raw_sale),
        lambda r: [
            f"The sale price is {v}; it must be above zero."
            for v in decimal_texts(pc.take(raw_sale, r).to_pylist())
        ],
    )
    add(
        11,
        "sale_price_not_below_price",
        exact(
            s_ok & p_ok & (price >= 0) & (sale >= price),
            lambda s, p: p > 0 and s >= p,
            raw_sale,
            raw_price,
        ),
        lambda r: [
            f"The sale price {s} is not below the price {p}."
            for s, p in zip(
                decimal_texts(pc.take(raw_sale, r).to_pylist()),
                decimal_texts(pc.take(raw_price, r).to_pylist()),
                strict=True,
            )
        ],
    )
    if ctx.currency:
        cur = pc.utf8_upper(trimmed(col["currency"]))
        add(
            12,
            "currency_mismatch",
            ~is_empty(cur) & to_mask(pc.not_equal(cur, ctx.currency)),
            lambda r: concat(
                "The price is in ", pc.take(cur, r), f" but the catalog sells in {ctx.currency}."
            ),
        )
    raw_fee = as_text(col["shipping_fee"])
    _, f_ok, fee = numbers(raw_fee)
    add(
        13,
        "shipping_fee_negative",
        exact(f_ok & (fee <= 0), lambda f: f < 0, raw_fee),
        lambda r: [
            f"The shipping fee is {v}." for v in decimal_texts(pc.take(raw_fee, r).to_pylist())
        ],
    )
    qty = as_text(col["inventory_quantity"])
    add(
        14,
        "inventory_negative",
        to_mask(pc.starts_with(qty, "-")),
        lambda r: concat("The inventory quantity is ", pc.take(qty, r), "."),
    )

    # Lengths.
    for slot, name, text, limit in (
        (15, "title", title, ctx.title_max_length),
        (16, "description", description, ctx.description_max_length),
    ):
        length = text_lengths(text, limit)
        add(
            slot,
            f"{name}_too_long",
            to_mask(pc.greater(length, limit)),
            lambda r, length=length, name=name, limit=limit: concat(
                f"The {name} has ",
                pc.cast(pc.take(length, r), pa.string()),
                f" characters; the limit is {limit}.",
            ),
        )

    # Identifiers (google/shoptimizer-style).
    gtin, brand = trimmed(col["gtin"]), trimmed(col["brand"])
    has_gtin, has_brand = ~is_empty(gtin), ~is_empty(brand)
    if has_gtin.any():
        invalid, reserved = gtin_check(gtin)
        add(
            17,
            "gtin_invalid",
            has_gtin & invalid,
            lambda r: concat(
                "“",
                cut(pc.take(gtin, r), 30),
                "” is not a valid GTIN: it must have 8, 12, 13 or 14 digits and a correct "
                "check digit.",
            ),
        )
        add(
            17,
            "gtin_reserved",
            has_gtin & reserved,
            lambda r: concat("The GTIN ", pc.take(gtin, r), " is in a reserved range."),
        )
        add(18, "brand_missing", has_gtin & ~has_brand, "The product has a GTIN but no brand.")
    add(
        18,
        "identifier_missing",
        ~has_gtin & has_brand & is_empty(trimmed(col["mpn"])),
        lambda r: concat(
            "The brand is “", cut(pc.take(brand, r), 30), "” but there is no GTIN or MPN."
        ),
    )

    # Variants without item_group_id (TikTok).
    keys = col["attribute_keys"]
    if n and pc.sum(pc.list_value_length(keys)).as_py():
        flat = as_text(pc.list_flatten(keys))
        parents = pc.list_parent_indices(keys).to_numpy()
        names = []
        hit = np.zeros(n, dtype=bool)
        for attr in sorted(VARIANT_ATTRIBUTES):
            has = np.zeros(n, dtype=bool)
            has[parents[to_mask(pc.equal(flat, attr))]] = True
            hit |= has
            names.append(pc.if_else(pa.array(has), f"{attr}, ", ""))
        hit &= is_empty(trimmed(col["item_group_id"]))
        joined = pc.utf8_rtrim(concat(*names), ", ")  # attribute names have no "," or " "
        add(
            19,
            "variant_missing_item_group_id",
            hit,
            lambda r: concat(
                "The product has variant attributes (",
                pc.take(joined, r),
                ") but no item_group_id.",
            ),
        )

    # Title style.
    add(
        20,
        "title_has_emoji",
        matches(title, EMOJI_RE),
        "The title contains emojis or pictographic symbols.",
    )
    # Counting letters is the dear part: only for the titles already all upper-case. Only
    # capitals count: letters without case (CJK, Arabic, Hebrew …) are no shouting, and a
    # title in them with a Latin acronym is not written in capitals.
    caps = to_mask(pc.utf8_is_upper(title))
    if caps.any():
        upper = np.flatnonzero(caps)
        letters = pc.count_substring_regex(pc.take(title, pa.array(upper)), r"[\p{Lu}\p{Lt}]")
        caps[upper] = to_mask(pc.greater_equal(letters, ctx.caps_min_letters))
    add(21, "policy_all_caps_title", caps, "The title is written entirely in capital letters.")
    add(
        22,
        "policy_excessive_punctuation",
        matches(title, PUNCT_RE),
        lambda r: concat(
            "The title contains “",
            pc.struct_field(pc.extract_regex(pc.take(title, r), PUNCT_RE), [0]),
            "”.",
        ),
    )

    # Policy terms and denied claims: each term once, where it first appears.
    if ctx._terms and n:
        _policy(ctx, out, title, description)
    return out.result()


def exact(mask: np.ndarray, holds: Callable[..., bool], *raw: pa.Array) -> np.ndarray:
    """``mask`` narrowed to the rows where ``holds`` is true of the numbers as ``Decimal``.
    The float comparisons that make ``mask`` are never stricter than exact ones (rounding
    is monotonic), so only the few rows they select need the exact check ("1e-400" is
    above zero, though its float is 0)."""
    rows = np.flatnonzero(mask)
    if not len(rows):
        return mask
    idx = pa.array(rows)
    values = [[Decimal(v.strip()) for v in pc.take(a, idx).to_pylist()] for a in raw]
    out = np.zeros_like(mask)
    out[rows] = [holds(*vs) for vs in zip(*values, strict=True)]
    return out


def _policy(ctx: ReviewContext, out: _Issues, title: pa.Array, description: pa.Array) -> None:
    n, k = out.n, len(ctx._terms)
    found = [np.zeros(n, dtype=bool) for _ in ctx._terms]
    for f_idx, (fld, text) in enumerate((("title", title), ("description", description))):
        candidates = np.flatnonzero(term_candidates(text, ctx.any_term_re))
        if not len(candidates):
            continue
        lists, rows = _row_words(pc.take(text, pa.array(candidates)))
        rows_of_term = _term_rows(lists, ctx)
        for t_idx, (spec, _) in enumerate(ctx._terms):
            mask = np.zeros(n, dtype=bool)
            mask[candidates[rows[rows_of_term[t_idx]]]] = True
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


# each ASCII character as words_text leaves it: a word character in lower case, else a space
_ASCII_WORDS = np.full(256, ord(" "), dtype=np.uint8)
for _c in string.ascii_letters + string.digits + "_":
    _ASCII_WORDS[ord(_c)] = ord(_c.lower())


def _row_words(text: pa.Array) -> tuple[pa.ListArray, np.ndarray]:
    """The words of each row of ``text`` as words_text splits it (empty words at the ends
    aside), one list per row, and the row of ``text`` each list is. ASCII rows are mapped
    byte by byte and split at runs of spaces, without the regular expression that
    words_text runs once per separator; the others go through words_text."""
    is_ascii = to_mask(pc.string_is_ascii(text))
    ascii_rows, other_rows = np.flatnonzero(is_ascii), np.flatnonzero(~is_ascii)
    parts = []
    if len(ascii_rows):
        plain = pc.take(text, pa.array(ascii_rows)).cast(pa.string())
        validity, offsets, data = plain.buffers()
        if data is not None:  # (None when every row is empty)
            data = pa.py_buffer(_ASCII_WORDS[np.frombuffer(data, np.uint8)])
        mapped = pa.Array.from_buffers(
            pa.string(), len(plain), [validity, offsets, data], offset=plain.offset
        )
        parts.append(pc.ascii_split_whitespace(mapped))
    if len(other_rows):
        parts.append(pc.split_pattern(words_text(pc.take(text, pa.array(other_rows))), " "))
    lists = pa.concat_arrays(parts) if parts else pa.array([], pa.list_(pa.string()))
    return lists, np.concatenate([ascii_rows, other_rows])


def _term_rows(lists: pa.ListArray, ctx: ReviewContext) -> list[np.ndarray]:
    """For each term of ``ctx``, the rows of ``lists`` (each row's words: _row_words) in
    which it occurs, i.e. its words are consecutive words of the row. The words are
    looked up by hash, n at a time for the terms of n words: a few passes over the text
    instead of a substring search of every row for every term."""
    flat = pc.list_flatten(lists)
    row_of = pc.list_parent_indices(lists).to_numpy()
    rows, terms = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
    for k, (grams, places) in ctx._grams.items():
        m = len(flat) - k + 1  # word sequences of k words that start at each word
        if m <= 0:
            continue
        parts = [flat.slice(j, m) for j in range(k)]
        seq = parts[0] if k == 1 else pc.binary_join_element_wise(*parts, " ")
        at = pc.fill_null(pc.index_in(seq, value_set=grams), -1).to_numpy()
        hit = at >= 0
        if k > 1:  # all k words in the same row
            hit &= row_of[:m] == row_of[k - 1 :]
        starts = np.flatnonzero(hit)
        rows.append(row_of[starts])
        terms.append(places[at[starts]])
    row, term = np.concatenate(rows), np.concatenate(terms)
    order = np.argsort(term, kind="stable")
    bounds = np.searchsorted(term[order], np.arange(len(ctx._terms) + 1))
    return [row[order[bounds[t] : bounds[t + 1]]] for t in range(len(ctx._terms))]


def term_candidates(text: pa.Array, pattern: str) -> np.ndarray:
    """The rows whose text in match form (:func:`match_form`) matches ``pattern`` (a term
    pattern of the context), possibly with a few more. ASCII text is its own match form but
    for case, and is matched case-insensitively instead: its letters fold only to each
    other, so every row the lower-cased match finds is found (a term letter folding to an
    ASCII one, "ſ" to "s", only adds candidates, which the words are checked against),
    without a copy of the text. Other rows are put in match form first, as Unicode's case
    mapping and RE2's case folding differ outside ASCII ("İ" lowers to "i" but does not
    fold to it), and so that invisible characters and compatibility forms hide nothing."""
    is_ascii = to_mask(pc.string_is_ascii(text))
    if is_ascii.all():
        return to_mask(pc.match_substring_regex(text, pattern, ignore_case=True))
    if not is_ascii.any():
        return matches(match_form(text), pattern)
    mask = np.zeros(len(text), dtype=bool)
    ascii_rows, other_rows = np.flatnonzero(is_ascii), np.flatnonzero(~is_ascii)
    plain = pc.take(text, pa.array(ascii_rows))
    mask[ascii_rows] = to_mask(pc.match_substring_regex(plain, pattern, ignore_case=True))
    mask[other_rows] = matches(match_form(pc.take(text, pa.array(other_rows))), pattern)
    return mask


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


def review_products(products: Sequence[Mapping[str, Any]], ctx: ReviewContext) -> BlockReview:
    """:func:`review_block` of plain mappings (a seller's edit, tests)."""
    return review_block(block_from_products(products), ctx)
