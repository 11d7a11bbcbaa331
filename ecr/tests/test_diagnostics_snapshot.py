"""Diagnostics groups come from a snapshot until a review or a product change invalidates it."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalogs.tests.factories import CatalogFactory
from ecr import services
from ecr.models import DiagnosticsSnapshot
from ecr.tests.factories import PendingProductFactory

pytestmark = pytest.mark.django_db


def _groups(tenant, catalog) -> dict[str, int]:
    ecr = services.ecr_state_get(tenant=tenant, catalog=catalog)
    d = services.catalog_diagnostics(tenant=tenant, catalog=catalog, ecr=ecr)
    return {g.code: g.products for g in [*d.error_groups, *d.warning_groups]}


def _grouping_ran(queries) -> bool:
    return any("COUNT(DISTINCT" in q["sql"].upper() for q in queries.captured_queries)


@pytest.fixture
def catalog(tenant_a):
    catalog = CatalogFactory(tenant=tenant_a)
    PendingProductFactory.create_batch(6, catalog=catalog)
    PendingProductFactory.create_batch(4, catalog=catalog, price=Decimal("0"))
    services.review_after_feed_run(tenant=tenant_a, catalog=catalog)
    return catalog


def test_second_view_reads_the_snapshot(tenant_a, catalog):
    first = _groups(tenant_a, catalog)
    assert any(n == 4 for n in first.values()), first
    with CaptureQueriesContext(connection) as queries:
        again = _groups(tenant_a, catalog)
    assert again == first
    assert not _grouping_ran(queries)
    assert DiagnosticsSnapshot.objects.for_tenant(tenant_a).filter(catalog=catalog).count() == 1


def test_a_review_invalidates_the_snapshot(tenant_a, catalog):
    before = _groups(tenant_a, catalog)
    PendingProductFactory.create_batch(2, catalog=catalog, price=Decimal("0"))
    services.review_after_feed_run(tenant=tenant_a, catalog=catalog)
    with CaptureQueriesContext(connection) as queries:
        after = _groups(tenant_a, catalog)
    assert _grouping_ran(queries)
    code = next(c for c, n in before.items() if n == 4)
    assert after[code] == 6


def test_a_removed_product_leaves_the_groups(tenant_a, catalog):
    before = _groups(tenant_a, catalog)
    code = next(c for c, n in before.items() if n == 4)
    product = catalog.products.filter(price=Decimal("0")).first()
    now = timezone.now()
    product.removed_at = now
    product.last_changed_at = now  # as the feed pipeline's removal sets it
    product.save(update_fields=["removed_at", "last_changed_at"])
    assert _groups(tenant_a, catalog)[code] == 3


def test_snapshots_are_per_tenant(tenant_a, tenant_b, catalog):
    _groups(tenant_a, catalog)
    other = CatalogFactory(tenant=tenant_b)
    assert _groups(tenant_b, other) == {}
    assert DiagnosticsSnapshot.objects.for_tenant(tenant_b).count() == 1


def test_a_feed_runs_review_queues_the_snapshot_so_the_next_view_reads_it(
    tenant_a, catalog, django_capture_on_commit_callbacks
):
    """After a feed run the worker recomputes the snapshot, not the seller's first view.
    (The task runs eagerly here; in production a worker takes it from the queue.)"""
    from catalog_health.celery import app

    PendingProductFactory.create_batch(2, catalog=catalog, price=Decimal("0"))
    app.conf.update(task_always_eager=True)
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            services.review_after_feed_run(tenant=tenant_a, catalog=catalog)
    finally:
        app.conf.update(task_always_eager=False)
    assert len(callbacks) == 1
    with CaptureQueriesContext(connection) as queries:
        groups = _groups(tenant_a, catalog)
    assert not _grouping_ran(queries)
    assert 6 in groups.values()  # the 2 new zero-price products are counted


def test_the_refresh_task_of_a_vanished_catalog_is_harmless(tenant_a):
    from ecr import tasks

    assert tasks.diagnostics_refresh(tenant_id=tenant_a.pk, catalog_id=999_999) is False
