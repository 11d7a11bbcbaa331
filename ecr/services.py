"""Writes of review and ECR. Plain functions taking the tenant explicitly.

The review pipeline is set-based: products stream from PostgreSQL in chunks through one
server-side cursor, the pure rules (:mod:`ecr.rules`) run over each chunk in one pass,
issues go back with COPY (bulk INSERT elsewhere), and statuses change with one UPDATE per
status per chunk. No query per product.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.core.mail import send_mass_mail
from django.db import connection, transaction
from django.db.models import Count, Q
from django.db.models.functions import Lower, Trim
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from catalog_health.tenancy.models import Membership, Tenant
from catalog_health.tenancy.roles import Role
from catalog_health.tenancy.services import audit_record
from catalogs.models import Catalog, Product, ReviewStatus

from . import rules, selectors
from . import state as ecr_state
from .models import (
    CatalogEcrState,
    DeniedClaim,
    EcrEvent,
    EcrTrigger,
    PolicyTerm,
    ProductIssue,
    RatioSample,
    ReviewBatch,
    ReviewLane,
    ReviewSettings,
)

logger = logging.getLogger(__name__)

CHUNK_SIZE = 5000
# Columns the rules read (catalogs.Product field names).
REVIEW_FIELDS = (
    "id",
    "sku",
    "item_group_id",
    "title",
    "description",
    "link",
    "image_link",
    "additional_image_links",
    "brand",
    "gtin",
    "mpn",
    "condition",
    "availability",
    "price",
    "sale_price",
    "currency",
    "shipping_fee",
    "inventory_quantity",
    "custom_attributes",
    "review_requested_at",
)
ISSUE_COLUMNS = (
    "tenant_id",
    "catalog_id",
    "product_id",
    "code",
    "severity",
    "field",
    "message",
    "how_to_fix",
    "rule",
    "created_at",
)
NOTIFIED_ROLES = (Role.OWNER, Role.ADMIN, Role.ADVERTISER)


# --- state and context ------------------------------------------------------


def ecr_state_get(*, tenant: Tenant, catalog: Catalog, lock: bool = False) -> CatalogEcrState:
    """The catalog's ECR state row; new catalogs start with ECR enabled."""
    qs = CatalogEcrState.objects.for_tenant(tenant)
    if lock:
        qs = qs.select_for_update()
    obj = qs.filter(catalog=catalog).first()
    if obj is None:
        obj, _ = CatalogEcrState.objects.get_or_create(
            tenant=tenant, catalog=catalog, defaults={"enabled": True}
        )
        if lock:
            obj = qs.get(pk=obj.pk)
    return obj


def thresholds_for(
    *, ecr: CatalogEcrState | None, settings: ReviewSettings
) -> ecr_state.Thresholds:
    """Global thresholds, overridden per catalog where set."""
    disable = settings.disable_threshold
    enable = settings.enable_threshold
    if ecr is not None and ecr.disable_threshold_override is not None:
        disable = ecr.disable_threshold_override
    if ecr is not None and ecr.enable_threshold_override is not None:
        enable = ecr.enable_threshold_override
    # An override may cross the other (global) threshold: keep the hysteresis valid.
    enable = max(enable, disable)
    return ecr_state.Thresholds(
        disable=Decimal(disable), enable=Decimal(enable), min_products=settings.min_products
    )


def policy_terms() -> list[rules.PolicyTermSpec]:
    """Active prohibited/restricted terms and denied claims, as the rules take them."""
    specs = [
        rules.PolicyTermSpec(t.term, t.kind, t.category, t.severity, t.how_to_fix)
        for t in PolicyTerm.objects.filter(is_active=True)
    ]
    specs += [
        rules.PolicyTermSpec(c.phrase, rules.DENIED_CLAIM, c.category, rules.ERROR, c.how_to_fix)
        for c in DeniedClaim.objects.filter(is_active=True)
    ]
    return specs


def duplicate_ids(*, tenant: Tenant, catalog: Catalog) -> frozenset[str]:
    """Ids shared (ignoring case and surrounding spaces) by two active products: one
    GROUP BY over the catalog."""
    rows = (
        Product.objects.for_tenant(tenant)
        .active()
        .filter(catalog=catalog)
        .annotate(norm=Lower(Trim("sku")))
        .values("norm")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values_list("norm", flat=True)
    )
    return frozenset(rules.normalize_id(s) for s in rows)


def review_context(
    *, tenant: Tenant, catalog: Catalog, settings: ReviewSettings | None = None
) -> rules.ReviewContext:
    settings = settings or ReviewSettings.current()
    return rules.ReviewContext(
        currency=catalog.currency,
        terms=policy_terms(),
        title_max_length=settings.title_max_length,
        description_max_length=settings.description_max_length,
        caps_min_letters=settings.caps_min_letters,
        duplicate_ids=duplicate_ids(tenant=tenant, catalog=catalog),
    )


# --- the review pipeline ----------------------------------------------------


@dataclass
class ReviewResult:
    reviewed: int = 0
    available: int = 0
    unavailable: int = 0
    issues: int = 0
    batch: ReviewBatch | None = None


def _write_issues(rows: list[tuple]) -> None:
    if not rows:
        return
    if connection.vendor == "postgresql":
        table = ProductIssue._meta.db_table
        sql = f"COPY {table} ({', '.join(ISSUE_COLUMNS)}) FROM STDIN"
        with connection.cursor() as cur, cur.cursor.copy(sql) as cp:
            for row in rows:
                cp.write_row(row)
    else:
        ProductIssue.objects.bulk_create(
            [ProductIssue(**dict(zip(ISSUE_COLUMNS, r, strict=True))) for r in rows],
            batch_size=500,
        )


def _review_chunk(
    chunk: list[dict],
    *,
    tenant: Tenant,
    catalog: Catalog,
    ctx: rules.ReviewContext,
    started: datetime,
    result: ReviewResult,
    waits: list[float],
) -> None:
    now = timezone.now()
    issue_rows: list[tuple] = []
    by_status: dict[str, list[int]] = {ReviewStatus.AVAILABLE: [], ReviewStatus.UNAVAILABLE: []}
    review = rules.review_product
    tid, cid = tenant.pk, catalog.pk
    for p in chunk:
        issues = review(p, ctx)
        pid = p["id"]
        status = ReviewStatus.AVAILABLE
        for i in issues:
            if i.severity == rules.ERROR:
                status = ReviewStatus.UNAVAILABLE
            issue_rows.append(
                (tid, cid, pid, i.code, i.severity, i.field, i.message, i.how_to_fix, i.rule, now)
            )
        by_status[status].append(pid)
        requested = p["review_requested_at"]
        if requested is not None:
            waits.append(max(0.0, (now - requested).total_seconds()))
    ids = [p["id"] for p in chunk]
    # Issues are replaced as a whole: a fixed field loses its issue.
    ProductIssue.objects.for_tenant(tenant).filter(product_id__in=ids).delete()
    _write_issues(issue_rows)
    # A product edited again after this review started stays Pending for the next review.
    not_edited_since = Q(review_requested_at__isnull=True) | Q(review_requested_at__lte=started)
    for status, pids in by_status.items():
        if pids:
            Product.objects.for_tenant(tenant).filter(
                not_edited_since, id__in=pids, review_status=ReviewStatus.PENDING
            ).update(review_status=status, reviewed_at=now)
    result.reviewed += len(chunk)
    result.available += len(by_status[ReviewStatus.AVAILABLE])
    result.unavailable += len(by_status[ReviewStatus.UNAVAILABLE])
    result.issues += len(issue_rows)


@transaction.atomic
def products_review(
    *,
    tenant: Tenant,
    catalog: Catalog,
    lane: str,
    trigger: str,
    product_ids: Iterable[int] | None = None,
    limit: int | None = None,
    run=None,
    chunk_size: int = CHUNK_SIZE,
) -> ReviewResult:
    """Review the Pending active products of a catalog (or those of ``product_ids``).

    With ``limit``, the oldest Pending products first (the standard queue). One
    transaction: a failure leaves every product as it was (Pending), nothing half-written.
    """
    started = timezone.now()
    settings = ReviewSettings.current()
    ctx = review_context(tenant=tenant, catalog=catalog, settings=settings)
    qs = (
        Product.objects.for_tenant(tenant)
        .active()
        .filter(catalog=catalog, review_status=ReviewStatus.PENDING)
    )
    if product_ids is not None:
        qs = qs.filter(id__in=list(product_ids))
    if limit is not None:
        qs = qs.order_by("review_requested_at", "id")[:limit]
    else:
        qs = qs.order_by("id")
    result = ReviewResult()
    waits: list[float] = []
    chunk: list[dict] = []
    for row in qs.values(*REVIEW_FIELDS).iterator(chunk_size=chunk_size):
        chunk.append(row)
        if len(chunk) >= chunk_size:
            _review_chunk(
                chunk,
                tenant=tenant,
                catalog=catalog,
                ctx=ctx,
                started=started,
                result=result,
                waits=waits,
            )
            chunk = []
    if chunk:
        _review_chunk(
            chunk,
            tenant=tenant,
            catalog=catalog,
            ctx=ctx,
            started=started,
            result=result,
            waits=waits,
        )
    if result.reviewed:
        result.batch = ReviewBatch.objects.create(
            tenant=tenant,
            catalog=catalog,
            lane=lane,
            trigger=trigger,
            run_id=getattr(run, "pk", None),
            run_started_at=getattr(run, "started_at", None) or (started if run else None),
            started_at=started,
            finished_at=timezone.now(),
            reviewed=result.reviewed,
            available=result.available,
            unavailable=result.unavailable,
            issues=result.issues,
            wait_count=len(waits),
            wait_total_seconds=sum(waits),
            wait_max_seconds=max(waits) if waits else None,
        )
    logger.info(
        "review done",
        extra={
            "catalog_id": catalog.pk,
            "lane": lane,
            "reviewed": result.reviewed,
            "unavailable": result.unavailable,
        },
    )
    return result


# --- ECR evaluation ---------------------------------------------------------


@transaction.atomic
def ecr_evaluate(
    *, tenant: Tenant, catalog: Catalog, trigger: str, actor=None, with_issue_counts: bool = False
) -> ecr_state.Decision:
    """Compute the availability ratio (one indexed query), decide the ECR state, record a
    sample, and on a change an ECR event, an audit entry and emails."""
    ecr = ecr_state_get(tenant=tenant, catalog=catalog, lock=True)
    settings = ReviewSettings.current()
    thresholds = thresholds_for(ecr=ecr, settings=settings)
    counts = selectors.review_counts(tenant=tenant, catalog=catalog)
    decision = ecr_state.decide(
        enabled=ecr.enabled,
        available=counts.available,
        active=counts.active,
        thresholds=thresholds,
    )
    now = timezone.now()
    ecr.enabled = decision.enabled
    ecr.ratio = decision.ratio
    ecr.active_count = counts.active
    ecr.available_count = counts.available
    ecr.unavailable_count = counts.unavailable
    ecr.pending_count = counts.pending
    ecr.evaluated_at = now
    if decision.changed:
        ecr.changed_at = now
    ecr.save()
    if decision.ratio is not None:
        RatioSample.objects.create(
            tenant=tenant,
            catalog=catalog,
            ratio=decision.ratio,
            active_count=counts.active,
            available_count=counts.available,
            enabled=decision.enabled,
            trigger=trigger,
            issue_counts=(
                selectors.issue_counts_by_code(tenant=tenant, catalog=catalog)
                if with_issue_counts
                else {}
            ),
        )
    if decision.changed:
        event = EcrEvent.objects.create(
            tenant=tenant,
            catalog=catalog,
            enabled=decision.enabled,
            reason=decision.reason,
            trigger=trigger,
            ratio=decision.ratio,
            active_count=counts.active,
            available_count=counts.available,
            disable_threshold=thresholds.disable,
            enable_threshold=thresholds.enable,
        )
        audit_record(
            tenant=tenant,
            actor=actor,
            action="ecr.enabled" if decision.enabled else "ecr.disabled",
            target=catalog,
            changes={
                "ratio": decision.ratio,
                "disable_threshold": str(thresholds.disable),
                "enable_threshold": str(thresholds.enable),
                "trigger": trigger,
            },
        )
        transaction.on_commit(lambda: ecr_notify(tenant=tenant, catalog=catalog, event=event))
    return decision


def ecr_notify(*, tenant: Tenant, catalog: Catalog, event: EcrEvent) -> int:
    """Email the tenant's owners, admins and advertisers about an ECR change."""
    recipients = list(
        Membership.objects.filter(tenant=tenant, role__in=NOTIFIED_ROLES)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    if not recipients:
        return 0
    path = reverse("ecr:catalog_ecr", kwargs={"tenant_slug": tenant.slug, "catalog_id": catalog.pk})
    ctx = {"tenant": tenant, "catalog": catalog, "event": event, "path": path}
    state_word = "enabled" if event.enabled else "disabled"
    subject = f"[Catalog Health] ECR {state_word} for {catalog.name}"
    body = render_to_string("ecr/email_ecr_change.txt", ctx)
    messages = [(subject, body, None, [r]) for r in recipients]
    try:
        return send_mass_mail(messages, fail_silently=False)
    except OSError:  # a mail outage must not undo the ECR change
        logger.exception("ECR email failed", extra={"catalog_id": catalog.pk})
        return 0


# --- entry points -----------------------------------------------------------


@dataclass
class FeedRunReview:
    reviewed: int
    available: int
    unavailable: int
    ecr_enabled: bool
    ecr_changed: bool
    ratio: float | None


def review_after_feed_run(*, tenant: Tenant, catalog: Catalog, run=None) -> FeedRunReview:
    """Called by the feed pipeline after a run applied its changes, before it reports
    success. With ECR enabled the changed products get the fast-lane review now; with ECR
    disabled they wait as Pending for the standard queue. Then the ECR state is evaluated,
    so the run's summary and the ECR state are final when this returns."""
    ecr = ecr_state_get(tenant=tenant, catalog=catalog)
    result = ReviewResult()
    if ecr.enabled:
        result = products_review(
            tenant=tenant,
            catalog=catalog,
            lane=ReviewLane.FAST,
            trigger=EcrTrigger.FEED_RUN,
            run=run,
        )
    decision = ecr_evaluate(
        tenant=tenant, catalog=catalog, trigger=EcrTrigger.FEED_RUN, with_issue_counts=True
    )
    return FeedRunReview(
        reviewed=result.reviewed,
        available=result.available,
        unavailable=result.unavailable,
        ecr_enabled=decision.enabled,
        ecr_changed=decision.changed,
        ratio=decision.ratio,
    )


def review_after_product_edit(*, tenant: Tenant, product: Product, actor=None) -> None:
    """Called by ``catalogs.services.product_update`` after a seller's edit set the
    product Pending. Once the edit commits: with ECR enabled the product is re-reviewed at
    once, otherwise it waits in the standard queue; either way the ratio and ECR state
    follow. (After commit, so a failed review can never undo the seller's edit.)"""
    tenant_id, product_id, catalog_id = tenant.pk, product.pk, product.catalog_id
    transaction.on_commit(
        lambda: product_rereview(
            tenant=Tenant.objects.get(pk=tenant_id),
            product_id=product_id,
            catalog_id=catalog_id,
            actor=actor,
        )
    )


def product_rereview(*, tenant: Tenant, product_id: int, catalog_id: int, actor=None) -> None:
    catalog = Catalog.objects.for_tenant(tenant).get(pk=catalog_id)
    ecr = ecr_state_get(tenant=tenant, catalog=catalog)
    if ecr.enabled:
        products_review(
            tenant=tenant,
            catalog=catalog,
            lane=ReviewLane.FAST,
            trigger=EcrTrigger.EDIT,
            product_ids=[product_id],
        )
    ecr_evaluate(tenant=tenant, catalog=catalog, trigger=EcrTrigger.EDIT, actor=actor)


def review_queue_drain(
    *, tenant: Tenant, catalog: Catalog, capacity: int | None = None
) -> ReviewResult:
    """One cycle of the standard review queue for one catalog: the oldest Pending products,
    at most ``capacity`` (admin-tunable), then an ECR evaluation."""
    capacity = capacity or ReviewSettings.current().standard_queue_capacity
    ecr = ecr_state_get(tenant=tenant, catalog=catalog)
    result = products_review(
        tenant=tenant,
        catalog=catalog,
        lane=ReviewLane.FAST if ecr.enabled else ReviewLane.STANDARD,
        trigger=EcrTrigger.REVIEW,
        limit=capacity,
    )
    ecr_evaluate(tenant=tenant, catalog=catalog, trigger=EcrTrigger.REVIEW)
    return result


def catalogs_with_pending() -> list[tuple[Tenant, Catalog]]:
    """(tenant, catalog) pairs that have Pending products: the queue's work list."""
    out = []
    for tenant in Tenant.objects.order_by("pk"):
        pending = (
            Product.objects.for_tenant(tenant)
            .active()
            .filter(review_status=ReviewStatus.PENDING)
            .values_list("catalog_id", flat=True)
            .distinct()
        )
        out += [(tenant, c) for c in Catalog.objects.for_tenant(tenant).filter(pk__in=pending)]
    return out


def all_catalogs() -> list[tuple[Tenant, Catalog]]:
    out = []
    for tenant in Tenant.objects.order_by("pk"):
        out += [(tenant, c) for c in Catalog.objects.for_tenant(tenant).order_by("pk")]
    return out
