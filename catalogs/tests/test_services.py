from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from catalog_health.tenancy.models import AuditEvent
from catalogs import services
from catalogs.models import Product, ReviewStatus

from .factories import CatalogFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_product_update_saves_audits_and_requests_review(tenant_a, member):
    seller = member(tenant_a, "seller")
    product = ProductFactory(
        catalog=CatalogFactory(tenant=tenant_a), review_status=ReviewStatus.AVAILABLE
    )
    services.product_update(
        tenant=tenant_a,
        product=product,
        actor=seller,
        data={"inventory_quantity": 3, "price": Decimal("39.00")},
    )
    product.refresh_from_db()
    assert product.inventory_quantity == 3
    assert product.price == Decimal("39.00")
    assert product.review_status == ReviewStatus.PENDING
    assert product.review_requested_at is not None
    event = AuditEvent.objects.get(action="product.updated")
    assert event.actor == seller
    assert event.changes == {"inventory_quantity": ["10", "3"], "price": ["49.99", "39.00"]}


def test_product_update_without_changes_writes_nothing(tenant_a, member):
    product = ProductFactory(catalog=CatalogFactory(tenant=tenant_a))
    services.product_update(
        tenant=tenant_a, product=product, actor=member(tenant_a), data={"price": product.price}
    )
    assert not AuditEvent.objects.filter(action="product.updated").exists()


def test_invalid_edit_is_rejected_and_nothing_changes(tenant_a, member):
    product = ProductFactory(catalog=CatalogFactory(tenant=tenant_a))
    with pytest.raises(ValidationError) as exc:
        services.product_update(
            tenant=tenant_a,
            product=product,
            actor=member(tenant_a),
            data={"price": Decimal("10"), "sale_price": Decimal("12")},
        )
    assert "sale_price" in exc.value.message_dict
    product.refresh_from_db()
    assert product.price == Decimal("49.99")


def test_uneditable_fields_are_refused(tenant_a, member):
    product = ProductFactory(catalog=CatalogFactory(tenant=tenant_a))
    with pytest.raises(ValidationError):
        services.product_update(
            tenant=tenant_a, product=product, actor=member(tenant_a), data={"sku": "HACK"}
        )


def test_product_of_another_tenant_cannot_be_updated(tenant_a, tenant_b, member):
    product = ProductFactory(catalog=CatalogFactory(tenant=tenant_b))
    with pytest.raises(Product.DoesNotExist):
        services.product_update(
            tenant=tenant_a, product=product, actor=member(tenant_a), data={"inventory_quantity": 1}
        )


def test_catalog_create_is_unique_per_tenant_not_globally(tenant_a, tenant_b, member):
    services.catalog_create(tenant=tenant_a, actor=member(tenant_a), name="Main")
    services.catalog_create(tenant=tenant_b, actor=member(tenant_b), name="Main")
    with pytest.raises(ValidationError):
        services.catalog_create(tenant=tenant_a, actor=None, name="Main")


def test_a_product_its_feed_removed_cannot_be_updated(tenant_a, member):
    from datetime import UTC, datetime

    product = ProductFactory(
        catalog=CatalogFactory(tenant=tenant_a),
        review_status=ReviewStatus.AVAILABLE,
        removed_at=datetime(2026, 3, 5, 12, tzinfo=UTC),
    )
    before = Product.objects.values().get(pk=product.pk)
    with pytest.raises(ValidationError) as exc:
        services.product_update(
            tenant=tenant_a, product=product, actor=member(tenant_a), data={"price": Decimal("1")}
        )
    assert "The feed removed this product on 2026-03-05" in str(exc.value)
    assert Product.objects.values().get(pk=product.pk) == before
    assert not AuditEvent.objects.filter(action="product.updated").exists()
