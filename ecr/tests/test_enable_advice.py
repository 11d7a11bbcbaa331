"""What turns a disabled catalog's ECR back on, said the same way by the banner, the ECR tab and
the email: "Fix at least 37 Unavailable products" when only 12 are Unavailable (the rest Pending,
waiting for the standard queue) asked for something no seller can do."""

from __future__ import annotations

import pytest
from django.core import mail
from django.utils import timezone

from catalog_health.tenancy.roles import Role
from catalogs.tests.factories import CatalogFactory
from ecr import services
from ecr.models import EcrEvent
from ecr.state import enable_advice
from ecr.tests.factories import EcrStateFactory


@pytest.mark.parametrize(
    ("to_fix", "unavailable", "pending", "expected"),
    [
        (None, 3, 0, ""),  # too few products to be evaluated: said elsewhere
        (0, 3, 0, ""),
        (1, 3, 0, "Fix at least 1 Unavailable product to turn ECR back on."),
        (3, 3, 5, "Fix at least 3 Unavailable products to turn ECR back on."),
        (
            37,
            12,
            40,
            "ECR turns back on once at least 37 more products are Available: fix the 12 "
            "Unavailable ones; the rest can only come from the 40 waiting for review.",
        ),
        (
            6,
            0,
            10,
            "ECR turns back on once at least 6 more products are Available: none is "
            "Unavailable; they can only come from the 10 waiting for review.",
        ),
        (
            2,
            1,
            1,
            "ECR turns back on once at least 2 more products are Available: fix the 1 "
            "Unavailable one; the rest can only come from the 1 waiting for review.",
        ),
    ],
)
def test_enable_advice(to_fix, unavailable, pending, expected):
    assert enable_advice(to_fix=to_fix, unavailable=unavailable, pending=pending) == expected


@pytest.fixture
def outlet(tenant_a):
    """98 of 150 Available, 12 Unavailable, 40 Pending: 135 (90 %) turns ECR back on."""
    catalog = CatalogFactory(tenant=tenant_a, name="Outlet")
    EcrStateFactory(
        catalog=catalog,
        enabled=False,
        ratio=98 / 150,
        active_count=150,
        available_count=98,
        unavailable_count=12,
        pending_count=40,
        evaluated_at=timezone.now(),
    )
    return catalog


@pytest.mark.django_db
def test_the_ecr_tab_asks_only_for_what_can_be_fixed(client_for, member, tenant_a, outlet):
    client = client_for(member(tenant_a, Role.SELLER))
    html = client.get(f"/t/{tenant_a.slug}/catalogs/{outlet.pk}/ecr/").content.decode()
    assert "Fix at least <strong>37</strong>" not in html
    assert "at least 37 more products are Available: fix the 12 Unavailable ones" in html


@pytest.mark.django_db
def test_the_ecr_off_email_asks_only_for_what_can_be_fixed(member, tenant_a, outlet):
    member(tenant_a, Role.ADVERTISER)
    event = EcrEvent.objects.create(
        tenant=tenant_a,
        catalog=outlet,
        enabled=False,
        reason="ratio_below_threshold",
        trigger="periodic",
        ratio=98 / 150,
        active_count=150,
        available_count=98,
        disable_threshold="0.800",
        enable_threshold="0.900",
    )
    assert services.ecr_notify(tenant=tenant_a, catalog=outlet, event=event) == 1
    body = mail.outbox[-1].body
    assert "Fix at least 37" not in body
    assert "at least 37 more products are Available: fix the 12 Unavailable ones" in body
