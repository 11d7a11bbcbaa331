"""Factories of order lines and daily impressions (tenant follows the product)."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from catalogs.models import DailyImpression, Order
from catalogs.tests.factories import ProductFactory


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    product = factory.SubFactory(ProductFactory)
    tenant = factory.SelfAttribute("product.tenant")
    catalog = factory.SelfAttribute("product.catalog")
    sku = factory.SelfAttribute("product.sku")
    order_id = factory.Sequence(lambda n: f"ORD-{n:07d}")
    quantity = 1
    item_price = Decimal("40.00")
    shipping_fee = Decimal("4.00")
    placed_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=3))
    ship_by = factory.LazyAttribute(lambda o: o.placed_at + timedelta(days=2))
    shipped_at = factory.LazyAttribute(lambda o: o.placed_at + timedelta(days=1))
    tracking_number = factory.Sequence(lambda n: f"1Z{n:010d}")


class DailyImpressionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DailyImpression

    product = factory.SubFactory(ProductFactory)
    tenant = factory.SelfAttribute("product.tenant")
    catalog = factory.SelfAttribute("product.catalog")
    sku = factory.SelfAttribute("product.sku")
    date = factory.LazyFunction(lambda: timezone.now().date())
    impressions = 1000
    clicks = 20


def order_admin_data(order: Order, **changes) -> dict:
    """The order line's Django admin change form as posted (its times in UTC, the form's time
    zone), with changes."""
    data = {
        "tenant": order.tenant_id,
        "catalog": order.catalog_id,
        "product": order.product_id,
        "order_id": order.order_id,
        "sku": order.sku,
        "quantity": order.quantity,
        "item_price": order.item_price,
        "shipping_fee": order.shipping_fee,
        "cancel_reason": "",
        "tracking_number": order.tracking_number,
    }
    for field in ("placed_at", "ship_by", "shipped_at"):
        when = getattr(order, field)
        data[f"{field}_0"] = when.date().isoformat() if when else ""
        data[f"{field}_1"] = when.strftime("%H:%M:%S") if when else ""
    return {**data, **changes}


def impression_admin_data(impression: DailyImpression, **changes) -> dict:
    """The daily impression's Django admin change form as posted, with changes."""
    data = {
        "tenant": impression.tenant_id,
        "catalog": impression.catalog_id,
        "product": impression.product_id,
        "sku": impression.sku,
        "date": impression.date.isoformat(),
        "impressions": impression.impressions,
        "clicks": impression.clicks,
    }
    return {**data, **changes}
