"""The tab's export and the details page's graph read times in the tenant's time zone, as
the pages show them (the history table, "since …")."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog_health.tenancy.roles import Role
from catalogs.tests.factories import CatalogFactory, ProductFactory
from catalogs.tests.order_factories import DailyImpressionFactory
from flagged.models import FlagTransition
from flagged.scoring import FlagStatus

from .factories import FlagStateFactory

pytestmark = pytest.mark.django_db

# 02:00 UTC on 1 March is 21:00 on 28 February in New York
CHANGED = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
def product(tenant_a):
    tenant_a.time_zone = "America/New_York"
    tenant_a.save()
    product = ProductFactory(catalog=CatalogFactory(tenant=tenant_a))
    FlagStateFactory(product=product, status_since=CHANGED)
    FlagTransition.objects.create(
        tenant=tenant_a,
        product=product,
        at=CHANGED,
        from_status=FlagStatus.NONE,
        to_status=FlagStatus.IMPACTED,
        policies={},
    )
    return product


def test_export_since_is_the_tenants_local_time(client, member, product):
    client.force_login(member(product.tenant, Role.VIEWER))
    url = reverse("flagged:flagged_export", kwargs={"tenant_slug": product.tenant.slug})
    rows = list(csv.DictReader(io.StringIO(b"".join(client.get(url).streaming_content).decode())))
    assert rows[0]["since"] == "2026-02-28T21:00:00-05:00"


def test_graph_marks_a_change_at_the_local_time_the_history_shows(
    client, member, product, monkeypatch
):
    # the page's "now": the graph shows the 60 days before it
    monkeypatch.setattr(timezone, "now", lambda: CHANGED + timedelta(days=3))
    DailyImpressionFactory(product=product, date=date(2026, 2, 28), impressions=50)
    DailyImpressionFactory(product=product, date=date(2026, 3, 1), impressions=90)
    client.force_login(member(product.tenant, Role.VIEWER))
    url = reverse(
        "flagged:flagged_detail",
        kwargs={"tenant_slug": product.tenant.slug, "product_id": product.pk},
    )
    response = client.get(url)
    assert "2026-02-28 21:00" in response.content.decode()  # the history table
    marker = response.context["figure_json"]["data"][2]
    assert marker["x"] == ["2026-02-28T21:00:00"]
    assert marker["y"] == [50]
