"""The catalog Diagnostics page reads the review counts the last ECR evaluation stored (and
its other catalog-sized figures from the snapshot) while the catalog's data is unchanged
since: after a review, a seller's edit, a feed run or a removal the figures are those of a
recount, and the page costs the same queries at any catalog size."""

from __future__ import annotations

from decimal import Decimal

import factory
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalogs.models import Product
from catalogs.services import product_update
from ecr import selectors, services
from ecr.models import CatalogEcrState, EcrTrigger
from ecr.tests.factories import CatalogFactory, PendingProductFactory

pytestmark = pytest.mark.django_db


def _diagnostics(tenant, catalog) -> services.CatalogDiagnostics:
    ecr = services.ecr_state_get(tenant=tenant, catalog=catalog)
    return services.catalog_diagnostics(tenant=tenant, catalog=catalog, ecr=ecr)


def _live(tenant, catalog) -> selectors.ReviewCounts:
    return selectors.review_counts(tenant=tenant, catalog=catalog)


def _status_group_by(queries) -> bool:
    """The review-status GROUP BY over the catalog's products ran."""
    return any(
        q["sql"].startswith('SELECT "catalogs_product"."review_status"') and "GROUP BY" in q["sql"]
        for q in queries.captured_queries
    )


def _catalog(tenant, *, good: int, zero_price: int, casino: int = 0):
    catalog = CatalogFactory(tenant=tenant)
    PendingProductFactory.create_batch(good, catalog=catalog, tenant=tenant)
    PendingProductFactory.create_batch(zero_price, catalog=catalog, tenant=tenant, price=0)
    # new with the review's feed run, and failing ad policy: the page's "changed" list
    PendingProductFactory.create_batch(
        casino,
        catalog=catalog,
        tenant=tenant,
        title=factory.Sequence(lambda n: f"Online casino {n}"),
    )
    services.review_after_feed_run(tenant=tenant, catalog=catalog)
    return catalog


def test_after_a_review_the_counts_are_the_stored_ones(tenant_a):
    catalog = _catalog(tenant_a, good=18, zero_price=2)
    with CaptureQueriesContext(connection) as queries:
        d = _diagnostics(tenant_a, catalog)
    assert d.counts_stored
    assert not _status_group_by(queries)
    assert d.counts == selectors.ReviewCounts(active=20, available=18, unavailable=2, pending=0)
    assert d.counts == _live(tenant_a, catalog)


def test_a_seller_edit_is_counted_before_and_after_its_review(
    tenant_a, member, django_capture_on_commit_callbacks
):
    catalog = _catalog(tenant_a, good=18, zero_price=2)
    assert CatalogEcrState.objects.for_tenant(tenant_a).get(catalog=catalog).enabled
    product = Product.objects.for_tenant(tenant_a).filter(catalog=catalog, price=0).first()
    with django_capture_on_commit_callbacks(execute=True):
        product_update(
            tenant=tenant_a, product=product, actor=member(tenant_a), data={"price": Decimal("5")}
        )
        # Committed, not yet re-reviewed nor evaluated: the stored counts are not current.
        with CaptureQueriesContext(connection) as queries:
            d = _diagnostics(tenant_a, catalog)
        assert not d.counts_stored and _status_group_by(queries)
        assert d.counts == selectors.ReviewCounts(active=20, available=18, unavailable=1, pending=1)
    # The re-review and the evaluation ran on commit (ECR is on): stored and right again.
    d = _diagnostics(tenant_a, catalog)
    assert d.counts_stored
    assert d.counts == selectors.ReviewCounts(active=20, available=19, unavailable=1, pending=0)
    assert d.counts == _live(tenant_a, catalog)
    codes = {g.code: g.products for g in d.error_groups}
    assert codes["price_not_positive"] == 1


def test_with_ecr_off_an_edit_waits_pending_then_the_queue_reviews_it(
    tenant_a, member, django_capture_on_commit_callbacks
):
    catalog = _catalog(tenant_a, good=14, zero_price=6)
    assert not CatalogEcrState.objects.for_tenant(tenant_a).get(catalog=catalog).enabled
    product = Product.objects.for_tenant(tenant_a).filter(catalog=catalog, price=0).first()
    with django_capture_on_commit_callbacks(execute=True):
        product_update(
            tenant=tenant_a, product=product, actor=member(tenant_a), data={"price": Decimal("5")}
        )
    d = _diagnostics(tenant_a, catalog)
    assert d.counts_stored
    assert d.counts == selectors.ReviewCounts(active=20, available=14, unavailable=5, pending=1)
    services.review_queue_drain(tenant=tenant_a, catalog=catalog)
    d = _diagnostics(tenant_a, catalog)
    assert d.counts_stored
    assert d.counts == selectors.ReviewCounts(active=20, available=15, unavailable=5, pending=0)


def test_a_change_around_the_services_is_recounted_until_the_next_evaluation(tenant_a):
    catalog = _catalog(tenant_a, good=18, zero_price=2)
    gone = Product.objects.for_tenant(tenant_a).filter(catalog=catalog, price=0).first()
    now = timezone.now()
    Product.objects.for_tenant(tenant_a).filter(pk=gone.pk).update(
        removed_at=now, last_changed_at=now
    )
    d = _diagnostics(tenant_a, catalog)
    assert not d.counts_stored
    assert d.counts == selectors.ReviewCounts(active=19, available=18, unavailable=1, pending=0)
    assert {g.code: g.products for g in d.error_groups}["price_not_positive"] == 1
    services.ecr_evaluate(tenant=tenant_a, catalog=catalog, trigger=EcrTrigger.PERIODIC)
    d = _diagnostics(tenant_a, catalog)
    assert d.counts_stored and d.counts == _live(tenant_a, catalog)


def test_a_feed_run_updates_counts_groups_and_the_changed_list(tenant_a, tmp_path):
    """Through the real feed pipeline: a run that removes products and changes one into an
    ad-policy failure, then the page's figures equal a recount."""
    catalog = CatalogFactory(tenant=tenant_a)
    path = tmp_path / "feed.csv"
    rows = {f"S{i}": f"Garden hose {i}" for i in range(20)}

    def pull():
        lines = [
            f"{sku},{title},A hose for gardens.,https://shop.example.com/p/{sku},"
            f"https://shop.example.com/i/{sku}.jpg,Kestrel,in stock,5 USD,4006381333931\n"
            for sku, title in rows.items()
        ]
        path.write_text("id,title,description,link,image_link,brand,availability,price,gtin\n")
        with path.open("a") as f:
            f.writelines(lines)
        call_command("import_feed", "--catalog", str(catalog.pk), str(path))

    pull()
    first = _diagnostics(tenant_a, catalog)
    assert first.counts_stored and first.counts.active == 20 and first.counts.unavailable == 0
    assert first.changed == [] and first.changed_total == 0

    for i in range(15, 20):
        del rows[f"S{i}"]
    rows["S3"] = "Online casino credits 3"
    pull()
    with CaptureQueriesContext(connection) as queries:
        d = _diagnostics(tenant_a, catalog)
    assert d.counts_stored
    assert d.counts == selectors.ReviewCounts(active=15, available=14, unavailable=1, pending=0)
    assert d.counts == _live(tenant_a, catalog)
    assert [p.sku for p in d.changed] == ["S3"] and d.changed_total == 1
    assert any("casino" in i.message.lower() for i in d.changed[0].issues.all())
    assert d.changed_since is not None
    # The first view after the run recomputed the snapshot; the next one reads it only.
    assert any("COUNT(DISTINCT" in q["sql"].upper() for q in queries.captured_queries)
    with CaptureQueriesContext(connection) as queries:
        again = _diagnostics(tenant_a, catalog)
    assert [p.sku for p in again.changed] == ["S3"] and again.changed_total == 1
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
    assert not _status_group_by(queries)


def _page_queries(client, tenant, catalog) -> list[str]:
    target = reverse(
        "ecr:catalog_diagnostics", kwargs={"tenant_slug": tenant.slug, "catalog_id": catalog.pk}
    )
    client.get(target)  # the first view after a review stores the snapshot
    with CaptureQueriesContext(connection) as queries:
        response = client.get(target)
    assert response.status_code == 200
    return [q["sql"] for q in queries.captured_queries]


def test_the_page_costs_the_same_queries_at_any_catalog_size(client_for, member, tenant_a):
    client = client_for(member(tenant_a, "viewer"))
    small = _catalog(tenant_a, good=14, zero_price=6, casino=1)  # ECR off in both
    large = _catalog(tenant_a, good=140, zero_price=60, casino=60)
    states = CatalogEcrState.objects.for_tenant(tenant_a)
    assert not states.get(catalog=small).enabled and not states.get(catalog=large).enabled
    a = _page_queries(client, tenant_a, small)
    b = _page_queries(client, tenant_a, large)
    assert len(a) == len(b)
    assert len(_diagnostics(tenant_a, small).changed) == 1
    d = _diagnostics(tenant_a, large)
    assert len(d.changed) == 50 and d.changed_total == 60
    # nothing grouped or counted over the catalog's products or issues on a stored view
    for sql in b:
        if '"catalogs_product"' in sql or '"ecr_productissue"' in sql:
            assert "COUNT(" not in sql.upper() and "GROUP BY" not in sql.upper(), sql


def test_the_page_shows_the_stored_counts(client_for, member, tenant_a):
    catalog = _catalog(tenant_a, good=18, zero_price=2)
    # Proof the page reads the evaluation's figures: tamper with them (same version).
    CatalogEcrState.objects.for_tenant(tenant_a).filter(catalog=catalog).update(
        available_count=1234
    )
    html = (
        client_for(member(tenant_a, "viewer"))
        .get(
            reverse(
                "ecr:catalog_diagnostics",
                kwargs={"tenant_slug": tenant_a.slug, "catalog_id": catalog.pk},
            )
        )
        .content.decode()
    )
    assert '<div class="fs-4 text-success">1234</div>' in html
