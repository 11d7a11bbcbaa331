"""The members page: every member another one may manage has a filled role dropdown whose Save
changes the role and says so; an invalid choice says why."""

from __future__ import annotations

import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from catalog_health.tenancy.models import Membership
from catalog_health.tenancy.roles import Role

pytestmark = pytest.mark.django_db


def _selects(body: str) -> dict[str, list[tuple[str, bool]]]:
    """aria-label of each role <select> -> [(option value, selected)]."""
    found = {}
    for label, inner in re.findall(
        r'<select name="role"[^>]*aria-label="Role of ([^"]+)"[^>]*>(.*?)</select>', body, re.S
    ):
        found[label] = [
            (value, bool(sel)) for value, sel in re.findall(r'value="(\w+)"( selected)?', inner)
        ]
    return found


@pytest.mark.parametrize(
    ("viewer_role", "expected"),
    [
        (Role.OWNER, {"advertiser-tenant-a", "seller-tenant-a", "owner2"}),
        (Role.ADMIN, {"advertiser-tenant-a", "seller-tenant-a"}),  # not an owner's role
    ],
)
def test_role_dropdowns_are_filled(client, member, tenant_a, viewer_role, expected):
    viewer = member(tenant_a, viewer_role, username="viewer")
    member(tenant_a, Role.ADVERTISER)
    member(tenant_a, Role.SELLER)
    member(tenant_a, Role.OWNER, username="owner2")
    client.force_login(viewer)
    body = client.get(reverse("tenancy:members", kwargs={"tenant_slug": tenant_a.slug}))
    selects = _selects(body.content.decode())
    assert set(selects) == expected  # never the viewer's own row
    for username, options in selects.items():
        values = [v for v, _ in options]
        assert Role.VIEWER in values and Role.ADMIN in values
        assert (Role.OWNER in values) == (viewer_role == Role.OWNER)
        role = Membership.objects.get(user__username=username).role
        assert [v for v, sel in options if sel] == [role], username


def test_viewer_sees_roles_without_dropdowns(client, member, tenant_a):
    member(tenant_a, Role.SELLER)
    client.force_login(member(tenant_a, Role.VIEWER))
    body = client.get(reverse("tenancy:members", kwargs={"tenant_slug": tenant_a.slug}))
    assert _selects(body.content.decode()) == {}
    assert "Seller" in body.content.decode()


def test_save_changes_the_role_with_a_message(client, member, tenant_a):
    client.force_login(member(tenant_a, Role.OWNER))
    seller = member(tenant_a, Role.SELLER)
    membership = Membership.objects.get(user=seller)
    url = reverse("tenancy:members", kwargs={"tenant_slug": tenant_a.slug})
    response = client.post(url, {"membership_id": membership.pk, "role": Role.ADVERTISER})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == Role.ADVERTISER
    page = client.get(url).content.decode()
    assert f"{seller.username} is now Advertiser." in page


def test_invalid_role_says_why(client, member, tenant_a):
    client.force_login(member(tenant_a, Role.ADMIN))
    seller = member(tenant_a, Role.SELLER)
    membership = Membership.objects.get(user=seller)
    url = reverse("tenancy:members", kwargs={"tenant_slug": tenant_a.slug})
    response = client.post(url, {"membership_id": membership.pk, "role": Role.OWNER})
    text = " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert "was not changed" in text and "valid choice" in text
    membership.refresh_from_db()
    assert membership.role == Role.SELLER
