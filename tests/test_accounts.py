"""Accounts: a forgotten password is reset by an emailed link, a signed-in user changes their
own, and a member added without a password is emailed a link to set one (before, such an
account could never sign in: there was no password reset at all)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from catalog_health.tenancy.models import Membership
from catalog_health.tenancy.roles import Role

pytestmark = pytest.mark.django_db
User = get_user_model()
SITE = "https://catalog.example.com"


@pytest.fixture(autouse=True)
def site(settings, fresh_cache):  # the reset throttle counts in the shared cache
    settings.SITE_URL = SITE


def emailed_link(message) -> str:
    links = re.findall(r"https?://\S+", message.body)
    assert len(links) == 1, message.body
    return links[0]


def follow_link_and_set(client, link: str, password: str):
    assert link.startswith(f"{SITE}/accounts/reset/")
    page = client.get(link.removeprefix(SITE), follow=True)  # Django swaps the token for a session
    assert page.status_code == 200
    assert "New password" in page.content.decode()
    return client.post(
        page.request["PATH_INFO"],
        {"new_password1": password, "new_password2": password},
        follow=True,
    )


def test_login_page_offers_password_reset(client):
    body = client.get(reverse("login")).content.decode()
    assert f'href="{reverse("password_reset")}"' in body


def test_a_forgotten_password_is_reset_by_the_emailed_link(client, user_factory):
    user = user_factory("ann")  # ann@example.com
    page = client.post(reverse("password_reset"), {"email": "ANN@example.com"}, follow=True)
    assert "If an account has that email address" in page.content.decode()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ann@example.com"]
    assert "ann" in mail.outbox[0].body  # the username: people forget that too
    done = follow_link_and_set(client, emailed_link(mail.outbox[0]), "new-Secret-2")
    assert "Your password was set" in done.content.decode()
    user.refresh_from_db()
    assert user.check_password("new-Secret-2")
    # the link works once
    again = client.get(emailed_link(mail.outbox[0]).removeprefix(SITE), follow=True)
    assert "This link was already used or has expired" in again.content.decode()


@pytest.mark.parametrize(
    "email, account",
    [
        pytest.param("nobody@example.com", None, id="unknown-email"),
        pytest.param("off@example.com", {"is_active": False}, id="deactivated-account"),
    ],
)
def test_no_email_goes_out_and_the_page_says_the_same(client, user_factory, email, account):
    if account is not None:
        user_factory("off", **account)  # off@example.com
    page = client.post(reverse("password_reset"), {"email": email}, follow=True)
    assert "If an account has that email address" in page.content.decode()
    assert mail.outbox == []


def test_reset_requests_for_one_address_are_throttled(client, user_factory):
    user_factory("ann")  # ann@example.com
    for _ in range(5):
        page = client.post(reverse("password_reset"), {"email": "ann@example.com"}, follow=True)
        assert "If an account has that email address" in page.content.decode()
    assert len(mail.outbox) == 3  # an inbox is not flooded by someone else's clicks


def test_a_signed_in_user_changes_their_password(client, member, tenant_a):
    user = member(tenant_a, Role.VIEWER)
    user.set_password("old-Secret-1")
    user.save()
    client.force_login(user)
    home = client.get(reverse("overview:home", kwargs={"tenant_slug": tenant_a.slug}))
    assert f'href="{reverse("account")}"' in home.content.decode()
    account = client.get(reverse("account")).content.decode()
    assert f'href="{reverse("password_change")}"' in account
    wrong = client.post(
        reverse("password_change"),
        {
            "old_password": "not-it",
            "new_password1": "new-Secret-2",
            "new_password2": "new-Secret-2",
        },
    )
    assert "Your password was not right" in wrong.content.decode()
    done = client.post(
        reverse("password_change"),
        {
            "old_password": "old-Secret-1",
            "new_password1": "new-Secret-2",
            "new_password2": "new-Secret-2",
        },
        follow=True,
    )
    assert "Your password was changed" in done.content.decode()
    user.refresh_from_db()
    assert user.check_password("new-Secret-2")
    # still signed in after the change (the session hash follows the password)
    assert client.get(reverse("password_change")).status_code == 200


def test_password_change_needs_a_signed_in_user(client):
    page = client.get(reverse("password_change"))
    assert page.status_code == 302 and page["Location"].startswith(reverse("login"))


def invite(client, tenant, **fields):
    data = {"username": "", "email": "", "role": Role.SELLER, "password": "", **fields}
    return client.post(
        reverse("tenancy:members", kwargs={"tenant_slug": tenant.slug}), data, follow=True
    )


def test_a_member_added_without_a_password_is_emailed_a_link_to_set_one(
    client, member, tenant_a, django_capture_on_commit_callbacks
):
    client.force_login(member(tenant_a, Role.OWNER, username="olga"))
    with django_capture_on_commit_callbacks(execute=True):
        page = invite(client, tenant_a, username="sam", email="sam@example.com")
    assert "sam was added as Seller" in page.content.decode()
    assert "emailed a link to set a password" in page.content.decode()
    [message] = mail.outbox
    assert message.to == ["sam@example.com"]
    assert tenant_a.name in message.subject
    assert "olga added you" in message.body and "sam" in message.body
    client.logout()
    follow_link_and_set(client, emailed_link(message), "sams-Secret-3")
    assert User.objects.get(username="sam").check_password("sams-Secret-3")
    signed_in = client.post(reverse("login"), {"username": "sam", "password": "sams-Secret-3"})
    assert signed_in.status_code == 302


def test_a_new_member_needs_an_email_or_a_password(
    client, member, tenant_a, django_capture_on_commit_callbacks
):
    client.force_login(member(tenant_a, Role.OWNER))
    with django_capture_on_commit_callbacks(execute=True):
        page = invite(client, tenant_a, username="ghost")
    assert "Give their email address" in page.content.decode()
    assert not User.objects.filter(username="ghost").exists()
    assert not Membership.objects.filter(user__username="ghost").exists()
    assert mail.outbox == []


def test_a_member_added_with_a_password_gets_no_email(
    client, member, tenant_a, django_capture_on_commit_callbacks
):
    client.force_login(member(tenant_a, Role.OWNER))
    with django_capture_on_commit_callbacks(execute=True):
        invite(client, tenant_a, username="pat", email="pat@example.com", password="pats-Secret-4")
    assert mail.outbox == []
    assert User.objects.get(username="pat").check_password("pats-Secret-4")
