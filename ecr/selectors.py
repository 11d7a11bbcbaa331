"""Reads of review and ECR, shared by pages, the API and the commands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Exists, F, Max, OuterRef, Prefetch, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from catalog_health.pagination import KeysetPage, keyset_paginate
from catalog_health.tenancy.models import Tenant
from catalogs import selectors as catalog_selectors
from catalogs.models import Catalog, Product, ReviewStatus

from . import charts, rules, state
from .models import (
    CatalogEcrState,
    EcrEvent,
    EcrTrigger,
    ProductIssue,
    RatioSample,
    ReviewBatch,
    ReviewLane,
)

POLICY_CODES = tuple(c for c, r in rules.RULES.items() if r.group == "policy")


@dataclass(frozen=True)
class ReviewCounts:
    active: int
    available: int
    unavailable: int
    pending: int


def review_counts(*, tenant: Tenant, catalog: Catalog) -> ReviewCounts:
    """Active products per review status: one GROUP BY answered by an index-only scan of
    ecr_product_ratio_idx (tenant, catalog, review_status) WHERE removed_at IS NULL.

    One count per row, grouped in index order: cheaper than one FILTER per status."""
    rows = (
        Product.objects.for_tenant(tenant)
        .active()
        .filter(catalog=catalog)
        .order_by()
        .values("review_status")
        .annotate(n=Count("*"))
        .values_list("review_status", "n")
    )
    by_status = dict(rows)
    return ReviewCounts(
        active=sum(by_status.values()),
        available=by_status.get(ReviewStatus.AVAILABLE, 0),
        unavailable=by_status.get(ReviewStatus.UNAVAILABLE, 0),
        pending=by_status.get(ReviewStatus.PENDING, 0),
    )


def has_pending(*, tenant: Tenant, catalog: Catalog) -> bool:
    """Whether any active product of the catalog waits for review (ecr_product_ratio_idx)."""
    return (
        Product.objects.for_tenant(tenant)
        .active()
        .filter(catalog=catalog, review_status=ReviewStatus.PENDING)
        .exists()
    )


def ecr_state_for(*, tenant: Tenant, catalog: Catalog) -> CatalogEcrState | None:
    return CatalogEcrState.objects.for_tenant(tenant).filter(catalog=catalog).first()


def ecr_status_shown(
    *, ecr: CatalogEcrState | None, min_products: int, active_now: int | None = None
) -> state.StatusShown:
    """The ECR state a page shows for a catalog (its state row, None before it has one):
    judged on the active products its last check counted, or before any check on
    ``active_now``, the page's own count (None: not counted)."""
    checked = ecr is not None and ecr.evaluated_at is not None
    return state.status_shown(
        enabled=True if ecr is None else ecr.enabled,
        checked=checked,
        active=ecr.active_count if checked else active_now,
        min_products=min_products,
    )


def active_counts_unchecked(*, tenant: Tenant, states: dict[int, CatalogEcrState | None]):
    """Active products of the catalogs never checked (no state row or no evaluation yet),
    by catalog id: one grouped query, none when every catalog was checked. Such catalogs
    are new, so few and small."""
    ids = [cid for cid, ecr in states.items() if ecr is None or ecr.evaluated_at is None]
    if not ids:
        return {}
    counts = dict(
        Product.objects.for_tenant(tenant)
        .active()
        .filter(catalog_id__in=ids)
        .order_by()
        .values("catalog_id")
        .annotate(n=Count("*"))
        .values_list("catalog_id", "n")
    )
    return {cid: counts.get(cid, 0) for cid in ids}


def ecr_states(*, tenant: Tenant) -> dict[int, CatalogEcrState]:
    return {s.catalog_id: s for s in CatalogEcrState.objects.for_tenant(tenant)}


def ecr_states_with_enable_raised(
    *, disable: Decimal, enable: Decimal
) -> QuerySet[CatalogEcrState]:
    """Platform-wide, for staff in admin: the catalogs of every tenant whose overrides, with
    these global thresholds, give an enable threshold below the disable one (raised to it
    when applied). Only rows with an override can: the global pair is kept in order."""
    return (
        CatalogEcrState.objects.filter(
            Q(disable_threshold_override__isnull=False) | Q(enable_threshold_override__isnull=False)
        )
        .alias(
            disable_applied=Coalesce("disable_threshold_override", Value(disable)),
            enable_set=Coalesce("enable_threshold_override", Value(enable)),
        )
        .filter(enable_set__lt=F("disable_applied"))
        .select_related("tenant", "catalog")
        .order_by("tenant__slug", "catalog__name", "pk")
    )


def _active_issues(*, tenant: Tenant, catalog: Catalog) -> QuerySet[ProductIssue]:
    return ProductIssue.objects.for_tenant(tenant).filter(
        catalog=catalog, product__removed_at__isnull=True
    )


def issue_counts_by_code(*, tenant: Tenant, catalog: Catalog) -> dict[str, int]:
    """Reviewed active products per issue code, as the Diagnostics groups count them. The
    issues of the catalog's removed products (few, found by ecr_product_removed_idx) are
    left out by one hashed NOT IN, not by a lookup of each issue's product; those of its
    Pending products (from their last review: awaiting review, not counted) by an anti-join
    on the ones ecr_product_ratio_idx finds, which stays a hash join however many wait."""
    removed = (
        Product.objects.for_tenant(tenant)
        .filter(catalog=catalog, removed_at__isnull=False)
        .values("id")
    )
    pending = (
        Product.objects.for_tenant(tenant)
        .active()
        .filter(catalog=catalog, review_status=ReviewStatus.PENDING, pk=OuterRef("product_id"))
    )
    pairs = (
        ProductIssue.objects.for_tenant(tenant)
        .filter(catalog=catalog)
        .exclude(product_id__in=removed)
        .exclude(Exists(pending))
        .order_by()
        .values("code", "product_id")
        .distinct()
    )
    # counted over the distinct (code, product) pairs, which the issue_catalog_code_idx
    # scan gives in order: COUNT(DISTINCT) would sort a million product ids again (and
    # spill them to disk at the default work_mem)
    sql, params = pairs.query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute(f"SELECT code, count(*) FROM ({sql}) d GROUP BY code", params)  # noqa: S608
        return dict(cur.fetchall())


@dataclass(frozen=True)
class IssueGroup:
    code: str
    severity: str
    title: str
    how_to_fix: str
    field: str
    products: int  # reviewed: Unavailable for an error, Available or not for a warning
    share: float | None
    trend: int | None  # change between the last two feed runs
    # Pending products that had the issue at their last review (their change may have
    # fixed it): listed apart until they are reviewed again
    awaiting_review: int = 0


def diagnostics_version(*, tenant: Tenant, catalog: Catalog) -> str:
    """Names the state of a catalog's review data: changes whenever its review statuses,
    issues or active products can have changed, i.e. a review finished (a new ReviewBatch)
    or a product changed, left or came back (its last_changed_at). Two one-row index
    lookups (review_batch_catalog_id_idx and the catalog's sort key partition's
    last-changed index), whatever the catalog size.

    Figures stored with the version they were computed at (the Diagnostics snapshot, the
    counts of the last ECR evaluation) are current while it is unchanged. Read it *before*
    computing such figures: a change committed in between then shows as a newer version."""
    batch = (
        ReviewBatch.objects.for_tenant(tenant).filter(catalog=catalog).aggregate(m=Max("id"))["m"]
    )
    changed = catalog_selectors.products_last_changed(tenant=tenant, catalog=catalog)
    return diagnostics_version_of(batch, changed)


def diagnostics_version_of(batch_id: int | None, changed: datetime | None) -> str:
    """The diagnostics version of a catalog whose last review batch is ``batch_id`` and
    whose products last changed at ``changed`` (see diagnostics_version)."""
    changed = changed.astimezone(UTC) if changed else None
    return f"{batch_id or 0}:{changed.isoformat() if changed else '-'}"


def review_counts_current(
    *, tenant: Tenant, catalog: Catalog, ecr: CatalogEcrState | None, version: str
) -> tuple[ReviewCounts, bool]:
    """Active products per review status, and whether they are the stored ones.

    The last ECR evaluation stored them with the data version it counted; while the
    catalog's version is still that one they are exact, and reading them costs nothing.
    Every service that changes statuses or the active set (a feed run's review, a seller's
    edit, a queue cycle) ends with an evaluation, so they are recounted (one GROUP BY over
    the catalog) only between a change and its evaluation, or after a change that went
    around the services (Django admin, SQL) until the periodic check."""
    if ecr is not None and ecr.counts_version and ecr.counts_version == version:
        return (
            ReviewCounts(
                active=ecr.active_count,
                available=ecr.available_count,
                unavailable=ecr.unavailable_count,
                pending=ecr.pending_count,
            ),
            True,
        )
    return review_counts(tenant=tenant, catalog=catalog), False


def issue_group_rows(*, tenant: Tenant, catalog: Catalog) -> list[dict]:
    """Active products affected per (code, severity): the expensive grouping. ``n`` counts
    the reviewed ones; ``pending`` those awaiting review, whose issues are from their last
    review (a feed run or an edit changed them since, maybe fixing it)."""
    waiting = Q(product__review_status=ReviewStatus.PENDING)
    return [
        {"code": r["code"], "severity": r["severity"], "n": r["n"], "pending": r["pending"]}
        for r in _active_issues(tenant=tenant, catalog=catalog)
        .values("code", "severity")
        .annotate(
            n=Count("product_id", distinct=True, filter=~waiting),
            pending=Count("product_id", distinct=True, filter=waiting),
        )
        .order_by("severity", "-n", "code")
    ]


def issue_summary(
    *, tenant: Tenant, catalog: Catalog, active: int, rows: list[dict] | None = None
) -> list[IssueGroup]:
    """Products affected per issue code (errors first, then by count), with the share of
    the catalog and the trend between the last two feed runs. `rows` are the grouped counts
    (from a DiagnosticsSnapshot); without them they are computed here."""
    if rows is None:
        rows = issue_group_rows(tenant=tenant, catalog=catalog)
    samples = list(
        RatioSample.objects.for_tenant(tenant)
        .filter(catalog=catalog, trigger=EcrTrigger.FEED_RUN)
        .order_by("-at")
        .values_list("issue_counts", flat=True)[:2]
    )
    groups = []
    for r in rows:
        info = rules.RULES.get(r["code"])
        trend = None
        if len(samples) == 2:
            trend = samples[0].get(r["code"], 0) - samples[1].get(r["code"], 0)
        groups.append(
            IssueGroup(
                code=r["code"],
                severity=r["severity"],
                title=info.title if info else r["code"],
                how_to_fix=info.how_to_fix if info else "",
                field=info.field if info else "",
                products=r["n"],
                share=(r["n"] / active) if active else None,
                trend=trend,
                awaiting_review=r["pending"],
            )
        )
    return groups


def _by_review(qs: QuerySet, *, awaiting_review: bool, field: str = "review_status") -> QuerySet:
    """The products a Diagnostics group counts (reviewed), or with ``awaiting_review`` the
    Pending ones it shows apart."""
    pending = Q(**{field: ReviewStatus.PENDING})
    return qs.filter(pending) if awaiting_review else qs.exclude(pending)


def affected_products(
    *,
    tenant: Tenant,
    catalog: Catalog,
    code: str = "",
    severity: str = "",
    q: str = "",
    awaiting_review: bool = False,
) -> QuerySet[Product]:
    """Active reviewed products of a catalog with an issue (of ``code`` / ``severity`` when
    given), as the Diagnostics groups count them; with ``awaiting_review`` the Pending ones
    whose last review found it."""
    issues = ProductIssue.objects.for_tenant(tenant).filter(
        catalog=catalog, product_id=OuterRef("pk")
    )
    if code:
        issues = issues.filter(code=code)
    if severity:
        issues = issues.filter(severity=severity)
    qs = Product.objects.for_tenant(tenant).active().filter(catalog=catalog).filter(Exists(issues))
    qs = _by_review(qs, awaiting_review=awaiting_review)
    q = q.strip()
    if q:
        qs = qs.filter(Q(sku__istartswith=q) | Q(title__icontains=q))
    return qs


def affected_products_page(
    *,
    tenant: Tenant,
    catalog: Catalog,
    code: str,
    severity: str,
    q: str,
    cursor: str | None,
    size: int,
    awaiting_review: bool = False,
) -> KeysetPage:
    """One keyset page of affected products with their issues: two queries whatever the
    page size."""
    qs = (
        affected_products(
            tenant=tenant,
            catalog=catalog,
            code=code,
            severity=severity,
            q=q,
            awaiting_review=awaiting_review,
        )
        .only("id", "sku", "title", "review_status", "catalog_id", "last_changed_at")
        .prefetch_related(
            Prefetch(
                "issues",
                queryset=ProductIssue.objects.for_tenant(tenant).order_by("severity", "code"),
            )
        )
    )
    return keyset_paginate(qs, sort="id", cursor=cursor, page_size=size)


def export_rows(
    *,
    tenant: Tenant,
    catalog: Catalog,
    code: str = "",
    severity: str = "",
    awaiting_review: bool = False,
):
    """Rows of the CSV download: one per (product, issue), streamed; the products of the
    drill-down with the same filters."""
    qs = _by_review(
        _active_issues(tenant=tenant, catalog=catalog),
        awaiting_review=awaiting_review,
        field="product__review_status",
    )
    if code:
        qs = qs.filter(code=code)
    if severity:
        qs = qs.filter(severity=severity)
    return (
        qs.order_by("product_id", "id")
        .values_list(
            "product_id",
            "product__sku",
            "product__title",
            "product__review_status",
            "code",
            "severity",
            "field",
            "message",
            "how_to_fix",
        )
        .iterator(chunk_size=2000)
    )


def _changed_since(*, tenant: Tenant, catalog: Catalog, runs: int):
    """Start of the oldest of the latest ``runs`` reviewed feed runs (None before any)."""
    batches = ReviewBatch.objects.for_tenant(tenant).filter(
        catalog=catalog, trigger=EcrTrigger.FEED_RUN
    )
    times = batches.values_list("run_started_at", "started_at")
    # Fewer runs than asked for: all of them, i.e. since the first.
    since = (
        times.order_by("-finished_at")[runs - 1 : runs].first()
        or times.order_by("finished_at").first()
    )
    return (since[0] or since[1]) if since else None


def _changed_failing_policy_qs(*, tenant: Tenant, catalog: Catalog, since_at) -> QuerySet[Product]:
    policy = ProductIssue.objects.for_tenant(tenant).filter(
        catalog=catalog, product_id=OuterRef("pk"), code__in=POLICY_CODES
    )
    # "now failing" is what a review found: a Pending product's issues are from before
    # its change
    products = (
        Product.objects.for_tenant(tenant)
        .active()
        .filter(catalog=catalog)
        .exclude(review_status=ReviewStatus.PENDING)
    )
    # the sort key's copy of last_changed_at is the indexed one (ProductSortKey)
    return (
        catalog_selectors.with_sort_keys(products, catalog=catalog)
        .filter(sort_key__last_changed_at__gte=since_at - timedelta(seconds=1))
        .filter(Exists(policy))
    )


def changed_failing_policy_summary(
    *, tenant: Tenant, catalog: Catalog, runs: int = 3, limit: int = 50
) -> dict:
    """Products changed by the latest feed runs that now fail an ad-policy check, as the
    Diagnostics snapshot stores them: {"since": ISO time or None, "total": count, "ids": the
    ``limit`` most recently changed}. Costs as many products as the runs changed, so it is
    computed with the snapshot, not per view."""
    since_at = _changed_since(tenant=tenant, catalog=catalog, runs=runs)
    if since_at is None:
        return {"since": None, "total": 0, "ids": []}
    qs = _changed_failing_policy_qs(tenant=tenant, catalog=catalog, since_at=since_at)
    return {
        "since": since_at.isoformat(),
        "total": qs.count(),
        "ids": list(
            qs.order_by("-sort_key__last_changed_at", "-id").values_list("id", flat=True)[:limit]
        ),
    }


def changed_products_with_policy_issues(*, tenant: Tenant, ids: list[int]) -> list[Product]:
    """The products of a stored changed-and-failing list, in its order, with their policy
    issues: two primary-key lookups whatever the catalog size."""
    if not ids:
        return []
    by_id = {
        p.pk: p
        for p in Product.objects.for_tenant(tenant)
        .active()
        .filter(pk__in=ids)
        .only("id", "sku", "title", "review_status", "catalog_id", "last_changed_at")
        .prefetch_related(
            Prefetch(
                "issues",
                queryset=ProductIssue.objects.for_tenant(tenant).filter(code__in=POLICY_CODES),
            )
        )
    }
    return [by_id[i] for i in ids if i in by_id]


def ratio_history(
    *, tenant: Tenant, catalog: Catalog, days: int = 30, max_points: int = 500
) -> list[charts.RatioPoint]:
    since = timezone.now() - timedelta(days=days)
    rows = list(
        RatioSample.objects.for_tenant(tenant)
        .filter(catalog=catalog, at__gte=since)
        .order_by("-at")
        .values_list("at", "ratio")[:max_points]
    )
    return [charts.RatioPoint(at, r) for at, r in reversed(rows)]


def ecr_events(*, tenant: Tenant, catalog: Catalog) -> QuerySet[EcrEvent]:
    return EcrEvent.objects.for_tenant(tenant).filter(catalog=catalog).order_by("-created_at")


def lane_timings(*, tenant: Tenant, catalog: Catalog, days: int = 30) -> list[charts.LaneTiming]:
    """Average and longest Pending time per review lane over the last ``days``: how much
    faster the ECR fast lane gets products live than the standard queue. Re-reviews after
    a rules change are left out: those products were not waiting."""
    since = timezone.now() - timedelta(days=days)
    rows = {
        r["lane"]: r
        for r in ReviewBatch.objects.for_tenant(tenant)
        .filter(catalog=catalog, finished_at__gte=since)
        .exclude(trigger=EcrTrigger.RULES)
        .values("lane")
        .annotate(
            reviewed=Sum("reviewed"),
            waits=Sum("wait_count"),
            total=Sum("wait_total_seconds"),
            longest=Max("wait_max_seconds"),
        )
    }
    out = []
    for lane in (ReviewLane.FAST, ReviewLane.STANDARD):
        r = rows.get(lane.value)
        out.append(
            charts.LaneTiming(
                lane=lane.value,
                label=lane.label,
                reviewed=(r or {}).get("reviewed") or 0,
                avg_seconds=(r["total"] / r["waits"]) if r and r["waits"] else None,
                max_seconds=r["longest"] if r else None,
            )
        )
    return out


def banner_for(*, tenant: Tenant, catalog_id: int) -> CatalogEcrState | None:
    """The ECR state to show as a banner (only when ECR is off), one query."""
    return (
        CatalogEcrState.objects.for_tenant(tenant)
        .filter(catalog_id=catalog_id, enabled=False)
        .select_related("catalog")
        .first()
    )


def catalog_overview(*, tenant: Tenant) -> QuerySet[Catalog]:
    """Catalogs with their ECR state (one query) for the Diagnostics overview."""
    return Catalog.objects.for_tenant(tenant).select_related("ecr_state").order_by("name")
