"""Request Data Now while the broker cannot be reached: 503 with Retry-After, nothing queued.

The broker is real: the Celery app is pointed at a Redis port nothing listens on."""

from __future__ import annotations

import pytest

from catalog_health.celery import app as celery_app
from catalog_health.tenancy.roles import Role
from catalogs.tests.factories import CatalogFactory
from feeds.models import FeedRun, FeedSettings, RunStatus
from feeds.tests.factories import ProductSourceFactory, held_import_run

pytestmark = pytest.mark.django_db(transaction=True)  # the enqueue runs on commit


@pytest.fixture
def broker_down():
    def point_at(url: str) -> None:
        # The app caches its connection and producer pools: drop them (as Celery does after a
        # fork) so that publishing uses the URL set here, and later tests the real broker.
        # They are not closed: whatever still holds the original ones keeps working.
        celery_app.conf.broker_url = url
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    before = celery_app.conf.broker_url
    point_at("redis://127.0.0.1:9/0")  # the discard port: connection refused
    try:
        yield
    finally:
        point_at(before)


def test_refresh_while_broker_is_down_is_503_with_retry_after(
    api_client_for, member, tenant_a, broker_down
):
    s = FeedSettings.load()
    s.manual_refresh_min_seconds = 0
    s.save()
    source = ProductSourceFactory(catalog__tenant=tenant_a)
    api = api_client_for(member(tenant_a, Role.ADVERTISER), tenant_a)
    response = api.post(f"/api/v1/sources/{source.pk}/refresh/", {}, format="json")
    assert response.status_code == 503, response.content
    assert int(response["Retry-After"]) > 0
    assert "could not be queued" in response.json()["error_message"]
    run = FeedRun.objects.for_tenant(tenant_a).get(source=source)
    assert (run.status, run.error_code) == (RunStatus.FAILED, "queue")


def test_a_confirmation_while_broker_is_down_is_503_and_keeps_the_hold(
    api_client_for, member, tenant_a, tmp_path, broker_down
):
    """Before, the confirmed run was queued, failed to reach the broker and ended failed
    ("try again in a minute"): nothing was left to confirm again, the feed had to be pulled
    again. The run now waits for confirmation as before, and the answer says to retry."""
    catalog = CatalogFactory(tenant=tenant_a)
    held = held_import_run(tenant=tenant_a, catalog=catalog, path=tmp_path / "feed.csv")
    api = api_client_for(member(tenant_a, Role.ADVERTISER), tenant_a)
    body = {"removal_digest": held.held_removals_digest}
    response = api.post(f"/api/v1/runs/{held.pk}/confirm/", body, format="json")
    assert response.status_code == 503, response.content
    assert int(response["Retry-After"]) > 0
    assert "could not be queued" in response.json()["error_message"]
    run = FeedRun.objects.for_tenant(tenant_a).get(pk=held.pk)
    assert run.status == RunStatus.NEEDS_CONFIRMATION
    assert run.confirmed_at is None and run.confirmed_by_id is None
    assert run.held_removals_digest == held.held_removals_digest
    assert run.removed == 8
