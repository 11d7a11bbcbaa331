"""Reads of the tenancy core."""

from django.db.models import QuerySet
from django.urls import reverse

from catalog_health.site import absolute_url

from .models import ApiToken, AuditEvent, Membership, Tenant
from .roles import EMAIL_TOPIC_ROLES, EmailTopic


def membership_for(*, user, tenant_slug: str) -> Membership | None:
    """The user's membership in the tenant named in the URL, or None (which becomes a 404)."""
    if not user.is_authenticated:
        return None
    return (
        Membership.objects.select_related("tenant")
        .filter(user=user, tenant__slug=tenant_slug)
        .first()
    )


def user_memberships(*, user) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("tenant").order_by("tenant__name")


def tenant_members(*, tenant: Tenant) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(tenant=tenant).select_related("user").order_by("user__username")
    )


def tenant_audit_events(*, tenant: Tenant, limit: int = 100) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.for_tenant(tenant).select_related("actor")[:limit]


def user_api_tokens(*, tenant: Tenant, user) -> QuerySet[ApiToken]:
    return ApiToken.objects.for_tenant(tenant).filter(user=user).order_by("-created_at")


def member_emails(*, tenant: Tenant, topic: str) -> list[str]:
    """The distinct, non-empty email addresses of the tenant's active members whose role is
    emailed about ``topic`` (roles.EMAIL_TOPIC_ROLES) and who have not turned it off, sorted:
    the recipients of every notification mailed to a tenant."""
    return sorted(
        set(
            Membership.objects.filter(
                tenant=tenant,
                role__in=list(EMAIL_TOPIC_ROLES[topic]),
                user__is_active=True,
                **{f"email_{EmailTopic(topic).value}": True},
            )
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
    )


def email_choices_footer(*, tenant: Tenant) -> str:
    """The last lines of every email to a tenant's members: where each chooses their emails."""
    path = reverse("tenancy:email_preferences", kwargs={"tenant_slug": tenant.slug})
    return f"Choose which emails you get from {tenant.name}: {absolute_url(path)}"
