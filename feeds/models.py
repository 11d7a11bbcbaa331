"""Product sources, feed runs, their row errors and diffs, and the admin-tunable feed settings."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connection, models
from django.db.models import Q

from catalog_health.tenancy.models import TenantOwnedModel, TenantQuerySet
from catalogs.models import Catalog

from .outbound import url_username


class SourceKind(models.TextChoices):
    URL = "url", "Scheduled URL"
    UPLOAD = "upload", "File upload"
    API = "api", "API push"


class FeedFormat(models.TextChoices):
    AUTO = "auto", "Detect automatically"
    CSV = "csv", "CSV"
    TSV = "tsv", "TSV"
    XML = "xml", "XML (RSS 2.0 / Atom)"


class Compression(models.TextChoices):
    AUTO = "auto", "Detect automatically"
    NONE = "none", "None"
    GZIP = "gzip", "gzip"
    ZIP = "zip", "zip"


class UpdateMode(models.TextChoices):
    REPLACE = "replace", "Replace (products missing from the feed are removed)"
    UPDATE = "update", "Update only (upsert, like a supplemental feed)"


class Schedule(models.TextChoices):
    MANUAL = "manual", "Manual only"
    HOURLY = "hourly", "Hourly"
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class ProductSource(TenantOwnedModel):
    """Where a catalog's products come from. The password is stored encrypted and never shown."""

    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="sources")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=SourceKind.choices, default=SourceKind.URL)
    url = models.CharField(
        "feed URL",
        max_length=2000,
        blank=True,
        help_text="http(s)://… or sftp://[user@]host[:port]/path/feed.csv",
    )
    username = models.CharField(max_length=200, blank=True)
    password_encrypted = models.TextField(blank=True, editable=False)
    format = models.CharField(max_length=8, choices=FeedFormat.choices, default=FeedFormat.AUTO)
    compression = models.CharField(
        max_length=8, choices=Compression.choices, default=Compression.AUTO
    )
    encoding = models.CharField(
        max_length=40, blank=True, help_text="leave empty to detect (UTF-8, UTF-16, Windows-1252)"
    )
    mode = models.CharField(max_length=8, choices=UpdateMode.choices, default=UpdateMode.REPLACE)
    schedule = models.CharField(max_length=8, choices=Schedule.choices, default=Schedule.DAILY)
    schedule_time = models.TimeField(
        null=True, blank=True, help_text="HH:MM in the tenant's time zone (daily, weekly)"
    )
    schedule_weekday = models.PositiveSmallIntegerField(
        choices=Weekday.choices, null=True, blank=True
    )
    enabled = models.BooleanField(default=True)
    next_pull_at = models.DateTimeField(null=True, blank=True)

    # Conditional fetch: validators of the last good pull
    last_etag = models.CharField(max_length=500, blank=True, editable=False)
    last_modified = models.CharField(max_length=100, blank=True, editable=False)
    last_sha256 = models.CharField(max_length=64, blank=True, editable=False)
    # feeds.records.FINGERPRINT_VERSION that pull was read by ("" = unknown): under other
    # rules the validators cannot vouch for what is stored, and the file is read again
    last_rules_version = models.CharField(max_length=20, blank=True, editable=False)
    last_success_at = models.DateTimeField(null=True, blank=True)
    stale_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    # sftp: the server's host key, pinned by the first successful pull (trust on first use);
    # a later pull refuses any other key until a user clears it
    host_key_type = models.CharField(max_length=40, blank=True, editable=False)
    host_key_fingerprint = models.CharField(
        max_length=100, blank=True, editable=False, help_text="SHA256:… as OpenSSH prints it"
    )
    # fencing token: raised when a run of this source starts and when the reaper fails one;
    # a run applies only while the source still carries the generation it started with
    fence_generation = models.BigIntegerField(default=0, editable=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "catalog", "name"], name="source_tenant_catalog_name_uniq"
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "catalog", "id"], name="source_catalog_idx"),
            models.Index(fields=["tenant", "enabled", "next_pull_at"], name="source_due_idx"),
        ]
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def has_password(self) -> bool:
        return bool(self.password_encrypted)

    @property
    def login_username(self) -> str:
        """The login used: the Username field, else the ``user@`` of an sftp URL."""
        return self.username or url_username(self.url)

    @property
    def is_sftp(self) -> bool:
        return self.kind == SourceKind.URL and self.url.lower().startswith("sftp://")

    @property
    def needs_password_prompt(self) -> bool:
        """A username without a stored password: Request Data Now asks for it."""
        return (
            self.kind == SourceKind.URL
            and bool(self.login_username)
            and not self.password_encrypted
        )


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    UNCHANGED = "unchanged", "Unchanged"
    NEEDS_CONFIRMATION = "needs_confirmation", "Needs confirmation"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


ACTIVE_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)
FINISHED_OK = (RunStatus.SUCCEEDED, RunStatus.UNCHANGED)


class Phase(models.TextChoices):
    QUEUED = "queued", "Queued"
    FETCHING = "fetching", "Fetching"
    PARSING = "parsing", "Parsing"
    VALIDATING = "validating", "Validating"
    APPLYING = "applying", "Applying"
    REVIEWING = "reviewing", "Reviewing"
    DONE = "done", "Done"


class Trigger(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    MANUAL = "manual", "Request Data Now"
    API = "api", "API"
    UPLOAD = "upload", "File upload"
    COMMAND = "command", "import_feed command"


class FeedRunQuerySet(TenantQuerySet):
    def active(self):
        return self.filter(status__in=ACTIVE_STATUSES)


class FeedRunCounter(models.Model):
    """The last run number given in each tenant.

    One upsert both creates and increments it; its row lock, held until the creating
    transaction ends, makes two concurrent requests of one tenant take turns, and a rolled
    back run gives its number back (no gaps, no duplicates)."""

    tenant = models.OneToOneField(
        "tenancy.Tenant", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"last run #{self.last}"


def next_run_number(*, tenant_id: int) -> int:
    table = connection.ops.quote_name(FeedRunCounter._meta.db_table)
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {table} (tenant_id, last) VALUES (%s, 1) "  # noqa: S608 (table name)
            f"ON CONFLICT (tenant_id) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [tenant_id],
        )
        return cur.fetchone()[0]


class FeedRun(TenantOwnedModel):
    """One pull of one product source (or one `import_feed`): phases, progress, counts, errors."""

    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="+")
    source = models.ForeignKey(
        ProductSource, on_delete=models.CASCADE, null=True, blank=True, related_name="runs"
    )
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    mode = models.CharField(max_length=8, choices=UpdateMode.choices)
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED)
    phase = models.CharField(max_length=10, choices=Phase.choices, default=Phase.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    location = models.CharField(max_length=2000, blank=True, help_text="URL or file name")
    file_path = models.CharField(max_length=1000, blank=True, editable=False)
    one_time_password_encrypted = models.TextField(blank=True, editable=False)
    force = models.BooleanField(default=False, help_text="ignore ETag / identical-file shortcuts")

    # progress
    bytes_downloaded = models.BigIntegerField(default=0)
    rows_done = models.BigIntegerField(default=0)
    rows_total = models.BigIntegerField(null=True, blank=True)
    # result counts
    received = models.BigIntegerField(default=0)
    created = models.BigIntegerField(default=0)
    updated = models.BigIntegerField(default=0)
    unchanged = models.BigIntegerField(default=0)
    removed = models.BigIntegerField(default=0)
    rejected = models.BigIntegerField(default=0)
    warnings = models.BigIntegerField(default=0)
    durations = models.JSONField(default=dict, blank=True, help_text="seconds per phase")
    content_sha256 = models.CharField(max_length=64, blank=True)
    etag = models.CharField(max_length=500, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    # feeds.records.FINGERPRINT_VERSION its records were read by ("" = none read): a held run
    # confirmed after an upgrade applies what the older rules read, and its source must say so
    rules_version = models.CharField(max_length=20, blank=True, editable=False)

    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.TextField(blank=True)
    # when its row errors and change list were deleted (FeedSettings.run_details_days)
    details_deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    # A held run's confirmation: the worker applies a run confirmed_at is set on. Who
    # confirmed it is only a record (an account deleted since, or none signed in).
    confirmed_at = models.DateTimeField(null=True, blank=True, editable=False)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # run safety
    fence = models.BigIntegerField(
        null=True, blank=True, editable=False, help_text="the source's generation at start"
    )
    incomplete_reason = models.TextField(
        blank=True, help_text="why the download cannot be proven complete (removals are held)"
    )
    hold_reason = models.CharField(
        max_length=20, blank=True, help_text="removal_share or incomplete: why removals wait"
    )
    held_removals_digest = models.CharField(
        max_length=64, blank=True, help_text="sha256 of the ids a confirmation may remove"
    )

    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Run #1, #2, … of this tenant (the id is global: a tenant would see #1 then #3).
    number = models.PositiveIntegerField(editable=False)

    objects = FeedRunQuerySet.as_manager()

    class Meta:
        constraints = [
            # the database's own guard: one queued/running run per source
            models.UniqueConstraint(
                fields=["tenant", "source"],
                condition=Q(status__in=["queued", "running"]),
                name="feedrun_one_active_per_source",
            ),
            models.UniqueConstraint(fields=["tenant", "number"], name="feedrun_tenant_number_uniq"),
        ]
        indexes = [
            models.Index(fields=["tenant", "source", "-id"], name="feedrun_source_idx"),
            models.Index(fields=["tenant", "catalog", "-id"], name="feedrun_catalog_idx"),
            models.Index(fields=["tenant", "status", "heartbeat_at"], name="feedrun_status_idx"),
        ]
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"Run #{self.number} ({self.get_status_display()})"

    def save(self, *args, **kwargs) -> None:
        # Every way a run is created (pages, API, command, beat, tests) gets its number here.
        if self.number is None:
            self.number = next_run_number(tenant_id=self.tenant_id)
        super().save(*args, **kwargs)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def state_label(self) -> str:
        """The one word for where the run is, used by the badge and the phase bar alike: its
        phase while it is active (Queued, Fetching, …), else its outcome."""
        if self.is_active and self.phase not in (Phase.QUEUED, Phase.DONE):
            return self.get_phase_display()
        if self.is_active:
            return RunStatus.QUEUED.label
        return self.get_status_display()

    @property
    def stage_table(self) -> str:
        return f"feeds_stage_{int(self.pk)}"


class FeedRowError(TenantOwnedModel):
    """A rejected row (severity error) or a repaired one (warning) of a run."""

    run = models.ForeignKey(FeedRun, on_delete=models.CASCADE, related_name="row_errors")
    line = models.BigIntegerField()
    sku = models.CharField(max_length=100, blank=True)
    field = models.CharField(max_length=100, blank=True)
    message = models.CharField(max_length=500)
    severity = models.CharField(max_length=8, default="error")

    objects = TenantQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["tenant", "run", "id"], name="feedrowerror_run_idx")]
        ordering = ["id"]


class ChangeKind(models.TextChoices):
    CREATED = "created", "Created"
    UPDATED = "updated", "Updated"
    REMOVED = "removed", "Removed"


class FeedRunChange(TenantOwnedModel):
    """What a run changed in the catalog: one product, with old/new values per changed field."""

    run = models.ForeignKey(FeedRun, on_delete=models.CASCADE, related_name="changes")
    kind = models.CharField(max_length=8, choices=ChangeKind.choices)
    product_id = models.BigIntegerField(null=True, blank=True)
    sku = models.CharField(max_length=100)
    changes = models.JSONField(default=dict, blank=True, help_text="{field: [old, new]}")

    objects = TenantQuerySet.as_manager()

    class Meta:
        # the run page's "What changed", by SKU: all kinds, and one kind
        indexes = [
            models.Index(fields=["tenant", "run", "sku", "id"], name="feedrunchange_sku_idx"),
            models.Index(
                fields=["tenant", "run", "kind", "sku", "id"], name="feedrunchange_kind_sku_idx"
            ),
        ]
        ordering = ["id"]


class FeedSettings(models.Model):
    """Platform-wide knobs for feeds, tuned by staff in Django admin (one row)."""

    rejected_share_threshold = models.FloatField(
        default=0.20,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="a run whose rejected rows exceed this share of the feed fails as a whole",
    )
    removal_share_threshold = models.FloatField(
        default=0.50,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="a replace run removing more than this share of the catalog waits for "
        "confirmation",
    )
    max_feed_bytes = models.BigIntegerField(
        default=4 * 1024**3, help_text="size cap on downloaded and on decompressed bytes"
    )
    connect_timeout_seconds = models.FloatField(default=10)
    read_timeout_seconds = models.FloatField(default=60)
    total_timeout_seconds = models.FloatField(
        default=600, help_text="a download still running after this long fails (slow sources)"
    )
    max_redirects = models.PositiveSmallIntegerField(default=5)
    fetch_allow_list = models.TextField(
        blank=True,
        help_text="networks (CIDR, one per line) that may be fetched although private or "
        "loopback, e.g. an intranet feed server",
    )
    manual_refresh_min_seconds = models.PositiveIntegerField(
        default=60, help_text="minimum time between two Request Data Now of one source"
    )
    stuck_run_minutes = models.PositiveIntegerField(
        default=3,
        validators=[MinValueValidator(2)],
        help_text="a running run without a heartbeat for this long is marked failed (its "
        "worker writes one every 30 s while it runs); its tenant's next pull starts then",
    )
    max_concurrent_runs_per_tenant = models.PositiveIntegerField(
        default=1,
        help_text="pulls of one tenant running at once; more wait in the queue, so slow "
        "sources of one tenant cannot hold every worker (0 = no limit)",
    )
    max_stored_row_errors = models.PositiveIntegerField(default=10_000)
    max_stored_changes = models.PositiveIntegerField(default=10_000)
    run_details_days = models.PositiveIntegerField(
        default=90,
        help_text="days a finished run keeps its row errors and change list; the run and its "
        "counts stay, and so do the details of each source's latest run and latest successful "
        "run (0 = keep them forever)",
    )

    class Meta:
        verbose_name = "feed settings"
        verbose_name_plural = "feed settings"

    def __str__(self) -> str:
        return "Feed settings"

    @classmethod
    def load(cls) -> FeedSettings:
        """The row staff edited, or the defaults (one query, never a write on a read path)."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)
