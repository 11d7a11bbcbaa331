"""Manage Orders shows times, and reads the dates of its filters, in the tenant's time zone,
as the upload preview does: an order placed at 23:30 in New York is placed on that day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog_health.tenancy.roles import Role

from .factories import CatalogFactory, ProductFactory
from .order_factories import OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def late_order(tenant_a):
    tenant_a.time_zone = "America/New_York"
    tenant_a.save()
    product = ProductFactory(tenant=tenant_a, catalog=CatalogFactory(tenant=tenant_a))
    placed = datetime(2026, 3, 5, 4, 30, tzinfo=UTC)  # 23:30 on 4 March in New York
    return OrderFactory(
        product=product, order_id="9400001", placed_at=placed, ship_by=placed + timedelta(days=3)
    )


def _orders(client, tenant, **query):
    url = reverse("catalogs:order_list", kwargs={"tenant_slug": tenant.slug})
    return client.get(url, query).content.decode()


def test_order_times_are_the_tenants_local_times(client, member, tenant_a, late_order):
    client.force_login(member(tenant_a, Role.SELLER))
    page = _orders(client, tenant_a, order_id="9400001")
    assert "2026-03-04 23:30" in page
    assert "2026-03-05 04:30" not in page


@pytest.mark.parametrize(("day", "found"), [("2026-03-04", True), ("2026-03-05", False)])
def test_placed_dates_are_the_tenants_days(client, member, tenant_a, late_order, day, found):
    client.force_login(member(tenant_a, Role.SELLER))
    page = _orders(client, tenant_a, date_from=day, date_to=day)
    assert ("9400001" in page) is found


def test_the_next_request_starts_from_utc(client, member, tenant_a, late_order):
    """The zone is the request's: a worker thread does not carry it into the next one."""
    client.force_login(member(tenant_a, Role.SELLER))
    _orders(client, tenant_a)
    assert timezone.get_current_timezone_name() == "UTC"
