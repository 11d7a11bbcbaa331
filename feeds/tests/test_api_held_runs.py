"""A run held for confirmation is confirmed or discarded over the API as on its page:
`POST /api/v1/runs/{id}/confirm/` with the removal digest the run shows, and
`POST /api/v1/runs/{id}/discard/`, through the same services, by the roles the page allows."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from catalog_health.tenancy.models import AuditEvent
from catalog_health.tenancy.roles import Role
from catalogs.models import Product
from feeds import services
from feeds.models import FeedRun, FeedSettings, RunStatus
from feeds.tests.factories import FeedRunFactory, ProductSourceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def fs(db):
    return FeedSettings.objects.update_or_create(pk=1, defaults={"manual_refresh_min_seconds": 0})[
        0
    ]


@pytest.fixture
def advertiser(member, tenant_a):
    return member(tenant_a, Role.ADVERTISER, username="ads")


@pytest.fixture
def api(api_client_for, advertiser, tenant_a):
    return api_client_for(advertiser, tenant_a)


def _rows(n: int) -> bytes:
    return b"id\ttitle\tprice\n" + b"".join(b"S%d\tCap %d\t3 USD\n" % (i, i) for i in range(n))


def _upload(api, tenant, source, n: int) -> FeedRun:
    f = SimpleUploadedFile("feed.tsv", _rows(n))
    response = api.post(f"/api/v1/sources/{source.pk}/upload", {"file": f}, format="multipart")
    assert response.status_code == 202, response.json()
    return services.feed_run_execute(tenant_id=tenant.pk, run_id=response.json()["id"])


@pytest.fixture
def held(api, tenant_a, catalog, fs):
    """A catalog of 100 products and an uploaded feed of 10 that waits for confirmation."""
    source = ProductSourceFactory(catalog=catalog, kind="upload")
    assert _upload(api, tenant_a, source, 100).status == RunStatus.SUCCEEDED
    run = _upload(api, tenant_a, source, 10)
    assert run.status == RunStatus.NEEDS_CONFIRMATION, run.error_message
    return run


def _active(catalog) -> int:
    return (
        Product.objects.for_tenant(catalog.tenant_id)
        .filter(catalog=catalog, removed_at__isnull=True)
        .count()
    )


def test_a_held_run_shows_what_a_confirmation_must_name(api, held):
    body = api.get(f"/api/v1/runs/{held.pk}/").json()
    assert body["status"] == "needs_confirmation"
    assert body["hold_reason"] == "removal_share"
    assert body["removed"] == 90
    assert body["held_removals_digest"] == held.held_removals_digest


def test_confirming_a_held_run_with_its_digest_applies_it(api, tenant_a, catalog, held):
    response = api.post(
        f"/api/v1/runs/{held.pk}/confirm/",
        {"removal_digest": held.held_removals_digest},
        format="json",
    )
    assert response.status_code == 202, response.json()
    assert response.json()["status"] == "queued"
    assert response["Location"].endswith(f"/api/v1/runs/{held.pk}")
    run = services.feed_run_execute(tenant_id=tenant_a.pk, run_id=held.pk)
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert run.removed == 90 and _active(catalog) == 10
    event = AuditEvent.objects.get(action="feed_run.confirmed")
    assert event.actor.username == "ads" and event.target_id == str(held.pk)


@pytest.mark.parametrize("body", [{}, {"removal_digest": ""}])
def test_a_confirmation_must_name_the_removals_it_saw(api, catalog, held, body):
    response = api.post(f"/api/v1/runs/{held.pk}/confirm/", body, format="json")
    assert response.status_code == 400
    assert "removal_digest" in response.json()
    held.refresh_from_db()
    assert held.status == RunStatus.NEEDS_CONFIRMATION


def test_a_confirmation_of_removals_that_changed_is_a_409(api, catalog, held):
    response = api.post(
        f"/api/v1/runs/{held.pk}/confirm/", {"removal_digest": "0" * 64}, format="json"
    )
    assert response.status_code == 409
    assert "changed since" in response.json()["detail"]
    held.refresh_from_db()
    assert held.status == RunStatus.NEEDS_CONFIRMATION and held.confirmed_at is None
    assert _active(catalog) == 100


def test_an_unknown_field_in_a_confirmation_is_a_400(api, held):
    body = {"removal_digest": held.held_removals_digest, "force": True}
    response = api.post(f"/api/v1/runs/{held.pk}/confirm/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"force": ["Unknown field."]}


def test_discarding_a_held_run_leaves_the_catalog_as_it_was(api, catalog, held):
    response = api.post(f"/api/v1/runs/{held.pk}/discard/", {}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "cancelled"
    assert _active(catalog) == 100
    assert AuditEvent.objects.filter(action="feed_run.cancelled").count() == 1
    # a second discard, or a confirmation after it, finds nothing waiting
    again = api.post(f"/api/v1/runs/{held.pk}/discard/", {}, format="json")
    assert again.status_code == 409
    late = api.post(
        f"/api/v1/runs/{held.pk}/confirm/",
        {"removal_digest": held.held_removals_digest},
        format="json",
    )
    assert late.status_code == 409


def test_a_run_that_is_not_held_cannot_be_confirmed_or_discarded(api, tenant_a, catalog):
    run = FeedRunFactory(source__catalog=catalog, status=RunStatus.SUCCEEDED)
    for action, body in (("confirm", {"removal_digest": "x" * 64}), ("discard", {})):
        response = api.post(f"/api/v1/runs/{run.pk}/{action}/", body, format="json")
        assert response.status_code == 409, action
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED


@pytest.mark.parametrize("role", [Role.VIEWER, Role.SELLER])
def test_roles_that_may_not_manage_sources_cannot_confirm_or_discard(
    api_client_for, member, tenant_a, catalog, held, role
):
    client = api_client_for(member(tenant_a, role, username=f"m-{role}"), tenant_a)
    digest = {"removal_digest": held.held_removals_digest}
    assert client.post(f"/api/v1/runs/{held.pk}/confirm/", digest, format="json").status_code == 403
    assert client.post(f"/api/v1/runs/{held.pk}/discard/", {}, format="json").status_code == 403
    held.refresh_from_db()
    assert held.status == RunStatus.NEEDS_CONFIRMATION


def test_the_schema_documents_confirm_and_discard():
    schema = Client().get("/api/schema/?format=json").json()
    paths = schema["paths"]
    confirm = paths["/api/v1/runs/{id}/confirm/"]["post"]
    ref = confirm["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert body["required"] == ["removal_digest"]
    assert "202" in confirm["responses"] and "409" in confirm["responses"]
    assert "409" in paths["/api/v1/runs/{id}/discard/"]["post"]["responses"]
