"""60 days of realistic orders and daily impressions for the demo tenants.

Some products are healthy, some become At risk, some Impacted (late dispatch, overdue
orders, out-of-stock cancellations, high shipping fees) and some recover to Resolved. The
history is real: scoring is replayed day by day, and each day's impressions follow the
status the product had that day (they drop while Impacted and recover after).

Deterministic (seeded) and idempotent: a tenant that already has demo orders is skipped.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from catalogs.models import Catalog, Order, Product
from catalogs.order_io import ImpressionRow, OrderRow
from catalogs.rules import ship_by_due
from catalogs.services import impressions_upsert, orders_upsert

from .models import FlagState
from .scoring import FlagStatus
from .services import flags_score

DAYS = 60
PREFIX = "DEMO-"
# scenario -> how many products get it (in this order, on the first catalog's products)
SCENARIOS = [
    ("late_dispatch_now", 3),  # ships late from ~3 weeks ago: At risk, then Impacted
    # stopped shipping handling time + 2 days ago: Impacted, fix it in Manage Orders
    ("overdue_now", 2),
    ("oos_resolved", 3),  # out-of-stock cancellations weeks 1-3, then fixed: Resolved
    ("slightly_late", 2),  # ~3% late dispatch: At risk
    ("high_fee", 2),  # some orders with a shipping fee above 25% of the item: At risk
    ("no_tracking", 1),  # ships without tracking numbers lately: Impacted
    ("healthy", 11),
]
IMPRESSION_FACTOR = {
    FlagStatus.IMPACTED: 0.3,
    FlagStatus.AT_RISK: 0.85,
    FlagStatus.RESOLVED: 1.0,
    FlagStatus.NONE: 1.0,
}


def _order_rows(
    scenario: str,
    product: Product,
    rng: random.Random,
    start: datetime,
    now: datetime,
    handling_days: int,
) -> list[OrderRow]:
    rows = []
    price = product.price if product.price and product.price > 0 else Decimal("39.90")
    n = 0
    for day in range(DAYS):
        day_start = start + timedelta(days=day)
        for _ in range(rng.randint(2, 5)):
            n += 1
            placed = day_start + timedelta(hours=rng.uniform(7, 22))
            if placed > now:
                continue
            # due as Manage Orders says: placed (the demo's lines are paid at once) plus the
            # catalog's handling time
            ship_by = ship_by_due(placed, handling_days=handling_days)
            shipped = placed + timedelta(hours=rng.uniform(6, 40))
            tracking = f"1Z{rng.randint(10**9, 10**10 - 1)}"
            cancelled = None
            reason = ""
            fee = Decimal(rng.choice(["0.00", "3.99", "4.99"]))
            age = (now - placed).days
            if scenario == "late_dispatch_now" and age <= 22 and rng.random() < 0.3:
                shipped = ship_by + timedelta(hours=rng.uniform(2, 48))
            elif scenario == "slightly_late" and n % 33 == 0:
                shipped = ship_by + timedelta(hours=5)
            elif scenario == "overdue_now" and age <= handling_days + 2:
                shipped = None
                tracking = ""
            elif scenario == "oos_resolved" and 38 <= age <= 55 and rng.random() < 0.2:
                shipped, tracking = None, ""
                cancelled, reason = placed + timedelta(hours=3), "out_of_stock"
            elif scenario == "high_fee" and n % 14 == 0:
                fee = (price * Decimal("0.4")).quantize(Decimal("0.01"))
            elif scenario == "no_tracking" and age <= 12 and rng.random() < 0.5:
                tracking = ""
            if cancelled is None and rng.random() < 0.01:
                shipped, tracking = None, ""
                cancelled, reason = placed + timedelta(hours=1), "buyer_request"
            if shipped is not None and shipped > now:
                shipped, tracking = None, ""
            rows.append(
                OrderRow(
                    order_id=f"{PREFIX}{product.pk}-{n:04d}",
                    sku=product.sku,
                    quantity=rng.choice([1, 1, 1, 2]),
                    item_price=price,
                    shipping_fee=fee,
                    placed_at=placed,
                    ship_by=ship_by,
                    shipped_at=shipped,
                    delivered_at=shipped + timedelta(days=3)
                    if shipped and shipped + timedelta(days=3) < now
                    else None,
                    cancelled_at=cancelled,
                    cancel_reason=reason,
                    tracking_number=tracking,
                )
            )
    return rows


def seed_demo(*, tenants, stdout) -> None:
    now = timezone.now().replace(microsecond=0)
    start = (now - timedelta(days=DAYS - 1)).replace(hour=0, minute=0, second=0)
    for t_index, tenant in enumerate(tenants):
        if Order.objects.for_tenant(tenant).filter(order_id__startswith=PREFIX).exists():
            stdout.write(f"  {tenant.slug}: demo orders already there")
            continue
        catalog = Catalog.objects.for_tenant(tenant).order_by("pk").first()
        if catalog is None:
            stdout.write(f"  {tenant.slug}: no catalog, no demo orders")
            continue
        total = sum(n for _, n in SCENARIOS)
        products = list(
            Product.objects.for_tenant(tenant)
            .active()
            .filter(catalog=catalog)
            .order_by("pk")[:total]
        )
        rng = random.Random(6000 + t_index)
        plan: list[tuple[str, Product]] = []
        i = 0
        for scenario, count in SCENARIOS:
            for _ in range(count):
                if i < len(products):
                    plan.append((scenario, products[i]))
                    i += 1
        rows: list[OrderRow] = []
        for scenario, product in plan:
            rows += _order_rows(scenario, product, rng, start, now, catalog.handling_days)
        orders_upsert(tenant=tenant, catalog=catalog, rows=rows)
        # Replay scoring once per day (at the day's end) and give each day the impressions
        # that the product's status of that day earns.
        baseline = {p.pk: rng.randint(300, 2500) for _, p in plan}
        factor = {p.pk: 1.0 for _, p in plan}
        impressions: list[ImpressionRow] = []
        for day in range(DAYS):
            moment = min(start + timedelta(days=day, hours=23, minutes=59), now)
            flags_score(tenant=tenant, now=moment)
            statuses = dict(
                FlagState.objects.for_tenant(tenant).values_list("product_id", "status")
            )
            for _, product in plan:
                goal = IMPRESSION_FACTOR[FlagStatus(statuses.get(product.pk, "none"))]
                # Visibility changes over a few days, not at once.
                factor[product.pk] += (goal - factor[product.pk]) * 0.45
                weekly = 1.0 + 0.12 * (1 if (start + timedelta(days=day)).weekday() >= 5 else 0)
                value = int(
                    baseline[product.pk] * factor[product.pk] * weekly * rng.uniform(0.9, 1.1)
                )
                impressions.append(
                    ImpressionRow(
                        sku=product.sku,
                        date=(start + timedelta(days=day)).date(),
                        impressions=value,
                        clicks=int(value * rng.uniform(0.01, 0.03)),
                    )
                )
        impressions_upsert(tenant=tenant, catalog=catalog, rows=impressions)
        flags_score(tenant=tenant, now=now)
        states = list(FlagState.objects.for_tenant(tenant).values_list("status", flat=True))
        counts = {s: states.count(s) for s in ("impacted", "at_risk", "resolved")}
        stdout.write(
            f"  {tenant.slug}/{catalog.name}: {len(rows)} order lines, {len(impressions)} days of "
            f"impressions; {counts['impacted']} Impacted, {counts['at_risk']} At risk, "
            f"{counts['resolved']} Resolved"
        )
