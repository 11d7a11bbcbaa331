"""Django admin edits product sources through the feeds services: a save there (the change
form, the list's editable columns, the add form) or a delete behaves like the same edit on
the source's page or over the API, and what the services refuse is shown on the form."""

from __future__ import annotations

import os
import re
from datetime import time, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import formats, timezone

from catalog_health.tenancy.models import AuditEvent
from feeds import services
from feeds.models import FeedRun, ProductSource
from feeds.schedule import parse_schedule_time
from feeds.tests.factories import FeedRunFactory, ProductSourceFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("admin:feeds_productsource_changelist")


def _change_url(source) -> str:
    return reverse("admin:feeds_productsource_change", args=[source.pk])


def _hh_mm(value: time | None) -> str:
    return value.strftime("%H:%M") if value else ""


def _weekday(value: int | None) -> str:
    return "" if value is None else str(value)


def _change_form(source: ProductSource, **changes) -> dict:
    """The change form as admin renders it for ``source``, with ``changes`` typed in
    (enabled=True/False ticks or clears the box)."""
    data = {
        "tenant": source.tenant_id,
        "catalog": source.catalog_id,
        "name": source.name,
        "kind": source.kind,
        "url": source.url,
        "username": source.username,
        "format": source.format,
        "compression": source.compression,
        "encoding": source.encoding,
        "mode": source.mode,
        "schedule": source.schedule,
        "schedule_time": _hh_mm(source.schedule_time),
        "schedule_weekday": _weekday(source.schedule_weekday),
        "enabled": source.enabled,
        "new_password": "",
        **changes,
    }
    enabled = data.pop("enabled")
    return {**data, **({"enabled": "on"} if enabled else {})}


def _list_edit(admin_client, source: ProductSource, **changes):
    """Save the list's editable columns of ``source``'s row with ``changes``."""
    row = {
        "id": source.pk,
        "schedule": source.schedule,
        "schedule_time": _hh_mm(source.schedule_time),
        "schedule_weekday": _weekday(source.schedule_weekday),
        "enabled": source.enabled,
        **changes,
    }
    enabled = row.pop("enabled")
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
        "_save": "Save",
        **{f"form-0-{field}": value for field, value in row.items()},
        **({"form-0-enabled": "on"} if enabled else {}),
    }
    return admin_client.post(LIST_URL, data)


def _disabled_daily(catalog) -> ProductSource:
    return ProductSourceFactory(
        catalog=catalog, schedule="daily", schedule_time=time(6, 0), enabled=False
    )


def test_a_source_enabled_again_on_the_admin_form_is_pulled_again(admin_client, catalog):
    source = _disabled_daily(catalog)
    assert source.next_pull_at is None
    response = admin_client.post(_change_url(source), _change_form(source, enabled=True))
    assert response.status_code == 302
    source.refresh_from_db()
    now = timezone.now()
    assert source.enabled
    assert now < source.next_pull_at <= now + timedelta(days=1)
    event = AuditEvent.objects.get(action="feed_source.updated")
    assert event.changes == {"enabled": [False, True]}
    assert event.actor.username == "admin"


def test_a_source_enabled_again_in_the_admin_list_is_pulled_again(admin_client, catalog):
    source = _disabled_daily(catalog)
    response = _list_edit(admin_client, source, enabled=True)
    assert response.status_code == 302
    source.refresh_from_db()
    assert source.next_pull_at is not None


def test_weekly_made_hourly_in_the_admin_list_is_pulled_within_the_hour(admin_client, catalog):
    source = services.source_create(
        tenant=catalog.tenant,
        catalog=catalog,
        actor=None,
        data={
            "name": "Weekly",
            "url": "https://shop.example.com/feed.csv",
            "schedule": "weekly",
            "schedule_time": time(6, 0),
            "schedule_weekday": (timezone.now().weekday() + 3) % 7,
        },
    )
    assert source.next_pull_at > timezone.now() + timedelta(days=2)
    response = _list_edit(
        admin_client, source, schedule="hourly", schedule_time="", schedule_weekday=""
    )
    assert response.status_code == 302
    source.refresh_from_db()
    assert source.next_pull_at <= timezone.now() + timedelta(hours=1)


def test_a_schedule_changed_on_the_admin_form_is_pulled_on_the_new_one(admin_client, catalog):
    source = _disabled_daily(catalog)
    form = _change_form(source, enabled=True, schedule="hourly", schedule_time="")
    assert admin_client.post(_change_url(source), form).status_code == 302
    source.refresh_from_db()
    assert source.next_pull_at <= timezone.now() + timedelta(hours=1)


def test_a_new_url_set_in_admin_forgets_the_old_feeds_validators(admin_client, catalog):
    source = ProductSourceFactory(
        catalog=catalog,
        url="sftp://shop@old.example.com/feed.csv",
        last_etag='"abc"',
        last_modified="Mon, 01 Jun 2026 06:00:00 GMT",
        last_sha256="0" * 64,
        host_key_type="ssh-ed25519",
        host_key_fingerprint="SHA256:old",
    )
    form = _change_form(source, url="sftp://shop@new.example.com/feed.csv")
    assert admin_client.post(_change_url(source), form).status_code == 302
    source.refresh_from_db()
    assert source.url == "sftp://shop@new.example.com/feed.csv"
    assert (source.last_etag, source.last_modified, source.last_sha256) == ("", "", "")
    assert (source.host_key_type, source.host_key_fingerprint) == ("", "")


def test_a_weekly_schedule_without_its_day_is_refused_on_the_admin_form(admin_client, catalog):
    source = _disabled_daily(catalog)
    form = _change_form(source, enabled=True, schedule="weekly")
    response = admin_client.post(_change_url(source), form)
    assert response.status_code == 200  # the form again, not a server error
    assert response.context["adminform"].form.errors["schedule_weekday"] == [
        "Say on which day of the week the feed is pulled."
    ]
    source.refresh_from_db()
    assert (source.schedule, source.enabled, source.next_pull_at) == ("daily", False, None)


def test_a_loopback_feed_url_is_refused_on_the_admin_form(admin_client, catalog):
    source = ProductSourceFactory(catalog=catalog)
    form = _change_form(source, url="http://127.0.0.1/feed.csv")
    response = admin_client.post(_change_url(source), form)
    assert response.status_code == 200
    assert "url" in response.context["adminform"].form.errors
    source.refresh_from_db()
    assert source.url == "https://feeds.example.com/products.csv"


def test_a_name_the_catalog_has_already_is_refused_on_the_admin_form(admin_client, catalog):
    ProductSourceFactory(catalog=catalog, name="Main")
    source = ProductSourceFactory(catalog=catalog, name="Second")
    response = admin_client.post(_change_url(source), _change_form(source, name="Main"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["name"] == [
        "This catalog already has a source of that name."
    ]


def test_a_weekly_schedule_without_its_day_is_refused_in_the_admin_list(admin_client, catalog):
    source = _disabled_daily(catalog)
    response = _list_edit(admin_client, source, enabled=True, schedule="weekly")
    assert response.status_code == 200
    assert response.context["cl"].formset.errors == [
        {"schedule_weekday": ["Say on which day of the week the feed is pulled."]}
    ]
    source.refresh_from_db()
    assert (source.schedule, source.enabled, source.next_pull_at) == ("daily", False, None)


def test_a_source_added_in_admin_is_scheduled_in_its_catalogs_tenant(admin_client, catalog):
    form = _change_form(
        ProductSource(
            catalog=catalog, tenant=catalog.tenant, name="Added", url="https://a.example/f.csv"
        ),
        schedule="daily",
        schedule_time="06:00",
    )
    response = admin_client.post(reverse("admin:feeds_productsource_add"), form)
    assert response.status_code == 302
    source = ProductSource.objects.for_tenant(catalog.tenant).get(name="Added")
    assert source.next_pull_at is not None
    assert AuditEvent.objects.filter(action="feed_source.created", target_id=str(source.pk))


def _schedule_time_refusal(typed: str, *, time_zone: str) -> str:
    """The API's refusal of ``typed`` (feeds.schedule.parse_schedule_time)."""
    with pytest.raises(ValueError) as refused:
        parse_schedule_time(typed, time_zone=time_zone)
    return str(refused.value)


def _schedule_time_errors(admin_client, catalog, entry: str, typed: str) -> list[str]:
    """Post ``typed`` as a daily source's schedule time on one of admin's entries (the add
    form, the change form, the list's columns); the errors shown at it."""
    if entry == "add":
        added = ProductSource(
            catalog=catalog, tenant=catalog.tenant, name="Added", url="https://a.example/f.csv"
        )
        form = _change_form(added, schedule="daily", schedule_time=typed)
        response = admin_client.post(reverse("admin:feeds_productsource_add"), form)
    elif entry == "change":
        source = _disabled_daily(catalog)
        response = admin_client.post(_change_url(source), _change_form(source, schedule_time=typed))
    else:
        response = _list_edit(admin_client, _disabled_daily(catalog), schedule_time=typed)
    if response.status_code == 302:
        return []
    errors = (
        response.context["cl"].formset.errors[0]
        if entry == "list"
        else response.context["adminform"].form.errors
    )
    return errors.get("schedule_time", [])


ADMIN_ENTRIES = ["add", "change", "list"]


@pytest.mark.parametrize("entry", ADMIN_ENTRIES)
@pytest.mark.parametrize(
    "typed", ["06:00:30", "06:00:00.5", "06:00+02:00", "06:00Z", "24:00", "6pm"]
)
def test_a_schedule_time_the_api_refuses_is_refused_in_admin_with_its_message(
    admin_client, catalog, entry, typed
):
    """Crafted posts: admin's time field took seconds, so a source was pulled at 06:00:30
    after the API had refused that time."""
    catalog.tenant.time_zone = "Europe/Paris"
    catalog.tenant.save()
    errors = _schedule_time_errors(admin_client, catalog, entry, typed)
    assert errors == [_schedule_time_refusal(typed, time_zone="Europe/Paris")]
    assert not ProductSource.objects.exclude(schedule_time=time(6, 0)).exists()


@pytest.mark.parametrize("entry", ADMIN_ENTRIES)
@pytest.mark.parametrize("typed", ["06:30", "06:30:00", "6:30"])
def test_a_schedule_time_the_api_takes_is_taken_in_admin(admin_client, catalog, entry, typed):
    assert _schedule_time_errors(admin_client, catalog, entry, typed) == []
    assert ProductSource.objects.get().schedule_time == time(6, 30)


@pytest.mark.parametrize("page", ["add", "change", "list"])
def test_admin_asks_for_the_schedule_time_in_whole_minutes(admin_client, catalog, page):
    """A minute-step time input: admin's own time widget added a "Now" shortcut that wrote
    the seconds, which the field then refused."""
    source = ProductSourceFactory(catalog=catalog, schedule="daily", schedule_time=time(6, 0))
    url = {
        "add": reverse("admin:feeds_productsource_add"),
        "change": _change_url(source),
        "list": LIST_URL,
    }[page]
    html = admin_client.get(url).content.decode()
    inputs = re.findall(r"<input[^>]*name=\"[^\"]*schedule_time\"[^>]*>", html)
    assert inputs
    for tag in inputs:
        assert 'type="time"' in tag and 'step="60"' in tag and "vTimeField" not in tag
    if page != "add":
        assert 'value="06:00"' in inputs[0]


def _upload_source_with_a_queued_run(catalog) -> tuple[ProductSource, FeedRun]:
    source = ProductSourceFactory(catalog=catalog, kind="upload")
    run, _ = services.feed_run_upload(
        tenant=catalog.tenant,
        source=source,
        actor=None,
        uploaded=SimpleUploadedFile("feed.csv", b"id,title,price\n1,Hat,5 USD\n"),
    )
    assert os.path.exists(run.file_path)
    return source, run


def test_a_source_deleted_in_admin_takes_its_queued_uploads_file(
    admin_client, catalog, django_capture_on_commit_callbacks
):
    source, run = _upload_source_with_a_queued_run(catalog)
    delete_url = reverse("admin:feeds_productsource_delete", args=[source.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(delete_url, {"post": "yes"})
    assert response.status_code == 302
    assert not ProductSource.objects.filter(pk=source.pk).exists()
    assert not os.path.exists(run.file_path)
    assert AuditEvent.objects.filter(action="feed_source.deleted", target_id=str(source.pk))


def test_sources_deleted_from_the_admin_list_take_their_queued_uploads_files(
    admin_client, catalog, django_capture_on_commit_callbacks
):
    source, run = _upload_source_with_a_queued_run(catalog)
    action = {"action": "delete_selected", "_selected_action": [source.pk], "post": "yes"}
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(LIST_URL, action)
    assert response.status_code == 302
    assert not ProductSource.objects.filter(pk=source.pk).exists()
    assert not os.path.exists(run.file_path)


def test_a_held_run_is_discarded_in_admin_through_the_service(admin_client, catalog):
    """As with Discard on the run's page: its staging table goes and the trail says who."""
    run = FeedRunFactory(source=ProductSourceFactory(catalog=catalog), status="needs_confirmation")
    with connection.cursor() as cur:
        cur.execute(f'CREATE TABLE "{run.stage_table}" (sku text)')
    action = {"action": "discard", "_selected_action": [run.pk]}
    response = admin_client.post(reverse("admin:feeds_feedrun_changelist"), action)
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == "cancelled"
    assert run.stage_table not in connection.introspection.table_names()
    event = AuditEvent.objects.get(action="feed_run.cancelled")
    assert (event.target_id, event.actor.username) == (str(run.pk), "admin")


def test_staff_who_may_only_view_sources_cannot_forget_a_host_key(
    client, django_user_model, catalog
):
    from django.contrib.auth.models import Permission

    source = ProductSourceFactory(catalog=catalog, host_key_fingerprint="SHA256:abc")
    viewer = django_user_model.objects.create_user("auditor", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_productsource"))
    client.force_login(viewer)
    client.post(LIST_URL, {"action": "forget_host_key", "_selected_action": [source.pk]})
    source.refresh_from_db()
    assert source.host_key_fingerprint == "SHA256:abc"


def test_staff_who_may_only_view_runs_cannot_discard_one(client, django_user_model, catalog):
    from django.contrib.auth.models import Permission

    viewer = django_user_model.objects.create_user("auditor", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_feedrun"))
    client.force_login(viewer)
    run = FeedRunFactory(source=ProductSourceFactory(catalog=catalog), status="needs_confirmation")
    action = {"action": "discard", "_selected_action": [run.pk]}
    client.post(reverse("admin:feeds_feedrun_changelist"), action)
    run.refresh_from_db()
    assert run.status == "needs_confirmation"


@pytest.mark.parametrize("status", ["needs_confirmation", "running"])
def test_a_runs_fate_is_not_edited_by_hand_in_admin(admin_client, catalog, status):
    """Discarding, confirming and failing a run go through services (the staging table
    dropped, the source's fence raised so a live worker cannot apply, the trail written)."""
    run = FeedRunFactory(source=ProductSourceFactory(catalog=catalog), status=status)
    change = reverse("admin:feeds_feedrun_change", args=[run.pk])
    assert admin_client.get(change).status_code == 200  # shown, read-only
    form = {"status": "cancelled", "phase": "done", "trigger": run.trigger, "mode": run.mode}
    assert admin_client.post(change, form).status_code == 403
    run.refresh_from_db()
    assert run.status == status


def test_a_runs_admin_page_shows_when_it_was_confirmed(admin_client, tenant_a):
    """The confirmation is its own field: staff see it also when the confirming account
    is gone (confirmed_by empty)."""
    confirmed = timezone.now() - timedelta(minutes=5)
    run = FeedRunFactory(source__catalog__tenant=tenant_a, confirmed_at=confirmed)
    page = admin_client.get(reverse("admin:feeds_feedrun_change", args=[run.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Confirmed at" in body
    # as admin shows a date (en-us: "Dec. 7, 2026, 1:13 p.m."), whatever the time of day
    assert formats.localize(timezone.template_localtime(confirmed)) in body


def test_admin_shows_a_schedule_time_as_hh_mm_as_it_asks_for_it(admin_client, catalog):
    # the field's help says HH:MM and seconds are refused: the form shows none either
    source = _disabled_daily(catalog)
    for url in (_change_url(source), LIST_URL + f"?q={source.name}"):
        page = admin_client.get(url).content.decode()
        values = re.findall(r'name="(?:form-0-)?schedule_time"[^>]*value="([^"]*)"', page)
        values += re.findall(r'value="([^"]*)"[^>]*name="(?:form-0-)?schedule_time"', page)
        assert values == ["06:00"], url
