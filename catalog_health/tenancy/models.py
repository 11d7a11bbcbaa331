"""Tenants, memberships, API tokens, the audit log, and the base every tenant-owned model uses."""

import hashlib
import secrets
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from .currencies import validate_currency
from .roles import Role


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone (e.g. Europe/Berlin).")


class Tenant(models.Model):
    """A shop or agency: everything else belongs to exactly one tenant."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    # of its new catalogs, unless one is chosen
    currency = models.CharField(max_length=3, default="USD", validators=[validate_currency])
    # How an imported file's slash dates read when none of them has a day above 12
    # (03/04/2026): never guessed, so an ambiguous file waits for this or a choice at upload.
    date_order = models.CharField(
        "date order of imported files",
        max_length=3,
        blank=True,
        default="",
        choices=[
            ("", "Ask"),
            ("dmy", "Day first (31/12/2026)"),
            ("mdy", "Month first (12/31/2026)"),
        ],
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TenantQuerySet(models.QuerySet):
    """The one scoping mechanism: every query on tenant-owned data starts here."""

    def for_tenant(self, tenant: "Tenant | int"):
        tenant_id = tenant if isinstance(tenant, int) else tenant.pk
        if tenant_id is None:
            raise ValueError("for_tenant() needs a saved tenant")
        return self.filter(tenant_id=tenant_id)


class TenantOwnedModel(models.Model):
    """Abstract base of every tenant-owned table: carries tenant_id even where a parent implies
    it, so each query, unique constraint and hot index can start with it (and Citus can
    distribute by it)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True


class Membership(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)
    # the member's own choice of emails (roles.EmailTopic: email_<topic>), per tenant
    email_flagged_digest = models.BooleanField(
        "email the daily digest of flagged products", default=True
    )
    email_feed_alerts = models.BooleanField(
        "email failed or out-of-date product feeds", default=True
    )
    email_ecr_changes = models.BooleanField("email when ECR switches off or on", default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="membership_tenant_user_uniq")
        ]
        indexes = [models.Index(fields=["user", "tenant"], name="membership_user_idx")]
        ordering = ["tenant__name", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} @ {self.tenant} ({self.role})"


class ApiTokenQuerySet(TenantQuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class ApiToken(TenantOwnedModel):
    """A revocable API key for one user in one tenant. Only a hash of the key is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=8, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["tenant", "user"], name="apitoken_tenant_user_idx")]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @staticmethod
    def generate_key() -> str:
        return secrets.token_urlsafe(32)


class AuditEvent(models.Model):
    """Who changed what: sign-ins, roles, thresholds, credentials, a run's fate, product edits."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    # the actor's username when recorded: the trail still names who did it once the account
    # is deleted (actor is then empty, as it is for what the platform does by itself)
    actor_username = models.CharField(max_length=150, blank=True, editable=False)
    action = models.CharField(max_length=80)
    target_type = models.CharField(max_length=80, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=255, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="audit_tenant_time_idx"),
            models.Index(fields=["target_type", "target_id"], name="audit_target_idx"),
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.action} {self.target_repr} by {self.actor_username or 'system'}"
