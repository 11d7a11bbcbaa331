"""A catalog's country is an ISO 3166-1 alpha-2 code in capitals (feeds pick a row's
shipping entry by it): the rule, the service, the catalog page's form, Django admin."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from catalog_health.tenancy.roles import Role
from catalogs import services
from catalogs.countries import country_code
from catalogs.models import Catalog

from .factories import CatalogFactory

NOT_COUNTRIES = ["USA", "ZZ", "12", "", "  ", "U", "ÜS", "uk", None]


@pytest.mark.parametrize(
    ("typed", "stored"), [("US", "US"), ("de", "DE"), (" gb ", "GB"), ("Jp", "JP"), ("ch", "CH")]
)
def test_a_country_code_is_stored_in_capitals(typed, stored):
    assert country_code(typed) == stored


@pytest.mark.parametrize("typed", NOT_COUNTRIES)
def test_what_is_not_an_iso_3166_code_is_refused_with_the_rule(typed):
    with pytest.raises(ValidationError, match="ISO 3166"):
        country_code(typed)


@pytest.mark.django_db
def test_the_service_capitalises_on_create_and_keeps_the_old_country_on_a_refusal(tenant_a):
    catalog = services.catalog_create(tenant=tenant_a, actor=None, name="Shop", country="fr")
    assert catalog.country == "FR"
    with pytest.raises(ValidationError) as exc:
        services.catalog_update(
            tenant=tenant_a, catalog=catalog, actor=None, data={"country": "France"}
        )
    assert "ISO 3166" in exc.value.message_dict["country"][0]
    catalog.refresh_from_db()
    assert catalog.country == "FR"
    services.catalog_update(tenant=tenant_a, catalog=catalog, actor=None, data={"country": "be"})
    catalog.refresh_from_db()
    assert catalog.country == "BE"


@pytest.mark.django_db
def test_the_catalog_page_shows_a_bad_country_on_its_field(client, member, tenant_a):
    client.force_login(member(tenant_a, Role.ADVERTISER))
    url = reverse("catalogs:catalog_list", kwargs={"tenant_slug": tenant_a.slug})
    response = client.post(url, {"name": "Spring", "country": "USA", "currency": "USD"})
    assert response.status_code == 200
    assert "ISO 3166" in response.content.decode()
    assert 'aria-describedby="id_country_error"' in response.content.decode()
    assert (
        client.post(url, {"name": "Spring", "country": "ca", "currency": "CAD"}).status_code == 302
    )
    assert Catalog.objects.for_tenant(tenant_a).get(name="Spring").country == "CA"


@pytest.mark.django_db
def test_admin_refuses_a_bad_country(admin_client, tenant_a):
    catalog = CatalogFactory(tenant=tenant_a, name="Shop", country="US")
    url = reverse("admin:catalogs_catalog_change", args=[catalog.pk])
    data = {"tenant": tenant_a.pk, "name": "Shop", "currency": "USD", "handling_days": 3}
    assert admin_client.post(url, {**data, "country": "ZZ"}).status_code == 200
    assert admin_client.post(url, {**data, "country": "nl"}).status_code == 302
    catalog.refresh_from_db()
    assert catalog.country == "NL"
