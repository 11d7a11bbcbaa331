"""API fuzzing: schemathesis generates requests from our own OpenAPI schema (`/api/schema/`)
for every operation, valid ones and invalid ones; none may answer 5xx.

Bounded here (a few examples per operation and mode, part of `make test`); the drill
`tests/drills/test_api_fuzz_long.py` runs the same fuzz with many more examples
(`make drills`). Every case runs as an owner with a token, against a tenant that has catalogs,
products, orders, issues, flag states, a source and a run (and so has the other tenant), so
that generated ids sometimes name real objects. Half the cases replace every query value by a
hostile one the generator rarely produces (NUL, a non-ASCII digit, a huge number …), and every
query parameter of every GET operation is tried with each of them.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode

from catalog_health.tenancy.roles import Role
from catalog_health.tenancy.services import api_token_create
from catalogs.tests.factories import CatalogFactory, ProductFactory
from catalogs.tests.order_factories import DailyImpressionFactory, OrderFactory
from ecr.tests.factories import ProductIssueFactory
from feeds.tests.factories import FeedRunFactory, ProductSourceFactory
from flagged.tests.factories import FlagStateFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
HOSTILE = ["\x00", "a\x00b", "²", "9" * 25, "-1", "0", "1.5", "' OR 1=1 --", "%", "\u202e"]


@pytest.fixture
def auth_headers(member, tenant_a, tenant_b):
    owner = member(tenant_a, Role.OWNER, username="fuzzer")
    for tenant in (tenant_a, tenant_b):  # the other tenant's ids exist too
        catalog = CatalogFactory(tenant=tenant)
        products = ProductFactory.create_batch(3, catalog=catalog)
        OrderFactory(product=products[0])
        DailyImpressionFactory(product=products[0])
        ProductIssueFactory(product=products[1])
        FlagStateFactory(product=products[2])
        FeedRunFactory(source=ProductSourceFactory(catalog=catalog))
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


def fuzz_api(api_schema, auth_headers, *, max_examples: int) -> int:
    """Run every operation in every mode; fail on the first 5xx. Returns the operations run."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 20, "the schema lost operations"
    for operation in operations:
        for mode in MODES:
            _fuzz(operation, mode, auth_headers, max_examples)
        hostile_query_values(operation, auth_headers)
    return len(operations)


def _fuzz(operation, mode: GenerationMode, auth_headers, max_examples: int) -> None:
    @settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=operation.as_strategy(generation_mode=mode),
        hostile=st.one_of(st.none(), st.sampled_from(HOSTILE)),
    )
    def no_server_error(case, hostile):
        if hostile is not None and case.query:
            case.query = dict.fromkeys(case.query, hostile)
        response = case.call(headers=auth_headers)
        assert response.status_code < 500, (
            f"{mode.value}: {case.method} {case.formatted_path} query={case.query!r} "
            f"body={case.body!r} -> {response.status_code}: {response.text[:500]}"
        )

    no_server_error()


def hostile_query_values(operation, auth_headers) -> None:
    """Deterministically: every hostile value in every query parameter of a GET operation."""
    if operation.method.lower() != "get":
        return
    path_parameters = {p.name: 1 for p in operation.path_parameters}
    for param in operation.query:
        for value in HOSTILE:
            case = operation.Case(path_parameters=path_parameters, query={param.name: value})
            response = case.call(headers=auth_headers)
            assert response.status_code < 500, (
                f"GET {case.formatted_path}?{param.name}={value!r} -> {response.status_code}: "
                f"{response.text[:500]}"
            )


def test_no_api_operation_answers_5xx(api_schema, auth_headers):
    fuzz_api(api_schema, auth_headers, max_examples=8)
