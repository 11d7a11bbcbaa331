"""What a web process loads at startup. A channel fetching its feed is served by a process
that never parses a file or reviews a product: the data stack (pandas, pyarrow, numpy) is
imported where a file is read or a review runs, so a serving process stays small
(bench/channel_feed.py measures a gunicorn worker's peak while streaming)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

STARTUP = """
import sys
import django
django.setup()
from django.urls import get_resolver
get_resolver().url_patterns
from catalog_health import wsgi
stack = ("pandas", "openpyxl", "pyarrow", "numpy")
print("loaded:" + ",".join(sorted(m for m in stack if m in sys.modules)))
"""


def test_web_process_starts_without_the_data_stack():
    result = subprocess.run(
        [sys.executable, "-c", STARTUP],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "catalog_health.settings.test",
            "PYTHONPATH": str(ROOT),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert result.stdout.strip().splitlines()[-1] == "loaded:"
