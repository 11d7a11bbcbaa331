"""A tenant's time zone changed in Django admin moves its scheduled pulls: a source pulled
daily or weekly at a local HH:MM (or hourly at a local minute) is next pulled at that same
local time in the new zone, not at the instant the old zone's HH:MM fell on. The change is
audited with the staff member; other tenants' sources are left alone."""

from __future__ import annotations

import zoneinfo
from datetime import time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog_health.tenancy.models import AuditEvent, Tenant
from feeds import services
from feeds.models import ProductSource, Schedule, SourceKind
from feeds.tests.factories import ProductSourceFactory

pytestmark = pytest.mark.django_db

NEW_ZONE = "Asia/Kolkata"  # UTC+05:30: an hourly pull's minute moves too


def _tenant_form(tenant: Tenant, **changes) -> dict:
    return {
        "name": tenant.name,
        "slug": tenant.slug,
        "time_zone": tenant.time_zone,
        "currency": tenant.currency,
        "date_order": tenant.date_order,
        "memberships-TOTAL_FORMS": 0,
        "memberships-INITIAL_FORMS": 0,
        **changes,
    }


def _source(tenant: Tenant, **fields) -> ProductSource:
    """A source saved through the service, so its next pull is the service's."""
    source = ProductSourceFactory(catalog__tenant=tenant, schedule=Schedule.MANUAL)
    return services.source_update(tenant=tenant, source=source, actor=None, data=fields)


def _local(source: ProductSource, zone: str):
    source.refresh_from_db()
    return source.next_pull_at.astimezone(zoneinfo.ZoneInfo(zone))


def test_a_time_zone_changed_in_admin_moves_every_scheduled_pull_to_the_new_zone(
    admin_client, tenant_a, tenant_b
):
    daily = _source(tenant_a, schedule=Schedule.DAILY, schedule_time=time(6, 0))
    weekly = _source(
        tenant_a, schedule=Schedule.WEEKLY, schedule_time=time(9, 30), schedule_weekday=0
    )
    hourly = _source(tenant_a, schedule=Schedule.HOURLY, schedule_time=time(0, 15))
    manual = _source(tenant_a, schedule=Schedule.MANUAL)
    disabled = _source(tenant_a, schedule=Schedule.DAILY, schedule_time=time(6, 0), enabled=False)
    upload = _source(tenant_a, kind=SourceKind.UPLOAD, schedule=Schedule.DAILY)
    others = _source(tenant_b, schedule=Schedule.DAILY, schedule_time=time(6, 0))
    others_before = others.next_pull_at
    assert _local(daily, "UTC").time() == time(6, 0)  # the old zone's 06:00

    before = timezone.now()
    url = reverse("admin:tenancy_tenant_change", args=[tenant_a.pk])
    response = admin_client.post(url, _tenant_form(tenant_a, time_zone=NEW_ZONE))
    assert response.status_code == 302, response.content[:2000]
    tenant_a.refresh_from_db()
    assert tenant_a.time_zone == NEW_ZONE

    at = _local(daily, NEW_ZONE)
    assert at.time() == time(6, 0)
    assert before < at <= before + timedelta(days=1)
    at = _local(weekly, NEW_ZONE)
    assert (at.weekday(), at.time()) == (0, time(9, 30))
    assert before < at <= before + timedelta(days=7)
    at = _local(hourly, NEW_ZONE)
    assert at.minute == 15
    assert before < at <= before + timedelta(hours=1)
    for source in (manual, disabled, upload):
        source.refresh_from_db()
        assert source.next_pull_at is None
    others.refresh_from_db()
    assert others.next_pull_at == others_before

    event = AuditEvent.objects.get(action="tenant.settings_changed")
    assert event.tenant_id == tenant_a.pk
    assert event.changes["time_zone"] == ["UTC", NEW_ZONE]
    assert event.actor.username == "admin"


def test_a_tenant_saved_in_admin_with_its_time_zone_unchanged_keeps_its_pulls(
    admin_client, tenant_a
):
    daily = _source(tenant_a, schedule=Schedule.DAILY, schedule_time=time(6, 0))
    before = daily.next_pull_at
    url = reverse("admin:tenancy_tenant_change", args=[tenant_a.pk])
    assert admin_client.post(url, _tenant_form(tenant_a, name="Renamed")).status_code == 302
    daily.refresh_from_db()
    assert daily.next_pull_at == before
    assert not AuditEvent.objects.filter(action="tenant.settings_changed").exists()


def _settings_url(tenant: Tenant) -> str:
    return reverse("tenancy:tenant_settings", kwargs={"tenant_slug": tenant.slug})


def test_an_owner_changes_the_time_zone_on_the_settings_page(client, member, tenant_a):
    from catalog_health.tenancy.roles import Role

    daily = _source(tenant_a, schedule=Schedule.DAILY, schedule_time=time(6, 0))
    client.force_login(member(tenant_a, Role.OWNER))
    page = client.get(_settings_url(tenant_a)).content.decode()
    assert f'<option value="{NEW_ZONE}"' in page
    done = client.post(_settings_url(tenant_a), {"time_zone": NEW_ZONE}, follow=True)
    assert f"Time zone is now {NEW_ZONE}" in done.content.decode()
    tenant_a.refresh_from_db()
    assert tenant_a.time_zone == NEW_ZONE
    assert _local(daily, NEW_ZONE).time() == time(6, 0)
    event = AuditEvent.objects.get(action="tenant.settings_changed")
    assert event.changes == {"time_zone": ["UTC", NEW_ZONE]}


@pytest.mark.parametrize("role", ["seller", "advertiser", "viewer"])
def test_only_owners_and_admins_change_the_time_zone(client, member, tenant_a, role):
    client.force_login(member(tenant_a, role))
    page = client.get(_settings_url(tenant_a)).content.decode()
    assert 'name="time_zone"' not in page
    answer = client.post(_settings_url(tenant_a), {"time_zone": NEW_ZONE})
    assert answer.status_code == 403
    tenant_a.refresh_from_db()
    assert tenant_a.time_zone == "UTC"


def test_a_zone_that_does_not_exist_is_refused_on_the_page(client, member, tenant_a):
    from catalog_health.tenancy.roles import Role

    client.force_login(member(tenant_a, Role.ADMIN))
    page = client.post(_settings_url(tenant_a), {"time_zone": "Mars/Olympus"})
    assert page.status_code == 200
    assert "Mars/Olympus" in page.content.decode()
    tenant_a.refresh_from_db()
    assert tenant_a.time_zone == "UTC"


def test_a_seller_still_saves_the_date_order(client, member, tenant_a):
    client.force_login(member(tenant_a, "seller"))
    client.post(_settings_url(tenant_a), {"date_order": "dmy"})
    tenant_a.refresh_from_db()
    assert (tenant_a.date_order, tenant_a.time_zone) == ("dmy", "UTC")
