"""The tenant isolation sweep: every page under /t/<slug>/ and every API route, requested as a
member of another tenant with this tenant's object ids, must answer 404 (never 403, never data).

New routes are picked up from the URL resolver. A new URL kwarg or API model must be added to
OBJECT_FACTORIES / MODEL_FACTORIES below, or the sweep fails and says so.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.urls import reverse

from catalog_health.tenancy.models import Tenant
from catalog_health.tenancy.roles import Role
from catalogs.models import Catalog, Product
from catalogs.tests.factories import CatalogFactory, ProductFactory

from .urlwalk import api_routes, tenant_routes

# kwarg -> builds an object in the given tenant and returns the value for the URL.
OBJECT_FACTORIES: dict[str, Callable[[Tenant], object]] = {
    "catalog_id": lambda t: CatalogFactory(tenant=t).pk,
    "product_id": lambda t: ProductFactory(catalog=CatalogFactory(tenant=t)).pk,
}
# kwargs that do not name a tenant's object, with a value valid for any tenant.
PLAIN_KWARGS: dict[str, object] = {}
# API model -> builds one in the given tenant and returns it.
MODEL_FACTORIES: dict[type, Callable[[Tenant], object]] = {
    Catalog: lambda t: CatalogFactory(tenant=t),
    Product: lambda t: ProductFactory(catalog=CatalogFactory(tenant=t)),
}

try:  # the other apps register their own kwargs and models
    from tests.isolation_registry import extend

    extend(OBJECT_FACTORIES, PLAIN_KWARGS, MODEL_FACTORIES)
except ImportError:
    pass

WRITE_METHODS = ("post", "put", "patch", "delete")


@pytest.fixture(params=[Role.OWNER, Role.VIEWER])
def intruder(request, member, tenant_a):
    """A member of tenant A: an owner (every right in A) and a viewer (whose missing rights
    must not turn a foreign id's 404 into a 403)."""
    return member(tenant_a, request.param, username=f"intruder-{request.param}")


def _kwargs_for(route, victim: Tenant, slug: str) -> dict:
    kwargs = {"tenant_slug": slug}
    for name in route.kwargs:
        if name == "tenant_slug":
            continue
        if name in OBJECT_FACTORIES:
            kwargs[name] = OBJECT_FACTORIES[name](victim)
        elif name in PLAIN_KWARGS:
            kwargs[name] = PLAIN_KWARGS[name]
        else:
            pytest.fail(
                f"{route.name} ({route.route}) has kwarg {name!r} the isolation sweep does not "
                "know: add it to OBJECT_FACTORIES or PLAIN_KWARGS in tests/test_tenant_isolation.py"
            )
    return kwargs


def test_sweep_finds_the_routes_it_must_cover():
    names = {r.name for r in tenant_routes()}
    assert {"catalogs:catalog_list", "catalogs:catalog_detail", "catalogs:product_detail"} <= names
    assert {r.name for r in api_routes()} >= {
        "product-detail",
        "catalog-list",
        # a held run's actions: another tenant's run id is a 404 like its detail
        "feedrun-confirm",
        "feedrun-discard",
    }


@pytest.mark.django_db
def test_every_page_with_another_tenants_ids_is_404(client, intruder, tenant_a, tenant_b):
    client.force_login(intruder)
    checked = 0
    for route in tenant_routes():
        object_kwargs = [k for k in route.kwargs if k in OBJECT_FACTORIES]
        # 1. Own tenant in the URL, the other tenant's object ids.
        if object_kwargs:
            url = reverse(route.name, kwargs=_kwargs_for(route, tenant_b, tenant_a.slug))
            for method in ("get", "post"):
                response = getattr(client, method)(url)
                assert response.status_code == 404, f"{method.upper()} {url} ({route.name})"
                checked += 1
        # 2. The other tenant's slug, with its own object ids.
        url = reverse(route.name, kwargs=_kwargs_for(route, tenant_b, tenant_b.slug))
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code == 404, f"{method.upper()} {url} ({route.name})"
            checked += 1
    assert checked >= 8


@pytest.mark.django_db
def test_every_page_redirects_anonymous_users_to_login(client, tenant_a):
    for route in tenant_routes():
        url = reverse(route.name, kwargs=_kwargs_for(route, tenant_a, tenant_a.slug))
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url


def _api_url(route, **kwargs) -> str:
    return reverse(route.name, kwargs=kwargs)


@pytest.mark.django_db
def test_every_api_route_with_another_tenants_ids_is_404(
    api_client_for, intruder, tenant_a, tenant_b
):
    api = api_client_for(intruder, tenant_a)
    for route in api_routes():
        model = route.callback.cls.queryset.model
        if model not in MODEL_FACTORIES:
            pytest.fail(
                f"API route {route.name} serves {model.__name__}: add it to MODEL_FACTORIES in "
                "tests/test_tenant_isolation.py"
            )
        foreign = MODEL_FACTORIES[model](tenant_b)
        if "pk" in route.kwargs:
            url = _api_url(route, pk=foreign.pk)
            for method in list(route.callback.actions):
                response = getattr(api, method)(url, {}, format="json")
                assert response.status_code == 404, f"{method.upper()} {url} ({route.name})"
        else:
            # List routes never show another tenant's objects.
            if "get" in route.callback.actions:
                response = api.get(_api_url(route), {"page_size": 500})
                assert response.status_code == 200, f"GET {route.route}"
                ids = {row.get("id") for row in response.json().get("results", [])}
                assert foreign.pk not in ids, f"{route.name} leaked another tenant's object"


@pytest.mark.django_db
def test_session_api_with_another_tenants_slug_is_404(client, intruder, tenant_b):
    client.force_login(intruder)
    for route in api_routes():
        if "pk" not in route.kwargs and "get" in route.callback.actions:
            response = client.get(_api_url(route), HTTP_X_TENANT=tenant_b.slug)
            assert response.status_code == 404, route.name


@pytest.mark.django_db
def test_every_api_route_refuses_anonymous_callers(client, tenant_a):
    for route in api_routes():
        model = route.callback.cls.queryset.model
        kwargs = {"pk": MODEL_FACTORIES[model](tenant_a).pk} if "pk" in route.kwargs else {}
        url = _api_url(route, **kwargs)
        for method in list(route.callback.actions):
            response = getattr(client, method)(url)
            assert response.status_code in (401, 403), f"{method.upper()} {url}"
