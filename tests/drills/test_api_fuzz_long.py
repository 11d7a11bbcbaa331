"""The API fuzz of tests/test_api_fuzz.py with many more examples per operation and mode
(`make drills`): no generated request, valid or invalid, may answer 5xx."""

from __future__ import annotations

import os

import pytest

from tests.test_api_fuzz import api_schema, auth_headers, fuzz_api  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.drill, pytest.mark.slow, pytest.mark.django_db]


def test_no_api_operation_answers_5xx_long(api_schema, auth_headers):  # noqa: F811
    fuzz_api(api_schema, auth_headers, max_examples=int(os.environ.get("API_FUZZ_EXAMPLES", "150")))
