"""The daily digest: sellers get the products that became Impacted or At risk, as they are
when it is sent."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.mail import send_mail
from django.urls import reverse
from django.utils import timezone

from catalog_health.site import absolute_url
from catalog_health.tenancy.models import Tenant
from catalog_health.tenancy.roles import Role
from catalog_health.tenancy.selectors import member_emails

from .scoring import STATUS_LABELS, FlagStatus
from .selectors import DigestRow, digest_transitions

DIGEST_ROLES = (Role.OWNER, Role.ADMIN, Role.SELLER)


def digest_send(*, tenant: Tenant, now: datetime | None = None, hours: int = 24) -> int:
    """Email sellers the products that became Impacted or At risk in the last day, listed by
    their status when it is sent: one flagged and Resolved again since has a list of its own.
    A day whose flags are all Resolved already is told as such: nothing to fix."""
    now = now or timezone.now()
    rows = digest_transitions(tenant=tenant, since=now - timedelta(hours=hours), until=now)
    if not rows:
        return 0
    recipients = member_emails(tenant=tenant, roles=DIGEST_ROLES)
    if not recipients:
        return 0
    subject, body = digest_message(tenant=tenant, rows=rows, hours=hours)
    send_mail(subject=subject, message=body, from_email=None, recipient_list=recipients)
    return len(recipients)


def digest_message(*, tenant: Tenant, rows: list[DigestRow], hours: int) -> tuple[str, str]:
    """The digest's subject and text: each product with its reasons and a link to its View
    details (where its Review buttons are), then a link to the tab."""
    impacted = [r for r in rows if r.status == FlagStatus.IMPACTED]
    at_risk = [r for r in rows if r.status == FlagStatus.AT_RISK]
    resolved = [r for r in rows if r.status not in (FlagStatus.IMPACTED, FlagStatus.AT_RISK)]
    tab = reverse("flagged:flagged_list", kwargs={"tenant_slug": tenant.slug})
    if impacted or at_risk:
        lines = [f"Flagged products of {tenant.name} in the last {hours} hours:", ""]
        counts = f"{len(impacted)} Impacted, {len(at_risk)} At risk"
        if resolved:
            counts += f", {len(resolved)} already Resolved"
        footer = f"Open the Flagged products tab: {absolute_url(tab)}"
    else:
        lines = [
            f"Nothing needs fixing: every product flagged in the last {hours} hours is "
            "already Resolved.",
            "",
        ]
        products = "product" if len(resolved) == 1 else "products"
        counts = f"Nothing to fix: {len(resolved)} flagged {products} already Resolved"
        footer = f"See them on the Flagged products tab: {absolute_url(f'{tab}?status=resolved')}"
    groups = (
        ("Became Impacted", impacted),
        ("Became At risk", at_risk),
        ("Flagged and already Resolved", resolved),
    )
    for title, group in groups:
        if group:
            lines.append(f"{title} ({len(group)}):")
            for r in group[:50]:
                lines.append(f"  - {r.sku} {r.title[:60]}{_reasons(r)}")
                lines.append(f"    {absolute_url(f'{tab}{r.product_id}/')}")
            if len(group) > 50:
                lines.append(f"  … and {len(group) - 50} more")
            lines.append("")
    lines.append(footer)
    return f"[Catalog Health] {counts} — {tenant.name}", "\n".join(lines)


def _reasons(row: DigestRow) -> str:
    if row.reasons:
        return f": {'; '.join(row.reasons)}"
    if row.flagged_status:
        was = STATUS_LABELS[FlagStatus(row.flagged_status)]
        return f" (was {was}: {'; '.join(row.flagged_reasons)})"
    return ""
