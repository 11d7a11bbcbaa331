"""A catalog's name keeps to the rule of every pasted value (catalogs.rules): outer blanks
and invisible characters are trimmed, a name of nothing else is required, one inside is
refused naming it. A name of invisible characters shows as an empty link everywhere. The
rule, the service, the catalog page's form, Django admin (the API lists catalogs only)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from catalog_health.tenancy.roles import Role
from catalogs import services
from catalogs.models import Catalog
from catalogs.rules import catalog_name_error, invisible_trim

from .factories import CatalogFactory

# (case, as typed, as stored (None: refused), what the refusal names)
NAMES = [
    ("plain", "Spring shop", "Spring shop", ""),
    ("letters beyond ASCII", "Loja de verão 日本", "Loja de verão 日本", ""),
    ("outer spaces", "  Spring  ", "Spring", ""),
    ("a byte order mark before", "\ufeffSpring", "Spring", ""),
    ("direction marks around", " \u200eSpring\u200f ", "Spring", ""),
    ("a zero-width space after", "Spring\u200b", "Spring", ""),
    ("200 characters and a byte order mark", "\ufeff" + "A" * 200, "A" * 200, ""),
    ("only a zero-width space", "\u200b", "", ""),
    ("only a byte order mark", "\ufeff", "", ""),
    ("only a direction mark and blanks", " \u200e ", "", ""),
    (
        "a Persian word's zero-width non-joiner",
        "فروشگاه می\u200cخواهم",
        "فروشگاه می\u200cخواهم",
        "",
    ),
    (
        "an emoji family's joiners",
        "Family \U0001f468\u200d\U0001f469\u200d\U0001f467",
        "Family \U0001f468\u200d\U0001f469\u200d\U0001f467",
        "",
    ),
    ("a joiner at the end", "Spring\u200d", "Spring", ""),
    ("a zero-width space inside", "Spr\u200bing", None, "U+200B ZERO WIDTH SPACE at character 4"),
    ("a right-to-left override inside", "Spring\u202egnirpS", None, "U+202E RIGHT-TO-LEFT"),
    ("a line feed inside", "Spring\nshop", None, "U+000A LINE FEED at character 7"),
    ("201 characters", "A" * 201, None, "longer than 200 characters"),
]
NAME_CASES = [pytest.param(typed, stored, named, id=case) for case, typed, stored, named in NAMES]
REFUSED = [p for p in NAME_CASES if p.values[1] is None]
EMPTY = [p for p in NAME_CASES if p.values[1] == ""]


@pytest.mark.parametrize(("typed", "stored", "named"), NAME_CASES)
def test_the_name_rule(typed, stored, named):
    trimmed = invisible_trim(typed)
    error = catalog_name_error(trimmed)
    if stored is None:
        assert named in error
    else:
        assert (trimmed, error) == (stored, None)


@pytest.mark.django_db
@pytest.mark.parametrize(("typed", "stored", "named"), NAME_CASES)
def test_the_service_trims_or_refuses_a_new_catalogs_name(tenant_a, typed, stored, named):
    if stored:
        assert services.catalog_create(tenant=tenant_a, actor=None, name=typed).name == stored
        return
    with pytest.raises(ValidationError) as refused:
        services.catalog_create(tenant=tenant_a, actor=None, name=typed)
    assert list(refused.value.message_dict) == ["name"]
    assert named in str(refused.value)
    assert not Catalog.objects.for_tenant(tenant_a).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("typed", "stored", "named"), NAME_CASES)
def test_the_service_trims_or_refuses_a_renamed_catalogs_name(tenant_a, typed, stored, named):
    catalog = CatalogFactory(tenant=tenant_a, name="Shop")
    data = {"name": typed}
    if stored:
        services.catalog_update(tenant=tenant_a, catalog=catalog, actor=None, data=data)
    else:
        with pytest.raises(ValidationError) as refused:
            services.catalog_update(tenant=tenant_a, catalog=catalog, actor=None, data=data)
        assert list(refused.value.message_dict) == ["name"]
        assert named in str(refused.value)
    catalog.refresh_from_db()
    assert catalog.name == (stored or "Shop")


@pytest.mark.django_db
def test_a_trimmed_name_is_the_same_name_as_the_catalogs_own(tenant_a):
    services.catalog_create(tenant=tenant_a, actor=None, name="Main")
    with pytest.raises(ValidationError, match="already exists"):
        services.catalog_create(tenant=tenant_a, actor=None, name="\ufeffMain\u200b")


def _list_url(tenant) -> str:
    return reverse("catalogs:catalog_list", kwargs={"tenant_slug": tenant.slug})


@pytest.mark.django_db
@pytest.mark.parametrize(("typed", "stored", "named"), REFUSED + EMPTY)
def test_the_catalog_page_refuses_a_name_on_its_field(
    client, member, tenant_a, typed, stored, named
):
    client.force_login(member(tenant_a, Role.ADVERTISER))
    response = client.post(_list_url(tenant_a), {"name": typed, "country": "US", "currency": "USD"})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["name"]
    assert named in errors["name"][0]
    assert not Catalog.objects.for_tenant(tenant_a).exists()


@pytest.mark.django_db
def test_the_catalog_page_trims_a_name(client, member, tenant_a):
    client.force_login(member(tenant_a, Role.ADVERTISER))
    data = {"name": "\u200e Spring\u200b", "country": "US", "currency": "USD"}
    assert client.post(_list_url(tenant_a), data).status_code == 302
    assert Catalog.objects.for_tenant(tenant_a).get().name == "Spring"


def _admin_data(tenant, name: str) -> dict:
    return {
        "tenant": tenant.pk,
        "name": name,
        "country": "US",
        "currency": "USD",
        "handling_days": 3,
    }


@pytest.mark.django_db
@pytest.mark.parametrize(("typed", "stored", "named"), REFUSED + EMPTY)
def test_admin_refuses_a_name(admin_client, tenant_a, typed, stored, named):
    catalog = CatalogFactory(tenant=tenant_a, name="Shop")
    url = reverse("admin:catalogs_catalog_change", args=[catalog.pk])
    response = admin_client.post(url, _admin_data(tenant_a, typed))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["name"]
    assert named in errors["name"][0]
    catalog.refresh_from_db()
    assert catalog.name == "Shop"


@pytest.mark.django_db
def test_admin_trims_a_name(admin_client, tenant_a):
    url = reverse("admin:catalogs_catalog_add")
    assert admin_client.post(url, _admin_data(tenant_a, "\ufeffSpring\u200f ")).status_code == 302
    assert Catalog.objects.for_tenant(tenant_a).get().name == "Spring"


@pytest.mark.django_db
def test_the_api_creates_and_renames_no_catalog(api_client_for, member, tenant_a):
    catalog = CatalogFactory(tenant=tenant_a, name="Shop")
    api = api_client_for(member(tenant_a), tenant_a)
    assert api.post("/api/v1/catalogs/", {"name": "\u200b"}, format="json").status_code == 405
    url = f"/api/v1/catalogs/{catalog.pk}/"
    assert api.patch(url, {"name": "\u200b"}, format="json").status_code == 405
