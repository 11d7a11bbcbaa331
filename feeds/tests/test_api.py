"""API: sources CRUD (write-only password), refresh -> 202 with the run URL, runs, upload."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog_health.tenancy.roles import Role
from catalogs.tests.factories import CatalogFactory
from feeds import crypto, services
from feeds.models import FeedRun, FeedSettings, ProductSource, RunStatus
from feeds.tests.factories import ProductSourceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(api_client_for, member, tenant_a):
    return api_client_for(member(tenant_a, Role.ADVERTISER), tenant_a)


@pytest.fixture
def fs(db):
    s = FeedSettings.load()
    s.manual_refresh_min_seconds = 0
    s.save()
    return s


def test_create_source_password_is_write_only(api, tenant_a, catalog):
    response = api.post(
        "/api/v1/sources/",
        {
            "catalog": catalog.pk,
            "name": "Main",
            "url": "https://s.example/f.csv",
            "username": "u",
            "password": "topsecret",
            "schedule": "hourly",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert "password" not in body and body["has_password"] is True
    assert "topsecret" not in response.content.decode()
    source = ProductSource.objects.for_tenant(tenant_a).get(pk=body["id"])
    assert crypto.decrypt(source.password_encrypted) == "topsecret"
    listed = api.get("/api/v1/sources/").json()["results"][0]
    assert "password" not in listed and "password_encrypted" not in listed


def test_cannot_attach_source_to_foreign_catalog(api, tenant_b):
    other = CatalogFactory(tenant=tenant_b)
    response = api.post(
        "/api/v1/sources/",
        {"catalog": other.pk, "name": "X", "url": "https://s.example/f.csv"},
        format="json",
    )
    assert response.status_code == 400
    assert not ProductSource.objects.for_tenant(tenant_b).exists()


def test_update_and_delete_source(api, tenant_a, catalog):
    source = ProductSourceFactory(catalog=catalog)
    response = api.patch(f"/api/v1/sources/{source.pk}/", {"name": "Renamed"}, format="json")
    assert response.status_code == 200 and response.json()["name"] == "Renamed"
    assert api.delete(f"/api/v1/sources/{source.pk}/").status_code == 204
    assert not ProductSource.objects.for_tenant(tenant_a).exists()


def test_refresh_returns_202_with_run_url_then_the_same_run(api, tenant_a, catalog, fs):
    source = ProductSourceFactory(catalog=catalog)
    first = api.post(f"/api/v1/sources/{source.pk}/refresh", {}, format="json")
    assert first.status_code == 202, first.json()
    run_id = first.json()["id"]
    assert first.json()["run_url"].endswith(f"/api/v1/runs/{run_id}")
    assert first["Location"] == first.json()["run_url"]
    second = api.post(f"/api/v1/sources/{source.pk}/refresh", {}, format="json")
    assert second.status_code == 202
    assert second.json()["id"] == run_id and second.json()["already_running"] is True
    run = api.get(f"/api/v1/runs/{run_id}").json()
    assert run["status"] == "queued" and run["phase"] == "queued"
    assert set(run["progress"]) == {"rows_done", "rows_total", "bytes_downloaded"}


def test_refresh_rate_limited_is_429(api, tenant_a, catalog, fs):
    fs.manual_refresh_min_seconds = 300
    fs.save()
    source = ProductSourceFactory(catalog=catalog)
    api.post(f"/api/v1/sources/{source.pk}/refresh", {}, format="json")
    FeedRun.objects.for_tenant(tenant_a).update(status=RunStatus.SUCCEEDED)
    response = api.post(f"/api/v1/sources/{source.pk}/refresh", {}, format="json")
    assert response.status_code == 429 and int(response["Retry-After"]) > 0


def test_viewer_cannot_refresh(api_client_for, member, tenant_a, catalog, fs):
    viewer = api_client_for(member(tenant_a, Role.VIEWER), tenant_a)
    source = ProductSourceFactory(catalog=catalog)
    assert viewer.post(f"/api/v1/sources/{source.pk}/refresh", {}).status_code == 403
    assert viewer.get(f"/api/v1/sources/{source.pk}/").status_code == 200


def test_upload_runs_pipeline(api, tenant_a, catalog, fs):
    source = ProductSourceFactory(catalog=catalog, kind="upload")
    f = SimpleUploadedFile("feed.tsv", b"id\ttitle\tprice\nA\tCap\t3 USD\n")
    response = api.post(f"/api/v1/sources/{source.pk}/upload", {"file": f}, format="multipart")
    assert response.status_code == 202, response.json()
    run = services.feed_run_execute(tenant_id=tenant_a.pk, run_id=response.json()["id"])
    assert run.status == RunStatus.SUCCEEDED and run.created == 1
    body = api.get(f"/api/v1/runs/{run.pk}").json()
    assert body["created"] == 1 and body["status"] == "succeeded"


def test_foreign_run_is_404(api, tenant_b):
    from feeds.tests.factories import FeedRunFactory

    run = FeedRunFactory(source__catalog=CatalogFactory(tenant=tenant_b))
    assert api.get(f"/api/v1/runs/{run.pk}").status_code == 404


def schedule_time_sent(api, catalog, value) -> object:
    """POST a daily source at ``value``; the response."""
    return api.post(
        "/api/v1/sources/",
        {
            "catalog": catalog.pk,
            "name": "Daily",
            "url": "https://s.example/f.csv",
            "schedule": "daily",
            "schedule_time": value,
        },
        format="json",
    )


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("06:00:30+02:00", "without a UTC offset"),
        ("06:00+02:00", "without a UTC offset"),
        ("06:00Z", "without a UTC offset"),
        ("06:00:00-05:00", "without a UTC offset"),
        ("06:00:30", "whole minutes"),
        ("06:00:00.5", "whole minutes"),
        ("25:00", "HH:MM"),
        ("24:00", "HH:MM"),
        ("06:60", "HH:MM"),
        ("6pm", "HH:MM"),
        ("", "HH:MM"),
    ],
)
def test_a_schedule_time_the_scheduler_would_misread_is_refused(
    api, tenant_a, catalog, value, says
):
    """Times are wall-clock HH:MM in the tenant's time zone: an offset was dropped and the
    seconds kept, so the feed was pulled at a time nobody asked for."""
    tenant_a.time_zone = "Europe/Paris"
    tenant_a.save()
    response = schedule_time_sent(api, catalog, value)
    assert response.status_code == 400, response.json()
    message = " ".join(response.json()["schedule_time"])
    assert says in message
    if says.startswith("without"):
        assert "Europe/Paris" in message
    assert not ProductSource.objects.for_tenant(tenant_a).exists()


@pytest.mark.parametrize("value", ["06:30", "06:30:00", "6:30"])
def test_a_schedule_time_in_whole_minutes_is_taken(api, tenant_a, catalog, value):
    response = schedule_time_sent(api, catalog, value)
    assert response.status_code == 201, response.json()
    assert response.json()["schedule_time"] == "06:30:00"
    source = ProductSource.objects.for_tenant(tenant_a).get()
    # what GET answered can be PUT back
    body = api.get(f"/api/v1/sources/{source.pk}/").json()
    body.pop("has_password")
    assert api.put(f"/api/v1/sources/{source.pk}/", body, format="json").status_code == 200


def test_an_update_with_an_offset_leaves_the_schedule_as_it_was(api, tenant_a, catalog):
    source = schedule_time_sent(api, catalog, "06:30").json()
    response = api.patch(
        f"/api/v1/sources/{source['id']}/", {"schedule_time": "07:00+01:00"}, format="json"
    )
    assert response.status_code == 400
    stored = ProductSource.objects.for_tenant(tenant_a).get()
    assert stored.schedule_time.isoformat() == "06:30:00"
