"""Browser: words that tell things apart. Stock and ad review are labelled as such on the
product list and page; the members page's activity reads as sentences with each run's state
now; each reason on the Flagged products tab says whether it makes the row Impacted or only
At risk."""

import pytest

from catalog_health.tenancy.roles import Role
from catalog_health.tenancy.services import audit_record
from catalogs.models import Availability, ReviewStatus
from catalogs.tests.factories import CatalogFactory, ProductFactory
from feeds.models import FeedRun
from feeds.tests.factories import FeedRunFactory
from flagged.scoring import FlagStatus, Level
from flagged.tests.factories import FlagStateFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def owner(member, tenant_a, login):
    user = member(tenant_a, Role.OWNER, username="olive")
    user.set_password("owner-pass-1")
    user.save()
    login("olive", "owner-pass-1")
    return user


def test_stock_and_ad_review_are_told_apart(page, live_server, screenshot, owner, tenant_a):
    catalog = CatalogFactory(tenant=tenant_a, name="Shop")
    mug = ProductFactory(
        catalog=catalog,
        title="Blue mug",
        image_link="",
        availability=Availability.OUT_OF_STOCK,
        review_status=ReviewStatus.AVAILABLE,
    )
    page.goto(f"{live_server.url}/t/{tenant_a.slug}/catalogs/{catalog.pk}/")
    headers = page.locator("#product-table thead th").all_inner_texts()
    assert "Stock" in headers and "Ad review" in headers and "Availability" not in headers
    page.get_by_role("link", name="Blue mug").click()
    assert page.locator("[data-badge=stock]").inner_text() == "Stock: Out of stock"
    assert page.locator("[data-badge=review]").inner_text() == "Ad review: Available"
    screenshot("product-stock-and-ad-review", full_page=False)
    assert mug.pk


def test_members_activity_reads_as_sentences(page, live_server, screenshot, owner, tenant_a):
    run = FeedRunFactory(source__catalog__tenant=tenant_a, status="queued")
    audit_record(tenant=tenant_a, actor=owner, action="feed_run.requested", target=run)
    FeedRun.objects.filter(pk=run.pk).update(status="succeeded")
    catalog = CatalogFactory(tenant=tenant_a, name="Outlet")
    audit_record(
        tenant=tenant_a, actor=None, action="ecr.disabled", target=catalog, changes={"ratio": 0.7}
    )
    page.goto(f"{live_server.url}/t/{tenant_a.slug}/members/")
    activity = page.locator("#activity")
    text = activity.inner_text()
    assert "ecr.disabled" not in text and "feed_run.requested" not in text
    assert "ECR switched off for Outlet (70% Available)" in text
    row = activity.locator("tr", has_text="Requested data now")
    assert (
        row.locator("[data-cell=sentence]").inner_text() == f"Requested data now: Run #{run.number}"
    )
    assert row.locator("[data-cell=state]").inner_text() == "Succeeded"
    screenshot("members-activity")


def test_flagged_reasons_say_their_level(page, live_server, screenshot, owner, tenant_a):
    FlagStateFactory(
        product=ProductFactory(catalog__tenant=tenant_a, title="Kettle", image_link=""),
        status=FlagStatus.IMPACTED,
        overdue_level=Level.IMPACTED,
        late_num=3,
        late_den=100,
        late_level=Level.AT_RISK,
    )
    page.goto(f"{live_server.url}/t/{tenant_a.slug}/flagged/")
    reasons = page.locator("#flagged-table tbody tr", has_text="Kettle").locator("[data-level]")
    assert reasons.count() == 2
    first, second = reasons.nth(0).inner_text(), reasons.nth(1).inner_text()
    assert first.startswith("Impacted") and "Overdue unshipped rate" in first
    assert second.startswith("At risk") and "Late dispatch rate" in second
    screenshot("flagged-reason-levels", full_page=False)
