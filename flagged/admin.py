"""Admin: metric policies (audited), their change history, flag states and transitions."""

from django.contrib import admin, messages

from catalog_health.tenancy.admin import HistoryAdmin
from catalog_health.tenancy.models import Tenant

from . import services
from .models import FlagState, FlagTransition, MetricPolicy, PolicyChange, TenantMetricPolicy


def _rescore(modeladmin, request, tenants) -> None:
    """Score now, in this request (admins expect to see the effect at once)."""
    total_changed = 0
    for tenant in tenants:
        total_changed += services.flags_score(tenant=tenant).changed_states
    modeladmin.message_user(
        request,
        f"Rescored {len(tenants)} tenant(s): {total_changed} product status(es) changed.",
        messages.SUCCESS,
    )


class AuditedPolicyAdmin(admin.ModelAdmin):
    """Saves and deletes go through the service, which records who changed what."""

    list_display = [
        "metric",
        "enabled",
        "window_days",
        "min_orders",
        "at_risk_threshold",
        "target",
        "updated_at",
    ]
    list_filter = ["metric", "enabled"]

    def save_model(self, request, obj, form, change):
        previous = None
        if change and obj.pk:
            previous = services.policy_snapshot(type(obj).objects.get(pk=obj.pk))
        services.policy_save(policy=obj, actor=request.user, previous=previous)

    def delete_model(self, request, obj):
        services.policy_delete(policy=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            services.policy_delete(policy=obj, actor=request.user)


@admin.register(MetricPolicy)
class MetricPolicyAdmin(AuditedPolicyAdmin):
    actions = ["rescore_now"]

    @admin.action(description="Rescore now (every tenant)")
    def rescore_now(self, request, queryset):
        _rescore(self, request, list(Tenant.objects.order_by("pk")))


@admin.register(TenantMetricPolicy)
class TenantMetricPolicyAdmin(AuditedPolicyAdmin):
    list_display = ["tenant", *AuditedPolicyAdmin.list_display]
    list_filter = ["tenant", *AuditedPolicyAdmin.list_filter]
    actions = ["rescore_now"]

    @admin.action(description="Rescore now (the selected overrides' tenants)")
    def rescore_now(self, request, queryset):
        ids = set(queryset.values_list("tenant_id", flat=True))
        _rescore(self, request, list(Tenant.objects.filter(pk__in=ids).order_by("pk")))


@admin.register(PolicyChange)
class PolicyChangeAdmin(HistoryAdmin):
    list_display = ["created_at", "metric", "scope", "who", "action", "what_changed"]
    list_filter = ["metric", "action", "tenant"]
    readonly_fields = ["created_at", "metric", "tenant", "who", "action", "changes"]

    @admin.display(description="actor")
    def who(self, obj) -> str:
        return obj.actor_name

    @admin.display(description="scope")
    def scope(self, obj) -> str:
        return f"override of {obj.tenant}" if obj.tenant_id else "global default"

    @admin.display(description="old → new")
    def what_changed(self, obj) -> str:
        return "; ".join(
            f"{field.replace('_', ' ')}: {old if old is not None else '—'} → "
            f"{new if new is not None else '—'}"
            for field, (old, new) in sorted(obj.changes.items())
        )


class ReadOnlyAdmin(admin.ModelAdmin):
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(FlagState)
class FlagStateAdmin(ReadOnlyAdmin):
    list_display = ["product", "tenant", "status", "status_since", "worst_level"]
    list_filter = ["status", "tenant"]
    raw_id_fields = ["product"]
    actions = ["rescore_now"]

    @admin.action(description="Rescore now (the selected states' tenants)")
    def rescore_now(self, request, queryset):
        ids = set(queryset.values_list("tenant_id", flat=True))
        _rescore(self, request, list(Tenant.objects.filter(pk__in=ids).order_by("pk")))


@admin.register(FlagTransition)
class FlagTransitionAdmin(HistoryAdmin):
    """A product's status history, which its details page shows: not to be erased by hand."""

    list_display = ["product", "tenant", "at", "from_status", "to_status"]
    list_filter = ["to_status", "tenant"]
    raw_id_fields = ["product"]
    show_full_result_count = False
