"""Owners and admins remove members on the Members page, and any member leaves a tenant
themselves; a tenant always keeps an owner, and a removed member's API tokens for it are
revoked (re-adding the person must not bring old keys back to life)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from catalog_health.tenancy.models import ApiToken, AuditEvent, Membership
from catalog_health.tenancy.roles import Role
from catalog_health.tenancy.services import api_token_create, member_add_by_staff

pytestmark = pytest.mark.django_db


def members_url(tenant):
    return reverse("tenancy:members", kwargs={"tenant_slug": tenant.slug})


def remove(client, tenant, membership):
    return client.post(members_url(tenant), {"remove_membership_id": membership.pk}, follow=True)


def membership_of(user, tenant):
    return Membership.objects.get(user=user, tenant=tenant)


def test_an_owner_removes_a_member_and_their_tokens_stop(
    client, member, tenant_a, tenant_b, user_factory
):
    owner = member(tenant_a, Role.OWNER, username="olga")
    sam = member(tenant_a, Role.SELLER, username="sam")
    Membership.objects.create(tenant=tenant_b, user=sam, role=Role.SELLER)
    token_a, key_a = api_token_create(tenant=tenant_a, user=sam, name="erp")
    token_b, _ = api_token_create(tenant=tenant_b, user=sam, name="erp")
    client.force_login(owner)
    page = remove(client, tenant_a, membership_of(sam, tenant_a))
    assert "sam was removed from Tenant A" in page.content.decode()
    assert not Membership.objects.filter(user=sam, tenant=tenant_a).exists()
    assert Membership.objects.filter(user=sam, tenant=tenant_b).exists()
    token_a.refresh_from_db()
    token_b.refresh_from_db()
    assert token_a.revoked_at is not None and token_b.revoked_at is None
    actions = set(AuditEvent.objects.filter(tenant=tenant_a).values_list("action", flat=True))
    assert {"member.removed", "api_token.revoked"} <= actions
    # added again later, the old key stays dead
    staff = user_factory("staff", is_staff=True)
    member_add_by_staff(tenant=tenant_a, actor=staff, user=sam, role=Role.SELLER)
    answer = client.get("/api/v1/catalogs/", HTTP_AUTHORIZATION=f"Token {key_a}")
    assert answer.status_code == 401


@pytest.mark.parametrize(
    "actor_role, target_role, removed",
    [
        (Role.OWNER, Role.OWNER, True),  # with another owner left
        (Role.OWNER, Role.ADMIN, True),
        (Role.ADMIN, Role.SELLER, True),
        (Role.ADMIN, Role.OWNER, False),  # only an owner touches an owner
        (Role.ADMIN, Role.ADMIN, True),
    ],
)
def test_who_may_remove_whom(client, member, tenant_a, actor_role, target_role, removed):
    member(tenant_a, Role.OWNER, username="first-owner")
    actor = member(tenant_a, actor_role, username="actor")
    target = member(tenant_a, target_role, username="target")
    client.force_login(actor)
    page = remove(client, tenant_a, membership_of(target, tenant_a)).content.decode()
    assert Membership.objects.filter(user=target).exists() is not removed
    if not removed:
        assert "Only an owner can remove an owner" in page


def test_roles_that_do_not_manage_members_cannot_remove_others(client, member, tenant_a):
    target = member(tenant_a, Role.SELLER, username="target")
    client.force_login(member(tenant_a, Role.ADVERTISER))
    answer = client.post(members_url(tenant_a), {"remove_membership_id": target.pk})
    assert answer.status_code == 403
    assert Membership.objects.filter(user=target).exists()


def test_another_tenants_membership_is_a_404(client, member, tenant_a, tenant_b):
    stranger = member(tenant_b, Role.SELLER, username="stranger")
    client.force_login(member(tenant_a, Role.OWNER))
    answer = client.post(
        members_url(tenant_a), {"remove_membership_id": membership_of(stranger, tenant_b).pk}
    )
    assert answer.status_code == 404
    assert Membership.objects.filter(user=stranger).exists()


def leave(client, tenant):
    return client.post(
        reverse("tenancy:member_leave", kwargs={"tenant_slug": tenant.slug}), follow=True
    )


def test_any_member_leaves_a_tenant(client, member, tenant_a):
    member(tenant_a, Role.OWNER)
    viewer = member(tenant_a, Role.VIEWER, username="vic")
    api_token_create(tenant=tenant_a, user=viewer, name="script")
    client.force_login(viewer)
    page = leave(client, tenant_a)
    assert "You left Tenant A" in page.content.decode()
    assert page.redirect_chain[-1][0] == reverse("tenant_list")
    assert not Membership.objects.filter(user=viewer).exists()
    assert not ApiToken.objects.active().filter(user=viewer).exists()


def test_the_last_owner_cannot_leave_or_be_removed(client, member, tenant_a):
    owner = member(tenant_a, Role.OWNER, username="olga")
    client.force_login(owner)
    page = leave(client, tenant_a).content.decode()
    assert "needs at least one owner" in page
    page = remove(client, tenant_a, membership_of(owner, tenant_a)).content.decode()
    assert "needs at least one owner" in page
    assert Membership.objects.filter(user=owner).exists()


def test_the_members_page_offers_remove_and_leave(client, member, tenant_a):
    owner = member(tenant_a, Role.OWNER, username="olga")
    sam = member(tenant_a, Role.SELLER, username="sam")
    client.force_login(owner)
    body = client.get(members_url(tenant_a)).content.decode()
    assert f'name="remove_membership_id" value="{membership_of(sam, tenant_a).pk}"' in body
    assert reverse("tenancy:member_leave", kwargs={"tenant_slug": tenant_a.slug}) in body
    client.force_login(sam)
    body = client.get(members_url(tenant_a)).content.decode()
    assert "remove_membership_id" not in body  # a seller manages no one
    assert reverse("tenancy:member_leave", kwargs={"tenant_slug": tenant_a.slug}) in body
