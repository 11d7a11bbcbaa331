"""Scoring on SQLite, the embedded default `make demo` runs on: the valid tracking rule (a
regular expression) and a product removed from its catalog read as on PostgreSQL. Run in a
subprocess with its own SQLite settings, as a demo runs."""

from __future__ import annotations

import json

import pytest

from .test_valid_tracking import CASES

pytestmark = pytest.mark.slow

SCRIPT = r"""
import json, sys
from datetime import timedelta
from django.utils import timezone
from catalogs.tests.factories import CatalogFactory, ProductFactory
from catalogs.tests.order_factories import OrderFactory
from flagged.models import FlagState
from flagged.selectors import product_metrics
from flagged.services import flags_score

cases = json.loads(sys.stdin.read())
catalog = CatalogFactory()
tracked = ProductFactory(catalog=catalog, sku="T-1")
gone = ProductFactory(catalog=catalog, sku="G-1")
now = timezone.now()
for tracking in cases:
    OrderFactory(product=tracked, tracking_number=tracking, placed_at=now - timedelta(days=3))
for _ in range(10):
    OrderFactory(product=gone, ship_by=now - timedelta(days=1), shipped_at=None)
flags_score(tenant=catalog.tenant, now=now)
before = FlagState.objects.get(product=gone).status
gone.removed_at = now
gone.save(update_fields=["removed_at"])
flags_score(tenant=catalog.tenant, now=now + timedelta(minutes=1))
state = FlagState.objects.get(product=tracked)
live = {r.metric.value: r.counts for r in product_metrics(
    tenant=catalog.tenant, product=tracked, now=now)}["valid_tracking_rate"]
print("RESULT " + json.dumps({
    "state": [state.tracking_num, state.tracking_den],
    "live": [live.numerator, live.denominator],
    "gone": [before, FlagState.objects.get(product=gone).status],
}))
"""


def test_scoring_on_sqlite(on_sqlite):
    result = on_sqlite(SCRIPT, stdin=json.dumps([c[1] for c in CASES]))
    valid = sum(1 for c in CASES if c[2])
    assert result["state"] == [valid, len(CASES)]
    assert result["live"] == [valid, len(CASES)]
    assert result["gone"] == ["impacted", "none"]
