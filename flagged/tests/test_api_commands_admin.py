"""API (bulk upserts, flagged list and detail, schema), commands, admin audit trail and
rescore action, the digest and the task — against real PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from catalog_health.tenancy.roles import Role
from catalogs.models import DailyImpression, Order
from catalogs.order_io import ORDER_COLUMNS
from catalogs.tests.factories import CatalogFactory, ProductFactory
from catalogs.tests.order_factories import OrderFactory
from flagged.models import FlagState, FlagTransition, MetricPolicy, PolicyChange
from flagged.scoring import FlagStatus
from flagged.services import digest_send, flags_score
from flagged.tasks import score_tenant

pytestmark = pytest.mark.django_db


def order_item(i, sku, **extra):
    now = timezone.now()
    return {
        "order_id": f"API-{i}",
        "sku": sku,
        "quantity": 1,
        "item_price": "20.00",
        "shipping_fee": "1.00",
        "placed_at": (now - timedelta(days=5)).isoformat(),
        "ship_by": (now - timedelta(days=3)).isoformat(),
        "shipped_at": None,
        "tracking_number": None,
        **extra,
    }


def test_api_bulk_orders_idempotent_with_row_errors(api_client_for, member, tenant_a):
    catalog = CatalogFactory(tenant=tenant_a)
    product = ProductFactory(catalog=catalog, sku="A-1")
    api = api_client_for(member(tenant_a, Role.SELLER), tenant_a)
    items = [order_item(i, "A-1") for i in range(12)]
    items.append(order_item(99, "NOPE"))
    items.append({**order_item(100, "A-1"), "placed_at": "yesterday"})
    body = {"catalog": catalog.pk, "orders": items}
    first = api.post("/api/v1/orders/bulk/", body, format="json")
    assert first.status_code == 200, first.content
    assert first.json()["written"] == 12
    assert [(e["index"], e["field"]) for e in first.json()["errors"]] == [
        (12, "sku"),
        (13, "placed_at"),
    ]
    again = api.post("/api/v1/orders/bulk/", body, format="json")
    assert (again.json()["written"], again.json()["unchanged"]) == (0, 12)
    assert Order.objects.for_tenant(tenant_a).count() == 12
    flags_score(tenant=tenant_a)  # 12 of 12 overdue
    listed = api.get("/api/v1/flagged-products/", {"status": "impacted"}).json()["results"]
    assert [r["sku"] for r in listed] == ["A-1"]
    assert listed[0]["reasons"] == ["Overdue unshipped rate 100% (target 4%)"]
    assert api.get("/api/v1/flagged-products/", {"status": "resolved"}).json()["results"] == []
    detail = api.get(f"/api/v1/flagged-products/{product.pk}/").json()
    metric = next(m for m in detail["metrics"] if m["metric"] == "overdue_unshipped_rate")
    assert (metric["numerator"], metric["denominator"], metric["level"]) == (12, 12, "impacted")
    assert [h["to_status"] for h in detail["history"]] == ["impacted"]


def test_api_bulk_needs_manage_orders_and_own_catalog(api_client_for, member, tenant_a, tenant_b):
    catalog = CatalogFactory(tenant=tenant_a)
    viewer = api_client_for(member(tenant_a, Role.VIEWER), tenant_a)
    body = {"catalog": catalog.pk, "orders": []}
    assert viewer.post("/api/v1/orders/bulk/", body, format="json").status_code == 403
    seller = api_client_for(member(tenant_a, Role.SELLER), tenant_a)
    foreign = CatalogFactory(tenant=tenant_b)
    response = seller.post(
        "/api/v1/orders/bulk/", {"catalog": foreign.pk, "orders": []}, format="json"
    )
    assert response.status_code == 404
    response = seller.post("/api/v1/orders/bulk/", {"orders": "x"}, format="json")
    assert response.status_code == 400


def test_api_bulk_impressions(api_client_for, member, tenant_a):
    catalog = CatalogFactory(tenant=tenant_a)
    ProductFactory(catalog=catalog, sku="I-1")
    api = api_client_for(member(tenant_a, Role.SELLER), tenant_a)
    rows = [{"sku": "I-1", "date": "2026-03-01", "impressions": 10, "clicks": 1}] * 2
    rows.append({"sku": "I-1", "date": "2026-03-02", "impressions": 1, "clicks": 5})
    response = api.post(
        "/api/v1/impressions/bulk/", {"catalog": catalog.pk, "impressions": rows}, format="json"
    )
    assert response.json()["written"] == 1  # a repeated (sku, date): the last one wins
    assert response.json()["errors"][0]["field"] == "clicks"
    assert DailyImpression.objects.for_tenant(tenant_a).count() == 1


def test_openapi_schema_lists_the_routes(client, django_user_model):
    response = client.get(reverse("schema"))
    text = response.content.decode()
    for route in ("/api/v1/orders/bulk/", "/api/v1/impressions/bulk/", "/api/v1/flagged-products/"):
        assert route in text


def test_import_commands(tmp_path, tenant_a):
    catalog = CatalogFactory(tenant=tenant_a)
    ProductFactory(catalog=catalog, sku="C-1")
    path = tmp_path / "orders.csv"
    path.write_text(
        ",".join(ORDER_COLUMNS)
        + "\nX1,C-1,1,10.00,,2026-03-01T10:00:00Z,2026-03-03T10:00:00Z,,,,,\n"
        + "X2,C-1,1,10.00,,,2026-03-03T10:00:00Z,,,,,\n"
        + "X3,C-1,1,10.00,,2026-03-01T10:00:00Z,,,,,,\n"  # ship-by from the handling time
    )
    out, err = StringIO(), StringIO()
    call_command("import_orders", "--catalog", catalog.pk, str(path), stdout=out, stderr=err)
    assert "2 order rows saved, 0 unchanged, 1 refused" in out.getvalue()
    assert "line 3, placed_at: is required" in err.getvalue()
    imp = tmp_path / "imp.csv"
    imp.write_text("sku,date,impressions,clicks\nC-1,2026-03-01,100,3\n")
    call_command("import_impressions", "--catalog", catalog.pk, str(imp), stdout=out)
    assert DailyImpression.objects.for_tenant(tenant_a).get().impressions == 100
    with pytest.raises(CommandError, match="Wrong columns"):
        call_command("import_impressions", "--catalog", catalog.pk, str(path))
    with pytest.raises(CommandError, match="No catalog"):
        call_command("import_orders", "--catalog", 999999, str(path))


def test_score_flags_command(tenant_a, tenant_b):
    product = ProductFactory(catalog__tenant=tenant_a)
    now = timezone.now()
    for _ in range(10):
        OrderFactory(product=product, ship_by=now - timedelta(days=1), shipped_at=None)
    out = StringIO()
    call_command("score_flags", "--tenant", tenant_a.slug, stdout=out)
    assert f"{tenant_a.slug}: 1 states changed, 1 transitions" in out.getvalue()
    call_command("score_flags", stdout=out)
    assert f"{tenant_b.slug}: 0 states changed" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("score_flags", "--tenant", "nope")


def test_admin_policy_change_is_audited_and_rescore_applies_it(admin_client, admin_user, tenant_a):
    product = ProductFactory(catalog__tenant=tenant_a)
    now = timezone.now()
    for i in range(100):  # 3% late: At risk with defaults
        OrderFactory(
            product=product,
            placed_at=now - timedelta(days=5),
            ship_by=now - timedelta(days=3),
            shipped_at=now - timedelta(days=2 if i < 3 else 4),
        )
    flags_score(tenant=tenant_a)
    assert FlagState.objects.for_tenant(tenant_a).get().status == FlagStatus.AT_RISK
    policy = MetricPolicy.objects.get(metric="late_dispatch_rate")
    url = reverse("admin:flagged_metricpolicy_change", args=[policy.pk])
    form = {
        "metric": "late_dispatch_rate",
        "enabled": "on",
        "window_days": 30,
        "min_orders": 10,
        "at_risk_threshold": "1.00",
        "target": "2.00",
        "how_to_fix": "Ship on time.",
    }
    bad = admin_client.post(url, {**form, "at_risk_threshold": "3.00"})
    assert bad.status_code == 200 and "at or below the target" in bad.content.decode()
    assert admin_client.post(url, form).status_code == 302
    change = PolicyChange.objects.get()
    assert change.actor == admin_user
    assert change.changes["target"] == ["4.00", "2.00"]
    changelist = reverse("admin:flagged_metricpolicy_changelist")
    admin_client.post(
        changelist, {"action": "rescore_now", "_selected_action": [policy.pk]}, follow=True
    )
    assert FlagState.objects.for_tenant(tenant_a).get().status == FlagStatus.IMPACTED


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"window_days": "1000000"}, "window_days"),  # scoring could not compute its start
        ({"window_days": "0"}, "window_days"),
        ({"fee_amount": "-1"}, "fee_amount"),
        ({"fee_ratio_percent": "-25"}, "fee_ratio_percent"),
    ],
)
def test_admin_refuses_a_policy_scoring_cannot_use(admin_client, tenant_a, changes, field):
    policy = MetricPolicy.objects.get(metric="high_shipping_fee_rate")
    url = reverse("admin:flagged_metricpolicy_change", args=[policy.pk])
    form = {
        "metric": "high_shipping_fee_rate",
        "enabled": "on",
        "window_days": 30,
        "min_orders": 10,
        "at_risk_threshold": "5.00",
        "target": "10.00",
        "fee_ratio_percent": "25.00",
        "fee_amount": "20.00",
        "how_to_fix": "",
    }
    response = admin_client.post(url, {**form, **changes})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field]
    policy.refresh_from_db()
    assert (policy.window_days, policy.fee_amount) == (30, Decimal("20.00"))
    flags_score(tenant=tenant_a)  # the policy in force still scores


def test_digest_mails_sellers_new_impacted_and_at_risk(member, tenant_a):
    seller = member(tenant_a, Role.SELLER)
    member(tenant_a, Role.VIEWER)
    product = ProductFactory(catalog__tenant=tenant_a, sku="DIG-1", title="Blue kettle")
    now = timezone.now()
    for _ in range(10):
        OrderFactory(product=product, ship_by=now - timedelta(days=1), shipped_at=None)
    flags_score(tenant=tenant_a, now=now)
    assert digest_send(tenant=tenant_a, now=now + timedelta(hours=1)) == 1
    msg = mail.outbox[-1]
    assert msg.to == [seller.email]
    assert "1 Impacted, 0 At risk" in msg.subject
    assert "DIG-1 Blue kettle: Overdue unshipped rate 100% (target 4%)" in msg.body
    assert digest_send(tenant=tenant_a, now=now + timedelta(days=2)) == 0  # nothing new


def test_task_is_thin_and_idempotent(tenant_a):
    product = ProductFactory(catalog__tenant=tenant_a)
    for _ in range(10):
        OrderFactory(product=product, ship_by=timezone.now() - timedelta(days=1), shipped_at=None)
    assert score_tenant.run(tenant_id=tenant_a.pk)["transitions"] == 1
    assert score_tenant.run(tenant_id=tenant_a.pk)["transitions"] == 0
    assert FlagTransition.objects.for_tenant(tenant_a).count() == 1
    assert score_tenant.run(tenant_id=987654)["skipped"]


def test_policy_fee_amount_used_by_sql(tenant_a):
    product = ProductFactory(catalog__tenant=tenant_a)
    for i in range(10):
        OrderFactory(
            product=product, item_price=Decimal("500"), shipping_fee=Decimal("25") if i < 2 else 0
        )
    flags_score(tenant=tenant_a)
    state = FlagState.objects.for_tenant(tenant_a).get()
    assert (state.fee_num, state.fee_den, state.status) == (2, 10, FlagStatus.IMPACTED)


def test_the_policy_trail_keeps_who_changed_a_policy_after_their_account_is_deleted(
    admin_client, user_factory
):
    """Like the tenants' audit trail: a deleted account's changes read "ann (deleted user)",
    not "None" (the actor link is cleared with the account)."""
    from flagged.services import policy_save, policy_snapshot

    ann = user_factory("ann", is_staff=True)
    policy = MetricPolicy.objects.get(metric="late_dispatch_rate")
    policy.target = Decimal("3.00")
    policy_save(policy=policy, actor=ann, previous=policy_snapshot(policy))
    ann.delete()
    change = PolicyChange.objects.get()
    assert change.actor is None and change.actor_username == "ann"
    assert "by ann (deleted user)" in str(change)
    page = admin_client.get(reverse("admin:flagged_policychange_changelist")).content.decode()
    assert "ann (deleted user)" in page
