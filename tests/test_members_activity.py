"""The members page's activity: sentences, not audit codes, and each run's state now (a run
requested while Queued that has since succeeded says Succeeded)."""

import pytest
from django.urls import reverse

from catalog_health.tenancy.roles import Role
from catalog_health.tenancy.services import audit_record
from feeds.models import FeedRun
from feeds.tests.factories import FeedRunFactory


@pytest.mark.django_db
def test_members_page_shows_sentences_and_the_runs_state_now(client_for, member, tenant_a):
    owner = member(tenant_a, Role.OWNER)
    run = FeedRunFactory(source__catalog__tenant=tenant_a, status="queued")
    audit_record(tenant=tenant_a, actor=owner, action="feed_run.requested", target=run)
    gone = FeedRunFactory(source__catalog__tenant=tenant_a)
    audit_record(tenant=tenant_a, actor=owner, action="feed_run.cancelled", target=gone)
    gone.delete()
    FeedRun.objects.filter(pk=run.pk).update(status="succeeded")
    body = client_for(owner).get(reverse("tenancy:members", kwargs={"tenant_slug": tenant_a.slug}))
    html = body.content.decode()
    assert "feed_run.requested" not in html and "(Queued)" not in html
    rows = body.context["audit_events"]
    row = next(r for r in rows if r.sentence.startswith("Requested data now"))
    assert row.sentence == f"Requested data now: Run #{run.number}"
    assert row.state == "Succeeded"
    cancelled = next(r for r in rows if r.sentence.startswith("Cancelled"))
    assert cancelled.gone and "deleted since" in html
