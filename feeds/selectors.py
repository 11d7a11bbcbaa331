"""Reads of the feeds app, shared by pages and the API. Fixed query counts, keyset pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from catalog_health.pagination import KeysetPage, keyset_paginate
from catalog_health.tenancy.models import Tenant
from catalogs.models import Catalog

from .models import FeedRowError, FeedRun, FeedRunChange, ProductSource


def source_list(*, tenant: Tenant, catalog: Catalog | None = None) -> list[ProductSource]:
    """Sources with their last run attached as ``.last_run`` (2 queries whatever the count)."""
    last_run = (
        FeedRun.objects.for_tenant(tenant)
        .filter(source=OuterRef("pk"))
        .order_by("-id")
        .values("id")[:1]
    )
    qs = (
        ProductSource.objects.for_tenant(tenant)
        .select_related("catalog")
        .annotate(last_run_id=Subquery(last_run))
        .order_by("catalog__name", "name", "id")
    )
    if catalog is not None:
        qs = qs.filter(catalog=catalog)
    sources = list(qs)
    runs = FeedRun.objects.for_tenant(tenant).in_bulk(
        [s.last_run_id for s in sources if s.last_run_id]
    )
    for s in sources:
        s.last_run = runs.get(s.last_run_id)
    return sources


def source_get(*, tenant: Tenant, source_id: int) -> ProductSource:
    return ProductSource.objects.for_tenant(tenant).select_related("catalog").get(pk=source_id)


def run_get(*, tenant: Tenant, run_id: int) -> FeedRun:
    return FeedRun.objects.for_tenant(tenant).select_related("source", "catalog").get(pk=run_id)


def run_history(
    *, tenant: Tenant, source: ProductSource, cursor: str | None, size: int = 25
) -> KeysetPage:
    qs = FeedRun.objects.for_tenant(tenant).filter(source=source)
    return keyset_paginate(qs, sort="-id", cursor=cursor, page_size=size)


def run_row_errors(*, tenant: Tenant, run: FeedRun) -> QuerySet[FeedRowError]:
    return FeedRowError.objects.for_tenant(tenant).filter(run=run).order_by("id")


def run_row_errors_page(
    *, tenant: Tenant, run: FeedRun, cursor: str | None, size: int = 50
) -> KeysetPage:
    return keyset_paginate(
        run_row_errors(tenant=tenant, run=run), sort="id", cursor=cursor, page_size=size
    )


def run_changes(*, tenant: Tenant, run: FeedRun) -> QuerySet[FeedRunChange]:
    """Every change of ``run`` in the order it was recorded (the CSV download)."""
    return FeedRunChange.objects.for_tenant(tenant).filter(run=run).order_by("id")


def run_changes_page(
    *, tenant: Tenant, run: FeedRun, kind: str | None, cursor: str | None, size: int = 50
) -> KeysetPage:
    """A page of what the run changed, by SKU as the product list sorts (the recorded order
    is the feed's, which a seller cannot follow); an index of (…, sku, id) per view."""
    qs = FeedRunChange.objects.for_tenant(tenant).filter(run=run)
    if kind:
        qs = qs.filter(kind=kind)
    return keyset_paginate(qs, sort="sku", cursor=cursor, page_size=size)


@dataclass
class Freshness:
    last_success_at: datetime | None
    stale: bool
    inactive: bool
    hours: float | None


def catalog_freshness(*, tenant: Tenant, catalog: Catalog) -> Freshness:
    """When the catalog's products were last refreshed by a good pull, and whether that is
    too long ago (or its sources are all disabled) to trust it for campaigns. One query."""
    agg = (
        ProductSource.objects.for_tenant(tenant)
        .filter(catalog=catalog)
        .aggregate(
            n=Count("id"), enabled=Count("id", filter=Q(enabled=True)), last=Max("last_success_at")
        )
    )
    last = agg["last"]
    has_sources = bool(agg["n"])
    inactive = has_sources and not agg["enabled"]
    now = timezone.now()
    hours = (now - last).total_seconds() / 3600 if last else None
    limit = timedelta(hours=settings.FEED_STALE_AFTER_HOURS)
    stale = has_sources and (last is None or now - last > limit)
    return Freshness(last, stale, inactive, hours)


def run_progress(run: FeedRun) -> dict:
    """What the run page polls: status, phase, rows, bytes, counts."""
    return {
        "id": run.pk,
        "number": run.number,
        "status": run.status,
        "status_label": run.get_status_display(),
        # the badge's word: the phase while active, else the outcome (one source for both)
        "state_label": run.state_label,
        "phase": run.phase,
        "phase_label": run.get_phase_display(),
        "rows_done": run.rows_done,
        "rows_total": run.rows_total,
        "bytes_downloaded": run.bytes_downloaded,
        "finished": not run.is_active,
        "counts": {
            "received": run.received,
            "created": run.created,
            "updated": run.updated,
            "unchanged": run.unchanged,
            "removed": run.removed,
            "rejected": run.rejected,
            "warnings": run.warnings,
        },
        "durations": run.durations,
        "error_code": run.error_code,
        "error_message": run.error_message,
    }


def refresh_needs_password(*, tenant: Tenant, source: ProductSource, password: str) -> bool:
    """Request Data Now must ask for the password first: the source has a username but no
    stored password, none was given, and no run of it is active (an active run is shown
    as it is, needing nothing)."""
    if not source.needs_password_prompt or password:
        return False
    return not FeedRun.objects.for_tenant(tenant).active().filter(source=source).exists()
