"""The SQLite path (the embedded default) against the reference model: random sequences of
random feeds run by the real pipeline in a subprocess with its own SQLite settings; after
each run the stored products must equal the model's (feeds/tests/reference_model.py)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from feeds.tests.reference_model import CatalogModel, feeds

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow

SCRIPT = r"""
import base64, json, os, uuid
from decimal import Decimal
from catalog_health.tenancy.models import Tenant
from catalogs.models import Catalog, Product
from feeds import services
from feeds.models import FeedSettings, Trigger
from feeds.tests.factories import ProductSourceFactory
from feeds.tests.reference_model import snapshot

FeedSettings.objects.update_or_create(pk=1, defaults={
    "manual_refresh_min_seconds": 0, "rejected_share_threshold": 0.5,
    "removal_share_threshold": 0.5})
out = []
for n, sequence in enumerate(json.load(open(os.environ["CH_MODEL_SEQUENCES"]))):
    tenant = Tenant.objects.create(slug=f"s{uuid.uuid4().hex[:12]}", name="S")
    catalog = Catalog.objects.create(tenant=tenant, name="C", currency="USD", country="US")
    sources = {m: ProductSourceFactory(catalog=catalog, mode=m) for m in ("replace", "update")}
    steps = []
    for data, mode in sequence:
        path = services.upload_path_for("feed.csv")
        open(path, "wb").write(base64.b64decode(data))
        run, _ = services.feed_run_request(tenant=tenant, source=sources[mode], actor=None,
            trigger=Trigger.UPLOAD, file_path=path, file_name="feed.csv")
        run = services.feed_run_execute(tenant_id=tenant.pk, run_id=run.pk)
        products = snapshot(Product.objects.filter(catalog=catalog))
        steps.append([run.status, products])
    out.append(steps)
print("RESULT " + json.dumps(out, default=str))
"""

STATUS = {"succeeded": "succeeded", "unchanged": "succeeded", "failed": "failed"}
STATUS["needs_confirmation"] = "held"


def _jsonable(products: dict) -> dict:
    return json.loads(json.dumps(products, default=lambda v: str(v)))


@pytest.fixture(scope="module")
def sqlite_env(tmp_path_factory):
    db = tmp_path_factory.mktemp("model") / "db.sqlite3"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "catalog_health.settings.local",
        "DATABASE_URL": f"sqlite:///{db}",
        "CELERY_BROKER_URL": "memory://",
        "LOG_LEVEL": "ERROR",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, timeout=300
    )
    assert done.returncode == 0
    return env


sequences = st.lists(
    st.lists(st.tuples(feeds(), st.sampled_from(("replace", "update"))), min_size=1, max_size=5),
    min_size=4,
    max_size=4,
)


@settings(
    max_examples=2,
    deadline=None,
    database=None,
    phases=[Phase.generate],  # a subprocess per example: report the failure, unshrunk
    suppress_health_check=list(HealthCheck),
)
@given(sequences=sequences)
def test_the_sqlite_path_matches_the_reference_model(sqlite_env, sequences, tmp_path_factory):
    spec_file = tmp_path_factory.mktemp("seq") / "sequences.json"
    spec_file.write_text(
        json.dumps(
            [
                [[base64.b64encode(s.render()[0]).decode(), mode] for s, mode in sequence]
                for sequence in sequences
            ]
        )
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SCRIPT],
        cwd=ROOT,
        env={**sqlite_env, "CH_MODEL_SEQUENCES": str(spec_file)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.split("RESULT ", 1)[1])
    for sequence, steps in zip(sequences, result, strict=True):
        model = CatalogModel(currency="USD", country="US")
        for (spec, mode), (status, stored) in zip(sequence, steps, strict=True):
            expected = model.run(spec, mode)
            assert STATUS[status] == expected.status, (spec, mode)
            assert stored == _jsonable(model.products), (spec, mode)


def test_decimals_compare_as_text():
    assert _jsonable({"A": {"price": Decimal("1.50")}}) == {"A": {"price": "1.50"}}
