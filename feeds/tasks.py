"""Thin Celery wrappers: take ids, call one service. Each is safe to run twice."""

from __future__ import annotations

from importlib import import_module

from celery import shared_task
from celery.signals import worker_init

from . import periodic, services

# What a feed run imports (Arrow, numpy, pandas, the rules engine): about 0.3-0.5 s that a
# web process never needs, so services import it lazily.
_INGEST_MODULES = ("feeds.ingest.pipeline", "ecr.block_review")


@worker_init.connect
def preload_ingest(**_) -> None:
    """Load the ingest pipeline when a worker starts (before its pool forks), so that no
    feed run, the first after a deploy included, spends its first seconds importing it."""
    for name in _INGEST_MODULES:
        import_module(name)


@shared_task(name="feeds.pull", acks_late=True, reject_on_worker_lost=True)
def feed_pull(*, tenant_id: int, run_id: int) -> str | None:
    """Execute one queued feed run (a second delivery finds it no longer queued)."""
    run = services.feed_run_execute(tenant_id=tenant_id, run_id=run_id)
    return run.status if run else None


@shared_task(name="feeds.dispatch_due")
def feed_dispatch_due() -> int:
    """Beat: enqueue every due source once and compute its next pull."""
    return periodic.feed_dispatch_due()


@shared_task(name="feeds.reap_stale")
def feed_reap_stale() -> int:
    """Beat: mark runs whose worker died as failed."""
    return periodic.feed_reap_stale()


@shared_task(name="feeds.notify_stale")
def feed_notify_stale() -> int:
    """Beat: email about sources without a good pull for more than a day."""
    return periodic.feed_notify_stale()


@shared_task(name="feeds.prune_run_details")
def feed_prune_run_details() -> int:
    """Beat: delete old runs' row errors and change lists (their counts stay)."""
    return periodic.feed_prune_run_details()
