"""The review pipeline: the review context (policy terms, duplicate ids, settings) and
``products_review`` with its steps.

The pipeline is set-based: products stream from PostgreSQL in chunks through one
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

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Count, Q
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower, Trim
from django.utils import timezone

from catalog_health.tenancy.models import Tenant
from catalogs.fields import FEED_FIELDS
from catalogs.models import Catalog, Product, ReviewStatus

from . import rules
from .models import (
    DeniedClaim,
    PolicyTerm,
    ProductIssue,
    ReviewBatch,
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
    "reviewed_at",
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


# --- review context ---------------------------------------------------------


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
# A re-review after a rules change writes only the products whose verdict changes (an
# UPDATE of every product would give every index of the table a new entry), and each only
# if it still carries the review that was read (a feed run or an edit since then wins).
_REREVIEW_LOCK_SQL = (
    f"SELECT p.id, p.review_status FROM {Product._meta.db_table} AS p "  # noqa: S608
    "JOIN unnest(%s::bigint[], %s::timestamptz[]) AS v(id, seen) ON p.id = v.id "
    "WHERE p.tenant_id = %s AND p.catalog_id = %s AND p.review_status <> %s "
    "AND p.removed_at IS NULL AND p.reviewed_at IS NOT DISTINCT FROM v.seen "
    "FOR UPDATE OF p"
)
PENDING = ReviewStatus.PENDING.value
_ISSUE_FIELDS = ("code", "severity", "field", "message", "how_to_fix", "rule")
_CURRENT_SQL = (
    f"SELECT id, review_status FROM {Product._meta.db_table} "  # noqa: S608 - model table
    "WHERE tenant_id = %s AND id = ANY(%s::bigint[]) AND removed_at IS NULL "
    f"AND review_status <> '{PENDING}'"
)
_CURRENT_ISSUES_SQL = (
    f"SELECT product_id, {', '.join(_ISSUE_FIELDS)} "  # noqa: S608 - model table
    f"FROM {ProductIssue._meta.db_table} "
    "WHERE tenant_id = %s AND product_id = ANY(%s::bigint[]) ORDER BY product_id, id"
)
_REREVIEW_STATUS_SQL = (
    f"UPDATE {Product._meta.db_table} AS p "  # noqa: S608 - model table name
    "SET review_status = v.status, reviewed_at = %s "
    "FROM unnest(%s::bigint[], %s::text[]) AS v(id, status) "
    "WHERE p.id = v.id AND p.tenant_id = %s AND p.catalog_id = %s"
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
    # a re-review after a rules change: the reviewed_at each product was read with
    seen: list[datetime | None] | None = None

    def statuses(self) -> list[str]:
        bad = set(self.unavailable)
        return [
            ReviewStatus.UNAVAILABLE.value if i in bad else ReviewStatus.AVAILABLE.value
            for i in self.ids
        ]


def _copy_issues(cur, issues: pa.Table) -> None:
    if issues.num_rows:
        buf = io.BytesIO()
        pa_csv.write_csv(issues, buf, pa_csv.WriteOptions(include_header=False))
        with cur.copy(_COPY_SQL) as cp:
            cp.write(buf.getvalue())


def _pg_write(cur, w: _ChunkWrite) -> None:
    """Replace the chunk's issues as a whole (a fixed field loses its issue) and set the
    statuses, in plain SQL with arrays (no 10,000-placeholder IN lists); tenant_id leads
    every WHERE, as TenantQuerySet.for_tenant() puts it. A product edited again after
    the review started stays Pending for the next review."""
    if w.seen is not None:
        _pg_rewrite(cur, w)
        return
    cur.execute(_DELETE_SQL, [w.tenant_id, w.ids])
    _copy_issues(cur, w.issues)
    statuses = w.statuses()
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


def _pg_rewrite(cur, w: _ChunkWrite) -> None:
    """A re-review's chunk: only the products whose status or issues come out different
    are written. Those still as read are locked until the chunk commits and get their
    issues, and their status (and ``reviewed_at``) where it changes; a product reviewed or
    changed since it was read keeps what that wrote."""
    cur.execute(_CURRENT_SQL, [w.tenant_id, w.ids])
    now_status = dict(cur.fetchall())
    cur.execute(_CURRENT_ISSUES_SQL, [w.tenant_id, w.ids])
    differ = _differing(w, now_status, cur.fetchall())
    if not differ:
        return
    seen = dict(zip(w.ids, w.seen or (), strict=True))
    cur.execute(
        _REREVIEW_LOCK_SQL,
        [list(differ), [seen[pid] for pid in differ], w.tenant_id, w.catalog_id, PENDING],
    )
    kept = dict(cur.fetchall())
    flips = [(pid, differ[pid]) for pid, status in kept.items() if differ[pid] != status]
    if flips:
        ids, statuses = zip(*flips, strict=True)
        cur.execute(
            _REREVIEW_STATUS_SQL, [w.now, list(ids), list(statuses), w.tenant_id, w.catalog_id]
        )
    cur.execute(_DELETE_SQL, [w.tenant_id, list(kept)])
    _copy_issues(cur, _issues_of(w.issues, list(kept)))


def _differing(
    w: _ChunkWrite, now_status: dict[int, str], now_issues: list[tuple]
) -> dict[int, str]:
    """The chunk's products whose new status or issues (in order) differ from what they
    carry now, with their new status; ``now_issues``: (product id, *_ISSUE_FIELDS) ordered
    by product, then issue."""
    before: dict[int, list[tuple]] = {}
    for pid, *fields in now_issues:
        before.setdefault(pid, []).append(tuple(fields))
    after: dict[int, list[tuple]] = {}
    for row in w.issues.select(["product_id", *_ISSUE_FIELDS]).to_pylist():
        after.setdefault(row["product_id"], []).append(tuple(row[f] for f in _ISSUE_FIELDS))
    return {
        pid: status
        for pid, status in zip(w.ids, w.statuses(), strict=True)
        if pid in now_status
        and (now_status[pid] != status or before.get(pid, []) != after.get(pid, []))
    }


def _issues_of(issues: pa.Table, product_ids: list[int]) -> pa.Table:
    return issues.filter(pc.is_in(issues.column("product_id"), pa.array(product_ids, pa.int64())))


def _orm_rewrite(tenant: Tenant, w: _ChunkWrite) -> None:
    """_pg_rewrite for databases without arrays: one query per ``reviewed_at`` read (a
    review gives a whole chunk the same time, so they are few), one UPDATE per status."""
    assert w.seen is not None
    products = Product.objects.for_tenant(tenant).active().exclude(review_status=PENDING)
    issues = ProductIssue.objects.for_tenant(tenant)
    now_status = dict(products.filter(id__in=w.ids).values_list("id", "review_status"))
    now_issues = issues.filter(product_id__in=w.ids).order_by("product_id", "id")
    differ = _differing(w, now_status, list(now_issues.values_list("product_id", *_ISSUE_FIELDS)))
    by_seen: dict[datetime | None, list[int]] = {}
    for pid, seen in zip(w.ids, w.seen, strict=True):
        if pid in differ:
            by_seen.setdefault(seen, []).append(pid)
    kept: dict[int, str] = {}
    for seen, pids in by_seen.items():
        kept.update(
            products.select_for_update()
            .filter(id__in=pids, reviewed_at=seen)
            .values_list("id", "review_status")
        )
    for status in (ReviewStatus.AVAILABLE, ReviewStatus.UNAVAILABLE):
        flips = [pid for pid, was in kept.items() if differ[pid] == status != was]
        if flips:
            products.filter(id__in=flips).update(review_status=status, reviewed_at=w.now)
    issues.filter(product_id__in=list(kept)).delete()
    _orm_insert_issues(_issues_of(w.issues, list(kept)), w.now)


def _orm_insert_issues(issues: pa.Table, now: datetime) -> None:
    ProductIssue.objects.bulk_create(
        [
            ProductIssue(**{**r, "created_at": now})
            for r in issues.drop_columns(["created_at"]).to_pylist()
        ],
        batch_size=500,
    )


def _orm_write(tenant: Tenant, w: _ChunkWrite) -> None:
    """The same for databases without COPY (the embedded SQLite default)."""
    if w.seen is not None:
        _orm_rewrite(tenant, w)
        return
    ProductIssue.objects.for_tenant(tenant).filter(product_id__in=w.ids).delete()
    _orm_insert_issues(w.issues, w.now)
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
    rereview: bool = False,
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
    if not rereview:  # products re-reviewed after a rules change were not waiting
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
            seen=chunk.seen if rereview else None,
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
    seen: list[datetime | None]  # reviewed_at as read


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
                seen=[p["reviewed_at"] for p in part],
            )
        return
    qs = qs.annotate(
        requested_epoch=RawSQL("EXTRACT(EPOCH FROM review_requested_at)::float8", []),
        **{f"b_{k}": RawSQL(v, []) for k, v in _BLOCK_SQL.items()},  # noqa: S611 - constants
    )
    fields = (
        "id",
        "requested_epoch",
        "reviewed_at",
        *_TEXT_FIELDS,
        *(f"b_{k}" for k in _BLOCK_SQL),
    )
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
                {n: pa.array(c, schema.field(n).type) for n, c in zip(names, cols[3:], strict=True)}
            ).select(schema.names)
            yield _Block(
                ids=list(cols[0]), requested=list(cols[1]), block=block, seen=list(cols[2])
            )


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
    written_by_run: bool = False,
    reviewed_before: datetime | None = None,
) -> ReviewResult:
    """Review the Pending active products of a catalog (or those of ``product_ids``; with
    ``written_by_run``, those the feed run ``run`` created or changed).

    With ``limit``, the oldest Pending products first (the standard queue). With
    ``reviewed_before`` (the rules' last change), the active products reviewed before it
    instead of the Pending ones; each keeps its new review only if no feed run or edit
    reviewed or changed it meanwhile.

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
            and not written_by_run
            and (limit is None or limit > chunk_size)
        )
    if background_writer:
        return _products_review(
            tenant=tenant,
            catalog=catalog,
            lane=lane,
            trigger=trigger,
            product_ids=product_ids,
            limit=limit,
            run=run,
            chunk_size=chunk_size,
            writer=_ThreadWriter(),
            written_by_run=written_by_run,
            reviewed_before=reviewed_before,
        )
    with transaction.atomic():
        return _products_review(
            tenant=tenant,
            catalog=catalog,
            lane=lane,
            trigger=trigger,
            product_ids=product_ids,
            limit=limit,
            run=run,
            chunk_size=chunk_size,
            writer=_InlineWriter(tenant),
            written_by_run=written_by_run,
            reviewed_before=reviewed_before,
        )


def _products_review(
    *,
    tenant,
    catalog,
    lane,
    trigger,
    product_ids,
    limit,
    run,
    chunk_size,
    writer,
    written_by_run,
    reviewed_before,
) -> ReviewResult:
    started = timezone.now()
    settings = ReviewSettings.current()
    ctx = review_context(tenant=tenant, catalog=catalog, settings=settings)
    qs = Product.objects.for_tenant(tenant).active().filter(catalog=catalog)
    if reviewed_before is None:
        qs = qs.filter(review_status=ReviewStatus.PENDING)
    else:
        qs = qs.exclude(review_status=ReviewStatus.PENDING).filter(
            Q(reviewed_at__lt=reviewed_before) | Q(reviewed_at__isnull=True)
        )
    if product_ids is not None:
        qs = qs.filter(id__in=list(product_ids))
    if written_by_run:  # a run's merge sets last_seen_run_id on the rows it writes
        qs = qs.filter(last_seen_run_id=run.pk)
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
                rereview=reviewed_before is not None,
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
