"""Shipping overdue orders late turns them into late dispatch: View details says so."""

from dataclasses import replace
from decimal import Decimal

import pytest

from flagged.scoring import DEFAULT_POLICIES, METRICS, Counts, Level, Metric, MetricResult, classify
from flagged.views import late_shipping_preview

LATE = DEFAULT_POLICIES[Metric.LATE_DISPATCH]


def _results(overdue: tuple[int, int], late: tuple[int, int], late_policy=LATE):
    out = []
    for metric in METRICS:
        policy = late_policy if metric == Metric.LATE_DISPATCH else DEFAULT_POLICIES[metric]
        counts = Counts(0, 0)
        if metric == Metric.OVERDUE_UNSHIPPED:
            counts = Counts(*overdue)
        elif metric == Metric.LATE_DISPATCH:
            counts = Counts(*late)
        out.append(MetricResult(metric, counts, classify(counts, policy), policy))
    return out


@pytest.mark.parametrize(
    ("overdue", "late", "expected"),
    [
        ((0, 40), (0, 40), None),  # nothing overdue: nothing to say
        ((4, 40), (0, 36), (4, (4, 40), Level.IMPACTED)),  # 10% late > 4% target
        ((1, 100), (0, 99), (1, (1, 100), Level.OK)),  # 1% still meets the target
        ((3, 100), (0, 97), (3, (3, 100), Level.AT_RISK)),  # 3%: inside the at-risk band
        ((2, 50), (1, 10), (2, (3, 12), Level.IMPACTED)),
    ],
)
def test_late_shipping_preview(overdue, late, expected):
    got = late_shipping_preview(_results(overdue, late))
    if expected is None:
        assert got is None
        return
    orders, after, level = expected
    assert (got.orders, (got.after.numerator, got.after.denominator)) == (orders, after)
    assert got.level_after == level


def test_too_few_shipped_orders_say_so():
    policy = replace(LATE, min_orders=20)
    got = late_shipping_preview(_results((2, 5), (0, 3), late_policy=policy))
    assert not got.counted_after and got.outcome == "still too few shipped orders to count"


def test_late_dispatch_switched_off_says_nothing():
    policy = replace(LATE, enabled=False)
    assert late_shipping_preview(_results((2, 40), (0, 38), late_policy=policy)) is None


def test_texts():
    got = late_shipping_preview(_results((4, 40), (0, 36)))
    assert got.after_text == "10%" and got.before_text == "0%"
    assert got.outcome.startswith("misses its target")
    assert got.policy.target == Decimal("4")
