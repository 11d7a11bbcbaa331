"""Column checks in RE2 (through ``pyarrow.compute``) and numpy: the building blocks of the
review engine, each over a whole column at once.

RE2 differs from Python's ``re`` in ways that matter here, so the patterns spell out what
they mean: a word character is ``[\\pL\\pM\\pN_]`` (Python's ``\\w`` and the combining marks),
``\\s`` is Python's whitespace set, ``\\d`` is ``[0-9]``. Case-insensitive matching is
Unicode simple case folding (``ß`` does not match ``ss``).
"""

from __future__ import annotations

import re
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from catalogs.rules import IMAGE_PATH_PATTERN

# Word characters: Python's \w and the combining marks, which belong to the letter before
# them (an accent not composed with its letter, the vowel signs of Indic scripts): cutting a
# word at one would make fragments that match short terms.
_W = r"\pL\pM\pN_"
WORD_CHARS = _W  # as the inside of an RE2 character class
# Characters a reader does not see (Unicode's default ignorables: format characters such as
# the zero-width space and joiners, the soft hyphen, the word joiner, bidi marks; the
# combining grapheme joiner, variation selectors, Hangul fillers): removed before terms are
# matched, so that one inside a word cannot hide a term.
IGNORABLE_RE = (
    r"[\p{Cf}\x{34f}\x{115f}\x{1160}\x{17b4}\x{17b5}\x{180b}-\x{180f}\x{3164}"
    r"\x{fe00}-\x{fe0f}\x{ffa0}\x{e0100}-\x{e01ef}]+"
)
_SPACE = (
    r"\t\n\x0b\f\r \x1c-\x1f\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}"
    r"\x{202f}\x{205f}\x{3000}"
)
# A host name's label, letters of any script included: browsers and ad channels take
# international domain names ("bücher.example") as typed, not only in their xn-- form.
# Any character but ASCII's non-alphanumerics and the spaces (a class that names Unicode's
# letters would cost RE2 tenths of a second to compile, case-insensitive, at every call).
_NOT_HOST = r"\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}"
_HOST_CHAR = rf"[^\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f{_NOT_HOST}]"
_HOST_CHAR_OR_HYPHEN = rf"[^\x00-\x2c\x2e\x2f\x3a-\x40\x5b-\x60\x7b-\x7f{_NOT_HOST}]"
_LABEL = rf"{_HOST_CHAR}(?:{_HOST_CHAR_OR_HYPHEN}{{0,61}}{_HOST_CHAR})?"
_PORT = r"(?:[0-9]{1,4}|[0-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
_AFTER_SCHEME = (
    rf"(?:[^{_SPACE}/?#@]+@)?"  # userinfo
    rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9a-f:.]+\])"  # host name or [IPv6]
    rf"(?::{_PORT})?"  # port, 0 to 65535
    rf"(?:[/?#][^{_SPACE}]*)?$"
)
_URL_RE = r"(?i)^[a-z][a-z0-9+.-]*://" + _AFTER_SCHEME
# a well-formed http(s) URL: what most URLs are, found in one pass
_HTTP_URL_RE = r"(?i)^https?://" + _AFTER_SCHEME
_SCHEME_RE = r"^[a-zA-Z][a-zA-Z0-9+.-]*:"
_HTTP_RE = r"(?i)^https?:"
# The path (before any ? or #) ends in an image type.
_IMAGE_RE = IMAGE_PATH_PATTERN  # (the pages' rule too: one rule for an image link)
# Emoji and pictographic symbols (incl. flags, variation selector 16 and ZWJ).
EMOJI_RE = (
    r"[\x{1f000}-\x{1faff}\x{2600}-\x{27bf}\x{2b00}-\x{2bff}"
    r"\x{231a}\x{231b}\x{23e9}-\x{23fa}\x{fe0f}\x{200d}]"
)
# "!!", "??", "?!", "$$$", "***", "....": more than an ellipsis or one mark. RE2 has no
# back-references: one alternative per repeated symbol.
_REPEATED = "|".join(re.escape(c) + "{3,}" for c in "*#$%@~^=+|<>_")
PUNCT_RE = f"(?P<m>[!?¡¿]{{2,}}|{_REPEATED}|\\.{{4,}}|,{{2,}})"
_NUMBER_RE = r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
_GTIN_SHAPE_RE = r"^(?:[0-9]{8}|[0-9]{12,14})$"
_GTIN_WEIGHTS = np.array([3, 1] * 6 + [3], dtype=np.int64)  # 13 digits left of the check


def match_form(a) -> pa.Array:
    """Text as policy terms are matched in it, i.e. as a reader reads it: without the
    characters nobody sees (:data:`IGNORABLE_RE`), in Unicode compatibility form (NFKC:
    full-width and mathematical letters, ligatures, an accent composed with its letter) and
    lower-cased. ASCII text is its own match form but for case."""
    visible = pc.replace_substring_regex(as_text(a), IGNORABLE_RE, "")
    return pc.utf8_lower(pc.utf8_normalize(visible, "NFKC"))


def words_text(a) -> pa.Array:
    """Text as its words: in match form (:func:`match_form`), each run of non-word
    characters one space, with a space at both ends. A sequence of whole words is then a
    plain substring (``" weight loss "``), whatever separated the words and whatever their
    case."""
    spaced = pc.replace_substring_regex(match_form(a), f"[^{_W}]+", " ")
    return pc.binary_join_element_wise(" ", spaced, " ", "")


# --- column helpers ---------------------------------------------------------


def as_text(a) -> pa.Array:
    return pc.fill_null(a, "")


def trimmed(a) -> pa.Array:
    return pc.utf8_trim_whitespace(as_text(a))


def is_empty(a) -> np.ndarray:
    # the length in bytes comes from the offsets; in characters it would read every byte
    return to_mask(pc.equal(pc.binary_length(a), 0))


def to_mask(mask) -> np.ndarray:
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)


def matches(a, pattern: str) -> np.ndarray:
    return to_mask(pc.match_substring_regex(a, pattern))


def cut(a, n: int = 60) -> pa.Array:
    longer = pc.greater(pc.utf8_length(a), n)
    return pc.if_else(
        longer, pc.binary_join_element_wise(pc.utf8_slice_codeunits(a, 0, n - 1), "…", ""), a
    )


def concat(*parts) -> pa.Array:
    """Element-wise concatenation of string arrays and constants."""
    return pc.binary_join_element_wise(
        *(pa.scalar(p, pa.string()) if isinstance(p, str) else p for p in parts), ""
    )


def text_lengths(a, limit: int) -> pa.Array:
    """The length of each text in characters as it reads: code points of its NFC form, so
    an accent written as a combining mark after its letter (as macOS often writes it)
    counts once with its letter. Exact wherever it can pass ``limit``: ASCII is its own
    NFC, and NFC at most triples a text, so only the other texts longer than a third of
    ``limit`` are normalised."""
    length = pc.utf8_length(a)
    recount = np.flatnonzero(
        ~to_mask(pc.string_is_ascii(a)) & to_mask(pc.greater(length, limit // 3))
    )
    if not len(recount):
        return length
    rows = pa.array(recount)
    out = length.to_numpy(zero_copy_only=False).copy()
    out[recount] = pc.utf8_length(pc.utf8_normalize(pc.take(a, rows), "NFC")).to_numpy()
    return pa.array(out, length.type)


def decimal_texts(values: list[str | None]) -> list[str]:
    """Numbers written as ``Decimal`` writes them (what the seller typed, normalised)."""
    return [str(Decimal((v or "").strip())) for v in values]


def numbers(a) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(empty, valid, value) of a column of numbers as text."""
    raw = pc.fill_null(a, "")
    empty = is_empty(raw)
    t = pc.utf8_trim_whitespace(raw)
    valid = matches(t, _NUMBER_RE)
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
    g = pc.replace_substring(pc.replace_substring(trimmed(gtins), " ", ""), "-", "")
    shape = matches(g, _GTIN_SHAPE_RE)
    g14 = pc.if_else(pa.array(shape), pc.utf8_lpad(g, 14, "0"), "0" * 14)
    d = _fixed_width_digits(g14, 14)
    check_ok = (10 - (d[:, :13] @ _GTIN_WEIGHTS) % 10) % 10 == d[:, 13]
    invalid = ~shape | ~check_ok | (d == 0).all(axis=1)
    long = to_mask(pc.greater(pc.utf8_length(g), 8))
    reserved = ~invalid & long & ((d[:, 1] == 2) | ((d[:, 1] == 9) & (d[:, 2] >= 8)))
    return invalid, reserved


def url_check(urls, *, image: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(not_http, invalid, not_image_type) per URL of a string array, disjoint: a URL with
    another scheme is not_http; one that is not a well-formed http(s) URL invalid; with
    ``image``, a well-formed one whose path does not end in an image type not_image_type."""
    u = trimmed(urls)
    n = len(u)
    # a well-formed http(s) URL is neither (one pass); the others are told apart by scheme
    good = matches(u, _HTTP_URL_RE)
    not_http, invalid = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    if rest := np.flatnonzero(~good).tolist():
        r = pc.take(u, pa.array(rest, pa.int64()))
        scheme = matches(r, _SCHEME_RE)
        not_http[rest] = scheme & ~matches(r, _HTTP_RE)
        invalid[rest] = ~not_http[rest] & (~scheme | ~matches(r, _URL_RE))
    not_image = np.zeros(n, dtype=bool)
    if image:
        not_image = good & ~matches(u, _IMAGE_RE)
    return not_http, invalid, not_image
