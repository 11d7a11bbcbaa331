"""Production settings pass `manage.py check --deploy` with the documented variables."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_check_deploy_is_clean_with_documented_variables():
    # The browser tests' conftest allows sync ORM calls next to Playwright's event loop; a
    # deployment never sets that, so neither does this check.
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "catalog_health.settings.production",
        "SECRET_KEY": "k" * 20 + "-a-long-random-production-secret-" + "q9" * 10,
        "ALLOWED_HOSTS": "catalog.example.com",
        "SECURE_HSTS_PRELOAD": "true",
        "DATABASE_URL": os.environ.get(
            "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/catalog_health"
        ),
        "FIELD_ENCRYPTION_KEY": "hL0ZQ6fX2h1Tq1VwVq6yq3m9z3yq3m9z3yq3m9z3yqM=",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
