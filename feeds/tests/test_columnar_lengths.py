"""The length and NUL checks of validation take shortcuts over the bytes of a block's
columns (feeds.columnar._longer_than, _has_nul): they must give what the full checks
give, whatever the text, nulls and slicing."""

import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds import columnar

values = st.lists(
    st.one_of(
        st.none(),
        st.text(max_size=12),  # any code point, NUL and multi-byte ones included
        st.text(st.sampled_from("é€😀a\x00"), max_size=12),
    ),
    max_size=30,
)


def _arrays(items: list, cut: int, large: bool):
    """The values as an array, a slice of a longer one (an offset into its buffers) and
    a chunked array."""
    kind = pa.large_string() if large else pa.string()
    whole = pa.array(["\x00padding€", *items, "tail\x00"], kind)
    sliced = whole.slice(1, len(items))
    plain = pa.array(items, kind)
    chunks = pa.chunked_array([plain.slice(0, cut), plain.slice(cut)], kind)
    return plain, sliced, chunks


@settings(max_examples=300, deadline=None)
@given(values, st.integers(0, 40), st.integers(0, 30), st.booleans())
def test_the_length_check_gives_the_character_count_mask(items, limit, cut, large):
    for a in _arrays(items, min(cut, len(items)), large):
        expected = pc.greater(pc.utf8_length(a), limit)
        got = columnar._longer_than(a, limit)
        assert got.to_pylist() == expected.to_pylist()


@settings(max_examples=300, deadline=None)
@given(values, st.integers(0, 30), st.booleans())
def test_the_nul_scan_finds_a_nul_exactly_when_a_value_has_one(items, cut, large):
    for a in _arrays(items, min(cut, len(items)), large):
        expected = any(v is not None and "\x00" in v for v in items)
        assert columnar._has_nul(a) is expected


def test_a_value_over_the_limit_in_characters_only_where_its_bytes_are_is_found():
    """Multi-byte characters: bytes over the limit, characters not (and then both)."""
    a = pa.array(["é" * 10, "a" * 10, "é" * 11, None])
    assert columnar._longer_than(a, 10).to_pylist() == [False, False, True, None]
    assert columnar._longer_than(a, 25).to_pylist() == [False, False, False, None]
