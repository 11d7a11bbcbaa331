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


def _run_link(tenant: Tenant, run: FeedRun) -> str:
    return absolute_url(
        reverse("feeds:run_detail", kwargs={"tenant_slug": tenant.slug, "run_id": run.pk})
    )


def _source_name(run: FeedRun) -> str:
    return run.source.name if run.source_id else run.location


def _email_managers(tenant: Tenant, *, subject: str, message: str) -> int:
    to = _recipients(tenant)
    if not to:
        return 0
    return send_mail(
        subject=f"[Catalog Health] {subject}",
        message=f"{message}\n\n{email_choices_footer(tenant=tenant)}",
        from_email=None,
        recipient_list=to,
        fail_silently=True,
    )


def notify_run_failed(*, tenant: Tenant, run: FeedRun) -> int:
    """Email the tenant's owners, admins and advertisers: a feed must never die silently."""
    source = _source_name(run)
    return _email_managers(
        tenant,
        subject=f"Feed pull failed: {source}",
        message=(
            f"The scheduled pull of “{source}” (catalog #{run.catalog_id}) failed.\n\n"
            f"{run.error_message}\n\nThe catalog was not changed. Run #{run.number}: "
            + _run_link(tenant, run)
        ),
    )


def notify_run_held(*, tenant: Tenant, run: FeedRun) -> int:
    """Email the members who may confirm it: a scheduled pull held for confirmation waits
    for one of them, and the next scheduled pull supersedes it unseen."""
    source = _source_name(run)
    return _email_managers(
        tenant,
        subject=f"Feed pull waits for confirmation: {source}",
        message=(
            f"The scheduled pull of “{source}” (catalog #{run.catalog_id}) waits for "
            f"confirmation.\n\n{run.error_message}\n\nConfirm or discard run "
            f"#{run.number} on its page before the next scheduled pull replaces it: "
            + _run_link(tenant, run)
        ),
    )
