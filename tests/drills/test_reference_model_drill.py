"""The reference model drill: many more random feed sequences through every PostgreSQL
ingest path than the normal suite runs (feeds/tests/test_reference_model.py).

`make drills` runs it; CH_MODEL_EXAMPLES and CH_MODEL_STEPS set its size (default 200
sequences of up to 12 runs)."""

from __future__ import annotations

import os

import pytest

from feeds.tests.test_reference_model import run_machine

pytestmark = pytest.mark.drill


@pytest.mark.django_db(transaction=True)
def test_every_path_matches_the_reference_model_at_length(settings):
    settings.FEEDS_FETCH_ALLOW_LIST = ["127.0.0.0/8"]  # the machine's local feed server
    run_machine(
        max_examples=int(os.environ.get("CH_MODEL_EXAMPLES", "200")),
        steps=int(os.environ.get("CH_MODEL_STEPS", "12")),
    )
