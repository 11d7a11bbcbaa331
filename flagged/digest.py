"""The daily digest: sellers get the products that became Impacted or At risk, as they are
when it is sent."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from catalog_health.site import absolute_url
from catalog_health.tenancy.models import Tenant
from catalog_health.tenancy.roles import EmailTopic
from catalog_health.tenancy.selectors import email_choices_footer, member_emails

from .models import DigestLog
from .scoring import STATUS_LABELS, FlagStatus
from .selectors import DigestRow, digest_transitions

# the digest leaves at this hour of the tenant's own day
DIGEST_LOCAL_HOUR = 7


def digests_due_send(*, now: datetime | None = None) -> int:
    """Hourly (beat): send the digest of each tenant whose own day has passed
    DIGEST_LOCAL_HOUR without one (a morning missed while beat was down is caught up later
    that day), covering everything since its previous digest. Returns the tenants emailed."""
    now = now or timezone.now()
    emailed = 0
    for tenant in Tenant.objects.order_by("pk"):
        local = now.astimezone(ZoneInfo(tenant.time_zone))
        if local.hour < DIGEST_LOCAL_HOUR:
            continue
        last = DigestLog.objects.for_tenant(tenant).order_by("-sent_at").first()
        if last is not None and last.local_date >= local.date():
            continue
        try:
            with transaction.atomic():
                log = DigestLog.objects.create(tenant=tenant, local_date=local.date(), sent_at=now)
        except IntegrityError:  # another delivery of the task claimed the day
            continue
        since = last.sent_at if last is not None else now - timedelta(hours=24)
        try:
            recipients = digest_send(tenant=tenant, now=now, since=since)
        except Exception:
            log.delete()  # the mail server refused: a later hour of the day tries again
            raise
        DigestLog.objects.filter(pk=log.pk).update(recipients=recipients)
        emailed += bool(recipients)
    return emailed


def digest_send(
    *,
    tenant: Tenant,
    now: datetime | None = None,
    hours: int = 24,
    since: datetime | None = None,
) -> int:
    """Email sellers the products that became Impacted or At risk since ``since`` (else in
    the last ``hours``), listed by their status when it is sent: one flagged and Resolved
    again since has a list of its own. A day whose flags are all Resolved already is told as
    such: nothing to fix."""
    now = now or timezone.now()
    if since is not None:
        hours = max(1, round((now - since).total_seconds() / 3600))
    else:
        since = now - timedelta(hours=hours)
    rows = digest_transitions(tenant=tenant, since=since, until=now)
    if not rows:
        return 0
    recipients = member_emails(tenant=tenant, topic=EmailTopic.FLAGGED_DIGEST)
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
    lines += [footer, "", email_choices_footer(tenant=tenant)]
    return f"[Catalog Health] {counts} — {tenant.name}", "\n".join(lines)


def _reasons(row: DigestRow) -> str:
    if row.reasons:
        return f": {'; '.join(row.reasons)}"
    if row.flagged_status:
        was = STATUS_LABELS[FlagStatus(row.flagged_status)]
        return f" (was {was}: {'; '.join(row.flagged_reasons)})"
    return ""
