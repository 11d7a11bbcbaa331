"""Pure seller-metric rules: formulas, classification, status and transitions.

No ORM and no settings here, so a table of cases tests every rule. ``METRICS`` is the one
table of metric definitions: the formulas here, the set-based scoring SQL
(``flagged.scoring_sql``) and the details page's orders (``flagged.selectors``) are all
generated from its conditions, and ``BANDS`` gives the levels to both ``classify`` and the
SQL; ``flagged/tests/test_scoring_service.py`` checks Python and SQL agree on random orders.

Conventions (documented in the README section "Flagged products"):

* Every rate is a percentage of a count: ``value = 100 * numerator / denominator``.
  Comparisons are exact (integers and ``Decimal``), never floats, so a value that
  equals a threshold always lands on the same side.
* Lower-is-better metrics (cancellations, overdue, late, high fee): the value
  *meets* the target when ``value <= target``; it is **At risk** from the at-risk
  threshold up (``at_risk_threshold <= value <= target``) and **Impacted** above the
  target. The at-risk threshold is below the target.
* Higher-is-better metrics (valid tracking): mirror image. Impacted below the
  target, At risk when ``target <= value <= at_risk_threshold`` (threshold above
  the target), safe above the threshold.
* A metric with fewer counting orders than ``min_orders`` (or disabled) is not
  evaluated and counts as safe.
* A metric with no order against it (0 % for lower-is-better, 100 % for higher-is-better)
  is safe, whatever the at-risk threshold.
"""

from __future__ import annotations

import enum
import math
import operator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from fractions import Fraction

from catalogs.rules import TRACKING_VALID_PATTERN

from .conditions import (
    ALWAYS,
    Cmp,
    Col,
    Cond,
    Ctx,
    IfSet,
    IsNull,
    Lit,
    Matches,
    Not,
    Now,
    Setting,
    Since,
    all_of,
    any_of,
    mul,
    not_null,
)


class Metric(enum.StrEnum):
    """The five seller metrics, by stable code (used in URLs, CSV and API)."""

    OOS_CANCELLATION = "oos_cancellation_rate"
    OVERDUE_UNSHIPPED = "overdue_unshipped_rate"
    LATE_DISPATCH = "late_dispatch_rate"
    HIGH_SHIPPING_FEE = "high_shipping_fee_rate"
    VALID_TRACKING = "valid_tracking_rate"


class Level(enum.IntEnum):
    """How one metric stands against its policy. Ordered: higher is worse."""

    OK = 0
    AT_RISK = 1
    IMPACTED = 2


class FlagStatus(enum.StrEnum):
    """A product's impression status."""

    NONE = "none"
    AT_RISK = "at_risk"
    IMPACTED = "impacted"
    RESOLVED = "resolved"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {
    FlagStatus.NONE: "Not flagged",
    FlagStatus.AT_RISK: "At risk",
    FlagStatus.IMPACTED: "Impacted",
    FlagStatus.RESOLVED: "Resolved",
}


class ReviewTarget(enum.StrEnum):
    """Where a seller goes to fix a metric (the Review button)."""

    OVERDUE_ORDERS = "overdue_orders"
    LATE_ORDERS = "late_orders"
    SHIPPED_ORDERS = "shipped_orders"
    INVENTORY = "inventory"
    SHIPPING_FEE = "shipping_fee"


# A metric's level against its policy, as bands checked in order: the first whose comparison
# ``100 * numerator <op> <policy setting> * denominator`` holds gives the level, else OK.
# ``classify`` and the scoring SQL's CASE (``flagged.scoring_sql``) both read this table.
Band = tuple[str, str, Level]
BANDS: dict[bool, tuple[Band, ...]] = {
    # lower is better: Impacted above the target, At risk from the at-risk threshold up
    False: ((">", "target", Level.IMPACTED), (">=", "at_risk_threshold", Level.AT_RISK)),
    # higher is better: the mirror image
    True: (("<", "target", Level.IMPACTED), ("<=", "at_risk_threshold", Level.AT_RISK)),
}


@dataclass(frozen=True)
class MetricDef:
    """One seller metric, defined once.

    ``population`` picks the orders of the window the rate is over (its denominator) and
    ``counted`` the ones among them that the numerator counts. The pure formulas below, the
    scoring SQL and the details page's list of orders are all generated from these two
    conditions (``flagged.conditions``); ``column`` prefixes the metric's columns
    (``<column>_num``, ``_den``, ``_level``) in FlagState and FlagTransition."""

    code: Metric
    label: str
    column: str
    higher_is_better: bool
    population: Cond
    counted: Cond
    numerator: str  # what is counted, for the details page
    denominator: str
    review: ReviewTarget

    @property
    def bands(self) -> tuple[Band, ...]:
        return BANDS[self.higher_is_better]

    @property
    def against(self) -> Cond:
        """The orders of the population that count against the metric (the ones to fix)."""
        return Not(self.counted) if self.higher_is_better else self.counted


# Every metric counts the orders placed in its policy's window, ``since <= placed_at <= now``.
# The scoring SQL puts the upper bound, common to every metric, in its WHERE clause.
PLACED_SINCE = Cmp(Col("placed_at"), ">=", Since())
PLACED_UNTIL_NOW = Cmp(Col("placed_at"), "<=", Now())
IN_WINDOW = all_of(PLACED_SINCE, PLACED_UNTIL_NOW)
SHIPPED = not_null("shipped_at")

# A valid tracking number (catalogs.rules: the same rule Manage Orders lists and every order
# entry keeps to): no control or format character, and one that is not blank.
TRACKING_VALID = Matches(Col("tracking_number"), TRACKING_VALID_PATTERN)

METRICS: dict[Metric, MetricDef] = {
    m.code: m
    for m in (
        MetricDef(
            code=Metric.OOS_CANCELLATION,
            label="Out-of-stock cancellation rate",
            column="oos",
            higher_is_better=False,
            population=ALWAYS,
            counted=all_of(
                not_null("cancelled_at"), Cmp(Col("cancel_reason"), "=", Lit("out_of_stock"))
            ),
            numerator="orders cancelled as out of stock",
            denominator="orders placed",
            review=ReviewTarget.INVENTORY,
        ),
        MetricDef(
            code=Metric.OVERDUE_UNSHIPPED,
            label="Overdue unshipped rate",
            column="overdue",
            higher_is_better=False,
            population=ALWAYS,
            counted=all_of(
                Cmp(Col("ship_by"), "<", Now()), IsNull("shipped_at"), IsNull("cancelled_at")
            ),
            numerator="orders past their ship-by date, not shipped, not cancelled",
            denominator="orders placed",
            review=ReviewTarget.OVERDUE_ORDERS,
        ),
        MetricDef(
            code=Metric.LATE_DISPATCH,
            label="Late dispatch rate",
            column="late",
            higher_is_better=False,
            population=SHIPPED,
            counted=Cmp(Col("shipped_at"), ">", Col("ship_by")),
            numerator="orders shipped after their ship-by date",
            denominator="orders shipped",
            review=ReviewTarget.LATE_ORDERS,
        ),
        MetricDef(
            code=Metric.HIGH_SHIPPING_FEE,
            label="High shipping fee rate",
            column="fee",
            higher_is_better=False,
            population=ALWAYS,
            # above the amount, or above the ratio of the line's item value (either one set)
            counted=any_of(
                IfSet("fee_amount", Cmp(Col("shipping_fee"), ">", Setting("fee_amount"))),
                IfSet(
                    "fee_ratio_percent",
                    Cmp(
                        mul(Col("shipping_fee"), Lit(100)),
                        ">",
                        mul(Col("item_price"), Col("quantity"), Setting("fee_ratio_percent")),
                    ),
                ),
            ),
            numerator="orders with a high shipping fee",
            denominator="orders placed",
            review=ReviewTarget.SHIPPING_FEE,
        ),
        MetricDef(
            code=Metric.VALID_TRACKING,
            label="Valid tracking rate",
            column="tracking",
            higher_is_better=True,
            # a line whose file did not say (NULL: Shopify's export has no tracking
            # column) is left out: only shipped lines with their tracking known count
            population=all_of(SHIPPED, not_null("tracking_number")),
            counted=TRACKING_VALID,
            numerator="shipped orders with a tracking number",
            denominator="orders shipped with tracking known",
            review=ReviewTarget.SHIPPED_ORDERS,
        ),
    )
}
# Column prefix of each metric in flagged_flagstate / flagged_flagtransition.
PREFIX: dict[Metric, str] = {m: d.column for m, d in METRICS.items()}


@dataclass(frozen=True)
class Policy:
    """One metric's effective policy (global default or the tenant's override)."""

    metric: Metric
    enabled: bool = True
    window_days: int = 30
    min_orders: int = 10
    at_risk_threshold: Decimal = Decimal("2")  # percent
    target: Decimal = Decimal("4")  # percent
    how_to_fix: str = ""
    # Only for HIGH_SHIPPING_FEE: an order's fee is high when it is above this
    # share of the line's item value, or above this amount (either one).
    fee_ratio_percent: Decimal | None = None
    fee_amount: Decimal | None = None

    @property
    def definition(self) -> MetricDef:
        return METRICS[self.metric]


# Defaults follow published marketplace targets where they exist (late dispatch
# <= 4%, seller-fault cancellation <= 2.5%, valid tracking >= 95%). Overdue
# unshipped uses the late-dispatch target (an overdue order becomes a late one);
# high shipping fee tolerates 10% of orders above 25% of item value or 20.00.
DEFAULT_POLICIES: dict[Metric, Policy] = {
    Metric.OOS_CANCELLATION: Policy(
        Metric.OOS_CANCELLATION,
        at_risk_threshold=Decimal("1.5"),
        target=Decimal("2.5"),
        how_to_fix="Keep inventory up to date so buyers cannot order what you do not have.",
    ),
    Metric.OVERDUE_UNSHIPPED: Policy(
        Metric.OVERDUE_UNSHIPPED,
        at_risk_threshold=Decimal("2"),
        target=Decimal("4"),
        how_to_fix="Ship or cancel orders that are past their ship-by date.",
    ),
    Metric.LATE_DISPATCH: Policy(
        Metric.LATE_DISPATCH,
        at_risk_threshold=Decimal("2"),
        target=Decimal("4"),
        how_to_fix="Ship before the ship-by date; lengthen handling time if you cannot.",
    ),
    Metric.HIGH_SHIPPING_FEE: Policy(
        Metric.HIGH_SHIPPING_FEE,
        at_risk_threshold=Decimal("5"),
        target=Decimal("10"),
        how_to_fix="Lower the shipping fee charged for this product.",
        fee_ratio_percent=Decimal("25"),
        fee_amount=Decimal("20.00"),
    ),
    Metric.VALID_TRACKING: Policy(
        Metric.VALID_TRACKING,
        at_risk_threshold=Decimal("97"),
        target=Decimal("95"),
        how_to_fix="Add a tracking number to every shipped order.",
    ),
}


class PolicyError(ValueError):
    """A policy whose numbers contradict each other."""


# A year of orders is more than any marketplace scores over; a longer window only slows the
# scoring, and past about 2,000 years its start is no longer a date (nothing scores at all).
MAX_WINDOW_DAYS = 365


def policy_validate(policy: Policy) -> None:
    """Raise PolicyError when thresholds are out of range or on the wrong side."""
    for name in ("at_risk_threshold", "target"):
        value = getattr(policy, name)
        if not Decimal(0) <= value <= Decimal(100):
            raise PolicyError(f"{name} must be between 0 and 100 (got {value}).")
    if not 1 <= policy.window_days <= MAX_WINDOW_DAYS:
        raise PolicyError(f"window_days must be 1 to {MAX_WINDOW_DAYS} (got {policy.window_days}).")
    if policy.min_orders < 1:
        raise PolicyError("min_orders must be at least 1.")
    if policy.definition.higher_is_better:
        if policy.at_risk_threshold < policy.target:
            raise PolicyError(
                "For a higher-is-better metric the at-risk threshold must be at or above "
                "the target."
            )
    elif policy.at_risk_threshold > policy.target:
        raise PolicyError("The at-risk threshold must be at or below the target.")
    # A negative limit makes every order's fee high, and so every product with orders Impacted.
    if policy.fee_ratio_percent is not None and policy.fee_ratio_percent < 0:
        raise PolicyError(f"The fee ratio cannot be negative (got {policy.fee_ratio_percent}).")
    if policy.fee_amount is not None and policy.fee_amount < 0:
        raise PolicyError(f"The fee amount cannot be negative (got {policy.fee_amount}).")
    if policy.metric == Metric.HIGH_SHIPPING_FEE and (
        policy.fee_ratio_percent is None and policy.fee_amount is None
    ):
        raise PolicyError("High shipping fee needs a fee ratio, a fee amount, or both.")


# --------------------------------------------------------------------------- formulas


@dataclass(frozen=True)
class OrderFacts:
    """What one order line contributes; the formulas count these."""

    placed_at: datetime
    ship_by: datetime
    item_price: Decimal = Decimal("10")
    quantity: int = 1
    shipping_fee: Decimal = Decimal("0")
    shipped_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str = ""
    tracking_number: str | None = ""  # None: unknown (the order file did not say)


@dataclass(frozen=True)
class Counts:
    """A metric's numerator and denominator."""

    numerator: int
    denominator: int

    def __post_init__(self) -> None:
        if self.numerator < 0 or self.denominator < 0 or self.numerator > self.denominator:
            raise ValueError(f"impossible counts {self.numerator}/{self.denominator}")

    @property
    def rate(self) -> Fraction | None:
        """Percentage as an exact fraction, None without orders."""
        if self.denominator == 0:
            return None
        return Fraction(100 * self.numerator, self.denominator)


def fee_is_high(order: OrderFacts, policy: Policy) -> bool:
    """True when the shipping fee is above the ratio of item value or the amount."""
    ctx = Ctx(now=order.placed_at, policy=policy)
    return METRICS[Metric.HIGH_SHIPPING_FEE].counted.test(order, ctx) is True


def metric_counts(
    metric: Metric,
    orders: list[OrderFacts],
    *,
    now: datetime,
    policy: Policy,
    tz: tzinfo = UTC,
) -> Counts:
    """Count one metric over the orders placed inside the policy window, days on the clock of
    ``tz`` (the definition's conditions, evaluated in Python; a row counts when its condition
    is true)."""
    definition = METRICS[metric]
    ctx = Ctx(now=now, policy=policy, tz=tz)
    population = [
        o
        for o in orders
        if IN_WINDOW.test(o, ctx) is True and definition.population.test(o, ctx) is True
    ]
    num = sum(1 for o in population if definition.counted.test(o, ctx) is True)
    return Counts(num, len(population))


# --------------------------------------------------------------------- classification


def classify(counts: Counts, policy: Policy) -> Level:
    """Level of one metric: OK, AT_RISK (inside the band) or IMPACTED (misses target)."""
    if not policy.enabled or counts.denominator < policy.min_orders or counts.denominator == 0:
        return Level.OK
    # No order against the metric (0 % cancelled, 100 % tracked) is never "close to missing"
    # it, even under an at-risk threshold of 0 % (or 100 %) that the bands alone would meet.
    if against(counts, higher_is_better=policy.definition.higher_is_better) == 0:
        return Level.OK
    # Exact: compare 100*num/den with a Decimal percent without dividing.
    scaled = Decimal(100 * counts.numerator)
    den = Decimal(counts.denominator)
    for op, setting, level in policy.definition.bands:
        if BAND_OPS[op](scaled, getattr(policy, setting) * den):
            return level
    return Level.OK


def against(counts: Counts, *, higher_is_better: bool) -> int:
    """How many orders count against a metric (the ones to fix): for a higher-is-better
    metric the ones its numerator does not count."""
    return counts.denominator - counts.numerator if higher_is_better else counts.numerator


BAND_OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}


def worst_level(levels: list[Level] | tuple[Level, ...]) -> Level:
    """A product's level is the worst over its metrics."""
    return max(levels, default=Level.OK)


# ----------------------------------------------------------------------- state machine


def next_status(
    *,
    current: FlagStatus,
    level: Level,
    status_since: datetime | None,
    now: datetime,
    resolved_days: int,
    in_catalog: bool = True,
) -> FlagStatus:
    """The product's next impression status.

    none -> At risk / Impacted; At risk <-> Impacted as it worsens or improves;
    any flagged status -> Resolved when every metric is safe; Resolved -> none once
    it has been Resolved for ``resolved_days`` (unless flagged again first). A product a
    feed removed from its catalog is none whatever its orders: the seller has nothing left
    to fix, and calling it Resolved would claim a fix nobody made. Back in the catalog, its
    orders flag it again.
    """
    if not in_catalog:
        return FlagStatus.NONE
    if level == Level.IMPACTED:
        return FlagStatus.IMPACTED
    if level == Level.AT_RISK:
        return FlagStatus.AT_RISK
    if current in (FlagStatus.AT_RISK, FlagStatus.IMPACTED):
        return FlagStatus.RESOLVED
    if current == FlagStatus.RESOLVED:
        if status_since is not None and now >= status_since + timedelta(days=resolved_days):
            return FlagStatus.NONE
        return FlagStatus.RESOLVED
    return FlagStatus.NONE


# --------------------------------------------------------------------------- wording


def format_percent(
    value: Fraction | Decimal | None, *, thresholds: tuple[Decimal, ...] = ()
) -> str:
    """'12%', '2.5%', '97.3%': one decimal, rounded half up as a spreadsheet rounds, no
    trailing zero; more decimals where one would show the value on the other side of one of
    ``thresholds``, or on one it is not on (4.04 % against a 4 % target reads '4.04%', not
    '4%'; 2.55 % on a 2.55 % target reads '2.55%', not '2.6%')."""
    if value is None:
        return "n/a"
    exact = Fraction(value)
    sides = [(Fraction(t), _side(exact, Fraction(t))) for t in thresholds]
    # A rate is 100 * n / d and a threshold has two decimals: with a dozen places the value
    # shown is on the same side of every threshold as the exact one (on it when it is).
    for places in range(1, 13):
        scale = 10**places
        shown = Decimal(math.floor(exact * scale + Fraction(1, 2))).scaleb(-places)
        if all(_side(Fraction(shown), t) == side for t, side in sides):
            break
    return f"{shown.normalize():f}%"


def _side(value: Fraction, threshold: Fraction) -> int:
    return (value > threshold) - (value < threshold)


def threshold_text(value: Decimal) -> str:
    """A policy's threshold as set, to its last non-zero decimal: '2.55%', '4%', '100%'."""
    return f"{value.normalize():f}%"


def rate_text(counts: Counts, policy: Policy) -> str:
    """A metric's value as the pages show it, never seemingly on or across its policy's
    thresholds when it is not."""
    return format_percent(counts.rate, thresholds=(policy.target, policy.at_risk_threshold))


def reason_text(metric: Metric, counts: Counts, policy: Policy) -> str:
    """Readable reason, e.g. 'Overdue unshipped rate 12% (target 4%)'."""
    return (
        f"{METRICS[metric].label} {rate_text(counts, policy)} "
        f"(target {threshold_text(policy.target)})"
    )


@dataclass(frozen=True)
class MetricResult:
    metric: Metric
    counts: Counts
    level: Level
    policy: Policy

    @property
    def reason(self) -> str:
        return reason_text(self.metric, self.counts, self.policy)

    @property
    def against_count(self) -> int:
        """How many orders count against the metric (the ones to fix, ``against``): for a
        higher-is-better metric they are the ones its numerator does not count."""
        return against(self.counts, higher_is_better=METRICS[self.metric].higher_is_better)


def evaluate(
    counts_by_metric: dict[Metric, Counts], policies: dict[Metric, Policy]
) -> list[MetricResult]:
    """Classify every metric; order follows METRICS."""
    return [
        MetricResult(
            m,
            counts_by_metric.get(m, Counts(0, 0)),
            classify(counts_by_metric.get(m, Counts(0, 0)), policies[m]),
            policies[m],
        )
        for m in METRICS
        if m in policies
    ]


def reasons(results: list[MetricResult]) -> list[str]:
    """Every metric outside its safe zone, worst first, as readable text."""
    flagged = [r for r in results if r.level > Level.OK]
    flagged.sort(key=lambda r: -r.level)
    return [r.reason for r in flagged]
