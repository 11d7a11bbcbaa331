"""What the README and .env.example tell an operator holds: every variable the settings read
is documented, and `make test` names the address it could not reach."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _settings_variables() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "catalog_health" / "settings").glob("*.py"):
        names |= set(re.findall(r"\benv(?:\.\w+)?\(\s*\"([A-Z][A-Z0-9_]*)\"", path.read_text()))
    return names


def env_example_variables() -> set[str]:
    """Every NAME=… line of .env.example, set or commented out."""
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", text, re.M))


def test_env_example_lists_every_variable_the_settings_read():
    read = _settings_variables()
    assert read, "no env() call found in catalog_health/settings"
    assert read - env_example_variables() == set()


def test_readme_configuration_names_every_variable_the_settings_read():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    assert {name for name in _settings_variables() if f"`{name}`" not in section} == set()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_check_services_names_host_and_port_but_not_the_password():
    db_port, redis_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://app:s3cret@127.0.0.1:{db_port}/shop",
        "REDIS_URL": f"redis://:s3cret@127.0.0.1:{redis_port}/2",
    }
    result = subprocess.run(
        [sys.executable, "scripts/check_services.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert f"PostgreSQL is not reachable at postgres://127.0.0.1:{db_port}/shop." in result.stderr
    assert f"Redis is not reachable at redis://127.0.0.1:{redis_port}/2." in result.stderr
    assert "s3cret" not in result.stderr and "app@" not in result.stderr


def test_management_commands_print_no_start_up_log_line():
    """An operator's command prints what it did, not a log line of a library starting."""
    env = {
        **os.environ,
        "LOG_LEVEL": "INFO",
        "DJANGO_SETTINGS_MODULE": "catalog_health.settings.local",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_demo_prints_its_database_and_broker_without_passwords():
    db_port, redis_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://app:s3cret@127.0.0.1:{db_port}/shop",
        "REDIS_URL": f"redis://:s3cret@127.0.0.1:{redis_port}/2",
        "DJANGO_SETTINGS_MODULE": "catalog_health.settings.local",
    }
    # the database is unreachable, so the script stops at its first migrate
    result = subprocess.run(
        ["bash", "scripts/demo.sh"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert f"== Database: postgres://127.0.0.1:{db_port}/shop" in result.stdout
    assert f"== Broker:   redis://127.0.0.1:{redis_port}/2" in result.stdout
    assert "s3cret" not in result.stdout
