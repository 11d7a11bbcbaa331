"""Table-driven tests of the pure metric rules (no database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flagged import conditions
from flagged.scoring import (
    DEFAULT_POLICIES,
    METRICS,
    Counts,
    FlagStatus,
    Level,
    Metric,
    OrderFacts,
    Policy,
    PolicyError,
    classify,
    evaluate,
    fee_is_high,
    format_percent,
    metric_counts,
    next_status,
    policy_validate,
    reason_text,
    reasons,
    worst_level,
)

NOW = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
D = Decimal


def order(days_ago: float, **kw) -> OrderFacts:
    placed = NOW - timedelta(days=days_ago)
    kw.setdefault("ship_by", placed + timedelta(days=2))
    return OrderFacts(placed_at=placed, **kw)


def shipped(days_ago: float, late: bool = False, tracking: str | None = "1Z", **kw) -> OrderFacts:
    placed = NOW - timedelta(days=days_ago)
    ship_by = placed + timedelta(days=2)
    at = ship_by + timedelta(hours=1) if late else ship_by - timedelta(hours=1)
    return OrderFacts(
        placed_at=placed, ship_by=ship_by, shipped_at=at, tracking_number=tracking, **kw
    )


def cancelled(days_ago: float, reason: str) -> OrderFacts:
    placed = NOW - timedelta(days=days_ago)
    return OrderFacts(
        placed_at=placed,
        ship_by=placed + timedelta(days=2),
        cancelled_at=placed + timedelta(hours=3),
        cancel_reason=reason,
    )


# ---------------------------------------------------------------- formulas


FORMULA_CASES = [
    # (id, metric, orders, expected numerator, expected denominator)
    ("oos none", Metric.OOS_CANCELLATION, [shipped(5), shipped(6)], 0, 2),
    (
        "oos counts only out_of_stock",
        Metric.OOS_CANCELLATION,
        [
            cancelled(5, "out_of_stock"),
            cancelled(5, "buyer_request"),
            cancelled(4, "other"),
            shipped(3),
        ],
        1,
        4,
    ),
    (
        "oos outside window ignored",
        Metric.OOS_CANCELLATION,
        [cancelled(31, "out_of_stock"), shipped(3)],
        0,
        1,
    ),
    ("oos window start inclusive", Metric.OOS_CANCELLATION, [cancelled(30, "out_of_stock")], 1, 1),
    ("future order ignored", Metric.OOS_CANCELLATION, [cancelled(-1, "out_of_stock")], 0, 0),
    # overdue: ship_by passed, not shipped, not cancelled
    (
        "overdue",
        Metric.OVERDUE_UNSHIPPED,
        [order(5), order(1), shipped(5), cancelled(5, "other")],
        1,
        4,
    ),
    (
        "overdue boundary: ship_by == now is not overdue",
        Metric.OVERDUE_UNSHIPPED,
        [OrderFacts(placed_at=NOW - timedelta(days=1), ship_by=NOW)],
        0,
        1,
    ),
    (
        "overdue boundary: one second past",
        Metric.OVERDUE_UNSHIPPED,
        [OrderFacts(placed_at=NOW - timedelta(days=1), ship_by=NOW - timedelta(seconds=1))],
        1,
        1,
    ),
    # late dispatch over shipped orders only
    ("late", Metric.LATE_DISPATCH, [shipped(5, late=True), shipped(5), shipped(6), order(9)], 1, 3),
    (
        "late boundary: shipped exactly at ship_by is on time",
        Metric.LATE_DISPATCH,
        [
            OrderFacts(
                placed_at=NOW - timedelta(days=3),
                ship_by=NOW - timedelta(days=1),
                shipped_at=NOW - timedelta(days=1),
            )
        ],
        0,
        1,
    ),
    ("late no shipped orders", Metric.LATE_DISPATCH, [order(1)], 0, 0),
    # valid tracking over shipped orders; blank tracking does not count
    (
        "tracking",
        Metric.VALID_TRACKING,
        [shipped(2), shipped(2, tracking=""), shipped(3, tracking="   "), order(1)],
        1,
        3,
    ),
    # unknown tracking (None: the order file has no tracking column) is left out of the
    # population; a known empty one still counts against the rate
    (
        "tracking unknown is not counted",
        Metric.VALID_TRACKING,
        [shipped(2), shipped(2, tracking=None), shipped(3, tracking=""), order(1)],
        1,
        2,
    ),
    (
        "tracking all unknown: no population",
        Metric.VALID_TRACKING,
        [shipped(d, tracking=None) for d in range(1, 21)],
        0,
        0,
    ),
    # high fee: above 20.00 or above 25% of item value (quantity counts)
    (
        "fee",
        Metric.HIGH_SHIPPING_FEE,
        [
            order(1, item_price=D("10"), shipping_fee=D("2.50")),  # exactly 25%: not high
            order(1, item_price=D("10"), shipping_fee=D("2.51")),  # high
            order(1, item_price=D("10"), quantity=2, shipping_fee=D("5")),  # 25% of 20: not high
            order(1, item_price=D("500"), shipping_fee=D("20.00")),  # amount boundary: not high
            order(1, item_price=D("500"), shipping_fee=D("20.01")),  # high (amount)
        ],
        2,
        5,
    ),
]


# The window is the policy's days on the tenant's clock. New York moved its clocks forward on
# 8 March 2026: at 12:00 EDT on 5 April (16:00 UTC) the last 30 days started at 12:00 EST on
# 6 March, 17:00 UTC, which is 719 hours back, not 720.
DST_NOW = datetime(2026, 4, 5, 16, 0, tzinfo=UTC)
NEW_YORK = ZoneInfo("America/New_York")
WINDOW_CASES = [
    # (id, tenant time zone, placed at, counts)
    ("local start, inclusive", NEW_YORK, datetime(2026, 3, 6, 17, 0, tzinfo=UTC), True),
    ("local: an hour before the start", NEW_YORK, datetime(2026, 3, 6, 16, 30, tzinfo=UTC), False),
    ("UTC: 720 hours back still in", UTC, datetime(2026, 3, 6, 16, 30, tzinfo=UTC), True),
    ("UTC start, inclusive", UTC, datetime(2026, 3, 6, 16, 0, tzinfo=UTC), True),
    ("UTC: just before the start", UTC, datetime(2026, 3, 6, 15, 59, 59, tzinfo=UTC), False),
    ("now, inclusive", NEW_YORK, DST_NOW, True),
    ("after now", NEW_YORK, DST_NOW + timedelta(seconds=1), False),
]


@pytest.mark.parametrize(
    ("tz", "placed_at", "counted"),
    [c[1:] for c in WINDOW_CASES],
    ids=[c[0] for c in WINDOW_CASES],
)
def test_window_is_days_on_the_tenants_clock(tz, placed_at, counted):
    order = OrderFacts(placed_at=placed_at, ship_by=placed_at + timedelta(days=2))
    policy = DEFAULT_POLICIES[Metric.OOS_CANCELLATION]
    counts = metric_counts(Metric.OOS_CANCELLATION, [order], now=DST_NOW, policy=policy, tz=tz)
    assert counts.denominator == int(counted)


@pytest.mark.parametrize(
    ("metric", "orders", "num", "den"),
    [c[1:] for c in FORMULA_CASES],
    ids=[c[0] for c in FORMULA_CASES],
)
def test_metric_counts(metric, orders, num, den):
    counts = metric_counts(metric, orders, now=NOW, policy=DEFAULT_POLICIES[metric])
    assert counts == Counts(num, den)


@pytest.mark.parametrize(
    ("ratio", "amount", "fee", "price", "expected"),
    [
        (D("25"), None, D("2.50"), D("10"), False),
        (D("25"), None, D("2.51"), D("10"), True),
        (None, D("5"), D("5"), D("1"), False),
        (None, D("5"), D("5.01"), D("1000"), True),
        (None, None, D("999"), D("1"), False),
        (D("0"), None, D("0.01"), D("10"), True),
        (D("0"), None, D("0"), D("10"), False),
    ],
)
def test_fee_is_high(ratio, amount, fee, price, expected):
    policy = replace(
        DEFAULT_POLICIES[Metric.HIGH_SHIPPING_FEE], fee_ratio_percent=ratio, fee_amount=amount
    )
    o = order(1, item_price=price, shipping_fee=fee)
    assert fee_is_high(o, policy) is expected


def test_counts_reject_impossible():
    with pytest.raises(ValueError):
        Counts(3, 2)
    with pytest.raises(ValueError):
        Counts(-1, 2)
    assert Counts(0, 0).rate is None
    assert Counts(1, 8).rate == Fraction(25, 2)


# ----------------------------------------------------------- classification

LOWER = Policy(Metric.LATE_DISPATCH, min_orders=10, at_risk_threshold=D("2"), target=D("4"))
HIGHER = Policy(Metric.VALID_TRACKING, min_orders=10, at_risk_threshold=D("97"), target=D("95"))

CLASSIFY_CASES = [
    # lower is better, target 4%, at risk from 2%
    ("lower 0%", LOWER, 0, 100, Level.OK),
    ("lower just under band", LOWER, 199, 10000, Level.OK),
    ("lower at-risk threshold is at risk", LOWER, 2, 100, Level.AT_RISK),
    ("lower inside band", LOWER, 3, 100, Level.AT_RISK),
    ("lower at target meets target", LOWER, 4, 100, Level.AT_RISK),
    ("lower just over target", LOWER, 401, 10000, Level.IMPACTED),
    ("lower 12%", LOWER, 12, 100, Level.IMPACTED),
    ("lower 100%", LOWER, 10, 10, Level.IMPACTED),
    ("lower below min orders", LOWER, 9, 9, Level.OK),
    ("lower at min orders", LOWER, 10, 10, Level.IMPACTED),
    ("lower no orders", replace(LOWER, min_orders=0), 0, 0, Level.OK),
    ("lower disabled", replace(LOWER, enabled=False), 10, 10, Level.OK),
    # 1/30 = 3.33% – exact comparison, no float rounding
    ("lower thirds", replace(LOWER, at_risk_threshold=D("3.33")), 1, 30, Level.AT_RISK),
    ("lower thirds 2", replace(LOWER, at_risk_threshold=D("3.34")), 1, 30, Level.OK),
    # higher is better, target 95%, at risk up to 97%
    ("higher 100%", HIGHER, 100, 100, Level.OK),
    ("higher just above band", HIGHER, 9701, 10000, Level.OK),
    ("higher at threshold is at risk", HIGHER, 97, 100, Level.AT_RISK),
    ("higher in band", HIGHER, 96, 100, Level.AT_RISK),
    ("higher at target meets target", HIGHER, 95, 100, Level.AT_RISK),
    ("higher just below target", HIGHER, 9499, 10000, Level.IMPACTED),
    ("higher 0%", HIGHER, 0, 20, Level.IMPACTED),
    ("higher below min orders", HIGHER, 0, 9, Level.OK),
    # no order against the metric: never flagged, even by a threshold at 0 % or 100 %
    (
        "lower none against, at risk from 0",
        replace(LOWER, at_risk_threshold=D("0")),
        0,
        50,
        Level.OK,
    ),
    (
        "lower none against, target 0",
        replace(LOWER, at_risk_threshold=D("0"), target=D("0")),
        0,
        50,
        Level.OK,
    ),
    (
        "lower one against, target 0",
        replace(LOWER, at_risk_threshold=D("0"), target=D("0")),
        1,
        50,
        Level.IMPACTED,
    ),
    (
        "lower one against, at risk from 0",
        replace(LOWER, at_risk_threshold=D("0")),
        1,
        50,
        Level.AT_RISK,
    ),
    (
        "higher none against, at risk to 100",
        replace(HIGHER, at_risk_threshold=D("100")),
        50,
        50,
        Level.OK,
    ),
    (
        "higher one against, at risk to 100",
        replace(HIGHER, at_risk_threshold=D("100")),
        49,
        50,
        Level.AT_RISK,
    ),
    (
        "higher none against, target 100",
        replace(HIGHER, at_risk_threshold=D("100"), target=D("100")),
        50,
        50,
        Level.OK,
    ),
    (
        "higher equal band collapses",
        replace(HIGHER, at_risk_threshold=D("95")),
        95,
        100,
        Level.AT_RISK,
    ),
]


@pytest.mark.parametrize(
    ("policy", "num", "den", "expected"),
    [c[1:] for c in CLASSIFY_CASES],
    ids=[c[0] for c in CLASSIFY_CASES],
)
def test_classify(policy, num, den, expected):
    assert classify(Counts(num, den), policy) == expected


@given(
    num=st.integers(0, 500),
    extra=st.integers(0, 500),
    risk=st.decimals(0, 100, places=2),
    gap=st.decimals(0, 100, places=2),
)
def test_classify_lower_matches_float_definition(num, extra, risk, gap):
    den = num + extra
    target = min(risk + gap, D(100))
    policy = Policy(Metric.LATE_DISPATCH, min_orders=1, at_risk_threshold=risk, target=target)
    level = classify(Counts(num, den), policy)
    if den == 0:
        assert level == Level.OK
        return
    value = Fraction(100 * num, den)
    if value > Fraction(target):
        assert level == Level.IMPACTED
    elif value >= Fraction(risk) and num > 0:  # no order against it: never flagged
        assert level == Level.AT_RISK
    else:
        assert level == Level.OK


def test_worst_level():
    assert worst_level([]) == Level.OK
    assert worst_level([Level.OK, Level.AT_RISK]) == Level.AT_RISK
    assert worst_level([Level.AT_RISK, Level.IMPACTED, Level.OK]) == Level.IMPACTED


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"target": D("101")}, "between 0 and 100"),
        ({"at_risk_threshold": D("-1")}, "between 0 and 100"),
        ({"at_risk_threshold": D("5"), "target": D("4")}, "at or below the target"),
        ({"window_days": 0}, "window_days"),
        ({"window_days": 366}, "window_days"),
        ({"window_days": 1_000_000}, "window_days"),  # would overflow the window's start
        ({"min_orders": 0}, "min_orders"),
    ],
)
def test_policy_validate_lower(changes, message):
    with pytest.raises(PolicyError, match=message):
        policy_validate(replace(LOWER, **changes))


def test_policy_validate_higher_and_fee():
    with pytest.raises(PolicyError, match="at or above"):
        policy_validate(replace(HIGHER, at_risk_threshold=D("90")))
    fee = DEFAULT_POLICIES[Metric.HIGH_SHIPPING_FEE]
    with pytest.raises(PolicyError, match="fee ratio"):
        policy_validate(replace(fee, fee_ratio_percent=None, fee_amount=None))
    for p in DEFAULT_POLICIES.values():
        policy_validate(p)
    policy_validate(replace(LOWER, window_days=365))


@pytest.mark.parametrize(
    ("ratio", "amount", "message"),
    [
        (D("-1"), None, "fee ratio"),  # every order's fee is above -1 % of its value
        (None, D("-0.01"), "fee amount"),  # and above -0.01: every product Impacted
        (D("25"), D("-5"), "fee amount"),
    ],
)
def test_policy_validate_refuses_negative_fee_limits(ratio, amount, message):
    fee = DEFAULT_POLICIES[Metric.HIGH_SHIPPING_FEE]
    with pytest.raises(PolicyError, match=message):
        policy_validate(replace(fee, fee_ratio_percent=ratio, fee_amount=amount))


def test_published_default_targets():
    assert DEFAULT_POLICIES[Metric.LATE_DISPATCH].target == D("4")
    assert DEFAULT_POLICIES[Metric.OOS_CANCELLATION].target == D("2.5")
    assert DEFAULT_POLICIES[Metric.VALID_TRACKING].target == D("95")
    assert all(p.window_days == 30 for p in DEFAULT_POLICIES.values())


# ------------------------------------------------------------ state machine

S = FlagStatus
L = Level
DAY = timedelta(days=1)

STATE_CASES = [
    # (id, current, level, status age, expected)
    ("none stays none", S.NONE, L.OK, None, S.NONE),
    ("none -> at risk", S.NONE, L.AT_RISK, None, S.AT_RISK),
    ("none -> impacted", S.NONE, L.IMPACTED, None, S.IMPACTED),
    ("at risk stays", S.AT_RISK, L.AT_RISK, 3 * DAY, S.AT_RISK),
    ("at risk -> impacted", S.AT_RISK, L.IMPACTED, DAY, S.IMPACTED),
    ("at risk -> resolved", S.AT_RISK, L.OK, DAY, S.RESOLVED),
    ("impacted stays", S.IMPACTED, L.IMPACTED, DAY, S.IMPACTED),
    ("impacted -> at risk", S.IMPACTED, L.AT_RISK, DAY, S.AT_RISK),
    ("impacted -> resolved", S.IMPACTED, L.OK, DAY, S.RESOLVED),
    ("resolved stays before expiry", S.RESOLVED, L.OK, 7 * DAY - timedelta(seconds=1), S.RESOLVED),
    ("resolved expires at exactly N days", S.RESOLVED, L.OK, 7 * DAY, S.NONE),
    ("resolved expires after N days", S.RESOLVED, L.OK, 30 * DAY, S.NONE),
    ("resolved flagged again at risk", S.RESOLVED, L.AT_RISK, DAY, S.AT_RISK),
    ("resolved flagged again impacted", S.RESOLVED, L.IMPACTED, 30 * DAY, S.IMPACTED),
]
# (id, current, level, expected): a product removed from its catalog
REMOVED_CASES = [
    ("removed impacted", S.IMPACTED, L.IMPACTED, S.NONE),
    ("removed at risk", S.AT_RISK, L.AT_RISK, S.NONE),
    ("removed while impacted, no orders left", S.IMPACTED, L.OK, S.NONE),
    ("removed resolved, before expiry", S.RESOLVED, L.OK, S.NONE),
    ("removed never flagged", S.NONE, L.IMPACTED, S.NONE),
]


@pytest.mark.parametrize(
    ("current", "level", "age", "expected"),
    [c[1:] for c in STATE_CASES],
    ids=[c[0] for c in STATE_CASES],
)
def test_next_status(current, level, age, expected):
    since = None if age is None else NOW - age
    assert (
        next_status(current=current, level=level, status_since=since, now=NOW, resolved_days=7)
        == expected
    )


@pytest.mark.parametrize(
    ("current", "level", "expected"),
    [c[1:] for c in REMOVED_CASES],
    ids=[c[0] for c in REMOVED_CASES],
)
def test_next_status_of_a_product_removed_from_its_catalog(current, level, expected):
    assert (
        next_status(
            current=current,
            level=level,
            status_since=NOW - DAY,
            now=NOW,
            resolved_days=7,
            in_catalog=False,
        )
        == expected
    )


# ----------------------------------------------------------------- wording


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Fraction(12), "12%"),
        (Fraction(5, 2), "2.5%"),
        (Fraction(100, 3), "33.3%"),
        (Fraction(0), "0%"),
        (D("95"), "95%"),
        (D("2.50"), "2.5%"),
        (None, "n/a"),
    ],
)
def test_format_percent(value, text):
    assert format_percent(value) == text


# (value, thresholds it is read against, text): half up as a spreadsheet rounds, and more
# decimals where one would show a value equal to a threshold it is not on
PERCENT_NEAR_THRESHOLD_CASES = [
    ("half up", Fraction(9, 4), (), "2.3%"),
    ("half up 2", Fraction(1, 8), (), "0.1%"),
    ("just over the target", Fraction(101, 25), (D("4"), D("2")), "4.04%"),
    ("further over the target", Fraction(1001, 250), (D("4"),), "4.004%"),
    ("just under the at-risk threshold", Fraction(199, 100), (D("4"), D("2")), "1.99%"),
    ("just under a target of 95", Fraction(9499, 100), (D("95"), D("97")), "94.99%"),
    ("on the target", Fraction(4), (D("4"),), "4%"),
    ("one decimal is apart", Fraction(41, 10), (D("4"),), "4.1%"),
    ("a fractional target", Fraction(251, 100), (D("2.5"),), "2.51%"),
    ("no rate", None, (D("4"),), "n/a"),
]


@pytest.mark.parametrize(
    ("value", "thresholds", "text"),
    [c[1:] for c in PERCENT_NEAR_THRESHOLD_CASES],
    ids=[c[0] for c in PERCENT_NEAR_THRESHOLD_CASES],
)
def test_format_percent_near_a_threshold(value, thresholds, text):
    assert format_percent(value, thresholds=thresholds) == text


def test_reason_text_never_shows_a_missed_target_as_met():
    """101 overdue of 2,500 orders is 4.04 %: Impacted, so not '4% (target 4%)'."""
    policy = DEFAULT_POLICIES[Metric.OVERDUE_UNSHIPPED]
    counts = Counts(101, 2500)
    assert classify(counts, policy) == Level.IMPACTED
    assert reason_text(Metric.OVERDUE_UNSHIPPED, counts, policy) == (
        "Overdue unshipped rate 4.04% (target 4%)"
    )


def test_reason_text_matches_issue_example():
    policy = DEFAULT_POLICIES[Metric.OVERDUE_UNSHIPPED]
    assert (
        reason_text(Metric.OVERDUE_UNSHIPPED, Counts(12, 100), policy)
        == "Overdue unshipped rate 12% (target 4%)"
    )


def test_evaluate_and_reasons_worst_first():
    results = evaluate(
        {
            Metric.OVERDUE_UNSHIPPED: Counts(3, 100),  # at risk
            Metric.VALID_TRACKING: Counts(80, 100),  # impacted
            Metric.LATE_DISPATCH: Counts(0, 100),
        },
        DEFAULT_POLICIES,
    )
    assert [r.metric for r in results] == list(Metric)
    assert worst_level([r.level for r in results]) == Level.IMPACTED
    assert reasons(results) == [
        "Valid tracking rate 80% (target 95%)",
        "Overdue unshipped rate 3% (target 4%)",
    ]


# ------------------------------------------------------- definitions language

C = conditions
FEE = DEFAULT_POLICIES[Metric.HIGH_SHIPPING_FEE]
LATE = C.Cmp(C.Col("shipped_at"), ">", C.Col("ship_by"))
CONDITION_CASES = [
    # (id, condition, order, policy, Python result, SQL text)
    ("late", LATE, shipped(3, late=True), FEE, True, "o.shipped_at > o.ship_by"),
    ("NULL compares unknown", LATE, order(3), FEE, None, "o.shipped_at > o.ship_by"),
    ("NOT unknown is unknown", C.Not(LATE), order(3), FEE, None, "NOT (o.shipped_at > o.ship_by)"),
    (
        "AND: false beats unknown",
        C.all_of(LATE, C.not_null("shipped_at")),
        order(3),
        FEE,
        False,
        "o.shipped_at > o.ship_by AND o.shipped_at IS NOT NULL",
    ),
    (
        "OR without any set part is false",
        C.any_of(C.IfSet("fee_amount", LATE)),
        shipped(3, late=True),
        replace(FEE, fee_amount=None),
        False,
        "FALSE",
    ),
    (
        "a pattern reads alike in Python and SQL",
        C.Matches(C.Col("tracking_number"), r"\A[^\u0001-\u001f]+\Z"),
        shipped(3, tracking="1Z\t"),
        FEE,
        False,
        r"o.tracking_number ~ '\A[^\u0001-\u001f]+\Z'",
    ),
    (
        "a pattern is unknown on NULL",
        C.Matches(C.Col("tracking_number"), "x"),
        shipped(3, tracking=None),
        FEE,
        None,
        "o.tracking_number ~ 'x'",
    ),
    (
        "settings are named parameters",
        C.Cmp(C.Col("shipping_fee"), ">", C.Setting("fee_amount")),
        order(3, shipping_fee=D("20.01")),
        FEE,
        True,
        "o.shipping_fee > %(fee_fee_amount)s",
    ),
]


@pytest.mark.parametrize(
    ("cond", "facts", "policy", "result", "sql"),
    [c[1:] for c in CONDITION_CASES],
    ids=[c[0] for c in CONDITION_CASES],
)
def test_condition_reads_the_same_in_python_and_sql(cond, facts, policy, result, sql):
    assert cond.test(facts, C.Ctx(now=NOW, policy=policy)) is result
    assert cond.sql(C.Ctx(now=None, policy=policy, prefix="fee")) == sql


def test_a_pattern_is_sqlites_regexp_there_and_refuses_quotes():
    cond = C.Matches(C.Col("tracking_number"), "x")
    ctx = C.Ctx(now=None, policy=FEE, vendor="sqlite")
    assert cond.sql(ctx) == "o.tracking_number REGEXP 'x'"
    for pattern in ("it's", "100%"):
        with pytest.raises(ValueError):
            C.Matches(C.Col("tracking_number"), pattern)


def test_against_is_the_complement_for_higher_is_better():
    tracking = METRICS[Metric.VALID_TRACKING]
    ctx = C.Ctx(now=NOW, policy=DEFAULT_POLICIES[Metric.VALID_TRACKING])
    assert tracking.against.test(shipped(3, tracking="  "), ctx) is True
    assert tracking.against.test(shipped(3, tracking="1Z"), ctx) is False
    # an unknown tracking number is outside the population: never listed as one to fix
    assert tracking.population.test(shipped(3, tracking=None), ctx) is False
    assert METRICS[Metric.LATE_DISPATCH].against is METRICS[Metric.LATE_DISPATCH].counted


@pytest.mark.parametrize(
    ("metric", "num", "den", "against"),
    [
        (Metric.LATE_DISPATCH, 3, 40, 3),  # lower is better: the counted ones are to fix
        (Metric.OVERDUE_UNSHIPPED, 0, 40, 0),
        (Metric.VALID_TRACKING, 84, 105, 21),  # higher is better: the ones not counted
        (Metric.VALID_TRACKING, 105, 105, 0),
        (Metric.VALID_TRACKING, 0, 0, 0),
    ],
)
def test_orders_against_a_metric(metric, num, den, against):
    result = next(
        r for r in evaluate({metric: Counts(num, den)}, DEFAULT_POLICIES) if r.metric == metric
    )
    assert result.against_count == against
