"""Orders whose file does not say their tracking (Shopify's export has no tracking column)
are not scored on the valid tracking rate: importing them flags nothing, while the same
orders from a file that says they have none make the product Impacted."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from catalogs import order_files
from catalogs.models import Order
from catalogs.tests.export_samples import SHOPIFY_HEADER, tiktok_csv, tiktok_row
from catalogs.tests.factories import CatalogFactory, ProductFactory
from flagged.models import FlagState
from flagged.selectors import product_metrics
from flagged.services import flags_score

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)
LINES = 12  # above the default minimum of 10 orders


def shopify_fulfilled(n: int) -> bytes:
    """n Shopify orders of one shipped line each, shipped the day after they were paid."""
    rows = [
        f"#{1000 + i},a@example.com,paid,2026-03-01 10:05:00 -0500,fulfilled,"
        "2026-03-02 09:00:00 -0500,no,USD,40.00,5.00,0,45.00,,0,Standard,"
        f"2026-03-01 10:00:00 -0500,1,Shirt,40.00,,SKU-1,true,true,fulfilled,,{5000 + i},"
        for i in range(n)
    ]
    return (SHOPIFY_HEADER + "\n" + "\n".join(rows) + "\n").encode()


@pytest.fixture
def product(tenant_a):
    catalog = CatalogFactory(tenant=tenant_a, currency="USD")
    return ProductFactory(tenant=tenant_a, catalog=catalog, sku="SKU-1")


def _import_and_score(tenant, product, data) -> dict:
    result = order_files.orders_import_file(
        tenant=tenant, catalog=product.catalog, data=data, actor=None
    )
    assert result.written == LINES and not result.errors
    flags_score(tenant=tenant, now=NOW)
    return {r.metric.value: r for r in product_metrics(tenant=tenant, product=product, now=NOW)}


def test_a_shopify_export_of_shipped_orders_flags_no_product(tenant_a, product):
    metrics = _import_and_score(tenant_a, product, shopify_fulfilled(LINES))
    assert Order.objects.for_tenant(tenant_a).filter(shipped_at__isnull=False).count() == LINES
    tracking = metrics["valid_tracking_rate"]
    assert (tracking.counts.numerator, tracking.counts.denominator) == (0, 0)
    assert tracking.level == 0
    assert not FlagState.objects.for_tenant(tenant_a).exclude(status="none").exists()


def test_the_same_orders_said_to_have_no_tracking_make_the_product_impacted(tenant_a, product):
    rows = [
        tiktok_row(
            order_id=str(i),
            created="2026-03-01T15:00:00Z",
            paid="2026-03-01T15:05:00Z",
            shipped="2026-03-02T14:00:00Z",
            tracking="",
        )
        for i in range(LINES)
    ]
    metrics = _import_and_score(tenant_a, product, tiktok_csv(*rows))
    tracking = metrics["valid_tracking_rate"]
    assert (tracking.counts.numerator, tracking.counts.denominator) == (0, LINES)
    state = FlagState.objects.for_tenant(tenant_a).get(product=product)
    assert (state.status, state.tracking_den) == ("impacted", LINES)
