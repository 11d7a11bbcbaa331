"""A catalog's currency is an ISO 4217 code in capitals, whichever way it is written: the
service, the catalog page's form, Django admin; old lower-case rows are capitalised."""

import importlib

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import escape

from catalog_health.tenancy.roles import Role
from catalogs import services
from catalogs.models import Catalog

from .factories import CatalogFactory

pytestmark = pytest.mark.django_db

BAD = ["US$", "", "EURO", "XYZ", "12", "U$D"]


@pytest.mark.parametrize(("typed", "stored"), [("usd", "USD"), ("Eur", "EUR"), ("GBP", "GBP")])
def test_create_stores_the_code_in_capitals(tenant_a, typed, stored):
    catalog = services.catalog_create(tenant=tenant_a, actor=None, name="Shop", currency=typed)
    catalog.refresh_from_db()
    assert catalog.currency == stored


@pytest.mark.parametrize("typed", BAD)
def test_create_refuses_what_is_not_a_currency(tenant_a, typed):
    with pytest.raises(ValidationError) as exc:
        services.catalog_create(tenant=tenant_a, actor=None, name="Shop", currency=typed)
    assert "ISO 4217" in exc.value.message_dict["currency"][0]
    assert not Catalog.objects.for_tenant(tenant_a).exists()


def test_create_without_a_currency_takes_the_tenants(tenant_b):
    catalog = services.catalog_create(tenant=tenant_b, actor=None, name="Shop")
    assert catalog.currency == "EUR"


@pytest.mark.parametrize(("typed", "stored"), [("usd", "USD"), ("brl", "BRL")])
def test_update_stores_the_code_in_capitals(tenant_a, typed, stored):
    catalog = CatalogFactory(tenant=tenant_a, currency="EUR")
    services.catalog_update(tenant=tenant_a, catalog=catalog, actor=None, data={"currency": typed})
    catalog.refresh_from_db()
    assert catalog.currency == stored


@pytest.mark.parametrize("typed", BAD)
def test_update_refuses_what_is_not_a_currency_and_keeps_the_old_one(tenant_a, typed):
    catalog = CatalogFactory(tenant=tenant_a, currency="EUR")
    with pytest.raises(ValidationError) as exc:
        services.catalog_update(
            tenant=tenant_a, catalog=catalog, actor=None, data={"currency": typed}
        )
    assert "ISO 4217" in exc.value.message_dict["currency"][0]
    catalog.refresh_from_db()
    assert catalog.currency == "EUR"


def test_an_old_bad_currency_does_not_block_other_settings(tenant_a):
    """A catalog saved before currencies were checked can still get its handling time."""
    catalog = CatalogFactory(tenant=tenant_a)
    Catalog.objects.filter(pk=catalog.pk).update(currency="US$")
    catalog.refresh_from_db()
    services.catalog_update(tenant=tenant_a, catalog=catalog, actor=None, data={"handling_days": 5})
    catalog.refresh_from_db()
    assert catalog.handling_days == 5


def _list_url(tenant):
    return reverse("catalogs:catalog_list", kwargs={"tenant_slug": tenant.slug})


def test_page_form_capitalises_a_lower_case_code(client, member, tenant_a):
    client.force_login(member(tenant_a, Role.ADVERTISER))
    response = client.post(
        _list_url(tenant_a), {"name": "Spring", "country": "US", "currency": "usd"}
    )
    assert response.status_code == 302
    assert Catalog.objects.for_tenant(tenant_a).get(name="Spring").currency == "USD"


@pytest.mark.parametrize("typed", BAD)
def test_page_form_shows_a_field_error_and_keeps_the_input(client, member, tenant_a, typed):
    client.force_login(member(tenant_a, Role.ADVERTISER))
    response = client.post(
        _list_url(tenant_a), {"name": "Spring", "country": "US", "currency": typed}
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["currency"]
    html = response.content.decode()
    for message in form.errors["currency"]:  # shown next to the field, not only in context
        assert escape(message) in html
    assert 'aria-describedby="id_currency_error"' in html
    assert form.data["name"] == "Spring"
    assert not Catalog.objects.for_tenant(tenant_a).exists()


def test_admin_refuses_a_bad_currency_and_capitalises_a_good_one(admin_client, tenant_a):
    catalog = CatalogFactory(tenant=tenant_a, name="Shop", currency="EUR")
    url = reverse("admin:catalogs_catalog_change", args=[catalog.pk])
    data = {"tenant": tenant_a.pk, "name": "Shop", "country": "US", "handling_days": 3}
    response = admin_client.post(url, {**data, "currency": "EURO"})
    assert response.status_code == 200
    assert "ISO 4217" in str(response.context["adminform"].form.errors["currency"])
    catalog.refresh_from_db()
    assert catalog.currency == "EUR"
    assert admin_client.post(url, {**data, "currency": "gbp"}).status_code == 302
    catalog.refresh_from_db()
    assert catalog.currency == "GBP"


def test_migration_capitalises_lower_case_codes(tenant_a):
    kept = CatalogFactory(tenant=tenant_a, name="A", currency="EUR")
    lower = CatalogFactory(tenant=tenant_a, name="B")
    mixed = CatalogFactory(tenant=tenant_a, name="C")
    Catalog.objects.filter(pk=lower.pk).update(currency="usd")
    Catalog.objects.filter(pk=mixed.pk).update(currency="Gbp")
    migration = importlib.import_module("catalogs.migrations.0019_catalog_currency_iso_4217")
    migration.currencies_in_capitals(apps, None)
    assert {c.pk: c.currency for c in Catalog.objects.all()} == {
        kept.pk: "EUR",
        lower.pk: "USD",
        mixed.pk: "GBP",
    }
