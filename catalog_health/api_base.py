"""Base classes of every API viewset: tenant resolution, scoping that cannot be bypassed,
role checks, and the answers to wrong requests (a method the route lacks, a field the caller
cannot write, a query parameter a list does not take)."""

from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions, mixins, permissions, viewsets
from rest_framework.settings import api_settings

from catalog_health.api_filters import refuse_unknown_query
from catalog_health.api_input import refuse_unwritable_fields
from catalog_health.tenancy.models import ApiToken, Membership
from catalog_health.tenancy.roles import Perm, has_perm, roles_with
from catalog_health.tenancy.services import access_denied_record

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
BODY_ACTIONS = ("create", "update", "partial_update")  # take an object's fields


def resolve_api_membership(request) -> Membership:
    """The tenant comes from the token (a token belongs to one tenant); with session auth from
    the X-Tenant header, ?tenant=, or the session's active tenant. Not a member: 404."""
    user = request.user
    if isinstance(request.auth, ApiToken):
        membership = (
            Membership.objects.select_related("tenant")
            .filter(user=user, tenant_id=request.auth.tenant_id)
            .first()
        )
    else:
        slug = (
            request.headers.get("X-Tenant")
            or request.query_params.get("tenant")
            or request.session.get("active_tenant")
        )
        if not slug:
            raise exceptions.ValidationError(
                {"tenant": "Say which tenant: send the X-Tenant header with its slug."}
            )
        membership = (
            Membership.objects.select_related("tenant").filter(user=user, tenant__slug=slug).first()
        )
    if membership is None:
        raise Http404("No such tenant.")
    return membership


class TenantRolePermission(permissions.BasePermission):
    """Checks the view's required permission for the current action against the role."""

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        perm = view.required_perm()
        if not has_perm(view.membership.role, perm):
            self.message = f"This needs one of these roles: {', '.join(roles_with(perm))}."
            return False
        return True


class TenantScopedViewSet(viewsets.GenericViewSet):
    """Base of every tenant API viewset.

    Subclasses set `queryset` (for the model) and may override `scope_queryset`, never
    `get_queryset`: the tenant filter cannot be forgotten (the class refuses to be defined).
    """

    permission_classes = [permissions.IsAuthenticated, TenantRolePermission]
    required_perms: dict[str, Perm] = {}
    write_perm: Perm = Perm.MANAGE_CATALOGS
    # The form that validates a list's query when a viewset filters without a FilterSet
    # (catalog_health.api_filters.clean_query); its fields are the filters the list takes.
    query_form = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__:
            raise TypeError(
                f"{cls.__name__} overrides get_queryset(); override scope_queryset() instead "
                "so the tenant filter always applies."
            )

    def initial(self, request, *args, **kwargs):
        # Authenticate first so the tenant can come from the token.
        self.perform_authentication(request)
        if request.user and request.user.is_authenticated:
            self.membership = resolve_api_membership(request)
            self.tenant = self.membership.tenant
            self._require_object_in_tenant()
            self._require_method_of_route(request)
        super().initial(request, *args, **kwargs)
        if self.action == "list":
            self._require_known_query(request)

    def _require_method_of_route(self, request) -> None:
        """A method the route does not have is its 405 (DRF adds the Allow header), before
        roles: DRF checks roles first, and answered a viewer's DELETE of a read-only route
        with a 403 naming roles, as if another role could do it. After the tenant checks, so
        another tenant's id stays a 404 whatever the method."""
        method = request.method.lower()
        if method not in self.http_method_names or not hasattr(self, method):
            raise exceptions.MethodNotAllowed(request.method)

    def _require_object_in_tenant(self) -> None:
        """Another tenant's id is a 404 before roles are checked: never a 403 that confirms it."""
        lookup = self.lookup_url_kwarg or self.lookup_field
        if lookup in self.kwargs:
            value = str(self.kwargs[lookup])
            # isascii(): "²".isdigit() is True, and int("²") would fail in the query (a 500)
            if (
                not (value.isascii() and value.isdigit() and len(value) <= 19)
                or not self.get_queryset().filter(**{self.lookup_field: value}).exists()
            ):
                raise Http404("Not found.")

    def _require_known_query(self, request) -> None:
        """A list's query may hold its filters, the paginator's cursor and page_size, and
        tenant and format; any other parameter is a 400 (api_filters.refuse_unknown_query)."""
        filterset = self.filterset_class_in_use()
        filters = set(filterset.base_filters) if filterset is not None else set()
        if self.query_form is not None:
            filters |= set(self.query_form.base_fields)
        paginator = self.paginator
        paging = {
            getattr(paginator, name, None)
            for name in ("cursor_query_param", "page_size_query_param")
        } - {None}
        # the tenant of a session caller, and DRF's format override (?format=json)
        anywhere = {"tenant", api_settings.URL_FORMAT_OVERRIDE}
        refuse_unknown_query(request, known=filters | paging | anywhere, listed=filters | paging)

    def filterset_class_in_use(self):
        """The FilterSet of this list when django-filter's backend applies it, else None."""
        if any(issubclass(b, DjangoFilterBackend) for b in self.filter_backends):
            return getattr(self, "filterset_class", None)
        return None

    def permission_denied(self, request, message=None, code=None):
        """A member whose role lacks the permission: audit the attempt (rate-limited), then
        DRF's 403. (Anonymous callers get DRF's 401/403 unaudited: no tenant is known.)"""
        membership = getattr(self, "membership", None)
        if membership is not None and request.user and request.user.is_authenticated:
            lookup = self.lookup_url_kwarg or self.lookup_field
            model = self.queryset.model if self.queryset is not None else None
            access_denied_record(
                tenant=membership.tenant,
                user=request.user,
                action=f"api:{getattr(self, 'basename', '')}-{self.action or ''}",
                permission=self.required_perm(),
                target_type=model._meta.model_name if model and lookup in self.kwargs else "",
                target_id=str(self.kwargs.get(lookup, "")),
                method=request.method,
            )
        super().permission_denied(request, message=message, code=code)

    def required_perm(self) -> Perm:
        if self.action in self.required_perms:
            return self.required_perms[self.action]
        return Perm.VIEW if self.request.method in SAFE_METHODS else self.write_perm

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no tenant
            return self.queryset.model.objects.none()
        return self.scope_queryset(self.queryset.model.objects.for_tenant(self.tenant))

    def scope_queryset(self, queryset):
        return queryset

    def get_serializer_context(self):
        ctx = super().get_serializer_context()
        ctx["tenant"] = getattr(self, "tenant", None)
        return ctx

    def get_serializer(self, *args, **kwargs):
        """The input serializer; a body with fields it cannot write is refused first."""
        serializer = super().get_serializer(*args, **kwargs)
        if "data" in kwargs and self.action in BODY_ACTIONS:
            shown = self.representation_class()
            instance = serializer.instance

            def current():
                return shown(instance, context=self.get_serializer_context()).data

            refuse_unwritable_fields(
                kwargs["data"],
                writable={n for n, f in serializer.fields.items() if not f.read_only},
                readable={*serializer.fields, *shown(context=self.get_serializer_context()).fields},
                current=current if instance is not None else None,
            )
        return serializer

    def representation_class(self):
        """The serializer of one object as GET answers it (what a client may send back)."""
        action, self.action = self.action, "retrieve"
        try:
            return self.get_serializer_class()
        finally:
            self.action = action


class TenantScopedReadOnlyViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet
):
    pass


class TenantScopedModelViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    mixins.ListModelMixin,
    TenantScopedViewSet,
):
    pass
