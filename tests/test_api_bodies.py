"""What the API answers a body it cannot take, a route it does not have and a format it does
not speak: JSON an API client can read, with the status that says what went wrong."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings

from catalog_health.tenancy.roles import Role
from catalogs.tests.factories import CatalogFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_api(api_client_for, member, tenant_a):
    return api_client_for(member(tenant_a, Role.OWNER), tenant_a)


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_a_body_over_the_limit_is_a_json_413(owner_api, tenant_a):
    catalog = CatalogFactory(tenant=tenant_a)
    body = json.dumps({"catalog": catalog.pk, "orders": ["x" * 2048]})
    response = owner_api.generic(
        "POST", "/api/v1/orders/bulk/", body, content_type="application/json"
    )
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": "The request body is larger than 1 KiB, the most it may be."
    }


def test_an_unknown_api_route_is_a_json_404(owner_api):
    response = owner_api.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "No such API route: see /api/schema/."}


def test_an_unknown_format_is_a_406_not_a_404(owner_api):
    response = owner_api.get("/api/v1/catalogs/", {"format": "xml"})
    assert response.status_code == 406
    assert response.json() == {"detail": 'Unknown format "xml": use format=json.'}


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=2 * 1024 * 1024)
def test_a_form_body_over_the_limit_is_a_json_413_too(owner_api, tenant_a):
    catalog = CatalogFactory(tenant=tenant_a)
    body = f"catalog={catalog.pk}&name=" + "x" * (3 * 1024 * 1024)
    response = owner_api.generic(
        "POST", "/api/v1/sources/", body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 413
    assert response.json() == {
        "detail": "The request body is larger than 2 MiB, the most it may be."
    }


@pytest.mark.parametrize(
    ("content_type", "said"),
    [
        ("text/plain", 'Unsupported media type "text/plain"'),
        ("application/xml", 'Unsupported media type "application/xml"'),
        ("", "No Content-Type header"),
    ],
)
def test_a_body_of_a_type_the_route_cannot_read_is_a_415_saying_what_it_reads(
    owner_api, tenant_a, content_type, said
):
    response = owner_api.generic(
        "POST", "/api/v1/channel-feeds/", "catalog=1", content_type=content_type
    )
    assert response.status_code == 415
    assert response.json() == {
        "detail": f"{said}: send application/json, application/x-www-form-urlencoded "
        "or multipart/form-data."
    }


def test_malformed_json_is_a_400_saying_so(owner_api, tenant_a):
    response = owner_api.generic(
        "POST", "/api/v1/channel-feeds/", '{"catalog": 1,', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error - ")


def test_a_body_that_is_not_an_object_is_a_400(owner_api, tenant_a):
    response = owner_api.generic(
        "POST", "/api/v1/channel-feeds/", "[1, 2]", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": ["Invalid data. Expected a dictionary, but got list."]
    }
