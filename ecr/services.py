"""Writes of review and ECR. Plain functions taking the tenant explicitly.

The review pipeline itself (``products_review`` and its steps) is in :mod:`ecr.review`;
its public names are importable from here too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from celery import current_app
from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from catalog_health.lazy import lazy_names
from catalog_health.steps import StepTimes
from catalog_health.tenancy.models import Tenant
from catalog_health.tenancy.roles import EmailTopic
from catalog_health.tenancy.selectors import email_choices_footer, member_emails
from catalog_health.tenancy.services import audit_record
from catalogs.models import Catalog, Product, ReviewStatus

if TYPE_CHECKING:
    from .block_review import DeltaReviewer, FeedBlockReviewer, FeedReview, KnownCounts
    from .review import ReviewResult

from . import selectors
from . import state as ecr_state
from .diagnostics import CatalogDiagnostics as CatalogDiagnostics
from .diagnostics import catalog_diagnostics as catalog_diagnostics
from .diagnostics import diagnostics_snapshot_current as diagnostics_snapshot_current
from .diagnostics_tasks import diagnostics_refresh
from .models import (
    CatalogEcrState,
    EcrEvent,
    EcrTrigger,
    RatioSample,
    ReviewLane,
    ReviewSettings,
)

logger = logging.getLogger(__name__)

# The review pipeline (Arrow) is loaded by the process that reviews, not by every web process
# that imports this module: its entry points are imported in the functions that call them,
# and its names are this module's too (``services.products_review``), resolved on first use.
__getattr__ = lazy_names(
    __name__,
    {
        "CHUNK_SIZE": "review",
        "ReviewResult": "review",
        "duplicate_ids": "review",
        "policy_terms": "review",
        "products_review": "review",
        "review_context": "review",
    },
    package=__package__,
)


# seconds per step of the review after a feed run, at DEBUG with extra={"steps": ...}
step_log = logging.getLogger("ecr.steps")


# --- state ------------------------------------------------------------------


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
    return thresholds_applied_for(ecr=ecr, settings=settings).thresholds


def thresholds_applied_for(
    *, ecr: CatalogEcrState | None, settings: ReviewSettings
) -> ecr_state.ThresholdsApplied:
    """The catalog's thresholds as applied, with where each came from and whether the
    enable threshold was raised to the disable one (a row saved before admin refused it)."""
    return ecr_state.thresholds_applied(
        global_disable=settings.disable_threshold,
        global_enable=settings.enable_threshold,
        disable_override=None if ecr is None else ecr.disable_threshold_override,
        enable_override=None if ecr is None else ecr.enable_threshold_override,
        min_products=settings.min_products,
    )


# --- ECR evaluation ---------------------------------------------------------


@transaction.atomic
def ecr_evaluate(
    *,
    tenant: Tenant,
    catalog: Catalog,
    trigger: str,
    actor=None,
    with_issue_counts: bool = False,
    steps: StepTimes | None = None,
    known: tuple[str, KnownCounts] | None = None,
) -> ecr_state.Decision:
    """Compute the availability ratio (one indexed query), decide the ECR state, record a
    sample, and on a change an ECR event, an audit entry and emails.

    ``known``: (a diagnostics version, the counts of the catalog at it), from a feed run
    that wrote and reviewed the whole catalog; taken instead of the queries while the
    catalog is still at that version (nothing was reviewed or changed since)."""
    ecr = ecr_state_get(tenant=tenant, catalog=catalog, lock=True)
    settings = ReviewSettings.current()
    thresholds = thresholds_for(ecr=ecr, settings=settings)
    # The version first: a change committing while we count then shows as a newer version
    # and pages recount rather than trust these counts (see selectors.review_counts_current).
    steps = steps if steps is not None else StepTimes("ecr")
    with steps("evaluate.version"):
        version = selectors.diagnostics_version(tenant=tenant, catalog=catalog)
    known_counts = known[1] if known is not None and known[0] == version else None
    with steps("evaluate.counts"):
        if known_counts is not None:
            counts = selectors.ReviewCounts(
                active=known_counts.active,
                available=known_counts.available,
                unavailable=known_counts.unavailable,
                pending=known_counts.active - known_counts.available - known_counts.unavailable,
            )
        else:
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
    ecr.counts_version = version
    ecr.evaluated_at = now
    if decision.changed:
        ecr.changed_at = now
    ecr.save()
    with steps("evaluate.issue_counts"):
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
                    (
                        dict(known_counts.issue_counts)
                        if known_counts is not None
                        else selectors.issue_counts_by_code(tenant=tenant, catalog=catalog)
                    )
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


def _enable_advice(*, tenant: Tenant, catalog: Catalog, event: EcrEvent) -> str:
    if event.enabled:
        return ""
    counts = ecr_state_get(tenant=tenant, catalog=catalog)  # updated with the event
    return ecr_state.enable_advice(
        to_fix=ecr_state.products_to_fix(
            available=event.available_count,
            active=event.active_count,
            enable=event.enable_threshold,
        ),
        unavailable=counts.unavailable_count,
        pending=counts.pending_count,
    )


def ecr_notify(*, tenant: Tenant, catalog: Catalog, event: EcrEvent) -> int:
    """Email the tenant's owners, admins and advertisers about an ECR change."""
    recipients = member_emails(tenant=tenant, topic=EmailTopic.ECR_CHANGES)
    if not recipients:
        return 0
    kwargs = {"tenant_slug": tenant.slug, "catalog_id": catalog.pk}
    ctx = {
        "tenant": tenant,
        "catalog": catalog,
        "event": event,
        "path": reverse("ecr:catalog_ecr", kwargs=kwargs),
        # turned off: what turns it back on, and the page that lists the products to fix
        "enable_advice": _enable_advice(tenant=tenant, catalog=catalog, event=event),
        "diagnostics_path": reverse("ecr:catalog_diagnostics", kwargs=kwargs),
        "footer": email_choices_footer(tenant=tenant),
    }
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


def feed_block_reviewer(
    *, tenant: Tenant, catalog: Catalog, requested_at: datetime
) -> FeedBlockReviewer | None:
    """For a feed run that writes a catalog's products block by block (a first pull): with
    ECR enabled, the reviewer that gives each block its review status and issues before it
    is written (fast lane, in the run's transaction); with ECR disabled None, and the
    products wait as Pending for the standard queue. Hand its ``review`` to
    :func:`review_after_feed_run` once the run committed."""
    from .block_review import FeedBlockReviewer

    if not ecr_state_get(tenant=tenant, catalog=catalog).enabled:
        return None
    return FeedBlockReviewer(tenant=tenant, catalog=catalog, requested_at=requested_at)


def feed_delta_reviewer(
    *, tenant: Tenant, catalog: Catalog, requested_at: datetime
) -> DeltaReviewer | None:
    """For a re-pull on PostgreSQL, inside its apply transaction, before its merge: with ECR
    enabled the reviewer of its created and changed rows (``DeltaReviewer``: the merge
    writes their statuses, then their issues are replaced); None with ECR disabled (they
    wait as Pending). Hand its ``review`` to :func:`review_after_feed_run` once the run
    committed."""
    from .block_review import DeltaReviewer

    if not ecr_state_get(tenant=tenant, catalog=catalog).enabled:
        return None
    return DeltaReviewer(tenant=tenant, catalog=catalog, requested_at=requested_at)


def review_feed_changes(*, tenant: Tenant, catalog: Catalog, run) -> FeedReview | None:
    """For a feed run inside its apply transaction, once its changes are merged: with ECR
    enabled the fast-lane review of the products the run created or changed, in that
    transaction, so the run commits them reviewed; None with ECR disabled (they wait as
    Pending). A failure raises and leaves the transaction as it was before the call (a
    savepoint): the caller may commit without it, and :func:`review_after_feed_run`
    reviews them after the commit."""
    from .block_review import FeedReview
    from .review import products_review

    if not ecr_state_get(tenant=tenant, catalog=catalog).enabled:
        return None
    started = timezone.now()
    with transaction.atomic():
        result = products_review(
            tenant=tenant,
            catalog=catalog,
            lane=ReviewLane.FAST,
            trigger=EcrTrigger.FEED_RUN,
            run=run,
            written_by_run=True,
        )
    return FeedReview(result=result, started_at=started)


@dataclass
class FeedRunReview:
    reviewed: int
    available: int
    unavailable: int
    ecr_enabled: bool
    ecr_changed: bool
    ratio: float | None


def review_after_feed_run(
    *, tenant: Tenant, catalog: Catalog, run=None, reviewed: FeedReview | None = None
) -> FeedRunReview:
    """Called by the feed pipeline after a run applied its changes, before it reports
    success. ``reviewed``: the review the run did while it wrote (``feed_block_reviewer``
    or ``review_feed_changes``), recorded here as its review batch. Without one, with ECR
    enabled the changed products get the fast-lane review now; with ECR disabled they wait
    as Pending for the standard queue. Then the ECR state is evaluated once, so the run's
    summary and the ECR state are final when this returns."""
    from .block_review import feed_review_record
    from .review import ReviewResult, products_review

    steps = StepTimes("ecr")
    step = steps.lap

    enabled = ecr_state_get(tenant=tenant, catalog=catalog).enabled
    known = None
    if reviewed is not None:
        result = reviewed.result
        if result.batch is None:
            feed_review_record(
                tenant=tenant,
                catalog=catalog,
                review=reviewed,
                trigger=EcrTrigger.FEED_RUN,
                run=run,
            )
        if reviewed.known is not None and result.batch is not None:
            # the catalog as the run left it: its batch the last, its products' change time
            version = selectors.diagnostics_version_of(result.batch.pk, reviewed.known.changed_at)
            known = (version, reviewed.known)
        step("record")
        # products left Pending before the run (ECR was off) are reviewed as before
        if enabled and selectors.has_pending(tenant=tenant, catalog=catalog):
            products_review(
                tenant=tenant,
                catalog=catalog,
                lane=ReviewLane.FAST,
                trigger=EcrTrigger.FEED_RUN,
                run=run,
            )
        step("pending")
    elif enabled:
        result = products_review(
            tenant=tenant,
            catalog=catalog,
            lane=ReviewLane.FAST,
            trigger=EcrTrigger.FEED_RUN,
            run=run,
        )
        step("review")
    else:
        result = ReviewResult()
    read_at = getattr(run, "started_at", None)  # the run's reviewer read the rules after it
    if read_at is not None:
        rules_read_before_change(tenant=tenant, catalog=catalog, read_at=read_at)
    decision = ecr_evaluate(
        tenant=tenant,
        catalog=catalog,
        trigger=EcrTrigger.FEED_RUN,
        with_issue_counts=True,
        steps=steps,
        known=known,
    )
    step("evaluate")
    if step_log.isEnabledFor(logging.DEBUG):
        step_log.debug(
            "review after run %s: %s",
            getattr(run, "pk", None),
            steps.times,
            extra={"steps": steps.times},
        )
    tenant_id, catalog_id = tenant.pk, catalog.pk
    transaction.on_commit(lambda: diagnostics_refresh_enqueue(tenant_id, catalog_id))
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
    from .review import products_review

    catalog = Catalog.objects.for_tenant(tenant).get(pk=catalog_id)
    ecr = ecr_state_get(tenant=tenant, catalog=catalog)
    if ecr.enabled:
        result = products_review(
            tenant=tenant,
            catalog=catalog,
            lane=ReviewLane.FAST,
            trigger=EcrTrigger.EDIT,
            product_ids=[product_id],
        )
        _rules_read_by(result, tenant=tenant, catalog=catalog)
    ecr_evaluate(tenant=tenant, catalog=catalog, trigger=EcrTrigger.EDIT, actor=actor)


def review_queue_drain(
    *, tenant: Tenant, catalog: Catalog, capacity: int | None = None
) -> ReviewResult:
    """One cycle of the standard review queue for one catalog: the oldest Pending products,
    at most ``capacity`` (admin-tunable), then an ECR evaluation."""
    from .review import products_review

    capacity = capacity or ReviewSettings.current().standard_queue_capacity
    ecr = ecr_state_get(tenant=tenant, catalog=catalog)
    result = products_review(
        tenant=tenant,
        catalog=catalog,
        lane=ReviewLane.FAST if ecr.enabled else ReviewLane.STANDARD,
        trigger=EcrTrigger.REVIEW,
        limit=capacity,
    )
    _rules_read_by(result, tenant=tenant, catalog=catalog)
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


def diagnostics_refresh_enqueue(tenant_id: int, catalog_id: int) -> bool:
    """Queue the recomputation of a catalog's Diagnostics snapshot after a feed run changed
    it, so the seller's next Diagnostics view reads it instead of paying the grouping (~2 s
    at a million products). Best effort: without a broker the first view recomputes it."""
    try:
        diagnostics_refresh.apply_async(
            kwargs={"tenant_id": tenant_id, "catalog_id": catalog_id}, retry=False
        )
        return True
    except Exception as exc:  # kombu/redis errors vary by transport
        logger.warning("diagnostics refresh of catalog %s not queued: %s", catalog_id, exc)
        return False


# --- rules changes ----------------------------------------------------------

# a burst of admin edits (terms saved one by one) is mostly re-reviewed once
RULES_REREVIEW_DELAY_SECONDS = 30
_REREVIEW_LOCK = 0x6563_7272  # PostgreSQL advisory lock: one re-review at a time
# rounds of a task while edits keep coming; the periodic check picks up what is left
_REREVIEW_ROUNDS = 5


def review_rules_changed(*, queue: bool = True) -> None:
    """A policy term, a denied claim or a review limit changed: every product reviewed
    before now carries the old rules' verdict. Once this commits, a worker reviews them
    again (``rules_rereview_all``), so a new term makes the products that use it
    Unavailable and a dropped one lets them back. Should the message be lost with the
    broker, the periodic ECR check queues it again. ``queue=False``: the caller reviews
    them itself (``rules_rereview_all``; the run_review command)."""
    settings = ReviewSettings.current()
    ReviewSettings.objects.filter(pk=settings.pk).update(rules_changed_at=timezone.now())
    if queue:
        transaction.on_commit(rules_rereview_enqueue, robust=True)


def rules_rereview_enqueue() -> bool:
    # by name: the task module imports this one (EcrConfig.ready() registers it)
    rules_rereview = current_app.tasks["ecr.rules_rereview"]
    try:
        rules_rereview.apply_async(retry=False, countdown=RULES_REREVIEW_DELAY_SECONDS)
        return True
    except Exception as exc:  # kombu/redis errors vary by transport
        logger.warning("re-review after a rules change not queued: %s", exc)
        return False


def rules_read_before_change(*, tenant: Tenant, catalog: Catalog, read_at: datetime) -> bool:
    """A review that read the rules at ``read_at`` has written its verdicts: if the rules
    changed since, they may be the old rules' and a re-review that started before they
    were written missed them, so the catalog goes back on the re-review's list."""
    changed = ReviewSettings.current().rules_changed_at
    if changed is None or changed <= read_at:
        return False
    ecr_state_get(tenant=tenant, catalog=catalog)
    CatalogEcrState.objects.for_tenant(tenant).filter(catalog=catalog).update(
        rules_stale_at=timezone.now()
    )
    transaction.on_commit(rules_rereview_enqueue, robust=True)
    return True


def _rules_read_by(result: ReviewResult, *, tenant: Tenant, catalog: Catalog) -> None:
    if result.batch is not None:  # the review read the rules as it started
        rules_read_before_change(tenant=tenant, catalog=catalog, read_at=result.batch.started_at)


def catalogs_behind_rules() -> list[tuple[Tenant, Catalog]]:
    """Catalogs whose last complete re-review started before the rules' last change or
    before one of their reviews went stale (see ``rules_read_before_change``)."""
    changed = ReviewSettings.current().rules_changed_at
    out = []
    for tenant in Tenant.objects.order_by("pk"):
        states = CatalogEcrState.objects.for_tenant(tenant)
        stale = states.filter(rules_stale_at__isnull=False).filter(
            Q(rules_reviewed_at__isnull=True) | Q(rules_reviewed_at__lt=F("rules_stale_at"))
        )
        behind = set(stale.values_list("catalog_id", flat=True))
        if changed is not None:
            current = states.filter(rules_reviewed_at__gte=changed).values_list("catalog_id")
            behind |= set(  # a catalog created since has only reviews of the new rules
                Catalog.objects.for_tenant(tenant)
                .filter(created_at__lt=changed)
                .exclude(pk__in=current)
                .values_list("pk", flat=True)
            )
        catalogs = Catalog.objects.for_tenant(tenant).filter(pk__in=behind).order_by("pk")
        out += [(tenant, c) for c in catalogs]
    return out


def rules_rereview(*, tenant: Tenant, catalog: Catalog) -> int:
    """Review again, with the current rules, the catalog's active products reviewed before
    this started (Pending ones wait for their own review), then evaluate ECR: the new
    verdicts may move the ratio across a threshold. Returns how many were reviewed."""
    from .review import products_review

    started = timezone.now()  # before the review reads the rules
    ecr = ecr_state_get(tenant=tenant, catalog=catalog)
    result = products_review(
        tenant=tenant,
        catalog=catalog,
        lane=ReviewLane.FAST if ecr.enabled else ReviewLane.STANDARD,
        trigger=EcrTrigger.RULES,
        reviewed_before=started,
    )
    CatalogEcrState.objects.for_tenant(tenant).filter(catalog=catalog).update(
        rules_reviewed_at=started
    )
    ecr_evaluate(tenant=tenant, catalog=catalog, trigger=EcrTrigger.RULES)
    tenant_id, catalog_id = tenant.pk, catalog.pk
    transaction.on_commit(lambda: diagnostics_refresh_enqueue(tenant_id, catalog_id))
    return result.reviewed


def rules_rereview_all() -> int:
    """Re-review every catalog behind the rules, in rounds until none is (an edit made
    meanwhile puts catalogs back on the list). One at a time across workers on PostgreSQL: a second
    task finds the lock taken and leaves the work to the first."""
    from django.db import connection

    pg = connection.vendor == "postgresql"
    if pg:
        with connection.cursor() as cur:
            cur.execute("SELECT pg_try_advisory_lock(%s)", [_REREVIEW_LOCK])
            if not cur.fetchone()[0]:
                return 0
    total = 0
    try:
        for _ in range(_REREVIEW_ROUNDS):
            behind = catalogs_behind_rules()
            for tenant, catalog in behind:
                total += rules_rereview(tenant=tenant, catalog=catalog)
            if not behind:
                break
    finally:
        if pg:
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(%s)", [_REREVIEW_LOCK])
    return total
