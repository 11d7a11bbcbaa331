"""Browser: a member added without a password sets one from the emailed link, forgets it, resets
it from the sign-in page, and changes it from the user menu; no page of the way has a console
error, a CSP violation or a failed load."""

import re

import pytest
from django.core import mail

from catalog_health.tenancy.models import Membership
from catalog_health.tenancy.roles import Role
from catalog_health.tenancy.services import member_invite

from .test_page_walk import Watch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _link(message) -> str:
    [link] = re.findall(r"https?://\S+", message.body)
    return link


def _set_password(page, password: str) -> None:
    page.fill("#id_new_password1", password)
    page.fill("#id_new_password2", password)
    page.click("main button[type=submit]")
    page.wait_for_load_state()


def test_set_reset_and_change_a_password(
    page, live_server, login, screenshot, member, tenant_a, settings, fresh_cache
):
    settings.SITE_URL = live_server.url
    watch = Watch(page, live_server.url)
    owner = member(tenant_a, Role.OWNER, username="olga")
    member_invite(
        tenant=tenant_a,
        actor_membership=Membership.objects.get(user=owner),
        username="sam",
        email="sam@example.com",
        role=Role.SELLER,
    )
    [invitation] = mail.outbox

    # the invitation's link: a new member sets a password, then signs in with it
    assert not watch.visit(_link(invitation))
    assert page.get_by_text("For the account sam").is_visible()
    screenshot("accounts-set-password")
    _set_password(page, "sams-Secret-3")
    assert page.get_by_text("Your password was set").is_visible()
    screenshot("accounts-password-set")
    login("sam", "sams-Secret-3")
    assert page.locator("#user-menu").inner_text().strip().startswith("sam")

    # forgotten: the sign-in page leads to the reset form, the email to a new password
    page.click("#user-menu")
    page.click("button:has-text('Sign out')")
    assert not watch.visit(f"{live_server.url}/accounts/login/")
    page.click("text=Forgot your password?")
    page.wait_for_load_state()
    screenshot("accounts-forgot-password")
    page.fill("#id_email", "sam@example.com")
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    assert page.get_by_text("If an account has that email address").is_visible()
    screenshot("accounts-check-your-email")
    assert not watch.visit(_link(mail.outbox[-1]))
    _set_password(page, "sams-Secret-4")
    login("sam", "sams-Secret-4")

    # changed from the user menu
    page.click("#user-menu")
    page.click("text=Your account")
    page.wait_for_load_state()
    screenshot("accounts-your-account")
    page.click("text=Change password")
    page.wait_for_load_state()
    screenshot("accounts-change-password")
    page.fill("#id_old_password", "sams-Secret-4")
    _set_password(page, "sams-Secret-5")
    assert page.get_by_text("Your password was changed").is_visible()
    screenshot("accounts-password-changed")
    assert not watch.problems, watch.problems


def test_a_member_turns_the_digest_off(page, live_server, login, screenshot, member, tenant_a):
    seller = member(tenant_a, Role.SELLER, username="sam")
    seller.set_password("sams-Secret-3")
    seller.save()
    watch = Watch(page, live_server.url)
    login("sam", "sams-Secret-3")
    page.click("#user-menu")
    page.click("text=Emails")
    page.wait_for_load_state()
    box = page.get_by_label("Daily digest of flagged products")
    assert box.is_checked()
    box.uncheck()
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    assert page.get_by_text("Email choices saved").is_visible()
    assert not page.get_by_label("Daily digest of flagged products").is_checked()
    screenshot("accounts-email-choices")
    assert not Membership.objects.get(user=seller).email_flagged_digest
    assert not watch.problems, watch.problems


def test_an_owner_removes_a_member(page, live_server, login, screenshot, member, tenant_a):
    owner = member(tenant_a, Role.OWNER, username="olga")
    owner.set_password("olgas-Secret-1")
    owner.save()
    member(tenant_a, Role.SELLER, username="sam")
    watch = Watch(page, live_server.url)
    login("olga", "olgas-Secret-1")
    assert not watch.visit(f"{live_server.url}/t/{tenant_a.slug}/members/")
    page.click("summary:has-text('Remove…')")
    screenshot("members-remove-confirm")
    page.click("button:has-text('Yes, remove sam')")
    page.wait_for_load_state()
    assert page.get_by_text("sam was removed from Tenant A").is_visible()
    screenshot("members-removed")
    assert not Membership.objects.filter(user__username="sam").exists()
    assert not watch.problems, watch.problems
