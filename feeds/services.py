# SQL below is built only from quoted table/column names of our own models and the per-run
# staging table name (an integer id); every value goes through parameters.
"""Writes of the feeds app: sources and the run lifecycle.

Every function takes the tenant explicitly. A run is requested (or uploaded), queued,
confirmed or cancelled here; feed_run_execute runs it through the ingest engine
(feeds.ingest, whose docstring walks the pipeline). Periodic jobs live in feeds.periodic,
emails in feeds.notifications.
"""

from __future__ import annotations

import contextlib
import logging
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from celery import current_app
from django.core.exceptions import ValidationError
from django.db import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    transaction,
)
from django.utils import timezone

from catalog_health.tenancy.models import Tenant
from catalog_health.tenancy.services import audit_record
from catalogs.models import Catalog

from . import crypto
from .models import (
    FeedRun,
    FeedSettings,
    Phase,
    ProductSource,
    RunStatus,
    Schedule,
    SourceKind,
    Trigger,
)
from .outbound import feed_server, feed_url_problem, import_url_problem, resolve_checked
from .parsing import FeedError, encoding_problem
from .schedule import next_pull_after
from .uploads import save_upload
from .uploads import upload_path_for as upload_path_for  # the demo and tests name it here

log = logging.getLogger(__name__)

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
    if source.encoding and (problem := encoding_problem(source.encoding)):
        errors["encoding"] = problem
    if source.kind != SourceKind.URL and source.schedule != Schedule.MANUAL:
        source.schedule = Schedule.MANUAL  # uploads and API pushes are not pulled
    if source.schedule in (Schedule.DAILY, Schedule.WEEKLY) and source.schedule_time is None:
        errors["schedule_time"] = "Say at what time (HH:MM) the feed is pulled."
    if source.schedule == Schedule.WEEKLY and source.schedule_weekday is None:
        errors["schedule_weekday"] = "Say on which day of the week the feed is pulled."
    if errors:
        raise ValidationError(errors)
    source.full_clean(exclude=["tenant", "catalog"])


DUPLICATE_NAME = "This catalog already has a source of that name."


def source_validate(source: ProductSource) -> None:
    """Raise the ValidationError that source_create or source_update would raise for
    ``source`` as it stands (its tenant_id and catalog_id set), saving nothing: for forms that
    show those errors before saving through them (Django admin). Like the save, it sets the
    schedule of an upload or API source to manual: give it a copy."""
    _clean_source(source)
    siblings = ProductSource.objects.for_tenant(source.tenant_id).filter(
        catalog_id=source.catalog_id, name=source.name
    )
    if siblings.exclude(pk=source.pk).exists():
        raise ValidationError({"name": DUPLICATE_NAME})


def _blocked_address(url: str) -> str | None:
    """Why the URL's host may not be fetched from (loopback, private, link-local, metadata …),
    checked at save time with the same rule and allow-list as every fetch (which checks again,
    after DNS and on every redirect). A host that does not resolve now is not refused here:
    DNS can be down or not yet set up; the fetch says so."""
    from .ingest.pipeline import _fetch_policy

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
def source_schedules_rezone(*, tenant: Tenant) -> int:
    """Recompute the next pull of the tenant's enabled scheduled sources after its time
    zone changed: a daily 06:00 stays 06:00 on the tenant's new wall clock. Returns how
    many moved. Connected to tenancy's events.time_zone_changed (FeedsConfig.ready())."""
    tenant = Tenant.objects.get(pk=tenant.pk)  # the zone just written, not a stale copy
    sources = (
        ProductSource.objects.for_tenant(tenant)
        .filter(enabled=True, kind=SourceKind.URL)
        .exclude(schedule=Schedule.MANUAL)
        .select_for_update()
    )
    moved = 0
    for source in sources:
        before = source.next_pull_at
        _schedule_next(source, tenant)
        if source.next_pull_at != before:
            source.save(update_fields=["next_pull_at", "updated_at"])
            moved += 1
    return moved


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
        raise ValidationError({"name": DUPLICATE_NAME}) from exc
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
        raise ValidationError({"name": DUPLICATE_NAME}) from exc
    if changes:
        audit_record(
            tenant=tenant, actor=actor, action="feed_source.updated", target=source, changes=changes
        )
    return source


@transaction.atomic
def source_delete(*, tenant: Tenant, source: ProductSource, actor) -> None:
    from .ingest.staging import _drop_stage

    source = ProductSource.objects.for_tenant(tenant).select_for_update().get(pk=source.pk)
    audit_record(tenant=tenant, actor=actor, action="feed_source.deleted", target=source)
    for run in FeedRun.objects.for_tenant(tenant).filter(
        source=source, status=RunStatus.NEEDS_CONFIRMATION
    ):
        _drop_stage(run)
    # a queued upload's file goes with its run (the cascade); a running run removes its own
    waiting_files = list(
        FeedRun.objects.for_tenant(tenant)
        .filter(source=source, status=RunStatus.QUEUED)
        .exclude(file_path="")
        .values_list("file_path", flat=True)
    )
    source.delete()
    transaction.on_commit(lambda: _unlink_all(waiting_files))


def _unlink_all(paths: list[str]) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            os.unlink(path)


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


def _cancel_held_runs(
    *, tenant: Tenant, actor, source: ProductSource | None = None, catalog: Catalog | None = None
) -> None:
    """A newer run supersedes one waiting for confirmation: a source's run the source's
    held runs, a run without a source (import_feed) the catalog's held runs without one.
    Confirmed later, the older file would have undone the newer one."""
    from .ingest.staging import _drop_stage

    held_runs = FeedRun.objects.for_tenant(tenant).filter(status=RunStatus.NEEDS_CONFIRMATION)
    if source is not None:
        held_runs = held_runs.filter(source=source)
    else:
        held_runs = held_runs.filter(source__isnull=True, catalog=catalog)
    for held in held_runs.select_for_update():
        _drop_stage(held)
        held.status = RunStatus.CANCELLED
        held.error_message = "Superseded by a newer run before it was confirmed."
        held.finished_at = timezone.now()
        held.save(update_fields=["status", "error_message", "finished_at"])


# a confirmed run the queue never got goes back to waiting, with its hold's message after this
QUEUE_DOWN_PREFIX = (
    "The confirmation could not be queued because the task queue is unavailable. Nothing "
    "was changed; confirm again in a minute. "
)


def feed_run_enqueue(
    *, run: FeedRun, countdown: float | None = None, held_message: str | None = None
) -> bool:
    """Hand the run to a worker (after ``countdown`` seconds when given: a run deferred by
    the tenant's limit). When the broker is down the run fails with a clear message (the
    page stays up and says so) instead of waiting forever; a confirmed held run
    (``held_message``: why it was held) waits for its confirmation again instead, since
    failing it would leave nothing to confirm."""
    # by name: the task module imports this one (FeedsConfig.ready() registers it)
    feed_pull = current_app.tasks["feeds.pull"]
    try:
        feed_pull.apply_async(
            kwargs={"tenant_id": run.tenant_id, "run_id": run.pk}, retry=False, countdown=countdown
        )
        return True
    except Exception as exc:  # kombu/redis errors vary by transport
        log.warning("feed run %s could not be queued: %s", run.pk, exc)
        queued = FeedRun.objects.for_tenant(run.tenant_id).filter(
            pk=run.pk, status=RunStatus.QUEUED
        )
        if held_message is not None:
            queued.update(
                status=RunStatus.NEEDS_CONFIRMATION,
                phase=Phase.DONE,
                confirmed_at=None,
                confirmed_by=None,
                error_code="queue",
                error_message=QUEUE_DOWN_PREFIX + held_message,
            )
            return False
        queued.update(
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
    # kept for the page should the queue be down (feed_run_enqueue): the hold stands then
    held_message = run.error_message.removeprefix(QUEUE_DOWN_PREFIX)
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
    run.confirmed_at = timezone.now()
    run.confirmed_by = actor if getattr(actor, "is_authenticated", False) else None
    run.error_code = ""
    run.error_message = ""
    run.save(
        update_fields=[
            "status",
            "phase",
            "confirmed_at",
            "confirmed_by",
            "error_code",
            "error_message",
        ]
    )
    audit_record(
        tenant=tenant,
        actor=actor,
        action="feed_run.confirmed",
        target=run,
        changes={"removed": run.removed, "removal_digest": run.held_removals_digest},
    )
    transaction.on_commit(lambda: feed_run_enqueue(run=run, held_message=held_message))
    return run


@transaction.atomic
def feed_run_cancel(*, tenant: Tenant, run: FeedRun, actor) -> FeedRun:
    """Discard a run held for confirmation; the catalog stays as it is."""
    from .ingest.staging import _drop_stage

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
    *, tenant: Tenant, catalog: Catalog, location: str, mode: str, force: bool = False, actor=None
) -> FeedRun:
    """`manage.py import_feed`: a run without a source, executed synchronously, on the path
    of a scheduled pull (records unchanged since the catalog's last pull are skipped unread,
    the changed products reviewed in the same pass); ``force`` reads every record. Takes a
    file path or an http(s) URL; another scheme, a folder or a missing file raises FeedError
    before any run."""
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
    if is_url and (problem := import_url_problem(location)):
        raise FeedError("url", problem)
    if not is_url and Path(location).is_dir():
        shown = Path(location).resolve()
        raise FeedError(
            "missing_file", f"{shown} is a folder, not a feed file: give the file's path."
        )
    if not is_url and not Path(location).exists():
        # named as resolved: a typo, or a space pasted before the path, shows in it
        shown = Path(location).resolve()
        raise FeedError("missing_file", f"{shown} does not exist: give the feed file's path.")
    with transaction.atomic():
        _cancel_held_runs(tenant=tenant, catalog=catalog, actor=actor)
        run = FeedRun.objects.create(
            tenant=tenant,
            catalog=catalog,
            trigger=Trigger.COMMAND,
            mode=mode,
            location=location,
            file_path="" if is_url else str(Path(location).resolve()),
            force=force,
        )
    return feed_run_execute(tenant_id=tenant.pk, run_id=run.pk, keep_file=True)


def feed_run_execute(*, tenant_id: int, run_id: int, keep_file: bool = False) -> FeedRun | None:
    """Run one queued feed run to its end. Safe to call twice: only a queued run starts."""
    # The ingest pipeline (Arrow, numpy) is loaded by the worker that runs a feed, not by
    # every web process that imports this module.
    from .ingest.apply import _apply_and_finish, _fail, _fail_after_db_loss, _finish
    from .ingest.context import _Ctx, _fence_take, _Fenced, _Heartbeat, _Held, _Unchanged
    from .ingest.pipeline import _DEFER_SECONDS, _ingest, _tenant_at_limit
    from .ingest.staging import _drop_stage, _stage_exists

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
    heartbeat = _Heartbeat(run).start()  # the worker is alive, whatever the run is doing
    try:
        try:
            if run.confirmed_at is not None and _stage_exists(run):
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
        heartbeat.stop()
        if ctx.direct is not None:  # the run did not succeed: none of its products stay
            ctx.direct.abort()
        for path in ctx.temp_files:
            with contextlib.suppress(OSError):
                os.unlink(path)
        if fenced or run.status != RunStatus.NEEDS_CONFIRMATION:
            _drop_stage(run)
    return run


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
