"""The impressions trend compares complete days: the last 7 through yesterday with the 7
before. Today is still being counted, so its impressions never move the trend."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog_health.tenancy.roles import Role
from catalogs.tests.factories import CatalogFactory, ProductFactory
from catalogs.tests.order_factories import DailyImpressionFactory
from flagged import selectors
from flagged.charts import DayPoint, impressions_figure

from .factories import FlagStateFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 15)


def impressions(product, per_day: dict[int, int], today: date = TODAY):
    """per_day: days before ``today`` (0 is today) -> impressions."""
    for back, n in per_day.items():
        DailyImpressionFactory(product=product, date=today - timedelta(days=back), impressions=n)


def steady_weeks(today_count: int | None = None) -> dict[int, int]:
    days = {back: 100 for back in range(1, 15)}  # two complete weeks of 100 a day
    if today_count is not None:
        days[0] = today_count
    return days


def test_todays_impressions_do_not_move_the_trend(tenant_a):
    catalog = CatalogFactory(tenant=tenant_a)
    morning, none_yet, busy, only_today = (ProductFactory(catalog=catalog) for _ in range(4))
    impressions(morning, steady_weeks(today_count=12))
    impressions(none_yet, steady_weeks())
    impressions(busy, steady_weeks(today_count=5000))
    impressions(only_today, {0: 800})
    products = [morning, none_yet, busy, only_today]
    trends = selectors.impression_trends(
        tenant=tenant_a, product_ids=[p.pk for p in products], today=TODAY
    )
    assert [trends.get(p.pk) for p in products] == [0.0, 0.0, 0.0, None]


def test_the_weeks_are_the_7_complete_days_and_the_7_before(tenant_a):
    product = ProductFactory(catalog=CatalogFactory(tenant=tenant_a))
    # yesterday and 7 days ago open and close the recent week; 8 and 14 days ago the earlier
    # one; 15 days ago is outside both
    impressions(product, {0: 9999, 1: 30, 7: 30, 8: 40, 14: 40, 15: 9999})
    trends = selectors.impression_trends(tenant=tenant_a, product_ids=[product.pk], today=TODAY)
    assert trends == {product.pk: -25.0}


def test_tab_shows_no_drop_in_the_morning(client, member, tenant_a, monkeypatch):
    """At 09:00 in the tenant's time zone the day has barely started: a product with two equal
    complete weeks reads 0 %, whatever today's few impressions."""
    tenant_a.time_zone = "Europe/Berlin"
    tenant_a.save()
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 3, 15, 8, 0, tzinfo=UTC))
    product = ProductFactory(catalog=CatalogFactory(tenant=tenant_a), sku="STEADY-1")
    FlagStateFactory(product=product)
    impressions(product, steady_weeks(today_count=3))
    client.force_login(member(tenant_a, Role.SELLER))
    response = client.get(reverse("flagged:flagged_list", kwargs={"tenant_slug": tenant_a.slug}))
    assert [r.trend for r in response.context["rows"]] == [0.0]
    assert "through yesterday" in response.content.decode()


def test_graph_calls_todays_point_a_partial_day():
    points = [DayPoint(TODAY - timedelta(days=back), 100, 4) for back in (2, 1, 0)]
    now = datetime(2026, 3, 15, 9, 30, tzinfo=UTC)
    fig = impressions_figure(points, [], until=now)
    line = fig.data[0]
    assert list(line.text) == ["", "", " (today so far)"]
    assert "%{text}" in line.hovertemplate
    yesterday = impressions_figure(points[:2], [], until=now)
    assert list(yesterday.data[0].text) == ["", ""]
