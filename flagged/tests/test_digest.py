"""The daily digest tells sellers what is flagged when it is sent: a product that became
Impacted and was Resolved (or improved to At risk) within the day is not listed as Impacted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from catalog_health.tenancy.roles import Role
from catalogs.models import Order
from catalogs.tests.factories import CatalogFactory, ProductFactory
from catalogs.tests.order_factories import OrderFactory
from flagged.services import digest_send, flags_score

pytestmark = pytest.mark.django_db


def product_with_orders(catalog, sku, *, overdue, good=0):
    product = ProductFactory(catalog=catalog, sku=sku, title=f"Kettle {sku}")
    for _ in range(overdue):
        OrderFactory(product=product, ship_by=timezone.now() - timedelta(days=1), shipped_at=None)
    for _ in range(good):
        OrderFactory(product=product)
    return product


def sections(body: str) -> dict[str, list[str]]:
    """The digest's headings with the skus listed under each."""
    out: dict[str, list[str]] = {}
    heading = None
    for line in body.splitlines():
        if line.startswith("  - "):
            out[heading].append(line.removeprefix("  - ").split()[0])
        elif line.endswith("):"):
            heading = line.rsplit(" (", 1)[0]
            out[heading] = []
    return out


def test_digest_lists_only_what_is_still_flagged_when_sent(member, tenant_a):
    member(tenant_a, Role.SELLER)
    catalog = CatalogFactory(tenant=tenant_a)
    now = timezone.now()
    product_with_orders(catalog, "STAY-1", overdue=10)
    flip = product_with_orders(catalog, "FLIP-1", overdue=10)
    ease = product_with_orders(catalog, "EASE-1", overdue=1, good=9)  # 10 %: Impacted
    flags_score(tenant=tenant_a, now=now - timedelta(hours=5))
    # FLIP-1's buyers cancel: nothing overdue, Resolved. EASE-1 sells 30 more on time:
    # 1 overdue of 40 is 2.5 %, At risk.
    Order.objects.for_tenant(tenant_a).filter(product=flip).update(
        cancelled_at=now - timedelta(hours=3), cancel_reason="buyer_request"
    )
    for _ in range(30):
        OrderFactory(product=ease)
    flags_score(tenant=tenant_a, now=now - timedelta(hours=2))

    assert digest_send(tenant=tenant_a, now=now) == 1
    msg = mail.outbox[-1]
    assert "1 Impacted, 1 At risk, 1 already Resolved" in msg.subject
    assert sections(msg.body) == {
        "Became Impacted": ["STAY-1"],
        "Became At risk": ["EASE-1"],
        "Flagged and already Resolved": ["FLIP-1"],
    }
    assert "EASE-1 Kettle EASE-1: Overdue unshipped rate 2.5% (target 4%)" in msg.body


def test_a_day_whose_flags_were_all_resolved_says_nothing_is_left_to_fix(
    settings, member, tenant_a
):
    """Nothing is hidden: the product lost visibility for a while, which the seller may see
    in its impressions, so the digest says it was flagged and why, but it does not read as a
    to-do: no "0 Impacted" alarm in the subject, a first line saying nothing needs fixing, and
    a link to the Resolved tab rather than to the whole list."""
    settings.SITE_URL = "https://catalog.example.com"
    member(tenant_a, Role.SELLER)
    flip = product_with_orders(CatalogFactory(tenant=tenant_a), "FLIP-1", overdue=10)
    now = timezone.now()
    flags_score(tenant=tenant_a, now=now - timedelta(hours=5))
    Order.objects.for_tenant(tenant_a).filter(product=flip).update(
        cancelled_at=now - timedelta(hours=3), cancel_reason="buyer_request"
    )
    flags_score(tenant=tenant_a, now=now - timedelta(hours=2))

    assert digest_send(tenant=tenant_a, now=now) == 1
    msg = mail.outbox[-1]
    assert "Impacted" not in msg.subject and "At risk" not in msg.subject
    assert msg.subject == (
        "[Catalog Health] Nothing to fix: 1 flagged product already Resolved — Tenant A"
    )
    assert msg.body.splitlines()[0] == (
        "Nothing needs fixing: every product flagged in the last 24 hours is already Resolved."
    )
    assert sections(msg.body) == {"Flagged and already Resolved": ["FLIP-1"]}
    # why it was flagged, since its latest change (to Resolved) has no reason of its own
    assert (
        "FLIP-1 Kettle FLIP-1 (was Impacted: Overdue unshipped rate 100% (target 4%))" in msg.body
    )
    site = "https://catalog.example.com"
    assert f"{site}/t/{tenant_a.slug}/flagged/?status=resolved" in msg.body
    assert f"{site}/t/{tenant_a.slug}/flagged/{flip.pk}/" in msg.body
    # The digest sent before the product was Resolved listed it as Impacted: it was then.
    assert digest_send(tenant=tenant_a, now=now - timedelta(hours=4)) == 1
    assert sections(mail.outbox[-1].body) == {"Became Impacted": ["FLIP-1"]}
    assert mail.outbox[-1].subject.startswith("[Catalog Health] 1 Impacted, 0 At risk")


def test_every_listed_product_links_to_its_details(settings, member, tenant_a):
    """The seller goes from the mail straight to the product's View details (and its Review
    buttons), in the tenant the mail is about."""
    settings.SITE_URL = "https://catalog.example.com"
    member(tenant_a, Role.SELLER)
    catalog = CatalogFactory(tenant=tenant_a)
    stay = product_with_orders(catalog, "STAY-1", overdue=10)
    ease = product_with_orders(catalog, "EASE-1", overdue=1, good=39)  # 2.5 %: At risk
    now = timezone.now()
    flags_score(tenant=tenant_a, now=now - timedelta(hours=1))

    assert digest_send(tenant=tenant_a, now=now) == 1
    body = mail.outbox[-1].body
    lines = body.splitlines()
    for product in (stay, ease):
        line = next(i for i, text in enumerate(lines) if f"- {product.sku} " in text)
        assert lines[line + 1].strip() == (
            f"https://catalog.example.com/t/{tenant_a.slug}/flagged/{product.pk}/"
        )
    assert f"https://catalog.example.com/t/{tenant_a.slug}/flagged/\n" in body + "\n"
    assert "Nothing needs fixing" not in body
