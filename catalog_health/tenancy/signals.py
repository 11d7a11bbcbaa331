"""Sign-ins and failed sign-ins go to the audit log (a security record, not business logic)."""

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from .services import audit_record


@receiver(user_logged_in)
def _audit_login(sender, request, user, **kwargs):
    audit_record(tenant=None, actor=user, action="auth.login", target=user)


@receiver(user_login_failed)
def _audit_login_failed(sender, credentials, request=None, **kwargs):
    audit_record(
        tenant=None,
        actor=None,
        action="auth.login_failed",
        changes={"username": str(credentials.get("username", ""))[:150]},
    )
