import pytest
from django.core.exceptions import ValidationError

from catalog_health.tenancy.currencies import ISO_4217_CODES, currency_code, validate_currency


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("USD", "USD"),
        ("usd", "USD"),
        ("Eur", "EUR"),
        (" gbp ", "GBP"),
        ("XOF", "XOF"),
        ("jpy", "JPY"),
    ],
)
def test_codes_are_stored_in_capitals(typed, stored):
    assert currency_code(typed) == stored


@pytest.mark.parametrize(
    "typed",
    ["US$", "", "   ", "EURO", "US", "XYZ", "XAU", "XXX", "u s d", "ußd", "ＵＳＤ", None, 840],
)
def test_anything_but_an_iso_4217_code_is_refused(typed):
    with pytest.raises(ValidationError, match="ISO 4217"):
        currency_code(typed)


@pytest.mark.parametrize(("value", "ok"), [("USD", True), ("usd", False), ("US$", False)])
def test_the_model_validator_wants_the_stored_form(value, ok):
    if ok:
        validate_currency(value)
    else:
        with pytest.raises(ValidationError):
            validate_currency(value)


def test_the_table_holds_three_capital_letters_only():
    assert all(len(c) == 3 and c.isascii() and c.isupper() for c in ISO_4217_CODES)
    assert {"USD", "EUR", "GBP", "BRL", "JPY", "INR"} <= ISO_4217_CODES


@pytest.mark.django_db
def test_tenant_admin_capitalises_and_refuses_like_the_catalogs(admin_client, tenant_a):
    from django.urls import reverse

    from catalog_health.tenancy.models import Tenant

    url = reverse("admin:tenancy_tenant_change", args=[tenant_a.pk])
    data = {
        "name": tenant_a.name,
        "slug": tenant_a.slug,
        "time_zone": "UTC",
        "date_order": "",
        "memberships-TOTAL_FORMS": 0,
        "memberships-INITIAL_FORMS": 0,
    }
    bad = admin_client.post(url, {**data, "currency": "US$"})
    assert bad.status_code == 200
    assert "ISO 4217" in str(bad.context["adminform"].form.errors["currency"])
    assert admin_client.post(url, {**data, "currency": "eur"}).status_code == 302
    assert Tenant.objects.get(pk=tenant_a.pk).currency == "EUR"
