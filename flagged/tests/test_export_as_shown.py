"""The CSV export is the list the seller is looking at: in the order the tab is sorted by, and
named with the date and time on the tenant's clock (a New York shop exporting at 21:00 must
not get a file dated the next day)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog_health.tenancy.roles import Role
from catalogs.tests.factories import CatalogFactory, ProductFactory
from flagged.scoring import FlagStatus, Level

from .factories import FlagStateFactory

pytestmark = pytest.mark.django_db


def export(client, tenant, **params):
    url = reverse("flagged:flagged_export", kwargs={"tenant_slug": tenant.slug})
    response = client.get(url, params)
    body = b"".join(response.streaming_content).decode()
    return response, list(csv.DictReader(io.StringIO(body)))


def tab_skus(client, tenant, **params):
    url = reverse("flagged:flagged_list", kwargs={"tenant_slug": tenant.slug})
    html = client.get(url, params).content.decode()
    return re.findall(r"<code>([A-Z]+-\d)</code>", html)


@pytest.mark.parametrize("sort", ["-since", "since", "severity"])
def test_export_rows_come_in_the_tabs_order(client, member, tenant_a, sort):
    catalog = CatalogFactory(tenant=tenant_a)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    for i, (status, level) in enumerate(
        [
            (FlagStatus.AT_RISK, Level.AT_RISK),
            (FlagStatus.IMPACTED, Level.IMPACTED),
            (FlagStatus.AT_RISK, Level.AT_RISK),
            (FlagStatus.IMPACTED, Level.IMPACTED),
        ]
    ):
        FlagStateFactory(
            product=ProductFactory(catalog=catalog, sku=f"SKU-{i}"),
            status=status,
            worst_level=level,
            status_since=start + timedelta(days=i),
        )
    client.force_login(member(tenant_a, Role.SELLER))

    shown = tab_skus(client, tenant_a, sort=sort)
    assert len(shown) == 4
    _, rows = export(client, tenant_a, sort=sort)
    assert [r["sku"] for r in rows] == shown


def test_export_file_is_named_on_the_tenants_clock(client, member, tenant_a):
    # 14 hours ahead of UTC: the hour, and for most of the day the date, differ from UTC's
    tenant_a.time_zone = "Pacific/Kiritimati"
    tenant_a.save()
    FlagStateFactory(product=ProductFactory(catalog=CatalogFactory(tenant=tenant_a)))
    client.force_login(member(tenant_a, Role.SELLER))

    local = ZoneInfo("Pacific/Kiritimati")
    before = timezone.now()
    response, rows = export(client, tenant_a)
    after = timezone.now()
    assert len(rows) == 1
    stamps = {t.astimezone(local).strftime("%Y%m%d-%H%M") for t in (before, after)}
    names = {f'attachment; filename="flagged-products-{tenant_a.slug}-{s}.csv"' for s in stamps}
    assert response["Content-Disposition"] in names
