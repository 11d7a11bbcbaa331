"""A rules change (terms, claims, review limits) reviews the products already reviewed again."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from catalogs.models import Product, ReviewStatus
from ecr import review, selectors, services, tasks
from ecr.models import (
    CatalogEcrState,
    DeniedClaim,
    EcrTrigger,
    PolicyTerm,
    ProductIssue,
    RatioSample,
    ReviewBatch,
    ReviewSettings,
)
from ecr.tests.factories import CatalogFactory, PendingProductFactory

pytestmark = pytest.mark.django_db

CLAIM = "cures baldness"


@pytest.fixture
def staff_client(client, user_factory):
    client.force_login(user_factory("staffer", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def catalog(tenant_a):
    """30 products reviewed under the old rules: 22 plain, 8 claiming to cure baldness."""
    catalog = CatalogFactory(tenant=tenant_a, currency="USD")
    PendingProductFactory.create_batch(22, catalog=catalog, tenant=tenant_a)
    for i in range(8):
        PendingProductFactory(
            catalog=catalog, tenant=tenant_a, sku=f"tonic-{i}", title=f"Tonic {i} {CLAIM} fast"
        )
    services.review_after_feed_run(tenant=tenant_a, catalog=catalog)
    assert not Product.objects.exclude(review_status=ReviewStatus.AVAILABLE).exists()
    return catalog


def _status_of(catalog) -> dict[str, str]:
    return dict(
        Product.objects.for_tenant(catalog.tenant)
        .filter(catalog=catalog)
        .values_list("sku", "review_status")
    )


def _claim_issues(catalog) -> set[str]:
    return set(
        ProductIssue.objects.for_tenant(catalog.tenant)
        .filter(catalog=catalog, code="policy_denied_claim")
        .values_list("product__sku", flat=True)
    )


def test_a_claim_added_in_admin_makes_the_products_using_it_unavailable(
    staff_client, catalog, tenant_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:
        response = staff_client.post(
            "/admin/ecr/deniedclaim/add/",
            {"phrase": CLAIM, "category": "health claims", "how_to_fix": "", "is_active": "on"},
        )
    assert response.status_code == 302
    assert services.rules_rereview_enqueue in queued  # handed to a worker once committed
    page = staff_client.get(response.url).content.decode()
    assert "being reviewed again with this change" in page
    assert services.catalogs_behind_rules() == [(tenant_a, catalog)]

    assert tasks.rules_rereview() == 30

    status = _status_of(catalog)
    tonics = {f"tonic-{i}" for i in range(8)}
    assert {s for sku, s in status.items() if sku in tonics} == {ReviewStatus.UNAVAILABLE}
    assert {s for sku, s in status.items() if sku not in tonics} == {ReviewStatus.AVAILABLE}
    assert _claim_issues(catalog) == tonics
    # 22 of 30 Available is below the 80 % threshold: ECR turns off, and says why
    state = CatalogEcrState.objects.for_tenant(tenant_a).get(catalog=catalog)
    assert not state.enabled and state.changed_at is not None
    assert RatioSample.objects.for_tenant(tenant_a).filter(trigger=EcrTrigger.RULES).exists()
    batch = ReviewBatch.objects.for_tenant(tenant_a).get(trigger=EcrTrigger.RULES)
    assert (batch.reviewed, batch.unavailable, batch.wait_count) == (30, 8, 0)
    # the ECR tab's waits count the feed run's 30 products, not the re-review's
    lanes = {t.lane: t.reviewed for t in selectors.lane_timings(tenant=tenant_a, catalog=catalog)}
    assert lanes == {"fast": 30, "standard": 0}
    # done: a second task (a burst of edits, the periodic check) has nothing left
    assert services.catalogs_behind_rules() == []
    assert tasks.rules_rereview() == 0


def test_a_claim_switched_off_in_the_list_lets_the_products_back(
    staff_client, catalog, django_capture_on_commit_callbacks
):
    claim = DeniedClaim.objects.create(phrase=CLAIM, category="health claims")
    services.review_rules_changed()
    services.rules_rereview_all()
    assert len(_claim_issues(catalog)) == 8

    with django_capture_on_commit_callbacks() as queued:
        response = staff_client.post(
            "/admin/ecr/deniedclaim/",
            {
                "form-TOTAL_FORMS": "1",
                "form-INITIAL_FORMS": "1",
                "form-0-id": str(claim.pk),
                "_save": "Save",
            },  # is_active unticked in the list
        )
    assert response.status_code == 302
    assert services.rules_rereview_enqueue in queued
    services.rules_rereview_all()
    assert set(_status_of(catalog).values()) == {ReviewStatus.AVAILABLE}
    assert _claim_issues(catalog) == set()


def test_deleting_a_term_and_saving_it_unchanged(staff_client, catalog, tenant_a):
    term = PolicyTerm.objects.create(term="baldness", category="health", severity="error")
    services.review_rules_changed()
    services.rules_rereview_all()
    assert list(_status_of(catalog).values()).count(ReviewStatus.UNAVAILABLE) == 8

    before = ReviewSettings.current().rules_changed_at
    staff_client.post(
        f"/admin/ecr/policyterm/{term.pk}/change/",
        {
            "term": "baldness",
            "kind": term.kind,
            "category": "health",
            "severity": "error",
            "how_to_fix": "",
            "is_active": "on",
        },
    )
    assert ReviewSettings.current().rules_changed_at == before  # nothing changed

    staff_client.post(
        "/admin/ecr/policyterm/",
        {"action": "delete_selected", "_selected_action": [term.pk], "post": "yes"},
    )
    assert not PolicyTerm.objects.filter(pk=term.pk).exists()
    assert ReviewSettings.current().rules_changed_at > before
    services.rules_rereview_all()
    assert set(_status_of(catalog).values()) == {ReviewStatus.AVAILABLE}


def test_a_warning_added_changes_the_issues_but_not_the_status(catalog, tenant_a):
    """A restricted term of severity warning: the products keep their status and the time
    of the review that set it, and gain the warning."""
    reviewed_at = dict(
        Product.objects.for_tenant(tenant_a)
        .filter(catalog=catalog)
        .values_list("sku", "reviewed_at")
    )
    PolicyTerm.objects.create(
        term="baldness", kind="restricted", category="health", severity="warning"
    )
    services.review_rules_changed()
    assert services.rules_rereview_all() == 30
    assert set(_status_of(catalog).values()) == {ReviewStatus.AVAILABLE}
    warned = set(
        ProductIssue.objects.for_tenant(tenant_a)
        .filter(catalog=catalog, severity="warning", field="title")
        .values_list("product__sku", flat=True)
    )
    assert warned == {f"tonic-{i}" for i in range(8)}
    after = dict(
        Product.objects.for_tenant(tenant_a)
        .filter(catalog=catalog)
        .values_list("sku", "reviewed_at")
    )
    assert after == reviewed_at


def test_a_re_review_that_finds_nothing_new_writes_nothing(catalog, tenant_a):
    DeniedClaim.objects.create(phrase=CLAIM, category="health claims")
    services.review_rules_changed()
    services.rules_rereview_all()
    products = Product.objects.for_tenant(tenant_a).filter(catalog=catalog)
    issues = ProductIssue.objects.for_tenant(tenant_a).filter(catalog=catalog)
    before = (set(products.values_list("id", "reviewed_at")), set(issues.values_list("id")))
    assert len(before[1]) == 8
    services.review_rules_changed()  # saved again, to the same effect
    assert services.rules_rereview_all() == 30
    assert (set(products.values_list("id", "reviewed_at")), set(issues.values_list("id"))) == before


# Review settings' admin form as saved by default.
SETTINGS_FORM = {
    "disable_threshold": "0.800",
    "enable_threshold": "0.900",
    "min_products": 20,
    "standard_queue_capacity": 500,
    "title_max_length": 150,
    "description_max_length": 5000,
    "caps_min_letters": 8,
}


@pytest.mark.parametrize(
    ("changes", "rules_changed"),
    [
        ({"title_max_length": 20}, True),
        ({"caps_min_letters": 4}, True),
        ({"disable_threshold": "0.700"}, False),  # steers ECR, not the rules
        ({"standard_queue_capacity": 50}, False),
    ],
)
def test_review_settings_that_the_rules_read_count_as_a_rules_change(
    staff_client, changes, rules_changed
):
    settings = ReviewSettings.current()
    form = {**SETTINGS_FORM, **changes}
    response = staff_client.post(f"/admin/ecr/reviewsettings/{settings.pk}/change/", form)
    assert response.status_code == 302
    assert (ReviewSettings.current().rules_changed_at is not None) is rules_changed


@pytest.mark.parametrize(
    "changes",
    [
        # a limit of 0 made every product with a title (or description) Unavailable, and so
        # ECR off in every catalog of every tenant, at the next re-review
        {"title_max_length": 0},
        {"title_max_length": 9},
        {"description_max_length": 0},
        {"caps_min_letters": 0},
    ],
)
def test_review_settings_refuse_limits_that_fail_every_product(staff_client, changes):
    settings = ReviewSettings.current()
    form = {**SETTINGS_FORM, **changes}
    response = staff_client.post(f"/admin/ecr/reviewsettings/{settings.pk}/change/", form)
    assert response.status_code == 200
    (field,) = changes
    assert response.context["adminform"].form.errors[field]
    saved = ReviewSettings.current()
    assert (saved.title_max_length, saved.description_max_length, saved.caps_min_letters) == (
        150,
        5000,
        8,
    )
    assert saved.rules_changed_at is None


def test_pending_products_and_other_catalogs_are_left_to_their_own_review(
    catalog, tenant_a, tenant_b
):
    waiting = PendingProductFactory(
        catalog=catalog, tenant=tenant_a, sku="new", title=f"New {CLAIM}"
    )
    newer = CatalogFactory(tenant=tenant_b)  # created after the change below
    DeniedClaim.objects.create(phrase=CLAIM, category="health claims")
    services.review_rules_changed()
    newer.created_at = timezone.now() + timedelta(seconds=1)
    newer.save(update_fields=["created_at"])
    assert services.catalogs_behind_rules() == [(tenant_a, catalog)]
    assert services.rules_rereview_all() == 30
    waiting.refresh_from_db()
    assert waiting.review_status == ReviewStatus.PENDING  # the queue reviews it


def _product(catalog, sku):
    return Product.objects.for_tenant(catalog.tenant).get(catalog=catalog, sku=sku)


@pytest.mark.parametrize("write", [review._pg_rewrite, review._orm_rewrite])
@pytest.mark.parametrize("changed_meanwhile", [False, True])
def test_a_product_reviewed_again_meanwhile_keeps_that_review(catalog, write, changed_meanwhile):
    """The re-review read a product, then a feed run or an edit reviewed it again before the
    re-review wrote: that later review (status and issues) is the one kept."""
    from django.db import connection

    product = _product(catalog, "tonic-0")
    seen = product.reviewed_at
    if changed_meanwhile:
        Product.objects.filter(pk=product.pk).update(
            review_status=ReviewStatus.AVAILABLE, reviewed_at=timezone.now()
        )
    now = timezone.now()
    issue = review.pa.table(
        {
            "tenant_id": [catalog.tenant_id],
            "catalog_id": [catalog.pk],
            "product_id": [product.pk],
            "code": ["policy_denied_claim"],
            "severity": ["error"],
            "field": ["title"],
            "message": ["A denied claim."],
            "how_to_fix": [""],
            "rule": ["policy_denied_claim"],
            "created_at": [now.isoformat()],
        }
    )
    chunk = review._ChunkWrite(
        tenant_id=catalog.tenant_id,
        catalog_id=catalog.pk,
        ids=[product.pk],
        unavailable=[product.pk],
        issues=issue,
        started=now,
        now=now,
        seen=[seen],
    )
    if write is review._pg_rewrite:
        with connection.cursor() as cur:
            write(cur.cursor, chunk)
    else:
        write(catalog.tenant, chunk)
    product.refresh_from_db()
    expected = ReviewStatus.AVAILABLE if changed_meanwhile else ReviewStatus.UNAVAILABLE
    assert product.review_status == expected
    assert _claim_issues(catalog) == (set() if changed_meanwhile else {"tonic-0"})


def test_a_review_that_read_the_rules_before_a_change_puts_its_catalog_back(catalog, tenant_a):
    DeniedClaim.objects.create(phrase=CLAIM, category="health claims")
    services.review_rules_changed()
    services.rules_rereview_all()
    assert services.catalogs_behind_rules() == []
    # a feed run that started (and read the rules) before the change ends after the re-review
    started = ReviewSettings.current().rules_changed_at - timedelta(seconds=5)
    assert services.rules_read_before_change(tenant=tenant_a, catalog=catalog, read_at=started)
    assert services.catalogs_behind_rules() == [(tenant_a, catalog)]
    services.rules_rereview_all()
    assert services.catalogs_behind_rules() == []
    later = timezone.now()
    assert not services.rules_read_before_change(tenant=tenant_a, catalog=catalog, read_at=later)


def test_the_periodic_check_queues_a_re_review_still_owed(
    catalog, dead_broker, caplog, django_capture_on_commit_callbacks
):
    """The change's own message was lost (the broker was down): the periodic check sends
    it again while a catalog is behind, and stops once none is."""
    DeniedClaim.objects.create(phrase=CLAIM, category="health claims")
    with django_capture_on_commit_callbacks(execute=True):
        services.review_rules_changed()
    assert "re-review after a rules change not queued" in caplog.text
    caplog.clear()
    tasks.check_all()
    assert "re-review after a rules change not queued" in caplog.text
    caplog.clear()
    services.rules_rereview_all()
    tasks.check_all()
    assert "re-review after a rules change" not in caplog.text


def test_a_web_process_hands_the_re_review_to_the_broker():
    """The admin runs in a web process, which imports no task module itself: the re-review
    is still sent (here to a broker that is down, so it says so instead of failing the
    request)."""
    code = (
        "import django; django.setup(); from ecr import services; "
        "print(services.rules_rereview_enqueue())"
    )
    env = {**os.environ, "CELERY_BROKER_URL": "redis://127.0.0.1:1/0"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "False"
    assert "re-review after a rules change not queued" in done.stderr


def test_run_review_rules_changed_for_edits_made_outside_admin(catalog, tenant_a):
    from io import StringIO

    from django.core.management import call_command

    DeniedClaim.objects.create(phrase=CLAIM, category="health claims")  # e.g. loaddata
    out = StringIO()
    call_command("run_review", "--rules-changed", stdout=out)
    assert "reviewed 30 products again" in out.getvalue()
    assert _claim_issues(catalog) == {f"tonic-{i}" for i in range(8)}
    assert services.catalogs_behind_rules() == []
