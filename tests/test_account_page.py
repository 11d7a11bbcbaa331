"""Your account: a signed-in user changes their own email address (their password confirms
it, the old address is told), and finds the password change there."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def ann(user_factory, client):
    user = user_factory("ann")  # ann@example.com, password pw-ann
    client.force_login(user)
    return user


def change(client, email, password="pw-ann"):  # noqa: S107 (the fixture user's)
    return client.post(reverse("account"), {"email": email, "password": password}, follow=True)


def test_the_page_shows_the_account_and_links_the_password_change(client, ann):
    body = client.get(reverse("account")).content.decode()
    assert "ann" in body and 'value="ann@example.com"' in body
    assert f'href="{reverse("password_change")}"' in body


def test_the_user_menu_links_to_the_account(client, ann, member, tenant_a):
    body = client.get(reverse("tenant_list")).content.decode()
    assert f'href="{reverse("account")}"' in body


def test_an_email_change_is_saved_and_the_old_address_told(
    client, ann, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        page = change(client, "  Ann.New@Example.com ")
    assert "Your email address is now Ann.New@Example.com" in page.content.decode()
    ann.refresh_from_db()
    assert ann.email == "Ann.New@Example.com"
    [notice] = mail.outbox
    assert notice.to == ["ann@example.com"]
    assert "Ann.New@Example.com" in notice.body


@pytest.mark.parametrize(
    "email, password, error",
    [
        pytest.param("new@example.com", "wrong", "Your password was not right", id="password"),
        pytest.param("not-an-email", "pw-ann", "Enter a valid email address", id="invalid"),
        pytest.param("BOB@example.com", "pw-ann", "Another account uses", id="taken"),
        pytest.param("", "pw-ann", "This field is required", id="empty"),
    ],
)
def test_a_refused_change_says_why_and_changes_nothing(
    client, ann, user_factory, email, password, error
):
    user_factory("bob")  # bob@example.com
    page = change(client, email, password)
    assert error in page.content.decode()
    ann.refresh_from_db()
    assert ann.email == "ann@example.com"
    assert mail.outbox == []


def test_the_account_page_needs_a_signed_in_user(client):
    answer = client.get(reverse("account"))
    assert answer.status_code == 302 and answer["Location"].startswith(reverse("login"))


def test_wrong_passwords_are_throttled_on_the_account_page(client, ann, fresh_cache):
    """A session left open must not let someone try passwords until one fits: after five
    wrong ones in a quarter hour even the right one is refused for a while."""
    for _ in range(5):
        assert (
            "Your password was not right"
            in change(client, "x@example.com", "guess").content.decode()
        )
    page = change(client, "new@example.com").content.decode()
    assert "Too many wrong passwords" in page
    ann.refresh_from_db()
    assert ann.email == "ann@example.com"


def test_wrong_old_passwords_are_throttled_on_the_password_change(client, ann, fresh_cache):
    url = reverse("password_change")
    for _ in range(5):
        client.post(
            url,
            {"old_password": "guess", "new_password1": "n-Secret-9", "new_password2": "n-Secret-9"},
        )
    page = client.post(
        url,
        {"old_password": "pw-ann", "new_password1": "n-Secret-9", "new_password2": "n-Secret-9"},
    ).content.decode()
    assert "Too many wrong passwords" in page
    ann.refresh_from_db()
    assert ann.check_password("pw-ann")
