"""Flagged products scoring: the bare GROUP BY floor vs a full scoring run, same data, same run.

    .venv/bin/python bench/flagged_score.py --products 1000000 --orders 10000000

Fills one tenant with N products and M order lines spread over 60 days (set-based, with
INSERT … SELECT generate_series; reused when already there), then measures:

* floor: the one PostgreSQL GROUP BY that computes the five metric counts per product over
  the 30-day window (materialised into a temp table, as the scoring does);
* full scoring run from scratch (metrics, levels, states and transitions written);
* a second run on unchanged data (idempotent: writes nothing);
* a run after 1% of the orders changed.

Target (issue #6): full run <= 3 x floor and never over 60 s on the 2-core machine.
"""

from __future__ import annotations

import argparse
import time

from common import machine, setup_django

DAYS = 60


def fill(tenant, catalog, products: int, orders: int, *, fresh: bool = False) -> None:
    from django.db import connection

    from catalogs.models import Order, Product

    have_p = Product.objects.for_tenant(tenant).count()
    have_o = Order.objects.for_tenant(tenant).count()
    if have_p == products and have_o == orders and not fresh:
        print(f"reusing {products} products and {orders} order lines")
        return
    with connection.cursor() as cur:
        cur.execute("DELETE FROM flagged_flagtransition WHERE tenant_id = %s", [tenant.pk])
        cur.execute("DELETE FROM flagged_flagstate WHERE tenant_id = %s", [tenant.pk])
        cur.execute("DELETE FROM catalogs_order WHERE tenant_id = %s", [tenant.pk])
        cur.execute("DELETE FROM catalogs_product WHERE tenant_id = %s", [tenant.pk])
    started = time.perf_counter()
    # Products: every column from the model's defaults, so new Product fields do not break it.
    template = Product(tenant=tenant, catalog=catalog, sku="x", title="x", price=20)
    fields = [f for f in Product._meta.concrete_fields if not f.primary_key]
    columns, values, params = [], [], []
    for f in fields:
        columns.append(f.column)
        if f.name == "sku":
            values.append("'B-' || g")
        elif f.name == "title":
            values.append("'Bench product ' || g")
        elif f.name in ("first_seen_at", "last_changed_at", "created_at", "updated_at"):
            values.append("now()")
        else:
            values.append("%s")
            params.append(f.get_db_prep_save(f.pre_save(template, add=True), connection))
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO catalogs_product ({', '.join(columns)}) "
            f"SELECT {', '.join(values)} FROM generate_series(1, %s) g",
            [*params, products],
        )
        cur.execute("SELECT min(id) FROM catalogs_product WHERE tenant_id = %s", [tenant.pk])
        first_id = cur.fetchone()[0]
        # Order lines. One product in 20 has a problem (25% shipped late, 10% left unshipped
        # past ship-by, 5% cancelled out of stock, 10% without tracking, 20% high fee); the
        # others are healthy with rare slips (0.5% late, 0.5% unshipped, 0.3% out of stock,
        # 0.5% without tracking, 1% high fee), so that small samples still flag some of them.
        cur.execute("SELECT setseed(0.6)")
    # Loading 10M lines into five random-order B-trees row by row takes many times longer
    # than building the indexes once afterwards: drop them for the load (bench database only).
    with connection.schema_editor() as editor:
        for index in Order._meta.indexes:
            editor.remove_index(Order, index)
        for constraint in Order._meta.constraints:
            editor.remove_constraint(Order, constraint)
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO catalogs_order (tenant_id, catalog_id, product_id, order_id, sku, quantity,
              item_price, shipping_fee, placed_at, ship_by, shipped_at, delivered_at,
              cancelled_at, cancel_reason, tracking_number, updated_at)
            SELECT %(tenant)s, %(catalog)s, %(first)s + p, 'O-' || g, 'B-' || (p + 1), 1,
                   20.00, CASE WHEN r3 < fee THEN 9.00 ELSE 3.00 END,
                   placed, placed + interval '2 days',
                   CASE WHEN r1 >= unshipped + oos THEN placed + interval '2 days'
                        + CASE WHEN r2 < late THEN interval '10 hours'
                               ELSE interval '-20 hours' END
                   END,
                   NULL,
                   CASE WHEN r1 >= unshipped AND r1 < unshipped + oos
                        THEN placed + interval '3 hours' END,
                   CASE WHEN r1 >= unshipped AND r1 < unshipped + oos
                        THEN 'out_of_stock' ELSE '' END,
                   CASE WHEN r1 >= unshipped + oos AND r4 >= notrack THEN '1Z' || g ELSE '' END,
                   now()
            FROM (
              SELECT g, p, placed, r1, r2, r3, r4,
                     CASE WHEN bad THEN 0.10 ELSE 0.005 END AS unshipped,
                     CASE WHEN bad THEN 0.05 ELSE 0.003 END AS oos,
                     CASE WHEN bad THEN 0.25 ELSE 0.005 END AS late,
                     CASE WHEN bad THEN 0.10 ELSE 0.005 END AS notrack,
                     CASE WHEN bad THEN 0.20 ELSE 0.01 END AS fee
              FROM (
                SELECT g, (g::bigint * 7919) %% %(products)s AS p,
                       ((g::bigint * 7919) %% %(products)s) %% 20 = 0 AS bad,
                       now() - random() * interval '%(days)s days' AS placed,
                       random() AS r1, random() AS r2, random() AS r3, random() AS r4
                FROM generate_series(1, %(orders)s) g
              ) raw
            ) s
            """,
            {
                "tenant": tenant.pk,
                "catalog": catalog.pk,
                "first": first_id,
                "products": products,
                "orders": orders,
                "days": DAYS,
            },
        )
    with connection.schema_editor() as editor:
        for index in Order._meta.indexes:
            editor.add_index(Order, index)
        for constraint in Order._meta.constraints:
            editor.add_constraint(Order, constraint)
    with connection.cursor() as cur:
        cur.execute("ANALYZE catalogs_product")
        cur.execute("ANALYZE catalogs_order")
    took = time.perf_counter() - started
    print(f"filled {products} products and {orders} order lines in {took:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--fresh", action="store_true", help="regenerate the data")
    args = parser.parse_args()
    setup_django()

    from datetime import timedelta

    from django.db import connection, transaction
    from django.db.models import Count
    from django.utils import timezone

    from catalog_health.tenancy.models import Tenant
    from catalogs.models import Catalog, Order
    from flagged.models import FlagState, FlagTransition, TenantMetricPolicy
    from flagged.scoring import DEFAULT_POLICIES
    from flagged.scoring_sql import Tables, aggregate_sql, params
    from flagged.services import SCORING_WORK_MEM, effective_policies, flags_score, resolved_days

    slug = "bench-flagged"
    tenant, _ = Tenant.objects.get_or_create(slug=slug, defaults={"name": "Bench flagged"})
    catalog, _ = Catalog.objects.for_tenant(tenant).get_or_create(tenant=tenant, name="bench")
    fill(tenant, catalog, args.products, args.orders, fresh=args.fresh)
    # ~5 order lines per product fall in the 30-day window: evaluate from 5 orders (default
    # 10) so that the run really scores most products and writes many states.
    for metric, policy in DEFAULT_POLICIES.items():
        TenantMetricPolicy.objects.update_or_create(
            tenant=tenant,
            metric=metric,
            defaults={
                "min_orders": 5,
                "at_risk_threshold": policy.at_risk_threshold,
                "target": policy.target,
                "fee_ratio_percent": policy.fee_ratio_percent,
                "fee_amount": policy.fee_amount,
            },
        )

    now = timezone.now()
    policies = effective_policies(tenant=tenant)
    tables = Tables("catalogs_order", "flagged_flagstate", "flagged_flagtransition")
    values = params(tenant_id=tenant.pk, policies=policies, now=now, resolved_days=resolved_days())
    with connection.cursor() as cur:  # warm the cache once, as an hourly job finds it
        cur.execute("SELECT count(*) FROM catalogs_order WHERE tenant_id = %s", [tenant.pk])
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"SET LOCAL work_mem = '{SCORING_WORK_MEM}'")
        started = time.perf_counter()
        cur.execute(
            "CREATE TEMP TABLE bench_floor ON COMMIT DROP AS " + aggregate_sql(tables, policies),
            values,
        )
        floor = time.perf_counter() - started
        groups = cur.rowcount
    FlagTransition.objects.for_tenant(tenant).delete()
    FlagState.objects.for_tenant(tenant).delete()
    full = flags_score(tenant=tenant, now=now)
    again = flags_score(tenant=tenant, now=now + timedelta(minutes=1))
    # 1% of the order lines change (the overdue ones get shipped).
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE catalogs_order SET shipped_at = %s, tracking_number = 'FIX' "
            "WHERE tenant_id = %s AND id %% 100 = 0 "
            "AND shipped_at IS NULL AND cancelled_at IS NULL",
            [now, tenant.pk],
        )
        changed_orders = cur.rowcount
    changed = flags_score(tenant=tenant, now=now + timedelta(minutes=2))
    states = dict(
        FlagState.objects.for_tenant(tenant)
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
    )
    window = (
        Order.objects.for_tenant(tenant).filter(placed_at__gte=now - timedelta(days=30)).count()
    )
    ratio = full.seconds / floor
    print(
        f"flagged scoring products={args.products} orders={args.orders} "
        f"(30-day window: {window} lines, {groups} products with orders)\n"
        f"  floor GROUP BY:            {floor:7.2f} s\n"
        f"  full scoring run:          {full.seconds:7.2f} s  ({ratio:.2f} x floor; "
        f"{full.changed_states} states, {full.transitions} transitions written)\n"
        f"    phases: {', '.join(f'{k} {v:.2f}s' for k, v in (full.phases or {}).items())}\n"
        f"  second run, unchanged:     {again.seconds:7.2f} s  ({again.changed_states} states, "
        f"{again.transitions} transitions written)\n"
        f"  after {changed_orders} orders shipped: {changed.seconds:7.2f} s  "
        f"({changed.changed_states} states, {changed.transitions} transitions written)\n"
        f"  states now: {states}\n"
        f"  target: full <= 3 x floor and <= 60 s: "
        f"{'MET' if ratio <= 3 and full.seconds <= 60 else 'NOT MET'}  ({machine()})"
    )


if __name__ == "__main__":
    main()
