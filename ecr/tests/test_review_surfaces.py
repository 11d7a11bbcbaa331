"""The review surfaces as sellers and integrators read them: Diagnostics groups against
their drill-down, CSV and API; shares shown against thresholds; small disabled catalogs."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from ecr import services
from ecr.models import PolicyTerm
from ecr.tests.factories import CatalogFactory, PendingProductFactory

pytestmark = pytest.mark.django_db


def url(name, tenant, **kw):
    return reverse(f"ecr:{name}", kwargs={"tenant_slug": tenant.slug, **kw})


@pytest.fixture
def split_code_catalog(tenant_a):
    """One issue code at both severities: a restricted term staff set to error and another
    left a warning; one product with the warning also has an error of another code."""
    PolicyTerm.objects.create(
        term="zorbex fluid", kind="restricted", category="t", severity="error"
    )
    PolicyTerm.objects.create(
        term="zorbex blade", kind="restricted", category="w", severity="warning"
    )
    catalog = CatalogFactory(tenant=tenant_a)
    PendingProductFactory.create_batch(20, catalog=catalog, tenant=tenant_a)
    PendingProductFactory.create_batch(2, catalog=catalog, tenant=tenant_a, title="Zorbex fluid")
    PendingProductFactory.create_batch(3, catalog=catalog, tenant=tenant_a, title="Zorbex blade")
    PendingProductFactory(catalog=catalog, tenant=tenant_a, title="Zorbex blade", price=0)
    services.review_after_feed_run(tenant=tenant_a, catalog=catalog)
    return catalog


def test_each_issue_group_links_to_its_own_products_and_csv(
    client_for, member, tenant_a, split_code_catalog
):
    """A code that is an error in one group and a warning in another: each group's Products
    and CSV links list the products that group counts, not those of both."""
    client = client_for(member(tenant_a, "viewer"))
    diagnostics = client.get(url("catalog_diagnostics", tenant_a, catalog_id=split_code_catalog.pk))
    html = diagnostics.content.decode()
    groups = {
        (g.code, g.severity): g.products
        for g in [*diagnostics.context["error_groups"], *diagnostics.context["warning_groups"]]
    }
    assert groups[("policy_restricted_term", "error")] == 2
    assert groups[("policy_restricted_term", "warning")] == 4
    drill = url("issue_products", tenant_a, catalog_id=split_code_catalog.pk)
    export = url("diagnostics_export", tenant_a, catalog_id=split_code_catalog.pk)
    for severity, count in (("error", 2), ("warning", 4)):
        query = f"?code=policy_restricted_term&amp;severity={severity}"
        assert f'href="{drill}{query}"' in html
        assert f'href="{export}{query}"' in html
        page = client.get(drill, {"code": "policy_restricted_term", "severity": severity})
        assert len(page.context["page"].rows) == count
        body = b"".join(
            client.get(
                export, {"code": "policy_restricted_term", "severity": severity}
            ).streaming_content
        )
        rows = list(csv.DictReader(io.StringIO(body.decode())))
        assert len({r["product_id"] for r in rows}) == count
        assert {r["severity"] for r in rows} == {severity}


def test_api_code_and_severity_name_one_issue(
    api_client_for, member, tenant_a, client_for, split_code_catalog
):
    """/ecr/products/?code=…&severity=… lists the products with an issue of that code at
    that severity, as the drill-down page and /ecr/issues/ do: not a product with the code
    as a warning and some other error."""
    api = api_client_for(member(tenant_a, "viewer"), tenant_a)
    params = {"code": "policy_restricted_term", "severity": "error"}
    products = api.get("/api/v1/ecr/products/", params).json()["results"]
    issues = api.get("/api/v1/ecr/issues/", params).json()["results"]
    page = client_for(member(tenant_a, "seller")).get(
        url("issue_products", tenant_a, catalog_id=split_code_catalog.pk), params
    )
    page_ids = {p.pk for p in page.context["page"].rows}
    assert {p["id"] for p in products} == {i["product"] for i in issues} == page_ids
    assert len(page_ids) == 2
