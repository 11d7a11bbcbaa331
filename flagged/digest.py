"""The daily digest: sellers get the products that became Impacted or At risk, as they are
when it is sent."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.mail import send_mail
from django.utils import timezone

from catalog_health.site import absolute_url
from catalog_health.tenancy.models import Tenant
from catalog_health.tenancy.roles import EmailTopic
from catalog_health.tenancy.selectors import email_choices_footer, member_emails

from .scoring import FlagStatus
from .selectors import digest_transitions


def digest_send(*, tenant: Tenant, now: datetime | None = None, hours: int = 24) -> int:
    """Email sellers the products that became Impacted or At risk in the last day, listed by
    their status when it is sent: one flagged and Resolved again since has a list of its own."""
    now = now or timezone.now()
    rows = digest_transitions(tenant=tenant, since=now - timedelta(hours=hours), until=now)
    if not rows:
        return 0
    recipients = member_emails(tenant=tenant, topic=EmailTopic.FLAGGED_DIGEST)
    if not recipients:
        return 0
    impacted = [r for r in rows if r.status == FlagStatus.IMPACTED]
    at_risk = [r for r in rows if r.status == FlagStatus.AT_RISK]
    resolved = [r for r in rows if r.status not in (FlagStatus.IMPACTED, FlagStatus.AT_RISK)]
    lines = [f"Flagged products of {tenant.name} in the last {hours} hours:", ""]
    groups = (
        ("Became Impacted", impacted),
        ("Became At risk", at_risk),
        ("Flagged and already Resolved", resolved),
    )
    for title, group in groups:
        if group:
            lines.append(f"{title} ({len(group)}):")
            for r in group[:50]:
                reasons = f": {'; '.join(r.reasons)}" if r.reasons else ""
                lines.append(f"  - {r.sku} {r.title[:60]}{reasons}")
            if len(group) > 50:
                lines.append(f"  … and {len(group) - 50} more")
            lines.append("")
    lines.append(f"Open the Flagged products tab: {absolute_url(f'/t/{tenant.slug}/flagged/')}")
    lines += ["", email_choices_footer(tenant=tenant)]
    counts = f"{len(impacted)} Impacted, {len(at_risk)} At risk"
    if resolved:
        counts += f", {len(resolved)} already Resolved"
    send_mail(
        subject=f"[Catalog Health] {counts} — {tenant.name}",
        message="\n".join(lines),
        from_email=None,
        recipient_list=recipients,
    )
    return len(recipients)
