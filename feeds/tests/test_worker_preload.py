"""A worker loads the ingest pipeline when it starts, so no feed run pays for the imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Run in a fresh interpreter: this test process has loaded the pipeline long ago.
PROBE = """
import json
import sys
from catalog_health.environment import configure
configure()
import django
django.setup()
from celery.signals import worker_init
from catalog_health.celery import app
before = {m for m in ("feeds.ingest.pipeline", "ecr.block_review") if m in sys.modules}
worker_init.send(sender=None)
after = {m for m in ("feeds.ingest.pipeline", "ecr.block_review") if m in sys.modules}
print(json.dumps([sorted(before), sorted(after)]))
"""


def test_worker_start_loads_the_ingest_pipeline():
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=os.environ.copy(),
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    before, after = json.loads(done.stdout.strip().splitlines()[-1])
    assert before == [], "a process that is no worker (web, beat) must not load the pipeline"
    assert after == ["ecr.block_review", "feeds.ingest.pipeline"]
