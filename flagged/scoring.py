"""Pure seller-metric rules: formulas, classification, status and transitions.

No ORM and no settings here, so a table of cases tests every rule. The set-based
scoring query in ``flagged.services`` computes exactly the same things in SQL;
``flagged/tests/test_scoring_sql.py`` checks the two agree.

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
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction


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


@dataclass(frozen=True)
class MetricDef:
    code: Metric
    label: str
    higher_is_better: bool
    numerator: str  # what is counted, for the details page
    denominator: str
    review: ReviewTarget


METRICS: dict[Metric, MetricDef] = {
    Metric.OOS_CANCELLATION: MetricDef(
        Metric.OOS_CANCELLATION,
        "Out-of-stock cancellation rate",
        False,
        "orders cancelled as out of stock",
        "orders placed",
        ReviewTarget.INVENTORY,
    ),
    Metric.OVERDUE_UNSHIPPED: MetricDef(
        Metric.OVERDUE_UNSHIPPED,
        "Overdue unshipped rate",
        False,
        "orders past their ship-by date, not shipped, not cancelled",
        "orders placed",
        ReviewTarget.OVERDUE_ORDERS,
    ),
    Metric.LATE_DISPATCH: MetricDef(
        Metric.LATE_DISPATCH,
        "Late dispatch rate",
        False,
        "orders shipped after their ship-by date",
        "orders shipped",
        ReviewTarget.LATE_ORDERS,
    ),
    Metric.HIGH_SHIPPING_FEE: MetricDef(
        Metric.HIGH_SHIPPING_FEE,
        "High shipping fee rate",
        False,
        "orders with a high shipping fee",
        "orders placed",
        ReviewTarget.SHIPPING_FEE,
    ),
    Metric.VALID_TRACKING: MetricDef(
        Metric.VALID_TRACKING,
        "Valid tracking rate",
        True,
        "shipped orders with a tracking number",
        "orders shipped",
        ReviewTarget.SHIPPED_ORDERS,
    ),
}


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


def policy_validate(policy: Policy) -> None:
    """Raise PolicyError when thresholds are out of range or on the wrong side."""
    for name in ("at_risk_threshold", "target"):
        value = getattr(policy, name)
        if not Decimal(0) <= value <= Decimal(100):
            raise PolicyError(f"{name} must be between 0 and 100 (got {value}).")
    if policy.window_days < 1:
        raise PolicyError("window_days must be at least 1.")
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
    tracking_number: str = ""


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
    if policy.fee_amount is not None and order.shipping_fee > policy.fee_amount:
        return True
    if policy.fee_ratio_percent is not None:
        item_value = order.item_price * order.quantity
        return order.shipping_fee * 100 > item_value * policy.fee_ratio_percent
    return False


def metric_counts(
    metric: Metric, orders: list[OrderFacts], *, now: datetime, policy: Policy
) -> Counts:
    """Count one metric over the orders placed inside the policy window."""
    since = now - timedelta(days=policy.window_days)
    window = [o for o in orders if since <= o.placed_at <= now]
    shipped = [o for o in window if o.shipped_at is not None]
    if metric == Metric.OOS_CANCELLATION:
        num = sum(
            1 for o in window if o.cancelled_at is not None and o.cancel_reason == "out_of_stock"
        )
        return Counts(num, len(window))
    if metric == Metric.OVERDUE_UNSHIPPED:
        num = sum(
            1 for o in window if o.ship_by < now and o.shipped_at is None and o.cancelled_at is None
        )
        return Counts(num, len(window))
    if metric == Metric.LATE_DISPATCH:
        num = sum(1 for o in shipped if o.shipped_at > o.ship_by)
        return Counts(num, len(shipped))
    if metric == Metric.HIGH_SHIPPING_FEE:
        num = sum(1 for o in window if fee_is_high(o, policy))
        return Counts(num, len(window))
    if metric == Metric.VALID_TRACKING:
        num = sum(1 for o in shipped if o.tracking_number.strip())
        return Counts(num, len(shipped))
    raise ValueError(f"unknown metric {metric!r}")


# --------------------------------------------------------------------- classification


def classify(counts: Counts, policy: Policy) -> Level:
    """Level of one metric: OK, AT_RISK (inside the band) or IMPACTED (misses target)."""
    if not policy.enabled or counts.denominator < policy.min_orders or counts.denominator == 0:
        return Level.OK
    # Exact: compare 100*num/den with a Decimal percent without dividing.
    scaled = Decimal(100 * counts.numerator)
    den = Decimal(counts.denominator)
    if policy.definition.higher_is_better:
        if scaled < policy.target * den:
            return Level.IMPACTED
        if scaled <= policy.at_risk_threshold * den:
            return Level.AT_RISK
        return Level.OK
    if scaled > policy.target * den:
        return Level.IMPACTED
    if scaled >= policy.at_risk_threshold * den:
        return Level.AT_RISK
    return Level.OK


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
) -> FlagStatus:
    """The product's next impression status.

    none -> At risk / Impacted; At risk <-> Impacted as it worsens or improves;
    any flagged status -> Resolved when every metric is safe; Resolved -> none once
    it has been Resolved for ``resolved_days`` (unless flagged again first).
    """
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


def format_percent(value: Fraction | Decimal | None) -> str:
    """'12%', '2.5%', '97.3%': at most one decimal, no trailing zero."""
    if value is None:
        return "n/a"
    d = (
        Decimal(value.numerator) / Decimal(value.denominator)
        if isinstance(value, Fraction)
        else value
    )
    d = d.quantize(Decimal("0.1"))
    text = f"{d:f}"
    if text.endswith(".0"):
        text = text[:-2]
    return f"{text}%"


def reason_text(metric: Metric, counts: Counts, policy: Policy) -> str:
    """Readable reason, e.g. 'Overdue unshipped rate 12% (target 4%)'."""
    return (
        f"{METRICS[metric].label} {format_percent(counts.rate)} "
        f"(target {format_percent(policy.target)})"
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
