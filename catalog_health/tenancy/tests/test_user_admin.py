"""Deleting a user in Django admin removes the user's memberships as removing them there does:
a delete that would leave a tenant without an owner deletes nothing and names the tenants, and
each removal is in its tenant's audit trail with the staff member. The rest of the stock user
admin (passwords, permissions) is unchanged."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from catalog_health.tenancy.models import ApiToken, AuditEvent, Membership
from catalog_health.tenancy.roles import Role
from catalog_health.tenancy.services import api_token_create
from catalog_health.tenancy.tests.admin_deletes import (
    NO_OWNER_LEFT,
    admin_delete,
    admin_delete_selected,
    admin_messages,
    admin_url,
)

pytestmark = pytest.mark.django_db

User = get_user_model()


def _removals() -> list[tuple]:
    """The member.removed events: (tenant id, actor, removed user, role change), by tenant."""
    events = AuditEvent.objects.filter(action="member.removed").order_by("tenant_id", "pk")
    return [
        (e.tenant_id, e.actor.username, e.target_repr.split(" @ ")[0], e.changes["role"])
        for e in events
    ]


@pytest.mark.parametrize("step", ["confirmation page", "confirmed"])
def test_a_tenants_last_owner_is_not_deleted_in_admin(admin_client, member, tenant_a, step):
    """Nobody could manage the tenant's members again."""
    owner = member(tenant_a, Role.OWNER, username="ann")
    member(tenant_a, Role.ADMIN)
    response = admin_delete(admin_client, owner, step=step)
    assert response.status_code == 200
    assert response.redirect_chain == [(admin_url(owner, "change"), 302)]
    assert admin_messages(response) == [("error", NO_OWNER_LEFT.format(tenants="Tenant A"))]
    assert Membership.objects.filter(user=owner, tenant=tenant_a, role=Role.OWNER).exists()
    assert _removals() == []


@pytest.mark.parametrize("confirmed", [False, True], ids=["confirmation page", "confirmed"])
def test_the_last_owners_of_tenants_selected_for_delete_in_admin_are_refused(
    admin_client, member, tenant_a, tenant_b, confirmed
):
    """The message names every tenant that would be left without an owner."""
    owners = [member(tenant_a, Role.OWNER), member(tenant_b, Role.OWNER)]
    response = admin_delete_selected(admin_client, owners, confirmed=confirmed)
    assert response.status_code == 200
    assert response.templates[0].name == "admin/change_list.html"
    tenants = "Tenant A, Tenant B"
    assert admin_messages(response) == [("error", NO_OWNER_LEFT.format(tenants=tenants))]
    assert User.objects.filter(pk__in=[u.pk for u in owners]).count() == 2
    assert Membership.objects.filter(role=Role.OWNER).count() == 2
    assert _removals() == []


def test_two_owners_of_one_tenant_deleted_at_once_in_admin_are_refused(
    admin_client, member, tenant_a
):
    """Each user alone leaves the tenant an owner; together they leave none."""
    owners = [member(tenant_a, Role.OWNER, username=n) for n in ("first", "second")]
    response = admin_delete_selected(admin_client, owners)
    assert admin_messages(response) == [("error", NO_OWNER_LEFT.format(tenants="Tenant A"))]
    assert User.objects.filter(pk__in=[u.pk for u in owners]).count() == 2
    assert _removals() == []


def test_a_bulk_delete_in_admin_mixing_allowed_and_refused_users_deletes_nothing(
    admin_client, member, tenant_a, tenant_b
):
    """One "Delete selected" is done whole or not at all."""
    member(tenant_a, Role.OWNER)
    viewer_a = member(tenant_a, Role.VIEWER)
    owner_b = member(tenant_b, Role.OWNER)
    response = admin_delete_selected(admin_client, [viewer_a, owner_b])
    assert admin_messages(response) == [("error", NO_OWNER_LEFT.format(tenants="Tenant B"))]
    assert User.objects.filter(pk__in=[viewer_a.pk, owner_b.pk]).count() == 2
    assert Membership.objects.filter(user__in=[viewer_a, owner_b]).count() == 2
    assert _removals() == []


def test_an_owner_of_a_tenant_with_another_owner_is_deleted_and_each_removal_audited(
    admin_client, client_for, member, tenant_a, tenant_b
):
    """The user's memberships go through the members' removal: in each tenant's trail."""
    staying_owner = member(tenant_a, Role.OWNER, username="staying")
    leaving = member(tenant_a, Role.OWNER, username="ann")
    Membership.objects.create(tenant=tenant_b, user=leaving, role=Role.SELLER)
    member(tenant_b, Role.OWNER)
    page = admin_delete(admin_client, leaving, step="confirmation page")
    assert page.templates[0].name == "admin/delete_confirmation.html"
    response = admin_delete(admin_client, leaving)
    assert admin_messages(response)[0][0] == "success"
    assert not User.objects.filter(pk=leaving.pk).exists()
    assert _removals() == [
        (tenant_a.pk, "admin", "ann", [Role.OWNER, None]),
        (tenant_b.pk, "admin", "ann", [Role.SELLER, None]),
    ]
    members_page = reverse("tenancy:members", kwargs={"tenant_slug": tenant_a.slug})
    activity = client_for(staying_owner).get(members_page).content.decode()
    assert "Removed ann @ Tenant A, who was Owner" in activity


def test_users_deleted_at_once_in_admin_each_have_their_removals_audited(
    admin_client, member, tenant_a, tenant_b
):
    member(tenant_a, Role.OWNER, username="first")
    second = member(tenant_a, Role.OWNER, username="second")
    seller = member(tenant_b, Role.SELLER, username="sam")
    member(tenant_b, Role.OWNER)
    loner = User.objects.create_user("no-tenant")
    response = admin_delete_selected(admin_client, [second, seller, loner])
    assert admin_messages(response) == [("success", "Successfully deleted 3 users.")]
    assert not User.objects.filter(pk__in=[second.pk, seller.pk, loner.pk]).exists()
    assert _removals() == [
        (tenant_a.pk, "admin", "second", [Role.OWNER, None]),
        (tenant_b.pk, "admin", "sam", [Role.SELLER, None]),
    ]


def test_a_deleted_users_tokens_are_revoked_in_the_tenants_trail(admin_client, member, tenant_a):
    """An integration on the user's key stops working: the tenant's trail says so."""
    member(tenant_a, Role.OWNER)
    integrator = member(tenant_a, Role.SELLER)
    token, _key = api_token_create(tenant=tenant_a, user=integrator, name="CI")
    revoked, _key = api_token_create(tenant=tenant_a, user=integrator, name="old")
    revoked.revoked_at = revoked.created_at
    revoked.save()
    AuditEvent.objects.filter(action="api_token.created").delete()
    assert admin_messages(admin_delete(admin_client, integrator))[0][0] == "success"
    assert not ApiToken.objects.exists()
    event = AuditEvent.objects.get(action="api_token.revoked")
    assert (event.tenant_id, event.actor.username) == (tenant_a.pk, "admin")
    assert event.target_repr == str(token)


def test_what_a_deleted_user_did_still_names_them_in_the_tenants_trail(
    admin_client, client, member, tenant_a
):
    """Not "system", which is what the platform does by itself (ECR switching off …)."""
    owner = member(tenant_a, Role.OWNER, username="olga")
    leaving = member(tenant_a, Role.ADMIN, username="ann")
    client.force_login(leaving)
    members_page = reverse("tenancy:members", kwargs={"tenant_slug": tenant_a.slug})
    client.post(members_page, {"username": "bob", "email": "bob@example.com", "role": "viewer"})
    assert AuditEvent.objects.filter(action="member.invited", actor=leaving).exists()
    assert admin_messages(admin_delete(admin_client, leaving))[0][0] == "success"
    client.force_login(owner)
    response = client.get(members_page)
    rows = {
        row.sentence: row.actor
        for row in response.context["audit_events"]
        if row.sentence.startswith(("Invited", "Removed"))
    }
    assert rows == {
        "Invited bob @ Tenant A as Viewer": "ann (deleted user)",
        "Removed ann @ Tenant A, who was Admin": "admin",
    }
    assert "ann (deleted user)" in response.content.decode()
    audit_list = admin_client.get(reverse("admin:tenancy_auditevent_changelist"))
    assert "ann (deleted user)" in audit_list.content.decode()


def test_the_stock_user_admin_still_changes_passwords_and_permissions(admin_client):
    from django.contrib.auth.models import Permission

    user = User.objects.create_user("pat", password="old-password-1")
    password_url = admin_url(user, "password_change")
    new = "a-new-Password-2"
    form = {"password1": new, "password2": new, "usable_password": "true"}
    assert admin_client.post(password_url, form).status_code == 302
    user.refresh_from_db()
    assert user.check_password(new)
    change_page = admin_client.get(admin_url(user, "change"))
    fields = change_page.context["adminform"].form.fields
    assert {"is_staff", "is_superuser", "groups", "user_permissions"} <= fields.keys()
    permission = Permission.objects.get(codename="view_tenant")
    form = {
        "username": "pat",
        "is_active": "on",
        "is_staff": "on",
        "user_permissions": [permission.pk],
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    change_url = admin_url(user, "change")
    assert admin_client.post(change_url, form).status_code == 302
    user.refresh_from_db()
    assert user.is_staff and user.has_perm("tenancy.view_tenant")


def test_a_deleted_users_refused_access_still_names_them(member, tenant_a):
    """However the account is deleted (here: not in admin), its audit events keep its name."""
    from catalog_health.tenancy.services import access_denied_record

    viewer = member(tenant_a, Role.VIEWER, username="vic")
    event = access_denied_record(
        tenant=tenant_a, user=viewer, action="catalog_edit", permission="edit_catalogs"
    )
    Membership.objects.filter(user=viewer).delete()
    viewer.delete()
    event.refresh_from_db()
    assert (event.actor, event.actor_username) == (None, "vic")


@pytest.mark.django_db(transaction=True)
def test_the_migration_names_each_existing_events_actor(tenant_a, user_factory):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("tenancy", "0003_tenant_currency_iso_4217")]
    ann = user_factory("ann")
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old = MigrationExecutor(connection).loader.project_state(before)
        OldEvent = old.apps.get_model("tenancy", "AuditEvent")  # no actor_username yet
        by_ann = OldEvent.objects.create(tenant_id=tenant_a.pk, actor_id=ann.pk, action="x.y")
        by_system = OldEvent.objects.create(tenant_id=tenant_a.pk, action="ecr.disabled")
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    names = dict(AuditEvent.objects.values_list("pk", "actor_username"))
    assert (names[by_ann.pk], names[by_system.pk]) == ("ann", "")
