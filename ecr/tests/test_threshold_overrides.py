"""Per-catalog ECR threshold overrides as staff set them in admin and as the ECR tab shows
them: an enable threshold below the disable threshold that applies would be raised to it,
so admin refuses it, and a row already like that shows the raised value and says so."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.urls import reverse

from ecr import state
from ecr.models import CatalogEcrState, ReviewSettings
from ecr.tests.factories import CatalogFactory, EcrStateFactory
from ecr.tests.test_rules_changes import SETTINGS_FORM

# global disable, global enable, disable override, enable override ->
# (disable applied, enable applied, enable as set, raised, conflicting field or None)
CASES = [
    ("0.8", "0.9", None, None, ("0.8", "0.9", "0.9", False, None)),
    ("0.8", "0.9", None, "0.85", ("0.8", "0.85", "0.85", False, None)),
    ("0.8", "0.9", None, "0.8", ("0.8", "0.8", "0.8", False, None)),  # equal: no band
    ("0.8", "0.9", None, "0.7", ("0.8", "0.8", "0.7", True, "enable_threshold_override")),
    ("0.8", "0.9", "0.5", "0.7", ("0.5", "0.7", "0.7", False, None)),
    ("0.8", "0.9", "0.95", None, ("0.95", "0.95", "0.9", True, "disable_threshold_override")),
    ("0.8", "0.9", "0.9", "0.85", ("0.9", "0.9", "0.85", True, "enable_threshold_override")),
    ("0.8", "0.9", "0", "0", ("0", "0", "0", False, None)),
    ("0.8", "0.9", "1", "1", ("1", "1", "1", False, None)),
]


@pytest.mark.parametrize(("gd", "ge", "do", "eo", "expected"), CASES)
def test_thresholds_applied_and_conflicts(gd, ge, do, eo, expected):
    disable, enable, as_set, raised, field = expected
    kwargs = {
        "global_disable": D(gd),
        "global_enable": D(ge),
        "disable_override": None if do is None else D(do),
        "enable_override": None if eo is None else D(eo),
    }
    applied = state.thresholds_applied(**kwargs, min_products=20)
    assert applied.thresholds.disable == D(disable)
    assert applied.thresholds.enable == D(enable)
    assert applied.enable_as_set == D(as_set)
    assert applied.enable_raised is raised
    conflict = state.override_conflict(**kwargs)
    assert (conflict[0] if conflict else None) == field


def test_a_conflict_names_both_values():
    field, message = state.override_conflict(
        global_disable=D("0.8"),
        global_enable=D("0.9"),
        disable_override=None,
        enable_override=D("0.7"),
    )
    assert field == "enable_threshold_override"
    assert "0.700" in message and "0.800" in message and "global setting" in message
    _, message = state.override_conflict(
        global_disable=D("0.8"),
        global_enable=D("0.9"),
        disable_override=D("0.95"),
        enable_override=None,
    )
    assert "0.950" in message and "0.900" in message


# --- admin --------------------------------------------------------------------------


@pytest.fixture
def staff_client(client, user_factory):
    client.force_login(user_factory("staffer", is_staff=True, is_superuser=True))
    return client


def _override_form(disable: str, enable: str) -> dict:
    return {"disable_threshold_override": disable, "enable_threshold_override": enable}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("disable", "enable", "shown"),
    [
        ("", "0.700", ("0.700", "0.800")),  # below the global disable threshold
        ("", "0.05", ("0.050", "0.800")),
        ("0.950", "", ("0.950", "0.900")),  # above the global enable threshold
        ("0.900", "0.850", ("0.850", "0.900")),
    ],
)
def test_admin_refuses_an_override_that_would_be_raised(
    staff_client, tenant_a, disable, enable, shown
):
    row = EcrStateFactory(catalog=CatalogFactory(tenant=tenant_a))
    response = staff_client.post(
        f"/admin/ecr/catalogecrstate/{row.pk}/change/", _override_form(disable, enable)
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert all(value in html for value in shown), html
    row.refresh_from_db()
    assert row.disable_threshold_override is None and row.enable_threshold_override is None


@pytest.mark.django_db
def test_admin_takes_overrides_that_apply_as_set(staff_client, tenant_a):
    row = EcrStateFactory(catalog=CatalogFactory(tenant=tenant_a))
    response = staff_client.post(
        f"/admin/ecr/catalogecrstate/{row.pk}/change/", _override_form("0.500", "0.700")
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.disable_threshold_override, row.enable_threshold_override) == (
        D("0.5"),
        D("0.7"),
    )


@pytest.mark.django_db
def test_raising_the_global_disable_threshold_names_the_catalogs_raised(staff_client, tenant_a):
    low = EcrStateFactory(
        catalog=CatalogFactory(tenant=tenant_a, name="Clearance"),
        enable_threshold_override=D("0.820"),
    )
    EcrStateFactory(
        catalog=CatalogFactory(tenant=tenant_a, name="Main"),
        enable_threshold_override=D("0.950"),
    )
    settings = ReviewSettings.current()
    response = staff_client.post(
        f"/admin/ecr/reviewsettings/{settings.pk}/change/",
        {**SETTINGS_FORM, "disable_threshold": "0.850"},
        follow=True,
    )
    html = response.content.decode()
    assert ReviewSettings.current().disable_threshold == D("0.85")
    assert "Clearance" in html and "0.820" in html and "0.850" in html
    assert "Main" not in html.split("Clearance")[1][:300]
    low.refresh_from_db()
    assert low.enable_threshold_override == D("0.82")  # kept: it applies again if lowered


# --- ECR tab ------------------------------------------------------------------------


def _ecr_tab(tenant, catalog) -> str:
    return reverse("ecr:catalog_ecr", kwargs={"tenant_slug": tenant.slug, "catalog_id": catalog.pk})


@pytest.mark.django_db
def test_ecr_tab_shows_the_enable_threshold_applied_and_that_it_was_raised(
    client_for, member, tenant_a
):
    catalog = CatalogFactory(tenant=tenant_a)
    # saved before admin refused it (or outside admin)
    CatalogEcrState.objects.create(
        tenant=tenant_a, catalog=catalog, enable_threshold_override=D("0.700")
    )
    html = client_for(member(tenant_a, "viewer")).get(_ecr_tab(tenant_a, catalog)).content.decode()
    back_on = html.split("Turns back on at")[1].split("</dd>")[0]
    assert "80%" in back_on and "70%" in back_on and "raised" in back_on
    assert "(this catalog)" not in back_on


@pytest.mark.django_db
def test_ecr_tab_marks_an_override_used_as_set(client_for, member, tenant_a):
    catalog = CatalogFactory(tenant=tenant_a)
    CatalogEcrState.objects.create(
        tenant=tenant_a, catalog=catalog, enable_threshold_override=D("0.850")
    )
    html = client_for(member(tenant_a, "viewer")).get(_ecr_tab(tenant_a, catalog)).content.decode()
    back_on = html.split("Turns back on at")[1].split("</dd>")[0]
    assert "85%" in back_on and "(this catalog)" in back_on and "raised" not in back_on
