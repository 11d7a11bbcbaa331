"""The task that recomputes a catalog's Diagnostics snapshot, in a module of its own.

``ecr.services`` queues it after a feed run's review, and ``ecr.tasks`` (which calls
services) re-exports it for autodiscovery: services -> diagnostics_tasks -> diagnostics,
with no import back into services.
"""

from __future__ import annotations

from celery import shared_task

from catalog_health.tenancy.models import Tenant
from catalogs.models import Catalog

from .diagnostics import diagnostics_snapshot_current


def task_catalog(tenant_id: int, catalog_id: int) -> tuple[Tenant, Catalog] | None:
    """The tenant and its catalog a task was given, re-fetched through the tenant scope."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return None
    catalog = Catalog.objects.for_tenant(tenant).filter(pk=catalog_id).first()
    return (tenant, catalog) if catalog else None


@shared_task(name="ecr.diagnostics_refresh")
def diagnostics_refresh(*, tenant_id: int, catalog_id: int) -> bool:
    """Recompute a catalog's Diagnostics snapshot if its data changed (see diagnostics)."""
    found = task_catalog(tenant_id, catalog_id)
    if found is None:
        return False
    tenant, catalog = found
    diagnostics_snapshot_current(tenant=tenant, catalog=catalog)
    return True
