"""Resolves the tenant once per request from the URL and the user's membership."""

import zoneinfo

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from catalog_health.logging import log_context

from .selectors import membership_for
from .services import access_denied_record


class TenantMiddleware:
    """For views under /t/<tenant_slug>/: anonymous users go to login, non-members get the
    same 404 as a tenant that does not exist, members get request.tenant/request.membership."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.tenant = None
        request.membership = None
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()  # a worker thread's next request starts from UTC again

    def process_view(self, request, view_func, view_args, view_kwargs):
        slug = view_kwargs.get("tenant_slug")
        if slug is None:
            return None
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        membership = membership_for(user=request.user, tenant_slug=slug)
        if membership is None:
            raise Http404("No such tenant.")
        request.tenant = membership.tenant
        request.membership = membership
        # times on the tenant's pages, and the dates typed in their filters and forms, are
        # the tenant's local ones (the API keeps ISO 8601 times with their offset)
        timezone.activate(zoneinfo.ZoneInfo(membership.tenant.time_zone))
        if request.session.get("active_tenant") != membership.tenant.slug:
            # only on a switch: an unchanged session is not written back on every page view
            request.session["active_tenant"] = membership.tenant.slug
        log_context.set({**log_context.get(), "tenant_id": membership.tenant_id})
        return None

    def process_exception(self, request, exception):
        """A PermissionDenied a page let through (a service's own role check): audited like
        the pages' role check (rate-limited); Django then answers 403."""
        if isinstance(exception, PermissionDenied) and request.membership is not None:
            match = request.resolver_match
            access_denied_record(
                tenant=request.tenant,
                user=request.user,
                action=match.view_name if match else request.path[:80],
                permission=getattr(exception, "perm", ""),
                method=request.method,
            )
        return None
