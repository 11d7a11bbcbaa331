"""Django admin changes members, API tokens and a tenant's settings as the tenant's own pages
do: through the tenancy services, so each change is in the tenant's audit trail (the members
page's Recent activity) with the staff member who made it, and the services' rules hold."""

from __future__ import annotations

import pytest
from django.urls import reverse

from catalog_health.tenancy.models import ApiToken, AuditEvent, Membership, Tenant
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


def _membership_form(membership: Membership, **changes) -> dict:
    return {
        "user": membership.user_id,
        "tenant": membership.tenant_id,
        "role": membership.role,
        **changes,
    }


def _change_url(obj) -> str:
    return admin_url(obj, "change")


def test_a_role_changed_in_admin_is_audited_with_the_staff_member(admin_client, member, tenant_a):
    membership = Membership.objects.get(user=member(tenant_a, Role.VIEWER))
    form = _membership_form(membership, role=Role.ADMIN)
    assert admin_client.post(_change_url(membership), form).status_code == 302
    membership.refresh_from_db()
    assert membership.role == Role.ADMIN
    event = AuditEvent.objects.get(action="member.role_changed")
    assert event.changes == {"role": [Role.VIEWER, Role.ADMIN]}
    assert (event.tenant_id, event.actor.username) == (tenant_a.pk, "admin")


def test_the_last_owner_keeps_the_role_in_admin(admin_client, member, tenant_a):
    """Nobody could grant the owner role again."""
    membership = Membership.objects.get(user=member(tenant_a, Role.OWNER))
    response = admin_client.post(
        _change_url(membership), _membership_form(membership, role=Role.ADMIN)
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["role"] == [
        "A tenant needs at least one owner."
    ]
    membership.refresh_from_db()
    assert membership.role == Role.OWNER


def test_a_member_stays_the_same_user_of_the_same_tenant_in_admin(
    admin_client, member, tenant_a, tenant_b, user_factory
):
    membership = Membership.objects.get(user=member(tenant_a, Role.VIEWER))
    other = user_factory("someone-else")
    form = _membership_form(membership, tenant=tenant_b.pk, user=other.pk)
    assert admin_client.post(_change_url(membership), form).status_code == 302
    membership.refresh_from_db()
    assert (membership.tenant_id, membership.user_id) != (tenant_b.pk, other.pk)
    assert membership.tenant_id == tenant_a.pk


def test_a_member_added_in_admin_is_audited_with_the_staff_member(
    admin_client, tenant_a, user_factory
):
    user = user_factory("newcomer")
    form = {"user": user.pk, "tenant": tenant_a.pk, "role": Role.SELLER}
    assert admin_client.post(reverse("admin:tenancy_membership_add"), form).status_code == 302
    membership = Membership.objects.get(tenant=tenant_a, user=user)
    assert membership.role == Role.SELLER
    event = AuditEvent.objects.get(action="member.invited")
    assert event.target_id == str(membership.pk)
    assert event.changes == {"role": [None, Role.SELLER], "user_created": False}
    assert event.actor.username == "admin"


def _tenant_form(tenant: Tenant, memberships: list[Membership], **changes) -> dict:
    data = {
        "name": tenant.name,
        "slug": tenant.slug,
        "time_zone": tenant.time_zone,
        "currency": tenant.currency,
        "date_order": tenant.date_order,
        "memberships-TOTAL_FORMS": len(memberships),
        "memberships-INITIAL_FORMS": len(memberships),
    }
    for i, m in enumerate(memberships):
        data |= {
            f"memberships-{i}-id": m.pk,
            f"memberships-{i}-tenant": tenant.pk,
            f"memberships-{i}-user": m.user_id,
            f"memberships-{i}-role": m.role,
        }
    return {**data, **changes}


def test_a_role_changed_on_the_tenants_admin_page_is_audited(admin_client, member, tenant_a):
    member(tenant_a, Role.OWNER)
    viewer = Membership.objects.get(user=member(tenant_a, Role.VIEWER))
    memberships = list(Membership.objects.filter(tenant=tenant_a).order_by("pk"))
    index = memberships.index(viewer)
    form = _tenant_form(tenant_a, memberships, **{f"memberships-{index}-role": Role.ADVERTISER})
    assert admin_client.post(_change_url(tenant_a), form).status_code == 302
    viewer.refresh_from_db()
    assert viewer.role == Role.ADVERTISER
    event = AuditEvent.objects.get(action="member.role_changed")
    assert event.changes == {"role": [Role.VIEWER, Role.ADVERTISER]}
    assert event.actor.username == "admin"


def test_the_last_owner_keeps_the_role_on_the_tenants_admin_page(admin_client, member, tenant_a):
    owner = Membership.objects.get(user=member(tenant_a, Role.OWNER))
    form = _tenant_form(tenant_a, [owner], **{"memberships-0-role": Role.VIEWER})
    response = admin_client.post(_change_url(tenant_a), form)
    assert response.status_code == 200
    assert "A tenant needs at least one owner." in response.content.decode()
    owner.refresh_from_db()
    assert owner.role == Role.OWNER


def _owners_form(tenant: Tenant, **rows) -> dict:
    """The tenant's admin page with its members (by pk), each row's changes by username."""
    memberships = list(Membership.objects.filter(tenant=tenant).order_by("pk"))
    changes = {}
    for i, m in enumerate(memberships):
        for field, value in rows.get(m.user.username, {}).items():
            changes[f"memberships-{i}-{field}"] = value
    return _tenant_form(tenant, memberships, **changes)


@pytest.mark.parametrize(
    "second_owner",
    [{"role": Role.ADMIN}, {"DELETE": "on"}],
    ids=["demoted", "removed"],
)
def test_every_owner_demoted_or_removed_in_one_save_of_the_tenants_page_is_refused(
    admin_client, member, tenant_a, second_owner
):
    """Each row alone leaves an owner; together they leave none."""
    member(tenant_a, Role.OWNER, username="first-owner")
    member(tenant_a, Role.OWNER, username="second-owner")
    form = _owners_form(
        tenant_a, **{"first-owner": {"role": Role.VIEWER}, "second-owner": second_owner}
    )
    response = admin_client.post(_change_url(tenant_a), form)
    assert response.status_code == 200
    [members] = response.context["inline_admin_formsets"]
    assert members.formset.non_form_errors() == ["A tenant needs at least one owner."]
    assert "A tenant needs at least one owner." in response.content.decode()
    assert Membership.objects.filter(tenant=tenant_a, role=Role.OWNER).count() == 2
    assert not AuditEvent.objects.filter(action="member.role_changed").exists()


def test_the_owner_role_handed_over_in_one_save_of_the_tenants_admin_page(
    admin_client, member, tenant_a
):
    """The owner's row comes first: the tenant keeps an owner once the save is done."""
    member(tenant_a, Role.OWNER, username="leaving-owner")
    member(tenant_a, Role.ADMIN, username="next-owner")
    form = _owners_form(
        tenant_a,
        **{"leaving-owner": {"role": Role.VIEWER}, "next-owner": {"role": Role.OWNER}},
    )
    assert admin_client.post(_change_url(tenant_a), form).status_code == 302
    roles = dict(Membership.objects.filter(tenant=tenant_a).values_list("user__username", "role"))
    assert roles == {"leaving-owner": Role.VIEWER, "next-owner": Role.OWNER}
    changes = AuditEvent.objects.filter(action="member.role_changed").values_list(
        "changes", flat=True
    )
    assert sorted(c["role"] for c in changes) == [
        [Role.ADMIN, Role.OWNER],
        [Role.OWNER, Role.VIEWER],
    ]


def test_a_member_removed_on_the_tenants_admin_page_is_audited(admin_client, member, tenant_a):
    member(tenant_a, Role.OWNER, username="owner")
    viewer = Membership.objects.get(user=member(tenant_a, Role.VIEWER, username="viewer"))
    form = _owners_form(tenant_a, viewer={"DELETE": "on"})
    assert admin_client.post(_change_url(tenant_a), form).status_code == 302
    assert not Membership.objects.filter(pk=viewer.pk).exists()
    assert _removals() == [(tenant_a.pk, "admin", str(viewer.pk), [Role.VIEWER, None])]


def test_the_owner_leaving_as_another_member_becomes_owner_in_one_save_of_the_tenants_page(
    admin_client, member, tenant_a
):
    """The new owner is made before the old one goes: the tenant has an owner at every step."""
    leaving = Membership.objects.get(user=member(tenant_a, Role.OWNER, username="leaving-owner"))
    member(tenant_a, Role.ADMIN, username="next-owner")
    form = _owners_form(
        tenant_a, **{"leaving-owner": {"DELETE": "on"}, "next-owner": {"role": Role.OWNER}}
    )
    assert admin_client.post(_change_url(tenant_a), form).status_code == 302
    roles = dict(Membership.objects.filter(tenant=tenant_a).values_list("user__username", "role"))
    assert roles == {"next-owner": Role.OWNER}
    assert _removals() == [(tenant_a.pk, "admin", str(leaving.pk), [Role.OWNER, None])]
    assert AuditEvent.objects.filter(action="member.role_changed").count() == 1


def _removals() -> list[tuple]:
    """The member.removed events: (tenant id, actor, membership id, role change), oldest first."""
    events = AuditEvent.objects.filter(action="member.removed").order_by("pk")
    return [(e.tenant_id, e.actor.username, e.target_id, e.changes["role"]) for e in events]


def test_a_member_deleted_in_admin_is_audited_with_the_staff_member(
    admin_client, client_for, member, tenant_a
):
    owner = member(tenant_a, Role.OWNER)
    viewer = Membership.objects.get(user=member(tenant_a, Role.VIEWER, username="ann"))
    assert admin_messages(admin_delete(admin_client, viewer))[0][0] == "success"
    assert not Membership.objects.filter(pk=viewer.pk).exists()
    assert _removals() == [(tenant_a.pk, "admin", str(viewer.pk), [Role.VIEWER, None])]
    members_page = reverse("tenancy:members", kwargs={"tenant_slug": tenant_a.slug})
    activity = client_for(owner).get(members_page).content.decode()
    assert "Removed ann @ Tenant A, who was Viewer" in activity


@pytest.mark.parametrize("step", ["confirmation page", "confirmed"])
def test_the_last_owner_is_not_deleted_in_admin(admin_client, member, tenant_a, step):
    """Nobody could manage the tenant's members again; the other members stay as they are."""
    owner = Membership.objects.get(user=member(tenant_a, Role.OWNER))
    member(tenant_a, Role.ADMIN)
    response = admin_delete(admin_client, owner, step=step)
    assert response.status_code == 200
    assert response.redirect_chain == [(_change_url(owner), 302)]
    assert admin_messages(response) == [("error", NO_OWNER_LEFT.format(tenants="Tenant A"))]
    assert Membership.objects.filter(pk=owner.pk, role=Role.OWNER).exists()
    assert _removals() == []


@pytest.mark.parametrize("confirmed", [False, True], ids=["confirmation page", "confirmed"])
def test_every_owner_of_a_tenant_deleted_at_once_in_admin_is_refused(
    admin_client, member, tenant_a, confirmed
):
    """Each row alone leaves an owner; together they leave none."""
    owners = [
        Membership.objects.get(user=member(tenant_a, Role.OWNER, username=name))
        for name in ("first-owner", "second-owner")
    ]
    response = admin_delete_selected(admin_client, owners, confirmed=confirmed)
    assert response.status_code == 200
    assert response.templates[0].name == "admin/change_list.html"
    assert admin_messages(response) == [("error", NO_OWNER_LEFT.format(tenants="Tenant A"))]
    assert Membership.objects.filter(tenant=tenant_a, role=Role.OWNER).count() == 2
    assert _removals() == []


def test_a_delete_in_admin_that_leaves_one_tenant_ownerless_deletes_nothing(
    admin_client, member, tenant_a, tenant_b
):
    """One "Delete selected" is done whole or not at all: the message names the tenant that
    would lose its owner, and the members that could go stay too."""
    member(tenant_a, Role.OWNER)
    viewer_a = Membership.objects.get(user=member(tenant_a, Role.VIEWER))
    owner_b = Membership.objects.get(user=member(tenant_b, Role.OWNER))
    response = admin_delete_selected(admin_client, [viewer_a, owner_b])
    assert admin_messages(response) == [("error", NO_OWNER_LEFT.format(tenants="Tenant B"))]
    assert Membership.objects.filter(pk__in=[viewer_a.pk, owner_b.pk]).count() == 2
    assert _removals() == []


def test_members_of_several_tenants_deleted_at_once_in_admin_are_each_audited(
    admin_client, member, tenant_a, tenant_b
):
    first_owner = Membership.objects.get(user=member(tenant_a, Role.OWNER, username="first"))
    member(tenant_a, Role.OWNER, username="second")
    member(tenant_b, Role.OWNER)
    seller_b = Membership.objects.get(user=member(tenant_b, Role.SELLER))
    response = admin_delete_selected(admin_client, [first_owner, seller_b])
    assert admin_messages(response) == [("success", "Successfully deleted 2 memberships.")]
    assert not Membership.objects.filter(pk__in=[first_owner.pk, seller_b.pk]).exists()
    assert sorted(_removals()) == sorted(
        [
            (tenant_a.pk, "admin", str(first_owner.pk), [Role.OWNER, None]),
            (tenant_b.pk, "admin", str(seller_b.pk), [Role.SELLER, None]),
        ]
    )


def test_a_date_order_changed_in_admin_is_audited_with_the_staff_member(admin_client, tenant_a):
    form = _tenant_form(tenant_a, [], date_order="dmy")
    assert admin_client.post(_change_url(tenant_a), form).status_code == 302
    tenant_a.refresh_from_db()
    assert tenant_a.date_order == "dmy"
    event = AuditEvent.objects.get(action="tenant.settings_changed")
    assert event.changes == {"date_order": ["", "dmy"]}
    assert event.actor.username == "admin"


def test_a_token_revoked_in_admin_is_audited_with_the_staff_member(admin_client, member, tenant_a):
    token, _key = api_token_create(tenant=tenant_a, user=member(tenant_a), name="CI")
    action = {"action": "revoke", "_selected_action": [token.pk]}
    response = admin_client.post(reverse("admin:tenancy_apitoken_changelist"), action)
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    event = AuditEvent.objects.get(action="api_token.revoked")
    assert (event.target_id, event.actor.username) == (str(token.pk), "admin")


def test_staff_who_may_only_view_tokens_cannot_revoke_one(
    client, django_user_model, member, tenant_a
):
    from django.contrib.auth.models import Permission

    token, _key = api_token_create(tenant=tenant_a, user=member(tenant_a), name="CI")
    viewer = django_user_model.objects.create_user("auditor", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_apitoken"))
    client.force_login(viewer)
    action = {"action": "revoke", "_selected_action": [token.pk]}
    client.post(reverse("admin:tenancy_apitoken_changelist"), action)
    token.refresh_from_db()
    assert token.revoked_at is None


def test_a_tokens_owner_tenant_and_revocation_are_not_edited_in_admin(
    admin_client, member, tenant_a, tenant_b
):
    """Moving a key to another user or tenant would hand it their data; un-revoking would
    bring back a key its owner withdrew, unaudited."""
    owner = member(tenant_a)
    token, _key = api_token_create(tenant=tenant_a, user=owner, name="CI")
    token.revoked_at = token.created_at
    token.save()
    form = {
        "name": "CI",
        "tenant": tenant_b.pk,
        "user": member(tenant_b).pk,
        "revoked_at_0": "",
        "revoked_at_1": "",
    }
    assert admin_client.post(_change_url(token), form).status_code == 302
    token.refresh_from_db()
    assert (token.tenant_id, token.user_id) == (tenant_a.pk, owner.pk)
    assert token.revoked_at is not None


def test_tokens_are_not_added_in_admin(admin_client):
    """Its key is shown once, where it is made: the API tokens page."""
    assert admin_client.get(reverse("admin:tenancy_apitoken_add")).status_code == 403
    assert not ApiToken.objects.exists()
