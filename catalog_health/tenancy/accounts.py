"""Passwords by email: a reset link for a forgotten password, and a link to set the first one
for a member added without a password. Both are Django's one-time password-reset tokens
(valid for PASSWORD_RESET_TIMEOUT, used once: a new password invalidates them)."""

from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from catalog_health.rate_limits import window_take, window_used
from catalog_health.site import absolute_url

from .models import Tenant

User = get_user_model()
log = logging.getLogger(__name__)

# reset emails to one address per hour: enough for a person, not enough to flood an inbox
RESETS_PER_ADDRESS = (3, 3600)
# wrong passwords a signed-in user may type to confirm a change, per quarter hour: a session
# left open must not be a way to try passwords until one fits
WRONG_CONFIRMS = (5, 900)
TOO_MANY_WRONG = "Too many wrong passwords: try again in a quarter of an hour."


def password_confirm(user, password: str) -> str | None:
    """None when ``password`` is the user's own; else why not (wrong, or too many wrong ones
    lately: then even the right one is refused until the window ends)."""
    limit, window = WRONG_CONFIRMS
    key = f"accounts:confirm:{user.pk}"
    if window_used(key, window=window) >= limit:
        return TOO_MANY_WRONG
    if user.check_password(password or ""):
        return None
    allowed, _ = window_take(key, limit=limit, window=window)
    return "Your password was not right." if allowed else TOO_MANY_WRONG


def password_link(user) -> str:
    """The absolute one-time link that lets ``user`` set a new password."""
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return absolute_url(path)


def _link_days() -> int:
    return max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)


def password_reset_send(*, email: str) -> int:
    """Email a reset link to each active account with this address (also one that never had a
    password: a member added without one). Says nothing of whether one exists; the caller's
    page reads the same either way. Returns the number of emails sent."""
    email = email.strip()
    digest = hashlib.sha256(email.lower().encode()).hexdigest()[:32]
    limit, window = RESETS_PER_ADDRESS
    allowed, _ = window_take(f"accounts:reset:{digest}", limit=limit, window=window)
    if not allowed:
        log.info("password reset for an address throttled")
        return 0
    sent = 0
    for user in User.objects.filter(email__iexact=email, is_active=True):
        send_mail(
            subject="Catalog Health: reset your password",
            message=(
                "Someone, hopefully you, asked to reset the password of your Catalog Health "
                f"account.\n\nUsername: {user.get_username()}\n\nSet a new password here (the "
                f"link works once, for {_link_days()} days):\n{password_link(user)}\n\n"
                "If you did not ask for this, ignore this email: your password stays as it is."
            ),
            from_email=None,
            recipient_list=[user.email],
            fail_silently=True,
        )
        sent += 1
    return sent


def invitation_send(*, user, tenant: Tenant, actor, role_label: str) -> None:
    """Email a member added without a password the link to set one."""
    send_mail(
        subject=f"You were added to {tenant.name} on Catalog Health",
        message=(
            f"{actor.get_username()} added you to {tenant.name} on Catalog Health as "
            f"{role_label}.\n\nUsername: {user.get_username()}\n\nSet your password here (the "
            f"link works once, for {_link_days()} days):\n{password_link(user)}\n\n"
            "Once it has expired, ask for a new one with “Forgot your password?” on the sign-in "
            "page."
        ),
        from_email=None,
        recipient_list=[user.email],
        fail_silently=True,
    )


@transaction.atomic
def account_email_change(*, user, email: str, password: str):
    """A user changes their own email address, their password confirming it (a session left
    open must not hand the account, and its password resets, to someone else). The old
    address is told. Another account's address is refused: it names its owner when a
    member is added by email."""
    email = (email or "").strip()
    errors = {}
    if refused := password_confirm(user, password):
        errors["password"] = refused
    try:
        validate_email(email)
    except ValidationError as exc:
        errors["email"] = exc.messages[0] if email else "This field is required."
    else:
        if User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
            errors["email"] = "Another account uses this email address."
    if errors:
        raise ValidationError(errors)
    old = user.email
    if email == old:
        return user
    user.email = email
    user.save(update_fields=["email"])
    if old:
        transaction.on_commit(
            lambda: send_mail(
                subject="Catalog Health: your email address was changed",
                message=(
                    f"The email address of your Catalog Health account {user.get_username()} "
                    f"was changed to {email}. Password resets and notifications now go there."
                    "\n\nIf you did not change it, reset your password and tell your admin."
                ),
                from_email=None,
                recipient_list=[old],
                fail_silently=True,
            )
        )
    return user
