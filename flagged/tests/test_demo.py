"""The demo's orders tell the story Manage Orders explains: each line is due its placed time
plus its catalog's handling time (the rule an imported line without a ship-by gets), some
products are Impacted by overdue orders, others At risk or Resolved."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from catalogs.demo import seed_demo as catalogs_seed
from catalogs.models import Catalog, Order
from catalogs.order_formats import order_file_open
from catalogs.rules import ship_by_due
from catalogs.tests.export_samples import tiktok_csv, tiktok_row
from flagged.demo import PREFIX, seed_demo
from flagged.models import FlagState

# an import computes ship-by with the catalog's handling time: the demo follows the same rule
PLACED = datetime(2026, 3, 15, 0, 5, 11, tzinfo=UTC)  # "03/14/2026 9:05:11 PM" in São Paulo
PAID = datetime(2026, 3, 15, 0, 6, tzinfo=UTC)


@pytest.mark.parametrize("handling_days", [0, 2, 3, 7])
def test_the_demos_rule_is_the_one_an_import_computes_ship_by_with(handling_days):
    data = tiktok_csv(tiktok_row(shipped="", tracking=""), tiktok_row(order_id="2", paid=""))
    file = order_file_open(data, tz="America/Sao_Paulo", handling_days=handling_days)
    lines = pd.concat([lines for lines, _, _ in file.chunks()], ignore_index=True)
    due = [ship_by_due(start, handling_days=handling_days) for start in (PAID, PLACED)]
    assert [t.to_pydatetime() for t in lines["ship_by"]] == due


@pytest.mark.slow
@pytest.mark.django_db
@pytest.mark.parametrize("handling_days", [3, 5])
def test_demo_orders_are_due_after_their_catalogs_handling_time(tenant_a, handling_days):
    catalogs_seed(tenants=[tenant_a], stdout=io.StringIO(), products_per_catalog=40)
    catalog = Catalog.objects.for_tenant(tenant_a).order_by("pk").first()
    catalog.handling_days = handling_days
    catalog.save()

    seed_demo(tenants=[tenant_a], stdout=io.StringIO())

    orders = Order.objects.for_tenant(tenant_a).filter(order_id__startswith=PREFIX)
    assert orders.count() > 1000
    for placed, ship_by in orders.values_list("placed_at", "ship_by"):
        assert ship_by == ship_by_due(placed, handling_days=handling_days)
    # the story: overdue orders to ship in Manage Orders, and every kind of flagged product
    now = datetime.now(UTC)
    overdue = orders.filter(shipped_at=None, cancelled_at=None, ship_by__lt=now)
    assert overdue.exists()
    assert not orders.filter(
        shipped_at=None, cancelled_at=None, ship_by__lt=now - timedelta(days=4)
    )
    states = set(FlagState.objects.for_tenant(tenant_a).values_list("status", flat=True))
    assert {"impacted", "at_risk", "resolved"} <= states
