"""Policies admins set to two decimals read as set, and a rate never reads on the other side
of one of them."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog_health.tenancy.roles import Role
from catalogs.tests.factories import CatalogFactory, ProductFactory
from catalogs.tests.order_factories import OrderFactory
from flagged.models import TenantMetricPolicy
from flagged.scoring import (
    DEFAULT_POLICIES,
    Counts,
    Level,
    Metric,
    classify,
    format_percent,
    reason_text,
    threshold_text,
)

D = Decimal


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (D("2.55"), "2.55%"),
        (D("0.25"), "0.25%"),
        (D("97.25"), "97.25%"),
        (D("2.50"), "2.5%"),
        (D("4.00"), "4%"),
        (D("100.00"), "100%"),
        (D("0.00"), "0%"),
    ],
)
def test_a_threshold_reads_as_set(value, text):
    assert threshold_text(value) == text


# (case, value, thresholds, text): one decimal unless that puts the value on a threshold it is
# not on, or on the other side of one
SIDE_CASES = [
    ("on a two-decimal target", Fraction(51, 20), (D("2.55"), D("1.5")), "2.55%"),
    ("under a two-decimal target", Fraction(64, 25), (D("2.57"),), "2.56%"),
    ("under a higher-is-better target", Fraction(2374, 25), (D("94.97"), D("97")), "94.96%"),
    ("over a two-decimal target", Fraction(129, 50), (D("2.55"),), "2.6%"),
    ("clear of every threshold", Fraction(1, 3), (D("2.55"), D("1.25")), "0.3%"),
]


@pytest.mark.parametrize(
    ("value", "thresholds", "text"),
    [c[1:] for c in SIDE_CASES],
    ids=[c[0] for c in SIDE_CASES],
)
def test_a_rate_reads_on_its_side_of_every_threshold(value, thresholds, text):
    assert format_percent(value, thresholds=thresholds) == text


@pytest.mark.parametrize(
    ("counts", "level", "text"),
    [
        # 51 of 2,000 is 2.55 %: on the target, so At risk, not a rate above a rounded target
        (Counts(51, 2000), Level.AT_RISK, "Out-of-stock cancellation rate 2.55% (target 2.55%)"),
        (Counts(52, 2000), Level.IMPACTED, "Out-of-stock cancellation rate 2.6% (target 2.55%)"),
    ],
)
def test_reason_with_a_two_decimal_target(counts, level, text):
    policy = replace(
        DEFAULT_POLICIES[Metric.OOS_CANCELLATION], target=D("2.55"), at_risk_threshold=D("1.25")
    )
    assert classify(counts, policy) == level
    assert reason_text(Metric.OOS_CANCELLATION, counts, policy) == text


@pytest.mark.django_db
def test_details_page_shows_two_decimal_thresholds_as_set(client, member, tenant_a):
    TenantMetricPolicy.objects.create(
        tenant=tenant_a,
        metric=Metric.LATE_DISPATCH,
        at_risk_threshold=D("1.25"),
        target=D("2.55"),
    )
    product = ProductFactory(catalog=CatalogFactory(tenant=tenant_a))
    now = timezone.now()
    for i in range(40):
        OrderFactory(product=product, placed_at=now - timedelta(days=5, hours=i))
    OrderFactory(  # overdue: the page previews shipping it late
        product=product,
        placed_at=now - timedelta(days=5),
        ship_by=now - timedelta(days=3),
        shipped_at=None,
    )
    client.force_login(member(tenant_a, Role.SELLER))
    url = reverse(
        "flagged:flagged_detail", kwargs={"tenant_slug": tenant_a.slug, "product_id": product.pk}
    )
    html = client.get(url).content.decode()
    assert "≤ 2.55%" in html and ">1.25%<" in html
    assert "target ≤ 2.55%" in html  # the late-shipping preview
    assert "2.6%" not in html and "1.3%" not in html
