"""ECR and Diagnostics pages: content, banner, CSV safety, query counts, tenant scoping."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from catalogs.models import Product
from ecr import services
from ecr.models import CatalogEcrState
from ecr.tests.factories import CatalogFactory, PendingProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def disabled_catalog(tenant_a):
    catalog = CatalogFactory(tenant=tenant_a, name="Outlet")
    PendingProductFactory.create_batch(14, catalog=catalog, tenant=tenant_a)
    PendingProductFactory.create_batch(
        6, catalog=catalog, tenant=tenant_a, price=Decimal("0"), title='=cmd|"/c calc"!A1'
    )
    services.review_after_feed_run(tenant=tenant_a, catalog=catalog)
    assert not CatalogEcrState.objects.for_tenant(tenant_a).get(catalog=catalog).enabled
    return catalog


def url(name, tenant, **kw):
    return reverse(f"ecr:{name}", kwargs={"tenant_slug": tenant.slug, **kw})


def test_banner_on_every_catalog_page(client_for, member, tenant_a, disabled_catalog):
    """Every HTML page of the catalog (any app's, found from the URL resolver) shows it."""
    from tests.urlwalk import tenant_routes

    client = client_for(member(tenant_a, "owner"))
    product = Product.objects.for_tenant(tenant_a).filter(catalog=disabled_catalog).first()
    checked = []
    for route in tenant_routes():
        if "catalog_id" not in route.kwargs or route.route.endswith(".csv"):
            continue
        kwargs = {"tenant_slug": tenant_a.slug, "catalog_id": disabled_catalog.pk}
        if "product_id" in route.kwargs:
            kwargs["product_id"] = product.pk
        if set(route.kwargs) - set(kwargs):
            continue
        response = client.get(reverse(route.name, kwargs=kwargs))
        if response.status_code != 200 or "html" not in response["Content-Type"]:
            continue
        html = response.content.decode()
        assert 'id="ecr-banner"' in html, route.name
        assert "ECR) is disabled" in html
        assert "70%" in html and "80%" in html and "90%" in html
        assert "<strong>6</strong> products are Unavailable" in html
        assert "fix at least 4" in html
        checked.append(route.name)
    assert {"catalogs:catalog_detail", "catalogs:product_detail", "ecr:catalog_ecr"} <= set(checked)


def test_no_banner_when_ecr_enabled(client_for, member, tenant_a):
    catalog = CatalogFactory(tenant=tenant_a)
    PendingProductFactory.create_batch(20, catalog=catalog, tenant=tenant_a)
    services.review_after_feed_run(tenant=tenant_a, catalog=catalog)
    html = client_for(member(tenant_a, "viewer")).get(
        url("catalog_ecr", tenant_a, catalog_id=catalog.pk)
    )
    assert 'id="ecr-banner"' not in html.content.decode()
    assert "Enabled" in html.content.decode()


def test_ecr_page_has_charts_from_static_and_history(
    client_for, member, tenant_a, disabled_catalog
):
    html = (
        client_for(member(tenant_a, "viewer"))
        .get(url("catalog_ecr", tenant_a, catalog_id=disabled_catalog.pk))
        .content.decode()
    )
    assert "/static/vendor/plotly/plotly-finance.min.js" in html and "cdn" not in html.lower()
    for fig in ("gauge-fig", "ratio-fig", "lanes-fig"):
        assert f'data-figure="{fig}"' in html and f'id="{fig}"' in html
    assert "turned off" in html and "ECR fast lane" in html and "Standard queue" in html
    assert "Check now" not in html  # a viewer may not trigger checks


def test_check_now_needs_manage_catalogs(client_for, member, tenant_a, disabled_catalog):
    target = url("catalog_ecr", tenant_a, catalog_id=disabled_catalog.pk)
    assert client_for(member(tenant_a, "seller")).post(target).status_code == 403
    response = client_for(member(tenant_a, "advertiser")).post(target)
    assert response.status_code == 302


def test_diagnostics_groups_and_drill_down(
    client_for, member, tenant_a, disabled_catalog, django_assert_max_num_queries
):
    client = client_for(member(tenant_a, "viewer"))
    html = client.get(url("catalog_diagnostics", tenant_a, catalog_id=disabled_catalog.pk))
    text = html.content.decode()
    assert "Price is zero or negative" in text and "30%" in text
    assert "=cmd|&quot;/c calc&quot;!A1" in text or "No product changed" in text
    drill = url("issue_products", tenant_a, catalog_id=disabled_catalog.pk)
    with django_assert_max_num_queries(16):
        page = client.get(drill, {"code": "price_not_positive", "size": 25})
    assert page.content.decode().count('class="btn btn-sm btn-primary"') == 6


def test_drill_down_query_count_is_fixed(client_for, member, tenant_a, django_assert_num_queries):
    catalog = CatalogFactory(tenant=tenant_a)
    client = client_for(member(tenant_a, "viewer"))
    client.get(url("issue_products", tenant_a, catalog_id=catalog.pk))  # stores the tenant
    counts = []
    for n in (3, 40):
        PendingProductFactory.create_batch(n, catalog=catalog, tenant=tenant_a, price=0)
        services.products_review(tenant=tenant_a, catalog=catalog, lane="fast", trigger="manual")
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            client.get(url("issue_products", tenant_a, catalog_id=catalog.pk), {"size": 50})
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_keyset_pagination_walks_all(client_for, member, tenant_a):
    catalog = CatalogFactory(tenant=tenant_a)
    PendingProductFactory.create_batch(60, catalog=catalog, tenant=tenant_a, price=0)
    services.products_review(tenant=tenant_a, catalog=catalog, lane="fast", trigger="manual")
    client = client_for(member(tenant_a, "viewer"))
    seen, cursor = 0, None
    for _ in range(5):
        params = {"size": 25, **({"cursor": cursor} if cursor else {})}
        resp = client.get(url("issue_products", tenant_a, catalog_id=catalog.pk), params)
        page = resp.context["page"]
        seen += len(page.rows)
        cursor = page.next_cursor
        if not cursor:
            break
    assert seen == 60


def test_csv_is_formula_safe(client_for, member, tenant_a, disabled_catalog):
    response = client_for(member(tenant_a, "viewer")).get(
        url("diagnostics_export", tenant_a, catalog_id=disabled_catalog.pk),
        {"code": "price_not_positive"},
    )
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:5] == ["product_id", "sku", "title", "review_status", "issue_code"]
    assert len(rows) == 7
    assert all(r[2].startswith("'=") for r in rows[1:])


def test_foreign_catalog_is_404(client_for, member, tenant_a, tenant_b):
    foreign = CatalogFactory(tenant=tenant_b)
    client = client_for(member(tenant_a, "owner"))
    for name in ("catalog_ecr", "catalog_diagnostics", "issue_products", "diagnostics_export"):
        target = url(name, tenant_a, catalog_id=foreign.pk)
        assert client.get(target).status_code == 404, name
        assert client.post(target).status_code == 404, name


def test_overview_lists_catalogs(client_for, member, tenant_a, disabled_catalog):
    html = client_for(member(tenant_a, "viewer")).get(url("diagnostics", tenant_a))
    text = html.content.decode()
    assert "Outlet" in text and "Disabled" in text


def test_end_to_end_feed_run_turns_ecr_off_and_fixes_turn_it_on(client_for, member, tenant_a):
    """A feed run drops the catalog below the threshold: ECR off, banner shown. The seller
    fixes products, the queue reviews them, ECR comes back and the banner goes."""
    catalog = CatalogFactory(tenant=tenant_a)
    PendingProductFactory.create_batch(20, catalog=catalog, tenant=tenant_a)
    services.review_after_feed_run(tenant=tenant_a, catalog=catalog)
    # "Feed run" 2: 8 new broken products -> 20/28 = 0.71 < 0.80
    PendingProductFactory.create_batch(8, catalog=catalog, tenant=tenant_a, image_link="")
    out = services.review_after_feed_run(tenant=tenant_a, catalog=catalog)
    assert out.ecr_changed and not out.ecr_enabled
    client = client_for(member(tenant_a, "seller"))
    page = reverse(
        "catalogs:catalog_detail", kwargs={"tenant_slug": tenant_a.slug, "catalog_id": catalog.pk}
    )
    assert 'id="ecr-banner"' in client.get(page).content.decode()
    # The seller fixes 6 of them; with ECR off they wait in the standard queue.
    broken = Product.objects.for_tenant(tenant_a).filter(catalog=catalog, image_link="")[:6]
    for p in broken:
        p.image_link = f"https://cdn.example/{p.sku}.png"
        p.review_status = "pending"
        p.save()
    services.review_queue_drain(tenant=tenant_a, catalog=catalog)  # 26/28 = 0.93
    assert CatalogEcrState.objects.for_tenant(tenant_a).get(catalog=catalog).enabled
    assert 'id="ecr-banner"' not in client.get(page).content.decode()


def test_product_page_lists_its_issues(client_for, member, tenant_a, disabled_catalog):
    p = Product.objects.for_tenant(tenant_a).filter(catalog=disabled_catalog, price=0).first()
    html = (
        client_for(member(tenant_a, "seller"))
        .get(
            reverse(
                "catalogs:product_detail",
                kwargs={
                    "tenant_slug": tenant_a.slug,
                    "catalog_id": disabled_catalog.pk,
                    "product_id": p.pk,
                },
            )
        )
        .content.decode()
    )
    assert 'id="product-issues"' in html and "Set a price above zero." in html


def test_banner_counts_products_waiting_in_the_queue(
    client_for, member, tenant_a, disabled_catalog
):
    Product.objects.for_tenant(tenant_a).filter(catalog=disabled_catalog, price=0).update(
        price=5, review_status="pending"
    )
    services.ecr_evaluate(tenant=tenant_a, catalog=disabled_catalog, trigger="manual")
    html = (
        client_for(member(tenant_a, "viewer"))
        .get(url("catalog_ecr", tenant_a, catalog_id=disabled_catalog.pk))
        .content.decode()
    )
    assert "<strong>6</strong> wait for review" in html
    assert "ECR turns back on once at least 4 more are Available" in html


@pytest.mark.parametrize(
    ("name", "active"),
    [
        # the ECR tab is one of the catalog's pages (Products / Catalogs / its name)
        ("catalog_ecr", ["Catalogs"]),
        # what the Diagnostics menu leads to: its list, each catalog's Diagnostics and the
        # products of a group
        ("catalog_diagnostics", ["Diagnostics"]),
        ("issue_products", ["Diagnostics"]),
    ],
)
def test_top_menu_highlights_the_section_of_the_page(
    client_for, member, tenant_a, disabled_catalog, name, active
):
    html = client_for(member(tenant_a, "viewer")).get(
        url(name, tenant_a, catalog_id=disabled_catalog.pk)
    )
    menu = html.content.decode().split('id="main-menu"', 1)[1].split('id="tenant-switcher"')[0]
    highlighted = re.findall(r'class="nav-link active"[^>]*>(?:<i[^>]*></i> )?([^<]+)</a>', menu)
    assert highlighted == active
