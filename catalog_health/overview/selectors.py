"""The tenant overview: every catalog with its products, review, ECR, freshness and flags.

The overview sits above the apps (DESIGN.md, "Layers point one way"): it reads their models
and selectors, never writes, and no app imports it. Four aggregate queries whatever the
number of catalogs: catalogs with their review counts and ECR state, sources grouped by
catalog, flag states grouped by catalog and status; the review settings (the minimum of
products ECR evaluates); and nothing per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Max, Q
from django.utils import timezone

from catalog_health.tenancy.models import Tenant
from catalogs import selectors as catalog_selectors
from catalogs.models import Catalog
from ecr import selectors as ecr_selectors
from ecr.models import ReviewSettings
from ecr.state import StatusShown
from feeds.models import ProductSource
from flagged.models import FlagState
from flagged.scoring import FlagStatus


@dataclass(frozen=True)
class CatalogRow:
    catalog: Catalog
    products: int
    available: int
    ecr_enabled: bool | None  # None: never evaluated
    ecr_evaluated_at: datetime | None
    ecr_status: StatusShown  # as every page shows it ("Not evaluated" under the minimum)
    sources: int
    last_pull_at: datetime | None
    stale: bool
    inactive: bool
    impacted: int
    at_risk: int

    @property
    def available_share(self) -> float | None:
        return self.available / self.products if self.products else None


def freshness(
    *, sources: int, enabled: int, last: datetime | None, now: datetime, limit: timedelta
) -> tuple[bool, bool]:
    """(stale, inactive) of a catalog's sources, the rule feeds' catalog_freshness applies:
    stale when it has sources and no good pull within `limit`; inactive when all are off."""
    inactive = bool(sources) and not enabled
    stale = bool(sources) and (last is None or now - last > limit)
    return stale, inactive


def overview_rows(*, tenant: Tenant) -> list[CatalogRow]:
    """One row per catalog of the tenant, by name (a fixed number of queries)."""
    catalogs = list(
        catalog_selectors.catalog_list_with_counts(tenant=tenant).select_related("ecr_state")
    )
    sources = {
        r["catalog_id"]: r
        for r in ProductSource.objects.for_tenant(tenant)
        .order_by()
        .values("catalog_id")
        .annotate(
            n=Count("id"), enabled=Count("id", filter=Q(enabled=True)), last=Max("last_success_at")
        )
    }
    flags: dict[tuple[int, str], int] = {
        (r["product__catalog_id"], r["status"]): r["n"]
        for r in FlagState.objects.for_tenant(tenant)
        .filter(status__in=(FlagStatus.IMPACTED, FlagStatus.AT_RISK))
        .order_by()
        .values("product__catalog_id", "status")
        .annotate(n=Count("id"))
    }
    review_settings = ReviewSettings.current()
    now = timezone.now()
    limit = timedelta(hours=settings.FEED_STALE_AFTER_HOURS)
    rows = []
    for c in catalogs:
        ecr = getattr(c, "ecr_state", None)
        src = sources.get(c.pk, {"n": 0, "enabled": 0, "last": None})
        stale, inactive = freshness(
            sources=src["n"], enabled=src["enabled"], last=src["last"], now=now, limit=limit
        )
        rows.append(
            CatalogRow(
                catalog=c,
                products=c.product_count,
                available=c.available_count,
                ecr_enabled=ecr.enabled if ecr and ecr.evaluated_at else None,
                ecr_evaluated_at=ecr.evaluated_at if ecr else None,
                ecr_status=ecr_selectors.ecr_status_shown(
                    ecr=ecr,
                    min_products=review_settings.min_products,
                    active_now=c.product_count,
                ),
                sources=src["n"],
                last_pull_at=src["last"],
                stale=stale,
                inactive=inactive,
                impacted=flags.get((c.pk, FlagStatus.IMPACTED), 0),
                at_risk=flags.get((c.pk, FlagStatus.AT_RISK), 0),
            )
        )
    return rows
