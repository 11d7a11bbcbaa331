"""A query parameter a list does not take is a 400 naming it, never ignored: a misspelt filter
would otherwise answer the whole unfiltered list as if it were the filtered one."""

from __future__ import annotations

import pytest
from django.urls import reverse

from catalog_health.tenancy.roles import Role
from catalogs.tests.factories import CatalogFactory
from feeds.tests.factories import ProductSourceFactory

from .urlwalk import api_routes

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_api(api_client_for, member, tenant_a):
    return api_client_for(member(tenant_a, Role.OWNER), tenant_a)


def _list_routes() -> list[str]:
    return sorted(
        {
            reverse(r.name).rstrip("/") + "/"
            for r in api_routes()
            if r.name.endswith("-list") and "get" in r.callback.actions
        }
    )


def test_list_routes_are_found():
    assert {"/api/v1/products/", "/api/v1/orders/", "/api/v1/flagged-products/"} <= set(
        _list_routes()
    )


@pytest.mark.parametrize("url", _list_routes())
def test_a_filter_the_list_does_not_have_is_a_400_naming_it(owner_api, url):
    response = owner_api.get(url, {"catalgo": "1"})
    assert response.status_code == 400, (url, response.content[:200])
    (message,) = response.json()["catalgo"]
    assert message.startswith("Unknown query parameter. This list takes: "), message
    assert "page_size" in message and "cursor" in message


@pytest.mark.parametrize(
    ("url", "query"),
    [
        ("/api/v1/products/", {"catalog": "1", "sku": "A", "q": "x", "page_size": "5"}),
        ("/api/v1/products/", {"review_status": "pending", "availability": "in_stock"}),
        ("/api/v1/orders/", {"catalog": "1", "status": "overdue", "sku": "A"}),
        ("/api/v1/impressions/", {"catalog": "1", "sku": "A"}),
        ("/api/v1/flagged-products/", {"status": "impacted", "q": "shoe", "catalog": "1"}),
        ("/api/v1/sources/", {"catalog": "1", "kind": "url", "enabled": "true"}),
        ("/api/v1/runs/", {"source": "1", "catalog": "1", "status": "failed"}),
        ("/api/v1/ecr/issues/", {"catalog": "1", "product": "2", "severity": "error"}),
        ("/api/v1/ecr/products/", {"catalog": "1", "review_status": "pending"}),
        ("/api/v1/catalogs/", {"page_size": "5", "format": "json"}),
        ("/api/v1/channel-feeds/", {"cursor": ""}),
    ],
)
def test_the_documented_filters_are_still_taken(owner_api, url, query):
    response = owner_api.get(url, query)
    assert response.status_code == 200, (url, query, response.content[:300])


def test_a_session_caller_may_still_name_the_tenant_in_the_query(client, member, tenant_a):
    client.force_login(member(tenant_a, Role.VIEWER))
    assert client.get("/api/v1/products/", {"tenant": tenant_a.slug}).status_code == 200


def test_a_boolean_filter_refuses_a_value_it_cannot_read(owner_api, tenant_a):
    ProductSourceFactory(catalog=CatalogFactory(tenant=tenant_a))
    response = owner_api.get("/api/v1/sources/", {"enabled": "maybe"})
    assert response.status_code == 400
    assert list(response.json()) == ["enabled"]


@pytest.mark.parametrize(
    "url", ["/api/v1/products/", "/api/v1/orders/", "/api/v1/flagged-products/", "/api/v1/runs/"]
)
def test_a_filter_given_twice_is_a_400_not_the_last_one(owner_api, url):
    """?catalog=1&catalog=2 answered catalog 2's rows alone, as if the first were not there."""
    response = owner_api.get(url + "?catalog=1&catalog=2")
    assert response.status_code == 400, (url, response.content[:200])
    assert response.json() == {"catalog": ["Give this parameter once."]}
