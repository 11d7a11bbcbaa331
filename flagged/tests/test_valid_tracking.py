"""What counts as a valid tracking number for the valid tracking rate: one table of cases, read
by the pure rule, the scoring SQL, the details page's live counts and its orders to fix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from catalogs.models import Order
from catalogs.selectors import order_search
from catalogs.tests.factories import ProductFactory
from catalogs.tests.order_factories import OrderFactory
from flagged.models import FlagState
from flagged.scoring import DEFAULT_POLICIES, Metric, OrderFacts, metric_counts
from flagged.selectors import counting_orders_filter, product_metrics
from flagged.services import flags_score

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)
POLICY = DEFAULT_POLICIES[Metric.VALID_TRACKING]

# (id, tracking number as stored, valid)
CASES = [
    ("UPS", "1Z999AA10123456784", True),
    ("outer spaces", "  1Z999AA1  ", True),
    ("inner spaces as carriers print them", "1Z 999 AA1 0123", True),
    ("letters beyond ASCII", "SF順豊1234é", True),
    ("empty", "", False),
    ("spaces only", "   ", False),
    ("no-break space only", "\u00a0", False),
    ("ideographic space only", "\u3000 ", False),
    ("tab only", "\t", False),
    ("tab inside", "1Z\t999", False),
    ("newline at the end", "1Z999\n", False),
    ("DEL alone", "\x7f", False),
    ("DEL inside", "1Z\x7f999", False),
    ("C1 control (NEL)", "1Z999\x85", False),
    ("soft hyphen", "1Z\u00ad999", False),
    ("zero-width space", "1Z\u200b999", False),
    ("zero-width space only", "\u200b", False),
    ("byte order mark", "\ufeff1Z999", False),
    ("right-to-left override", "1Z\u202e999", False),
    ("line separator", "1Z999\u2028", False),
    ("word joiner", "1Z\u2060999", False),
    ("language tag", "1Z999\U000e0041", False),
]
IDS = [c[0] for c in CASES]


def shipped(tracking: str | None) -> OrderFacts:
    placed = NOW - timedelta(days=3)
    return OrderFacts(
        placed_at=placed,
        ship_by=placed + timedelta(days=2),
        shipped_at=placed + timedelta(days=1),
        tracking_number=tracking,
    )


@pytest.mark.parametrize(("tracking", "valid"), [c[1:] for c in CASES], ids=IDS)
def test_valid_tracking_rule(tracking, valid):
    counts = metric_counts(Metric.VALID_TRACKING, [shipped(tracking)], now=NOW, policy=POLICY)
    assert (counts.numerator, counts.denominator) == (int(valid), 1)


def test_unknown_tracking_stays_out_of_the_population():
    counts = metric_counts(Metric.VALID_TRACKING, [shipped(None)], now=NOW, policy=POLICY)
    assert (counts.numerator, counts.denominator) == (0, 0)


@pytest.mark.django_db
def test_sql_live_counts_and_orders_to_fix_follow_the_same_table(tenant_a):
    product = ProductFactory(catalog__tenant=tenant_a)
    placed = NOW - timedelta(days=3)
    orders = {
        name: OrderFactory(
            product=product,
            placed_at=placed,
            ship_by=placed + timedelta(days=2),
            shipped_at=placed + timedelta(days=1),
            tracking_number=tracking,
        )
        for name, tracking, _ in CASES
    }
    valid = {name for name, _, ok in CASES if ok}
    flags_score(tenant=tenant_a, now=NOW)
    state = FlagState.objects.for_tenant(tenant_a).get(product=product)
    assert (state.tracking_num, state.tracking_den) == (len(valid), len(CASES))
    live = {r.metric: r for r in product_metrics(tenant=tenant_a, product=product, now=NOW)}
    tracking = live[Metric.VALID_TRACKING].counts
    assert (tracking.numerator, tracking.denominator) == (len(valid), len(CASES))
    to_fix = set(
        Order.objects.for_tenant(tenant_a)
        .filter(counting_orders_filter(Metric.VALID_TRACKING, POLICY, NOW))
        .values_list("pk", flat=True)
    )
    assert to_fix == {o.pk for name, o in orders.items() if name not in valid}
    # Review leads to Manage Orders' shipped lines without tracking: the same lines
    listed = order_search(tenant=tenant_a, filters={"status": "no_tracking", "sku": product.sku})
    assert set(listed.values_list("pk", flat=True)) == to_fix
    # the stored text is what was written: the database kept every character
    stored = dict(Order.objects.for_tenant(tenant_a).values_list("pk", "tracking_number"))
    assert [stored[o.pk] for o in orders.values()] == [c[1] for c in CASES]
    assert connection.vendor == "postgresql"
