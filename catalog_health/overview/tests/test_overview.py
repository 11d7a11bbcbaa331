"""The tenant overview: one row per catalog, right figures, a fixed number of queries."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog_health.overview.selectors import freshness
from catalog_health.tenancy.roles import Role
from catalogs.models import ReviewStatus
from catalogs.tests.factories import CatalogFactory, ProductFactory
from ecr.tests.factories import EcrStateFactory
from feeds.tests.factories import ProductSourceFactory
from flagged.scoring import FlagStatus
from flagged.tests.factories import FlagStateFactory

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
DAY = timedelta(hours=24)


@pytest.mark.parametrize(
    ("sources", "enabled", "last", "expected"),
    [
        (0, 0, None, (False, False)),  # no source: nothing to be stale about
        (1, 1, None, (True, False)),  # never pulled
        (1, 1, NOW - timedelta(hours=2), (False, False)),
        (1, 1, NOW - DAY - timedelta(seconds=1), (True, False)),
        (1, 1, NOW - DAY, (False, False)),  # exactly at the limit is still fresh
        (2, 0, NOW - timedelta(hours=2), (False, True)),  # all sources off
    ],
)
def test_freshness(sources, enabled, last, expected):
    got = freshness(sources=sources, enabled=enabled, last=last, now=NOW, limit=DAY)
    assert got == expected


def _catalog(tenant, name, *, flagged=(FlagStatus.IMPACTED, FlagStatus.AT_RISK)):
    catalog = CatalogFactory(tenant=tenant, name=name)
    ok = ProductFactory(catalog=catalog, review_status=ReviewStatus.AVAILABLE)
    ProductFactory(catalog=catalog, review_status=ReviewStatus.UNAVAILABLE)
    ProductFactory(catalog=catalog, review_status=ReviewStatus.AVAILABLE)
    ProductFactory(catalog=catalog, review_status=ReviewStatus.PENDING)
    for status in flagged:
        FlagStateFactory(product=ProductFactory(catalog=catalog), status=status)
    FlagStateFactory(product=ok, status=FlagStatus.RESOLVED)
    EcrStateFactory(catalog=catalog, enabled=False, evaluated_at=timezone.now())
    ProductSourceFactory(catalog=catalog, last_success_at=timezone.now())
    return catalog


def _queries(client, tenant) -> int:
    url = reverse("overview:home", kwargs={"tenant_slug": tenant.slug})
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_fixed_number_of_queries_at_1_and_10_catalogs(client_for, member, tenant_a):
    client = client_for(member(tenant_a, Role.VIEWER))
    _queries(client, tenant_a)  # the session's first request writes more than the page reads
    _catalog(tenant_a, "Shop 0")
    one = _queries(client, tenant_a)
    for i in range(1, 10):
        _catalog(tenant_a, f"Shop {i}")
    assert _queries(client, tenant_a) == one


def test_rows_count_each_catalog_and_only_this_tenant(client_for, member, tenant_a, tenant_b):
    client = client_for(member(tenant_a, Role.SELLER))
    shop = _catalog(tenant_a, "Shop", flagged=(FlagStatus.IMPACTED, FlagStatus.IMPACTED))
    CatalogFactory(tenant=tenant_a, name="Empty")
    _catalog(tenant_b, "Other tenant's shop")
    response = client.get(reverse("overview:home", kwargs={"tenant_slug": tenant_a.slug}))
    rows = {r.catalog.name: r for r in response.context["rows"]}
    assert set(rows) == {"Shop", "Empty"}
    row = rows["Shop"]
    # 4 reviewed products and 2 flagged (pending) ones, the flagged one Resolved not counted
    assert (row.products, row.available) == (6, 2)
    assert (row.impacted, row.at_risk) == (2, 0)
    assert row.ecr_enabled is False and not row.stale
    empty = rows["Empty"]
    assert (empty.products, empty.impacted, empty.ecr_enabled, empty.sources) == (0, 0, None, 0)
    assert empty.available_share is None
    body = response.content.decode()
    assert f"status=impacted&amp;catalog={shop.pk}" in body
    assert "Other tenant" not in body


def test_the_tenant_home_is_the_overview(settings):
    """tenancy.views.home redirects to settings.TENANT_HOME_URL_NAME (the tenancy core names
    no app); the project points it at the overview."""
    assert settings.TENANT_HOME_URL_NAME == "overview:home"
    assert reverse(settings.TENANT_HOME_URL_NAME, kwargs={"tenant_slug": "x"}) == "/t/x/overview/"
