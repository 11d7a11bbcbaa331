"""The ECR state decision: a pure function of counts and thresholds.

ECR (Enhanced Catalog Review) is on for new catalogs. It turns off when the
availability ratio (Available / active products) falls *below* the disable
threshold and turns back on when the ratio is *at or above* the enable
threshold. Enable >= disable gives hysteresis: a catalog hovering around one
threshold does not flap. Catalogs with fewer than ``min_products`` active
products are not evaluated (their state stays as it is).

Comparisons are exact (fractions), so 16 of 20 Available is exactly 0.80.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

DEFAULT_DISABLE = Decimal("0.80")
DEFAULT_ENABLE = Decimal("0.90")
DEFAULT_MIN_PRODUCTS = 20

# Reasons (stored on EcrEvent, shown on the ECR page).
DISABLED_BELOW_THRESHOLD = "below_disable_threshold"
ENABLED_AT_THRESHOLD = "reached_enable_threshold"
UNCHANGED = "unchanged"
TOO_FEW_PRODUCTS = "too_few_products"


@dataclass(frozen=True)
class Thresholds:
    """ECR thresholds in force for one catalog."""

    disable: Decimal = DEFAULT_DISABLE
    enable: Decimal = DEFAULT_ENABLE
    min_products: int = DEFAULT_MIN_PRODUCTS

    def __post_init__(self) -> None:
        if not (0 <= self.disable <= 1 and 0 <= self.enable <= 1):
            raise ValueError("ECR thresholds are ratios between 0 and 1")
        if self.enable < self.disable:
            raise ValueError(
                f"the enable threshold ({self.enable}) must be at least the disable "
                f"threshold ({self.disable})"
            )
        if self.min_products < 1:
            raise ValueError("the minimum product count must be at least 1")


@dataclass(frozen=True)
class ThresholdsApplied:
    """A catalog's thresholds as ECR applies them, and where each came from."""

    thresholds: Thresholds
    disable_from_catalog: bool
    enable_from_catalog: bool
    # the enable threshold as set (the catalog's override, else the global one), which is
    # raised to the disable threshold when below it
    enable_as_set: Decimal

    @property
    def enable_raised(self) -> bool:
        return self.enable_as_set < self.thresholds.enable


def thresholds_applied(
    *,
    global_disable: Decimal,
    global_enable: Decimal,
    disable_override: Decimal | None,
    enable_override: Decimal | None,
    min_products: int,
) -> ThresholdsApplied:
    """Each override replaces its global threshold; an enable threshold below the disable
    one is raised to it, since ECR could otherwise turn on and off at the same ratio."""
    disable, enable = _as_set(global_disable, global_enable, disable_override, enable_override)
    return ThresholdsApplied(
        thresholds=Thresholds(
            disable=Decimal(disable),
            enable=Decimal(max(enable, disable)),
            min_products=min_products,
        ),
        disable_from_catalog=disable_override is not None,
        enable_from_catalog=enable_override is not None,
        enable_as_set=enable,
    )


def override_conflict(
    *,
    global_disable: Decimal,
    global_enable: Decimal,
    disable_override: Decimal | None,
    enable_override: Decimal | None,
) -> tuple[str, str] | None:
    """(field, message) when a catalog's overrides would not apply as set: the enable
    threshold that applies (its override, else the global one) below the disable threshold
    that applies. None when they apply as set."""
    disable, enable = _as_set(global_disable, global_enable, disable_override, enable_override)
    if enable >= disable:
        return None
    if enable_override is not None:
        source = "its own override" if disable_override is not None else "the global setting"
        return (
            "enable_threshold_override",
            f"The enable threshold {_ratio(enable)} is below the disable threshold "
            f"{_ratio(disable)} that applies to this catalog ({source}): ECR would turn back "
            f"on at {_ratio(disable)}, not {_ratio(enable)}. Set {_ratio(disable)} or more, or "
            "a lower disable threshold.",
        )
    return (
        "disable_threshold_override",
        f"The disable threshold {_ratio(disable)} is above the enable threshold "
        f"{_ratio(enable)} that applies to this catalog (the global setting): ECR would turn "
        f"back on at {_ratio(disable)}, not {_ratio(enable)}. Set an enable threshold of "
        f"{_ratio(disable)} or more for this catalog too, or a lower disable threshold.",
    )


def _as_set(
    global_disable: Decimal,
    global_enable: Decimal,
    disable_override: Decimal | None,
    enable_override: Decimal | None,
) -> tuple[Decimal, Decimal]:
    """(disable, enable): each override where set, else its global value."""
    disable = global_disable if disable_override is None else disable_override
    enable = global_enable if enable_override is None else enable_override
    return Decimal(disable), Decimal(enable)


def _ratio(value: Decimal) -> str:
    """A threshold as admin's fields show it: 0.700."""
    return f"{Decimal(value):.3f}"


@dataclass(frozen=True)
class Decision:
    """Outcome of one evaluation."""

    enabled: bool  # the state after the evaluation
    changed: bool
    reason: str
    ratio: float | None  # None when the catalog has no active products
    evaluated: bool


def availability_ratio(available: int, active: int) -> Fraction | None:
    """Available / active as an exact fraction, ``None`` for an empty catalog."""
    if active <= 0:
        return None
    if available < 0 or available > active:
        raise ValueError(f"available ({available}) must be between 0 and active ({active})")
    return Fraction(available, active)


def decide(*, enabled: bool, available: int, active: int, thresholds: Thresholds) -> Decision:
    """The ECR state after evaluating a catalog with these counts."""
    ratio = availability_ratio(available, active)
    as_float = float(ratio) if ratio is not None else None
    if ratio is None or not evaluates(active=active, thresholds=thresholds):
        return Decision(enabled, False, TOO_FEW_PRODUCTS, as_float, False)
    if enabled and ratio < Fraction(thresholds.disable):
        return Decision(False, True, DISABLED_BELOW_THRESHOLD, as_float, True)
    if not enabled and ratio >= Fraction(thresholds.enable):
        return Decision(True, True, ENABLED_AT_THRESHOLD, as_float, True)
    return Decision(enabled, False, UNCHANGED, as_float, True)


def evaluates(*, active: int, thresholds: Thresholds) -> bool:
    """Whether a catalog of ``active`` products is evaluated; below the minimum its ECR
    state stays as it is, whatever its ratio."""
    return active >= thresholds.min_products


@dataclass(frozen=True)
class StatusShown:
    """A catalog's ECR state as every page shows it: a badge and the words after it."""

    kind: str  # "enabled" | "disabled" | "not_evaluated"
    note: str

    @property
    def label(self) -> str:
        return {"enabled": "Enabled", "disabled": "Disabled"}.get(self.kind, "Not evaluated")


def status_shown(
    *, enabled: bool, checked: bool, active: int | None, min_products: int
) -> StatusShown:
    """What a catalog's ECR state reads. ``active``: the active products the last check
    counted, or before any check those the page counts now (None when it does not).

    A catalog under the minimum is not evaluated: its share switches ECR neither off nor
    on, so "Enabled" beside no share would claim a verdict there is none. One whose ECR is
    off stays off until it has the minimum again, and reads both."""
    kind = "enabled" if enabled else "disabled"
    if active is not None and active < min_products:
        too_few = f"fewer than {min_products} active products"
        if enabled:
            return StatusShown("not_evaluated", too_few)
        return StatusShown(kind, f"not evaluated: {too_few}")
    return StatusShown(kind, "" if checked else "not checked yet")


def fixes_to_enable(*, available: int, active: int, thresholds: Thresholds) -> int | None:
    """How many more products must become Available for ECR to turn back on; None when no
    fix can do it, the catalog having too few active products to be evaluated (a disabled
    catalog of 10 products, all Available, stays disabled until it has the minimum)."""
    if not evaluates(active=active, thresholds=thresholds):
        return None
    return products_to_fix(available=available, active=active, enable=thresholds.enable)


def enable_advice(*, to_fix: int | None, unavailable: int, pending: int) -> str:
    """What turns a disabled catalog's ECR back on, for the ECR tab and the email: fixing
    Unavailable products where that can be enough; otherwise also the standard queue's review
    of the Pending ones (asking to fix 37 products of which 12 are Unavailable cannot be
    done). Empty when nothing is short, or the catalog is too small to be evaluated."""
    if not to_fix:
        return ""
    if to_fix <= unavailable:
        return f"Fix at least {to_fix} Unavailable product{_s(to_fix)} to turn ECR back on."
    start = (
        f"ECR turns back on once at least {to_fix} more product{_s(to_fix)} "
        f"{'is' if to_fix == 1 else 'are'} Available: "
    )
    waiting = f"the {pending} waiting for review."
    if not unavailable:
        return f"{start}none is Unavailable; they can only come from {waiting}"
    ones = "one" if unavailable == 1 else "ones"
    return f"{start}fix the {unavailable} Unavailable {ones}; the rest can only come from {waiting}"


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def products_to_fix(*, available: int, active: int, enable: Decimal) -> int:
    """How many more products must become Available to reach the enable threshold."""
    if active <= 0:
        return 0
    need = Fraction(enable) * active
    short = need - available
    if short <= 0:
        return 0
    return int(-(-short // 1))  # ceiling
