"""Outbound feeds: one per catalog and ad channel, and the log of each channel's fetches."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models

from catalog_health.tenancy.models import TenantOwnedModel
from catalogs.models import Catalog


class Channel(models.TextChoices):
    GOOGLE = "google", "Google Merchant Center"
    META = "meta", "Meta"
    TIKTOK = "tiktok", "TikTok"


class FeedFormat(models.TextChoices):
    XML = "xml", "XML (RSS 2.0)"
    CSV = "csv", "CSV"
    TSV = "tsv", "TSV"


class FlaggedMode(models.TextChoices):
    EXCLUDE = "exclude", "Leave Impacted products out"
    LABEL = "label", "Label Impacted and At risk products (custom label)"
    IGNORE = "ignore", "Ignore flags"


class ChannelFeed(TenantOwnedModel):
    """What one ad channel fetches for one catalog: Available products (and Pending ones if
    asked), Impacted ones left out or labelled, written as that channel's specification wants.

    The token is the secret in the feed's public URL. It is kept in clear, like any
    capability URL, because the page shows the URL again for copying; rotating it replaces
    it and the old URL answers 404 at once."""

    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120, blank=True)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    format = models.CharField(max_length=4, choices=FeedFormat.choices)
    flagged = models.CharField(
        max_length=8, choices=FlaggedMode.choices, default=FlaggedMode.EXCLUDE
    )
    label_slot = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(4)],
        help_text="custom_label_N that carries impacted / at_risk when flagged = label",
    )
    include_pending = models.BooleanField(default=False)
    rules = models.JSONField(default=list, blank=True)
    token = models.CharField(max_length=64, unique=True, editable=False)
    # The file names this token's URL had before a change of channel or format: a channel
    # still fetching one is redirected (301) to the current name rather than sent a 404.
    former_filenames = models.JSONField(default=list, blank=True, editable=False)
    basic_username = models.CharField(max_length=150, blank=True)
    basic_password_hash = models.CharField(max_length=256, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_fetched_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When a product or flag state this feed may have carried was last deleted (events.py):
    # a deletion leaves no newer change time behind, so the feed's version reads this.
    content_deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        indexes = [models.Index(fields=["tenant", "catalog", "id"], name="channelfeed_catalog_idx")]
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name or f"{self.get_channel_display()} {self.format.upper()}"

    @property
    def filename(self) -> str:
        return f"{self.channel}.{self.format}"

    @property
    def has_basic_auth(self) -> bool:
        return bool(self.basic_username and self.basic_password_hash)


class ChannelFeedFetch(TenantOwnedModel):
    """One request of a feed's public URL: the proof that a channel's schedule runs."""

    feed = models.ForeignKey(ChannelFeed, on_delete=models.CASCADE, related_name="fetches")
    at = models.DateTimeField()
    status = models.PositiveSmallIntegerField()
    bytes = models.BigIntegerField(default=0, help_text="bytes sent (compressed if gzip)")
    products = models.PositiveIntegerField(null=True, blank=True)
    # items of a complete feed left out because a field rule gave a price, availability,
    # condition or link a value the channel refuses (known only as the feed is written)
    invalid_values = models.PositiveIntegerField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    gzip = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["tenant", "feed", "-at"], name="channelfetch_feed_idx")]
        ordering = ["-at", "-id"]
        verbose_name = "channel feed fetch"
        verbose_name_plural = "channel feed fetches"

    def __str__(self) -> str:
        return f"{self.feed_id} {self.at:%Y-%m-%d %H:%M} {self.status}"
