"""Writes of the tenancy core. Every function takes the tenant and the acting user explicitly
(staff removing members of several tenants at once pass memberships, each with its tenant)."""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, models, transaction
from django.utils import timezone

from . import events
from .accounts import invitation_send
from .currencies import currency_code
from .models import ApiToken, AuditEvent, Membership, Tenant, validate_time_zone
from .roles import Perm, Role, assignable_roles, email_topics_for, has_perm

User = get_user_model()
log = logging.getLogger(__name__)


def audit_record(
    *,
    tenant: Tenant | None,
    actor,
    action: str,
    target: models.Model | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    if actor is None or not getattr(actor, "is_authenticated", False):
        actor = None
    return AuditEvent.objects.create(
        tenant=tenant,
        actor=actor,
        actor_username=actor.get_username() if actor is not None else "",
        action=action,
        target_type=target._meta.label if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target)[:255] if target is not None else "",
        changes=changes or {},
    )


@transaction.atomic
def tenant_create(
    *,
    slug: str,
    name: str,
    owner,
    time_zone: str = "UTC",
    currency: str = "USD",
    actor=None,
) -> Tenant:
    try:
        currency = currency_code(currency)
    except ValidationError as exc:
        raise ValidationError({"currency": exc.messages}) from exc
    tenant = Tenant(slug=slug, name=name, time_zone=time_zone, currency=currency)
    tenant.full_clean()
    tenant.save()
    Membership.objects.create(tenant=tenant, user=owner, role=Role.OWNER)
    audit_record(tenant=tenant, actor=actor or owner, action="tenant.created", target=tenant)
    return tenant


DATE_ORDERS = ("", "dmy", "mdy")


@transaction.atomic
def tenant_settings_update(
    *, tenant: Tenant, actor, date_order: str, time_zone: str | None = None
) -> Tenant:
    """Change how the tenant's imported files read slash dates that cannot tell day-first
    from month-first ('' = ask for each such file), and its time zone (None keeps it).
    Audited with the old and new values. A new time zone is announced to the apps
    (events.time_zone_changed), which move what they scheduled on the old zone's clock."""
    if date_order not in DATE_ORDERS:
        raise ValidationError({"date_order": "Choose day first, month first or ask."})
    if time_zone is not None:
        try:
            validate_time_zone(time_zone)
        except ValidationError as exc:
            raise ValidationError({"time_zone": exc.messages}) from exc
    locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
    changes = {}
    if locked.date_order != date_order:
        changes["date_order"] = [locked.date_order, date_order]
    if time_zone is not None and locked.time_zone != time_zone:
        changes["time_zone"] = [locked.time_zone, time_zone]
    if changes:
        audit_record(
            tenant=tenant,
            actor=actor,
            action="tenant.settings_changed",
            target=tenant,
            changes=changes,
        )
        Tenant.objects.filter(pk=tenant.pk).update(**{k: new for k, (_, new) in changes.items()})
    tenant.date_order = date_order
    if time_zone is not None:
        tenant.time_zone = time_zone
    if "time_zone" in changes:
        old_zone, new_zone = changes["time_zone"]
        events.time_zone_changed.send(sender=None, tenant=tenant, old=old_zone, new=new_zone)
    return tenant


def member_email_choices_set(*, membership: Membership, chosen: Collection[str]) -> Membership:
    """A member's own choice of emails for this tenant: the topics of their role in
    ``chosen`` stay on, the others go off; topics their role is never sent are left as they
    are (they apply again if the role changes)."""
    offered = email_topics_for(membership.role)
    for topic in offered:
        setattr(membership, f"email_{topic.value}", topic.value in chosen)
    membership.save(update_fields=[f"email_{t.value}" for t in offered])
    return membership


DENIED_ACTION = "access.denied"


def access_denied_record(
    *,
    tenant: Tenant | None,
    user,
    action: str,
    permission: str,
    target_type: str = "",
    target_id: str = "",
    method: str = "",
) -> AuditEvent | None:
    """Audit an attempt a role did not allow: who (user), where (tenant), what (action, the
    permission it needed, the HTTP method) and on which object (type and id, when the URL names
    one). Returns None when not recorded.

    Rate-limited so that denied requests cannot flood the audit log: per user and tenant, the
    same (action, object) is recorded once per window, and at most
    AUDIT_DENIED_MAX_PER_WINDOW events are recorded per window
    (AUDIT_DENIED_WINDOW_SECONDS); the rest are dropped. Never raises: auditing a refusal
    must not turn it into a server error.
    """
    if tenant is None or user is None or not getattr(user, "is_authenticated", False):
        return None
    window = timedelta(seconds=settings.AUDIT_DENIED_WINDOW_SECONDS)
    limit = settings.AUDIT_DENIED_MAX_PER_WINDOW
    target_type, target_id = target_type[:80], str(target_id)[:64]
    try:
        recent = list(
            AuditEvent.objects.for_tenant(tenant)
            .filter(actor=user, action=DENIED_ACTION, created_at__gte=timezone.now() - window)
            .values_list("target_type", "target_id", "changes")[:limit]
        )
        if len(recent) >= limit:
            return None
        if any(
            (t_type, t_id, (changes or {}).get("action")) == (target_type, target_id, action)
            for t_type, t_id, changes in recent
        ):
            return None
        return AuditEvent.objects.create(
            tenant=tenant,
            actor=user,
            actor_username=user.get_username(),
            action=DENIED_ACTION,
            target_type=target_type,
            target_id=target_id,
            target_repr=f"{target_type} #{target_id}" if target_id else "",
            changes={"action": action, "permission": str(permission), "method": method},
        )
    except DatabaseError:
        log.warning("denied access of user %s could not be audited", user.pk, exc_info=True)
        return None


def _require(membership: Membership, perm: Perm) -> None:
    if not has_perm(membership.role, perm):
        raise PermissionDenied(f"Your role ({membership.get_role_display()}) may not do this.")


@transaction.atomic
def member_invite(
    *,
    tenant: Tenant,
    actor_membership: Membership,
    username: str,
    email: str,
    role: str,
    password: str | None = None,
) -> Membership:
    """Add a user (created if missing) to the tenant with a role.

    An existing account is added only when the email typed is its own: a username alone
    names whoever chose it first, and would open the tenant's data to a stranger."""
    _require(actor_membership, Perm.MANAGE_MEMBERS)
    if role not in assignable_roles(actor_membership.role):
        raise ValidationError({"role": "Only an owner can make someone an owner."})
    if not (password or email or User.objects.filter(username=username).exists()):
        raise ValidationError(
            {
                "email": "Give their email address (they are emailed a link to set their "
                "password) or a password for them."
            }
        )
    user, created = User.objects.get_or_create(username=username, defaults={"email": email})
    if not created and Membership.objects.filter(tenant=tenant, user=user).exists():
        raise ValidationError({"username": f"{username} is already a member of {tenant}."})
    if not created and not (email and user.email and email.lower() == user.email.lower()):
        raise ValidationError(
            {
                "username": f"A different account already has the username {username}. To "
                "add that person, type the email address of their account; otherwise choose "
                "another username."
            }
        )
    if created:
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
    membership = Membership.objects.create(tenant=tenant, user=user, role=role)
    if created and not password:
        # the account cannot sign in until its owner sets a password
        transaction.on_commit(
            lambda: invitation_send(
                user=user,
                tenant=tenant,
                actor=actor_membership.user,
                role_label=membership.get_role_display(),
            )
        )
    audit_record(
        tenant=tenant,
        actor=actor_membership.user,
        action="member.invited",
        target=membership,
        changes={"role": [None, role], "user_created": created},
    )
    return membership


@transaction.atomic
def member_set_role(
    *, tenant: Tenant, actor_membership: Membership, membership: Membership, role: str
) -> Membership:
    _require(actor_membership, Perm.MANAGE_MEMBERS)
    _check_role_of_member(tenant=tenant, membership=membership, role=role)
    allowed = assignable_roles(actor_membership.role)
    if role not in allowed or membership.role not in allowed:
        raise ValidationError({"role": "Only an owner can grant or change the owner role."})
    return _role_set(tenant=tenant, actor=actor_membership.user, membership=membership, role=role)


def _require_staff(actor) -> None:
    if not getattr(actor, "is_staff", False):
        raise PermissionDenied("Only platform staff manage members outside the members page.")


def _check_role_of_member(*, tenant: Tenant, membership: Membership, role: str) -> None:
    if membership.tenant_id != tenant.pk:
        raise Membership.DoesNotExist
    if role not in Role.values:
        raise ValidationError({"role": "Unknown role."})


OWNER_NEEDED = "A tenant needs at least one owner."  # nobody could grant the role again


def _check_owner_kept(*, tenant: Tenant, membership: Membership, role: str, lock: bool) -> None:
    if membership.role != Role.OWNER or role == Role.OWNER:
        return
    owners = Membership.objects.filter(tenant=tenant, role=Role.OWNER)
    if lock:
        # Lock the owners before counting: two owners demoting each other at once would
        # each count two and leave the tenant without one.
        owners = owners.select_for_update()
    if len(owners.values_list("pk", flat=True)) <= 1:
        raise ValidationError({"role": OWNER_NEEDED})


def _role_set(*, tenant: Tenant, actor, membership: Membership, role: str) -> Membership:
    _check_owner_kept(tenant=tenant, membership=membership, role=role, lock=True)
    old = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        tenant=tenant,
        actor=actor,
        action="member.role_changed",
        target=membership,
        changes={"role": [old, role]},
    )
    return membership


def member_role_validate(*, tenant: Tenant, membership: Membership, role: str) -> None:
    """Raise the ValidationError member_set_role_by_staff would raise for giving
    ``membership`` (as stored) ``role``, saving nothing: for forms that show it first."""
    _check_role_of_member(tenant=tenant, membership=membership, role=role)
    _check_owner_kept(tenant=tenant, membership=membership, role=role, lock=False)


@transaction.atomic
def member_set_role_by_staff(
    *, tenant: Tenant, actor, membership: Membership, role: str
) -> Membership:
    """Platform staff (Django admin) give a member any role; audited like a change on the
    members page, and the tenant keeps an owner."""
    _require_staff(actor)
    _check_role_of_member(tenant=tenant, membership=membership, role=role)
    return _role_set(tenant=tenant, actor=actor, membership=membership, role=role)


def member_roles_validate(
    *, tenant: Tenant, roles: dict[int, str], removed: Collection[int] = ()
) -> None:
    """Raise the ValidationError of giving the tenant's members (by membership id) these
    roles in one save, with the memberships ``removed`` gone, saving nothing: each row of a
    page may leave the tenant an owner while the rows together leave none."""
    if any(role not in Role.values for role in roles.values()):
        raise ValidationError({"role": "Unknown role."})
    stored = dict(Membership.objects.filter(tenant=tenant).values_list("pk", "role"))
    if roles.keys() - stored.keys():
        raise Membership.DoesNotExist
    removed = set(removed)
    after = [roles.get(pk, role) for pk, role in stored.items() if pk not in removed]
    if Role.OWNER in stored.values() and Role.OWNER not in after:
        raise ValidationError({"role": OWNER_NEEDED})


@transaction.atomic
def member_roles_set_by_staff(*, tenant: Tenant, actor, roles: dict[int, str]) -> None:
    """Platform staff (Django admin's tenant page) give several members (by membership id)
    their roles in one save, each change audited as by member_set_role_by_staff. Owners are
    granted before any is demoted: the owner role handed from one member to another keeps
    the tenant an owner at every step, which each change checks."""
    _require_staff(actor)
    memberships = list(Membership.objects.filter(tenant=tenant, pk__in=roles).order_by("pk"))
    if len(memberships) != len(roles):
        raise Membership.DoesNotExist
    for membership in sorted(memberships, key=lambda m: roles[m.pk] != Role.OWNER):
        role = roles[membership.pk]
        _check_role_of_member(tenant=tenant, membership=membership, role=role)
        if role != membership.role:
            _role_set(tenant=tenant, actor=actor, membership=membership, role=role)


@transaction.atomic
def member_add_by_staff(*, tenant: Tenant, actor, user, role: str) -> Membership:
    """Platform staff (Django admin) add an existing user to the tenant; audited like an
    invitation on the members page."""
    _require_staff(actor)
    if role not in Role.values:
        raise ValidationError({"role": "Unknown role."})
    membership = Membership.objects.create(tenant=tenant, user=user, role=role)
    audit_record(
        tenant=tenant,
        actor=actor,
        action="member.invited",
        target=membership,
        changes={"role": [None, role], "user_created": False},
    )
    return membership


def _removal_check(*, memberships: Iterable[Membership], lock: bool) -> list[Membership]:
    """The stored rows of ``memberships`` (those still there); raise the ValidationError of
    removing them all when that would leave a tenant which has an owner without one."""
    pks = {m.pk for m in memberships}
    if not pks:
        return []
    rows = (
        Membership.objects.filter(
            tenant__in=Membership.objects.filter(pk__in=pks).values("tenant_id")
        )
        .select_related("tenant", "user")
        # the order _check_owner_kept locks owners in: the two never wait on each other
        .order_by(*Membership._meta.ordering, "pk")
    )
    if lock:
        # Lock every member of the tenants before counting their owners: two staff removing
        # one owner each at once would each count two and leave the tenant without one.
        rows = rows.select_for_update(of=("self",))
    rows = list(rows)
    owners_left = {m.tenant_id for m in rows if m.role == Role.OWNER and m.pk not in pks}
    ownerless = {
        m.tenant_id: m.tenant.name
        for m in rows
        if m.role == Role.OWNER and m.pk in pks and m.tenant_id not in owners_left
    }
    if ownerless:
        raise ValidationError(
            "A tenant needs at least one owner, and this would leave none in %(tenants)s. "
            "Make another member an owner first.",
            code="owner_needed",
            params={"tenants": ", ".join(sorted(ownerless.values()))},
        )
    return [m for m in rows if m.pk in pks]


def member_removal_validate(*, memberships: Iterable[Membership]) -> None:
    """Raise the ValidationError member_remove_by_staff would raise for ``memberships``,
    removing nothing: for the admin's confirmation pages, which refuse before they ask."""
    _removal_check(memberships=memberships, lock=False)


@transaction.atomic
def member_remove_by_staff(*, actor, memberships: Iterable[Membership]) -> int:
    """Platform staff (Django admin) remove members, of one tenant or several at once (the
    tenant is each membership's own): all of them, or none when that would leave a tenant
    that has an owner without one. Returns how many were removed (one already gone is
    skipped)."""
    _require_staff(actor)
    return _members_remove(actor=actor, memberships=memberships)


@transaction.atomic
def member_remove(*, tenant: Tenant, actor_membership: Membership, membership: Membership) -> None:
    """On the members page: an owner or admin removes a member (only an owner removes an
    owner), or a member leaves (``membership`` is their own); never the last owner."""
    if membership.tenant_id != tenant.pk or actor_membership.tenant_id != tenant.pk:
        raise PermissionDenied("That member belongs to another tenant.")
    if membership.pk != actor_membership.pk:
        _require(actor_membership, Perm.MANAGE_MEMBERS)
        if membership.role not in assignable_roles(actor_membership.role):
            raise ValidationError("Only an owner can remove an owner.")
    _members_remove(actor=actor_membership.user, memberships=[membership])


def _members_remove(*, actor, memberships: Iterable[Membership]) -> int:
    """Remove ``memberships`` (all, or none when a tenant would be left without an owner),
    each audited in its tenant's trail with the role it had, and revoke the member's API
    tokens for that tenant: added again later, the person gets no old key back."""
    removed = _removal_check(memberships=memberships, lock=True)
    for membership in removed:
        audit_record(
            tenant=membership.tenant,
            actor=actor,
            action="member.removed",
            target=membership,
            changes={"role": [membership.role, None]},
        )
        tokens = ApiToken.objects.for_tenant(membership.tenant).active()
        for token in tokens.filter(user_id=membership.user_id).order_by("pk"):
            api_token_revoke(tenant=membership.tenant, token=token, actor=actor)
    Membership.objects.filter(pk__in=[m.pk for m in removed]).delete()
    return len(removed)


def api_token_create(*, tenant: Tenant, user, name: str) -> tuple[ApiToken, str]:
    """Returns the token and its key; the key is shown once and only its hash is stored."""
    if not Membership.objects.filter(tenant=tenant, user=user).exists():
        raise PermissionDenied("Only members of a tenant get tokens for it.")
    key = ApiToken.generate_key()
    token = ApiToken.objects.create(
        tenant=tenant, user=user, name=name, prefix=key[:8], key_hash=ApiToken.hash_key(key)
    )
    audit_record(tenant=tenant, actor=user, action="api_token.created", target=token)
    return token, key


def api_token_revoke(*, tenant: Tenant, token: ApiToken, actor) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(tenant=tenant, actor=actor, action="api_token.revoked", target=token)
    return token


def user_deletion_validate(*, users: Iterable) -> None:
    """Raise the ValidationError user_delete_by_staff would raise for ``users``, deleting
    nothing: for the admin's confirmation pages, which refuse before they ask."""
    member_removal_validate(memberships=Membership.objects.filter(user__in=[u.pk for u in users]))


@transaction.atomic
def user_delete_by_staff(*, actor, users: Iterable) -> int:
    """Platform staff (Django admin) delete user accounts: all of them, or none when that
    would leave a tenant that has an owner without one. The accounts' memberships are removed
    as member_remove_by_staff removes them and their active API tokens revoked as
    api_token_revoke does, each in its tenant's audit trail, rather than cascaded away
    unrecorded. Runs, uploads, channel feeds and audit events they made stay, without the
    link (their audit events keep the username). Returns how many accounts were deleted."""
    _require_staff(actor)
    # Lock the accounts first: a membership or token added for one meanwhile waits for this
    # and then fails on the deleted account, instead of being cascaded away unaudited.
    pks = list(
        User.objects.filter(pk__in=[u.pk for u in users])
        .order_by("pk")
        .select_for_update()
        .values_list("pk", flat=True)
    )
    member_remove_by_staff(actor=actor, memberships=Membership.objects.filter(user__in=pks))
    tokens = ApiToken.objects.active().filter(user__in=pks).select_related("tenant")
    for token in tokens.order_by("pk"):
        api_token_revoke(tenant=token.tenant, token=token, actor=actor)
    User.objects.filter(pk__in=pks).delete()
    return len(pks)
