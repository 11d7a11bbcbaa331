"""Periodic jobs of the feeds app (beat): due pulls, the stale-run reaper, stale-source emails,
old runs' details."""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.mail import send_mail
from django.db import (
    transaction,
)
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from catalog_health.site import absolute_url
from catalog_health.tenancy.models import Tenant
from catalog_health.tenancy.selectors import email_choices_footer
from feeds.models import (
    FeedRowError,
    FeedRun,
    FeedRunChange,
    Phase,
    ProductSource,
    RunStatus,
    Schedule,
    SourceKind,
    Trigger,
)
from feeds.notifications import _recipients, notify_run_failed
from feeds.services import _cancel_held_runs, _schedule_next, feed_run_enqueue, feed_settings

log = logging.getLogger(__name__)

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
    # the ingest pipeline (Arrow) is loaded where it runs, not by every process at startup
    from feeds.ingest.context import _fence_take
    from feeds.ingest.staging import _drop_stage

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
                    "The run stopped without finishing (the import_feed command was stopped "
                    "or lost). The catalog was not changed; run the command again to retry."
                    if locked.trigger == Trigger.COMMAND
                    else "The run stopped without finishing (the worker was stopped or lost). "
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
    from feeds.ingest.pipeline import _temp_prefix

    pattern = f"{_temp_prefix(run)}*.bin"
    for path in Path(tempfile.gettempdir()).glob(pattern):
        with contextlib.suppress(OSError):
            path.unlink()
    if run.trigger == Trigger.UPLOAD and run.file_path:
        with contextlib.suppress(OSError):
            os.unlink(run.file_path)


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
            (
                f"- {s.name} (catalog {s.catalog.name}): last successful refresh "
                f"{s.last_success_at:%Y-%m-%d %H:%M UTC}"
                if s.last_success_at
                else f"- {s.name} (catalog {s.catalog.name}): never refreshed successfully"
            )
            + "\n  "
            + absolute_url(
                reverse(
                    "feeds:source_detail", kwargs={"tenant_slug": tenant.slug, "source_id": s.pk}
                )
            )
            for s in stale
        ]
        if to:
            send_mail(
                subject=f"[Catalog Health] {len(stale)} product source(s) are out of date",
                message=(
                    "These product sources have not been refreshed for more than "
                    f"{hours} hours. Refresh them before running campaigns:\n\n"
                    + "\n".join(lines)
                    + f"\n\n{email_choices_footer(tenant=tenant)}"
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


# runs whose row errors and change list may go once they are old: never a held run (its
# confirmation page shows them) nor an active one
_PRUNABLE = (RunStatus.SUCCEEDED, RunStatus.UNCHANGED, RunStatus.FAILED, RunStatus.CANCELLED)


def feed_prune_run_details(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """Delete the row errors and change lists of finished runs older than
    ``FeedSettings.run_details_days``; the runs and their counts stay. A source's latest
    run and its latest successful run keep theirs whatever their age: they say what the
    catalog holds now (runs without a source count per catalog). Returns the runs pruned."""
    now = now or timezone.now()
    days = feed_settings().run_details_days
    if not days:
        return 0
    cutoff = now - timedelta(days=days)
    pruned = 0
    for tenant in Tenant.objects.all().only("id"):
        runs = FeedRun.objects.for_tenant(tenant)
        later = runs.filter(pk__gt=OuterRef("pk"), status__in=_PRUNABLE)
        by_source = later.filter(source_id=OuterRef("source_id"))
        by_catalog = later.filter(source__isnull=True, catalog_id=OuterRef("catalog_id"))
        superseded = runs.filter(
            status__in=_PRUNABLE, finished_at__lt=cutoff, details_deleted_at__isnull=True
        ).filter(
            Q(source__isnull=False) & _superseded(by_source)
            | Q(source__isnull=True) & _superseded(by_catalog)
        )
        while ids := list(superseded.order_by("pk").values_list("pk", flat=True)[:batch_size]):
            with transaction.atomic():
                FeedRowError.objects.for_tenant(tenant).filter(run_id__in=ids).delete()
                FeedRunChange.objects.for_tenant(tenant).filter(run_id__in=ids).delete()
                runs.filter(pk__in=ids).update(details_deleted_at=now)
            pruned += len(ids)
    return pruned


def _superseded(later) -> Q:
    """A run is superseded by any later run, a successful run only by a later success."""
    return Q(Exists(later), ~Q(status=RunStatus.SUCCEEDED)) | Q(
        Exists(later.filter(status=RunStatus.SUCCEEDED))
    )
