"""Every filter of every API list route, read from the OpenAPI schema:

* a filter that takes an id answers another tenant's id exactly as an id that does not exist
  (same status, same body), so ids cannot be enumerated across tenants;
* hostile values (NUL, undecodable bytes, non-ASCII digits, huge numbers) answer 400 or an
  empty page, never 500.

A new id filter must be added to ID_FILTERS or the sweep fails and says so.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.db.models import Max
from django.test import Client

from catalog_health.tenancy.models import Tenant
from catalog_health.tenancy.roles import Role
from catalogs.models import Catalog, Product
from catalogs.tests.factories import CatalogFactory, ProductFactory
from feeds.models import ProductSource
from feeds.tests.factories import FeedRunFactory, ProductSourceFactory

pytestmark = pytest.mark.django_db

# query parameter -> (model, builds one in the given tenant)
ID_FILTERS: dict[str, tuple[type, Callable[[Tenant], object]]] = {
    "catalog": (Catalog, lambda t: CatalogFactory(tenant=t)),
    "product": (Product, lambda t: ProductFactory(catalog=CatalogFactory(tenant=t))),
    "source": (ProductSource, lambda t: ProductSourceFactory(catalog__tenant=t)),
}
# integer parameters that are not object ids
NOT_IDS = {"page_size"}
# every list route must document these filters (the sweep reads them from the schema)
EXPECTED = {
    "/api/v1/products/": {"catalog"},
    "/api/v1/orders/": {"catalog"},
    "/api/v1/impressions/": {"catalog"},
    "/api/v1/sources/": {"catalog"},
    "/api/v1/runs/": {"catalog", "source"},
    "/api/v1/ecr/issues/": {"catalog", "product"},
    "/api/v1/ecr/products/": {"catalog"},
    "/api/v1/flagged-products/": {"catalog"},
}
HOSTILE = ["%00", "a%00b", "%ff%fe", "%C0%AF", "%E2%82", "%C2%B2", "99999999999999999999999", "-1"]


def _schema() -> dict:
    response = Client().get("/api/schema/?format=json")
    assert response.status_code == 200
    return json.loads(response.content)


def list_filters() -> dict[str, list[dict]]:
    """GET routes without path parameters -> their documented query parameters."""
    found = {}
    for path, operations in _schema()["paths"].items():
        op = operations.get("get")
        if op is None or "{" in path:
            continue
        found[path] = [p for p in op.get("parameters", []) if p["in"] == "query"]
    return found


def id_filters() -> list[tuple[str, str]]:
    cases = []
    for path, params in list_filters().items():
        for p in params:
            if p["schema"].get("type") in ("integer", "number") and p["name"] not in NOT_IDS:
                cases.append((path, p["name"]))
    return cases


def test_sweep_finds_every_id_filter():
    cases = id_filters()
    unknown = [c for c in cases if c[1] not in ID_FILTERS]
    assert not unknown, f"id filters the sweep cannot build objects for: {unknown}"
    documented: dict[str, set] = {}
    for path, name in cases:
        documented.setdefault(path, set()).add(name)
    for path, names in EXPECTED.items():
        assert names <= documented.get(path, set()), (path, documented.get(path))


@pytest.fixture
def api(tenant_a, tenant_b, member, api_client_for):
    owner = member(tenant_a, Role.OWNER, username="prober")
    # the prober's own data, so that lists are not empty whatever the filter
    FeedRunFactory(source__catalog__tenant=tenant_a)
    return api_client_for(owner, tenant_a)


@pytest.mark.parametrize(("path", "name"), id_filters())
def test_foreign_id_answers_like_a_missing_id(api, tenant_b, path, name):
    model, build = ID_FILTERS[name]
    foreign = build(tenant_b).pk
    missing = (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 10_000
    a = api.get(f"{path}?{name}={foreign}")
    b = api.get(f"{path}?{name}={missing}")
    assert (a.status_code, a.content) == (b.status_code, b.content), (
        f"{path}?{name}=: another tenant's id answers {a.status_code} {a.content[:200]!r}, "
        f"a missing id {b.status_code} {b.content[:200]!r}"
    )
    assert a.status_code in (200, 400)
    if a.status_code == 200:
        assert a.json()["results"] == []


def _every_filter() -> list[tuple[str, str]]:
    return [(path, p["name"]) for path, params in list_filters().items() for p in params]


@pytest.mark.parametrize(("path", "name"), _every_filter())
def test_hostile_filter_values_never_answer_500(api, path, name):
    for value in HOSTILE:
        response = api.get(f"{path}?{name}={value}")
        assert response.status_code in (200, 400), (path, name, value, response.status_code)
        if "%00" in value or "%ff" in value or "%C0" in value or "%E2" in value:
            assert response.status_code == 400, (path, name, value)
