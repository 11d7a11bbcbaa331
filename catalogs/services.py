"""Writes of catalogs and products. Every function takes the tenant and the actor."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from catalog_health.tenancy.models import Tenant
from catalog_health.tenancy.services import audit_record

from .models import Catalog, Product, ReviewStatus
from .rules import EDITABLE_FIELDS, product_edit_errors


@transaction.atomic
def catalog_create(
    *, tenant: Tenant, actor, name: str, country: str = "US", currency: str | None = None
) -> Catalog:
    catalog = Catalog(
        tenant=tenant,
        name=name.strip(),
        country=country.upper(),
        currency=(currency or tenant.currency).upper(),
    )
    catalog.full_clean()
    catalog.save()
    audit_record(tenant=tenant, actor=actor, action="catalog.created", target=catalog)
    return catalog


@transaction.atomic
def catalog_update(*, tenant: Tenant, catalog: Catalog, actor, data: dict) -> Catalog:
    if catalog.tenant_id != tenant.pk:
        raise Catalog.DoesNotExist
    changes = {}
    for field in ("name", "country", "currency"):
        if field in data and getattr(catalog, field) != data[field]:
            changes[field] = [getattr(catalog, field), data[field]]
            setattr(catalog, field, data[field])
    if changes:
        catalog.full_clean()
        catalog.save()
        audit_record(
            tenant=tenant, actor=actor, action="catalog.updated", target=catalog, changes=changes
        )
    return catalog


def _json_value(value):
    return None if value is None else str(value)


@transaction.atomic
def product_update(*, tenant: Tenant, product: Product, actor, data: dict) -> Product:
    """A seller's edit of inventory, price, sale price, shipping fee or availability.

    Validated as a whole, audited field by field (old and new values), and the product goes
    back to review so its status and the catalog's ECR state follow the fix.
    """
    if product.tenant_id != tenant.pk:
        raise Product.DoesNotExist
    # Lock the row: two sellers saving at once must not lose either audit entry.
    product = Product.objects.for_tenant(tenant).select_for_update().get(pk=product.pk)
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({f: "This field cannot be edited here." for f in sorted(unknown)})
    merged = {f: data.get(f, getattr(product, f)) for f in EDITABLE_FIELDS}
    errors = product_edit_errors(merged)
    if errors:
        raise ValidationError(errors)
    changes = {
        f: [_json_value(getattr(product, f)), _json_value(merged[f])]
        for f in EDITABLE_FIELDS
        if merged[f] != getattr(product, f)
    }
    if not changes:
        return product
    now = timezone.now()
    for field in changes:
        setattr(product, field, merged[field])
    product.last_changed_at = now
    product.review_status = ReviewStatus.PENDING
    product.review_requested_at = now
    product.save(
        update_fields=[
            *changes,
            "last_changed_at",
            "review_status",
            "review_requested_at",
            "updated_at",
        ]
    )
    audit_record(
        tenant=tenant, actor=actor, action="product.updated", target=product, changes=changes
    )
    return product
