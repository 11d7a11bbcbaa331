"""A held run's confirmation is its own fact (``FeedRun.confirmed_at``), not the confirming
user: the worker applies a confirmed run whoever confirmed it, also once that user's account
is gone or when no signed-in user confirmed it (real PostgreSQL, a local HTTP server)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from catalogs.tests.factories import CatalogFactory
from feeds import services
from feeds.models import FeedRun, FeedSettings, RunStatus
from feeds.tests.factories import FeedRunFactory
from feeds.tests.feedserver import body, unframed
from feeds.tests.test_run_safety import active, cut_after_rows, feed, pull, url_source


@pytest.fixture
def fs(db):
    return FeedSettings.objects.update_or_create(pk=1, defaults={"manual_refresh_min_seconds": 0})[
        0
    ]


def _held(tenant, server, *, n: int = 100, keep: int = 10, cut: bool = False):
    """A catalog of ``n`` products and a run that would remove all but ``keep`` of them:
    held for its share, or (``cut``) a download cut off after ``keep`` rows, whose removals
    are held."""
    catalog = CatalogFactory(tenant=tenant)
    server.routes["/f"] = body(feed(n))
    source = url_source(catalog, server.url("/f"))
    pull(tenant, source)
    if cut:
        data = feed(n, version=2)
        server.routes["/f"] = unframed(data, cut_at=cut_after_rows(data, keep))
    else:
        server.routes["/f"] = body(feed(keep))
    held = pull(tenant, source)
    assert held.status == RunStatus.NEEDS_CONFIRMATION, held.error_message
    return catalog, held


@pytest.mark.django_db
def test_a_run_confirmed_by_a_user_deleted_before_it_applies_is_applied(
    tenant_a, fs, server, member, user_factory
):
    member(tenant_a)  # the tenant keeps an owner
    confirmer = user_factory("confirmer")
    catalog, held = _held(tenant_a, server)
    services.feed_run_confirm(
        tenant=tenant_a, run=held, actor=confirmer, removal_digest=held.held_removals_digest
    )
    confirmer.delete()  # confirmed_by is SET_NULL
    run = services.feed_run_execute(tenant_id=tenant_a.pk, run_id=held.pk)
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert run.removed == 90
    assert active(catalog) == 10
    assert run.confirmed_at is not None and run.confirmed_by_id is None


@pytest.mark.django_db
def test_a_confirmation_without_a_signed_in_user_is_applied(tenant_a, fs, server):
    catalog, held = _held(tenant_a, server)
    services.feed_run_confirm(tenant=tenant_a, run=held, actor=None)
    run = services.feed_run_execute(tenant_id=tenant_a.pk, run_id=held.pk)
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert active(catalog) == 10


@pytest.mark.django_db
def test_held_removals_confirmed_by_a_deleted_user_are_removed(
    tenant_a, fs, server, member, user_factory
):
    """A cut-off download: the adds and updates applied, the removals held; the confirming
    user's account goes before the worker removes them."""
    member(tenant_a)
    confirmer = user_factory("confirmer")
    catalog, held = _held(tenant_a, server, keep=60, cut=True)
    assert held.hold_reason == "incomplete", held.error_message
    services.feed_run_confirm(tenant=tenant_a, run=held, actor=confirmer)
    confirmer.delete()
    run = services.feed_run_execute(tenant_id=tenant_a.pk, run_id=held.pk)
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert run.removed == 40
    assert active(catalog) == 60


@pytest.mark.django_db
def test_a_run_held_again_after_its_confirmation_is_no_longer_confirmed(
    tenant_a, fs, server, owner
):
    catalog, held = _held(tenant_a, server)
    services.feed_run_confirm(tenant=tenant_a, run=held, actor=owner)
    server.routes["/g"] = body(feed(5, start=500))
    extra = url_source(catalog, server.url("/g"), name="Extra", mode="update")
    assert pull(tenant_a, extra).status == RunStatus.SUCCEEDED  # the removal set changes
    run = services.feed_run_execute(tenant_id=tenant_a.pk, run_id=held.pk)
    assert run.status == RunStatus.NEEDS_CONFIRMATION
    assert run.confirmed_at is None and run.confirmed_by_id is None
    assert active(catalog) == 105


def _removed_meanwhile(tenant, catalog, server, fs, keep: int) -> None:
    """Another source of the catalog, in replace mode, removes every product but ``keep``."""
    fs.removal_share_threshold = 1
    fs.save()
    server.routes["/other"] = body(feed(keep))
    other = url_source(catalog, server.url("/other"), name="Other")
    assert pull(tenant, other).status == RunStatus.SUCCEEDED


@pytest.mark.django_db
def test_a_confirmed_run_whose_removals_are_gone_meanwhile_asks_again(tenant_a, fs, server, owner):
    """Nothing left to remove, but the run's adds and updates are a feed older than what
    the catalog holds now: the run is held again with the new numbers, as for any change."""
    catalog, held = _held(tenant_a, server)
    services.feed_run_confirm(tenant=tenant_a, run=held, actor=owner)
    _removed_meanwhile(tenant_a, catalog, server, fs, keep=10)
    run = services.feed_run_execute(tenant_id=tenant_a.pk, run_id=held.pk)
    assert run.status == RunStatus.NEEDS_CONFIRMATION
    assert "would now remove no product, not the 90 shown" in run.error_message
    assert run.removed == 0 and run.confirmed_at is None
    assert active(catalog) == 10


@pytest.mark.django_db
def test_held_removals_gone_meanwhile_are_confirmed_with_a_note(tenant_a, fs, server, owner):
    """A cut-off download's held removals (its adds and updates applied already): when they
    have all left the catalog before the confirmation is applied, the run ends removing
    nothing and says why."""
    catalog, held = _held(tenant_a, server, keep=60, cut=True)
    services.feed_run_confirm(tenant=tenant_a, run=held, actor=owner)
    _removed_meanwhile(tenant_a, catalog, server, fs, keep=60)
    run = services.feed_run_execute(tenant_id=tenant_a.pk, run_id=held.pk)
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert run.removed == 0
    assert run.error_message == (
        "The 40 products this run held for removal had left the catalog meanwhile (a later "
        "run removed them, or its feed lists them again): nothing was removed."
    )
    assert active(catalog) == 60


@pytest.mark.django_db(transaction=True)
def test_migration_keeps_runs_confirmed_before_it_confirmed(tenant_a, user_factory):
    confirmer = user_factory("confirmer")
    confirmed = FeedRunFactory(source__catalog__tenant=tenant_a, status="queued")
    plain = FeedRunFactory(source__catalog__tenant=tenant_a, status="needs_confirmation")
    executor = MigrationExecutor(connection)
    executor.migrate([("feeds", "0006_feedrun_rules_version")])
    try:
        old = executor.loader.project_state([("feeds", "0006_feedrun_rules_version")])
        Run = old.apps.get_model("feeds", "FeedRun")  # confirmed_by was the flag
        Run.objects.filter(pk=confirmed.pk).update(confirmed_by_id=confirmer.pk)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    confirmed = FeedRun.objects.get(pk=confirmed.pk)
    assert confirmed.confirmed_at is not None
    assert confirmed.confirmed_by_id == confirmer.pk
    assert FeedRun.objects.get(pk=plain.pk).confirmed_at is None


@pytest.mark.django_db
def test_a_scheduled_pull_held_for_confirmation_is_emailed(tenant_a, fs, server, member):
    """A failed scheduled pull is emailed at once; one held for confirmation was not: it
    waited unseen until the next pull superseded it, held again, day after day. It is
    emailed to the people who can confirm it, naming why and the run's page."""
    from datetime import timedelta

    from django.core import mail
    from django.utils import timezone

    from catalog_health.tenancy.roles import Role
    from feeds import periodic
    from feeds.models import ProductSource, Schedule

    member(tenant_a, Role.ADVERTISER, username="ads")
    catalog = CatalogFactory(tenant=tenant_a)
    server.routes["/f"] = body(feed(10))
    source = url_source(catalog, server.url("/f"))
    pull(tenant_a, source)
    server.routes["/f"] = body(feed(2))
    held = pull(tenant_a, source)  # Request Data Now: the user is on the run's page
    assert held.status == RunStatus.NEEDS_CONFIRMATION
    assert mail.outbox == []
    ProductSource.objects.filter(pk=source.pk).update(
        schedule=Schedule.HOURLY, next_pull_at=timezone.now() - timedelta(minutes=1)
    )
    assert periodic.feed_dispatch_due() == 1
    scheduled = FeedRun.objects.for_tenant(tenant_a).latest("pk")
    run = services.feed_run_execute(tenant_id=tenant_a.pk, run_id=scheduled.pk)
    assert run.status == RunStatus.NEEDS_CONFIRMATION
    [email] = mail.outbox
    assert "waits for confirmation" in email.subject and source.name in email.subject
    assert "would remove 8 of the catalog's 10 products" in email.body
    assert f"/t/{tenant_a.slug}/runs/{run.pk}/" in email.body
