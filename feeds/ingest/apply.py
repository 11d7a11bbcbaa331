# SQL below is built only from quoted table/column names of our own models and the per-run
# staging table name (an integer id); every value goes through parameters.
# ruff: noqa: S608
"""The apply step: thresholds, the one apply transaction, and how a run ends."""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import time

from django.db import (
    DatabaseError,
    connection,
    transaction,
)
from django.utils import timezone

from catalog_health.tenancy.models import Tenant
from catalogs.models import Catalog, Product
from feeds.ingest.changes import _record_diff
from feeds.ingest.context import (
    HOLD_INCOMPLETE,
    HOLD_SHARE,
    _Ctx,
    _fence_check,
    _Held,
    _phase,
    _save,
    _Steps,
)
from feeds.ingest.merge import (
    _create_delta,
    _created_ids,
    _link_created_products,
    _merge,
    _merged_rows_sql,
    _remember_line_hashes,
    _remove_missing,
    _skus_after_merge_sql,
    _stage_counts,
)
from feeds.ingest.staging import _gone_table, _is_pg, _qn, _review_table
from feeds.models import (
    ChangeKind,
    FeedRowError,
    FeedRun,
    FeedRunChange,
    Phase,
    ProductSource,
    RunStatus,
    Trigger,
    UpdateMode,
)
from feeds.notifications import notify_run_failed, notify_run_held
from feeds.parsing import (
    RowError,
)

log = logging.getLogger(__name__)


def _products(count: int) -> str:
    return f"{count} product" if count == 1 else f"{count} products"


def _apply_and_finish(ctx: _Ctx) -> None:
    """The apply transaction, and the holds that stop it.

    - A replace run whose removals exceed the share threshold waits for confirmation and
      changes nothing.
    - A replace run whose download cannot be proven complete (``incomplete_reason``) adds and
      updates, but holds every removal for confirmation.
    - A confirmed run removes only the set it showed (same count and digest); if the catalog
      changed since, it is held again with the new numbers.
    The fence is checked last, under the source's row lock, before the COMMIT."""
    if ctx.direct is not None:
        _apply_first_pull(ctx)
        return
    run, fs = ctx.run, ctx.fs
    confirmed = run.confirmed_at is not None
    removals_only = confirmed and run.hold_reason == HOLD_INCOMPLETE
    held_message = ""
    hold_reason = ""
    step = ctx.steps = _Steps("apply")
    with _phase(run, Phase.APPLYING), step("commit"), transaction.atomic():
        # one apply per catalog at a time; the catalog row is the lock
        Catalog.objects.for_tenant(ctx.tenant).select_for_update().get(pk=ctx.catalog.pk)
        with step("delta"):
            delta = _create_delta(run)
        with step("counts"):
            counts = _stage_counts(run, delta, ctx.matcher)
        active, to_remove = counts["active"], counts["to_remove"]
        digest = _removal_digest(run) if to_remove else ""
        replace = run.mode == UpdateMode.REPLACE
        shown = (run.removed, run.held_removals_digest)
        # (a run holding only removals that are all gone meanwhile has nothing left to do)
        if confirmed and (to_remove or not removals_only) and (to_remove, digest) != shown:
            hold_reason = run.hold_reason or HOLD_SHARE
            held_message = (
                f"The catalog changed since this run was confirmed: it would now remove "
                f"{_products(to_remove) if to_remove else 'no product'}, not the "
                f"{run.removed} shown. Nothing was changed. Check the numbers and confirm "
                "again to apply them."
            )
        elif (
            replace
            and not confirmed
            and to_remove
            and not run.incomplete_reason
            and active
            and to_remove / active > fs.removal_share_threshold
        ):
            hold_reason = HOLD_SHARE
            held_message = (
                f"This feed would remove {to_remove} of the catalog's {_products(active)} "
                f"({to_remove / active:.0%}), more than the {fs.removal_share_threshold:.0%} "
                "allowed without confirmation. Nothing was changed. Confirm to apply it, or "
                "fix the feed and refresh."
            )
        elif removals_only:  # the adds and updates were applied when the run was held
            if shown[0] and not to_remove:
                run.error_message = (
                    f"The {_products(shown[0])} this run held for removal had left the "
                    "catalog meanwhile (a later run removed them, or its feed lists them "
                    "again): nothing was removed."
                )
            run.removed = _remove_held(ctx, to_remove)
            _save(run, "removed", "error_message")
        else:
            hold_removals = replace and not confirmed and bool(to_remove and run.incomplete_reason)
            if hold_removals:
                hold_reason = HOLD_INCOMPLETE
                held_message = (
                    f"{run.incomplete_reason} Products in the file were added and updated, but "
                    f"the {_products(to_remove)} missing from it "
                    f"{'was' if to_remove == 1 else 'were'} not removed: confirm to remove "
                    f"{'it' if to_remove == 1 else 'them'}, or refresh once the feed server "
                    "sends the whole file."
                )
            _merge_staged(ctx, delta, counts, removals=not hold_removals)
        with step("fence"):
            _fence_check(run)
    step.times["apply.commit"] = round(
        step.times["apply.commit"]
        - sum(v for k, v in step.times.items() if k.startswith("apply.") and k != "apply.commit"),
        3,
    )
    step.log(run)
    if held_message:  # saved after the transaction: the staging table is kept
        if hold_reason == HOLD_INCOMPLETE and not confirmed and (run.created or run.updated):
            _call_review_hook(  # applied
                tenant=ctx.tenant, catalog=ctx.catalog, run=run, reviewed=ctx.review
            )
        run.removed = to_remove
        run.held_removals_digest = digest
        run.hold_reason = hold_reason
        run.confirmed_at = run.confirmed_by = None
        run.status = RunStatus.NEEDS_CONFIRMATION
        run.error_code = "needs_confirmation"
        run.error_message = held_message
        run.finished_at = timezone.now()
        _save(
            run,
            "removed",
            "held_removals_digest",
            "hold_reason",
            "confirmed_at",
            "confirmed_by",
            "error_code",
            "error_message",
            "finished_at",
            "status",
        )
        if run.trigger == Trigger.SCHEDULED:
            notify_run_held(tenant=ctx.tenant, run=run)
        raise _Held
    if not removals_only:
        with _phase(run, Phase.REVIEWING):
            if run.created or run.updated:
                _call_review_hook(
                    tenant=ctx.tenant, catalog=ctx.catalog, run=run, reviewed=ctx.review
                )
    _finish(ctx, RunStatus.SUCCEEDED)


def _merge_staged(ctx: _Ctx, delta: str, counts: dict[str, int], *, removals: bool) -> None:
    """Inside the apply transaction: the diff sample, the merge, and the removals."""
    run, fs, step = ctx.run, ctx.fs, ctx.steps
    removals = removals and counts["to_remove"] > 0
    with step("diff"):
        _record_diff(ctx, delta, fs.max_stored_changes, removals=removals)
    now = timezone.now()
    changed = bool(counts["created"] or counts["updated"])
    with step("review"):
        reviewer = _review_delta(ctx, delta, removals=removals) if changed else None
    with step("merge"):
        _merge(run, delta, now, review=_review_table(run) if reviewer else None)
    if _is_pg() and counts["created"] > max(1000, counts["active"] // 5):
        # many new rows: refresh the planner's statistics before the joins below
        with step("analyze"), connection.cursor() as cur:
            cur.execute(f"ANALYZE {_qn(Product._meta.db_table)}")
    with step("link"):
        if counts["created"]:
            _link_created_products(run)  # the diff rows of new products get their ids
    with step("hashes"):
        if counts["staged"] > counts["created"] + counts["updated"]:
            _remember_line_hashes(run)
    with step("remove"):
        removed = _remove_missing(run, now) if removals else 0
    with step("issues"):
        if reviewer is not None:
            _write_delta_issues(ctx, reviewer, delta, created=counts["created"] > 0)
        elif changed:
            _review_in_apply(ctx)
    run.created, run.updated = counts["created"], counts["updated"]
    # every record was rejected, staged, or skipped unread as unchanged
    run.unchanged = run.received - run.rejected - counts["created"] - counts["updated"]
    run.removed = removed
    _save(run, "created", "updated", "unchanged", "removed")


def _removal_digest(run: FeedRun) -> str:
    """sha256 of the ids of the products a replace run removes (its gone table), in order."""
    digest = hashlib.sha256()
    with connection.cursor() as cur:
        cur.execute(f"SELECT id FROM {_qn(_gone_table(run))} ORDER BY id")
        while rows := cur.fetchmany(10_000):
            digest.update("".join(f"{r[0]}," for r in rows).encode())
    return digest.hexdigest()


def _remove_held(ctx: _Ctx, to_remove: int) -> int:
    """A confirmed run whose removals were held: the removed diff rows, then the removals."""
    run = ctx.run
    if not to_remove:
        return 0
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT id, sku, title FROM {_qn(_gone_table(run))} ORDER BY id LIMIT %s",
            [ctx.fs.max_stored_changes],
        )
        FeedRunChange.objects.bulk_create(
            [
                FeedRunChange(
                    tenant_id=run.tenant_id,
                    run=run,
                    kind=ChangeKind.REMOVED,
                    product_id=pid,
                    sku=sku,
                    changes={"title": [title, None]},
                )
                for pid, sku, title in cur.fetchall()
            ],
            batch_size=2000,
        )
    return _remove_missing(run, timezone.now())


def _apply_first_pull(ctx: _Ctx) -> None:
    """Commit what _ProductWriter wrote: every good row is a new product (the fence is
    checked on the writer's connection, inside its transaction, before its COMMIT)."""
    run = ctx.run
    with _phase(run, Phase.APPLYING):
        run.created, run.updated, run.removed = ctx.direct.rows_written, 0, 0
        run.unchanged = run.received - run.rejected - run.created
        conn = ctx.direct.conn
        with ctx.direct.steps("fence"):
            _fence_check(run, lambda sql, params: conn.execute(sql, params).fetchone())
        ctx.direct.commit()
        ctx.review = ctx.direct.reviewed()
        ctx.direct = None
    with _phase(run, Phase.REVIEWING):
        if run.created:
            _call_review_hook(tenant=ctx.tenant, catalog=ctx.catalog, run=run, reviewed=ctx.review)
    _finish(ctx, RunStatus.SUCCEEDED)


def _finish(ctx: _Ctx, status: str) -> None:
    run, source = ctx.run, ctx.source
    now = timezone.now()
    run.status = status
    run.phase = Phase.DONE
    run.finished_at = now
    _save(run, "status", "phase", "finished_at")
    # the validators of what was applied, or of a download whose bytes were identical (a
    # file rewritten with the same content): the next pull then gets a 304 or an equal stat
    # instead of downloading it again (not after a 304: nothing new was learnt). With what was
    # applied, the reading rules its records were read by: those of the run's parse, which for
    # a held run confirmed after an upgrade are not the running ones. An identical file was
    # skipped unread, and only under the rules the source already remembers: they stay.
    downloaded_identical = status == RunStatus.UNCHANGED and bool(run.content_sha256)
    validators = {
        "last_etag": run.etag,
        "last_modified": run.last_modified,
        "last_sha256": run.content_sha256,
    }
    if status == RunStatus.SUCCEEDED:
        validators["last_rules_version"] = run.rules_version
    if source is not None:
        ProductSource.objects.for_tenant(ctx.tenant).filter(pk=source.pk).update(
            last_success_at=now,
            stale_notified_at=None,
            **(validators if status == RunStatus.SUCCEEDED or downloaded_identical else {}),
        )


def _fail(ctx: _Ctx, code: str, message: str) -> None:
    run = ctx.run
    run.status = RunStatus.FAILED
    run.phase = Phase.DONE
    run.error_code = code[:40]
    run.error_message = message
    run.finished_at = timezone.now()
    run.one_time_password_encrypted = ""
    _save(
        run,
        "status",
        "phase",
        "error_code",
        "error_message",
        "finished_at",
        "one_time_password_encrypted",
    )
    if run.trigger == Trigger.SCHEDULED:
        notify_run_failed(tenant=ctx.tenant, run=run)


def _fail_after_db_loss(ctx: _Ctx, code: str, message: str) -> None:
    """``_fail`` on a fresh connection: the dropped one is closed, and the write is retried
    for about half a minute while the database comes back (bounded; the reaper is the
    fallback)."""
    for delay in (0, 1, 2, 4, 8, 15):
        time.sleep(delay)
        broken = connection.errors_occurred and not connection.in_atomic_block
        if broken and not connection.is_usable():
            connection.close()
        try:
            _fail(ctx, code, message)
            return
        except DatabaseError:
            log.warning("feed run %s: database still unreachable", ctx.run.pk)
    raise DatabaseError(f"feed run {ctx.run.pk} could not be marked failed")


def _review_entry(name: str):
    """An entry point of ecr.services (review's one entry point for feeds), or None when
    ECR is not installed."""
    try:
        if importlib.util.find_spec("ecr.services") is None:
            return None
        import ecr.services
    except ImportError:
        return None
    return getattr(ecr.services, name)


def _call_review_hook(*, tenant: Tenant, catalog: Catalog, run: FeedRun, reviewed=None) -> bool:
    """Hand the run to ECR once it committed: the review the run did while it wrote
    (``reviewed``) is recorded, or the changed products (review_status = pending) are
    reviewed now; then the ECR state is evaluated once."""
    review_after_feed_run = _review_entry("review_after_feed_run")
    if review_after_feed_run is None:
        return False
    try:
        review_after_feed_run(tenant=tenant, catalog=catalog, run=run, reviewed=reviewed)
    except Exception:
        # the catalog is already applied; review catches up on its own schedule
        log.exception("review hook failed for feed run %s", run.pk)
        run.warnings += 1
        _save(run, "warnings")
        return False
    return True


def _review_in_apply(ctx: _Ctx) -> None:
    """Inside the apply transaction, after the merge: the changed products' review (ECR
    on), so that they are committed with their status. A failing review is rolled back to
    its savepoint and left to the hook after the commit; it never fails the run."""
    review_feed_changes = _review_entry("review_feed_changes")
    if review_feed_changes is None:
        return
    try:
        ctx.review = review_feed_changes(tenant=ctx.tenant, catalog=ctx.catalog, run=ctx.run)
    except Exception:
        log.exception("review of feed run %s failed in its apply", ctx.run.pk)
        ctx.review = None


def _review_delta(ctx: _Ctx, delta: str, *, removals: bool):
    """Inside the apply transaction, before the merge (PostgreSQL, ECR on): the review of
    the delta's rows as the merge writes them, and their statuses staged for it (see
    ecr.services.feed_delta_reviewer). None when there is none; a failing review is rolled
    back to its savepoint and the merge writes the rows Pending."""
    if not _is_pg():
        return None
    feed_delta_reviewer = _review_entry("feed_delta_reviewer")
    if feed_delta_reviewer is None:
        return None
    run = ctx.run
    try:
        with transaction.atomic(), connection.cursor() as cur:
            reviewer = feed_delta_reviewer(
                tenant=ctx.tenant,
                catalog=ctx.catalog,
                requested_at=run.started_at or run.created_at,
            )
            if reviewer is None:
                return None
            rows_sql, params = _merged_rows_sql(run, delta)
            skus_sql, skus_params = _skus_after_merge_sql(run, delta, removals=removals)
            reviewer.review_rows(cur.cursor, rows_sql, params, skus_sql, skus_params)
            reviewer.stage(cur.cursor, _qn(_review_table(run)))
    except Exception:
        log.exception("review of feed run %s failed before its merge", run.pk)
        return None
    ctx.steps.times.update(getattr(reviewer, "times", {}))
    return reviewer


def _write_delta_issues(ctx: _Ctx, reviewer, delta: str, *, created: bool) -> None:
    """After the merge: the reviewed products' issues replaced. On a failure (rolled back
    to its savepoint) the products go back to Pending and the hook after the commit
    reviews them."""
    run = ctx.run
    try:
        with transaction.atomic(), connection.cursor() as cur:
            reviewer.write_issues(cur.cursor, _created_ids(run, delta) if created else {})
    except Exception:
        log.exception("issues of feed run %s not written in its apply", run.pk)
        p = _qn(Product._meta.db_table)
        with connection.cursor() as cur:
            cur.execute(
                f"UPDATE {p} SET review_status = 'pending' FROM {_qn(delta)} s "
                f"WHERE {p}.tenant_id = %s AND {p}.catalog_id = %s AND {p}.sku = s.sku",
                [run.tenant_id, run.catalog_id],
            )
        ctx.review = None
        return
    ctx.steps.times.update(getattr(reviewer, "times", {}))
    ctx.review = reviewer.review


def _store_row_errors(run: FeedRun, errors: list[RowError]) -> None:
    FeedRowError.objects.bulk_create(
        [
            FeedRowError(
                tenant_id=run.tenant_id,
                run=run,
                line=e.line,
                sku=e.sku[:100],
                field=e.field[:100],
                message=e.message[:500],
                severity=e.severity,
            )
            for e in errors
        ],
        batch_size=2000,
    )
