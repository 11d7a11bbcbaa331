"""check_ecr, run_review, the periodic tasks and the demo."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from catalogs.models import Product, ReviewStatus
from ecr import tasks
from ecr.models import CatalogEcrState, EcrEvent, ReviewSettings
from ecr.tests.factories import CatalogFactory, PendingProductFactory

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_check_ecr_prints_ratio_thresholds_state(tenant_a):
    catalog = CatalogFactory(tenant=tenant_a, name="Main")
    PendingProductFactory.create_batch(
        14, catalog=catalog, tenant=tenant_a, review_status="available"
    )
    PendingProductFactory.create_batch(
        6, catalog=catalog, tenant=tenant_a, review_status="unavailable"
    )
    out = run("check_ecr", "--catalog", str(catalog.pk))
    assert "Main" in out and "70.0%" in out and "80%" in out and "90%" in out
    assert "DISABLED (changed)" in out
    assert EcrEvent.objects.for_tenant(tenant_a).count() == 1


def test_check_ecr_unknown_catalog():
    with pytest.raises(CommandError):
        run("check_ecr", "--catalog", "999999")


def test_run_review_drains_queue_in_cycles(tenant_a):
    catalog = CatalogFactory(tenant=tenant_a)
    CatalogEcrState.objects.create(tenant=tenant_a, catalog=catalog, enabled=False)
    PendingProductFactory.create_batch(25, catalog=catalog, tenant=tenant_a)
    out = run("run_review", "--catalog", str(catalog.pk), "--capacity", "10")
    assert "reviewed 25" in out
    assert not Product.objects.for_tenant(tenant_a).filter(review_status="pending").exists()
    assert "ECR enabled" in out  # 25/25 Available turns it back on


def test_periodic_queue_drain_respects_capacity(tenant_a, tenant_b):
    settings = ReviewSettings.current()
    settings.standard_queue_capacity = 4
    settings.save()
    for tenant in (tenant_a, tenant_b):
        catalog = CatalogFactory(tenant=tenant)
        CatalogEcrState.objects.create(tenant=tenant, catalog=catalog, enabled=False)
        PendingProductFactory.create_batch(6, catalog=catalog, tenant=tenant)
    assert tasks.review_queue_drain() == 8
    assert Product.objects.filter(review_status=ReviewStatus.PENDING).count() == 4
    assert tasks.review_queue_drain() == 4
    assert tasks.review_queue_drain() == 0  # idempotent once drained


def test_periodic_check_and_catalog_task(tenant_a):
    catalog = CatalogFactory(tenant=tenant_a)
    PendingProductFactory.create_batch(20, catalog=catalog, tenant=tenant_a, price=Decimal("0"))
    assert tasks.review_catalog(tenant_id=tenant_a.pk, catalog_id=catalog.pk) == 20
    assert tasks.check_all() >= 1
    assert tasks.review_catalog(tenant_id=tenant_a.pk, catalog_id=0) == 0


def test_demo_seed_is_idempotent(tenant_a, tenant_b):
    from catalogs.demo import seed_demo as catalogs_seed
    from ecr.demo import seed_demo

    out = io.StringIO()
    catalogs_seed(tenants=[tenant_a, tenant_b], stdout=out, products_per_catalog=60)
    seed_demo(tenants=[tenant_a, tenant_b], stdout=out)
    states = {
        s.catalog.name: s.enabled
        for s in CatalogEcrState.objects.for_tenant(tenant_a).select_related("catalog")
    }
    assert list(states.values()).count(False) == 1 and list(states.values()).count(True) == 1
    events = EcrEvent.objects.for_tenant(tenant_a).count()
    seed_demo(tenants=[tenant_a, tenant_b], stdout=out)
    assert EcrEvent.objects.for_tenant(tenant_a).count() == events
    assert "already reviewed" in out.getvalue()


def test_demo_activity_tells_the_ecr_changes_its_history_shows(tenant_a):
    """The members page's Recent activity and the ECR tab tell one story: the demo moves its
    ECR event back to the day the share fell below the threshold, and the audit entry of
    that change with it (time, share)."""
    from catalog_health.tenancy.models import AuditEvent
    from catalogs.demo import seed_demo as catalogs_seed
    from ecr.demo import seed_demo

    out = io.StringIO()
    catalogs_seed(tenants=[tenant_a], stdout=out, products_per_catalog=60)
    seed_demo(tenants=[tenant_a], stdout=out)
    events = list(EcrEvent.objects.for_tenant(tenant_a).order_by("created_at"))
    entries = list(
        AuditEvent.objects.filter(
            tenant=tenant_a, action__in=("ecr.disabled", "ecr.enabled")
        ).order_by("created_at")
    )
    assert events and len(entries) == len(events)
    for event, entry in zip(events, entries, strict=True):
        assert entry.action == ("ecr.enabled" if event.enabled else "ecr.disabled")
        assert entry.target_id == str(event.catalog_id)
        assert entry.created_at == event.created_at
        assert entry.changes["ratio"] == event.ratio


def test_admin_threshold_changes_are_audited(client, user_factory, tenant_a):
    from catalog_health.tenancy.models import AuditEvent

    staff = user_factory("staffer", is_staff=True, is_superuser=True)
    client.force_login(staff)
    settings = ReviewSettings.current()
    response = client.post(
        f"/admin/ecr/reviewsettings/{settings.pk}/change/",
        {
            "disable_threshold": "0.750",
            "enable_threshold": "0.850",
            "min_products": 20,
            "standard_queue_capacity": 500,
            "title_max_length": 150,
            "description_max_length": 5000,
            "caps_min_letters": 8,
        },
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="ecr.settings_changed")
    assert event.actor == staff
    assert event.changes["disable_threshold"] == ["0.800", "0.750"]
    bad = client.post(
        f"/admin/ecr/reviewsettings/{settings.pk}/change/",
        {
            "disable_threshold": "0.9",
            "enable_threshold": "0.8",
            "min_products": 20,
            "standard_queue_capacity": 500,
            "title_max_length": 150,
            "description_max_length": 5000,
            "caps_min_letters": 8,
        },
    )
    assert bad.status_code == 200 and "hysteresis" in bad.content.decode()


def test_admin_check_now_applies_a_new_override_at_once(client, user_factory, tenant_a):
    """Staff raise a catalog's disable threshold, then run "Check ECR now" on it: ECR turns
    off right away (an Operator event), not at the next periodic check."""
    catalog = CatalogFactory(tenant=tenant_a, name="Main")
    PendingProductFactory.create_batch(
        17, catalog=catalog, tenant=tenant_a, review_status="available"
    )
    PendingProductFactory.create_batch(
        3, catalog=catalog, tenant=tenant_a, review_status="unavailable"
    )
    state = CatalogEcrState.objects.create(tenant=tenant_a, catalog=catalog, enabled=True)
    state.disable_threshold_override = Decimal("0.900")
    state.enable_threshold_override = Decimal("0.950")
    state.save()
    client.force_login(user_factory("staffer", is_staff=True, is_superuser=True))
    response = client.post(
        "/admin/ecr/catalogecrstate/",
        {"action": "check_now", "_selected_action": [state.pk]},
        follow=True,
    )
    assert "Checked 1 catalog(s); ECR turned on or off for 1." in response.content.decode()
    state.refresh_from_db()
    assert state.enabled is False  # 85 % Available < 90 %
    event = EcrEvent.objects.for_tenant(tenant_a).get()
    assert event.trigger == "manual"
