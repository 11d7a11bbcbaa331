"""Writes of review and ECR. Plain functions taking the tenant explicitly.

The review pipeline is set-based: products stream from PostgreSQL in chunks through one
server-side cursor (the tenant-scoped queryset's own SQL), the pure rules
(:mod:`ecr.rules`) run over each chunk in one pass, and per chunk one DELETE replaces the old
issues, one COPY writes the new ones and one UPDATE joined to the chunk's (id, status) pairs
sets the statuses. No query per product. Outside a transaction the writes run in background
writer threads, overlapping the rules (see ``_ThreadWriter``).
"""

from __future__ import annotations

import io
import logging
import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
from django.core.mail import send_mass_mail
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Count, Q
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower, Trim
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from catalog_health.tenancy.models import Tenant
from catalog_health.tenancy.roles import Role
from catalog_health.tenancy.selectors import member_emails
from catalog_health.tenancy.services import audit_record
from catalogs.fields import FEED_FIELDS
from catalogs.models import Catalog, Product, ReviewStatus

from . import rules, selectors
from . import state as ecr_state
from .diagnostics import CatalogDiagnostics as CatalogDiagnostics
from .diagnostics import catalog_diagnostics as catalog_diagnostics
from .diagnostics import diagnostics_snapshot_current as diagnostics_snapshot_current
from .diagnostics_tasks import diagnostics_refresh
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

CHUNK_SIZE = 10_000
# Columns the rules read (catalogs.Product field names).
REVIEW_FIELDS = (
    "id",
    # product_type and google_product_category are long and no rule reads them
    *(f for f in FEED_FIELDS if f not in ("product_type", "google_product_category")),
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


_DELETE_SQL = (
    f"DELETE FROM {ProductIssue._meta.db_table} "  # noqa: S608 - model table name
    "WHERE tenant_id = %s AND product_id = ANY(%s::bigint[])"
)
_COPY_SQL = (
    f"COPY {ProductIssue._meta.db_table} ({', '.join(ISSUE_COLUMNS)}) FROM STDIN (FORMAT csv)"
)
# One join against the chunk's (id, status) pairs: no per-row scan of an id list.
_STATUS_SQL = (
    f"UPDATE {Product._meta.db_table} AS p "  # noqa: S608 - model table name
    "SET review_status = v.status, reviewed_at = %s "
    "FROM unnest(%s::bigint[], %s::text[]) AS v(id, status) "
    "WHERE p.id = v.id AND p.tenant_id = %s AND p.catalog_id = %s "
    "AND p.review_status = %s AND (p.review_requested_at IS NULL OR p.review_requested_at <= %s)"
)


@dataclass
class _ChunkWrite:
    tenant_id: int
    catalog_id: int
    ids: list[int]
    unavailable: list[int]
    issues: pa.Table  # ISSUE_COLUMNS
    started: datetime
    now: datetime


def _pg_write(cur, w: _ChunkWrite) -> None:
    """Replace the chunk's issues as a whole (a fixed field loses its issue) and set the
    statuses, in plain SQL with arrays (no 10,000-placeholder IN lists); tenant_id leads
    every WHERE, as TenantQuerySet.for_tenant() puts it. A product edited again after
    the review started stays Pending for the next review."""
    cur.execute(_DELETE_SQL, [w.tenant_id, w.ids])
    if w.issues.num_rows:
        buf = io.BytesIO()
        pa_csv.write_csv(w.issues, buf, pa_csv.WriteOptions(include_header=False))
        with cur.copy(_COPY_SQL) as cp:
            cp.write(buf.getvalue())
    bad = set(w.unavailable)
    statuses = [
        ReviewStatus.UNAVAILABLE.value if i in bad else ReviewStatus.AVAILABLE.value for i in w.ids
    ]
    cur.execute(
        _STATUS_SQL,
        [
            w.now,
            w.ids,
            statuses,
            w.tenant_id,
            w.catalog_id,
            ReviewStatus.PENDING.value,
            w.started,
        ],
    )


def _orm_write(tenant: Tenant, w: _ChunkWrite) -> None:
    """The same for databases without COPY (the embedded SQLite default)."""
    ProductIssue.objects.for_tenant(tenant).filter(product_id__in=w.ids).delete()
    ProductIssue.objects.bulk_create(
        [
            ProductIssue(**{**r, "created_at": w.now})
            for r in w.issues.drop_columns(["created_at"]).to_pylist()
        ],
        batch_size=500,
    )
    not_edited = Q(review_requested_at__isnull=True) | Q(review_requested_at__lte=w.started)
    bad = set(w.unavailable)
    for status, pids in (
        (ReviewStatus.UNAVAILABLE, w.unavailable),
        (ReviewStatus.AVAILABLE, [i for i in w.ids if i not in bad]),
    ):
        if pids:
            Product.objects.for_tenant(tenant).filter(
                not_edited, id__in=pids, review_status=ReviewStatus.PENDING
            ).update(review_status=status, reviewed_at=w.now)


class _InlineWriter:
    """Writes each chunk on the caller's connection, inside its transaction."""

    def __init__(self, tenant: Tenant):
        self.tenant = tenant

    def put(self, w: _ChunkWrite) -> None:
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                _pg_write(cur.cursor, w)
        else:
            _orm_write(self.tenant, w)

    def close(self) -> None:
        pass


class _ThreadWriter:
    """Writes chunks on other connections in background threads, one transaction per
    chunk, while the caller reviews the next chunks. The status UPDATE is PostgreSQL's
    heaviest part (every index of the product table gets an entry); with two writers it
    runs on both cores whenever the rules wait for rows.

    Only used outside a transaction (other connections could not see uncommitted rows).
    A failure stops the review; products of unwritten chunks stay Pending and the next
    cycle reviews them, so nothing is lost."""

    def __init__(self, workers: int = 2):
        self.queue: queue.Queue = queue.Queue(maxsize=2 * workers)
        self.error: BaseException | None = None
        self.threads = [
            threading.Thread(target=self._run, name=f"ecr-review-writer-{i}", daemon=True)
            for i in range(workers)
        ]
        for t in self.threads:
            t.start()

    def _run(self) -> None:
        conn = connections.create_connection(DEFAULT_DB_ALIAS)
        try:
            conn.ensure_connection()
            raw = conn.connection
            while (w := self.queue.get()) is not None:
                if self.error is None:
                    with raw.transaction(), raw.cursor() as cur:
                        # A chunk lost to a crash before its WAL flush leaves its products
                        # Pending, which the next cycle reviews: no need to wait for fsync.
                        cur.execute("SET LOCAL synchronous_commit = off")
                        _pg_write(cur, w)
        except BaseException as exc:  # handed to the caller in put()/close()
            self.error = exc
            while self.queue.get() is not None:
                pass
        finally:
            conn.close()

    def put(self, w: _ChunkWrite) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(w)

    def close(self) -> None:
        for _ in self.threads:
            self.queue.put(None)
        for t in self.threads:
            t.join()
        if self.error is not None:
            raise self.error


def _review_chunk(
    chunk: _Block,
    *,
    tenant: Tenant,
    catalog: Catalog,
    ctx: rules.ReviewContext,
    started: datetime,
    result: ReviewResult,
    waits: list[float],
    writer,
) -> None:
    now = timezone.now()
    review = rules.review_block(chunk.block, ctx)
    ids = np.asarray(chunk.ids, dtype=np.int64)
    issues = review.issues
    rows = issues.column("row").to_numpy()
    table = pa.table(
        {
            "tenant_id": pa.array(np.full(len(rows), tenant.pk, dtype=np.int64)),
            "catalog_id": pa.array(np.full(len(rows), catalog.pk, dtype=np.int64)),
            "product_id": pa.array(ids[rows]),
            **{c: issues.column(c) for c in ISSUE_COLUMNS[3:-1]},
            "created_at": pa.array([now.isoformat()] * len(rows), pa.string()),
        }
    )
    unavailable = ids[review.unavailable].tolist()
    now_ts = now.timestamp()
    waits.extend(max(0.0, now_ts - r) for r in chunk.requested if r is not None)
    writer.put(
        _ChunkWrite(
            tenant_id=tenant.pk,
            catalog_id=catalog.pk,
            ids=chunk.ids,
            unavailable=unavailable,
            issues=table,
            started=started,
            now=now,
        )
    )
    result.reviewed += len(chunk.ids)
    result.unavailable += len(unavailable)
    result.available += len(chunk.ids) - len(unavailable)
    result.issues += len(rows)


@dataclass
class _Block:
    """A chunk of products as the engine reads it, with their ids and pending-since."""

    ids: list[int]
    requested: list[float | None]  # epoch seconds
    block: pa.Table


# The engine's columns in SQL: numbers as the text they were stored as, the list of
# additional image links and the lower-cased attribute names (as block_from_products
# makes them from mappings), so no JSON is parsed in Python.
_BLOCK_SQL = {
    "price": "price::text",
    "sale_price": "sale_price::text",
    "shipping_fee": "shipping_fee::text",
    "inventory_quantity": "inventory_quantity::text",
    "additional_image_links": (
        # Most products have none: skip the subquery for them.
        "CASE WHEN additional_image_links = '[]'::jsonb THEN NULL ELSE"
        " CASE jsonb_typeof(additional_image_links)"
        " WHEN 'array' THEN ARRAY(SELECT coalesce(e, 'None')"
        "  FROM jsonb_array_elements_text(additional_image_links) e)"
        " WHEN 'string' THEN ARRAY(SELECT x FROM"
        "  unnest(string_to_array(additional_image_links #>> '{}', ',')) x"
        "  WHERE btrim(x) <> '')"
        " WHEN 'null' THEN NULL"
        " ELSE CASE WHEN additional_image_links IN ('false', '0', '{}', '\"\"') THEN NULL"
        "  ELSE ARRAY[additional_image_links::text] END END END"
    ),
    "attribute_keys": (
        "CASE WHEN custom_attributes = '{}'::jsonb THEN NULL"
        " WHEN jsonb_typeof(custom_attributes) = 'object'"
        " THEN ARRAY(SELECT lower(k) FROM jsonb_object_keys(custom_attributes) k) END"
    ),
}
_TEXT_FIELDS = tuple(n for n in rules.BLOCK_SCHEMA.names if n not in _BLOCK_SQL)


def _stream(qs, chunk_size: int) -> Iterator[_Block]:
    """The queryset's products in blocks. On PostgreSQL the (tenant-scoped) queryset's own
    SQL runs on a server-side cursor; each fetched chunk becomes Arrow columns in C."""
    if connection.vendor != "postgresql":
        rows = list(qs.values(*REVIEW_FIELDS))
        for i in range(0, len(rows), chunk_size):
            part = rows[i : i + chunk_size]
            yield _Block(
                ids=[p["id"] for p in part],
                requested=[
                    p["review_requested_at"].timestamp() if p["review_requested_at"] else None
                    for p in part
                ],
                block=rules.block_from_products(part),
            )
        return
    qs = qs.annotate(
        requested_epoch=RawSQL("EXTRACT(EPOCH FROM review_requested_at)::float8", []),
        **{f"b_{k}": RawSQL(v, []) for k, v in _BLOCK_SQL.items()},  # noqa: S611 - constants
    )
    fields = ("id", "requested_epoch", *_TEXT_FIELDS, *(f"b_{k}" for k in _BLOCK_SQL))
    names = (*_TEXT_FIELDS, *_BLOCK_SQL)
    schema = rules.BLOCK_SCHEMA
    sql, params = qs.values_list(*fields).query.sql_with_params()
    connection.ensure_connection()
    # Outside a transaction a server-side cursor must be WITH HOLD to survive commits.
    hold = not connection.in_atomic_block
    with connection.connection.cursor(name=f"ecr_review_{id(qs)}", withhold=hold) as cur:
        cur.itersize = chunk_size
        cur.execute(sql, params)
        while True:
            rows = cur.fetchmany(chunk_size)
            if not rows:
                break
            cols = list(zip(*rows, strict=True))
            block = pa.table(
                {n: pa.array(c, schema.field(n).type) for n, c in zip(names, cols[2:], strict=True)}
            ).select(schema.names)
            yield _Block(ids=list(cols[0]), requested=list(cols[1]), block=block)


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
    background_writer: bool | None = None,
) -> ReviewResult:
    """Review the Pending active products of a catalog (or those of ``product_ids``).

    With ``limit``, the oldest Pending products first (the standard queue).

    Inside a caller's transaction (a seller's edit, tests) everything happens in it: a
    failure leaves every product as it was. Called outside one on PostgreSQL (a feed run
    after it committed, the queue task) the writes go through a background writer, one
    transaction per chunk, overlapping with the rules (see ``_ThreadWriter``).
    """
    if background_writer is None:
        # Worth two extra connections only for whole-catalog reviews, not for an edit or a
        # queue cycle that fits in one chunk.
        background_writer = (
            connection.vendor == "postgresql"
            and not connection.in_atomic_block
            and product_ids is None
            and (limit is None or limit > chunk_size)
        )
    if background_writer:
        return _products_review(
            tenant, catalog, lane, trigger, product_ids, limit, run, chunk_size, _ThreadWriter()
        )
    with transaction.atomic():
        return _products_review(
            tenant,
            catalog,
            lane,
            trigger,
            product_ids,
            limit,
            run,
            chunk_size,
            _InlineWriter(tenant),
        )


def _products_review(
    tenant, catalog, lane, trigger, product_ids, limit, run, chunk_size, writer
) -> ReviewResult:
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
    try:
        for chunk in _stream(qs, chunk_size):
            _review_chunk(
                chunk,
                tenant=tenant,
                catalog=catalog,
                ctx=ctx,
                started=started,
                result=result,
                waits=waits,
                writer=writer,
            )
    finally:
        writer.close()
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
    # The version first: a change committing while we count then shows as a newer version
    # and pages recount rather than trust these counts (see selectors.review_counts_current).
    version = selectors.diagnostics_version(tenant=tenant, catalog=catalog)
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
    recipients = member_emails(tenant=tenant, roles=NOTIFIED_ROLES)
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
