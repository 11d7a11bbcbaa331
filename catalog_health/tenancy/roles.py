"""Roles and what each may do: the one place where permissions are decided."""

from enum import StrEnum

from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    ADVERTISER = "advertiser", "Advertiser"
    SELLER = "seller", "Seller"
    VIEWER = "viewer", "Viewer"


class Perm(StrEnum):
    VIEW = "view"  # read every page of the tenant
    MANAGE_CATALOGS = "manage_catalogs"  # catalogs, ECR, diagnostics
    MANAGE_SOURCES = "manage_sources"  # product sources, Request Data Now
    EDIT_PRODUCTS = "edit_products"  # inventory, price, shipping fee, availability
    MANAGE_ORDERS = "manage_orders"  # Manage Orders, order/impression uploads
    MANAGE_MEMBERS = "manage_members"  # invite members, change roles, API tokens of others


ROLE_PERMS: dict[str, frozenset[Perm]] = {
    Role.OWNER: frozenset(Perm),
    Role.ADMIN: frozenset(Perm),
    Role.ADVERTISER: frozenset(
        {Perm.VIEW, Perm.MANAGE_CATALOGS, Perm.MANAGE_SOURCES, Perm.EDIT_PRODUCTS}
    ),
    Role.SELLER: frozenset({Perm.VIEW, Perm.EDIT_PRODUCTS, Perm.MANAGE_ORDERS}),
    Role.VIEWER: frozenset({Perm.VIEW}),
}


class EmailTopic(models.TextChoices):
    """What the tenant's members are emailed about; each member turns a topic off for
    themselves (Membership.email_<topic>)."""

    FLAGGED_DIGEST = "flagged_digest", "Daily digest of flagged products"
    FEED_ALERTS = "feed_alerts", "Failed or out-of-date product feeds"
    ECR_CHANGES = "ecr_changes", "ECR switched off or on"


EMAIL_TOPIC_ROLES: dict[str, tuple[str, ...]] = {
    EmailTopic.FLAGGED_DIGEST: (Role.OWNER, Role.ADMIN, Role.SELLER),
    EmailTopic.FEED_ALERTS: (Role.OWNER, Role.ADMIN, Role.ADVERTISER),
    EmailTopic.ECR_CHANGES: (Role.OWNER, Role.ADMIN, Role.ADVERTISER),
}


def email_topics_for(role: str) -> list[EmailTopic]:
    """The topics a member with ``role`` is emailed about (unless they turn them off)."""
    return [EmailTopic(t) for t, roles in EMAIL_TOPIC_ROLES.items() if role in roles]


def has_perm(role: str, perm: Perm) -> bool:
    return perm in ROLE_PERMS.get(role, frozenset())


def roles_with(perm: Perm) -> list[str]:
    """Labels of the roles that hold `perm`, for the 403 page and API errors."""
    return [Role(role).label for role, perms in ROLE_PERMS.items() if perm in perms]


def assignable_roles(actor_role: str) -> list[str]:
    """Only an owner may make someone else an owner."""
    if actor_role == Role.OWNER:
        return list(Role.values)
    return [r for r in Role.values if r != Role.OWNER]
