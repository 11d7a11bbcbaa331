"""Metric policies, per-product flag states and their transition history."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from catalog_health.tenancy.audit_text import audit_actor_name
from catalog_health.tenancy.models import Tenant, TenantOwnedModel
from catalogs.models import Product

from .scoring import (
    DEFAULT_POLICIES,
    MAX_WINDOW_DAYS,
    METRICS,
    PREFIX,
    Counts,
    FlagStatus,
    Level,
    Metric,
    Policy,
    PolicyError,
)
from .scoring import policy_validate as _policy_validate

PERCENT = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))]


class MetricChoices(models.TextChoices):
    OOS_CANCELLATION = Metric.OOS_CANCELLATION, METRICS[Metric.OOS_CANCELLATION].label
    OVERDUE_UNSHIPPED = Metric.OVERDUE_UNSHIPPED, METRICS[Metric.OVERDUE_UNSHIPPED].label
    LATE_DISPATCH = Metric.LATE_DISPATCH, METRICS[Metric.LATE_DISPATCH].label
    HIGH_SHIPPING_FEE = Metric.HIGH_SHIPPING_FEE, METRICS[Metric.HIGH_SHIPPING_FEE].label
    VALID_TRACKING = Metric.VALID_TRACKING, METRICS[Metric.VALID_TRACKING].label


class StatusChoices(models.TextChoices):
    NONE = FlagStatus.NONE, "Not flagged"
    AT_RISK = FlagStatus.AT_RISK, "At risk"
    IMPACTED = FlagStatus.IMPACTED, "Impacted"
    RESOLVED = FlagStatus.RESOLVED, "Resolved"


class PolicyFields(models.Model):
    """The numbers of one metric policy (shared by the global default and overrides)."""

    metric = models.CharField(max_length=32, choices=MetricChoices.choices)
    enabled = models.BooleanField(default=True)
    window_days = models.PositiveIntegerField(
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_WINDOW_DAYS)],
        help_text=f"days of orders scored, 1 to {MAX_WINDOW_DAYS}",
    )
    min_orders = models.PositiveIntegerField(
        default=10, validators=[MinValueValidator(1)], help_text="fewer orders: not evaluated"
    )
    at_risk_threshold = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        validators=PERCENT,
        help_text="percent; At risk from here to the target",
    )
    target = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        validators=PERCENT,
        help_text="percent; Impacted when the value misses it",
    )
    fee_ratio_percent = models.DecimalField(
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="high shipping fee only: fee above this percent of the item value",
    )
    fee_amount = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="high shipping fee only: fee above this amount",
    )
    how_to_fix = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.get_metric_display()

    def as_policy(self) -> Policy:
        return Policy(
            metric=Metric(self.metric),
            enabled=self.enabled,
            window_days=self.window_days,
            min_orders=self.min_orders,
            at_risk_threshold=self.at_risk_threshold,
            target=self.target,
            how_to_fix=self.how_to_fix,
            fee_ratio_percent=self.fee_ratio_percent,
            fee_amount=self.fee_amount,
        )

    def clean(self) -> None:
        if self.metric and self.target is not None and self.at_risk_threshold is not None:
            try:
                _policy_validate(self.as_policy())
            except PolicyError as exc:
                raise ValidationError(str(exc)) from exc


class MetricPolicy(PolicyFields):
    """The global default policy of one metric (platform staff edit it in admin)."""

    class Meta:
        constraints = [models.UniqueConstraint(fields=["metric"], name="metricpolicy_metric_uniq")]
        ordering = ["metric"]
        verbose_name_plural = "metric policies (global defaults)"

    @classmethod
    def default_values(cls, metric: Metric) -> dict:
        p = DEFAULT_POLICIES[metric]
        return {
            "enabled": p.enabled,
            "window_days": p.window_days,
            "min_orders": p.min_orders,
            "at_risk_threshold": p.at_risk_threshold,
            "target": p.target,
            "fee_ratio_percent": p.fee_ratio_percent,
            "fee_amount": p.fee_amount,
            "how_to_fix": p.how_to_fix,
        }


class TenantMetricPolicy(PolicyFields, TenantOwnedModel):
    """One tenant's override of a metric policy: replaces the global default entirely."""

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "metric"], name="tenantmetricpolicy_tenant_metric_uniq"
            )
        ]
        ordering = ["tenant", "metric"]
        verbose_name_plural = "metric policies (tenant overrides)"


class PolicyChange(models.Model):
    """Audit trail of who changed which metric policy, and how."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, null=True, blank=True)
    metric = models.CharField(max_length=32, choices=MetricChoices.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    # the actor's username when it was made: the trail still names a deleted account
    actor_username = models.CharField(max_length=150, blank=True, editable=False)
    action = models.CharField(max_length=20)  # created / changed / deleted
    changes = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["metric", "-created_at"], name="policychange_metric_idx")]

    def __str__(self) -> str:
        scope = self.tenant or "global"
        return f"{self.get_metric_display()} ({scope}) {self.action} by {self.actor_name}"

    @property
    def actor_name(self) -> str:
        return audit_actor_name(self.actor, self.actor_username)


class MetricColumns(models.Model):
    """Counts and level of every metric as plain columns: the set-based SQL writes them and
    the tab filters on them (reason = level > 0). Prefixes: the definitions' ``column``
    (``scoring.PREFIX``)."""

    oos_num = models.PositiveIntegerField(default=0)
    oos_den = models.PositiveIntegerField(default=0)
    oos_level = models.PositiveSmallIntegerField(default=Level.OK)
    overdue_num = models.PositiveIntegerField(default=0)
    overdue_den = models.PositiveIntegerField(default=0)
    overdue_level = models.PositiveSmallIntegerField(default=Level.OK)
    late_num = models.PositiveIntegerField(default=0)
    late_den = models.PositiveIntegerField(default=0)
    late_level = models.PositiveSmallIntegerField(default=Level.OK)
    fee_num = models.PositiveIntegerField(default=0)
    fee_den = models.PositiveIntegerField(default=0)
    fee_level = models.PositiveSmallIntegerField(default=Level.OK)
    tracking_num = models.PositiveIntegerField(default=0)
    tracking_den = models.PositiveIntegerField(default=0)
    tracking_level = models.PositiveSmallIntegerField(default=Level.OK)

    class Meta:
        abstract = True

    def counts(self, metric: Metric) -> Counts:
        p = PREFIX[metric]
        return Counts(getattr(self, f"{p}_num"), getattr(self, f"{p}_den"))

    def level(self, metric: Metric) -> Level:
        return Level(getattr(self, f"{PREFIX[metric]}_level"))


class FlagState(MetricColumns, TenantOwnedModel):
    """A product's current impression status. Rows exist only for products ever flagged."""

    # Derived rows written in bulk by the scoring SQL: no database FK constraints (their
    # deferred per-row checks cost ~a third of a large run); Django still cascades deletes
    # of products and tenants, and the scoring only writes ids it just read from orders.
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    status = models.CharField(max_length=10, choices=StatusChoices.choices)
    status_since = models.DateTimeField()
    worst_level = models.PositiveSmallIntegerField(default=Level.OK)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "product"], name="flagstate_tenant_product_uniq"
            )
        ]
        indexes = [
            # The tab's keyset orders: one status or all flagged ones, by status time or
            # severity; each page is an index range scan whatever its depth.
            models.Index(
                fields=["tenant", "status", "-status_since", "-id"], name="flagstate_tab_idx"
            ),
            models.Index(fields=["tenant", "-status_since", "-id"], name="flagstate_since_idx"),
            models.Index(fields=["tenant", "-worst_level", "-id"], name="flagstate_severity_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}: {self.status}"


class FlagTransition(MetricColumns, TenantOwnedModel):
    """One status change of one product, with the metric values and policies of that moment."""

    # Derived rows written in bulk by the scoring SQL: no database FK constraints (their
    # deferred per-row checks cost ~a third of a large run); Django still cascades deletes
    # of products and tenants, and the scoring only writes ids it just read from orders.
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    at = models.DateTimeField()
    from_status = models.CharField(max_length=10, choices=StatusChoices.choices)
    to_status = models.CharField(max_length=10, choices=StatusChoices.choices)
    policies = models.JSONField(default=dict)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "product", "at"], name="flagtransition_product_idx"),
            models.Index(fields=["tenant", "at"], name="flagtransition_time_idx"),
        ]
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return (
            f"{self.product_id}: {self.from_status} -> {self.to_status} at {self.at:%Y-%m-%d %H:%M}"
        )


class FlagCount(TenantOwnedModel):
    """How many products of a tenant have each status: the tab's counters in one tiny read.

    Written by the scoring run in the same transaction as the states it summarises."""

    status = models.CharField(max_length=10, choices=StatusChoices.choices)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "status"], name="flagcount_tenant_status_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.status}: {self.count}"


class DigestLog(TenantOwnedModel):
    """A tenant's daily digest run: one a local day (the unique constraint is the claim two
    beat deliveries race for); the next digest covers what changed since ``sent_at``."""

    local_date = models.DateField(help_text="the day in the tenant's time zone")
    sent_at = models.DateTimeField()
    recipients = models.PositiveIntegerField(default=0, help_text="0: nothing to report")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "local_date"], name="digestlog_tenant_day_uniq"
            )
        ]
        indexes = [models.Index(fields=["tenant", "-sent_at"], name="digestlog_latest_idx")]

    def __str__(self) -> str:
        return f"digest {self.local_date}: {self.recipients} recipients"
