"""The digest arrives in each tenant's own morning (07:00 in its time zone, not 07:00 UTC for
everyone), once a day, covering everything since the previous one: no gap when a day's run was
missed, no product twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail

from catalog_health.tenancy.roles import Role
from catalogs.tests.factories import CatalogFactory, ProductFactory
from catalogs.tests.order_factories import OrderFactory
from flagged.digest import digests_due_send
from flagged.services import flags_score
from flagged.tasks import send_digests

pytestmark = pytest.mark.django_db


def flag_a_product(tenant, sku: str, at: datetime):
    product = ProductFactory(catalog=CatalogFactory(tenant=tenant), sku=sku)
    for _ in range(10):
        OrderFactory(product=product, ship_by=at - timedelta(days=1), shipped_at=None)
    flags_score(tenant=tenant, now=at)


def sent_to(tenant) -> list[str]:
    return [m.subject for m in mail.outbox if m.subject.endswith(tenant.name)]


@pytest.fixture
def tokyo(tenant_a, member):
    tenant_a.time_zone = "Asia/Tokyo"  # UTC+9
    tenant_a.save()
    member(tenant_a, Role.SELLER)
    return tenant_a


@pytest.fixture
def los_angeles(tenant_b, member):
    tenant_b.time_zone = "America/Los_Angeles"  # UTC-8 in December
    tenant_b.save()
    member(tenant_b, Role.SELLER)
    return tenant_b


def test_each_tenant_gets_it_at_seven_in_its_own_zone(tokyo, los_angeles):
    flag_a_product(tokyo, "JP-1", datetime(2026, 12, 5, 12, tzinfo=UTC))
    flag_a_product(los_angeles, "LA-1", datetime(2026, 12, 5, 12, tzinfo=UTC))
    # 15:00 UTC is 07:00 in Los Angeles and midnight in Tokyo
    assert digests_due_send(now=datetime(2026, 12, 5, 15, 0, tzinfo=UTC)) == 1
    assert len(sent_to(los_angeles)) == 1 and sent_to(tokyo) == []
    # 22:00 UTC is 07:00 in Tokyo (6 December) and 14:00 in Los Angeles, already sent today
    assert digests_due_send(now=datetime(2026, 12, 5, 22, 0, tzinfo=UTC)) == 1
    assert len(sent_to(tokyo)) == 1 and len(sent_to(los_angeles)) == 1


def test_once_a_day_even_when_the_task_runs_again(tokyo):
    flag_a_product(tokyo, "JP-1", datetime(2026, 12, 6, 12, tzinfo=UTC))
    seven = datetime(2026, 12, 6, 22, 0, tzinfo=UTC)
    digests_due_send(now=seven)
    digests_due_send(now=seven + timedelta(minutes=1))  # beat restarted, a second delivery
    digests_due_send(now=seven + timedelta(hours=3))  # later the same local day
    assert len(sent_to(tokyo)) == 1


def test_a_missed_morning_is_caught_up_later_that_day_without_a_gap(tokyo):
    flag_a_product(tokyo, "JP-1", datetime(2026, 12, 5, 12, tzinfo=UTC))
    digests_due_send(now=datetime(2026, 12, 5, 22, 0, tzinfo=UTC))  # 6 Dec, 07:00 Tokyo
    # a product flagged just after that digest; the next morning's run is missed (beat down)
    flag_a_product(tokyo, "JP-2", datetime(2026, 12, 5, 22, 30, tzinfo=UTC))
    assert digests_due_send(now=datetime(2026, 12, 6, 21, 0, tzinfo=UTC)) == 0  # 06:00 Tokyo
    assert digests_due_send(now=datetime(2026, 12, 7, 2, 0, tzinfo=UTC)) == 1  # 11:00, caught up
    first, second = [m.body for m in mail.outbox]
    assert "JP-1" in first and "JP-2" not in first
    assert "JP-2" in second and "JP-1" not in second  # since the last one, nothing twice


def test_the_task_is_hourly_and_sends_the_due_ones(settings, tokyo):
    schedule = settings.CELERY_BEAT_SCHEDULE["flagged-daily-digest"]["schedule"]
    assert schedule.hour == set(range(24)) and schedule.minute == {0}
    assert send_digests.apply().get() == 0  # nothing flagged: nothing to send
