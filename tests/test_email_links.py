"""Links in emails are absolute, built from settings.SITE_URL: a mail client has no page for a
relative `/t/acme/...` to be relative to."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from catalog_health.site import absolute_url
from catalog_health.tenancy.roles import Role
from catalogs.tests.factories import CatalogFactory, ProductFactory
from catalogs.tests.order_factories import OrderFactory
from ecr import services as ecr_services
from ecr.tests.factories import PendingProductFactory
from flagged.services import digest_send, flags_score

SITE = "https://catalog.example.com"


@pytest.mark.parametrize(
    ("site", "path", "expected"),
    [
        ("https://catalog.example.com", "/t/acme/flagged/", f"{SITE}/t/acme/flagged/"),
        ("https://catalog.example.com/", "/t/acme/", f"{SITE}/t/acme/"),  # one slash
        ("https://catalog.example.com", "t/acme/", f"{SITE}/t/acme/"),
        ("https://host/prefix", "/t/a/", "https://host/prefix/t/a/"),  # served under a prefix
        ("https://catalog.example.com", "https://other/x", "https://other/x"),  # already absolute
        ("http://127.0.0.1:8000", "/", "http://127.0.0.1:8000/"),
    ],
)
def test_absolute_url(settings, site, path, expected):
    settings.SITE_URL = site
    assert absolute_url(path) == expected


def test_default_site_url_is_the_local_server(settings):
    assert settings.SITE_URL.startswith("http")


@pytest.mark.django_db
def test_ecr_email_links_to_the_site(
    settings, tenant_a, member, django_capture_on_commit_callbacks
):
    settings.SITE_URL = SITE
    member(tenant_a, Role.ADVERTISER)
    catalog = CatalogFactory(tenant=tenant_a)
    PendingProductFactory.create_batch(15, catalog=catalog, tenant=tenant_a)
    PendingProductFactory.create_batch(5, catalog=catalog, tenant=tenant_a, price=Decimal("0"))
    # 15 of 20 Available: under the 80% threshold, ECR turns off and mails the advertiser
    with django_capture_on_commit_callbacks(execute=True):
        ecr_services.review_after_feed_run(tenant=tenant_a, catalog=catalog)
    body = mail.outbox[-1].body
    assert f"{SITE}/t/{tenant_a.slug}/catalogs/{catalog.pk}/ecr/" in body
    assert " /t/" not in body
    # what to do, and where: 18 of 20 (90 %) turns it back on, so 3 more; Diagnostics lists them
    assert "Fix at least 3 Unavailable products to turn ECR back on" in body
    diagnostics = f"{SITE}/t/{tenant_a.slug}/catalogs/{catalog.pk}/diagnostics/"
    assert f"Diagnostics lists the Unavailable products with how to fix each: {diagnostics}" in body


@pytest.mark.django_db
def test_digest_links_to_the_site(settings, tenant_a, member):
    settings.SITE_URL = SITE
    member(tenant_a, Role.SELLER)
    product = ProductFactory(catalog__tenant=tenant_a)
    now = timezone.now()
    for _ in range(10):
        OrderFactory(product=product, ship_by=now - timedelta(days=1), shipped_at=None)
    flags_score(tenant=tenant_a, now=now)
    assert digest_send(tenant=tenant_a, now=now + timedelta(hours=1)) == 1
    assert f"{SITE}/t/{tenant_a.slug}/flagged/" in mail.outbox[-1].body
