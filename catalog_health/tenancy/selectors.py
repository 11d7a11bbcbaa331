"""Reads of the tenancy core."""

from django.db.models import QuerySet

from .models import ApiToken, AuditEvent, Membership, Tenant


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


def member_emails(*, tenant: Tenant, roles) -> list[str]:
    """The distinct, non-empty email addresses of the tenant's members in ``roles``, sorted:
    the recipients of every notification mailed to a tenant."""
    return sorted(
        set(
            Membership.objects.filter(tenant=tenant, role__in=list(roles))
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
    )
