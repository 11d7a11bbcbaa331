"""ECR API: tenant-scoped, filters, state/history/diagnostics, schema."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ecr import services
from ecr.tests.factories import CatalogFactory, PendingProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewed(tenant_a):
    catalog = CatalogFactory(tenant=tenant_a)
    PendingProductFactory.create_batch(14, catalog=catalog, tenant=tenant_a)
    PendingProductFactory.create_batch(6, catalog=catalog, tenant=tenant_a, price=Decimal("0"))
    services.review_after_feed_run(tenant=tenant_a, catalog=catalog)
    return catalog


def test_issues_filter_and_scope(api_client_for, member, tenant_a, tenant_b, reviewed):
    other = CatalogFactory(tenant=tenant_b)
    PendingProductFactory.create_batch(3, catalog=other, tenant=tenant_b, price=Decimal("0"))
    services.products_review(tenant=tenant_b, catalog=other, lane="fast", trigger="manual")
    api = api_client_for(member(tenant_a, "viewer"), tenant_a)
    data = api.get("/api/v1/ecr/issues/", {"code": "price_not_positive"}).json()
    assert len(data["results"]) == 6
    assert {r["catalog"] for r in data["results"]} == {reviewed.pk}
    assert data["results"][0]["how_to_fix"]
    assert api.get("/api/v1/ecr/issues/", {"code": "nonsense"}).status_code == 400


def test_products_by_review_status(api_client_for, member, tenant_a, reviewed):
    api = api_client_for(member(tenant_a, "viewer"), tenant_a)
    data = api.get("/api/v1/ecr/products/", {"review_status": "unavailable"}).json()
    assert len(data["results"]) == 6
    assert data["results"][0]["issues"][0]["code"] == "price_not_positive"
    data = api.get("/api/v1/ecr/products/", {"severity": "error", "catalog": reviewed.pk}).json()
    assert len(data["results"]) == 6


def test_ecr_state_history_diagnostics(api_client_for, member, tenant_a, reviewed):
    api = api_client_for(member(tenant_a, "viewer"), tenant_a)
    state = api.get(f"/api/v1/ecr/catalogs/{reviewed.pk}/").json()
    assert state["ecr_enabled"] is False
    assert state["ratio"] == 0.7
    assert (state["disable_threshold"], state["enable_threshold"]) == ("0.800", "0.900")
    history = api.get(f"/api/v1/ecr/catalogs/{reviewed.pk}/history/").json()["results"]
    assert [h["enabled"] for h in history] == [False]
    diag = api.get(f"/api/v1/ecr/catalogs/{reviewed.pk}/diagnostics/").json()
    assert diag["unavailable"] == 6
    assert diag["groups"][0]["code"] == "price_not_positive"
    assert diag["groups"][0]["share"] == pytest.approx(0.3)


def test_check_needs_manage_catalogs(api_client_for, member, tenant_a, reviewed):
    url = f"/api/v1/ecr/catalogs/{reviewed.pk}/check/"
    assert api_client_for(member(tenant_a, "seller"), tenant_a).post(url).status_code == 403
    resp = api_client_for(member(tenant_a, "advertiser"), tenant_a).post(url)
    assert resp.status_code == 200 and resp.json()["ecr_enabled"] is False


def test_foreign_catalog_is_404(api_client_for, member, tenant_a, tenant_b):
    foreign = CatalogFactory(tenant=tenant_b)
    api = api_client_for(member(tenant_a, "owner"), tenant_a)
    for suffix in ("", "history/", "diagnostics/"):
        assert api.get(f"/api/v1/ecr/catalogs/{foreign.pk}/{suffix}").status_code == 404
    assert api.post(f"/api/v1/ecr/catalogs/{foreign.pk}/check/").status_code == 404


def test_schema_lists_ecr_routes(client):
    schema = client.get("/api/schema/").content.decode()
    for path in (
        "/api/v1/ecr/issues/",
        "/api/v1/ecr/products/",
        "/api/v1/ecr/catalogs/{id}/history/",
    ):
        assert path in schema


def test_ecr_catalog_list_query_count_is_fixed(
    api_client_for, member, tenant_a, django_assert_max_num_queries
):
    api = api_client_for(member(tenant_a, "viewer"), tenant_a)
    CatalogFactory.create_batch(2, tenant=tenant_a)
    with django_assert_max_num_queries(12) as small:
        api.get("/api/v1/ecr/catalogs/")
    CatalogFactory.create_batch(20, tenant=tenant_a)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert len(api.get("/api/v1/ecr/catalogs/").json()["results"]) == 22
