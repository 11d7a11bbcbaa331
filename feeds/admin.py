from django import forms
from django.contrib import admin

from catalog_health.tenancy.services import audit_record

from . import crypto, services
from .models import FeedRowError, FeedRun, FeedRunChange, FeedSettings, ProductSource


class ProductSourceAdminForm(forms.ModelForm):
    new_password = forms.CharField(
        required=False,
        strip=False,  # spaces at either end are part of a password
        widget=forms.PasswordInput(render_value=False),
        help_text="Write-only: stored encrypted, never shown. Leave empty to keep the stored one.",
    )

    class Meta:
        model = ProductSource
        exclude = ["password_encrypted"]  # noqa: DJ006 -- write-only secret never in the form


@admin.register(ProductSource)
class ProductSourceAdmin(admin.ModelAdmin):
    form = ProductSourceAdminForm
    list_display = [
        "name",
        "catalog",
        "tenant",
        "kind",
        "schedule",
        "schedule_time",
        "schedule_weekday",
        "enabled",
        "next_pull_at",
        "last_success_at",
    ]
    list_filter = ["enabled", "schedule", "kind", "tenant"]
    list_editable = ["schedule", "schedule_time", "schedule_weekday", "enabled"]
    search_fields = ["name", "url"]
    raw_id_fields = ["catalog"]
    readonly_fields = [
        "last_success_at",
        "host_key_type",
        "host_key_fingerprint",
        "created_at",
        "updated_at",
    ]
    actions = ["forget_host_key"]

    @admin.action(description="Forget the stored sftp host key (the next pull trusts it again)")
    def forget_host_key(self, request, queryset):
        for source in queryset.exclude(host_key_fingerprint=""):
            services.source_update(
                tenant=source.tenant,
                source=source,
                actor=request.user,
                data={"forget_host_key": True},
            )

    def save_model(self, request, obj, form, change):
        if form.cleaned_data.get("new_password"):
            obj.password_encrypted = crypto.encrypt(form.cleaned_data["new_password"])
        super().save_model(request, obj, form, change)
        audit_record(
            tenant=obj.tenant,
            actor=request.user,
            action="feed_source.admin_saved",
            target=obj,
            changes={"fields": sorted(form.changed_data)},
        )


@admin.register(FeedRun)
class FeedRunAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "source",
        "catalog",
        "tenant",
        "trigger",
        "status",
        "phase",
        "received",
        "created",
        "updated",
        "removed",
        "rejected",
        "queued_at",
        "finished_at",
    ]
    list_filter = ["status", "trigger", "tenant"]
    raw_id_fields = ["catalog", "source", "requested_by", "confirmed_by"]
    exclude = ["one_time_password_encrypted"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False


@admin.register(FeedRowError)
class FeedRowErrorAdmin(admin.ModelAdmin):
    list_display = ["run", "line", "sku", "field", "severity", "message"]
    raw_id_fields = ["run"]
    show_full_result_count = False


@admin.register(FeedRunChange)
class FeedRunChangeAdmin(admin.ModelAdmin):
    list_display = ["run", "kind", "sku", "product_id"]
    raw_id_fields = ["run"]
    show_full_result_count = False


@admin.register(FeedSettings)
class FeedSettingsAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "rejected_share_threshold",
        "removal_share_threshold",
        "max_feed_bytes",
        "manual_refresh_min_seconds",
    ]

    def has_add_permission(self, request):
        return not FeedSettings.objects.exists()

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit_record(
            tenant=None,
            actor=request.user,
            action="feed_settings.changed",
            target=obj,
            changes={f: str(form.cleaned_data.get(f)) for f in form.changed_data},
        )
