"""Every cursor-paginated API route: a cursor it did not write is a 400 naming the cursor,
never the first page (a client would loop over it for ever) nor a 500; a page size it cannot
serve is a 400 naming `page_size`, never another page size than the one asked for."""

from __future__ import annotations

import base64

import pytest
from django.urls import get_resolver
from rest_framework.pagination import CursorPagination

from catalog_health.tenancy.models import Role
from catalogs.tests.factories import CatalogFactory, ProductFactory

pytestmark = pytest.mark.django_db


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


GARBAGE = [
    "garbage",
    "Zm9v",  # base64 of "foo": no cursor fields at all
    "%%%",
    _b64("p=not-a-position"),
    _b64("o=-1"),
    _b64("o=x"),
    _b64("r=2"),
    _b64("o=1&z=9"),
    _b64("p=1&p=2"),
    _b64("\u00e9").replace("=", ""),
    "cD0x" + "!" * 3,  # base64 of "p=1" with characters base64 does not have
]


def _cursor_list_routes() -> list[str]:
    """The API's list routes whose view pages with a cursor."""
    routes = []
    for pattern in get_resolver().url_patterns:
        if str(pattern.pattern) != "api/v1/":
            continue
        for sub in pattern.url_patterns:
            name = getattr(sub, "name", "") or ""
            view = getattr(sub.callback, "cls", None)
            if not name.endswith("-list") or view is None or "<" in str(sub.pattern):
                continue
            if isinstance(view.pagination_class, type) and issubclass(
                view.pagination_class, CursorPagination
            ):
                regex = str(sub.pattern).removeprefix("^").split("\\.")[0]
                routes.append("/api/v1/" + regex.replace("/?", "/").rstrip("$"))
    return sorted(set(routes))


ROUTES = _cursor_list_routes()


def test_routes_are_found():
    assert "/api/v1/products/" in ROUTES and len(ROUTES) >= 8


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("cursor", GARBAGE)
def test_a_malformed_cursor_is_a_400_naming_it(api_client_for, member, tenant_a, route, cursor):
    api = api_client_for(member(tenant_a, Role.OWNER), tenant_a)
    response = api.get(route, {"cursor": cursor})
    assert response.status_code == 400, (route, cursor, response.content[:200])
    message = "Invalid cursor: pass the cursor of a page's next or previous link unchanged."
    assert response.json() == {"cursor": [message]}


def test_the_cursor_of_a_next_link_still_pages(api_client_for, member, tenant_a):
    catalog = CatalogFactory(tenant=tenant_a)
    for i in range(5):
        ProductFactory(catalog=catalog, sku=f"S{i}")
    api = api_client_for(member(tenant_a, Role.OWNER), tenant_a)
    seen, url = [], "/api/v1/products/?page_size=2"
    while url:
        page = api.get(url).json()
        seen += [p["sku"] for p in page["results"]]
        url = page["next"]
    assert sorted(seen) == [f"S{i}" for i in range(5)]


PAGE_SIZE_MESSAGE = "Enter a whole number from 1 to 500 (the most a page holds)."


@pytest.mark.parametrize(
    "value",
    ["0", "-1", "abc", "501", "1000", "2.5", "1e2", " 5", "+5", "\u0663", "000", "9" * 5000],
)
def test_an_odd_page_size_is_a_400_naming_it(api_client_for, member, tenant_a, value):
    """Never silently the default page or the largest one: the caller asked for something else."""
    api = api_client_for(member(tenant_a, Role.VIEWER), tenant_a)
    for route in [*ROUTES, f"/api/v1/ecr/catalogs/{CatalogFactory(tenant=tenant_a).pk}/history/"]:
        response = api.get(route, {"page_size": value})
        assert response.status_code == 400, (route, value, response.content[:200])
        assert response.json() == {"page_size": [PAGE_SIZE_MESSAGE]}, route


@pytest.mark.parametrize(("value", "rows"), [("1", 1), ("3", 3), ("003", 3), ("500", 4), ("", 4)])
def test_a_page_size_within_the_bounds_is_the_page(api_client_for, member, tenant_a, value, rows):
    catalog = CatalogFactory(tenant=tenant_a)
    for i in range(4):
        ProductFactory(catalog=catalog, sku=f"S{i}")
    api = api_client_for(member(tenant_a, Role.VIEWER), tenant_a)
    response = api.get("/api/v1/products/", {"page_size": value})
    assert response.status_code == 200
    assert len(response.json()["results"]) == rows
