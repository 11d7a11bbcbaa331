"""Feed runs are numbered per tenant (#1, #2, …), also when two are created at once, and the
migration numbers existing runs per tenant in creation order."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

from catalogs.tests.factories import CatalogFactory
from feeds import services
from feeds.models import FeedRun, Trigger
from feeds.tests.factories import FeedRunFactory, ProductSourceFactory


@pytest.mark.django_db
def test_each_tenant_counts_its_own_runs(tenant_a, tenant_b):
    a1 = FeedRunFactory(source__catalog__tenant=tenant_a)
    b1 = FeedRunFactory(source__catalog__tenant=tenant_b)
    a2 = FeedRunFactory(source__catalog__tenant=tenant_a)
    assert (a1.number, b1.number, a2.number) == (1, 1, 2)
    assert str(a2) == "Run #2 (Succeeded)"


@pytest.mark.django_db
def test_a_rolled_back_run_gives_its_number_back(tenant_a):
    source = ProductSourceFactory(catalog__tenant=tenant_a)
    with pytest.raises(RuntimeError), transaction.atomic():
        FeedRunFactory(source=source)
        raise RuntimeError
    assert FeedRunFactory(source=source).number == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_get_distinct_numbers(tenant_a):
    catalog = CatalogFactory(tenant=tenant_a)
    sources = [ProductSourceFactory(catalog=catalog) for _ in range(6)]
    barrier = threading.Barrier(len(sources))
    errors: list[BaseException] = []

    def request(source) -> None:
        try:
            barrier.wait()
            services.feed_run_request(
                tenant=tenant_a, source=source, actor=None, trigger=Trigger.SCHEDULED
            )
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=request, args=(s,)) for s in sources]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    numbers = sorted(FeedRun.objects.for_tenant(tenant_a).values_list("number", flat=True))
    assert numbers == [1, 2, 3, 4, 5, 6]


@pytest.mark.django_db(transaction=True)
def test_migration_numbers_existing_runs_per_tenant_in_creation_order(tenant_a, tenant_b):
    tenants = (tenant_a, tenant_b, tenant_a, tenant_a, tenant_b)
    # the sources as the current models make them; the migrations back to 0003 keep them
    sources = [ProductSourceFactory(catalog__tenant=tenant) for tenant in tenants]
    executor = MigrationExecutor(connection)
    executor.migrate([("feeds", "0003_run_safety")])
    try:
        old = MigrationExecutor(connection).loader.project_state([("feeds", "0003_run_safety")])
        Run = old.apps.get_model("feeds", "FeedRun")  # the table as it was: no number yet
        ids = []
        for tenant, source in zip(tenants, sources, strict=True):
            ids.append(
                Run.objects.create(
                    tenant_id=tenant.pk,
                    catalog_id=source.catalog_id,
                    source_id=source.pk,
                    trigger="manual",
                    mode="replace",
                    status="succeeded",
                    phase="done",
                ).pk
            )
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    numbers = [FeedRun.objects.get(pk=pk).number for pk in ids]
    assert numbers == [1, 1, 2, 3, 2]
    # new runs continue each tenant's count
    assert FeedRunFactory(source__catalog__tenant=tenant_a).number == 4
    assert FeedRunFactory(source__catalog__tenant=tenant_b).number == 3


def test_the_failure_email_names_the_run_by_its_tenant_number(tenant_a, tenant_b, member):
    """Runs are numbered per tenant: the email says the number the run pages show, not the
    database id (which counts every tenant's runs)."""
    from django.core import mail

    from catalog_health.tenancy.roles import Role
    from feeds.notifications import notify_run_failed

    member(tenant_a, Role.ADVERTISER)
    for _ in range(3):  # another tenant's runs take ids
        FeedRunFactory(tenant=tenant_b, catalog=CatalogFactory(tenant=tenant_b))
    run = FeedRunFactory(tenant=tenant_a, catalog=CatalogFactory(tenant=tenant_a))
    assert run.number != run.pk
    assert notify_run_failed(tenant=tenant_a, run=run) == 1
    body = mail.outbox[0].body
    assert f"Run #{run.number}:" in body and f"Run #{run.pk}:" not in body
    # an email has no page to be relative to: the run's page as an absolute link
    assert f"http://127.0.0.1:8000/t/{tenant_a.slug}/runs/{run.pk}/" in body
