"""Emails of the feeds app: to the members who manage a tenant's feeds."""

from __future__ import annotations

from django.core.mail import send_mail
from django.urls import reverse

from catalog_health.site import absolute_url
from catalog_health.tenancy.models import Tenant
from catalog_health.tenancy.roles import EmailTopic
from catalog_health.tenancy.selectors import email_choices_footer, member_emails
from feeds.models import FeedRun


def _recipients(tenant: Tenant) -> list[str]:
    return member_emails(tenant=tenant, topic=EmailTopic.FEED_ALERTS)


def notify_run_failed(*, tenant: Tenant, run: FeedRun) -> int:
    """Email the tenant's owners, admins and advertisers: a feed must never die silently."""
    to = _recipients(tenant)
    if not to:
        return 0
    source = run.source.name if run.source_id else run.location
    return send_mail(
        subject=f"[Catalog Health] Feed pull failed: {source}",
        message=(
            f"The scheduled pull of “{source}” (catalog #{run.catalog_id}) failed.\n\n"
            f"{run.error_message}\n\nThe catalog was not changed. Run #{run.number}: "
            + absolute_url(
                reverse("feeds:run_detail", kwargs={"tenant_slug": tenant.slug, "run_id": run.pk})
            )
            + f"\n\n{email_choices_footer(tenant=tenant)}"
        ),
        from_email=None,
        recipient_list=to,
        fail_silently=True,
    )
