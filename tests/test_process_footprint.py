"""What a web process loads at startup. A channel fetching its feed is served by a process
that never parses a file: the data stack (pandas) is imported where a file is read, so the
serving process stays small (bench/channel_feed.py measures its peak while streaming)."""

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
print("loaded:" + ",".join(sorted(m for m in ("pandas", "openpyxl") if m in sys.modules)))
"""


def test_web_process_starts_without_pandas():
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
