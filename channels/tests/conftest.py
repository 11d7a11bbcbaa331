from decimal import Decimal

import pytest

from catalogs.models import ReviewStatus
from catalogs.tests.factories import CatalogFactory, ProductFactory
from flagged.tests.factories import FlagStateFactory


@pytest.fixture
def catalog(tenant_a):
    return CatalogFactory(tenant=tenant_a, name="Shoes", currency="USD")


@pytest.fixture
def products(catalog):
    """Two Available, one Pending, one Unavailable, one Available+Impacted, one
    Available+At risk, one removed."""

    def make(sku, status=ReviewStatus.AVAILABLE, **kw):
        return ProductFactory(catalog=catalog, sku=sku, review_status=status, **kw)

    ships = {"availability_date": "2026-03-01T00:00Z"}
    out = {
        "a1": make(
            "A1",
            title="Trail Runner",
            price=Decimal("12.99"),
            sale_price=Decimal("9.99"),
            additional_image_links=[
                "https://shop.example.com/i/a1-2.jpg",
                "https://shop.example.com/i/a1-3.jpg",
            ],
            item_group_id="G1",
            condition="new",
            gtin="4006381333931",
            custom_attributes={"sale_price_effective_date": "2026-01-01T00:00Z/2026-01-31T23:59Z"},
        ),
        "a2": make("A2", title="Road Runner", availability="out_of_stock", price=Decimal("20.00")),
        "pending": make("P1", status=ReviewStatus.PENDING, title="Pending shoe"),
        "unavailable": make("U1", status=ReviewStatus.UNAVAILABLE, title="Broken shoe"),
        # Google requires the date a preorder or backorder ships
        "impacted": make("I1", title="Late shoe", availability="preorder", custom_attributes=ships),
        "at_risk": make(
            "R1", title="Risky shoe", availability="backorder", custom_attributes=ships
        ),
    }
    gone = make("X1", title="Removed shoe")
    from django.utils import timezone

    gone.removed_at = timezone.now()
    gone.save()
    FlagStateFactory(product=out["impacted"], status="impacted")
    FlagStateFactory(product=out["at_risk"], status="at_risk")
    return out
