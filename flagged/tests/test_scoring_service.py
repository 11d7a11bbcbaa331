"""The set-based scoring run against real PostgreSQL: agrees with the pure rules, writes
only what changed, stores transitions, respects tenants and policy overrides."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from catalogs.models import Order
from catalogs.tests.factories import CatalogFactory, ProductFactory
from catalogs.tests.order_factories import OrderFactory
from flagged.conditions import Ctx, all_of
from flagged.models import (
    FlagCount,
    FlagState,
    FlagTransition,
    MetricPolicy,
    TenantMetricPolicy,
)
from flagged.scoring import (
    DEFAULT_POLICIES,
    IN_WINDOW,
    METRICS,
    FlagStatus,
    Level,
    Metric,
    OrderFacts,
    classify,
    metric_counts,
    worst_level,
)
from flagged.selectors import (
    counting_orders,
    counting_orders_filter,
    flag_counters,
    product_metrics,
)
from flagged.services import effective_policies, flags_score

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)


def facts(order: Order) -> OrderFacts:
    return OrderFacts(
        placed_at=order.placed_at,
        ship_by=order.ship_by,
        item_price=order.item_price,
        quantity=order.quantity,
        shipping_fee=order.shipping_fee,
        shipped_at=order.shipped_at,
        cancelled_at=order.cancelled_at,
        cancel_reason=order.cancel_reason,
        tracking_number=order.tracking_number,
    )


def random_orders(rng: random.Random, product, n: int) -> list[Order]:
    orders = []
    for i in range(n):
        placed = NOW - timedelta(days=rng.uniform(-0.5, 40), hours=rng.random())
        ship_by = placed + timedelta(days=rng.choice([1, 2, 3]))
        kind = rng.random()
        shipped = cancelled = None
        reason = tracking = ""
        if kind < 0.1:
            cancelled = placed + timedelta(hours=2)
            reason = rng.choice(["out_of_stock", "buyer_request", "other"])
        elif kind < 0.85:
            shipped = ship_by + timedelta(hours=rng.choice([-20, -1, 0, 1, 30]))
            # blank is what SQL's TRIM leaves empty: spaces, not a tab
            # None: the order file did not say (outside the valid tracking population)
            tracking = rng.choice(["1Z999", "", "  ", "\t", None]) if rng.random() < 0.3 else "1Z1"
        orders.append(
            Order(
                tenant=product.tenant,
                catalog=product.catalog,
                product=product,
                sku=product.sku,
                order_id=f"R-{product.pk}-{i}",
                quantity=rng.choice([1, 1, 2]),
                item_price=Decimal(rng.choice(["10.00", "19.99", "80.00", "200.00"])),
                shipping_fee=Decimal(rng.choice(["0", "2.50", "5.00", "25.00"])),
                placed_at=placed,
                ship_by=ship_by,
                shipped_at=shipped,
                cancelled_at=cancelled,
                cancel_reason=reason,
                tracking_number=tracking,
            )
        )
    return orders


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sql_levels_match_pure_rules(tenant_a, seed):
    rng = random.Random(seed)
    # the window's days on the tenant's clock, across New York's DST change of 8 March
    tenant_a.time_zone = "America/New_York" if seed % 2 else "UTC"
    tenant_a.save()
    tz = ZoneInfo(tenant_a.time_zone)
    catalog = CatalogFactory(tenant=tenant_a)
    # thresholds at their extremes too: at risk from 0 % (or up to 100 %) of orders
    extreme = {False: Decimal("0"), True: Decimal("100")}
    policies = {
        m: replace(
            p,
            min_orders=rng.choice([1, 5, 10]),
            at_risk_threshold=rng.choice(
                [p.at_risk_threshold, extreme[METRICS[m].higher_is_better]]
            ),
        )
        for m, p in DEFAULT_POLICIES.items()
    }
    for m, p in policies.items():
        MetricPolicy.objects.filter(metric=m).update(
            min_orders=p.min_orders, at_risk_threshold=p.at_risk_threshold
        )
    products = ProductFactory.create_batch(40, catalog=catalog, tenant=tenant_a)
    orders_by_product = {}
    for product in products:
        orders = random_orders(rng, product, rng.randint(0, 30))
        Order.objects.bulk_create(orders)
        orders_by_product[product.pk] = orders
    flags_score(tenant=tenant_a, now=NOW)
    states = {s.product_id: s for s in FlagState.objects.for_tenant(tenant_a)}
    flagged_expected = 0
    for product in products:
        order_facts = [facts(o) for o in orders_by_product[product.pk]]
        levels = {}
        for metric, policy in policies.items():
            counts = metric_counts(metric, order_facts, now=NOW, policy=policy, tz=tz)
            levels[metric] = classify(counts, policy)
            state = states.get(product.pk)
            if state is not None:
                assert state.counts(metric) == counts, (product.pk, metric)
                assert state.level(metric) == levels[metric], (product.pk, metric)
        worst = worst_level(list(levels.values()))
        if worst == Level.OK:
            assert product.pk not in states
        else:
            flagged_expected += 1
            expected = FlagStatus.IMPACTED if worst == Level.IMPACTED else FlagStatus.AT_RISK
            assert states[product.pk].status == expected
    assert len(states) == flagged_expected
    assert flagged_expected > 3  # the random data does flag products


@pytest.mark.parametrize("seed", [4, 5])
def test_details_page_reads_the_same_definitions(tenant_a, seed):
    """The details page's live counts (the scoring SQL for one product) and its orders that
    count against each metric (the definitions as a Django filter) agree with the pure
    formulas on random orders, fee policies with one or both settings included."""
    rng = random.Random(seed)
    catalog = CatalogFactory(tenant=tenant_a)
    fee = DEFAULT_POLICIES[Metric.HIGH_SHIPPING_FEE]
    variants = [
        {},
        {"fee_amount": None},
        {"fee_ratio_percent": None},
    ]
    for product in ProductFactory.create_batch(6, catalog=catalog, tenant=tenant_a):
        orders = random_orders(rng, product, rng.randint(5, 40))
        Order.objects.bulk_create(orders)
        for variant in variants:
            policies = {**DEFAULT_POLICIES, Metric.HIGH_SHIPPING_FEE: replace(fee, **variant)}
            order_facts = {o.order_id: facts(o) for o in orders}
            for metric, policy in policies.items():
                d = METRICS[metric]
                ctx = Ctx(now=NOW, policy=policy)
                expected = {
                    oid
                    for oid, f in order_facts.items()
                    if all_of(IN_WINDOW, d.population, d.against).test(f, ctx) is True
                }
                got = set(
                    Order.objects.for_tenant(tenant_a)
                    .filter(product=product)
                    .filter(counting_orders_filter(metric, policy, NOW))
                    .values_list("order_id", flat=True)
                )
                assert got == expected, (metric, variant)
        results = product_metrics(tenant=tenant_a, product=product, now=NOW)
        pure = [facts(o) for o in orders]
        for r in results:
            assert r.counts == metric_counts(r.metric, pure, now=NOW, policy=r.policy)


def test_state_columns_follow_the_definitions():
    """Every metric of the definitions table has its three columns on both stored models."""
    for model in (FlagState, FlagTransition):
        names = {f.name for f in model._meta.get_fields()}
        for d in METRICS.values():
            assert {f"{d.column}_num", f"{d.column}_den", f"{d.column}_level"} <= names


def _late_orders(product, late: int, on_time: int, *, start: datetime, prefix: str = "L"):
    orders = []
    for i in range(late + on_time):
        placed = start + timedelta(hours=i)
        orders.append(
            OrderFactory.build(
                product=product,
                order_id=f"{prefix}-{product.pk}-{i}",
                placed_at=placed,
                ship_by=placed + timedelta(days=2),
                shipped_at=placed + timedelta(days=3 if i < late else 1),
            )
        )
    Order.objects.bulk_create(orders)


def test_idempotent_and_transitions_written_once(tenant_a):
    product = ProductFactory(catalog__tenant=tenant_a)
    _late_orders(product, late=10, on_time=90, start=NOW - timedelta(days=10))  # 10%: impacted
    first = flags_score(tenant=tenant_a, now=NOW)
    assert (first.changed_states, first.transitions) == (1, 1)
    again = flags_score(tenant=tenant_a, now=NOW)
    assert (again.changed_states, again.transitions) == (0, 0)
    later = flags_score(tenant=tenant_a, now=NOW + timedelta(minutes=5))
    assert (later.changed_states, later.transitions) == (0, 0)
    state = FlagState.objects.for_tenant(tenant_a).get()
    assert state.status == FlagStatus.IMPACTED
    assert state.status_since == NOW
    assert FlagCount.objects.for_tenant(tenant_a).get().count == 1
    assert flag_counters(tenant=tenant_a) == {"impacted": 1, "at_risk": 0, "resolved": 0}
    assert (state.late_num, state.late_den, state.late_level) == (10, 100, Level.IMPACTED)
    t = FlagTransition.objects.for_tenant(tenant_a).get()
    assert (t.from_status, t.to_status, t.at) == ("none", "impacted", NOW)
    assert t.policies["late_dispatch_rate"]["target"] == "4.00"


def test_full_lifecycle(tenant_a):
    """none -> At risk -> Impacted -> At risk -> Resolved -> (expired) none."""
    product = ProductFactory(catalog__tenant=tenant_a)
    t0 = NOW - timedelta(days=20)
    _late_orders(product, late=3, on_time=97, start=t0)  # 3%: at risk
    flags_score(tenant=tenant_a, now=NOW)
    _late_orders(product, late=10, on_time=0, start=t0 + timedelta(days=5), prefix="M")
    flags_score(tenant=tenant_a, now=NOW + timedelta(hours=1))  # 13/110: impacted
    # The seller ships well: 200 more on-time orders bring late dispatch to 13/310 = 4.2%,
    # then 400 more to 13/510 = 2.5% (at risk)
    _late_orders(product, late=0, on_time=400, start=t0 + timedelta(days=6), prefix="N")
    flags_score(tenant=tenant_a, now=NOW + timedelta(hours=2))
    # Older late orders leave the 30-day window: resolved.
    flags_score(tenant=tenant_a, now=t0 + timedelta(days=36))
    # Resolved for 14 days (FLAGGED_RESOLVED_DAYS default): leaves the list.
    flags_score(tenant=tenant_a, now=t0 + timedelta(days=36 + 13))
    flags_score(tenant=tenant_a, now=t0 + timedelta(days=36 + 14))
    history = list(
        FlagTransition.objects.for_tenant(tenant_a)
        .order_by("at")
        .values_list("from_status", "to_status")
    )
    assert history == [
        ("none", "at_risk"),
        ("at_risk", "impacted"),
        ("impacted", "at_risk"),
        ("at_risk", "resolved"),
        ("resolved", "none"),
    ]
    assert FlagState.objects.for_tenant(tenant_a).get().status == FlagStatus.NONE


def test_tenants_do_not_mix(tenant_a, tenant_b):
    pa = ProductFactory(catalog__tenant=tenant_a)
    pb = ProductFactory(catalog__tenant=tenant_b)
    _late_orders(pa, late=0, on_time=50, start=NOW - timedelta(days=5))
    _late_orders(pb, late=50, on_time=0, start=NOW - timedelta(days=5))
    flags_score(tenant=tenant_a, now=NOW)
    assert not FlagState.objects.for_tenant(tenant_a).exists()
    assert not FlagState.objects.for_tenant(tenant_b).exists()  # not scored yet
    flags_score(tenant=tenant_b, now=NOW)
    assert FlagState.objects.for_tenant(tenant_b).get().product_id == pb.pk


def test_tenant_override_and_disabled_policy(tenant_a, tenant_b):
    pa = ProductFactory(catalog__tenant=tenant_a)
    _late_orders(pa, late=5, on_time=95, start=NOW - timedelta(days=5))  # 5% late
    TenantMetricPolicy.objects.create(
        tenant=tenant_b, metric=Metric.LATE_DISPATCH, at_risk_threshold=1, target=2
    )
    assert effective_policies(tenant=tenant_a)[Metric.LATE_DISPATCH].target == Decimal("4")
    TenantMetricPolicy.objects.create(
        tenant=tenant_a, metric=Metric.LATE_DISPATCH, at_risk_threshold=5, target=6
    )
    flags_score(tenant=tenant_a, now=NOW)
    assert FlagState.objects.for_tenant(tenant_a).get().status == FlagStatus.AT_RISK
    TenantMetricPolicy.objects.for_tenant(tenant_a).update(enabled=False)
    flags_score(tenant=tenant_a, now=NOW + timedelta(hours=1))
    assert FlagState.objects.for_tenant(tenant_a).get().status == FlagStatus.RESOLVED


def test_window_follows_the_tenants_clock_across_a_dst_change(tenant_a):
    """New York's clocks moved forward on 8 March 2026: at 12:00 EDT on 5 April the last 30
    days began at 12:00 EST on 6 March (17:00 UTC), 719 hours back. Scoring, the details
    page's counts and its orders to fix all start the window there, as the pure rules do."""
    tenant_a.time_zone = "America/New_York"
    tenant_a.save()
    now = datetime(2026, 4, 5, 16, 0, tzinfo=UTC)
    product = ProductFactory(catalog__tenant=tenant_a)
    start = datetime(2026, 3, 6, 17, 0, tzinfo=UTC)
    # 10 on-time orders inside the window, then one overdue at 11:30 EST on 6 March (out)
    # and one at 12:00 EST (in): overdue 1 of 11, not 2 of 12
    orders = [
        OrderFactory.build(
            product=product,
            order_id=f"W-{i}",
            placed_at=start + timedelta(days=1 + i),
            ship_by=start + timedelta(days=2 + i),
            shipped_at=start + timedelta(days=1 + i, hours=2),
        )
        for i in range(10)
    ]
    for order_id, placed in (("OUT", start - timedelta(minutes=30)), ("IN", start)):
        orders.append(
            OrderFactory.build(
                product=product,
                order_id=order_id,
                placed_at=placed,
                ship_by=placed + timedelta(days=2),
                shipped_at=None,
            )
        )
    Order.objects.bulk_create(orders)
    policy = effective_policies(tenant=tenant_a)[Metric.OVERDUE_UNSHIPPED]
    pure = metric_counts(
        Metric.OVERDUE_UNSHIPPED,
        [facts(o) for o in orders],
        now=now,
        policy=policy,
        tz=ZoneInfo("America/New_York"),
    )
    assert (pure.numerator, pure.denominator) == (1, 11)
    flags_score(tenant=tenant_a, now=now)
    state = FlagState.objects.for_tenant(tenant_a).get()
    assert state.counts(Metric.OVERDUE_UNSHIPPED) == pure
    live = {r.metric: r for r in product_metrics(tenant=tenant_a, product=product, now=now)}
    assert live[Metric.OVERDUE_UNSHIPPED].counts == pure
    listed = counting_orders(tenant=tenant_a, product=product, results=list(live.values()), now=now)
    assert [o.order_id for o in listed[Metric.OVERDUE_UNSHIPPED]] == ["IN"]
