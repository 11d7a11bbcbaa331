"""The review surfaces as sellers and integrators read them: Diagnostics groups against
their drill-down, CSV and API; shares shown against thresholds; small disabled catalogs."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from catalogs.models import Product
from ecr import charts, services
from ecr.models import CatalogEcrState, PolicyTerm
from ecr.templatetags.ecr_tags import pct
from ecr.tests.factories import CatalogFactory, PendingProductFactory

pytestmark = pytest.mark.django_db


def url(name, tenant, **kw):
    return reverse(f"ecr:{name}", kwargs={"tenant_slug": tenant.slug, **kw})


def page_text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


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


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "—"),
        ("", "—"),
        (0, "0%"),
        (0.0004, "0%"),
        (0.29, "29%"),  # 28.999999999999996 as a float product
        (0.75, "75%"),
        (0.7998, "79.9%"),  # just below an 80% threshold: never shown as 80%
        (0.8, "80%"),
        (Decimal("0.800"), "80%"),
        (Decimal("0.805"), "80.5%"),
        (0.8999, "89.9%"),
        (0.99999, "99.9%"),  # not every product is Available: not 100%
        (1.0, "100%"),
        (2 / 3, "66.6%"),
    ],
)
def test_pct_never_rounds_a_share_up_to_a_threshold(value, shown):
    assert pct(value) == shown


def test_charts_show_shares_and_thresholds_as_pages_do():
    """The gauge of 0.7998 under an 80% threshold does not read 80.0%; a threshold of
    80.5% is labelled 80.5%, not 80%."""
    assert charts.gauge_figure(0.7998, disable=0.8, enable=0.9).data[0].value == 79.9
    points = [charts.RatioPoint(timezone.now(), 0.7998)]
    fig = charts.ratio_figure(points, [], disable=0.805, enable=0.9)
    assert list(fig.data[0].y) == [79.9]
    labels = sorted(a.text for a in fig.layout.annotations)
    assert labels == ["ECR turns back on at 90%", "ECR turns off below 80.5%"]


def test_ecr_email_shows_the_share_and_thresholds_as_pages_do(
    tenant_a, member, django_capture_on_commit_callbacks
):
    """32 of 40 Available (80%) under a disable threshold of 80.5%: the email must not say
    ECR turned off at 80% because it is below 80%."""
    member(tenant_a, "advertiser")
    catalog = CatalogFactory(tenant=tenant_a)
    CatalogEcrState.objects.create(
        tenant=tenant_a,
        catalog=catalog,
        enabled=True,
        disable_threshold_override=Decimal("0.805"),
        enable_threshold_override=Decimal("0.905"),
    )
    PendingProductFactory.create_batch(32, catalog=catalog, tenant=tenant_a)
    PendingProductFactory.create_batch(8, catalog=catalog, tenant=tenant_a, price=0)
    with django_capture_on_commit_callbacks(execute=True):
        out = services.review_after_feed_run(tenant=tenant_a, catalog=catalog)
    assert out.ecr_changed and not out.ecr_enabled
    body = mail.outbox[0].body
    assert "32 of 40 active (80%)" in body
    assert "turns off below 80.5%" in body and "back on at 90.5%" in body


@pytest.fixture
def small_disabled_catalog(tenant_a):
    """ECR turned off at 10 of 20 Available; the seller then removed the 10 Unavailable
    products: 10 of 10 Available, too few to be evaluated, so ECR stays off."""
    catalog = CatalogFactory(tenant=tenant_a)
    PendingProductFactory.create_batch(10, catalog=catalog, tenant=tenant_a)
    PendingProductFactory.create_batch(10, catalog=catalog, tenant=tenant_a, price=0)
    services.review_after_feed_run(tenant=tenant_a, catalog=catalog)
    now = timezone.now()
    Product.objects.for_tenant(tenant_a).filter(catalog=catalog, price=0).update(
        removed_at=now, last_changed_at=now
    )
    decision = services.ecr_evaluate(tenant=tenant_a, catalog=catalog, trigger="manual")
    assert not decision.evaluated and not decision.enabled
    return catalog


def test_banner_of_a_disabled_catalog_with_too_few_products_says_why(
    client_for, member, tenant_a, small_disabled_catalog
):
    client = client_for(member(tenant_a, "viewer"))
    text = page_text(client.get(url("catalog_ecr", tenant_a, catalog_id=small_disabled_catalog.pk)))
    banner = text[text.index("Enhanced Catalog Review (ECR) is disabled") :]
    banner = banner[: banner.index("Open Diagnostics")]
    assert "Only 100%" not in banner
    assert "It has 10 active products" in banner
    assert "stays off until the catalog has at least 20 active products" in banner


def test_ecr_page_of_a_small_disabled_catalog_asks_for_no_fixes_that_cannot_help(
    client_for, member, tenant_a
):
    """8 of 10 Available with ECR off: fixing one does not turn ECR on (10 is below the 20
    products ECR needs to be evaluated), so neither the ECR tab nor the banner asks for it."""
    catalog = CatalogFactory(tenant=tenant_a)
    CatalogEcrState.objects.create(tenant=tenant_a, catalog=catalog, enabled=False)
    PendingProductFactory.create_batch(8, catalog=catalog, tenant=tenant_a)
    PendingProductFactory.create_batch(2, catalog=catalog, tenant=tenant_a, price=0)
    services.products_review(tenant=tenant_a, catalog=catalog, lane="standard", trigger="review")
    services.ecr_evaluate(tenant=tenant_a, catalog=catalog, trigger="manual")
    client = client_for(member(tenant_a, "viewer"))
    text = page_text(client.get(url("catalog_ecr", tenant_a, catalog_id=catalog.pk)))
    assert "fix at least" not in text.lower()
    assert "stays off until the catalog has at least 20 active products and 90%" in text


def test_empty_disabled_catalog_banner_names_no_share(client_for, member, tenant_a):
    """A feed that removed every product of a catalog whose ECR is off: no "Only —"."""
    catalog = CatalogFactory(tenant=tenant_a)
    CatalogEcrState.objects.create(tenant=tenant_a, catalog=catalog, enabled=False)
    services.ecr_evaluate(tenant=tenant_a, catalog=catalog, trigger="manual")
    client = client_for(member(tenant_a, "viewer"))
    text = page_text(client.get(url("catalog_diagnostics", tenant_a, catalog_id=catalog.pk)))
    assert "ECR) is disabled" in text
    assert "Only —" not in text and "0 active products" in text


def _ecr_cell(text: str, catalog_name: str, pages_text_after: str) -> str:
    """The words of a page row from the catalog's name to the next column's marker."""
    row = text[text.index(catalog_name) :]
    return row[: row.index(pages_text_after)] if pages_text_after in row else row[:200]


@pytest.mark.parametrize("checked", [False, True])
@pytest.mark.parametrize(
    ("route", "kwargs", "after"),
    [
        ("overview:home", {}, "No product source"),  # the next column: its last pull
        ("ecr:diagnostics", {}, "80% / 90%"),  # the next columns: share, counts, thresholds
        ("ecr:catalog_ecr", {"catalog": True}, "Available share"),
    ],
)
def test_a_catalog_under_the_minimum_reads_not_evaluated_wherever_ecr_is_shown(
    client_for, member, tenant_a, checked, route, kwargs, after
):
    """An empty catalog is not evaluated (fewer than 20 active products): the overview, the
    Diagnostics list and its ECR tab say so, not "Enabled" beside a share of "—"; before
    and after its first check alike."""
    catalog = CatalogFactory(tenant=tenant_a, name="Empty shop")
    if checked:
        services.ecr_evaluate(tenant=tenant_a, catalog=catalog, trigger="manual")
    client = client_for(member(tenant_a, "viewer"))
    kw = {"tenant_slug": tenant_a.slug, **({"catalog_id": catalog.pk} if kwargs else {})}
    text = page_text(client.get(reverse(route, kwargs=kw)))
    cell = _ecr_cell(text, "Empty shop", after)
    if route == "ecr:catalog_ecr":
        cell = text[text.index("Enhanced Catalog Review") :][:400]
    assert "Not evaluated" in cell and "fewer than 20 active products" in cell
    assert "Enabled" not in cell


@pytest.mark.parametrize(
    ("products", "evaluated"),
    [(0, False), (19, False), (20, True)],
)
def test_api_says_whether_a_catalog_is_evaluated(
    api_client_for, member, tenant_a, products, evaluated
):
    catalog = CatalogFactory(tenant=tenant_a)
    PendingProductFactory.create_batch(products, catalog=catalog, tenant=tenant_a)
    services.review_after_feed_run(tenant=tenant_a, catalog=catalog)
    api = api_client_for(member(tenant_a, "viewer"), tenant_a)
    body = api.get(f"/api/v1/ecr/catalogs/{catalog.pk}/").json()
    assert body["evaluated"] is evaluated
    assert body["min_products"] == 20
