"""The view mixin every tenant page uses, and the tenancy pages (home, members, tokens)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from catalog_health.service_forms import add_service_errors

from .accounts import account_email_change
from .audit_text import audit_rows
from .forms import (
    AccountEmailForm,
    ApiTokenForm,
    InviteMemberForm,
    MemberRoleForm,
    TenantSettingsForm,
    TenantTimeZoneForm,
)
from .models import ApiToken, Membership
from .roles import Perm, assignable_roles, email_topics_for, has_perm, roles_with
from .selectors import tenant_audit_events, tenant_members, user_api_tokens, user_memberships
from .services import (
    access_denied_record,
    api_token_create,
    api_token_revoke,
    member_email_choices_set,
    member_invite,
    member_remove,
    member_set_role,
    tenant_settings_update,
)

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class RoleRequired(PermissionDenied):
    def __init__(self, perm: Perm):
        super().__init__(perm)
        self.perm = perm


class TenantViewMixin:
    """Base of every page under /t/<tenant_slug>/.

    TenantMiddleware has already resolved request.tenant (or answered 404/login). This mixin
    checks the role: `permission` for reads, `write_permission` for POST and friends.
    """

    permission: Perm = Perm.VIEW
    write_permission: Perm | None = None

    def load_objects(self) -> None:
        """Fetch the objects named in the URL through the tenant scope, raising Http404.

        Runs before the role check and the method check, so another tenant's id is a 404
        whatever the role or the method (never a 403 or 405 that confirms it exists)."""

    def dispatch(self, request, *args, **kwargs):
        if request.tenant is None:  # mounted outside /t/<slug>/: a programming error
            raise RuntimeError(f"{type(self).__name__} must be routed under /t/<tenant_slug>/")
        self.tenant = request.tenant
        self.membership = request.membership
        self.load_objects()
        needed = self.permission if request.method in SAFE_METHODS else self.write_permission
        if needed is None:
            needed = self.permission if request.method in SAFE_METHODS else Perm.MANAGE_MEMBERS
        if not has_perm(request.membership.role, needed):
            return role_required_response(request, needed)
        return super().dispatch(request, *args, **kwargs)

    def scoped(self, model):
        """`model.objects.for_tenant(current tenant)`: the only way views reach tenant data."""
        return model.objects.for_tenant(self.request.tenant)

    def can(self, perm: Perm) -> bool:
        return has_perm(self.request.membership.role, perm)


def _denied_target(kwargs: dict) -> tuple[str, str]:
    """The most specific object a URL names (its last `<name>_id` kwarg): ("source", "12")."""
    ids = [(k, v) for k, v in kwargs.items() if k.endswith("_id")]
    if not ids:
        return "", ""
    name, value = ids[-1]
    return name.removesuffix("_id"), str(value)


def role_required_response(request, perm: Perm):
    """The 403 page of a role that lacks `perm`; the attempt is audited (rate-limited)."""
    match = getattr(request, "resolver_match", None)
    target_type, target_id = _denied_target(match.kwargs if match else {})
    access_denied_record(
        tenant=getattr(request, "tenant", None),
        user=request.user,
        action=match.view_name if match else request.path[:80],
        permission=perm,
        target_type=target_type,
        target_id=target_id,
        method=request.method,
    )
    return render(
        request,
        "403.html",
        {
            "needed_roles": roles_with(perm),
            "your_role": request.membership.get_role_display() if request.membership else None,
        },
        status=403,
    )


@login_required
def home(request):
    """Send the user to their active (or only) tenant, or let them pick one."""
    memberships = list(user_memberships(user=request.user))
    active = request.session.get("active_tenant")
    slugs = [m.tenant.slug for m in memberships]
    if active in slugs:
        return redirect(settings.TENANT_HOME_URL_NAME, tenant_slug=active)
    if len(memberships) == 1:
        return redirect(settings.TENANT_HOME_URL_NAME, tenant_slug=slugs[0])
    return render(
        request,
        "tenancy/tenant_list.html",
        {"memberships": memberships, "home_url_name": settings.TENANT_HOME_URL_NAME},
    )


class AccountView(LoginRequiredMixin, TemplateView):
    """Your account: username, email address (changed with the password), password link."""

    template_name = "registration/account.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["form"] = kwargs.get("form") or AccountEmailForm(
            initial={"email": self.request.user.email}
        )
        return ctx

    def post(self, request, *args, **kwargs):
        form = AccountEmailForm(request.POST)
        form.is_valid()  # every field optional: the service says what is wrong
        try:
            account_email_change(
                user=request.user,
                email=form.cleaned_data.get("email", ""),
                password=form.cleaned_data.get("password", ""),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.render_to_response(self.get_context_data(form=form))
        messages.success(request, f"Your email address is now {request.user.email}.")
        return redirect("account")


@login_required
def tenant_list(request):
    return render(
        request,
        "tenancy/tenant_list.html",
        {
            "memberships": user_memberships(user=request.user),
            "home_url_name": settings.TENANT_HOME_URL_NAME,
        },
    )


class MembersView(TenantViewMixin, TemplateView):
    template_name = "tenancy/members.html"
    permission = Perm.VIEW
    write_permission = Perm.MANAGE_MEMBERS

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["members"] = members = tenant_members(tenant=self.tenant)
        ctx["can_manage"] = can_manage = self.can(Perm.MANAGE_MEMBERS)
        ctx["invite_form"] = kwargs.get("invite_form") or InviteMemberForm(
            actor_role=self.membership.role
        )
        # One role form per member the viewer may change (not themselves; an owner's role only
        # if the viewer is an owner): built here, with the viewer's assignable roles, because a
        # template cannot construct a form that needs the viewer's role.
        allowed = assignable_roles(self.membership.role)
        managed = [
            can_manage and m.user_id != self.request.user.pk and m.role in allowed for m in members
        ]
        ctx["member_rows"] = [
            (
                m,
                MemberRoleForm(actor_role=self.membership.role, initial={"role": m.role})
                if may
                else None,
                may,  # removable by the viewer (themselves: Leave)
            )
            for m, may in zip(members, managed, strict=True)
        ]
        ctx["audit_events"] = (
            audit_rows(tenant=self.tenant, events=tenant_audit_events(tenant=self.tenant, limit=50))
            if self.can(Perm.MANAGE_MEMBERS)
            else []
        )
        return ctx

    def post(self, request, *args, **kwargs):
        if "remove_membership_id" in request.POST:
            membership = get_object_or_404(
                Membership.objects.filter(tenant=self.tenant).select_related("user"),
                pk=_posted_pk(request, "remove_membership_id"),
            )
            try:
                member_remove(
                    tenant=self.tenant, actor_membership=self.membership, membership=membership
                )
            except ValidationError as exc:
                messages.error(
                    request,
                    f"{membership.user.username} was not removed: " + " ".join(exc.messages),
                )
            else:
                messages.success(
                    request, f"{membership.user.username} was removed from {self.tenant.name}."
                )
            return redirect("tenancy:members", tenant_slug=self.tenant.slug)
        if "membership_id" in request.POST:
            membership = get_object_or_404(
                Membership.objects.filter(tenant=self.tenant),
                pk=_posted_pk(request, "membership_id"),
            )
            form = MemberRoleForm(request.POST, actor_role=self.membership.role)
            if not form.is_valid():
                messages.error(
                    request,
                    f"The role of {membership.user.username} was not changed: "
                    + " ".join(e for errors in form.errors.values() for e in errors),
                )
            else:
                try:
                    member_set_role(
                        tenant=self.tenant,
                        actor_membership=self.membership,
                        membership=membership,
                        role=form.cleaned_data["role"],
                    )
                    messages.success(
                        request,
                        f"{membership.user.username} is now {membership.get_role_display()}.",
                    )
                except ValidationError as exc:
                    messages.error(request, " ".join(exc.messages))
            return redirect("tenancy:members", tenant_slug=self.tenant.slug)
        form = InviteMemberForm(request.POST, actor_role=self.membership.role)
        if form.is_valid():
            try:
                membership = member_invite(
                    tenant=self.tenant, actor_membership=self.membership, **form.cleaned_data
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                emailed = not membership.user.has_usable_password()
                messages.success(
                    request,
                    f"{membership.user.username} was added as {membership.get_role_display()}."
                    + (
                        f" We emailed a link to set a password to {membership.user.email}."
                        if emailed
                        else ""
                    ),
                )
                return redirect("tenancy:members", tenant_slug=self.tenant.slug)
        return self.render_to_response(self.get_context_data(invite_form=form))


class MemberLeaveView(TenantViewMixin, View):
    """A member leaves the tenant (POST only); the last owner cannot."""

    write_permission = Perm.VIEW  # leaving needs no right but membership

    def post(self, request, *args, **kwargs):
        try:
            member_remove(
                tenant=self.tenant, actor_membership=self.membership, membership=self.membership
            )
        except ValidationError as exc:
            messages.error(request, "You did not leave: " + " ".join(exc.messages))
            return redirect("tenancy:members", tenant_slug=self.tenant.slug)
        messages.success(request, f"You left {self.tenant.name}.")
        return redirect("tenant_list")


class ApiTokensView(TenantViewMixin, TemplateView):
    """Each member manages their own API tokens for this tenant."""

    template_name = "tenancy/api_tokens.html"
    permission = Perm.VIEW
    write_permission = Perm.VIEW

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["tokens"] = user_api_tokens(tenant=self.tenant, user=self.request.user)
        ctx["form"] = ApiTokenForm()
        ctx["new_key"] = kwargs.get("new_key")
        return ctx

    def post(self, request, *args, **kwargs):
        if "revoke" in request.POST:
            token = get_object_or_404(
                user_api_tokens(tenant=self.tenant, user=request.user),
                pk=_posted_pk(request, "revoke"),
            )
            api_token_revoke(tenant=self.tenant, token=token, actor=request.user)
            messages.success(request, f"Token {token.name} revoked.")
            return redirect("tenancy:api_tokens", tenant_slug=self.tenant.slug)
        form = ApiTokenForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data())
        _, key = api_token_create(
            tenant=self.tenant, user=request.user, name=form.cleaned_data["name"]
        )
        return self.render_to_response(self.get_context_data(new_key=key))


class EmailPreferencesView(TenantViewMixin, TemplateView):
    """Each member chooses which of this tenant's emails they get."""

    template_name = "tenancy/email_preferences.html"
    permission = Perm.VIEW
    write_permission = Perm.VIEW  # one's own choice: every role may make it

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["topics"] = [
            (topic, getattr(self.membership, f"email_{topic.value}"))
            for topic in email_topics_for(self.membership.role)
        ]
        ctx["email"] = self.request.user.email
        return ctx

    def post(self, request, *args, **kwargs):
        member_email_choices_set(
            membership=self.membership,
            chosen={key.removeprefix("email_") for key in request.POST if key.startswith("email_")},
        )
        messages.success(request, "Email choices saved.")
        return redirect("tenancy:email_preferences", tenant_slug=self.tenant.slug)


class TenantSettingsView(TenantViewMixin, TemplateView):
    """The tenant's settings: how imported files are read (sellers may change it: they are
    the ones who upload orders and meet an ambiguous file) and its time zone (owners and
    admins: it moves every schedule)."""

    template_name = "tenancy/settings.html"
    permission = Perm.VIEW
    write_permission = Perm.MANAGE_ORDERS
    time_zone_permission = Perm.MANAGE_MEMBERS

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["form"] = kwargs.get("form") or TenantSettingsForm(
            initial={"date_order": self.tenant.date_order}
        )
        ctx["can_manage"] = self.can(Perm.MANAGE_ORDERS)
        ctx["can_set_time_zone"] = self.can(self.time_zone_permission)
        ctx["time_zone_form"] = kwargs.get("time_zone_form") or TenantTimeZoneForm(
            initial={"time_zone": self.tenant.time_zone}
        )
        return ctx

    def post(self, request, *args, **kwargs):
        if "time_zone" in request.POST:
            return self._post_time_zone(request)
        form = TenantSettingsForm(request.POST)
        if form.is_valid():
            try:
                tenant_settings_update(
                    tenant=self.tenant,
                    actor=request.user,
                    date_order=form.cleaned_data["date_order"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, "Settings saved.")
                return redirect("tenancy:tenant_settings", tenant_slug=self.tenant.slug)
        return self.render_to_response(self.get_context_data(form=form))

    def _post_time_zone(self, request):
        if not self.can(self.time_zone_permission):
            return role_required_response(request, self.time_zone_permission)
        form = TenantTimeZoneForm(request.POST)
        if form.is_valid():
            try:
                tenant_settings_update(
                    tenant=self.tenant,
                    actor=request.user,
                    date_order=self.tenant.date_order,
                    time_zone=form.cleaned_data["time_zone"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Time zone is now {self.tenant.time_zone}.")
                return redirect("tenancy:tenant_settings", tenant_slug=self.tenant.slug)
        return self.render_to_response(self.get_context_data(time_zone_form=form))


def _posted_pk(request, name: str) -> int:
    """A posted object id; anything but digits is the same 404 as a missing object."""
    value = request.POST.get(name, "")
    if not value.isdigit():
        raise Http404("No such object.")
    return int(value)


class TenantHomeView(TenantViewMixin, View):
    def get(self, request, *args, **kwargs):
        return redirect(
            reverse(settings.TENANT_HOME_URL_NAME, kwargs={"tenant_slug": self.tenant.slug})
        )


__all__ = ["ApiToken", "TenantViewMixin", "role_required_response"]
