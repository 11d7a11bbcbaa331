"""Factories of the ecr app (tenant as a SubFactory, like every app)."""

from decimal import Decimal

import factory
from django.utils import timezone

from catalogs.models import ReviewStatus
from catalogs.tests.factories import CatalogFactory, ProductFactory, TenantFactory
from ecr.models import CatalogEcrState, EcrEvent, ProductIssue


class PendingProductFactory(ProductFactory):
    """A product as a feed run leaves it: Pending since now, with a GTIN (no warnings)."""

    gtin = "4006381333931"
    review_status = ReviewStatus.PENDING
    review_requested_at = factory.LazyFunction(timezone.now)


class EcrStateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CatalogEcrState

    catalog = factory.SubFactory(CatalogFactory)
    tenant = factory.SelfAttribute("catalog.tenant")
    enabled = True


class EcrEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EcrEvent

    catalog = factory.SubFactory(CatalogFactory)
    tenant = factory.SelfAttribute("catalog.tenant")
    enabled = False
    reason = "below_disable_threshold"
    trigger = "feed_run"
    ratio = 0.5
    active_count = 20
    available_count = 10
    disable_threshold = Decimal("0.8")
    enable_threshold = Decimal("0.9")


class ProductIssueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductIssue

    product = factory.SubFactory(ProductFactory)
    tenant = factory.SelfAttribute("product.tenant")
    catalog = factory.SelfAttribute("product.catalog")
    code = "price_not_positive"
    severity = "error"
    field = "price"
    message = "The price is 0; it must be above zero."
    how_to_fix = "Set a price above zero."
    rule = "price_not_positive"
    created_at = factory.LazyFunction(timezone.now)


__all__ = ["CatalogFactory", "ProductFactory", "TenantFactory"]
