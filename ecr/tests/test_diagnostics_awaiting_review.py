"""Diagnostics counts what its headings promise: an error group counts the Unavailable
products with that error, a warning group the reviewed products with that warning. A
Pending product (changed by a feed run or a seller while ECR is off, waiting in the
standard queue) still carries the issues of its last review, which its change may have
fixed: it is counted apart, as awaiting review, alike on the page, in its drill-down, its
CSV, the trend's issue counts and the API."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from catalogs.models import Product, ReviewStatus
from catalogs.services import product_update
from ecr import selectors, services
from ecr.models import CatalogEcrState
from ecr.tests.factories import CatalogFactory, PendingProductFactory

pytestmark = pytest.mark.django_db

PRICE = "price_not_positive"
CAPS = "policy_all_caps_title"


@pytest.fixture
def catalog(tenant_a, member, django_capture_on_commit_callbacks):
    """20 products, 10 Unavailable (price 0, four of them also titled in capitals): ECR off.
    Then a seller fixes the price of five, two of them titled in capitals: they wait in the
    standard queue with the issues of their last review."""
    catalog = CatalogFactory(tenant=tenant_a, name="Outlet")
    PendingProductFactory.create_batch(10, catalog=catalog, tenant=tenant_a)
    PendingProductFactory.create_batch(6, catalog=catalog, tenant=tenant_a, price=Decimal("0"))
    PendingProductFactory.create_batch(
        4, catalog=catalog, tenant=tenant_a, price=Decimal("0"), title="TRAIL RUNNER SHOE"
    )
    services.review_after_feed_run(tenant=tenant_a, catalog=catalog)
    assert not CatalogEcrState.objects.for_tenant(tenant_a).get(catalog=catalog).enabled
    unavailable = Product.objects.for_tenant(tenant_a).filter(catalog=catalog, price=0)
    fixed = [
        *unavailable.exclude(title="TRAIL RUNNER SHOE").order_by("id")[:3],
        *unavailable.filter(title="TRAIL RUNNER SHOE").order_by("id")[:2],
    ]
    seller = member(tenant_a, "seller")
    with django_capture_on_commit_callbacks(execute=True):
        for product in fixed:
            product_update(
                tenant=tenant_a, product=product, actor=seller, data={"price": Decimal("9")}
            )
    catalog.fixed_ids = {p.pk for p in fixed}
    return catalog


def _diagnostics(tenant, catalog) -> services.CatalogDiagnostics:
    ecr = services.ecr_state_get(tenant=tenant, catalog=catalog)
    return services.catalog_diagnostics(tenant=tenant, catalog=catalog, ecr=ecr)


def _url(name, tenant, catalog) -> str:
    return reverse(f"ecr:{name}", kwargs={"tenant_slug": tenant.slug, "catalog_id": catalog.pk})


def test_groups_count_reviewed_products_and_the_pending_ones_apart(tenant_a, catalog):
    d = _diagnostics(tenant_a, catalog)
    assert (d.counts.available, d.counts.unavailable, d.counts.pending) == (10, 5, 5)
    groups = {g.code: g for g in (*d.error_groups, *d.warning_groups)}
    assert {c: (g.products, g.awaiting_review) for c, g in groups.items()} == {
        PRICE: (5, 5),
        CAPS: (2, 2),
    }
    # an error group never counts more products than are Unavailable
    assert all(g.products <= d.counts.unavailable for g in d.error_groups)
    assert groups[PRICE].share == 5 / 20


@pytest.mark.parametrize(
    ("params", "statuses"),
    [
        ({"code": PRICE, "severity": "error"}, {ReviewStatus.UNAVAILABLE}),
        ({"code": PRICE, "severity": "error", "awaiting": "1"}, {ReviewStatus.PENDING}),
        ({"code": CAPS, "severity": "warning"}, {ReviewStatus.UNAVAILABLE}),
        ({"code": CAPS, "severity": "warning", "awaiting": "1"}, {ReviewStatus.PENDING}),
        ({}, {ReviewStatus.UNAVAILABLE}),
        ({"awaiting": "1"}, {ReviewStatus.PENDING}),
    ],
)
def test_drill_down_and_csv_list_what_the_group_counts(
    client_for, member, tenant_a, catalog, params, statuses
):
    client = client_for(member(tenant_a, "viewer"))
    d = _diagnostics(tenant_a, catalog)
    groups = {g.code: g for g in (*d.error_groups, *d.warning_groups)}
    if "code" in params:
        group = groups[params["code"]]
        expected = group.awaiting_review if "awaiting" in params else group.products
    else:
        expected = d.counts.pending if "awaiting" in params else d.counts.unavailable
    page = client.get(_url("issue_products", tenant_a, catalog), {**params, "size": 200})
    rows = page.context["page"].rows
    assert len(rows) == expected
    assert {p.review_status for p in rows} == statuses
    assert ({p.pk for p in rows} <= catalog.fixed_ids) == ("awaiting" in params)
    response = client.get(_url("diagnostics_export", tenant_a, catalog), params)
    lines = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {int(r["product_id"]) for r in lines} == {p.pk for p in rows}
    assert {r["review_status"] for r in lines} == set(statuses)


def test_page_shows_the_awaiting_products_apart(client_for, member, tenant_a, catalog):
    client = client_for(member(tenant_a, "viewer"))
    text = client.get(_url("catalog_diagnostics", tenant_a, catalog)).content.decode()
    assert "Awaiting review" in text
    drill = _url("issue_products", tenant_a, catalog)
    assert f"{drill}?code={PRICE}&amp;severity=error&amp;awaiting=1" in text


def test_api_gives_the_page_numbers(api_client_for, member, tenant_a, catalog):
    client = api_client_for(member(tenant_a, "viewer"), tenant_a)
    body = client.get(f"/api/v1/ecr/catalogs/{catalog.pk}/diagnostics/").json()
    groups = {g["code"]: g for g in body["groups"]}
    assert (groups[PRICE]["products"], groups[PRICE]["awaiting_review"]) == (5, 5)
    assert (groups[CAPS]["products"], groups[CAPS]["awaiting_review"]) == (2, 2)


def test_trend_counts_and_changed_list_leave_pending_products_out(tenant_a, catalog):
    # the feed runs' samples the trend compares count what the groups count
    assert selectors.issue_counts_by_code(tenant=tenant_a, catalog=catalog) == {
        PRICE: 5,
        CAPS: 2,
    }
    d = _diagnostics(tenant_a, catalog)
    # "now failing ad policy" is a review's finding: not a Pending product's old issue
    assert d.changed and not {p.pk for p in d.changed} & catalog.fixed_ids
    assert d.changed_total == 2
