"""Journey 4, in a real browser: a staff admin tunes thresholds in Django admin.

The seller's product ships 3% of its orders late (At risk under the default 4% target) and the
catalog has 85% of its products Available (ECR on under the default 80% disable threshold).
The staff admin lowers the late-dispatch target to 2% and raises the ECR disable threshold to
88% in Django admin, runs "Rescore now", and the periodic ECR check runs (as beat runs it).
The seller's Flagged products tab now shows the product Impacted and the catalog shows the
ECR-off banner with the new threshold; the admin's audit trail shows who changed what.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from catalog_health.tenancy.models import AuditEvent
from catalog_health.tenancy.roles import Role
from catalogs.tests.order_factories import OrderFactory
from ecr import services as ecr_services
from ecr import tasks as ecr_tasks
from ecr.models import CatalogEcrState, ReviewSettings
from ecr.tests.factories import CatalogFactory, PendingProductFactory
from flagged.models import FlagState, MetricPolicy, PolicyChange
from flagged.scoring import FlagStatus, Metric
from flagged.services import flags_score

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SELLER_PASSWORD = "seller-pass-4"
STAFF_PASSWORD = "staff-pass-4"


def build_shop(tenant):
    # The global defaults come from a data migration; a transactional test before this one
    # may have flushed them, so make sure they are there (as a fresh install has them).
    for metric in Metric:
        MetricPolicy.objects.get_or_create(
            metric=metric.value, defaults=MetricPolicy.default_values(metric)
        )
    ReviewSettings.objects.all().delete()
    ReviewSettings.current()  # defaults: off below 80%, back on at 90%
    catalog = CatalogFactory(tenant=tenant, name="Main store")
    good = PendingProductFactory.create_batch(17, catalog=catalog, tenant=tenant)
    PendingProductFactory.create_batch(3, catalog=catalog, tenant=tenant, price=Decimal("0"))
    review = ecr_services.review_after_feed_run(tenant=tenant, catalog=catalog)
    assert (review.available, review.ecr_enabled) == (17, True)  # 85%
    lamp = good[0]
    lamp.title = "Desk lamp"
    lamp.save(update_fields=["title"])
    now = timezone.now()
    for i in range(100):  # 3 of 100 shipped after their ship-by date
        OrderFactory(
            product=lamp,
            placed_at=now - timedelta(days=5),
            ship_by=now - timedelta(days=3),
            shipped_at=now - timedelta(days=2 if i < 3 else 4),
        )
    flags_score(tenant=tenant)
    assert FlagState.objects.for_tenant(tenant).get(product=lamp).status == FlagStatus.AT_RISK
    return catalog, lamp


def test_staff_changes_thresholds_and_seller_sees_the_effect(
    page, live_server, login, screenshot, member, user_factory, tenant_a
):
    seller = member(tenant_a, Role.SELLER, username="selma")
    seller.set_password(SELLER_PASSWORD)
    seller.save()
    staff = user_factory("stella", is_staff=True, is_superuser=True)
    staff.set_password(STAFF_PASSWORD)
    staff.save()
    catalog, _lamp = build_shop(tenant_a)
    catalog_url = f"{live_server.url}/t/{tenant_a.slug}/catalogs/{catalog.pk}/"

    # Before: the seller's lamp is At risk, the catalog has no ECR banner.
    login("selma", SELLER_PASSWORD)
    page.get_by_role("link", name="Flagged products").click()
    assert page.locator('[data-counter="at_risk"]').inner_text() == "1"
    assert page.locator('[data-counter="impacted"]').inner_text() == "0"
    assert "Late dispatch rate 3% (target 4%)" in page.locator("#flagged-table").inner_text()
    screenshot("journey4-1-seller-tab-before")
    page.goto(catalog_url)
    assert page.locator("#ecr-banner").count() == 0
    page.context.clear_cookies()

    # The staff admin signs in to Django admin.
    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", "stella")
    page.fill("#id_password", STAFF_PASSWORD)
    page.locator("input[type=submit]").click()
    page.wait_for_selector("#site-name")

    # Metric policy: late dispatch target 4% -> 2% (at risk from 1%).
    page.get_by_role("link", name="Metric policies (global defaults)").click()
    page.locator("#result_list").get_by_role("link", name="Late dispatch rate").click()
    page.fill("#id_at_risk_threshold", "1.00")
    page.fill("#id_target", "2.00")
    screenshot("journey4-2-admin-metric-policy")
    page.locator("input[name=_save]").click()
    page.wait_for_selector(".messagelist .success")
    # Rescore now (the admin action), on the policy list.
    row = page.locator("#result_list tbody tr").filter(has_text="Late dispatch rate")
    row.locator("input.action-select").check()
    page.select_option("select[name=action]", "rescore_now")
    page.locator("button[name=index]").click()
    expect(page.locator(".messagelist .success")).to_contain_text(
        "Rescored 1 tenant(s): 1 product status(es) changed."
    )
    screenshot("journey4-3-admin-rescored")

    # Review settings: ECR disable threshold 80% -> 88%.
    page.goto(f"{live_server.url}/admin/")
    page.get_by_role("link", name="Review settings").click()
    page.get_by_role("link", name="Review and ECR settings").click()
    page.fill("#id_disable_threshold", "0.880")
    page.locator("input[name=_save]").click()
    page.wait_for_selector(".messagelist .success")
    assert ReviewSettings.current().disable_threshold == Decimal("0.880")
    # The ECR check (beat's ecr-check task; the admin has no button for it).
    assert ecr_tasks.check_all() == 1
    assert not CatalogEcrState.objects.for_tenant(tenant_a).get(catalog=catalog).enabled

    # The audit trail: policy changes (old -> new, who) and the settings' admin history.
    page.goto(f"{live_server.url}/admin/flagged/policychange/")
    trail = page.locator("#result_list").inner_text()
    assert "stella" in trail and "Late dispatch rate" in trail and "changed" in trail
    screenshot("journey4-4-admin-policy-changes")
    change = PolicyChange.objects.get(metric=Metric.LATE_DISPATCH, action="changed")
    assert change.actor == staff
    assert change.changes["target"] == ["4.00", "2.00"]
    assert change.changes["at_risk_threshold"] == ["2.00", "1.00"]
    settings_id = ReviewSettings.current().pk
    page.goto(f"{live_server.url}/admin/ecr/reviewsettings/{settings_id}/history/")
    history = page.locator("#change-history").inner_text()
    assert "stella" in history and "Disable threshold" in history
    screenshot("journey4-5-admin-review-settings-history")
    # The project's audit log has the threshold change with its old and new value.
    page.goto(f"{live_server.url}/admin/tenancy/auditevent/?action=ecr.settings_changed")
    audit = page.locator("#result_list").inner_text()
    assert "stella" in audit and "ecr.settings_changed" in audit
    page.locator("#result_list tbody tr").first.get_by_role("link").first.click()
    expect(page.locator(".field-changes")).to_contain_text('["0.800", "0.880"]')
    screenshot("journey4-5b-admin-audit-event")
    event = AuditEvent.objects.get(action="ecr.settings_changed")
    assert event.actor == staff
    assert event.changes == {"disable_threshold": ["0.800", "0.880"]}
    page.context.clear_cookies()

    # After: the seller's lamp is Impacted, the catalog shows the ECR-off banner.
    login("selma", SELLER_PASSWORD)
    page.get_by_role("link", name="Flagged products").click()
    assert page.locator('[data-counter="impacted"]').inner_text() == "1"
    assert page.locator('[data-counter="at_risk"]').inner_text() == "0"
    page.locator("ul.nav-tabs").get_by_role("link", name="Impacted", exact=True).click()
    table = page.locator("#flagged-table").inner_text()
    assert "Desk lamp" in table and "Late dispatch rate 3% (target 2%)" in table
    screenshot("journey4-6-seller-tab-after")
    page.goto(catalog_url)
    text = " ".join(page.locator("#ecr-banner").inner_text().split())
    assert "Only 85% of its active products are Available (17 of 20)" in text
    assert "turns off below 88%" in text and "back on at 90%" in text
    screenshot("journey4-7-catalog-banner-after")
    # The catalog's ECR history says when and under which thresholds it turned off.
    page.locator("#ecr-banner").get_by_role("link", name="ECR details").click()
    expect(page.locator("#ecr-status")).to_have_text("Disabled")
    event = page.locator("#ecr-events tbody tr").first.inner_text()
    assert "turned off" in event and "85%" in event and "88% / 90%" in event
    page.wait_for_selector('[data-figure="ratio-fig"] .main-svg')
    screenshot("journey4-8-ecr-history")
