"""Thin Celery wrappers: take ids, re-fetch through the tenant scope, call one service."""

from __future__ import annotations

import logging

from celery import shared_task

from . import services
from .diagnostics_tasks import diagnostics_refresh as diagnostics_refresh  # autodiscovered here
from .diagnostics_tasks import task_catalog
from .models import EcrTrigger

logger = logging.getLogger(__name__)


@shared_task(name="ecr.review_queue_drain")
def review_queue_drain() -> int:
    """One cycle of the standard review queue: each catalog with Pending products gets at
    most the admin-set capacity reviewed, oldest first. Safe to run twice: a reviewed
    product is no longer Pending."""
    total = 0
    for tenant, catalog in services.catalogs_with_pending():
        total += services.review_queue_drain(tenant=tenant, catalog=catalog).reviewed
    return total


@shared_task(name="ecr.check_all")
def check_all() -> int:
    """Periodic ECR evaluation of every catalog; queues the re-review of catalogs still
    behind a rules change."""
    n = 0
    for tenant, catalog in services.all_catalogs():
        services.ecr_evaluate(tenant=tenant, catalog=catalog, trigger=EcrTrigger.PERIODIC)
        n += 1
    if services.catalogs_behind_rules():  # a lost or skipped re-review after a rules change
        services.rules_rereview_enqueue()
    return n


@shared_task(name="ecr.rules_rereview")
def rules_rereview() -> int:
    """Re-review the products reviewed before the rules last changed (an admin edited a
    policy term, a denied claim or a review limit), catalog by catalog. Safe to run twice:
    a catalog re-reviewed since the change is skipped."""
    return services.rules_rereview_all()


@shared_task(name="ecr.review_catalog")
def review_catalog(*, tenant_id: int, catalog_id: int) -> int:
    """Fast-lane review of one catalog's Pending products (when its ECR is on) and an ECR
    evaluation, e.g. after products were pushed over the API."""
    found = task_catalog(tenant_id, catalog_id)
    if found is None:
        logger.warning("catalog gone", extra={"catalog_id": catalog_id})
        return 0
    tenant, catalog = found
    return services.review_after_feed_run(tenant=tenant, catalog=catalog).reviewed
