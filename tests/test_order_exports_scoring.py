"""Order exports as marketplaces write them, imported and scored with the scoring's own SQL:
what a file says of a line's state (cancelled, shipped, its ship-by) counts in the seller
metrics as it should, and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from catalogs import order_files
from catalogs.tests.export_samples import (
    SHOPIFY_PARTIAL,
    amazon_row,
    amazon_txt,
    ebay_csv,
    ebay_row,
)
from catalogs.tests.factories import CatalogFactory, ProductFactory
from flagged.selectors import product_metrics

pytestmark = pytest.mark.django_db


@pytest.fixture
def product(tenant_a):
    catalog = CatalogFactory(tenant=tenant_a, currency="USD")
    return ProductFactory(tenant=tenant_a, catalog=catalog, sku="SKU-1")


@pytest.fixture
def socks(tenant_a, product):
    return ProductFactory(tenant=tenant_a, catalog=product.catalog, sku="SKU-2")


def _metrics(tenant, product, data: bytes, *, now: datetime) -> dict[str, tuple[int, int]]:
    result = order_files.orders_import_file(
        tenant=tenant, catalog=product.catalog, data=data, actor=None
    )
    assert not result.errors
    return {
        r.metric.value: (r.counts.numerator, r.counts.denominator)
        for r in product_metrics(tenant=tenant, product=product, now=now)
    }


def test_amazon_cancellations_count_once_and_weigh_nothing_else(tenant_a, product):
    # Amazon writes a cancelled item with quantity 0 and no item-price nor shipping-price
    cancelled = {"quantity": "0", "currency": "", "price": "", "shipping": ""}
    data = amazon_txt(
        amazon_row(order_id="112-0000000-0000001", order_status="Cancelled",
                   item_status="Cancelled", **cancelled),
        amazon_row(order_id="112-0000000-0000002", item_status="Cancelled", **cancelled),
        amazon_row(order_id="112-0000000-0000003", shipping="0.00"),
    )  # fmt: skip
    metrics = _metrics(tenant_a, product, data, now=datetime(2026, 3, 20, tzinfo=UTC))
    assert metrics["oos_cancellation_rate"] == (0, 3)  # no reason given: not out of stock
    assert metrics["overdue_unshipped_rate"] == (0, 3)
    assert metrics["high_shipping_fee_rate"] == (0, 3)
    assert metrics["late_dispatch_rate"][1] == 1  # the shipped line only


@pytest.mark.parametrize(
    ("now", "overdue"),
    [
        (datetime(2026, 12, 8, 23, tzinfo=UTC), 0),  # 20:00 on its ship-by day in São Paulo
        (datetime(2026, 12, 9, 2, 59, tzinfo=UTC), 0),  # 23:59 that day
        (datetime(2026, 12, 9, 4, tzinfo=UTC), 1),  # 01:00 the next day
    ],
)
def test_an_ebay_ship_by_day_is_overdue_from_the_next_day(tenant_a, product, now, overdue):
    tenant_a.time_zone = "America/Sao_Paulo"
    tenant_a.save()
    data = ebay_csv(
        ebay_row(**{
            "Sales Record Number": "201", "Order Number": "12-10000-00201",
            "Item Number": "2650001", "Custom Label": "SKU-1", "Quantity": "1",
            "Sold For": "$19.99", "Sale Date": "Dec-05-26 14:00:00", "Paid On Date": "Dec-05-26",
            "Ship By Date": "Dec-08-26",
        })
    )  # fmt: skip
    metrics = _metrics(tenant_a, product, data, now=now)
    assert metrics["overdue_unshipped_rate"] == (overdue, 1)


def test_a_fulfilled_line_of_a_partly_fulfilled_shopify_order_is_not_overdue(
    tenant_a, product, socks
):
    now = datetime(2026, 3, 20, tzinfo=UTC)  # past both lines' ship-by
    shirt = _metrics(tenant_a, product, SHOPIFY_PARTIAL, now=now)
    assert shirt["overdue_unshipped_rate"] == (0, 1)
    assert shirt["late_dispatch_rate"] == (0, 1)
    unfulfilled = {
        r.metric.value: (r.counts.numerator, r.counts.denominator)
        for r in product_metrics(tenant=tenant_a, product=socks, now=now)
    }
    assert unfulfilled["overdue_unshipped_rate"] == (1, 1)
