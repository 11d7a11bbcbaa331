"""Odd and hostile input on the product source pages and import_feed, as sellers and
operators send it: each gets a clear answer, never an unexpected error or a detour."""

from __future__ import annotations

import io
import os
from datetime import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from catalog_health.tenancy.roles import Role
from feeds import crypto, services
from feeds.models import FeedRun, FeedSettings, ProductSource, RunStatus
from feeds.schedule import parse_schedule_time
from feeds.tests.factories import ProductSourceFactory
from feeds.tests.feed_rows import parse_feed

pytestmark = pytest.mark.django_db

NEW_SOURCE = {
    "name": "Main",
    "kind": "url",
    "url": "https://shop.example.com/feed.csv",
    "format": "auto",
    "compression": "auto",
    "mode": "replace",
    "schedule": "manual",
    "enabled": "on",
}


def url(name, tenant, **kw):
    return reverse(f"feeds:{name}", kwargs={"tenant_slug": tenant.slug, **kw})


@pytest.fixture
def cooling_source(client, member, tenant_a, catalog):
    """A source pulled moments ago by a logged-in advertiser: the next click is refused."""
    fs = FeedSettings.load()
    fs.manual_refresh_min_seconds = 120
    fs.save()
    source = ProductSourceFactory(catalog=catalog)
    client.force_login(member(tenant_a, Role.ADVERTISER))
    client.post(url("source_refresh", tenant_a, source_id=source.pk))
    FeedRun.objects.for_tenant(tenant_a).update(status=RunStatus.SUCCEEDED)
    return source


@pytest.mark.parametrize(
    "next_url",
    ["https://evil.example/login", "//evil.example/login", "/\\evil.example/", "javascript:x"],
)
def test_a_refused_refresh_never_sends_the_seller_to_another_site(
    client, tenant_a, catalog, cooling_source, next_url
):
    refresh = url("source_refresh", tenant_a, source_id=cooling_source.pk)
    response = client.post(refresh, {"next": next_url})
    assert response.status_code == 302
    assert response["Location"] == url("catalog_sources", tenant_a, catalog_id=catalog.pk)


def test_a_refused_refresh_returns_to_the_page_it_came_from(client, tenant_a, cooling_source):
    back = url("source_list", tenant_a) + "?x=1"
    refresh = url("source_refresh", tenant_a, source_id=cooling_source.pk)
    assert client.post(refresh, {"next": back})["Location"] == back


def test_an_empty_upload_is_called_empty(client, member, tenant_a, catalog):
    source = ProductSourceFactory(catalog=catalog, kind="upload")
    client.force_login(member(tenant_a, Role.ADVERTISER))
    response = client.post(
        url("source_upload", tenant_a, source_id=source.pk),
        {"file": SimpleUploadedFile("feed.csv", b"")},
        follow=True,
    )
    shown = [str(m) for m in response.context["messages"]]
    assert shown == ["The file “feed.csv” is empty; choose the feed file and upload it again."]
    assert not FeedRun.objects.for_tenant(tenant_a).exists()


@pytest.mark.parametrize(
    ("encoding", "stored"),
    [("latin-1", "latin-1"), ("UTF8", "UTF8"), ("windows-1252", "windows-1252"), ("", "")],
)
def test_a_known_text_encoding_is_kept(client, member, tenant_a, catalog, encoding, stored):
    client.force_login(member(tenant_a, Role.ADVERTISER))
    data = {**NEW_SOURCE, "encoding": encoding}
    response = client.post(url("catalog_sources", tenant_a, catalog_id=catalog.pk), data)
    assert response.status_code == 302
    assert ProductSource.objects.for_tenant(tenant_a).get().encoding == stored


@pytest.mark.parametrize("encoding", ["bogus-enc", "utf 8 please", "base64", "rot13", "hex"])
def test_an_encoding_that_cannot_read_text_is_refused_on_the_form(
    client, member, tenant_a, catalog, encoding
):
    client.force_login(member(tenant_a, Role.ADVERTISER))
    data = {**NEW_SOURCE, "encoding": encoding}
    response = client.post(url("catalog_sources", tenant_a, catalog_id=catalog.pk), data)
    assert response.status_code == 200
    assert "not a text encoding" in response.context["form"].errors["encoding"][0]
    assert not ProductSource.objects.for_tenant(tenant_a).exists()


def test_an_encoding_that_cannot_read_text_is_refused_over_the_api(
    api_client_for, member, tenant_a, catalog
):
    api = api_client_for(member(tenant_a, Role.ADVERTISER), tenant_a)
    response = api.post(
        "/api/v1/sources/",
        {**NEW_SOURCE, "enabled": True, "catalog": catalog.pk, "encoding": "bogus-enc"},
        format="json",
    )
    assert response.status_code == 400
    assert "encoding" in response.json()


@pytest.mark.parametrize("location", ["", "."])
def test_import_feed_given_a_folder_says_it_needs_a_file(tenant_a, catalog, location):
    with pytest.raises(CommandError, match="is a folder, not a feed file"):
        call_command("import_feed", "--catalog", str(catalog.pk), location)
    assert not FeedRun.objects.for_tenant(tenant_a).exists()


@pytest.mark.parametrize("location", ["feed-not-there.csv", " /tmp/feed.csv"])
def test_import_feed_given_no_such_file_names_the_path_it_looked_at(
    tenant_a, catalog, location, tmp_path, monkeypatch
):
    """Before, a failed run was recorded saying "The feed file could not be found.", with
    no path: a typo (or a space pasted before the path) was a guess."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CommandError) as exc:
        call_command("import_feed", "--catalog", str(catalog.pk), location)
    assert f"{tmp_path / location} does not exist" in str(exc.value)
    assert not FeedRun.objects.for_tenant(tenant_a).exists()


def test_deleting_a_source_deletes_the_file_its_queued_upload_waits_with(
    tenant_a, catalog, django_capture_on_commit_callbacks
):
    source = ProductSourceFactory(catalog=catalog, kind="upload")
    run, _ = services.feed_run_upload(
        tenant=tenant_a,
        source=source,
        actor=None,
        uploaded=SimpleUploadedFile("feed.csv", b"id,title,price\n1,Hat,5 USD\n"),
    )
    assert os.path.exists(run.file_path)
    with django_capture_on_commit_callbacks(execute=True):
        services.source_delete(tenant=tenant_a, source=source, actor=None)
    assert not os.path.exists(run.file_path)


PASSWORDS_WITH_SPACES = [" leading", "trailing ", "  both  ", "\ttab"]


@pytest.mark.parametrize("password", PASSWORDS_WITH_SPACES)
def test_a_stored_feed_password_keeps_its_spaces(client, member, tenant_a, catalog, password):
    client.force_login(member(tenant_a, Role.ADVERTISER))
    data = {**NEW_SOURCE, "username": "shop", "password": password}
    client.post(url("catalog_sources", tenant_a, catalog_id=catalog.pk), data)
    source = ProductSource.objects.for_tenant(tenant_a).get()
    assert crypto.decrypt(source.password_encrypted) == password


@pytest.mark.parametrize("password", PASSWORDS_WITH_SPACES)
def test_a_typed_feed_password_keeps_its_spaces(client, member, tenant_a, catalog, password):
    source = ProductSourceFactory(catalog=catalog, username="shop")
    client.force_login(member(tenant_a, Role.ADVERTISER))
    client.post(url("source_refresh", tenant_a, source_id=source.pk), {"password": password})
    run = FeedRun.objects.for_tenant(tenant_a).get()
    assert crypto.decrypt(run.one_time_password_encrypted) == password


@pytest.mark.parametrize("password", PASSWORDS_WITH_SPACES)
def test_a_feed_password_sent_over_the_api_keeps_its_spaces(
    api_client_for, member, tenant_a, catalog, password
):
    FeedSettings.objects.update(manual_refresh_min_seconds=0)
    api = api_client_for(member(tenant_a, Role.ADVERTISER), tenant_a)
    body = {**NEW_SOURCE, "enabled": True, "catalog": catalog.pk, "username": "shop"}
    created = api.post("/api/v1/sources/", {**body, "password": password}, format="json")
    source = ProductSource.objects.for_tenant(tenant_a).get(pk=created.json()["id"])
    assert crypto.decrypt(source.password_encrypted) == password
    refresh = f"/api/v1/sources/{source.pk}/refresh/"
    api.post(refresh, {"password": password}, format="json")
    run = FeedRun.objects.for_tenant(tenant_a).get()
    assert crypto.decrypt(run.one_time_password_encrypted) == password


@pytest.mark.parametrize("password", PASSWORDS_WITH_SPACES)
def test_a_feed_password_set_in_django_admin_keeps_its_spaces(tenant_a, catalog, password):
    from feeds.admin import ProductSourceAdminForm

    source = ProductSourceFactory(catalog=catalog, username="shop")
    data = {**NEW_SOURCE, "tenant": tenant_a.pk, "catalog": catalog.pk, "new_password": password}
    form = ProductSourceAdminForm(data=data, instance=source)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["new_password"] == password


def _schedule_time_refusal(typed: str, *, time_zone: str) -> str:
    """The API's refusal of ``typed`` (feeds.schedule.parse_schedule_time)."""
    with pytest.raises(ValueError) as refused:
        parse_schedule_time(typed, time_zone=time_zone)
    return str(refused.value)


def _schedule_time_posted(client, tenant, catalog, page: str, typed: str):
    """Post a daily source at ``typed`` on the catalog's add form or a source's page."""
    data = {**NEW_SOURCE, "schedule": "daily", "schedule_time": typed}
    if page == "add":
        return client.post(url("catalog_sources", tenant, catalog_id=catalog.pk), data)
    source = ProductSourceFactory(catalog=catalog, schedule="daily", schedule_time=time(6, 0))
    return client.post(url("source_detail", tenant, source_id=source.pk), data)


@pytest.mark.parametrize("page", ["add", "change"])
@pytest.mark.parametrize(
    "typed", ["06:00:30", "06:00:00.5", "06:00+02:00", "06:00Z", "24:00", "6pm"]
)
def test_a_schedule_time_the_api_refuses_is_refused_on_the_source_form_with_its_message(
    client, member, tenant_a, catalog, page, typed
):
    """Crafted posts (the page's time input sends HH:MM): the form took seconds, so a source
    was pulled at 06:00:30 after the API had refused that time."""
    tenant_a.time_zone = "Europe/Paris"
    tenant_a.save()
    client.force_login(member(tenant_a, Role.ADVERTISER))
    response = _schedule_time_posted(client, tenant_a, catalog, page, typed)
    assert response.status_code == 200
    assert response.context["form"].errors["schedule_time"] == [
        _schedule_time_refusal(typed, time_zone="Europe/Paris")
    ]
    assert not ProductSource.objects.exclude(schedule_time=time(6, 0)).exists()


@pytest.mark.parametrize("page", ["add", "change"])
@pytest.mark.parametrize("typed", ["06:30", "06:30:00", "6:30"])
def test_a_schedule_time_the_api_takes_is_taken_on_the_source_form(
    client, member, tenant_a, catalog, page, typed
):
    client.force_login(member(tenant_a, Role.ADVERTISER))
    response = _schedule_time_posted(client, tenant_a, catalog, page, typed)
    assert response.status_code == 302
    assert ProductSource.objects.for_tenant(tenant_a).get().schedule_time == time(6, 30)


def test_a_second_id_column_is_named_as_the_file_names_it():
    """A file with an "id" and a "sku" column was told "column “sku” appears twice": it
    has one sku column. The warning says the product id is in two columns, and which
    headers name it."""
    feed = io.BytesIO(b"id,sku,title,price\nA1,V-1,Cap,3 USD\n")
    errors = [e for _rows, errs in parse_feed(feed) for e in errs]
    [warning] = [e for e in errors if e.field == "sku"]
    assert warning.severity == "warning"
    assert warning.message.startswith("the product id is in more than one column")
    assert "id, sku, sku_id" in warning.message
    assert "twice" not in warning.message
