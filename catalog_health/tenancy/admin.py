from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as admin_delete_selected
from django.contrib.admin.utils import unquote
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import reverse

from catalog_health.service_forms import add_service_errors

from .audit_text import audit_actor_name
from .currencies import CurrencyFormField
from .models import ApiToken, AuditEvent, Membership, Tenant
from .services import (
    api_token_revoke,
    member_add_by_staff,
    member_removal_validate,
    member_remove_by_staff,
    member_role_validate,
    member_roles_set_by_staff,
    member_roles_validate,
    member_set_role_by_staff,
    tenant_settings_update,
    user_delete_by_staff,
    user_deletion_validate,
)

User = get_user_model()


class MembershipAdminForm(forms.ModelForm):
    """A member's role, checked by the services' rules (the tenant keeps an owner)."""

    class Meta:
        model = Membership
        fields = ["tenant", "user", "role"]

    def clean(self):
        cleaned = super().clean()
        # self.instance still holds the stored role: it is filled in after clean()
        if self.instance.pk is not None and "role" in cleaned:
            try:
                member_role_validate(
                    tenant=self.instance.tenant, membership=self.instance, role=cleaned["role"]
                )
            except ValidationError as exc:
                add_service_errors(self, exc)
        return cleaned


def _role_save(request, membership: Membership) -> None:
    """Save the role an admin form gave ``membership`` through the service (audited)."""
    stored = Membership.objects.get(pk=membership.pk)
    member_set_role_by_staff(
        tenant=membership.tenant, actor=request.user, membership=stored, role=membership.role
    )


class MembershipInlineFormSet(forms.BaseInlineFormSet):
    """A tenant's member rows, checked together by the services' rules: each row alone may
    leave the tenant an owner while the save leaves none (two owners demoted), or none
    alone while the save does (the owner role handed from one member to another)."""

    def clean(self):
        super().clean()
        if any(self.errors):  # a row's own error stands
            return
        deleted = self.deleted_forms
        roles = {
            form.instance.pk: form.cleaned_data["role"]
            for form in self.initial_forms
            if "role" in form.changed_data and form not in deleted
        }
        try:
            member_roles_validate(
                tenant=self.instance, roles=roles, removed=[f.instance.pk for f in deleted]
            )
        except ValidationError as exc:
            raise ValidationError(exc.messages) from exc


class MembershipInline(admin.TabularInline):
    """Roles are changed here; members are added on the Memberships page (audited there)."""

    model = Membership
    formset = MembershipInlineFormSet
    extra = 0
    readonly_fields = ["user"]

    def has_add_permission(self, request, obj=None):
        return False


class TenantAdminForm(forms.ModelForm):
    class Meta:
        model = Tenant
        fields = ["name", "slug", "time_zone", "currency", "date_order"]
        field_classes = {"currency": CurrencyFormField}


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    """The date order, the time zone and members' roles are changed through the services
    the tenant's own pages use, so the tenant's audit trail shows them with the staff
    member."""

    form = TenantAdminForm
    list_display = ["name", "slug", "time_zone", "currency", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]

    def save_model(self, request, obj, form, change):
        date_order, time_zone = obj.date_order, obj.time_zone
        if change:
            # the service changes them, audited (and a new time zone moves scheduled pulls)
            obj.date_order = form.initial["date_order"]
            obj.time_zone = form.initial["time_zone"]
        super().save_model(request, obj, form, change)
        if change:
            tenant_settings_update(
                tenant=obj, actor=request.user, date_order=date_order, time_zone=time_zone
            )

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)  # sorts the rows into changed and deleted ones
        roles = {m.pk: m.role for m, changed in formset.changed_objects if "role" in changed}
        member_roles_set_by_staff(tenant=form.instance, actor=request.user, roles=roles)
        # after the roles: an owner made in this save lets the old owner's row go
        member_remove_by_staff(actor=request.user, memberships=formset.deleted_objects)
        return None


def _removal_refused(exc: ValidationError) -> str:
    return " ".join(["Nothing was deleted.", *exc.messages])


class KeepsTenantOwnersOnDelete:
    """Admin's delete page and "Delete selected" action, for objects whose delete removes
    memberships: a delete that would leave a tenant without an owner is refused before the
    confirmation page, naming the tenants, and again at the delete (someone may have changed
    roles since), whole or not at all. Subclasses check with ``deletion_validate`` and delete
    through a service in ``delete_model`` and ``delete_queryset``."""

    actions = ["delete_selected"]  # replaces admin's own, which would not check first

    def deletion_validate(self, objs) -> None:
        raise NotImplementedError

    def delete_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is None or not self.has_delete_permission(request, obj):
            return super().delete_view(request, object_id, extra_context)
        try:
            self.deletion_validate([obj])
            return super().delete_view(request, object_id, extra_context)
        except ValidationError as exc:  # the view's transaction is rolled back
            self.message_user(request, _removal_refused(exc), messages.ERROR)
            opts = self.opts
            change_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
            return HttpResponseRedirect(change_url)

    @admin.action(description="Delete selected %(verbose_name_plural)s", permissions=["delete"])
    def delete_selected(self, request, queryset):
        try:
            self.deletion_validate(queryset)
            # admin's log entries of a delete refused at the last moment go with it
            with transaction.atomic():
                return admin_delete_selected(self, request, queryset)
        except ValidationError as exc:
            self.message_user(request, _removal_refused(exc), messages.ERROR)
            return None


@admin.register(Membership)
class MembershipAdmin(KeepsTenantOwnersOnDelete, admin.ModelAdmin):
    """Added, changed and deleted through the services (audited like the members page's
    invitations and role changes, the tenant keeps an owner). A membership stays one user's
    in one tenant."""

    form = MembershipAdminForm
    list_display = ["user", "tenant", "role", "created_at"]
    list_filter = ["role", "tenant"]
    search_fields = ["user__username", "tenant__slug"]
    autocomplete_fields = ["user", "tenant"]

    def deletion_validate(self, objs) -> None:
        member_removal_validate(memberships=objs)

    def delete_model(self, request, obj):
        member_remove_by_staff(actor=request.user, memberships=[obj])

    def delete_queryset(self, request, queryset):
        member_remove_by_staff(actor=request.user, memberships=queryset)

    def get_readonly_fields(self, request, obj=None):
        return ["tenant", "user"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:
            if "role" in form.changed_data:
                _role_save(request, obj)
        else:
            obj.pk = member_add_by_staff(
                tenant=obj.tenant, actor=request.user, user=obj.user, role=obj.role
            ).pk
        obj.refresh_from_db()  # what the service stored, for admin's message and history


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(KeepsTenantOwnersOnDelete, auth_admin.UserAdmin):
    """Django's user admin, with a user's delete removing the user's memberships as removing
    them here does (the tenant keeps an owner, each removal in its tenant's audit trail)
    rather than cascading them away unrecorded."""

    def deletion_validate(self, objs) -> None:
        user_deletion_validate(users=objs)

    def delete_model(self, request, obj):
        user_delete_by_staff(actor=request.user, users=[obj])

    def delete_queryset(self, request, queryset):
        user_delete_by_staff(actor=request.user, users=queryset)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are made on the API tokens page (the key is shown once, there) and revoked
    here with the *Revoke* action, audited as on that page. A token stays its user's in its
    tenant."""

    list_display = ["name", "prefix", "user", "tenant", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["tenant"]
    readonly_fields = [
        "tenant",
        "user",
        "prefix",
        "key_hash",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Revoke the selected tokens", permissions=["change"])
    def revoke(self, request, queryset):
        tokens = list(queryset.filter(revoked_at__isnull=True).select_related("tenant"))
        for token in tokens:
            api_token_revoke(tenant=token.tenant, token=token, actor=request.user)
        self.message_user(request, f"Revoked {len(tokens)} token(s).")


class HistoryAdmin(admin.ModelAdmin):
    """A record of what happened (an audit trail, a run's findings, a fetch log): staff read
    it, and nobody adds, changes or deletes it by hand, so it can be neither fabricated nor
    erased. Only the code that records it writes it; retention deletes it, if anything."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(HistoryAdmin):
    list_display = ["created_at", "tenant", "who", "action", "target_repr"]
    list_select_related = ["tenant", "actor"]
    list_filter = ["action", "tenant"]
    search_fields = ["action", "target_repr", "actor__username", "actor_username"]
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    @admin.display(description="actor", ordering="actor_username")
    def who(self, event: AuditEvent) -> str:
        return audit_actor_name(event.actor, event.actor_username)
