"""Run history retention: old runs keep their counts but lose their row errors and change
lists, except the runs that still describe what a source last did."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog_health.tenancy.roles import Role
from feeds import periodic, tasks
from feeds.models import FeedRowError, FeedRun, FeedRunChange, FeedSettings, RunStatus
from feeds.tests.factories import (
    FeedRowErrorFactory,
    FeedRunChangeFactory,
    FeedRunFactory,
    ProductSourceFactory,
)

pytestmark = pytest.mark.django_db

NOW = timezone.now()


@pytest.fixture
def keep_days(db):
    s = FeedSettings.load()
    s.run_details_days = 30
    s.save()
    return s


def run_of(source, status, *, days_ago, **kw):
    """A finished run with one row error and one change, finished ``days_ago`` days ago."""
    run = FeedRunFactory(
        source=source, status=status, finished_at=NOW - timedelta(days=days_ago), **kw
    )
    FeedRowErrorFactory(run=run)
    FeedRunChangeFactory(run=run)
    return run


def kept(run) -> bool:
    run.refresh_from_db()
    has_rows = (
        FeedRowError.objects.filter(run=run).exists()
        and FeedRunChange.objects.filter(run=run).exists()
    )
    assert has_rows == (run.details_deleted_at is None)
    return has_rows


@pytest.mark.parametrize(
    "history, expected",
    [
        # (status, days ago) oldest first -> kept?
        pytest.param(
            [("succeeded", 60), ("succeeded", 40), ("succeeded", 1)],
            [False, False, True],
            id="older-successes-go",
        ),
        pytest.param(
            [("succeeded", 60), ("succeeded", 10)],
            [False, True],
            id="younger-than-the-limit-stays",
        ),
        pytest.param(
            [("succeeded", 90), ("unchanged", 70), ("unchanged", 50)],
            [True, False, True],
            id="last-success-stays-behind-unchanged-pulls",
        ),
        pytest.param(
            [("succeeded", 90), ("failed", 60), ("failed", 40)],
            [True, False, True],
            id="last-success-and-last-run-stay",
        ),
        pytest.param(
            [("failed", 90), ("cancelled", 80), ("succeeded", 70), ("succeeded", 2)],
            [False, False, False, True],
            id="failed-and-discarded-go-once-superseded",
        ),
        pytest.param([("succeeded", 400)], [True], id="a-lone-run-stays"),
    ],
)
def test_which_runs_keep_their_details(tenant_a, keep_days, history, expected):
    source = ProductSourceFactory(tenant=tenant_a, catalog__tenant=tenant_a)
    runs = [run_of(source, status, days_ago=days) for status, days in history]
    periodic.feed_prune_run_details(now=NOW)
    assert [kept(r) for r in runs] == expected
    # the runs themselves and their counts stay
    assert FeedRun.objects.filter(pk__in=[r.pk for r in runs]).count() == len(runs)


def test_held_and_active_runs_are_never_touched(tenant_a, keep_days):
    source = ProductSourceFactory(tenant=tenant_a, catalog__tenant=tenant_a)
    held = run_of(source, RunStatus.NEEDS_CONFIRMATION, days_ago=90)
    run_of(source, "succeeded", days_ago=80)
    run_of(source, "succeeded", days_ago=70)
    periodic.feed_prune_run_details(now=NOW)
    assert kept(held)


def test_sources_are_kept_apart_and_uploads_without_source_go_by_catalog(tenant_a, keep_days):
    one = ProductSourceFactory(tenant=tenant_a, catalog__tenant=tenant_a)
    other = ProductSourceFactory(tenant=tenant_a, catalog=one.catalog)
    old_one = run_of(one, "succeeded", days_ago=60)
    run_of(other, "succeeded", days_ago=1)  # another source's success supersedes nothing
    orphan_old = run_of(None, "succeeded", days_ago=60, catalog=one.catalog, tenant=tenant_a)
    orphan_new = run_of(None, "succeeded", days_ago=1, catalog=one.catalog, tenant=tenant_a)
    periodic.feed_prune_run_details(now=NOW)
    assert kept(old_one)
    assert not kept(orphan_old)
    assert kept(orphan_new)


def test_zero_days_keeps_everything(tenant_a, keep_days):
    keep_days.run_details_days = 0
    keep_days.save()
    source = ProductSourceFactory(tenant=tenant_a, catalog__tenant=tenant_a)
    old = run_of(source, "succeeded", days_ago=3000)
    run_of(source, "succeeded", days_ago=1)
    assert periodic.feed_prune_run_details(now=NOW) == 0
    assert kept(old)


def test_the_daily_task_prunes_in_batches_and_counts_runs(tenant_a, tenant_b, keep_days):
    for tenant in (tenant_a, tenant_b):
        source = ProductSourceFactory(tenant=tenant, catalog__tenant=tenant)
        for days in range(40, 45):
            run_of(source, "succeeded", days_ago=days)
        run_of(source, "succeeded", days_ago=1)
    assert periodic.feed_prune_run_details(now=NOW, batch_size=2) == 10
    assert FeedRun.objects.filter(details_deleted_at__isnull=False).count() == 10
    assert tasks.feed_prune_run_details.apply().get() == 0  # nothing left to do


def test_the_run_page_says_its_details_were_deleted(client, member, tenant_a, keep_days):
    source = ProductSourceFactory(tenant=tenant_a, catalog__tenant=tenant_a)
    old = run_of(source, "succeeded", days_ago=60, received=120, created=7)
    run_of(source, "succeeded", days_ago=1)
    periodic.feed_prune_run_details(now=NOW)
    client.force_login(member(tenant_a, Role.VIEWER))
    page = client.get(
        reverse("feeds:run_detail", kwargs={"tenant_slug": tenant_a.slug, "run_id": old.pk})
    )
    text = page.content.decode()
    assert page.status_code == 200
    assert "Row errors and changes of runs older than 30 days are deleted" in text
    assert "No row errors." not in text and "No changes recorded." not in text
    assert 'data-count="created">7<' in text.replace(" ", "")


def test_the_api_tells_when_a_runs_details_were_deleted(
    api_client_for, member, tenant_a, keep_days
):
    source = ProductSourceFactory(tenant=tenant_a, catalog__tenant=tenant_a)
    old = run_of(source, "succeeded", days_ago=60)
    new = run_of(source, "succeeded", days_ago=1)
    periodic.feed_prune_run_details(now=NOW)
    api = api_client_for(member(tenant_a, Role.VIEWER), tenant_a)
    assert api.get(f"/api/v1/runs/{old.pk}/").json()["details_deleted_at"] is not None
    assert api.get(f"/api/v1/runs/{new.pk}/").json()["details_deleted_at"] is None
