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
from decimal import ROUND_FLOOR, Decimal
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


def fixes_to_enable(*, available: int, active: int, thresholds: Thresholds) -> int | None:
    """How many more products must become Available for ECR to turn back on; None when no
    fix can do it, the catalog having too few active products to be evaluated (a disabled
    catalog of 10 products, all Available, stays disabled until it has the minimum)."""
    if not evaluates(active=active, thresholds=thresholds):
        return None
    return products_to_fix(available=available, active=active, enable=thresholds.enable)


def products_to_fix(*, available: int, active: int, enable: Decimal) -> int:
    """How many more products must become Available to reach the enable threshold."""
    if active <= 0:
        return 0
    need = Fraction(enable) * active
    short = need - available
    if short <= 0:
        return 0
    return int(-(-short // 1))  # ceiling


def share_percent(value: float | Decimal, digits: int = 1) -> Decimal:
    """A share (0-1) as a percentage rounded *down* to ``digits`` decimals, as pages,
    charts and emails show shares and thresholds: a ratio just below a threshold (0.7998
    under 80 %) reads 79.9, never the threshold it missed, and 0.99999 is not 100. Taken
    from the float's shortest repr, so 0.29 is 29, not the 28.99… of its binary product."""
    number = Decimal(str(value)) * 100
    return number.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_FLOOR)
