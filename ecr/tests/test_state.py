"""Threshold edges and hysteresis of the ECR state decision (pure)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ecr import state
from ecr.state import Thresholds, decide

T = Thresholds(disable=Decimal("0.80"), enable=Decimal("0.90"), min_products=20)


@pytest.mark.parametrize(
    "enabled, available, active, expect_enabled, changed, reason",
    [
        # Enabled: turns off strictly below 0.80.
        (True, 16, 20, True, False, state.UNCHANGED),  # exactly 0.80 stays on
        (True, 15, 20, False, True, state.DISABLED_BELOW_THRESHOLD),  # 0.75
        (True, 799, 1000, False, True, state.DISABLED_BELOW_THRESHOLD),  # 0.799
        (True, 800, 1000, True, False, state.UNCHANGED),
        (True, 20, 20, True, False, state.UNCHANGED),
        (True, 0, 20, False, True, state.DISABLED_BELOW_THRESHOLD),
        # Disabled: hysteresis band 0.80..0.90 keeps it off.
        (False, 16, 20, False, False, state.UNCHANGED),  # 0.80
        (False, 17, 20, False, False, state.UNCHANGED),  # 0.85
        (False, 899, 1000, False, False, state.UNCHANGED),
        (False, 18, 20, True, True, state.ENABLED_AT_THRESHOLD),  # exactly 0.90 turns on
        (False, 20, 20, True, True, state.ENABLED_AT_THRESHOLD),
        # Too few products: never evaluated, state kept.
        (True, 0, 19, True, False, state.TOO_FEW_PRODUCTS),
        (False, 19, 19, False, False, state.TOO_FEW_PRODUCTS),
        (True, 0, 0, True, False, state.TOO_FEW_PRODUCTS),
    ],
)
def test_decide(enabled, available, active, expect_enabled, changed, reason):
    d = decide(enabled=enabled, available=available, active=active, thresholds=T)
    assert (d.enabled, d.changed, d.reason) == (expect_enabled, changed, reason)
    assert d.evaluated == (reason != state.TOO_FEW_PRODUCTS)


def test_hysteresis_walk_does_not_flap():
    enabled = True
    history = []
    for available in [95, 85, 79, 81, 85, 89, 90, 85, 80, 79]:
        d = decide(enabled=enabled, available=available, active=100, thresholds=T)
        enabled = d.enabled
        history.append(enabled)
    assert history == [True, True, False, False, False, False, True, True, True, False]


def test_equal_thresholds_are_allowed():
    t = Thresholds(disable=Decimal("0.5"), enable=Decimal("0.5"), min_products=1)
    assert not decide(enabled=True, available=4, active=10, thresholds=t).enabled
    assert decide(enabled=False, available=5, active=10, thresholds=t).enabled


@pytest.mark.parametrize(
    "kw",
    [
        {"disable": Decimal("0.9"), "enable": Decimal("0.8")},
        {"disable": Decimal("-0.1")},
        {"enable": Decimal("1.1")},
        {"min_products": 0},
    ],
)
def test_invalid_thresholds_rejected(kw):
    with pytest.raises(ValueError):
        Thresholds(**kw)


@pytest.mark.parametrize(
    "available, active",
    [(-1, 10), (11, 10)],
)
def test_impossible_counts_rejected(available, active):
    with pytest.raises(ValueError):
        state.availability_ratio(available, active)


@pytest.mark.parametrize(
    "available, active, enable, need",
    [
        (15, 20, "0.90", 3),
        (18, 20, "0.90", 0),
        (0, 0, "0.90", 0),
        (899, 1000, "0.90", 1),
        (10, 21, "0.90", 9),
    ],
)
def test_products_to_fix(available, active, enable, need):
    assert state.products_to_fix(available=available, active=active, enable=Decimal(enable)) == need


@pytest.mark.parametrize(
    "available, active, need",
    [
        (8, 10, None),  # too few to be evaluated: no fix turns ECR on
        (10, 10, None),
        (0, 0, None),
        (19, 19, None),
        (17, 20, 1),  # 18 of 20 is 90 %
        (18, 20, 0),
        (0, 20, 18),
    ],
)
def test_fixes_to_enable(available, active, need):
    assert state.fixes_to_enable(available=available, active=active, thresholds=T) == need


@pytest.mark.parametrize(
    ("enabled", "checked", "active", "kind", "note"),
    [
        (True, True, 1500, "enabled", ""),
        (False, True, 1500, "disabled", ""),
        (True, True, 20, "enabled", ""),  # the minimum itself is evaluated
        # under the minimum the share decides nothing: say so, not "Enabled" beside no share
        (True, True, 0, "not_evaluated", "fewer than 20 active products"),
        (True, True, 19, "not_evaluated", "fewer than 20 active products"),
        # off, and stays off until it has the minimum again: both are said
        (False, True, 12, "disabled", "not evaluated: fewer than 20 active products"),
        # never checked: what the page counts now, when it has it
        (True, False, 0, "not_evaluated", "fewer than 20 active products"),
        (True, False, 500, "enabled", "not checked yet"),
        (True, False, None, "enabled", "not checked yet"),
    ],
)
def test_status_shown(enabled, checked, active, kind, note):
    shown = state.status_shown(enabled=enabled, checked=checked, active=active, min_products=20)
    assert (shown.kind, shown.note) == (kind, note)
    assert (
        shown.label
        == {
            "enabled": "Enabled",
            "disabled": "Disabled",
            "not_evaluated": "Not evaluated",
        }[kind]
    )
