"""Which members get which emails: each member chooses on the tenant's Emails page, a
deactivated account gets none, and every email says where to change that."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from catalog_health.tenancy.models import Membership
from catalog_health.tenancy.roles import EmailTopic, Role
from catalog_health.tenancy.selectors import member_emails
from catalogs.tests.factories import CatalogFactory, ProductFactory
from catalogs.tests.order_factories import OrderFactory
from ecr import services as ecr_services
from ecr.tests.factories import PendingProductFactory
from feeds.notifications import notify_run_failed
from feeds.tests.factories import FeedRunFactory
from flagged.services import digest_send, flags_score

pytestmark = pytest.mark.django_db
SITE = "https://catalog.example.com"


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = SITE


@pytest.mark.parametrize(
    "topic, roles",
    [
        (EmailTopic.FLAGGED_DIGEST, {"owner", "admin", "seller"}),
        (EmailTopic.FEED_ALERTS, {"owner", "admin", "advertiser"}),
        (EmailTopic.ECR_CHANGES, {"owner", "admin", "advertiser"}),
    ],
)
def test_each_topic_goes_to_its_roles(member, tenant_a, topic, roles):
    for role in Role.values:
        member(tenant_a, role, username=role)
    assert member_emails(tenant=tenant_a, topic=topic) == sorted(f"{r}@example.com" for r in roles)


def test_a_member_who_turned_a_topic_off_does_not_get_it(member, tenant_a, tenant_b):
    member(tenant_a, Role.OWNER, username="olga")
    Membership.objects.filter(user__username="olga").update(email_flagged_digest=False)
    Membership.objects.create(
        tenant=tenant_b, user=Membership.objects.get(user__username="olga").user, role=Role.OWNER
    )
    assert member_emails(tenant=tenant_a, topic=EmailTopic.FLAGGED_DIGEST) == []
    assert member_emails(tenant=tenant_a, topic=EmailTopic.FEED_ALERTS) == ["olga@example.com"]
    # the choice is per tenant
    assert member_emails(tenant=tenant_b, topic=EmailTopic.FLAGGED_DIGEST) == ["olga@example.com"]


def test_a_deactivated_account_gets_no_email(member, tenant_a):
    gone = member(tenant_a, Role.OWNER, username="gone")
    gone.is_active = False
    gone.save()
    member(tenant_a, Role.OWNER, username="olga")
    for topic in EmailTopic:
        assert member_emails(tenant=tenant_a, topic=topic) == ["olga@example.com"]


def test_the_emails_page_saves_a_members_own_choice(client, member, tenant_a):
    seller = member(tenant_a, Role.SELLER, username="sam")
    client.force_login(seller)
    url = reverse("tenancy:email_preferences", kwargs={"tenant_slug": tenant_a.slug})
    page = client.get(url).content.decode()
    assert "Daily digest of flagged products" in page
    # a seller is never sent feed or ECR emails: the page does not offer them
    assert "ECR switched off or on" not in page
    done = client.post(url, {}, follow=True)  # every box unticked
    assert "Email choices saved" in done.content.decode()
    membership = Membership.objects.get(user=seller, tenant=tenant_a)
    assert membership.email_flagged_digest is False
    assert membership.email_feed_alerts is True  # not offered, not changed
    client.post(url, {"email_flagged_digest": "on"})
    membership.refresh_from_db()
    assert membership.email_flagged_digest is True


def test_the_user_menu_links_to_the_emails_page(client, member, tenant_a):
    client.force_login(member(tenant_a, Role.VIEWER))
    home = client.get(reverse("overview:home", kwargs={"tenant_slug": tenant_a.slug}))
    url = reverse("tenancy:email_preferences", kwargs={"tenant_slug": tenant_a.slug})
    assert f'href="{url}"' in home.content.decode()


def test_every_email_says_where_to_choose(member, tenant_a, django_capture_on_commit_callbacks):
    for role in (Role.OWNER, Role.SELLER, Role.ADVERTISER):
        member(tenant_a, role)
    where = f"{SITE}/t/{tenant_a.slug}/emails/"
    catalog = CatalogFactory(tenant=tenant_a)
    # the digest: a product with overdue orders becomes Impacted
    product = ProductFactory(catalog=catalog)
    now = timezone.now()
    for _ in range(10):
        OrderFactory(product=product, ship_by=now - timedelta(days=1), shipped_at=None)
    flags_score(tenant=tenant_a, now=now)
    assert digest_send(tenant=tenant_a, now=now + timedelta(hours=1))
    # a failed scheduled pull
    run = FeedRunFactory(source__catalog=catalog, status="failed", error_message="HTTP 500.")
    assert notify_run_failed(tenant=tenant_a, run=run)
    # ECR turns off: 15 of 20 Available is under the 80 % threshold
    PendingProductFactory.create_batch(15, catalog=catalog, tenant=tenant_a)
    PendingProductFactory.create_batch(5, catalog=catalog, tenant=tenant_a, price=Decimal("0"))
    with django_capture_on_commit_callbacks(execute=True):
        ecr_services.review_after_feed_run(tenant=tenant_a, catalog=catalog)
    subjects = [m.subject for m in mail.outbox]
    assert any("ECR disabled" in s for s in subjects), subjects
    assert any("Feed pull failed" in s for s in subjects), subjects
    assert any("Impacted" in s for s in subjects), subjects
    for message in mail.outbox:
        assert where in message.body, message.subject
