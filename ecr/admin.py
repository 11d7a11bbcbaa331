"""Django admin: policy lists, review settings and per-catalog ECR overrides (staff)."""

from django.contrib import admin, messages

from catalog_health.tenancy.admin import HistoryAdmin
from catalog_health.tenancy.services import audit_record

from . import selectors, services
from .models import (
    CatalogEcrState,
    DeniedClaim,
    EcrEvent,
    EcrTrigger,
    PolicyTerm,
    ProductIssue,
    ReviewBatch,
    ReviewSettings,
)
from .services import ecr_evaluate, review_rules_changed

# Review settings that the rules read (the thresholds only steer ECR)
RULE_SETTINGS = frozenset({"title_max_length", "description_max_length", "caps_min_letters"})
THRESHOLD_SETTINGS = frozenset({"disable_threshold", "enable_threshold"})
RAISED_SHOWN = 20  # catalogs named in the warning after a global threshold change


class _RulesListAdmin(admin.ModelAdmin):
    """Terms and claims are part of the review rules: adding, changing (in the list too) or
    deleting one has the catalogs' products reviewed again in the background."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change or form.changed_data:
            _rules_changed(self, request)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        _rules_changed(self, request)

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        _rules_changed(self, request)


def _rules_changed(model_admin: admin.ModelAdmin, request) -> None:
    review_rules_changed()
    model_admin.message_user(
        request,
        "The products already reviewed are being reviewed again with this change, in the "
        "background; their catalogs' ECR tabs show the new share in a few minutes.",
    )


@admin.register(PolicyTerm)
class PolicyTermAdmin(_RulesListAdmin):
    list_display = ("term", "kind", "category", "severity", "is_active", "updated_at")
    list_filter = ("kind", "severity", "category", "is_active")
    list_editable = ("severity", "is_active")
    search_fields = ("term", "category")


@admin.register(DeniedClaim)
class DeniedClaimAdmin(_RulesListAdmin):
    list_display = ("phrase", "category", "is_active", "updated_at")
    list_filter = ("category", "is_active")
    list_editable = ("is_active",)
    search_fields = ("phrase",)


def _audit_change(request, obj, form, *, tenant, action: str) -> None:
    """Threshold and capacity changes go to the audit log with the staff member."""
    if not form.changed_data:
        return
    changes = {
        f: [str(form.initial.get(f)), str(form.cleaned_data.get(f))] for f in form.changed_data
    }
    audit_record(tenant=tenant, actor=request.user, action=action, target=obj, changes=changes)


@admin.register(ReviewSettings)
class ReviewSettingsAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "disable_threshold",
        "enable_threshold",
        "min_products",
        "standard_queue_capacity",
        "updated_at",
    )

    def has_add_permission(self, request):
        return not ReviewSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        # the one row of thresholds: deleting it would bring the defaults back unnoticed
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        _audit_change(request, obj, form, tenant=None, action="ecr.settings_changed")
        if RULE_SETTINGS & set(form.changed_data):
            _rules_changed(self, request)
        if THRESHOLD_SETTINGS & set(form.changed_data):
            _warn_enable_raised(self, request, obj)


def _warn_enable_raised(model_admin: admin.ModelAdmin, request, settings: ReviewSettings) -> None:
    """Global thresholds are platform policy and are saved; a catalog override they now
    cross is kept (it applies again if they come back) and named, so staff can change it."""
    rows = selectors.ecr_states_with_enable_raised(
        disable=settings.disable_threshold, enable=settings.enable_threshold
    )
    shown = list(rows[: RAISED_SHOWN + 1])
    if not shown:
        return
    names = []
    for row in shown[:RAISED_SHOWN]:
        applied = services.thresholds_applied_for(ecr=row, settings=settings)
        names.append(
            f"{row.tenant.slug} · {row.catalog.name} (enable {applied.enable_as_set:.3f} "
            f"raised to {applied.thresholds.enable:.3f})"
        )
    if len(shown) > RAISED_SHOWN:
        names.append(f"and {rows.count() - RAISED_SHOWN} more")
    model_admin.message_user(
        request,
        "With these thresholds ECR turns back on at the disable threshold, above the enable "
        f"threshold set for these catalogs: {'; '.join(names)}. Change their overrides on "
        "Catalog ECR states if that is not what they need.",
        level=messages.WARNING,
    )


@admin.register(CatalogEcrState)
class CatalogEcrStateAdmin(admin.ModelAdmin):
    list_display = (
        "catalog",
        "tenant",
        "enabled",
        "ratio",
        "available_count",
        "active_count",
        "disable_threshold_override",
        "enable_threshold_override",
        "evaluated_at",
    )
    list_filter = ("enabled",)
    list_select_related = ("catalog", "tenant")
    search_fields = ("catalog__name", "tenant__slug")
    actions = ["check_now"]
    fields = (
        "tenant",
        "catalog",
        "enabled",
        "disable_threshold_override",
        "enable_threshold_override",
        "ratio",
        "active_count",
        "available_count",
        "unavailable_count",
        "pending_count",
        "evaluated_at",
        "changed_at",
    )
    readonly_fields = (
        "tenant",
        "catalog",
        "enabled",
        "ratio",
        "active_count",
        "available_count",
        "unavailable_count",
        "pending_count",
        "evaluated_at",
        "changed_at",
    )

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        _audit_change(request, obj, form, tenant=obj.tenant, action="ecr.thresholds_overridden")

    @admin.action(description="Check ECR now with the current thresholds")
    def check_now(self, request, queryset):
        """What the periodic check does every 15 minutes, for the selected catalogs at once
        (after changing a threshold, say); a change is an ECR event like any other."""
        changed = 0
        states = list(queryset.select_related("tenant", "catalog"))
        for state in states:
            decision = ecr_evaluate(
                tenant=state.tenant,
                catalog=state.catalog,
                trigger=EcrTrigger.MANUAL,
                actor=request.user,
            )
            changed += bool(decision.changed)
        self.message_user(
            request, f"Checked {len(states)} catalog(s); ECR turned on or off for {changed}."
        )


@admin.register(EcrEvent)
class EcrEventAdmin(HistoryAdmin):
    list_display = ("created_at", "catalog", "tenant", "enabled", "ratio", "trigger", "reason")
    list_filter = ("enabled", "trigger")
    list_select_related = ("catalog", "tenant")
    date_hierarchy = "created_at"


@admin.register(ReviewBatch)
class ReviewBatchAdmin(HistoryAdmin):
    list_display = ("finished_at", "catalog", "lane", "trigger", "reviewed", "unavailable")
    list_filter = ("lane", "trigger")
    list_select_related = ("catalog",)


@admin.register(ProductIssue)
class ProductIssueAdmin(HistoryAdmin):
    list_display = ("product", "code", "severity", "field", "rule", "created_at")
    list_filter = ("severity", "code")
    raw_id_fields = ("product", "catalog")
    list_select_related = ("product",)
    search_fields = ("product__sku", "code")
    show_full_result_count = False
