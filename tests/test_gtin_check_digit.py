"""feeds restores a UPC-A's dropped leading zero only when review will call the result a
valid GTIN: feeds' scalar check-digit rule answers as review's vectorised one does (feeds
may not import review's rules, so each app holds its own form of the GS1 rule)."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import example, given
from hypothesis import strategies as st

from ecr.rules.columns import gtin_check
from feeds import parsing as p

GS1_LENGTHS = st.sampled_from([8, 12, 13, 14])


@given(GS1_LENGTHS.flatmap(lambda n: st.text("0123456789", min_size=n, max_size=n)))
@example("012345678905")
@example("000000000000")
@example("4006381333931")
def test_the_feeds_check_digit_rule_is_reviews(gtin):
    invalid, _ = gtin_check(pa.array([gtin]))
    assert p._gs1_check_digit_ok(gtin) == (not invalid[0])


@given(st.text("0123456789", min_size=11, max_size=11))
@example("12345678905")
@example("00000000000")
def test_an_eleven_digit_gtin_is_padded_only_into_one_review_accepts(digits):
    read = p.parse_gtin(digits)
    invalid, _ = gtin_check(pa.array(["0" + digits]))
    assert read == ("0" + digits if not invalid[0] else digits)
