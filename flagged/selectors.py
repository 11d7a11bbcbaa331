"""Reads of the flagged app, shared by pages, the API, the export and the digest."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from catalog_health.pagination import KeysetPage, keyset_paginate
from catalog_health.tenancy.models import Tenant
from catalogs.models import DailyImpression, Order, Product

from .charts import DayPoint, TransitionPoint
from .conditions import Ctx, all_of
from .models import FlagCount, FlagState, FlagTransition, MetricPolicy, TenantMetricPolicy
from .scoring import (
    DEFAULT_POLICIES,
    IN_WINDOW,
    METRICS,
    STATUS_LABELS,
    Counts,
    FlagStatus,
    Level,
    Metric,
    MetricResult,
    Policy,
    ReviewTarget,
    classify,
    reason_text,
)
from .scoring_sql import PREFIX, Tables, aggregate_sql, params

LISTED = (FlagStatus.IMPACTED, FlagStatus.AT_RISK, FlagStatus.RESOLVED)
# Every sort is served by an index of FlagState (keyset pages stay cheap at any depth).
SORTS = {
    "-since": "-status_since",
    "since": "status_since",
    "severity": "-worst_level",
}
TREND_DAYS = 7


# ----------------------------------------------------------------------- policies


def resolved_days() -> int:
    """Days a Resolved product stays on the list unless flagged again."""
    return int(getattr(settings, "FLAGGED_RESOLVED_DAYS", 14))


def effective_policies(*, tenant: Tenant) -> dict[Metric, Policy]:
    """Per metric: the tenant's override, else the global default, else the built-in one."""
    policies = dict(DEFAULT_POLICIES)
    for row in MetricPolicy.objects.all():
        policies[Metric(row.metric)] = row.as_policy()
    for row in TenantMetricPolicy.objects.for_tenant(tenant):
        policies[Metric(row.metric)] = row.as_policy()
    return policies


def scoring_params(*, tenant: Tenant, policies: dict[Metric, Policy], now: datetime) -> dict:
    """The scoring statement's parameters for a tenant: its windows on the tenant's clock."""
    return params(
        tenant_id=tenant.pk,
        policies=policies,
        now=now,
        resolved_days=resolved_days(),
        tz=ZoneInfo(tenant.time_zone),
    )


# ------------------------------------------------------------------------ reasons


def state_reasons(row, policies: dict[Metric, Policy]) -> list[str]:
    """Readable reasons of a FlagState/FlagTransition row: every metric outside its safe zone,
    worst first, e.g. 'Overdue unshipped rate 12% (target 4%)'."""
    flagged = [(row.level(m), m) for m in METRICS if row.level(m) > Level.OK]
    flagged.sort(key=lambda x: -x[0])
    return [reason_text(m, row.counts(m), policies[m]) for _, m in flagged]


def transition_policies(transition: FlagTransition, fallback: dict[Metric, Policy]):
    """The policies in force when the transition happened (their snapshot), for its reasons."""
    out = dict(fallback)
    for code, snap in (transition.policies or {}).items():
        try:
            metric = Metric(code)
        except ValueError:
            continue
        out[metric] = replace(
            fallback[metric],
            target=Decimal(snap["target"]),
            at_risk_threshold=Decimal(snap["at_risk_threshold"]),
        )
    return out


# --------------------------------------------------------------------------- tab


def removed_from_catalog(tenant: Tenant) -> Exists:
    """A flag state whose product a feed removed from its catalog: not listed anywhere
    (the next scoring run takes it off for good, ``scoring.next_status``). On a tab page a
    primary-key probe per row: the page keeps its index walk and its query count."""
    return Exists(
        Product.objects.for_tenant(tenant).filter(
            pk=OuterRef("product_id"), removed_at__isnull=False
        )
    )


def flag_counters(*, tenant: Tenant, catalog_id: int | None = None) -> dict[str, int]:
    """Impacted / At risk / Resolved counts: the summary the scoring keeps (one tiny read)
    less the products removed from their catalog since, or a live count for a tenant never
    scored or for one catalog (the summary is the tenant's)."""
    counts = {}
    if catalog_id is None:
        counts = dict(FlagCount.objects.for_tenant(tenant).values_list("status", "count"))
        if counts:
            # removed since the last scoring run (which took the earlier ones off)
            gone = (
                FlagState.objects.for_tenant(tenant)
                .filter(removed_from_catalog(tenant), status__in=LISTED)
                .values("status")
                .annotate(n=Count("id"))
                .values_list("status", "n")
            )
            for status, n in gone:
                counts[status] = counts.get(status, 0) - n
    if not counts:
        qs = FlagState.objects.for_tenant(tenant).exclude(removed_from_catalog(tenant))
        if catalog_id is not None:
            qs = qs.filter(product__catalog_id=catalog_id)
        counts = qs.aggregate(
            impacted=Count("id", filter=Q(status=FlagStatus.IMPACTED)),
            at_risk=Count("id", filter=Q(status=FlagStatus.AT_RISK)),
            resolved=Count("id", filter=Q(status=FlagStatus.RESOLVED)),
        )
    return {k: counts.get(k) or 0 for k in ("impacted", "at_risk", "resolved")}


def flagged_search(*, tenant: Tenant, filters: dict) -> QuerySet[FlagState]:
    """Flagged products (Impacted, At risk, Resolved) filtered by status, reason and search."""
    return flagged_filter(FlagState.objects.for_tenant(tenant), filters, tenant=tenant)


def flagged_filter(
    qs: QuerySet[FlagState], filters: dict, *, tenant: Tenant
) -> QuerySet[FlagState]:
    """The tab's filters on an already tenant-scoped queryset (shared by page and API)."""
    qs = qs.filter(status__in=LISTED).exclude(removed_from_catalog(tenant))
    status = filters.get("status")
    if status in LISTED:
        qs = qs.filter(status=status)
    reason = filters.get("reason")
    if reason in PREFIX.values() or reason in {m.value for m in Metric}:
        prefix = PREFIX[Metric(reason)] if reason in {m.value for m in Metric} else reason
        qs = qs.filter(**{f"{prefix}_level__gt": 0})
    q = (filters.get("q") or "").strip()
    products = Product.objects.for_tenant(tenant)
    searched = False
    if q:
        searched = True
        products = products.filter(Q(sku__istartswith=q) | Q(title__icontains=q))
    if filters.get("catalog"):
        searched = True
        products = products.filter(catalog_id=filters["catalog"])
    if searched:
        qs = qs.filter(product_id__in=products.values("id"))
    # The products come in a second small query (by id): planning one three-way join cost
    # more than running both queries.
    return qs.prefetch_related(
        Prefetch(
            "product",
            queryset=Product.objects.for_tenant(tenant)
            .only("id", "tenant_id", "sku", "title", "image_link", "catalog_id", "catalog__name")
            .select_related("catalog"),
        )
    )


def flagged_page(
    *, tenant: Tenant, filters: dict, cursor: str | None, sort: str, size: int
) -> KeysetPage:
    """One page of the tab: the shared keyset pager, whose row comparison bounds the scan of
    the sort's index at any depth (the sort columns are NOT NULL: one query a page)."""
    qs = flagged_search(tenant=tenant, filters=filters)
    return keyset_paginate(qs, sort=sort_field(sort), cursor=cursor, page_size=size)


def sort_field(sort: str | None) -> str:
    """The column (with its direction) the tab sorts by; newest status first by default."""
    return SORTS.get(sort or "", "-status_since")


def impression_trends(
    *, tenant: Tenant, product_ids: list[int], today: date
) -> dict[int, float | None]:
    """Impressions of the last 7 complete days (through yesterday) vs the 7 before, per
    product, in one query. Today is left out: still being counted, it would make every product
    look like it is dropping in the morning.

    Returns the change in percent (None without impressions in the earlier week)."""
    if not product_ids:
        return {}
    recent_end = today - timedelta(days=1)
    recent_start = recent_end - timedelta(days=TREND_DAYS - 1)
    earlier_start = recent_start - timedelta(days=TREND_DAYS)
    rows = (
        DailyImpression.objects.for_tenant(tenant)
        .filter(product_id__in=product_ids, date__gte=earlier_start, date__lte=recent_end)
        .values("product_id")
        .annotate(
            recent=Sum("impressions", filter=Q(date__gte=recent_start)),
            earlier=Sum("impressions", filter=Q(date__lt=recent_start)),
        )
    )
    out: dict[int, float | None] = {}
    for r in rows:
        earlier, recent = r["earlier"] or 0, r["recent"] or 0
        out[r["product_id"]] = None if not earlier else round(100 * (recent - earlier) / earlier, 1)
    return out


@dataclass
class TabRow:
    state: FlagState
    product: Product
    status_label: str
    reasons: list[str]
    trend: float | None
    detail_url: str


def tab_rows(*, tenant: Tenant, page: KeysetPage, policies, today: date) -> list[TabRow]:
    from django.urls import reverse

    trends = impression_trends(
        tenant=tenant, product_ids=[s.product_id for s in page.rows], today=today
    )
    # One reverse() per page, not per row: the rows differ only by the product id.
    detail = reverse("flagged:flagged_detail", kwargs={"tenant_slug": tenant.slug, "product_id": 0})
    detail = detail.removesuffix("0/")
    return [
        TabRow(
            state=s,
            product=s.product,
            status_label=STATUS_LABELS[FlagStatus(s.status)],
            reasons=state_reasons(s, policies),
            trend=trends.get(s.product_id),
            detail_url=f"{detail}{s.product_id}/",
        )
        for s in page.rows
    ]


def tab_empty_text(*, status: str, searched: bool) -> str:
    """What an empty tab says: a search that found nothing, a status with no product in it
    (good news, said as such), or nothing flagged at all and when products would appear."""
    if searched:
        label = STATUS_LABELS[FlagStatus(status)] if status else "flagged"
        return f"No {label} product matches this search."
    if status == FlagStatus.RESOLVED:
        return f"No product was Resolved in the last {resolved_days()} days."
    if status:
        return f"No product is {STATUS_LABELS[FlagStatus(status)]}."
    return (
        "No product is flagged. Products appear here when their orders miss a target; "
        "scoring runs hourly and after every order upload."
    )


def flagged_export_rows(*, tenant: Tenant, filters: dict, sort: str | None = None):
    """Every matching row for the CSV export, streamed in chunks (no page limit), in the
    order the tab shows them: its sort, ties broken on id as the keyset pager does."""
    policies = effective_policies(tenant=tenant)
    field = sort_field(sort)
    order = (field, "-id" if field.startswith("-") else "id")
    qs = flagged_search(tenant=tenant, filters=filters).order_by(*order)
    for s in qs.iterator(chunk_size=2000):
        yield s, state_reasons(s, policies)


# ----------------------------------------------------------------------- details


def product_metrics(
    *, tenant: Tenant, product: Product, now: datetime | None = None
) -> list[MetricResult]:
    """Live value of every metric for one product, with the same SQL as scoring. A product
    removed from its catalog is not scored: its values are shown, none of them flagged."""
    now = now or timezone.now()
    policies = effective_policies(tenant=tenant)
    tables = Tables(Order._meta.db_table, FlagState._meta.db_table, FlagTransition._meta.db_table)
    values = scoring_params(tenant=tenant, policies=policies, now=now)
    values["product"] = product.pk
    sql = aggregate_sql(tables, policies, one_product=True, vendor=connection.vendor)
    with connection.cursor() as cur:
        cur.execute(sql, values)
        columns = [c[0] for c in cur.description]
        row = cur.fetchone()
    data = dict(zip(columns, row, strict=True)) if row else {}
    results = []
    for metric, p in PREFIX.items():
        counts = Counts(data.get(f"{p}_num", 0), data.get(f"{p}_den", 0))
        level = classify(counts, policies[metric]) if product.is_active else Level.OK
        results.append(MetricResult(metric, counts, level, policies[metric]))
    return results


def counting_orders_filter(metric: Metric, policy: Policy, now: datetime, tz: tzinfo = UTC) -> Q:
    """The orders that count against a metric (the ones to fix), as a filter: the metric's
    definition (``scoring.METRICS``) as a Django expression, the window's days on the clock
    of ``tz`` (the tenant's time zone)."""
    d = METRICS[metric]
    return all_of(IN_WINDOW, d.population, d.against).expr(Ctx(now=now, policy=policy, tz=tz))


def counting_orders(
    *, tenant: Tenant, product: Product, results: list[MetricResult], now: datetime, limit: int = 10
) -> dict[Metric, list[Order]]:
    """Up to `limit` orders per flagged metric that count against it (one query per metric)."""
    out: dict[Metric, list[Order]] = {}
    tz = ZoneInfo(tenant.time_zone)
    for r in results:
        if r.level == Level.OK:
            continue
        out[r.metric] = list(
            Order.objects.for_tenant(tenant)
            .filter(product=product)
            .filter(counting_orders_filter(r.metric, r.policy, now, tz))
            .order_by("-placed_at", "-id")[:limit]
        )
    return out


def product_transitions(*, tenant: Tenant, product: Product) -> list[FlagTransition]:
    return list(
        FlagTransition.objects.for_tenant(tenant).filter(product=product).order_by("-at", "-id")
    )


def impression_series(
    *, tenant: Tenant, product: Product, today: date, days: int = 60
) -> list[DayPoint]:
    """The product's impressions per day over the last ``days`` up to ``today`` (the
    tenant's local date)."""
    since = today - timedelta(days=days)
    return [
        DayPoint(d, i, c)
        for d, i, c in DailyImpression.objects.for_tenant(tenant)
        .filter(product=product, date__gte=since)
        .order_by("date")
        .values_list("date", "impressions", "clicks")
    ]


def transition_points(transitions: list[FlagTransition], policies) -> list[TransitionPoint]:
    return [
        TransitionPoint(
            t.at,
            FlagStatus(t.from_status),
            FlagStatus(t.to_status),
            tuple(state_reasons(t, transition_policies(t, policies))),
        )
        for t in transitions
    ]


REVIEW_LABELS = {
    ReviewTarget.OVERDUE_ORDERS: "Review overdue orders",
    ReviewTarget.LATE_ORDERS: "Review late orders",
    ReviewTarget.SHIPPED_ORDERS: "Review orders without tracking",
    ReviewTarget.INVENTORY: "Review inventory",
    ReviewTarget.SHIPPING_FEE: "Review shipping fee",
}


# ------------------------------------------------------------------------ digest


@dataclass
class DigestRow:
    product_id: int
    sku: str
    title: str
    status: str  # at the end of the period: Impacted, At risk, or no longer flagged
    reasons: list[str]
    # No longer flagged: the status and reasons of its latest Impacted / At risk change in the
    # period, so the seller still learns why it was flagged for a while.
    flagged_status: str = ""
    flagged_reasons: list[str] = field(default_factory=list)


def digest_transitions(*, tenant: Tenant, since: datetime, until: datetime) -> list[DigestRow]:
    """Products that became Impacted or At risk in the period, each with the status and
    reasons of its latest transition up to ``until``: one Impacted and then Resolved (or
    improved to At risk) within the period is listed as it is now, not as it was."""
    policies = effective_policies(tenant=tenant)
    period = FlagTransition.objects.for_tenant(tenant).filter(at__gt=since, at__lte=until)
    flagged_statuses = (FlagStatus.IMPACTED, FlagStatus.AT_RISK)
    flagged = period.filter(to_status__in=flagged_statuses)
    qs = (
        period.filter(product_id__in=flagged.values("product_id"))
        .exclude(removed_from_catalog(tenant))
        .select_related("product")
        .order_by("product_id", "-at", "-id")
    )
    latest: dict[int, DigestRow] = {}
    rows = []
    for t in qs:
        row = latest.get(t.product_id)
        if row is None:
            row = DigestRow(
                t.product_id,
                t.product.sku,
                t.product.title,
                t.to_status,
                state_reasons(t, transition_policies(t, policies)),
            )
            latest[t.product_id] = row
            rows.append(row)
        elif (
            row.status not in flagged_statuses
            and not row.flagged_status
            and t.to_status in flagged_statuses
        ):
            row.flagged_status = t.to_status
            row.flagged_reasons = state_reasons(t, transition_policies(t, policies))
    return rows
