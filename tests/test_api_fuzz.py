"""API fuzzing: schemathesis generates requests from our own OpenAPI schema for every operation;
none may answer 500. Bounded: a few examples per operation."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings

from catalog_health.tenancy.roles import Role
from catalog_health.tenancy.services import api_token_create
from catalogs.tests.factories import CatalogFactory, ProductFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


@pytest.fixture
def auth_headers(member, tenant_a):
    owner = member(tenant_a, Role.OWNER, username="fuzzer")
    ProductFactory.create_batch(3, catalog=CatalogFactory(tenant=tenant_a))
    _, key = api_token_create(tenant=tenant_a, user=owner, name="fuzz")
    return {"Authorization": f"Token {key}"}


@pytest.fixture
def api_schema(auth_headers):
    # Like Django's test client: keep the test's transaction open across in-process requests.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_no_api_operation_answers_500(api_schema, auth_headers):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 3
    for operation in operations:

        @settings(
            max_examples=10,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def no_server_error(case):
            response = case.call(headers=auth_headers)
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path} -> {response.status_code}: "
                f"{response.text[:500]}"
            )

        no_server_error()
