import copy

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from catalog_health.tenancy.admin import HistoryAdmin

from . import services
from .models import ChannelFeed, ChannelFeedFetch

# what services.feed_validate reads; each is a field of the admin form
VALIDATED_FIELDS = ("channel", "format", "flagged", "label_slot", "rules")


class ChannelFeedAdminForm(forms.ModelForm):
    """Staff change only what the API would, checked by the service's validation with its
    messages; ChannelFeedAdmin saves through the service."""

    class Meta:
        model = ChannelFeed
        fields = ("name", *VALIDATED_FIELDS, "include_pending")

    def clean(self):
        cleaned = super().clean()
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
    """Changes and deletes go through the service (audited with the staff member; a new
    channel or format keeps the old URL as a redirect). A feed stays with its catalog, and its
    credentials are set where their password goes with them: the feed's page or the API."""

    form = ChannelFeedAdminForm
    list_display = ("id", "tenant", "catalog", "channel", "format", "flagged", "last_fetched_at")
    list_filter = ("channel", "format", "flagged")
    # the token is the feed's secret: staff rotate it on the feed's page, never read it here
    exclude = ("token", "basic_password_hash")
    readonly_fields = ("tenant", "catalog", "basic_username", "created_by", "last_fetched_at")

    def save_model(self, request, obj, form, change):
        stored = ChannelFeed.objects.for_tenant(obj.tenant_id).get(pk=obj.pk)
        data = {f: form.cleaned_data[f] for f in (*services.SETTINGS_FIELDS, "rules")}
        services.feed_update(tenant=obj.tenant, actor=request.user, feed=stored, data=data)
        obj.refresh_from_db()  # what the service stored, for admin's message and history

    def delete_model(self, request, obj):
        services.feed_delete(tenant=obj.tenant, actor=request.user, feed=obj)

    def delete_queryset(self, request, queryset):
        for feed in queryset.select_related("tenant"):
            self.delete_model(request, feed)

    def has_add_permission(self, request):
        # made on the catalog's Channel feeds page or through the API: the service gives it
        # its secret token and its audit entry
        return False


@admin.register(ChannelFeedFetch)
class ChannelFeedFetchAdmin(HistoryAdmin):
    """The log of a feed's fetches: the proof that a channel's schedule runs, read-only so
    that nobody can fabricate or erase it."""

    list_display = ("feed", "at", "status", "bytes", "user_agent")
    list_filter = ("status",)
    raw_id_fields = ("tenant", "feed")
