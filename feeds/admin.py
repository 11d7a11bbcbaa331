import copy

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from catalog_health.service_forms import add_service_errors
from catalog_health.tenancy.admin import HistoryAdmin
from catalog_health.tenancy.services import audit_record

from . import services
from .forms import ScheduleTimeFormField
from .models import (
    FeedRowError,
    FeedRun,
    FeedRunChange,
    FeedSettings,
    ProductSource,
    RunStatus,
)


class SourceChecksForm(forms.ModelForm):
    """Shows what the feeds services refuse on the posted values (the add and change forms,
    the list's editable columns), before ProductSourceAdmin saves through them."""

    class Meta:
        model = ProductSource
        # catalog first: an added source's schedule time is read in its catalog's tenant's
        # time zone (clean_catalog)
        fields = ["catalog", *services.SOURCE_FIELDS]
        field_classes = {"schedule_time": ScheduleTimeFormField}
        # the browser's own time input, in whole minutes as the field asks: admin's time
        # widget showed 06:00:00 and its "Now" wrote the seconds, which the field refuses
        widgets = {
            "schedule_time": forms.TimeInput(attrs={"type": "time", "step": 60}, format="%H:%M")
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.is_bound and self.instance.tenant_id is not None:
            self.fields["schedule_time"].time_zone = self.instance.tenant.time_zone

    def clean_catalog(self):
        catalog = self.cleaned_data["catalog"]
        self.fields["schedule_time"].time_zone = catalog.tenant.time_zone
        return catalog

    def clean(self):
        cleaned = super().clean()
        if self.errors:  # a field's own error stands
            return cleaned
        source = copy.copy(self.instance)  # the instance itself is filled in after clean()
        if cleaned.get("catalog") is not None:  # added: the source joins its catalog's tenant
            source.catalog_id = cleaned["catalog"].pk
            source.tenant_id = cleaned["catalog"].tenant_id
        for field in services.SOURCE_FIELDS:
            if field in cleaned:
                setattr(source, field, cleaned[field])
        try:
            services.source_validate(source)
        except ValidationError as exc:
            add_service_errors(self, exc)
        return cleaned


class ProductSourceAdminForm(SourceChecksForm):
    new_password = forms.CharField(
        required=False,
        strip=False,  # spaces at either end are part of a password
        widget=forms.PasswordInput(render_value=False),
        help_text="Write-only: stored encrypted, never shown. Leave empty to keep the stored one.",
    )


@admin.register(ProductSource)
class ProductSourceAdmin(admin.ModelAdmin):
    """Saves (the form, the list's editable columns, the add form) and deletes go through the
    feeds services, as on the source's page and over the API: they reschedule the next pull,
    forget a former feed's validators and host key, take a deleted source's held stages and
    waiting upload files, and record the staff member in the audit log."""

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
        "next_pull_at",  # the services compute it from the schedule
        "last_success_at",
        "host_key_type",
        "host_key_fingerprint",
        "created_at",
        "updated_at",
    ]
    actions = ["forget_host_key"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        # a source stays in its catalog, as on its page and over the API
        return ["tenant", "catalog", *self.readonly_fields]

    def get_changelist_form(self, request, **kwargs):
        return super().get_changelist_form(request, form=SourceChecksForm, **kwargs)

    @admin.action(
        description="Forget the stored sftp host key (the next pull trusts it again)",
        permissions=["change"],
    )
    def forget_host_key(self, request, queryset):
        for source in queryset.exclude(host_key_fingerprint=""):
            services.source_update(
                tenant=source.tenant,
                source=source,
                actor=request.user,
                data={"forget_host_key": True},
            )

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in services.SOURCE_FIELDS if f in form.cleaned_data}
        password = form.cleaned_data.get("new_password", "")
        if change:
            saved = services.source_update(
                tenant=obj.tenant,
                source=obj,
                actor=request.user,
                data=data,
                password=password or None,
            )
        else:
            saved = services.source_create(
                tenant=obj.catalog.tenant,
                catalog=obj.catalog,
                actor=request.user,
                data=data,
                password=password,
            )
        obj.pk = saved.pk
        obj.refresh_from_db()  # what the services stored, for admin's message and history

    def delete_model(self, request, obj):
        services.source_delete(tenant=obj.tenant, source=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for source in queryset.select_related("tenant"):
            self.delete_model(request, source)


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
    # not editable, so admin would leave it out: a confirmation outlives its user's account
    readonly_fields = ["confirmed_at"]
    exclude = ["one_time_password_encrypted"]
    show_full_result_count = False
    actions = ["discard"]

    def has_add_permission(self, request):
        return False

    # A run's fate changes through the services only: a discard drops its staging table, the
    # reaper fails a stuck run and raises its source's fence so a live worker cannot apply,
    # and each is audited.
    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(
        # discarding throws the run's changes away: staff who may delete runs, not view them
        description="Discard the selected runs waiting for confirmation",
        permissions=["delete"],
    )
    def discard(self, request, queryset):
        held = list(queryset.filter(status=RunStatus.NEEDS_CONFIRMATION).select_related("tenant"))
        for run in held:
            services.feed_run_cancel(tenant=run.tenant, run=run, actor=request.user)
        self.message_user(request, f"Discarded {len(held)} run(s); their catalogs are unchanged.")


class RunLogAdmin(HistoryAdmin):
    """What a run found and changed is its history: only the run writes it, and the
    retention service deletes it with the run's details, so staff read it and nothing more."""

    show_full_result_count = False


@admin.register(FeedRowError)
class FeedRowErrorAdmin(RunLogAdmin):
    list_display = ["run", "line", "sku", "field", "severity", "message"]
    raw_id_fields = ["run"]


@admin.register(FeedRunChange)
class FeedRunChangeAdmin(RunLogAdmin):
    list_display = ["run", "kind", "sku", "product_id"]
    raw_id_fields = ["run"]


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

    # The one row every run reads its thresholds from (FeedSettings.load): deleted, it would
    # come back with the defaults, silently undoing staff's tuning.
    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit_record(
            tenant=None,
            actor=request.user,
            action="feed_settings.changed",
            target=obj,
            changes={f: str(form.cleaned_data.get(f)) for f in form.changed_data},
        )
