"""Review pipeline and ECR evaluation against real PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from catalogs.models import ReviewStatus
from ecr import review, services
from ecr.models import (
    CatalogEcrState,
    EcrEvent,
    PolicyTerm,
    ProductIssue,
    RatioSample,
    ReviewBatch,
    ReviewSettings,
)
from ecr.tests.factories import CatalogFactory, PendingProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(tenant_a):
    return CatalogFactory(tenant=tenant_a, currency="USD")


def make(catalog, n, **kw):
    return PendingProductFactory.create_batch(n, catalog=catalog, tenant=catalog.tenant, **kw)


def statuses(catalog):
    from catalogs.models import Product

    return dict(
        Product.objects.for_tenant(catalog.tenant)
        .filter(catalog=catalog)
        .values_list("sku", "review_status")
    )


def test_fast_lane_reviews_and_turns_ecr_off_below_threshold(
    catalog, tenant_a, member, django_capture_on_commit_callbacks
):
    member(tenant_a, "advertiser")
    member(tenant_a, "seller")
    good = make(catalog, 15)
    bad = make(catalog, 5, price=Decimal("0"))  # 15/20 = 0.75 < 0.80
    with django_capture_on_commit_callbacks(execute=True):
        out = services.review_after_feed_run(tenant=tenant_a, catalog=catalog)
    assert (out.reviewed, out.available, out.unavailable) == (20, 15, 5)
    assert out.ecr_changed and not out.ecr_enabled
    st = statuses(catalog)
    assert {st[p.sku] for p in good} == {ReviewStatus.AVAILABLE}
    assert {st[p.sku] for p in bad} == {ReviewStatus.UNAVAILABLE}
    issue = ProductIssue.objects.for_tenant(tenant_a).get(product=bad[0])
    assert (issue.code, issue.severity, issue.field) == ("price_not_positive", "error", "price")
    state = CatalogEcrState.objects.for_tenant(tenant_a).get(catalog=catalog)
    assert (state.enabled, state.ratio, state.unavailable_count) == (False, 0.75, 5)
    event = EcrEvent.objects.for_tenant(tenant_a).get(catalog=catalog)
    assert (event.enabled, event.ratio, event.disable_threshold) == (False, 0.75, Decimal("0.8"))
    # Owners, admins and advertisers get mail; the seller does not.
    assert [m.to for m in mail.outbox] == [["advertiser-tenant-a@example.com"]]
    assert "DISABLED" in mail.outbox[0].body and "75%" in mail.outbox[0].body
    batch = ReviewBatch.objects.for_tenant(tenant_a).get(catalog=catalog)
    assert (batch.lane, batch.reviewed, batch.wait_count) == ("fast", 20, 20)


def test_ecr_disabled_products_wait_for_standard_queue_oldest_first(catalog, tenant_a):
    CatalogEcrState.objects.create(tenant=tenant_a, catalog=catalog, enabled=False)
    now = timezone.now()
    old = make(catalog, 3, review_requested_at=now - timedelta(hours=5))
    new = make(catalog, 3, review_requested_at=now - timedelta(minutes=1))
    out = services.review_after_feed_run(tenant=tenant_a, catalog=catalog)
    assert out.reviewed == 0
    assert set(statuses(catalog).values()) == {ReviewStatus.PENDING}
    result = services.review_queue_drain(tenant=tenant_a, catalog=catalog, capacity=3)
    assert result.reviewed == 3
    st = statuses(catalog)
    assert {st[p.sku] for p in old} == {ReviewStatus.AVAILABLE}
    assert {st[p.sku] for p in new} == {ReviewStatus.PENDING}
    batch = ReviewBatch.objects.for_tenant(tenant_a).get(catalog=catalog)
    assert batch.lane == "standard"
    assert batch.wait_max_seconds >= 5 * 3600 - 5


def test_ecr_turns_back_on_at_enable_threshold_after_fixes(catalog, tenant_a):
    make(catalog, 16)
    bad = make(catalog, 4, price=Decimal("0"))  # 0.80: stays on
    services.review_after_feed_run(tenant=tenant_a, catalog=catalog)
    assert CatalogEcrState.objects.for_tenant(tenant_a).get(catalog=catalog).enabled
    b = bad[0]
    b.price, b.review_status = Decimal("-1"), ReviewStatus.PENDING
    b.save()
    make(catalog, 1, price=Decimal("0"))  # 16/21 < 0.80
    services.review_after_feed_run(tenant=tenant_a, catalog=catalog)
    assert not CatalogEcrState.objects.for_tenant(tenant_a).get(catalog=catalog).enabled
    # Fix 3 products: 19/21 = 0.905 >= 0.90 after the queue drains.
    for p in bad[:3]:
        p.price, p.review_status, p.review_requested_at = Decimal("5"), "pending", timezone.now()
        p.save()
    services.review_queue_drain(tenant=tenant_a, catalog=catalog)
    state = CatalogEcrState.objects.for_tenant(tenant_a).get(catalog=catalog)
    assert state.enabled and state.available_count == 19
    assert list(
        EcrEvent.objects.for_tenant(tenant_a)
        .order_by("created_at")
        .values_list("enabled", flat=True)
    ) == [False, True]


def test_too_few_products_not_evaluated(catalog, tenant_a):
    make(catalog, 19, price=Decimal("0"))
    out = services.review_after_feed_run(tenant=tenant_a, catalog=catalog)
    assert out.ecr_enabled and not out.ecr_changed


def test_per_catalog_override_wins(catalog, tenant_a):
    CatalogEcrState.objects.create(
        tenant=tenant_a, catalog=catalog, disable_threshold_override=Decimal("0.5")
    )
    make(catalog, 12)
    make(catalog, 8, price=Decimal("0"))  # 0.6: above 0.5
    out = services.review_after_feed_run(tenant=tenant_a, catalog=catalog)
    assert out.ecr_enabled
    settings = ReviewSettings.current()
    settings.disable_threshold = Decimal("0.7")
    settings.save()
    state = CatalogEcrState.objects.for_tenant(tenant_a).get(catalog=catalog)
    assert services.thresholds_for(ecr=state, settings=settings).disable == Decimal("0.5")


def test_policy_terms_from_admin_lists_and_rule_recorded(catalog, tenant_a):
    PolicyTerm.objects.create(term="unobtainium", kind="prohibited", category="test")
    (p,) = make(catalog, 1, title="Unobtainium ring")
    services.products_review(tenant=tenant_a, catalog=catalog, lane="fast", trigger="manual")
    issue = ProductIssue.objects.for_tenant(tenant_a).get(product=p, code="policy_prohibited_term")
    assert issue.rule == "policy.prohibited:unobtainium"


def test_rereview_replaces_issues_and_keeps_other_tenants(catalog, tenant_a, tenant_b):
    other = CatalogFactory(tenant=tenant_b)
    (p,) = make(catalog, 1, price=Decimal("0"))
    (q,) = make(other, 1, price=Decimal("0"))
    services.products_review(tenant=tenant_a, catalog=catalog, lane="fast", trigger="manual")
    services.products_review(tenant=tenant_b, catalog=other, lane="fast", trigger="manual")
    p.price, p.review_status = Decimal("3"), "pending"
    p.save()
    services.products_review(tenant=tenant_a, catalog=catalog, lane="fast", trigger="manual")
    assert not ProductIssue.objects.for_tenant(tenant_a).filter(product=p).exists()
    assert ProductIssue.objects.for_tenant(tenant_b).filter(product=q).count() == 1
    assert statuses(catalog)[p.sku] == ReviewStatus.AVAILABLE


def test_product_edited_during_review_stays_pending(catalog, tenant_a):
    (p,) = make(catalog, 1, review_requested_at=timezone.now() + timedelta(seconds=30))
    services.products_review(tenant=tenant_a, catalog=catalog, lane="fast", trigger="manual")
    assert statuses(catalog)[p.sku] == ReviewStatus.PENDING


def test_duplicate_ids_ignoring_case(catalog, tenant_a):
    make(catalog, 1, sku="ABC-1")
    make(catalog, 1, sku="abc-1")
    services.products_review(tenant=tenant_a, catalog=catalog, lane="fast", trigger="manual")
    assert ProductIssue.objects.for_tenant(tenant_a).filter(code="duplicate_id").count() == 2


def test_hostile_product_gets_issues_not_a_crash(catalog, tenant_a):
    (p,) = make(
        catalog,
        1,
        title='=HYPERLINK("http://evil") 🔥🔥 BUY NOW!!!',
        link="javascript:alert(1)",
        image_link="",
        additional_image_links={"not": "a list"},
        custom_attributes=["weird"],
    )
    services.products_review(tenant=tenant_a, catalog=catalog, lane="fast", trigger="manual")
    codes = set(
        ProductIssue.objects.for_tenant(tenant_a).filter(product=p).values_list("code", flat=True)
    )
    assert {"link_not_http", "missing_image_link", "title_has_emoji"} <= codes
    assert statuses(catalog)[p.sku] == ReviewStatus.UNAVAILABLE


def test_review_query_count_does_not_grow_with_products(
    catalog, tenant_a, django_assert_max_num_queries
):
    make(catalog, 30, price=Decimal("0"))
    with django_assert_max_num_queries(14):
        services.products_review(
            tenant=tenant_a, catalog=catalog, lane="fast", trigger="manual", chunk_size=10_000
        )
    make(catalog, 300, price=Decimal("0"))
    with django_assert_max_num_queries(14):
        services.products_review(
            tenant=tenant_a, catalog=catalog, lane="fast", trigger="manual", chunk_size=10_000
        )


def test_ratio_samples_record_issue_counts_after_feed_runs(catalog, tenant_a):
    make(catalog, 20)
    make(catalog, 2, price=Decimal("0"))
    services.review_after_feed_run(tenant=tenant_a, catalog=catalog)
    sample = RatioSample.objects.for_tenant(tenant_a).get(catalog=catalog)
    assert sample.issue_counts == {"price_not_positive": 2}
    assert sample.trigger == "feed_run"


def test_issue_counts_leave_out_removed_products_and_other_catalogs(catalog, tenant_a):
    from ecr import selectors

    make(catalog, 3, price=Decimal("0"))
    other = CatalogFactory(tenant=tenant_a)
    make(other, 2, price=Decimal("0"))
    services.products_review(tenant=tenant_a, catalog=catalog, lane="fast", trigger="manual")
    services.products_review(tenant=tenant_a, catalog=other, lane="fast", trigger="manual")
    assert selectors.issue_counts_by_code(tenant=tenant_a, catalog=catalog) == {
        "price_not_positive": 3
    }
    gone = catalog.products.order_by("id").first()
    gone.removed_at = timezone.now()
    gone.save(update_fields=["removed_at"])  # its issues stay, but it is not active
    assert selectors.issue_counts_by_code(tenant=tenant_a, catalog=catalog) == {
        "price_not_positive": 2
    }
    assert selectors.issue_counts_by_code(tenant=tenant_a, catalog=other) == {
        "price_not_positive": 2
    }


def test_seller_edit_rereviews_after_commit(
    catalog, tenant_a, member, django_capture_on_commit_callbacks
):
    from catalogs.services import product_update

    make(catalog, 20)
    (p,) = make(catalog, 1, price=Decimal("0"))
    services.review_after_feed_run(tenant=tenant_a, catalog=catalog)
    assert statuses(catalog)[p.sku] == ReviewStatus.UNAVAILABLE
    with django_capture_on_commit_callbacks(execute=True):
        product_update(
            tenant=tenant_a,
            product=p,
            actor=member(tenant_a, "seller"),
            data={"price": Decimal("12.00")},
        )
    assert statuses(catalog)[p.sku] == ReviewStatus.AVAILABLE
    assert not ProductIssue.objects.for_tenant(tenant_a).filter(product=p).exists()
    state = CatalogEcrState.objects.for_tenant(tenant_a).get(catalog=catalog)
    assert state.available_count == 21


def test_seller_edit_waits_in_queue_when_ecr_disabled(
    catalog, tenant_a, member, django_capture_on_commit_callbacks
):
    from catalogs.services import product_update

    CatalogEcrState.objects.create(tenant=tenant_a, catalog=catalog, enabled=False)
    (p,) = make(catalog, 1, price=Decimal("0"))
    with django_capture_on_commit_callbacks(execute=True):
        product_update(
            tenant=tenant_a,
            product=p,
            actor=member(tenant_a, "seller"),
            data={"price": Decimal("12.00")},
        )
    assert statuses(catalog)[p.sku] == ReviewStatus.PENDING


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_chunks_go_through_the_background_writer(tenant_a):
    """The feed-run path: the review runs after the run committed, writes overlap the rules."""
    catalog = CatalogFactory(tenant=tenant_a)
    make(catalog, 25)
    make(catalog, 7, price=Decimal("0"))
    result = services.products_review(
        tenant=tenant_a, catalog=catalog, lane="fast", trigger="feed_run", chunk_size=10
    )
    assert (result.reviewed, result.available, result.unavailable) == (32, 25, 7)
    assert ProductIssue.objects.for_tenant(tenant_a).filter(catalog=catalog).count() == 7
    assert set(statuses(catalog).values()) == {ReviewStatus.AVAILABLE, ReviewStatus.UNAVAILABLE}


@pytest.mark.django_db(transaction=True)
def test_background_writer_failure_loses_nothing(tenant_a, monkeypatch):
    catalog = CatalogFactory(tenant=tenant_a)
    make(catalog, 30)

    def broken(cur, w):
        raise RuntimeError("database went away")

    monkeypatch.setattr(review, "_pg_write", broken)
    with pytest.raises(RuntimeError):
        services.products_review(
            tenant=tenant_a, catalog=catalog, lane="fast", trigger="feed_run", chunk_size=10
        )
    # Nothing half-done: every product is still Pending for the next cycle.
    assert set(statuses(catalog).values()) == {ReviewStatus.PENDING}


def test_products_read_from_postgresql_get_the_issues_of_their_mappings(catalog, tenant_a):
    """The SQL that reads products into blocks (numbers as text, JSON lists flattened)
    gives every product the issues the engine gives its mapping."""
    from django.forms.models import model_to_dict

    from ecr import rules

    variants = [
        {},
        {"price": Decimal("0.00"), "sale_price": None},
        {"price": Decimal("10"), "sale_price": Decimal("12.50"), "shipping_fee": Decimal("-1")},
        {"additional_image_links": ["https://a.example/1.jpg", "nope", ""]},
        {"additional_image_links": "https://a.example/1.jpg,ftp://x/2.png"},
        {"additional_image_links": {"a": 1}},
        {"additional_image_links": 7},
        {"custom_attributes": {"Size": "M", "COLOR": "red"}, "item_group_id": ""},
        {"custom_attributes": ["size"], "item_group_id": ""},
        {"inventory_quantity": -4, "gtin": "2000000000008", "brand": ""},
        {"title": "REPLICA WATCH, GOLD!!! 🔥", "link": "ftp://x/p", "image_link": "x.jpg"},
        {"description": "Cures   Cancer, c.ke", "availability": "maybe", "condition": "??"},
        {"sku": " dup ", "currency": "eur"},
        {"sku": "DUP"},
    ]
    assert PolicyTerm.objects.filter(term="replica watch", is_active=True).exists()  # seeded
    products = [PendingProductFactory(catalog=catalog, tenant=tenant_a, **v) for v in variants]
    for p in products:
        p.refresh_from_db()  # the values as stored (10 is 10.00)
    context = services.review_context(tenant=tenant_a, catalog=catalog)
    expected = rules.review_products(
        [model_to_dict(p) | {"sku": p.sku} for p in products], context
    ).issues_per_row()
    services.products_review(
        tenant=tenant_a, catalog=catalog, lane="fast", trigger="feed_run", chunk_size=5
    )
    stored = ProductIssue.objects.for_tenant(tenant_a).filter(catalog=catalog)
    for product, issues in zip(products, expected, strict=True):
        got = stored.filter(product=product).order_by("id")
        assert sorted(
            (i.code, i.severity, i.field, i.message, i.how_to_fix, i.rule) for i in got
        ) == sorted(tuple(i) for i in issues), product.sku
    assert any(expected) and all(i.code != "duplicate_id" for i in expected[0])
    assert [i.code for i in expected[-1]] == ["duplicate_id"]
