import copy

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from . import services
from .models import ChannelFeed, ChannelFeedFetch

# what services.feed_validate reads; each is a field of the admin form
VALIDATED_FIELDS = ("channel", "format", "flagged", "label_slot", "rules")


class ChannelFeedAdminForm(forms.ModelForm):
    """Staff save only what the API would: the service's validation, its messages."""

    class Meta:
        model = ChannelFeed
        fields = (
            "tenant",
            "catalog",
            "name",
            *VALIDATED_FIELDS,
            "include_pending",
            "basic_username",
            "created_by",
        )

    def clean(self):
        cleaned = super().clean()
        tenant, catalog = cleaned.get("tenant"), cleaned.get("catalog")
        if tenant is not None and catalog is not None and catalog.tenant_id != tenant.pk:
            # the feed would publish another tenant's products under this tenant
            self.add_error("catalog", "This catalog belongs to another tenant.")
        if all(f in cleaned for f in VALIDATED_FIELDS):  # else a field's own error stands
            feed = copy.copy(self.instance)  # the instance itself is filled in after clean()
            for field in VALIDATED_FIELDS:
                setattr(feed, field, cleaned[field])
            try:
                services.feed_validate(feed)
            except ValidationError as exc:
                self.add_error(None, exc)
        return cleaned


@admin.register(ChannelFeed)
class ChannelFeedAdmin(admin.ModelAdmin):
    form = ChannelFeedAdminForm
    list_display = ("id", "tenant", "catalog", "channel", "format", "flagged", "last_fetched_at")
    list_filter = ("channel", "format", "flagged")
    raw_id_fields = ("tenant", "catalog", "created_by")
    # the token is the feed's secret: staff rotate it on the feed's page, never read it here
    exclude = ("token", "basic_password_hash")
    readonly_fields = ("last_fetched_at",)

    def save_model(self, request, obj, form, change):
        if change and {"channel", "format"} & set(form.changed_data):
            old = f"{form.initial['channel']}.{form.initial['format']}"
            services.feed_keep_former_filename(obj, old=old)
        super().save_model(request, obj, form, change)

    def has_add_permission(self, request):
        # made on the catalog's Channel feeds page or through the API: the service gives it
        # its secret token and its audit entry
        return False


@admin.register(ChannelFeedFetch)
class ChannelFeedFetchAdmin(admin.ModelAdmin):
    list_display = ("feed", "at", "status", "bytes", "user_agent")
    list_filter = ("status",)
    raw_id_fields = ("tenant", "feed")
