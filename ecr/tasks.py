"""Thin Celery wrappers: take ids, re-fetch through the tenant scope, call one service."""

from __future__ import annotations

import logging

from celery import shared_task

from catalog_health.tenancy.models import Tenant
from catalogs.models import Catalog

from . import services
from .models import EcrTrigger

logger = logging.getLogger(__name__)


def _catalog(tenant_id: int, catalog_id: int) -> tuple[Tenant, Catalog] | None:
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return None
    catalog = Catalog.objects.for_tenant(tenant).filter(pk=catalog_id).first()
    return (tenant, catalog) if catalog else None


@shared_task(name="ecr.review_queue_drain")
def review_queue_drain() -> int:
    """One cycle of the standard review queue: each catalog with Pending products gets at
    most the admin-set capacity reviewed, oldest first. Safe to run twice: a reviewed
    product is no longer Pending."""
    total = 0
    for tenant, catalog in services.catalogs_with_pending():
        total += services.review_queue_drain(tenant=tenant, catalog=catalog).reviewed
    return total


@shared_task(name="ecr.check_all")
def check_all() -> int:
    """Periodic ECR evaluation of every catalog."""
    n = 0
    for tenant, catalog in services.all_catalogs():
        services.ecr_evaluate(tenant=tenant, catalog=catalog, trigger=EcrTrigger.PERIODIC)
        n += 1
    return n


@shared_task(name="ecr.review_catalog")
def review_catalog(*, tenant_id: int, catalog_id: int) -> int:
    """Fast-lane review of one catalog's Pending products (when its ECR is on) and an ECR
    evaluation, e.g. after products were pushed over the API."""
    found = _catalog(tenant_id, catalog_id)
    if found is None:
        logger.warning("catalog gone", extra={"catalog_id": catalog_id})
        return 0
    tenant, catalog = found
    return services.review_after_feed_run(tenant=tenant, catalog=catalog).reviewed


@shared_task(name="ecr.diagnostics_refresh")
def diagnostics_refresh(*, tenant_id: int, catalog_id: int) -> bool:
    """Recompute a catalog's Diagnostics snapshot if its data changed (see services)."""
    found = _catalog(tenant_id, catalog_id)
    if found is None:
        return False
    tenant, catalog = found
    services.diagnostics_snapshot_current(tenant=tenant, catalog=catalog)
    return True
