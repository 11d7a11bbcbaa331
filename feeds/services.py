# SQL below is built only from quoted table/column names of our own models and the per-run
# staging table name (an integer id); every value goes through parameters.
# ruff: noqa: S608
"""Writes of the feeds app: sources, runs, and the ingest pipeline.

Every function takes the tenant explicitly. The pipeline of one run:

    fetch (SSRF-safe, conditional)  ->  identical? end as "unchanged"
    decompress (bomb-safe) -> parse + validate in chunks -> COPY into a per-run staging table
    thresholds (rejected share; removal share in replace mode -> "needs confirmation")
    ONE transaction: diff sample, one set-based upsert keyed by (tenant, catalog, sku) that
        skips rows whose content hash is unchanged, removals (replace mode)
    after commit: review hook (ECR), source bookkeeping, staging table dropped

Nothing touches the catalog before the apply transaction, so a failed fetch, a parse
error, a threshold or a killed worker leaves the catalog exactly as it was.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import json
import logging
import os
import queue
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import (
    DatabaseError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    connection,
    transaction,
)
from django.utils import timezone

from catalog_health.tenancy.models import Membership, Tenant
from catalog_health.tenancy.roles import Role
from catalog_health.tenancy.services import audit_record
from catalogs import selectors as catalog_selectors
from catalogs.models import Catalog, Product
from catalogs.services import sort_keys_defer, sort_keys_fill_new_partition

from . import crypto, pgcopy
from .columnar import RecordMatcher, ReparseNeeded, parse_feed_tables
from .decompress import Limits, check_expansion, open_decompressed
from .fetching import FetchPolicy, feed_server, feed_url_problem, fetch, resolve_checked
from .models import (
    ChangeKind,
    FeedRowError,
    FeedRun,
    FeedRunChange,
    FeedSettings,
    Phase,
    ProductSource,
    RunStatus,
    Schedule,
    SourceKind,
    Trigger,
    UpdateMode,
)
from .parsing import (
    HASHED_COLUMNS,
    OUTPUT_COLUMNS,
    FeedError,
    RowError,
    ValidationState,
    content_hash,
    custom_attribute_keys,
    written_fields,
)
from .schedule import next_pull_after

log = logging.getLogger(__name__)

UPLOAD_DIR = Path(settings.MEDIA_ROOT) / "feeds"
SOURCE_FIELDS = (
    "name",
    "kind",
    "url",
    "username",
    "format",
    "compression",
    "encoding",
    "mode",
    "schedule",
    "schedule_time",
    "schedule_weekday",
    "enabled",
)


class RefreshRateLimited(Exception):
    """Request Data Now was clicked again too soon for this source."""

    def __init__(self, seconds: int):
        super().__init__(
            f"This source was refreshed moments ago; you can request data again in {seconds} s."
        )
        self.seconds = seconds


class WrongPasswordLimited(RefreshRateLimited):
    """Too many refused passwords for this source lately (a brake on guessing)."""

    def __init__(self, seconds: int):
        Exception.__init__(
            self,
            f"{WRONG_PASSWORD_LIMIT} wrong passwords for this feed in the last "
            f"{WRONG_PASSWORD_WINDOW.seconds // 60} minutes; you can try again in "
            f"{_minutes_or_seconds(seconds)}.",
        )
        self.seconds = seconds


# A run refused by the feed server's login (a mistyped password) does not start the pull
# cooldown: nothing was pulled. Refused logins are counted on their own instead.
AUTH_FAILURE_CODES = ("http_401", "http_403")
WRONG_PASSWORD_LIMIT = 5
WRONG_PASSWORD_WINDOW = timedelta(minutes=15)


def _minutes_or_seconds(seconds: int) -> str:
    return f"{seconds} s" if seconds < 120 else f"{-(-seconds // 60)} min"


def _refresh_wait(*, tenant: Tenant, source: ProductSource, fs: FeedSettings, now) -> None:
    """Raise when Request Data Now comes too soon after the last pull of ``source``, or
    after too many refused passwords."""
    runs = FeedRun.objects.for_tenant(tenant).filter(
        source=source, trigger__in=[Trigger.MANUAL, Trigger.API]
    )
    refused = runs.filter(status=RunStatus.FAILED, error_code__in=AUTH_FAILURE_CODES)
    recent = list(
        refused.filter(queued_at__gt=now - WRONG_PASSWORD_WINDOW)
        .order_by("-queued_at")
        .values_list("queued_at", flat=True)[:WRONG_PASSWORD_LIMIT]
    )
    if len(recent) >= WRONG_PASSWORD_LIMIT:
        wait = (recent[-1] + WRONG_PASSWORD_WINDOW - now).total_seconds()
        raise WrongPasswordLimited(int(wait) + 1)
    if not fs.manual_refresh_min_seconds:
        return
    last = (
        runs.exclude(status=RunStatus.FAILED, error_code__in=AUTH_FAILURE_CODES)
        .order_by("-id")
        .only("queued_at")
        .first()
    )
    if last is not None:
        wait = fs.manual_refresh_min_seconds - (now - last.queued_at).total_seconds()
        if wait > 0:
            raise RefreshRateLimited(int(wait) + 1)


class RunNotConfirmable(Exception):
    pass


# =========================================================================== sources


def _clean_source(source: ProductSource) -> None:
    errors: dict[str, str] = {}
    if source.kind == SourceKind.URL:
        if not source.url:
            errors["url"] = "A scheduled URL source needs the feed URL."
        elif problem := feed_url_problem(source.url):
            errors["url"] = problem
        elif blocked := _blocked_address(source.url):
            errors["url"] = blocked
        elif source.is_sftp and not source.login_username:
            errors["username"] = (
                "An sftp source needs a username: fill in Username, or write it in the URL "
                "as sftp://user@host/…"
            )
    if source.kind != SourceKind.URL and source.schedule != Schedule.MANUAL:
        source.schedule = Schedule.MANUAL  # uploads and API pushes are not pulled
    if source.schedule in (Schedule.DAILY, Schedule.WEEKLY) and source.schedule_time is None:
        errors["schedule_time"] = "Say at what time (HH:MM) the feed is pulled."
    if source.schedule == Schedule.WEEKLY and source.schedule_weekday is None:
        errors["schedule_weekday"] = "Say on which day of the week the feed is pulled."
    if errors:
        raise ValidationError(errors)
    source.full_clean(exclude=["tenant", "catalog"])


def _blocked_address(url: str) -> str | None:
    """Why the URL's host may not be fetched from (loopback, private, link-local, metadata …),
    checked at save time with the same rule and allow-list as every fetch (which checks again,
    after DNS and on every redirect). A host that does not resolve now is not refused here:
    DNS can be down or not yet set up; the fetch says so."""
    _scheme, host, port = feed_server(url)
    try:
        resolve_checked(host, port or 443, _fetch_policy(feed_settings()))
    except FeedError as exc:
        return exc.message if exc.code == "blocked" else None
    return None


def _schedule_next(source: ProductSource, tenant: Tenant, now: datetime | None = None) -> None:
    if not source.enabled or source.kind != SourceKind.URL:
        source.next_pull_at = None
        return
    source.next_pull_at = next_pull_after(
        now or timezone.now(),
        schedule=source.schedule,
        time_zone=tenant.time_zone,
        at=source.schedule_time,
        weekday=source.schedule_weekday,
    )


@transaction.atomic
def source_create(
    *, tenant: Tenant, catalog: Catalog, actor, data: dict[str, Any], password: str = ""
) -> ProductSource:
    if catalog.tenant_id != tenant.pk:
        raise Catalog.DoesNotExist
    source = ProductSource(tenant=tenant, catalog=catalog)
    for f in SOURCE_FIELDS:
        if f in data:
            setattr(source, f, data[f])
    source.password_encrypted = crypto.encrypt(password) if password else ""
    _clean_source(source)
    _schedule_next(source, tenant)
    try:
        with transaction.atomic():
            source.save()
    except IntegrityError as exc:
        raise ValidationError({"name": "This catalog already has a source of that name."}) from exc
    audit_record(
        tenant=tenant,
        actor=actor,
        action="feed_source.created",
        target=source,
        changes={"password": "set" if password else "none"},
    )
    return source


@transaction.atomic
def source_update(
    *,
    tenant: Tenant,
    source: ProductSource,
    actor,
    data: dict[str, Any],
    password: str | None = None,
    clear_password: bool = False,
) -> ProductSource:
    """Edit a source. ``password=None`` keeps the stored one (forms never show it back).

    ``data["forget_host_key"]`` clears the pinned sftp host key (the next pull trusts the
    server's key again); pointing the URL at another server clears it too.
    """
    source = ProductSource.objects.for_tenant(tenant).select_for_update().get(pk=source.pk)
    old_server = feed_server(source.url)
    changes: dict[str, Any] = {}
    for f in SOURCE_FIELDS:
        if f in data and getattr(source, f) != data[f]:
            changes[f] = [_jsonable(getattr(source, f)), _jsonable(data[f])]
            setattr(source, f, data[f])
    if clear_password and source.password_encrypted:
        source.password_encrypted = ""
        changes["credentials"] = "cleared"
    elif password:
        source.password_encrypted = crypto.encrypt(password)
        changes["credentials"] = "changed"  # never the value
    if "url" in changes:  # another feed: forget the validators of the old one
        source.last_etag = source.last_modified = source.last_sha256 = ""
    server_changed = feed_server(source.url) != old_server
    if source.host_key_fingerprint and (data.get("forget_host_key") or server_changed):
        changes["host_key"] = [source.host_key_fingerprint, ""]
        source.host_key_type = source.host_key_fingerprint = ""
    _clean_source(source)
    if changes.keys() & {"schedule", "schedule_time", "schedule_weekday", "enabled", "kind"}:
        _schedule_next(source, tenant)
    try:
        with transaction.atomic():
            source.save()
    except IntegrityError as exc:
        raise ValidationError({"name": "This catalog already has a source of that name."}) from exc
    if changes:
        audit_record(
            tenant=tenant, actor=actor, action="feed_source.updated", target=source, changes=changes
        )
    return source


@transaction.atomic
def source_delete(*, tenant: Tenant, source: ProductSource, actor) -> None:
    source = ProductSource.objects.for_tenant(tenant).select_for_update().get(pk=source.pk)
    audit_record(tenant=tenant, actor=actor, action="feed_source.deleted", target=source)
    for run in FeedRun.objects.for_tenant(tenant).filter(
        source=source, status=RunStatus.NEEDS_CONFIRMATION
    ):
        _drop_stage(run)
    source.delete()


def _jsonable(v: Any) -> Any:
    return v if isinstance(v, str | int | float | bool | type(None)) else str(v)


# =========================================================================== runs: request


def feed_settings() -> FeedSettings:
    return FeedSettings.load()


def feed_run_request(
    *,
    tenant: Tenant,
    source: ProductSource,
    actor,
    trigger: str = Trigger.MANUAL,
    password: str = "",
    remember: bool = False,
    force: bool = False,
    file_path: str = "",
    file_name: str = "",
) -> tuple[FeedRun, bool]:
    """Start a run of ``source`` or return the one already queued/running.

    Returns (run, created). A second request while a run is active returns that run
    (locked on the source row, and the partial unique index backs it up). Manual and API
    requests are rate-limited per source. ``password`` is used for this run only unless
    ``remember``; it travels encrypted on the run row, never through the broker.
    """
    fs = feed_settings()
    with transaction.atomic():
        source = ProductSource.objects.for_tenant(tenant).select_for_update().get(pk=source.pk)
        active = FeedRun.objects.for_tenant(tenant).active().filter(source=source).first()
        if active is not None:
            if file_path:
                with contextlib.suppress(OSError):
                    os.unlink(file_path)
            return active, False
        now = timezone.now()
        if trigger in (Trigger.MANUAL, Trigger.API):
            _refresh_wait(tenant=tenant, source=source, fs=fs, now=now)
        if remember and password:
            source.password_encrypted = crypto.encrypt(password)
            source.save(update_fields=["password_encrypted", "updated_at"])
            audit_record(
                tenant=tenant,
                actor=actor,
                action="feed_source.updated",
                target=source,
                changes={"password": "remembered"},
            )
        _cancel_held_runs(tenant=tenant, source=source, actor=actor)
        run = FeedRun.objects.create(
            tenant=tenant,
            catalog_id=source.catalog_id,
            source=source,
            trigger=trigger,
            mode=source.mode,
            requested_by=actor if getattr(actor, "is_authenticated", False) else None,
            location=file_name or source.url,
            file_path=file_path,
            force=force,
            one_time_password_encrypted=(
                crypto.encrypt(password) if password and not remember else ""
            ),
        )
        if trigger != Trigger.SCHEDULED:
            audit_record(
                tenant=tenant,
                actor=actor,
                action="feed_run.requested",
                target=run,
                changes={"trigger": trigger},
            )
        transaction.on_commit(lambda: feed_run_enqueue(run=run))
    return run, True


def _cancel_held_runs(*, tenant: Tenant, source: ProductSource, actor) -> None:
    """A newer run supersedes one waiting for confirmation."""
    for held in FeedRun.objects.for_tenant(tenant).filter(
        source=source, status=RunStatus.NEEDS_CONFIRMATION
    ):
        _drop_stage(held)
        held.status = RunStatus.CANCELLED
        held.error_message = "Superseded by a newer run before it was confirmed."
        held.finished_at = timezone.now()
        held.save(update_fields=["status", "error_message", "finished_at"])


def feed_run_enqueue(*, run: FeedRun, countdown: float | None = None) -> bool:
    """Hand the run to a worker (after ``countdown`` seconds when given: a run deferred by
    the tenant's limit). When the broker is down the run fails with a clear message (the
    page stays up and says so) instead of waiting forever."""
    from .tasks import feed_pull

    try:
        feed_pull.apply_async(
            kwargs={"tenant_id": run.tenant_id, "run_id": run.pk}, retry=False, countdown=countdown
        )
        return True
    except Exception as exc:  # kombu/redis errors vary by transport
        log.warning("feed run %s could not be queued: %s", run.pk, exc)
        FeedRun.objects.for_tenant(run.tenant_id).filter(pk=run.pk, status=RunStatus.QUEUED).update(
            status=RunStatus.FAILED,
            phase=Phase.DONE,
            error_code="queue",
            error_message="The refresh could not be queued because the task queue is "
            "unavailable. Nothing was changed; try again in a minute.",
            finished_at=timezone.now(),
        )
        return False


@transaction.atomic
def feed_run_confirm(
    *, tenant: Tenant, run: FeedRun, actor, removal_digest: str | None = None
) -> FeedRun:
    """Apply a held replace-mode run: one that would remove an unusual share of the catalog,
    or whose download cannot be proven complete.

    A confirmation applies what it showed: ``removal_digest`` is the digest of the removal
    set the page showed (None: the run's own). The worker removes only when the set it finds
    at apply time has that count and digest; if the catalog changed since, the run is held
    again with the new numbers and has to be confirmed again."""
    run = FeedRun.objects.for_tenant(tenant).select_for_update().get(pk=run.pk)
    if run.status != RunStatus.NEEDS_CONFIRMATION:
        raise RunNotConfirmable("This run is not waiting for confirmation.")
    if removal_digest is not None and removal_digest != run.held_removals_digest:
        raise RunNotConfirmable(
            "The products this run would remove changed since the page was shown; "
            "check the new numbers and confirm again."
        )
    if run.source_id:
        ProductSource.objects.for_tenant(tenant).select_for_update().get(pk=run.source_id)
        if FeedRun.objects.for_tenant(tenant).active().filter(source_id=run.source_id).exists():
            raise RunNotConfirmable("Another run of this source is in progress.")
    run.status = RunStatus.QUEUED
    run.phase = Phase.QUEUED
    run.confirmed_by = actor if getattr(actor, "is_authenticated", False) else None
    run.error_code = ""
    run.error_message = ""
    run.save(update_fields=["status", "phase", "confirmed_by", "error_code", "error_message"])
    audit_record(
        tenant=tenant,
        actor=actor,
        action="feed_run.confirmed",
        target=run,
        changes={"removed": run.removed, "removal_digest": run.held_removals_digest},
    )
    transaction.on_commit(lambda: feed_run_enqueue(run=run))
    return run


@transaction.atomic
def feed_run_cancel(*, tenant: Tenant, run: FeedRun, actor) -> FeedRun:
    """Discard a run held for confirmation; the catalog stays as it is."""
    run = FeedRun.objects.for_tenant(tenant).select_for_update().get(pk=run.pk)
    if run.status != RunStatus.NEEDS_CONFIRMATION:
        raise RunNotConfirmable("Only a run waiting for confirmation can be discarded.")
    _drop_stage(run)
    run.status = RunStatus.CANCELLED
    run.phase = Phase.DONE
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "phase", "finished_at"])
    audit_record(tenant=tenant, actor=actor, action="feed_run.cancelled", target=run)
    return run


def feed_import_command(
    *, tenant: Tenant, catalog: Catalog, location: str, mode: str, actor=None
) -> FeedRun:
    """`manage.py import_feed`: a run without a source, executed synchronously. Takes a
    file path or an http(s) URL; another scheme raises FeedError("url") before any run."""
    scheme, separator, _ = location.partition("://")
    is_url = bool(separator)
    if is_url and scheme.lower() not in ("http", "https"):
        # sftp needs a stored login and a pinned host key: a product source keeps both
        raise FeedError(
            "url",
            f"import_feed takes a file path or an http(s) URL, not {scheme.lower()}://. To "
            "import over sftp, add an sftp product source to the catalog (it keeps the login "
            "and the server's host key) and use Request Data Now, or download the file and "
            "import its path.",
        )
    run = FeedRun.objects.create(
        tenant=tenant,
        catalog=catalog,
        trigger=Trigger.COMMAND,
        mode=mode,
        location=location,
        file_path="" if is_url else str(Path(location).resolve()),
        force=True,
    )
    return feed_run_execute(tenant_id=tenant.pk, run_id=run.pk, keep_file=True)


# =========================================================================== runs: execute


@dataclass
class _Ctx:
    tenant: Tenant
    run: FeedRun
    catalog: Catalog
    source: ProductSource | None
    fs: FeedSettings
    temp_files: list[str]
    keep_file: bool
    matcher: RecordMatcher | None = None  # the unchanged records skipped unread, if any
    direct: _ProductWriter | None = None  # a first pull's products, written but not committed


class _Held(Exception):
    """The run stops before applying and waits for a user (needs confirmation)."""


class _Unchanged(Exception):
    pass


class _Fenced(Exception):
    """The run no longer owns its source: the reaper failed it (its worker stalled past
    stuck_run_minutes) or a newer run started. It stops without writing anything more."""


class _Deferred(Exception):
    """The tenant already has its share of running pulls: the run waits in the queue."""


HOLD_SHARE = "removal_share"
HOLD_INCOMPLETE = "incomplete"


def _save(run: FeedRun, *fields: str) -> None:
    """Write ``fields`` (and the heartbeat) while the run is still running; a run that was
    failed meanwhile (the reaper) raises _Fenced instead of overwriting its fate."""
    run.heartbeat_at = timezone.now()
    values = {f: getattr(run, f) for f in (*fields, "heartbeat_at")}
    written = (
        FeedRun.objects.for_tenant(run.tenant_id)
        .filter(pk=run.pk, status=RunStatus.RUNNING)
        .update(**values)
    )
    if not written:
        raise _Fenced


def _fence_take(*, tenant: Tenant, source_id: int) -> int:
    """A new generation of the source for a run that starts (its fencing token)."""
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE {_qn(ProductSource._meta.db_table)} "
            "SET fence_generation = fence_generation + 1 WHERE tenant_id = %s AND id = %s "
            "RETURNING fence_generation",
            [tenant.pk, source_id],
        )
        row = cur.fetchone()
    return row[0] if row else 0


def _fence_sql(run: FeedRun) -> list[tuple[str, list]]:
    """The statements of the fence check: the source row locked (the reaper takes it to fail
    a run) and its generation, then the run's status. NO KEY UPDATE: exclusive against the
    reaper and Request Data Now, but not against rows being inserted that reference them.
    SQLite has no row locks (and one writer at a time)."""
    lock = " FOR NO KEY UPDATE" if _is_pg() else ""
    return [
        (
            f"SELECT fence_generation FROM {_qn(ProductSource._meta.db_table)} "
            f"WHERE tenant_id = %s AND id = %s{lock}",
            [run.tenant_id, run.source_id],
        ),
        (
            f"SELECT status FROM {_qn(FeedRun._meta.db_table)} "
            f"WHERE tenant_id = %s AND id = %s{lock}",
            [run.tenant_id, run.pk],
        ),
    ]


def _fence_check(run: FeedRun, execute=None) -> None:
    """Inside the apply transaction, last before its COMMIT: raise _Fenced unless the run
    still owns its source (same generation) and is still running. ``execute`` runs one
    statement and returns its first row (default: the main connection)."""
    if execute is None:

        def execute(sql: str, params: list):
            with connection.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchone()

    statements = _fence_sql(run)
    if run.source_id is None:  # import_feed: no source, only the run's own status
        statements = statements[1:]
    else:
        row = execute(*statements[0])
        statements = statements[1:]
        if row is None or row[0] != run.fence:
            raise _Fenced
    row = execute(*statements[0])
    if row is None or row[0] != RunStatus.RUNNING:
        raise _Fenced


@contextlib.contextmanager
def _phase(run: FeedRun, phase: str) -> Iterator[None]:
    run.phase = phase
    _save(run, "phase")
    start = time.monotonic()
    try:
        yield
    finally:
        run.durations = {
            **run.durations,
            phase: round(run.durations.get(phase, 0) + time.monotonic() - start, 3),
        }
        _save(run, "durations")


def feed_run_execute(*, tenant_id: int, run_id: int, keep_file: bool = False) -> FeedRun | None:
    """Run one queued feed run to its end. Safe to call twice: only a queued run starts."""
    tenant = Tenant.objects.get(pk=tenant_id)
    fs = feed_settings()
    with transaction.atomic():
        run = FeedRun.objects.for_tenant(tenant).select_for_update().filter(pk=run_id).first()
        if run is None or run.status != RunStatus.QUEUED:
            return run
        if _tenant_at_limit(tenant=tenant, run=run, fs=fs):
            transaction.on_commit(lambda: feed_run_enqueue(run=run, countdown=_DEFER_SECONDS))
            return run
        if run.source_id:
            run.fence = _fence_take(tenant=tenant, source_id=run.source_id)
        run.status = RunStatus.RUNNING
        run.started_at = run.started_at or timezone.now()
        run.heartbeat_at = timezone.now()
        run.save(update_fields=["status", "started_at", "heartbeat_at", "fence"])
    catalog = Catalog.objects.for_tenant(tenant).get(pk=run.catalog_id)
    source = (
        ProductSource.objects.for_tenant(tenant).filter(pk=run.source_id).first()
        if run.source_id
        else None
    )
    ctx = _Ctx(tenant, run, catalog, source, fs, [], keep_file)
    fenced = False
    try:
        try:
            if run.confirmed_by_id is not None and _stage_exists(run):
                _apply_and_finish(ctx)
            else:
                _ingest(ctx)
        except _Fenced:
            raise
        except _Held:
            pass
        except _Unchanged:
            _finish(ctx, RunStatus.UNCHANGED)
        except FeedError as exc:
            _fail(ctx, exc.code, exc.message)
        except (OperationalError, InterfaceError):
            # the database went away (restart, failover): end the run now, not via the reaper
            log.exception("feed run %s lost its database connection", run.pk)
            _fail_after_db_loss(
                ctx,
                "database",
                "The database connection was lost during the run (restart or failover); "
                "request data again.",
            )
        except Exception:
            log.exception("feed run %s failed unexpectedly", run.pk)
            _fail(
                ctx, "internal", "An unexpected error stopped the run. The catalog was not changed."
            )
    except _Fenced:
        # its worker stalled (paused, swapped out, cut off) past the reaper, or a newer run
        # took the source: whatever it read stays unapplied and its recorded fate stands
        fenced = True
        log.warning("feed run %s no longer owns its source; it stopped without applying", run.pk)
        run.refresh_from_db()
    finally:
        if ctx.direct is not None:  # the run did not succeed: none of its products stay
            ctx.direct.abort()
        for path in ctx.temp_files:
            with contextlib.suppress(OSError):
                os.unlink(path)
        if fenced or run.status != RunStatus.NEEDS_CONFIRMATION:
            _drop_stage(run)
    return run


_DEFER_SECONDS = 5


def _tenant_at_limit(*, tenant: Tenant, run: FeedRun, fs: FeedSettings) -> bool:
    """True when the tenant already runs its share of pulls (fair workers: one tenant's slow
    sources cannot hold every worker). The tenant row is locked so that two workers starting
    two of its runs at once count each other. Runs without a fresh heartbeat (dead workers,
    left to the reaper) do not count; an import_feed command is never deferred."""
    limit = fs.max_concurrent_runs_per_tenant
    if not limit or run.trigger == Trigger.COMMAND or settings.CELERY_TASK_ALWAYS_EAGER:
        return False
    # NO KEY UPDATE: serializes the starts of one tenant's runs without waiting for the
    # transactions that insert its rows (a first pull holds its tenant for KEY SHARE)
    Tenant.objects.select_for_update(no_key=True).filter(pk=tenant.pk).first()
    fresh = timezone.now() - timedelta(minutes=fs.stuck_run_minutes)
    running = (
        FeedRun.objects.for_tenant(tenant)
        .filter(status=RunStatus.RUNNING, heartbeat_at__gte=fresh)
        .exclude(pk=run.pk)
        .count()
    )
    return running >= limit


def _fetch_policy(fs: FeedSettings) -> FetchPolicy:
    cidrs = [c for c in fs.fetch_allow_list.split() if c.strip()]
    cidrs += list(getattr(settings, "FEEDS_FETCH_ALLOW_LIST", []))
    return FetchPolicy.with_allow_list(
        cidrs,
        max_bytes=fs.max_feed_bytes,
        connect_timeout=fs.connect_timeout_seconds,
        read_timeout=fs.read_timeout_seconds,
        total_timeout=fs.total_timeout_seconds,
        max_redirects=fs.max_redirects,
    )


def _obtain_file(ctx: _Ctx) -> str:
    """Fetch the URL or take the uploaded/local file; return a local path whose expansion
    was checked (a compression bomb fails here, before a row is parsed)."""
    path = _obtain_file_path(ctx)
    run, source = ctx.run, ctx.source
    identical = source is not None and not run.force and run.content_sha256 == source.last_sha256
    if not identical:  # an identical file ends as unchanged without being read
        limits = Limits(max_expanded_bytes=ctx.fs.max_feed_bytes)
        compression = source.compression if source is not None else "auto"
        check_expansion(path, compression or "auto", limits)
    return path


def _obtain_file_path(ctx: _Ctx) -> str:
    run, source = ctx.run, ctx.source
    if run.file_path:
        if not ctx.keep_file:
            ctx.temp_files.append(run.file_path)
        if not os.path.exists(run.file_path):
            raise FeedError("missing_file", "The feed file could not be found.")
        size = os.path.getsize(run.file_path)
        if size > ctx.fs.max_feed_bytes:
            raise FeedError("too_large", "The feed file is larger than the size limit.")
        h = hashlib.sha256()
        with open(run.file_path, "rb") as fh:
            for block in iter(lambda: fh.read(1024 * 1024), b""):
                h.update(block)
        run.bytes_downloaded = size
        run.content_sha256 = h.hexdigest()
        _save(run, "bytes_downloaded", "content_sha256")
        return run.file_path
    url = run.location
    password = ""
    username = ""
    if source is not None:
        username = source.username
        password = crypto.decrypt(run.one_time_password_encrypted or source.password_encrypted)
        if run.one_time_password_encrypted:  # used once, then forgotten
            run.one_time_password_encrypted = ""
            _save(run, "one_time_password_encrypted")
    conditional = source is not None and not run.force

    last_save = [0.0]

    def progress(n: int) -> None:
        run.bytes_downloaded = n
        if time.monotonic() - last_save[0] > 0.5:
            last_save[0] = time.monotonic()
            _save(run, "bytes_downloaded")

    result = fetch(
        url,
        policy=_fetch_policy(ctx.fs),
        username=username,
        password=password,
        etag=source.last_etag if conditional else "",
        last_modified=source.last_modified if conditional else "",
        on_progress=progress,
        host_key_type=source.host_key_type if source is not None else "",
        host_key_fingerprint=source.host_key_fingerprint if source is not None else "",
        temp_prefix=_temp_prefix(run),
    )
    if source is not None and result.host_key_fingerprint and not source.host_key_fingerprint:
        # trust on first use: the first pull that logged in and read the file pins the key
        pinned = (
            ProductSource.objects.for_tenant(ctx.tenant)
            .filter(pk=source.pk, host_key_fingerprint="")
            .update(
                host_key_type=result.host_key_type,
                host_key_fingerprint=result.host_key_fingerprint,
            )
        )
        if pinned:
            audit_record(
                tenant=ctx.tenant,
                actor=None,
                action="feed_source.host_key_pinned",
                target=source,
                changes={"host_key": f"{result.host_key_type} {result.host_key_fingerprint}"},
            )
    if result.not_modified:
        raise _Unchanged
    ctx.temp_files.append(result.path)
    run.bytes_downloaded = result.size
    run.content_sha256 = result.sha256
    run.etag = result.etag[:500]
    run.last_modified = result.last_modified[:100]
    run.incomplete_reason = (
        result.unframed if result.unframed and not _format_proves_end(result.path, source) else ""
    )
    _save(run, "bytes_downloaded", "content_sha256", "etag", "last_modified", "incomplete_reason")
    return result.path


def _temp_prefix(run: FeedRun) -> str:
    """Downloads of a run are named feed-<run id>-*.bin, so the reaper can find them."""
    return f"feed-{run.pk}-"


def _format_proves_end(path: str, source: ProductSource | None) -> bool:
    """Whether the file's format has an end the reader insists on, so a cut-off body fails
    instead of reading as a shorter feed: gzip (end-of-stream marker and CRC), zip (central
    directory at the end) and XML (the closing root element). CSV and TSV have none."""
    from .parsing import FORMAT_XML, detect_compression, detect_format

    with open(path, "rb") as fh:
        head = fh.read(65536)
    if detect_compression(head) in ("gzip", "zip"):
        return True
    fmt = source.format if source is not None else "auto"
    if fmt in ("csv", "tsv"):
        return False
    if fmt == FORMAT_XML:
        return True
    try:
        return detect_format(head, source.encoding or None if source else None) == FORMAT_XML
    except FeedError:
        return False


def _ingest(ctx: _Ctx) -> None:
    run, source, fs = ctx.run, ctx.source, ctx.fs
    with _phase(run, Phase.FETCHING):
        # the fingerprints of the last pull are read on another connection while the file
        # downloads (not inside an outer transaction, e.g. a test's, which it could not see)
        background = None
        if not run.force and _is_pg() and not connection.in_atomic_block:
            background = _BackgroundMatcher(ctx.catalog)
        try:
            path = _obtain_file(ctx)
            if (
                source is not None
                and not run.force
                and source.last_sha256
                and run.content_sha256 == source.last_sha256
                and not _changed_since(ctx.catalog, source.last_success_at)
            ):
                # an identical file over the catalog it last applied to: nothing to parse
                # (after another source's run or an edit, it is applied again)
                raise _Unchanged
        except BaseException:
            if background is not None:
                background.cancel()
            raise
        if background is not None:
            matcher = background.result()
        else:
            matcher = None if run.force else _unchanged_record_matcher(ctx.catalog)
    with _phase(run, Phase.PARSING):
        try:
            state, rejected_skus = _parse_into_stage(ctx, path, matcher)
        except ReparseNeeded:  # an edge case the shortcut cannot decide: read everything
            log.info("feed run %s: parsing every record again", run.pk)
            FeedRowError.objects.filter(run=run).delete()
            matcher = None
            state, rejected_skus = _parse_into_stage(ctx, path, None)
    with _phase(run, Phase.VALIDATING):
        run.rows_total = state.received
        _save(run, "rows_total")
        if state.received == 0:
            raise FeedError("empty", "The feed has a header but no products.")
        share = state.rejected / state.received
        if share > fs.rejected_share_threshold:
            raise FeedError(
                "rejected_share",
                f"{state.rejected} of {state.received} rows ({share:.0%}) were rejected, more "
                f"than the {fs.rejected_share_threshold:.0%} allowed; nothing was applied. "
                "See the row errors below.",
            )
        if ctx.direct is None:
            _store_seen(run, rejected_skus)  # the unread ones only if the apply needs them
            ctx.matcher = matcher
            _analyze_stage(run)
    _apply_and_finish(ctx)


def _changed_since(catalog: Catalog, when: datetime | None) -> bool:
    version = _products_version(catalog)
    return version is not None and (when is None or version > when)


def _products_version(catalog: Catalog) -> Any:
    """Changes whenever a product of the catalog is created, changed, removed or brought back."""
    return catalog_selectors.products_last_changed(tenant=catalog.tenant_id, catalog=catalog)


class _BackgroundMatcher:
    """_unchanged_record_matcher in a thread with its own connection; cancel() stops its
    query (a 304 or an identical file needs no fingerprints)."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.pg = None
        self.cancelled = False
        self.value: RecordMatcher | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="feeds-matcher", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            connection.ensure_connection()
            self.pg = connection.connection
            if not self.cancelled:
                self.value = _unchanged_record_matcher(self.catalog)
        except BaseException as exc:
            self.error = exc
        finally:
            connection.close()

    def result(self) -> RecordMatcher | None:
        self.thread.join()
        if self.error is not None:
            raise self.error
        return self.value

    def cancel(self) -> None:
        self.cancelled = True
        if self.pg is not None:
            with contextlib.suppress(Exception):
                self.pg.cancel()
        self.thread.join()


def _unchanged_record_matcher(catalog: Catalog) -> RecordMatcher | None:
    """The fingerprints of the raw records behind the catalog's active products, for the
    parser to skip the records that come back byte for byte (None when there are none)."""
    if not _is_pg():
        return None  # the embedded SQLite default parses every record (small catalogs)
    version = _products_version(catalog)  # read before the fingerprints it describes
    import psycopg

    connection.ensure_connection()
    # binary results need a server-binding cursor (Django's are client-side binding)
    with psycopg.Cursor(connection.connection) as cur:
        # one row, two aggregates fed by the same scan in the same order: the hashes packed
        # and the skus (a million rows fetched one by one cost seconds in Python)
        cur.execute(  # binary: psycopg reads a million-element array in C
            "SELECT string_agg(int8send(feed_line_hash), ''::bytea), array_agg(sku) "
            f"FROM {_qn(Product._meta.db_table)} "
            "WHERE tenant_id = %s AND catalog_id = %s AND removed_at IS NULL "
            "AND feed_line_hash IS NOT NULL",
            [catalog.tenant_id, catalog.pk],
            binary=True,
        )
        packed, skus = cur.fetchone()
    if not packed:
        return None
    hashes = np.frombuffer(bytes(packed), dtype=">i8").astype(np.int64)
    order = np.argsort(hashes, kind="stable")
    known = hashes[order]
    skus = [skus[i] for i in order.tolist()]

    def lookup(new: np.ndarray) -> np.ndarray:
        at = np.minimum(np.searchsorted(known, new), len(known) - 1)
        return np.where(known[at] == new, at, -1)

    return RecordMatcher(lookup, skus, products_version=version)


def _parse_into_stage(
    ctx: _Ctx, path: str, matcher: RecordMatcher | None
) -> tuple[ValidationState, set[str]]:
    """Stream, validate and stage the feed's rows (all of them, or with a matcher only the
    records that changed since the last pull); row errors are stored as they come."""
    run, source, fs = ctx.run, ctx.source, ctx.fs
    state = ValidationState(
        default_currency=ctx.catalog.currency,
        country=ctx.catalog.country,
        partial=run.mode != UpdateMode.REPLACE,
    )
    fmt = source.format if source else "auto"
    compression = source.compression if source else "auto"
    encoding = (source.encoding or None) if source else None
    context = (fmt or "auto", ctx.catalog.currency, ctx.catalog.country)
    stored_errors = 0
    rejected_skus: set[str] = set()
    _create_stage(run)
    pg = _is_pg()
    stream = open_decompressed(path, compression, Limits(max_expanded_bytes=fs.max_feed_bytes))
    # PostgreSQL: a second connection COPYs block N while this one parses block N+1
    # (not inside an outer transaction, e.g. a test's: the other connection could not
    # see the uncommitted staging table); straight into the products on a first pull
    writer = None
    try:
        if pg and not connection.in_atomic_block:
            if matcher is None:
                writer = ctx.direct = _ProductWriter.open(ctx)
            writer = writer or _StageWriter(run)
        for good, errs in parse_feed_tables(
            stream,
            fmt=fmt,
            encoding=encoding,
            state=state,
            context=context,
            matcher=matcher,
        ):
            if writer is not None:
                writer.put(good)
            else:
                _stage_table(run, good)
            rejected_skus.update(e.sku for e in errs if e.severity == "error" and e.sku)
            if errs and stored_errors < fs.max_stored_row_errors:
                keep = errs[: fs.max_stored_row_errors - stored_errors]
                _store_row_errors(run, keep)
                stored_errors += len(keep)
            run.rows_done = state.received
            run.received, run.rejected, run.warnings = (
                state.received,
                state.rejected,
                state.warnings,
            )
            _save(run, "rows_done", "received", "rejected", "warnings")
        _store_columns(run, state.columns)
        if writer is not None:
            if writer is ctx.direct:  # its transaction stays open until the run succeeds
                writer.finish_copy()
            else:
                writer.close()
            writer = None
    finally:
        stream.close()
        if writer is not None:
            writer.abort()
            ctx.direct = None
    return state, rejected_skus


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
    confirmed = run.confirmed_by_id is not None
    removals_only = confirmed and run.hold_reason == HOLD_INCOMPLETE
    held_message = ""
    hold_reason = ""
    with _phase(run, Phase.APPLYING), transaction.atomic():
        # one apply per catalog at a time; the catalog row is the lock
        Catalog.objects.for_tenant(ctx.tenant).select_for_update().get(pk=ctx.catalog.pk)
        delta = _create_delta(run)
        counts = _stage_counts(run, delta, ctx.matcher)
        active, to_remove = counts["active"], counts["to_remove"]
        digest = _removal_digest(run) if to_remove else ""
        replace = run.mode == UpdateMode.REPLACE
        shown = (run.removed, run.held_removals_digest)
        if confirmed and to_remove and (to_remove, digest) != shown:
            hold_reason = run.hold_reason or HOLD_SHARE
            held_message = (
                f"The catalog changed since this run was confirmed: it would now remove "
                f"{to_remove} products, not the {run.removed} that were shown. Nothing was "
                "removed. Check the numbers and confirm again to apply them."
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
                f"This feed would remove {to_remove} of the catalog's {active} products "
                f"({to_remove / active:.0%}), more than the {fs.removal_share_threshold:.0%} "
                "allowed without confirmation. Nothing was changed. Confirm to apply it, or "
                "fix the feed and refresh."
            )
        elif removals_only:  # the adds and updates were applied when the run was held
            run.removed = _remove_held(ctx, to_remove)
            _save(run, "removed")
        else:
            hold_removals = replace and not confirmed and bool(to_remove and run.incomplete_reason)
            if hold_removals:
                hold_reason = HOLD_INCOMPLETE
                held_message = (
                    f"{run.incomplete_reason} Products in the file were added and updated, but "
                    f"the {to_remove} products missing from it were not removed: confirm to "
                    "remove them, or refresh once the feed server sends the whole file."
                )
            _merge_staged(ctx, delta, counts, removals=not hold_removals)
        _fence_check(run)
    if held_message:  # saved after the transaction: the staging table is kept
        if hold_reason == HOLD_INCOMPLETE and not confirmed and (run.created or run.updated):
            _call_review_hook(tenant=ctx.tenant, catalog=ctx.catalog, run=run)  # applied
        run.removed = to_remove
        run.held_removals_digest = digest
        run.hold_reason = hold_reason
        run.confirmed_by = None
        run.status = RunStatus.NEEDS_CONFIRMATION
        run.error_code = "needs_confirmation"
        run.error_message = held_message
        run.finished_at = timezone.now()
        _save(
            run,
            "removed",
            "held_removals_digest",
            "hold_reason",
            "confirmed_by",
            "error_code",
            "error_message",
            "finished_at",
            "status",
        )
        raise _Held
    if not removals_only:
        with _phase(run, Phase.REVIEWING):
            if run.created or run.updated:
                _call_review_hook(tenant=ctx.tenant, catalog=ctx.catalog, run=run)
    _finish(ctx, RunStatus.SUCCEEDED)


def _merge_staged(ctx: _Ctx, delta: str, counts: dict[str, int], *, removals: bool) -> None:
    """Inside the apply transaction: the diff sample, the merge, and the removals."""
    run, fs = ctx.run, ctx.fs
    removals = removals and counts["to_remove"] > 0
    _record_diff(ctx, delta, fs.max_stored_changes, removals=removals)
    now = timezone.now()
    _merge(run, delta, now)
    if _is_pg() and counts["created"] > max(1000, counts["active"] // 5):
        # many new rows: refresh the planner's statistics before the joins below
        with connection.cursor() as cur:
            cur.execute(f"ANALYZE {_qn(Product._meta.db_table)}")
    if counts["created"]:
        _link_created_products(run)  # the diff rows of new products get their ids
    if counts["staged"] > counts["created"] + counts["updated"]:
        _remember_line_hashes(run)
    removed = _remove_missing(run, now) if removals else 0
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
        _fence_check(run, lambda sql, params: conn.execute(sql, params).fetchone())
        ctx.direct.commit()
        ctx.direct = None
    with _phase(run, Phase.REVIEWING):
        if run.created:
            _call_review_hook(tenant=ctx.tenant, catalog=ctx.catalog, run=run)
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
    # instead of downloading it again (not after a 304: nothing new was learnt)
    downloaded_identical = status == RunStatus.UNCHANGED and bool(run.content_sha256)
    if source is not None:
        ProductSource.objects.for_tenant(ctx.tenant).filter(pk=source.pk).update(
            last_success_at=now,
            stale_notified_at=None,
            **(
                {
                    "last_etag": run.etag,
                    "last_modified": run.last_modified,
                    "last_sha256": run.content_sha256,
                }
                if status == RunStatus.SUCCEEDED or downloaded_identical
                else {}
            ),
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


def _call_review_hook(*, tenant: Tenant, catalog: Catalog, run: FeedRun) -> bool:
    """Hand the changed products (review_status = pending) to ECR, if ECR is installed."""
    try:
        if importlib.util.find_spec("ecr.services") is None:
            return False
        from ecr.services import review_after_feed_run  # type: ignore[attr-defined]
    except ImportError:
        return False
    try:
        review_after_feed_run(tenant=tenant, catalog=catalog, run=run)
    except Exception:
        # the catalog is already applied; review catches up on its own schedule
        log.exception("review hook failed for feed run %s", run.pk)
        run.warnings += 1
        _save(run, "warnings")
        return False
    return True


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


# =========================================================================== staging + merge

_BYTES = ' COLLATE "C"'  # catalogs_product.sku's collation: a join on sku can use its index
_STAGE_TYPES = {
    "sku": "text" + _BYTES,
    "line": "bigint",
    "additional_image_links": "jsonb",
    "custom_attributes": "jsonb",
    "price": "numeric(14,2)",
    "sale_price": "numeric(14,2)",
    "shipping_fee": "numeric(14,2)",
    "inventory_quantity": "integer",
}
_NULLABLE = ("price", "sale_price", "shipping_fee", "inventory_quantity")
# Product columns written from the feed (everything in OUTPUT_COLUMNS but the line number)
PRODUCT_COLUMNS = [c for c in OUTPUT_COLUMNS if c != "line"]
# what a block COPYs into staging
STAGED_COLUMNS = [*OUTPUT_COLUMNS, "line_hash"]
DIFF_FIELDS = [c for c in PRODUCT_COLUMNS if c not in ("sku", "content_hash")]


def _is_pg() -> bool:
    return connection.vendor == "postgresql"


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


def _create_stage(run: FeedRun) -> None:
    pg = _is_pg()
    defs = [f"{_qn(c)} {_STAGE_TYPES.get(c, 'text') if pg else 'text'}" for c in OUTPUT_COLUMNS]
    defs.append(f"line_hash {'bigint' if pg else 'integer'}")
    cols = ", ".join(defs)
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {_qn(run.stage_table)}")
        # UNLOGGED: staging is scratch space, no WAL needed; dropped after the run
        cur.execute(f"CREATE {'UNLOGGED ' if pg else ''}TABLE {_qn(run.stage_table)} ({cols})")
        cur.execute(f"DROP TABLE IF EXISTS {_qn(_seen_table(run))}")
        cur.execute(
            f"CREATE {'UNLOGGED ' if pg else ''}TABLE {_qn(_seen_table(run))} "
            f"(sku text{_BYTES if pg else ''})"
        )
        cur.execute(f"DROP TABLE IF EXISTS {_qn(_columns_table(run))}")
        cur.execute(f"CREATE TABLE {_qn(_columns_table(run))} (name text)")


def _columns_table(run: FeedRun) -> str:
    """The canonical columns the feed carried (kept with the staging table: an update-mode
    apply writes only those fields, also when it runs later than the parse)."""
    return run.stage_table + "_cols"


def _store_columns(run: FeedRun, columns: set[str]) -> None:
    with connection.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {_qn(_columns_table(run))} (name) VALUES (%s)",
            [(c,) for c in sorted(columns)],
        )


@dataclass(frozen=True)
class _Written:
    """What an update-mode run writes: the fields of its columns, and the custom attribute
    keys its columns name (each set or cleared; the product's other attributes stay)."""

    fields: frozenset[str]
    attribute_keys: tuple[str, ...]

    def changed_sql(self) -> tuple[str, list]:
        """p (product) differs from s (staged row) in a written field."""
        parts, params = ["p.removed_at IS NOT NULL"], []
        for f in sorted(self.fields - {"sku"}):
            if f == "custom_attributes":
                merged, merged_params = self.attributes_sql("p", "s")
                parts.append(_distinct("p.custom_attributes", merged))
                params += merged_params
            elif Product._meta.get_field(f).get_internal_type() in ("CharField", "TextField"):
                parts.append(_distinct(f"coalesce(p.{_qn(f)}, '')", f"coalesce(s.{_qn(f)}, '')"))
            else:
                parts.append(_distinct(f"p.{_qn(f)}", f"s.{_qn(f)}"))
        return " OR ".join(parts), params

    def attributes_sql(self, old: str, new: str) -> tuple[str, list]:
        """The product's custom attributes with this run's keys set or cleared."""
        if _is_pg():
            return (
                f"((coalesce({old}.custom_attributes, '{{}}'::jsonb) - %s::text[]) "
                f"|| coalesce({new}.custom_attributes, '{{}}'::jsonb))",
                [list(self.attribute_keys)],
            )
        _sqlite_attributes_function(self.attribute_keys)
        return f"ch_feed_attributes({old}.custom_attributes, {new}.custom_attributes)", []

    def merged_attributes(self, old: Any, new: Any) -> dict:
        old, new = _json_value(old, {}), _json_value(new, {})
        merged = {k: v for k, v in (old or {}).items() if k not in self.attribute_keys}
        merged.update(new or {})
        return merged


def _json_value(v: Any, empty: Any) -> Any:
    if v is None or v == "":
        return empty
    return json.loads(v) if isinstance(v, str) else v


def _sqlite_attributes_function(keys: tuple[str, ...]) -> None:
    """SQLite has no jsonb operators: the merge of _Written.attributes_sql as a function of
    this connection (the embedded default; small catalogs)."""

    def merge(old: str | None, new: str | None) -> str:
        merged = _Written(frozenset(), keys).merged_attributes(old, new)
        return json.dumps(merged, sort_keys=True, ensure_ascii=False)

    connection.ensure_connection()
    connection.connection.create_function("ch_feed_attributes", 2, merge, deterministic=True)


def _written(run: FeedRun) -> _Written | None:
    """None in replace mode (a run writes every field); in update mode, what its file's
    columns write (feeds.parsing.written_fields)."""
    if run.mode == UpdateMode.REPLACE:
        return None
    with connection.cursor() as cur:
        cur.execute(f"SELECT name FROM {_qn(_columns_table(run))}")
        columns = [r[0] for r in cur.fetchall()]
    return _Written(frozenset(written_fields(columns)), tuple(custom_attribute_keys(columns)))


def _stage_exists(run: FeedRun) -> bool:
    return run.stage_table in connection.introspection.table_names()


def _drop_stage(run: FeedRun) -> None:
    if run.pk is None:
        return
    with connection.cursor() as cur:
        cur.execute(f"DROP VIEW IF EXISTS {_qn(_delta_view(run))}")
        cur.execute(f"DROP TABLE IF EXISTS {_qn(_delta_table(run))}")
        cur.execute(f"DROP TABLE IF EXISTS {_qn(_gone_table(run))}")
        cur.execute(f"DROP TABLE IF EXISTS {_qn(_seen_table(run))}")
        cur.execute(f"DROP TABLE IF EXISTS {_qn(_columns_table(run))}")
        cur.execute(f"DROP TABLE IF EXISTS {_qn(run.stage_table)}")


def _with_line_hash(table: pa.Table) -> pa.Table:
    if "line_hash" in table.column_names:
        return table
    return table.append_column("line_hash", pa.nulls(table.num_rows, pa.int64()))


def _nulls_for_numbers(table: pa.Table) -> pa.Table:
    for c in _NULLABLE:  # "" -> NULL for the numeric columns
        i = table.column_names.index(c)
        col = table.column(c)
        table = table.set_column(
            i, c, pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)
        )
    return table


def _second_connection(*, autocommit: bool):
    """A psycopg connection of its own to the default database (a COPY that runs while this
    thread parses)."""
    import psycopg

    db = connection.settings_dict
    return psycopg.connect(
        dbname=db["NAME"],
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
        autocommit=autocommit,
    )


class _StageWriter:
    """One COPY into the staging table on its own connection, fed block by block from a
    bounded queue by the parsing thread (at most two blocks in flight)."""

    def __init__(self, run: FeedRun):
        self.conn = _second_connection(autocommit=True)
        self._start(run.stage_table, STAGED_COLUMNS)

    copy_format = "csv"

    def _start(self, table: str, cols: list[str]) -> None:
        self.cols = cols
        self.sql = (
            f"COPY {_qn(table)} ({', '.join(_qn(c) for c in cols)}) "
            f"FROM STDIN (FORMAT {self.copy_format})"
        )
        self.queue: queue.Queue = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._loop, name="feeds-copy", daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        ended = False  # the producer's None was taken: nothing more will be queued
        try:
            with self.conn.cursor() as cur, cur.copy(self.sql) as copy:
                while (buf := self.queue.get()) is not None:
                    copy.write(buf)
                ended = True
        except BaseException as exc:  # the server may refuse the data as the COPY ends
            self.error = exc
            while not ended and self.queue.get() is not None:  # unblock the producer
                pass

    def put(self, table: pa.Table) -> None:
        if self.error is not None:
            raise self.error
        if table.num_rows == 0:
            return
        self.queue.put(self._encode(self._rows(_nulls_for_numbers(_with_line_hash(table)))))

    def _rows(self, table: pa.Table) -> pa.Table:
        return table.select(self.cols)

    def _encode(self, table: pa.Table) -> bytes:
        buf = io.BytesIO()
        pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False))
        return buf.getvalue()

    def _end_of_data(self) -> bytes:
        return b""

    def finish_copy(self) -> None:
        """Wait for the COPY to take the last block."""
        if end := self._end_of_data():
            self.queue.put(end)
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        try:
            self.finish_copy()
        finally:
            self.conn.close()

    def abort(self) -> None:
        """Stop the COPY and drop the connection (an open transaction rolls back)."""
        self.queue.put(None)
        self.thread.join(timeout=60)
        with contextlib.suppress(Exception):
            self.conn.close()


# how the direct first pull's binary COPY encodes each products column (text otherwise)
_PRODUCT_COPY_KINDS = {
    **{c: pgcopy.KIND_OF_TYPE[t] for c, t in _STAGE_TYPES.items() if t in pgcopy.KIND_OF_TYPE},
    **dict.fromkeys(("feed_line_hash", "tenant_id", "catalog_id", "last_seen_run_id"), "int8"),
}


class _ProductWriter(_StageWriter):
    """A first pull into an empty catalog skips staging: validated blocks go by COPY
    straight into catalogs_product on a second connection while this thread parses on, in
    one transaction that holds the catalog's apply lock and commits only when the run
    succeeds (``commit``); anything else rolls it back (``abort``, or the connection's end
    if the worker dies). PostgreSQL maintains the product indexes (most of a first pull's
    time) while Python parses, instead of after it, and no row is written twice. The COPY
    is binary (feeds.pgcopy): the backend is the bottleneck here, so values arrive ready
    rather than as CSV text for it to split and parse."""

    copy_format = "binary"

    @classmethod
    def open(cls, ctx: _Ctx) -> _ProductWriter | None:
        """A writer holding the catalog's lock, or None when the catalog has products."""
        conn = _second_connection(autocommit=False)
        try:
            # NO KEY UPDATE: conflicts with another apply's FOR UPDATE, but lets rows that
            # reference the catalog (runs, row errors) be written meanwhile
            locked = conn.execute(
                f"SELECT 1 FROM {_qn(Catalog._meta.db_table)} WHERE tenant_id = %s AND id = %s "
                "FOR NO KEY UPDATE",
                [ctx.tenant.pk, ctx.catalog.pk],
            ).fetchone()
            row = conn.execute(_has_products_sql(), [ctx.tenant.pk, ctx.catalog.pk]).fetchone()
            # a catalog that is gone (or not the tenant's) takes the staged path, whose
            # foreign key checks fail it; an empty one we hold is written without them
            direct = locked is not None and not row[0]
            fk_checks_skipped = direct and _skip_foreign_key_checks(conn)
            if direct:  # the list's sort keys are built in bulk at commit
                with conn.cursor() as cur:
                    sort_keys_defer(cur)
        except BaseException:
            conn.close()
            raise
        if not direct:
            conn.close()
            return None
        return cls(ctx, conn, fk_checks_skipped=fk_checks_skipped)

    def __init__(self, ctx: _Ctx, conn, *, fk_checks_skipped: bool):
        run = ctx.run
        self.conn = conn
        self.fk_checks_skipped = fk_checks_skipped
        self.run = run
        self.rows_written = 0
        self.sample_limit = ctx.fs.max_stored_changes
        self.sample: list[dict] = []  # the first created products, for the run's diff
        # the bookkeeping times of a new product (first seen, changed, ...) are left to
        # their database default, now(): the start of this transaction for every row
        # (catalogs migration 0007; six timestamps per row cost ~7 s to parse at 1M rows)
        self.constants = {
            "tenant_id": pa.scalar(run.tenant_id, pa.int64()),
            "catalog_id": pa.scalar(run.catalog_id, pa.int64()),
            "last_seen_run_id": pa.scalar(run.pk, pa.int64()),
            "review_status": pa.scalar("pending", pa.string()),
        }
        cols = [*PRODUCT_COLUMNS, "feed_line_hash", *self.constants]
        self.copy_kinds = [_PRODUCT_COPY_KINDS.get(c, "text") for c in cols]
        self._start(Product._meta.db_table, cols)
        self.queue.put(pgcopy.SIGNATURE)

    def _rows(self, table: pa.Table) -> pa.Table:
        n = table.num_rows
        need = self.sample_limit - len(self.sample)
        if need > 0:
            self.sample += table.slice(0, need).select(["sku", *DIFF_FIELDS]).to_pylist()
        self.rows_written += n
        table = table.select([*PRODUCT_COLUMNS, "line_hash"]).rename_columns(
            [*PRODUCT_COLUMNS, "feed_line_hash"]
        )
        for name, value in self.constants.items():
            table = table.append_column(name, pa.repeat(value, n))
        return table

    def _encode(self, table: pa.Table) -> bytes:
        return pgcopy.encode_rows(table, self.copy_kinds)

    def _end_of_data(self) -> bytes:
        return pgcopy.TRAILER

    def commit(self) -> None:
        """The run's diff sample and counts, in the products' transaction; then COMMIT
        (the catalog foreign key's deferred checks run here)."""
        from psycopg.types.json import Jsonb

        run = self.run
        with self.conn.cursor() as cur:
            if self.fk_checks_skipped:  # the rest of the transaction is checked as usual
                cur.execute("SET LOCAL session_replication_role = origin")
            # statistics first (ANALYZE counts this transaction's rows): with those of an
            # empty catalog the planner linked 1,000 diff rows to a million products by
            # scanning the products for each one (33 s instead of milliseconds). Only the
            # columns the link and the review hand-off filter on (0.24 s against 0.75 s for
            # all of them at 1M); autovacuum analyzes the rest after the COMMIT.
            cur.execute(
                f"ANALYZE {_qn(Product._meta.db_table)} "
                "(tenant_id, catalog_id, sku, review_status, removed_at)"
            )
            cur.executemany(
                f"INSERT INTO {_qn(FeedRunChange._meta.db_table)} "
                "(tenant_id, run_id, kind, sku, changes) VALUES (%s, %s, %s, %s, %s)",
                [
                    (run.tenant_id, run.pk, ChangeKind.CREATED, row["sku"], Jsonb(changes))
                    for row in self.sample
                    for changes in [_created_changes(row)]
                ],
            )
            cur.execute(*_link_created_products_sql(run))
            cur.execute(
                f"UPDATE {_qn(FeedRun._meta.db_table)} SET created = %s, updated = 0, "
                "unchanged = %s, removed = 0 WHERE id = %s",
                [run.created, run.unchanged, run.pk],
            )
            # last: its ATTACH locks the sort keys' default partition until the COMMIT
            sort_keys_fill_new_partition(cur, tenant_id=run.tenant_id, catalog_id=run.catalog_id)
        self.conn.commit()
        self.conn.close()


def _skip_foreign_key_checks(conn) -> bool:
    """Turn off the foreign key checks of the rows this transaction writes, where the
    database role may (a superuser, or PostgreSQL 15+ `GRANT SET ON PARAMETER
    session_replication_role`): checking that each of a million new products belongs to
    its tenant's catalog costs 6-10 s (queued per row, run at COMMIT), and a first pull
    holds that one catalog row locked (FOR NO KEY UPDATE: it can be neither deleted nor
    re-keyed until the COMMIT) and writes its tenant and id into every row itself. Other
    roles keep the checks; the run is the same, only slower."""
    import psycopg

    conn.execute("SAVEPOINT fk_checks")  # a refusal must leave the transaction usable
    try:
        conn.execute("SET LOCAL session_replication_role = replica")
    except psycopg.errors.InsufficientPrivilege:
        conn.execute("ROLLBACK TO SAVEPOINT fk_checks")
        return False
    conn.execute("RELEASE SAVEPOINT fk_checks")
    return True


def _created_changes(row: dict) -> dict:
    """The 'changes' of a created product: every field it has, as [None, new]."""
    changes = {}
    for f in DIFF_FIELDS:
        value = _norm(f, row[f])
        if value not in (None, "", [], {}):
            changes[f] = [None, value]
    return changes


def _stage_table(run: FeedRun, table: pa.Table) -> None:
    """COPY one validated block into the staging table (PostgreSQL), or insert it (SQLite)."""
    if table.num_rows == 0:
        return
    table = _nulls_for_numbers(_with_line_hash(table))
    name = _qn(run.stage_table)
    cols = ", ".join(_qn(c) for c in STAGED_COLUMNS)
    with connection.cursor() as cur:
        if _is_pg():
            buf = io.BytesIO()
            pacsv.write_csv(
                table.select(STAGED_COLUMNS), buf, pacsv.WriteOptions(include_header=False)
            )
            # CSV: a quoted "" is an empty string, an unquoted empty field is NULL
            with cur.cursor.copy(f"COPY {name} ({cols}) FROM STDIN (FORMAT csv)") as copy:
                copy.write(buf.getbuffer())
        else:
            rows = [tuple(r[c] for c in STAGED_COLUMNS) for r in table.to_pylist()]
            marks = ", ".join(["%s"] * len(STAGED_COLUMNS))
            cur.executemany(f"INSERT INTO {name} ({cols}) VALUES ({marks})", rows)


def _analyze_stage(run: FeedRun) -> None:
    """Index the staging table's sku after loading (cheaper than during COPY) and give the
    planner statistics: without them an anti-join against a catalog whose statistics are
    stale can turn into a nested loop over both tables. (A first pull on PostgreSQL does
    not stage: _ProductWriter.)"""
    stage = _qn(run.stage_table)
    with connection.cursor() as cur:
        cur.execute(f"CREATE UNIQUE INDEX {_qn(run.stage_table + '_sku')} ON {stage} (sku)")
        cur.execute(f"ANALYZE {stage}")


def _has_products_sql() -> str:
    """Whether a catalog (params: tenant id, catalog id) has any product, active or removed;
    none means a first pull."""
    return (
        f"SELECT EXISTS (SELECT 1 FROM {_qn(Product._meta.db_table)} "
        "WHERE tenant_id = %s AND catalog_id = %s)"
    )


def _catalog_is_empty(run: FeedRun) -> bool:
    with connection.cursor() as cur:
        cur.execute(_has_products_sql(), [run.tenant_id, run.catalog_id])
        return not cur.fetchone()[0]


def _distinct(a: str, b: str) -> str:
    return f"{a} IS DISTINCT FROM {b}" if _is_pg() else f"{a} IS NOT {b}"


def _delta_table(run: FeedRun) -> str:
    return run.stage_table + "_delta"


def _seen_table(run: FeedRun) -> str:
    """Skus in the feed that are not staged: rows rejected this run (the products exist in
    the feed, only their row could not be read, so replace mode keeps them with their last
    good data) and records skipped unread because they came back byte for byte."""
    return run.stage_table + "_seen"


def _store_seen(run: FeedRun, skus: set[str]) -> None:
    if not skus:
        return
    with connection.cursor() as cur:
        if _is_pg():
            buf = io.BytesIO()
            table = pa.table({"sku": pa.array(list(skus), pa.string())})
            pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False))
            sql = f"COPY {_qn(_seen_table(run))} (sku) FROM STDIN (FORMAT csv)"
            with cur.cursor.copy(sql) as copy:
                copy.write(buf.getbuffer())
            cur.execute(f"ANALYZE {_qn(_seen_table(run))}")
        else:
            cur.executemany(
                f"INSERT INTO {_qn(_seen_table(run))} (sku) VALUES (%s)", [(s,) for s in skus]
            )


def _gone_table(run: FeedRun) -> str:
    """The active products a replace-mode run removes (listed once, read three times)."""
    return run.stage_table + "_gone"


def _delta_view(run: FeedRun) -> str:
    return run.stage_table + "_dnew"


def _create_delta(run: FeedRun) -> str:
    """The new and changed rows of the feed, with the id of the product they change: one
    join of staging and catalog that the counts, the diff and the merge all read. Returns
    the relation to read. A catalog with no products yet (a first pull) gets a view of the
    staging table instead: every row is new, and copying them all once more would only cost
    time."""
    st = _qn(run.stage_table)
    dt = _qn(_delta_table(run))
    dv = _qn(_delta_view(run))
    p = _qn(Product._meta.db_table)
    changed = f"{_distinct('p.content_hash', 's.content_hash')} OR p.removed_at IS NOT NULL"
    changed_params: list = []
    written = _written(run)
    if written is not None:  # update mode: a product changes only in the fields written
        changed, changed_params = written.changed_sql()
    with connection.cursor() as cur:
        cur.execute(f"DROP VIEW IF EXISTS {dv}")
        cur.execute(f"DROP TABLE IF EXISTS {dt}")
        if _catalog_is_empty(run):
            cur.execute(
                f"CREATE VIEW {dv} AS SELECT s.*, CAST(NULL AS bigint) AS product_id, "
                f"CAST(NULL AS {'timestamp with time zone' if _is_pg() else 'text'}) "
                f"AS old_removed_at FROM {st} s"
            )
            return _delta_view(run)
        cur.execute(
            f"CREATE {'UNLOGGED ' if _is_pg() else ''}TABLE {dt} AS "
            f"SELECT s.*, p.id AS product_id, p.removed_at AS old_removed_at "
            f"FROM {st} s LEFT JOIN {p} p "
            f"ON p.tenant_id = %s AND p.catalog_id = %s AND p.sku = s.sku "
            f"WHERE p.id IS NULL OR {changed}",
            [run.tenant_id, run.catalog_id, *changed_params],
        )
    return _delta_table(run)


def _stage_counts(run: FeedRun, delta: str, matcher: RecordMatcher | None) -> dict[str, int]:
    """created / updated / staged / active / to_remove, computed set-based before the merge."""
    st = _qn(run.stage_table)
    dt = _qn(delta)
    p = _qn(Product._meta.db_table)
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT (SELECT count(*) FROM {st}), "
            f"count(*) FILTER (WHERE d.product_id IS NULL), "
            f"count(*) FILTER (WHERE d.product_id IS NOT NULL), "
            f"count(*) FILTER (WHERE d.old_removed_at IS NOT NULL) FROM {dt} d"
        )
        staged, created, updated, revived = cur.fetchone()
        cur.execute(
            f"SELECT count(*) FROM {p} p WHERE p.tenant_id = %s AND p.catalog_id = %s "
            "AND p.removed_at IS NULL",
            [run.tenant_id, run.catalog_id],
        )
        active = cur.fetchone()[0]
    # ids in staging are unique: the active products it matches are all staged rows but the
    # new ones and the ones that bring back a removed product
    # ids in staging are unique: the active products it matches are all staged rows but the
    # new ones and the ones that bring back a removed product
    to_remove = active - (staged - created - revived)
    if run.mode != UpdateMode.REPLACE:
        to_remove = 0
    elif (
        matcher is not None
        and to_remove <= len(matcher.matched_skus)
        and _products_version(run.catalog) == matcher.products_version
    ):
        # no product was created, removed or brought back since the fingerprints were read
        # (the catalog row lock is held now), so every unread record is an active product
        # that is not staged: all the active products are accounted for
        to_remove = 0
    elif to_remove:  # but some may be in the feed unstaged (rejected or unread): list them once
        if matcher is not None:
            _store_seen(run, set(matcher.matched_skus))
        gone = _qn(_gone_table(run))
        with connection.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {gone}")
            cur.execute(
                f"CREATE {'UNLOGGED ' if _is_pg() else ''}TABLE {gone} AS "
                f"SELECT p.id, p.sku, p.title FROM {p} p "
                "WHERE p.tenant_id = %s AND p.catalog_id = %s AND p.removed_at IS NULL "
                f"AND NOT EXISTS (SELECT 1 FROM {st} s WHERE s.sku = p.sku) "
                f"AND NOT EXISTS (SELECT 1 FROM {_qn(_seen_table(run))} r WHERE r.sku = p.sku)",
                [run.tenant_id, run.catalog_id],
            )
            cur.execute(f"SELECT count(*) FROM {gone}")
            to_remove = cur.fetchone()[0]
    return {
        "staged": staged,
        "created": created,
        "updated": updated,
        "active": active,
        "to_remove": to_remove,
    }


def _merge(run: FeedRun, delta: str, now: datetime) -> None:
    """Two set-based statements over the delta (only new and changed rows): a plain INSERT
    of the new products and an UPDATE by primary key of the changed ones. Unchanged rows
    never reach either. (No ON CONFLICT: the catalog row lock held by the caller serialises
    applies, and ON CONFLICT's speculative insertion costs an extra unique-index probe per
    row on a first pull of a million products.)"""
    p = _qn(Product._meta.db_table)
    dt = _qn(delta)
    cols = PRODUCT_COLUMNS
    fixed = {  # bookkeeping of a new product, as parameters
        "first_seen_at": now,
        "last_changed_at": now,
        "last_seen_at": now,
        "last_seen_run_id": run.pk,
        "review_requested_at": now,
        "created_at": now,
        "updated_at": now,
    }
    insert_cols = [
        "tenant_id",
        "catalog_id",
        *cols,
        "feed_line_hash",
        *fixed,
        "removed_at",
        "review_status",
    ]
    select = ", ".join(
        [
            "%s",
            "%s",
            *(f"s.{_qn(c)}" for c in cols),
            "s.line_hash",
            *(["%s"] * len(fixed)),
            "NULL",
            "'pending'",
        ]
    )
    refreshed = {k: fixed[k] for k in ("last_changed_at", "last_seen_at", "last_seen_run_id")}
    refreshed |= {"review_requested_at": now, "updated_at": now}
    written = _written(run)
    set_params: list = []
    if written is None:
        sets = [f"{_qn(c)} = s.{_qn(c)}" for c in cols if c != "sku"]
    else:  # update mode: the fields of the file's columns; content_hash below
        sets = [
            f"{_qn(c)} = s.{_qn(c)}"
            for c in cols
            if c in written.fields and c not in ("sku", "custom_attributes")
        ]
        if "custom_attributes" in written.fields:
            merged, set_params = written.attributes_sql(p, "s")
            sets.append(f"custom_attributes = {merged}")
    sets += ["feed_line_hash = s.line_hash"]
    sets += [f"{_qn(c)} = %s" for c in refreshed]
    sets += ["removed_at = NULL", "review_status = 'pending'"]
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {p} ({', '.join(_qn(c) for c in insert_cols)}) "
            f"SELECT {select} FROM {dt} s WHERE s.product_id IS NULL",
            [run.tenant_id, run.catalog_id, *fixed.values()],
        )
        cur.execute(
            f"UPDATE {p} SET {', '.join(sets)} FROM {dt} s "
            f"WHERE s.product_id IS NOT NULL AND {p}.id = s.product_id",
            [*set_params, *refreshed.values()],
        )
    if written is not None:
        _rehash_updated(delta)


def _rehash_updated(delta: str) -> None:
    """An update-mode run merged its fields into products: their content hash is now that of
    the merged content, as the parser would compute it for a row of that content (so a
    later full feed with the same content is recognised as unchanged)."""
    p = _qn(Product._meta.db_table)
    cols = ", ".join(_qn(c) for c in HASHED_COLUMNS)
    with connection.cursor() as cur:
        cur.execute(f"SELECT product_id FROM {_qn(delta)} WHERE product_id IS NOT NULL")
        ids = [r[0] for r in cur.fetchall()]
        batch = 5000 if _is_pg() else 500  # bounded memory; SQLite's parameter limit
        for start in range(0, len(ids), batch):
            chunk = ids[start : start + batch]
            marks = ", ".join(["%s"] * len(chunk))
            cur.execute(f"SELECT id, {cols} FROM {p} WHERE id IN ({marks})", chunk)
            hashes = [
                (
                    content_hash(
                        _hash_text(c, v) for c, v in zip(HASHED_COLUMNS, r[1:], strict=True)
                    ),
                    r[0],
                )
                for r in cur.fetchall()
            ]
            if _is_pg():  # one statement per batch
                cur.execute(
                    f"UPDATE {p} SET content_hash = v.h FROM (SELECT unnest(%s::text[]) AS h, "
                    f"unnest(%s::bigint[]) AS id) v WHERE {p}.id = v.id",
                    [[h for h, _ in hashes], [i for _, i in hashes]],
                )
            else:
                cur.executemany(f"UPDATE {p} SET content_hash = %s WHERE id = %s", hashes)


def _hash_text(field: str, v: Any) -> str:
    """A stored value in the parser's text form (feeds.parsing: what content_hash reads)."""
    if v is None:
        return ""
    if field == "custom_attributes":
        return json.dumps(_json_value(v, {}), sort_keys=True, ensure_ascii=False)
    if field == "additional_image_links":
        return json.dumps(_json_value(v, []))
    if field in ("price", "sale_price", "shipping_fee"):
        return str(Decimal(str(v)).quantize(Decimal("0.01")))
    return str(v)


def _remember_line_hashes(run: FeedRun) -> None:
    """Rows read again whose content did not change may still come from a record with new
    bytes (or from before fingerprints existed): store their fingerprint, so the next pull
    skips them. Content, review and change times are untouched."""
    p = _qn(Product._meta.db_table)
    st = _qn(run.stage_table)
    same = f"{p}.content_hash = s.content_hash"
    if run.mode != UpdateMode.REPLACE:  # a row not in the delta changes no written field
        same = (
            f"{p}.removed_at IS NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {_qn(_delta_table(run))} d WHERE d.sku = s.sku)"
        )
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE {p} SET feed_line_hash = s.line_hash FROM {st} s "
            f"WHERE {p}.tenant_id = %s AND {p}.catalog_id = %s AND {p}.sku = s.sku "
            f"AND s.line_hash IS NOT NULL AND {same} "
            f"AND {_distinct(f'{p}.feed_line_hash', 's.line_hash')}",
            [run.tenant_id, run.catalog_id],
        )


def _remove_missing(run: FeedRun, now: datetime) -> int:
    """Mark removed the products listed by _stage_counts (active, neither staged nor seen)."""
    p = _qn(Product._meta.db_table)
    sql = (
        f"UPDATE {p} SET removed_at = %s, last_changed_at = %s, updated_at = %s "
        f"WHERE tenant_id = %s AND catalog_id = %s AND removed_at IS NULL "
        f"AND id IN (SELECT id FROM {_qn(_gone_table(run))})"
    )
    with connection.cursor() as cur:
        cur.execute(sql, [now, now, now, run.tenant_id, run.catalog_id])
        return cur.rowcount


def _norm(field: str, v: Any) -> Any:
    """Old and new values in one comparable, JSON-friendly form."""
    if v is None:
        return None
    if field in ("additional_image_links", "custom_attributes"):
        if isinstance(v, str):
            try:
                v = json.loads(v) if v else ([] if field == "additional_image_links" else {})
            except ValueError:
                return v
        return v
    if field in ("price", "sale_price", "shipping_fee"):
        return str(Decimal(str(v)).quantize(Decimal("0.01"))) if v != "" else None
    if field == "inventory_quantity":
        return int(v) if v != "" else None
    return str(v)


def _diff_value_sql(field: str, alias: str) -> str:
    """A field's value as _norm gives it, in SQL (jsonb)."""
    internal = Product._meta.get_field(field).get_internal_type()
    if internal == "DecimalField":
        return f"to_jsonb({alias}.{_qn(field)}::text)"
    return f"to_jsonb({alias}.{_qn(field)})"


def _insert_update_diffs(cur, run: FeedRun, dt: str, limit: int) -> None:
    """The 'updated' diff rows ({field: [old, new]} of the fields that differ, "removed" for
    a product brought back), as _append_update_diffs builds them in Python."""
    parts, params = [], []
    written = _written(run)
    for f in DIFF_FIELDS:
        if written is not None and f not in written.fields:
            continue  # update mode: a field the file does not carry keeps its value
        internal = Product._meta.get_field(f).get_internal_type()
        new = _diff_value_sql(f, "s")
        if written is not None and f == "custom_attributes":
            new, merged_params = written.attributes_sql("p", "s")
            differs = f"p.custom_attributes IS DISTINCT FROM {new}"
            params = merged_params * 2  # in the condition and in the value
        elif internal in ("CharField", "TextField"):  # "" and no value are the same
            differs = f"coalesce(p.{_qn(f)}, '') IS DISTINCT FROM coalesce(s.{_qn(f)}, '')"
        else:
            differs = f"p.{_qn(f)} IS DISTINCT FROM s.{_qn(f)}"
        value = f"jsonb_build_array({_diff_value_sql(f, 'p')}, {new})"
        parts.append(f"'{f}', CASE WHEN {differs} THEN {value} END")
    parts.append("'removed', CASE WHEN p.removed_at IS NOT NULL THEN '[true, false]'::jsonb END")
    changes = f"jsonb_strip_nulls(jsonb_build_object({', '.join(parts)}))"
    c = _qn(FeedRunChange._meta.db_table)
    cur.execute(
        f"INSERT INTO {c} (tenant_id, run_id, kind, product_id, sku, changes) "
        f"SELECT %s, %s, %s, p.id, s.sku, {changes} FROM {dt} s "
        f"JOIN {_qn(Product._meta.db_table)} p ON p.id = s.product_id ORDER BY s.line LIMIT %s",
        [run.tenant_id, run.pk, ChangeKind.UPDATED, *params, limit],
    )


def _append_update_diffs(cur, run: FeedRun, dt: str, limit: int, changes: list) -> None:
    p = _qn(Product._meta.db_table)
    new_cols = ", ".join(f"s.{_qn(c)}" for c in DIFF_FIELDS)
    old_cols = ", ".join(f"p.{_qn(c)}" for c in DIFF_FIELDS)
    cur.execute(
        f"SELECT p.id, s.sku, p.removed_at, {old_cols}, {new_cols} FROM {dt} s "
        f"JOIN {p} p ON p.id = s.product_id ORDER BY s.line LIMIT %s",
        [limit],
    )
    n = len(DIFF_FIELDS)
    written = _written(run)
    for pid, sku, removed_at, *vals in cur.fetchall():
        old, new = vals[:n], vals[n:]
        diff = {}
        for f, o, v in zip(DIFF_FIELDS, old, new, strict=True):
            if written is not None and f not in written.fields:
                continue  # update mode: a field the file does not carry keeps its value
            if written is not None and f == "custom_attributes":
                v = written.merged_attributes(o, v)
            on, nn = _norm(f, o), _norm(f, v)
            if on != nn and not (on in (None, "") and nn in (None, "")):
                diff[f] = [on, nn]
        if removed_at is not None:
            diff["removed"] = [True, False]
        changes.append(
            FeedRunChange(
                tenant_id=run.tenant_id,
                run=run,
                kind=ChangeKind.UPDATED,
                product_id=pid,
                sku=sku,
                changes=diff,
            )
        )


def _record_diff(ctx: _Ctx, delta: str, limit: int, *, removals: bool) -> None:
    """Store what the run changes (bounded sample; counts are always exact)."""
    run = ctx.run
    dt = _qn(delta)
    changes: list[FeedRunChange] = []
    new_cols = ", ".join(f"s.{_qn(c)}" for c in DIFF_FIELDS)
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT s.sku, {new_cols} FROM {dt} s WHERE s.product_id IS NULL "
            "ORDER BY s.line LIMIT %s",
            [limit],
        )
        for sku, *new in cur.fetchall():
            changes.append(
                FeedRunChange(
                    tenant_id=run.tenant_id,
                    run=run,
                    kind=ChangeKind.CREATED,
                    sku=sku,
                    changes=_created_changes(dict(zip(DIFF_FIELDS, new, strict=True))),
                )
            )
        FeedRunChange.objects.bulk_create(changes, batch_size=2000)
        changes = []
        if _is_pg():  # built and inserted by PostgreSQL: no round trip of old and new rows
            _insert_update_diffs(cur, run, dt, limit)
        else:
            _append_update_diffs(cur, run, dt, limit, changes)
        if removals:
            cur.execute(
                f"SELECT id, sku, title FROM {_qn(_gone_table(run))} ORDER BY id LIMIT %s",
                [limit],
            )
            for pid, sku, title in cur.fetchall():
                changes.append(
                    FeedRunChange(
                        tenant_id=run.tenant_id,
                        run=run,
                        kind=ChangeKind.REMOVED,
                        product_id=pid,
                        sku=sku,
                        changes={"title": [title, None]},
                    )
                )
    FeedRunChange.objects.bulk_create(changes, batch_size=2000)


def _link_created_products(run: FeedRun) -> None:
    """Fill in the product ids of the 'created' diff rows (a join, not a lookup per row)."""
    with connection.cursor() as cur:
        cur.execute(*_link_created_products_sql(run))


def _link_created_products_sql(run: FeedRun) -> tuple[str, list]:
    p = _qn(Product._meta.db_table)
    c = _qn(FeedRunChange._meta.db_table)
    return (
        f"UPDATE {c} SET product_id = p.id FROM {p} p "
        f"WHERE {c}.tenant_id = %s AND {c}.run_id = %s AND {c}.kind = 'created' "
        f"AND p.tenant_id = {c}.tenant_id AND p.catalog_id = %s "
        f"AND p.sku = {c}.sku{_BYTES if _is_pg() else ''}",
        [run.tenant_id, run.pk, run.catalog_id],
    )


# =========================================================================== periodic work


def feed_dispatch_due(*, now: datetime | None = None) -> int:
    """Enqueue every due, enabled source once and compute its next pull.

    Per tenant (through the tenant scope), rows locked with SKIP LOCKED so two beat
    processes never enqueue the same source twice.
    """
    now = now or timezone.now()
    queued = 0
    for tenant in Tenant.objects.all().only("id", "time_zone"):
        with transaction.atomic():
            due = list(
                ProductSource.objects.for_tenant(tenant)
                .filter(enabled=True, kind=SourceKind.URL, next_pull_at__lte=now)
                .exclude(schedule=Schedule.MANUAL)
                .select_for_update(skip_locked=True)
                .order_by("next_pull_at")[:500]
            )
            for source in due:
                _schedule_next(source, tenant, now)
                source.save(update_fields=["next_pull_at", "updated_at"])
                if FeedRun.objects.for_tenant(tenant).active().filter(source=source).exists():
                    continue
                # a newer feed decides: a held run confirmed after it would remove products
                # the newer feed lists again
                _cancel_held_runs(tenant=tenant, source=source, actor=None)
                run = FeedRun.objects.create(
                    tenant=tenant,
                    catalog_id=source.catalog_id,
                    source=source,
                    trigger=Trigger.SCHEDULED,
                    mode=source.mode,
                    location=source.url,
                )
                transaction.on_commit(lambda run=run: feed_run_enqueue(run=run))
                queued += 1
    return queued


def feed_reap_stale(*, now: datetime | None = None) -> int:
    """Mark runs whose worker died as failed (the catalog was never touched: the apply
    transaction died with the worker) and drop their staging tables; re-enqueue runs queued
    for longer than stuck_run_minutes. Returns the number of runs marked failed."""
    now = now or timezone.now()
    fs = feed_settings()
    cutoff = now - timedelta(minutes=fs.stuck_run_minutes)
    queued_cutoff = now - timedelta(hours=6)
    reaped = 0
    for tenant in Tenant.objects.all().only("id"):
        stale = FeedRun.objects.for_tenant(tenant).filter(
            status=RunStatus.RUNNING, heartbeat_at__lt=cutoff
        ) | FeedRun.objects.for_tenant(tenant).filter(
            status=RunStatus.QUEUED, queued_at__lt=queued_cutoff
        )
        for run in stale:
            with transaction.atomic():
                # the source row first, as the apply's fence check takes it: a run that is
                # committing its apply right now holds it, and is left alone this round
                if run.source_id is not None and not (
                    ProductSource.objects.for_tenant(tenant)
                    .select_for_update(skip_locked=True, no_key=True)
                    .filter(pk=run.source_id)
                    .exists()
                ):
                    continue
                locked = (
                    FeedRun.objects.for_tenant(tenant)
                    .select_for_update(skip_locked=True)
                    .filter(pk=run.pk, status__in=[RunStatus.RUNNING, RunStatus.QUEUED])
                    .first()
                )
                if locked is None:
                    continue
                if locked.source_id is not None:
                    # fencing: the failed run's worker, should it wake up, can never apply
                    _fence_take(tenant=tenant, source_id=locked.source_id)
                locked.status = RunStatus.FAILED
                locked.phase = Phase.DONE
                locked.error_code = "worker_lost"
                locked.error_message = (
                    "The run stopped without finishing (the worker was stopped or lost). "
                    "The catalog was not changed; request data again to retry."
                )
                locked.finished_at = now
                locked.one_time_password_encrypted = ""
                locked.save()
            _drop_stage(run)
            _remove_run_files(locked)
            if run.trigger == Trigger.SCHEDULED:
                notify_run_failed(tenant=tenant, run=locked)
            reaped += 1
        # A run queued for longer than stuck_run_minutes may have lost its message (Redis
        # restarted without persistence) and would block its source as "in progress" for
        # hours: hand it to the queue again. Safe: only a queued run starts, under a row
        # lock, so a duplicate message does nothing (found by the Redis drill).
        for run in FeedRun.objects.for_tenant(tenant).filter(
            status=RunStatus.QUEUED, queued_at__lt=cutoff, queued_at__gte=queued_cutoff
        ):
            feed_run_enqueue(run=run)
    return reaped


def _remove_run_files(run: FeedRun) -> None:
    """The files a failed run leaves behind: its downloads (feed-<run id>-*.bin in the temp
    directory of this machine) and an uploaded file. A file given to import_feed is the
    user's own and stays."""
    pattern = f"{_temp_prefix(run)}*.bin"
    for path in Path(tempfile.gettempdir()).glob(pattern):
        with contextlib.suppress(OSError):
            path.unlink()
    if run.trigger == Trigger.UPLOAD and run.file_path:
        with contextlib.suppress(OSError):
            os.unlink(run.file_path)


def _recipients(tenant: Tenant) -> list[str]:
    roles = [Role.OWNER, Role.ADMIN, Role.ADVERTISER]
    return sorted(
        {
            m.user.email
            for m in Membership.objects.filter(tenant=tenant, role__in=roles).select_related("user")
            if m.user.email
        }
    )


def notify_run_failed(*, tenant: Tenant, run: FeedRun) -> int:
    """Email the tenant's owners, admins and advertisers: a feed must never die silently."""
    to = _recipients(tenant)
    if not to:
        return 0
    source = run.source.name if run.source_id else run.location
    return send_mail(
        subject=f"[Catalog Health] Feed pull failed: {source}",
        message=(
            f"The scheduled pull of “{source}” (catalog #{run.catalog_id}) failed.\n\n"
            f"{run.error_message}\n\nThe catalog was not changed. Run #{run.pk}."
        ),
        from_email=None,
        recipient_list=to,
        fail_silently=True,
    )


def feed_notify_stale(*, now: datetime | None = None) -> int:
    """Email once per staleness episode about enabled sources without a good pull for a day."""
    now = now or timezone.now()
    hours = settings.FEED_STALE_AFTER_HOURS
    cutoff = now - timedelta(hours=hours)
    sent = 0
    for tenant in Tenant.objects.all():
        stale = list(
            ProductSource.objects.for_tenant(tenant)
            .filter(enabled=True, kind=SourceKind.URL, stale_notified_at__isnull=True)
            .exclude(schedule=Schedule.MANUAL)
            .filter(created_at__lt=cutoff)
            .exclude(last_success_at__gte=cutoff)
            .select_related("catalog")
        )
        if not stale:
            continue
        to = _recipients(tenant)
        lines = [
            f"- {s.name} (catalog {s.catalog.name}): last successful refresh "
            f"{s.last_success_at:%Y-%m-%d %H:%M UTC}"
            if s.last_success_at
            else f"- {s.name} (catalog {s.catalog.name}): never refreshed successfully"
            for s in stale
        ]
        if to:
            send_mail(
                subject=f"[Catalog Health] {len(stale)} product source(s) are out of date",
                message=(
                    "These product sources have not been refreshed for more than "
                    f"{hours} hours. Refresh them before running campaigns:\n\n" + "\n".join(lines)
                ),
                from_email=None,
                recipient_list=to,
                fail_silently=True,
            )
            sent += 1
        ProductSource.objects.for_tenant(tenant).filter(pk__in=[s.pk for s in stale]).update(
            stale_notified_at=now
        )
    return sent


def upload_path_for(name: str) -> str:
    UPLOAD_DIR.mkdir(parents=True, exist_ok=True)
    stamp = f"{time.time_ns()}-{os.getpid()}"
    safe = "".join(ch for ch in Path(name).name if ch.isalnum() or ch in "._-")[:80]
    return str(UPLOAD_DIR / f"{stamp}-{safe or 'feed'}")


def save_upload(uploaded) -> str:
    """Stream an uploaded file to disk (never whole in memory); return its path."""
    path = upload_path_for(getattr(uploaded, "name", "feed"))
    with open(path, "wb") as out:
        for chunk in uploaded.chunks():
            out.write(chunk)
    return path


def feed_run_upload(*, tenant: Tenant, source: ProductSource, actor, uploaded):
    """A run of ``source`` on an uploaded file (page and API): (run, created) as
    feed_run_request; the file is streamed to disk first."""
    return feed_run_request(
        tenant=tenant,
        source=source,
        actor=actor,
        trigger=Trigger.UPLOAD,
        file_path=save_upload(uploaded),
        file_name=uploaded.name[:200],
    )
