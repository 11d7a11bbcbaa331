"""Review and ECR data: policy lists, review settings, product issues, per-product review
timing, each catalog's ECR state, its ratio samples and its ECR events.

Policy lists and review settings are platform-wide (edited by staff in Django admin);
everything about a catalog is tenant-owned.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from catalog_health.tenancy.models import TenantOwnedModel
from catalogs.models import Catalog, Product

from . import rules
from . import state as ecr_state

MIN_TEXT_LIMIT = 10  # characters: the shortest title or description limit staff may set
RATIO_VALIDATORS = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))]


class Severity(models.TextChoices):
    ERROR = rules.ERROR, "Error (stops delivery)"
    WARNING = rules.WARNING, "Warning"


class TermKind(models.TextChoices):
    PROHIBITED = rules.PROHIBITED, "Prohibited"
    RESTRICTED = rules.RESTRICTED, "Restricted"


def refuse_words_of_an_active_entry(text: str, *, entry: models.Model) -> None:
    """An active policy entry whose words (``rules.tokenize``: case, spacing, punctuation
    and compatibility forms aside) are those of another active term or claim would never
    match: review looks each sequence of words up once, whatever the list, and takes the
    first entry. Refused naming that entry, with a message not tied to a field, so the
    list's *active* checkbox shows it too."""
    words = rules.tokenize(text)
    for other, label in _other_active_entries(entry):
        if rules.tokenize(other) == words:
            raise ValidationError(
                f"“{other}” is already on the list ({label}) with the same words (case, "
                "spacing and punctuation aside): edit that entry instead."
            )


def _other_active_entries(entry: models.Model):
    """(text, what it is) of every active term and claim but ``entry`` itself."""
    terms = PolicyTerm.objects.filter(is_active=True)
    claims = DeniedClaim.objects.filter(is_active=True)
    if isinstance(entry, PolicyTerm):
        terms = terms.exclude(pk=entry.pk)
    else:
        claims = claims.exclude(pk=entry.pk)
    kinds = dict(TermKind.choices)
    for term, kind in terms.values_list("term", "kind").iterator():
        yield term, f"{kinds.get(kind, kind).lower()} term"
    for phrase in claims.values_list("phrase", flat=True).iterator():
        yield phrase, "denied claim"


class PolicyTerm(models.Model):
    """A prohibited or restricted word or phrase, matched on whole words, case-insensitive."""

    term = models.CharField(max_length=120)
    kind = models.CharField(max_length=12, choices=TermKind.choices, default=TermKind.PROHIBITED)
    category = models.CharField(max_length=60, help_text="e.g. drugs, weapons, counterfeit")
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.ERROR)
    how_to_fix = models.CharField(max_length=300, blank=True)
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["term", "kind"], name="policyterm_uniq")]
        ordering = ["kind", "category", "term"]

    def __str__(self) -> str:
        return f"{self.term} ({self.get_kind_display()}, {self.category})"

    def clean(self) -> None:
        if not rules.tokenize(self.term):
            raise ValidationError({"term": "The term must contain at least one word."})
        if self.is_active:
            refuse_words_of_an_active_entry(self.term, entry=self)


class DeniedClaim(models.Model):
    """A claim ads may not make (e.g. "cures cancer"); always an error."""

    phrase = models.CharField(max_length=200, unique=True)
    category = models.CharField(max_length=60, help_text="e.g. health claims, misleading")
    how_to_fix = models.CharField(max_length=300, blank=True)
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["category", "phrase"]

    def __str__(self) -> str:
        return self.phrase

    def clean(self) -> None:
        if not rules.tokenize(self.phrase):
            raise ValidationError({"phrase": "The claim must contain at least one word."})
        if self.is_active:
            refuse_words_of_an_active_entry(self.phrase, entry=self)


class ReviewSettings(models.Model):
    """Platform-wide review and ECR settings (one row, edited in Django admin)."""

    disable_threshold = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        default=ecr_state.DEFAULT_DISABLE,
        validators=RATIO_VALIDATORS,
        help_text="ECR turns off when the Available share falls below this (0-1).",
    )
    enable_threshold = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        default=ecr_state.DEFAULT_ENABLE,
        validators=RATIO_VALIDATORS,
        help_text="ECR turns back on when the Available share is at or above this (0-1).",
    )
    min_products = models.PositiveIntegerField(
        default=ecr_state.DEFAULT_MIN_PRODUCTS,
        validators=[MinValueValidator(1)],
        help_text="Catalogs with fewer active products are not evaluated.",
    )
    standard_queue_capacity = models.PositiveIntegerField(
        default=500,
        validators=[MinValueValidator(1)],
        help_text="Products the standard review queue reviews per catalog per cycle.",
    )
    # Lower bounds: a limit of 0 (a slip of the keyboard) fails every product with a title or
    # description at the next re-review, and ECR turns off in every catalog of every tenant.
    title_max_length = models.PositiveIntegerField(
        default=150,
        validators=[MinValueValidator(MIN_TEXT_LIMIT)],
        help_text=f"Longer titles are an error (at least {MIN_TEXT_LIMIT}).",
    )
    description_max_length = models.PositiveIntegerField(
        default=5000,
        validators=[MinValueValidator(MIN_TEXT_LIMIT)],
        help_text=f"Longer descriptions are an error (at least {MIN_TEXT_LIMIT}).",
    )
    caps_min_letters = models.PositiveIntegerField(
        default=8,
        validators=[MinValueValidator(1)],
        help_text="An all-capitals title is flagged from this many letters on (at least 1).",
    )
    rules_changed_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When a policy term, a denied claim or a review limit last changed: products "
        "reviewed before it are reviewed again in the background.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "review settings"
        verbose_name_plural = "review settings"

    def __str__(self) -> str:
        return "Review and ECR settings"

    def clean(self) -> None:
        if (
            self.enable_threshold is not None
            and self.disable_threshold is not None
            and self.enable_threshold < self.disable_threshold
        ):
            raise ValidationError(
                {"enable_threshold": "Must be at least the disable threshold (hysteresis)."}
            )

    @classmethod
    def current(cls) -> ReviewSettings:
        obj = cls.objects.order_by("pk").first()
        return obj if obj is not None else cls.objects.create()


class CatalogEcrState(TenantOwnedModel):
    """A catalog's ECR switch, its last evaluation, and optional threshold overrides."""

    catalog = models.OneToOneField(Catalog, on_delete=models.CASCADE, related_name="ecr_state")
    enabled = models.BooleanField(default=True)
    ratio = models.FloatField(null=True, blank=True)
    active_count = models.PositiveIntegerField(default=0)
    available_count = models.PositiveIntegerField(default=0)
    unavailable_count = models.PositiveIntegerField(default=0)
    pending_count = models.PositiveIntegerField(default=0)
    evaluated_at = models.DateTimeField(null=True, blank=True)
    # The catalog's data version (selectors.diagnostics_version) the counts above were taken
    # at: while it is still the catalog's version, pages show them instead of recounting.
    counts_version = models.CharField(max_length=100, blank=True, default="", editable=False)
    changed_at = models.DateTimeField(null=True, blank=True)
    # The start of the catalog's last complete re-review after a rules change; before the
    # rules' last change (or rules_stale_at), some products carry older rules' verdict.
    rules_reviewed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # a review that read the rules before a change wrote its verdict after it
    rules_stale_at = models.DateTimeField(null=True, blank=True, editable=False)
    disable_threshold_override = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        null=True,
        blank=True,
        validators=RATIO_VALIDATORS,
        help_text="Leave empty to use the global setting.",
    )
    enable_threshold_override = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        null=True,
        blank=True,
        validators=RATIO_VALIDATORS,
        help_text="Leave empty to use the global setting.",
    )

    class Meta:
        verbose_name = "catalog ECR state"
        indexes = [models.Index(fields=["tenant", "catalog"], name="ecrstate_tenant_catalog_idx")]

    def __str__(self) -> str:
        return f"{self.catalog} · ECR {'on' if self.enabled else 'off'}"

    def clean(self) -> None:
        settings = ReviewSettings.current()
        conflict = ecr_state.override_conflict(
            global_disable=settings.disable_threshold,
            global_enable=settings.enable_threshold,
            disable_override=self.disable_threshold_override,
            enable_override=self.enable_threshold_override,
        )
        if conflict is not None:
            field, message = conflict
            raise ValidationError({field: message})


class EcrTrigger(models.TextChoices):
    FEED_RUN = "feed_run", "Feed run"
    REVIEW = "review", "Review cycle"
    PERIODIC = "periodic", "Periodic check"
    EDIT = "edit", "Product edit"
    MANUAL = "manual", "Operator"
    RULES = "rules", "Rules changed"


class EcrEvent(TenantOwnedModel):
    """ECR turned on or off for a catalog: why, at what ratio and thresholds."""

    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="+")
    enabled = models.BooleanField(help_text="the state after the event")
    reason = models.CharField(max_length=40)
    trigger = models.CharField(max_length=12, choices=EcrTrigger.choices)
    ratio = models.FloatField(null=True)
    active_count = models.PositiveIntegerField()
    available_count = models.PositiveIntegerField()
    disable_threshold = models.DecimalField(max_digits=4, decimal_places=3)
    enable_threshold = models.DecimalField(max_digits=4, decimal_places=3)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "catalog", "-created_at"], name="ecrevent_catalog_idx")
        ]
        ordering = ["-created_at", "-id"]
        verbose_name = "ECR event"

    def __str__(self) -> str:
        return f"ECR {'on' if self.enabled else 'off'} for {self.catalog_id} at {self.ratio}"


class RatioSample(TenantOwnedModel):
    """The availability ratio at one evaluation (the ECR page's ratio-over-time graph)."""

    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    ratio = models.FloatField()
    active_count = models.PositiveIntegerField()
    available_count = models.PositiveIntegerField()
    enabled = models.BooleanField()
    trigger = models.CharField(max_length=12, choices=EcrTrigger.choices)
    issue_counts = models.JSONField(
        default=dict, blank=True, help_text="affected products per issue code (feed runs)"
    )

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "catalog", "at"], name="ratiosample_catalog_idx"),
            # The Diagnostics trend reads the last two feed-run samples: without the trigger
            # in the index it walks every periodic and edit sample since those.
            models.Index(
                fields=["tenant", "catalog", "trigger", "-at"], name="ratiosample_trigger_idx"
            ),
        ]
        ordering = ["at"]


class ProductIssue(TenantOwnedModel):
    """One finding of review on a product. Replaced as a whole at each review."""

    # Read by (tenant, catalog, code) or by product: issue_catalog_code_idx and the product
    # foreign key's index serve both, and a first pull writes an issue for most of its
    # products, so no other index (migration 0007).
    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="+", db_index=False)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="issues")
    code = models.CharField(max_length=60)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    field = models.CharField(max_length=40)
    message = models.TextField()
    how_to_fix = models.TextField()
    rule = models.CharField(max_length=200, help_text="the rule that fired")
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(
                fields=["tenant", "catalog", "code", "product"], name="issue_catalog_code_idx"
            ),
        ]
        ordering = ["product_id", "id"]

    def __str__(self) -> str:
        return f"{self.code} on {self.product_id}"


class ReviewLane(models.TextChoices):
    FAST = "fast", "ECR fast lane"
    STANDARD = "standard", "Standard queue"


class ReviewBatch(TenantOwnedModel):
    """One review pass over some products of a catalog, with how long they had waited.

    Each product keeps its own pending time (``review_requested_at`` → ``reviewed_at`` on
    the product); the batch keeps the lane and the aggregates the ECR page compares.
    """

    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="+")
    lane = models.CharField(max_length=8, choices=ReviewLane.choices)
    trigger = models.CharField(max_length=12, choices=EcrTrigger.choices)
    run_id = models.BigIntegerField(null=True, blank=True, help_text="feed run, if any")
    run_started_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    reviewed = models.PositiveIntegerField(default=0)
    available = models.PositiveIntegerField(default=0)
    unavailable = models.PositiveIntegerField(default=0)
    issues = models.PositiveIntegerField(default=0)
    wait_count = models.PositiveIntegerField(default=0, help_text="products with a known wait")
    wait_total_seconds = models.FloatField(default=0)
    wait_max_seconds = models.FloatField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["tenant", "catalog", "lane", "finished_at"], name="batch_lane_time_idx"
            ),
            models.Index(
                fields=["tenant", "catalog", "trigger", "-finished_at"], name="batch_trigger_idx"
            ),
            # The latest batch of a catalog (part of selectors.diagnostics_version).
            models.Index(fields=["tenant", "catalog", "id"], name="batch_catalog_id_idx"),
        ]
        verbose_name_plural = "review batches"
        ordering = ["-finished_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_lane_display()} review of {self.reviewed} products"


class DiagnosticsSnapshot(TenantOwnedModel):
    """A catalog's Diagnostics figures that cost as much as the catalog is large, kept while
    they cannot have changed: the issues grouped by code, and the products changed by the
    latest feed runs that fail ad policy.

    Grouping millions of issues takes seconds; issues change only through a review (which
    writes a ReviewBatch) or when products change or leave the catalog (last_changed_at), so
    `version` (selectors.diagnostics_version) names the latest of both and a snapshot with
    another version is recomputed."""

    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="+")
    version = models.CharField(max_length=100)
    rows = models.JSONField(default=list)  # [{"code", "severity", "n", "pending"}]
    changed = models.JSONField(default=dict)  # {"since", "total", "ids"}; {} = not computed
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "catalog"], name="diagnostics_snapshot_catalog_uniq"
            )
        ]
