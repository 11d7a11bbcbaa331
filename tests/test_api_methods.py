"""A method a route does not have is that route's 405 with an Allow header, whatever the
caller's role: a viewer who may read a route is not told "this needs another role" (403) for
a write the route never takes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from catalog_health.tenancy.roles import Role
from catalogs.tests.factories import CatalogFactory, ProductFactory

from .test_tenant_isolation import MODEL_FACTORIES
from .urlwalk import api_routes

pytestmark = pytest.mark.django_db

WRITE_METHODS = ("post", "put", "patch", "delete")


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OWNER])
def test_a_method_the_route_does_not_have_is_405_with_allow(api_client_for, member, tenant_a, role):
    """A viewer may read these routes: asking for a method they lack is the route's 405,
    not a 403 that suggests another role could do it."""
    api = api_client_for(member(tenant_a, role), tenant_a)
    checked = 0
    for route in api_routes():
        view = route.callback.cls
        kwargs = {}
        if "pk" in route.kwargs:  # the URL names the object by the view's lookup field
            obj = MODEL_FACTORIES[view.queryset.model](tenant_a)
            kwargs["pk"] = getattr(obj, view.lookup_field)
        url = reverse(route.name, kwargs=kwargs)
        allowed = set(route.callback.actions) & set(view.http_method_names)
        for method in WRITE_METHODS:
            if method in allowed:
                continue
            response = getattr(api, method)(url, {}, format="json")
            where = f"{method.upper()} {url} ({route.name}, {role})"
            assert response.status_code == 405, (where, response.content[:200])
            assert response.json() == {"detail": f'Method "{method.upper()}" not allowed.'}
            allow = {m.strip().lower() for m in response["Allow"].split(",")}
            assert method not in allow and allowed <= allow, (where, response["Allow"])
            checked += 1
    assert checked >= 40


def test_a_method_the_route_has_is_still_403_for_a_role_without_it(
    api_client_for, member, tenant_a
):
    product = ProductFactory(catalog=CatalogFactory(tenant=tenant_a))
    viewer = api_client_for(member(tenant_a, Role.VIEWER), tenant_a)
    response = viewer.patch(f"/api/v1/products/{product.pk}/", {"price": "1"}, format="json")
    assert response.status_code == 403


def test_another_tenants_id_is_404_whatever_the_method(api_client_for, member, tenant_a, tenant_b):
    """The route lacks DELETE, but another tenant's product is not there for this caller: the
    404 of an id that does not exist, not a 405 that would confirm it."""
    api = api_client_for(member(tenant_a, Role.VIEWER), tenant_a)
    foreign = ProductFactory(catalog=CatalogFactory(tenant=tenant_b))
    own = ProductFactory(catalog=CatalogFactory(tenant=tenant_a))
    assert api.delete(f"/api/v1/products/{foreign.pk}/").status_code == 404
    assert api.delete("/api/v1/products/987654321/").status_code == 404
    assert api.delete(f"/api/v1/products/{own.pk}/").status_code == 405


def test_anonymous_callers_are_asked_to_authenticate_first(client, tenant_a):
    assert client.delete("/api/v1/catalogs/").status_code in (401, 403)
