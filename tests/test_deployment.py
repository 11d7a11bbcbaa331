"""Deployment: production configures itself from a filled-in `.env`, passes `check --deploy` at
warning level, and refuses to start (settings and docker-compose) without its secrets."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[1]
# Variables the filled-in .env provides; the process environment must not mask the file.
FROM_FILE = (
    "DJANGO_SETTINGS_MODULE",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "FIELD_ENCRYPTION_KEY",
    "SECURE_HSTS_PRELOAD",
    "SECURE_SSL_REDIRECT",
    "DEBUG",
    "POSTGRES_PASSWORD",
    # the browser tests' conftest allows sync ORM calls next to Playwright; deployments don't
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)
SECRETS = ("SECRET_KEY", "FIELD_ENCRYPTION_KEY", "POSTGRES_PASSWORD")


def filled_env(tmp_path: Path, **overrides: str) -> Path:
    """`.env.example` copied and filled in as the README tells an operator to."""
    values = {
        "SECRET_KEY": "p7Qz-" + "x3Kq9vLmN2rT8wYb" * 4,
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "POSTGRES_PASSWORD": "a-db-password",
        **overrides,
    }
    lines = []
    for line in (ROOT / ".env.example").read_text().splitlines():
        name = line.split("=", 1)[0]
        lines.append(f"{name}={values[name]}" if name in values and "=" in line else line)
    path = tmp_path / ".env"
    path.write_text("\n".join(lines) + "\n")
    return path


def run(args: list[str], env_file: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in FROM_FILE}
    env["ENV_FILE"] = str(env_file)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_filled_in_env_file_selects_production_and_passes_the_deploy_check(tmp_path):
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], filled_env(tmp_path)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    "entry_point",
    [
        "import catalog_health.wsgi",
        "from catalog_health.celery import app; app.loader.import_default_modules()",
    ],
    ids=["wsgi", "celery"],
)
def test_wsgi_and_celery_read_env_file_before_choosing_settings(tmp_path, entry_point):
    code = f"{entry_point}; from django.conf import settings; print(settings.SETTINGS_MODULE)"
    result = run(["-c", code], filled_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "catalog_health.settings.production"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SECRET_KEY", ""),
        ("ALLOWED_HOSTS", ""),
        ("FIELD_ENCRYPTION_KEY", ""),
        ("FIELD_ENCRYPTION_KEY", "not-a-fernet-key"),
    ],
)
def test_production_refuses_to_start_without_its_secrets(tmp_path, name, value):
    result = run(["manage.py", "check"], filled_env(tmp_path, **{name: value}))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and name in result.stderr


def _compose_environment() -> dict[str, str]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    values: dict[str, str] = {}
    for anchor in (compose.get("x-app", {}), *compose["services"].values()):
        values.update({k: str(v) for k, v in (anchor.get("environment") or {}).items()})
    return values


def test_compose_gives_no_secret_a_default():
    text = (ROOT / "docker-compose.yml").read_text()
    for secret in SECRETS:
        uses = re.findall(r"\$\{" + secret + r"(:?[-?=+]?)", text)
        assert uses, f"{secret} is not taken from .env"
        assert set(uses) == {":?"}, f"{secret} must be ${{{secret}:?...}}, found {uses}"
    environment = _compose_environment()
    for name, value in environment.items():
        if any(word in name for word in ("SECRET", "PASSWORD", "KEY")):
            assert "${" in value and ":?" in value, f"{name} has a built-in value: {value}"
    assert "${POSTGRES_PASSWORD:?" in environment["DATABASE_URL"]


@pytest.mark.skipif(not shutil.which("docker-compose"), reason="docker-compose not installed")
def test_compose_refuses_to_start_without_secrets(tmp_path):
    filled = filled_env(tmp_path)
    base = ["docker-compose", "--env-file"]
    env = {k: v for k, v in os.environ.items() if k not in FROM_FILE}
    ok = subprocess.run(
        [*base, str(filled), "-f", "docker-compose.yml", "config", "-q"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    for secret in SECRETS:
        (tmp_path / secret).mkdir()
        missing = filled_env(tmp_path / secret, **{secret: ""})
        refused = subprocess.run(
            [*base, str(missing), "-f", "docker-compose.yml", "config", "-q"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        assert refused.returncode != 0, secret
        assert f"set {secret} in .env" in refused.stderr


def _compose_config(env_file: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in FROM_FILE}
    result = subprocess.run(
        ["docker-compose", "--env-file", str(env_file), "-f", "docker-compose.yml", "config"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


@pytest.mark.skipif(not shutil.which("docker-compose"), reason="docker-compose not installed")
def test_compose_gives_the_app_containers_what_env_sets(tmp_path):
    """The image has no .env (.dockerignore): a variable the operator sets in .env reaches
    the app only if docker-compose passes it on."""
    config = _compose_config(
        filled_env(
            tmp_path,
            SITE_URL="https://shop.example.org",
            CSRF_TRUSTED_ORIGINS="https://shop.example.org",
            LOG_LEVEL="WARNING",
            FEED_STALE_AFTER_HOURS="48",
        )
    )
    for service in ("migrate", "web", "worker", "beat"):
        environment = config["services"][service]["environment"]
        assert environment["SITE_URL"] == "https://shop.example.org", service
        assert environment["CSRF_TRUSTED_ORIGINS"] == "https://shop.example.org", service
        assert environment["LOG_LEVEL"] == "WARNING", service
        assert environment["FEED_STALE_AFTER_HOURS"] == "48", service
        # a variable the .env leaves unset stays unset: the settings' own default applies
        assert environment.get("FLAGGED_RESOLVED_DAYS") is None, service


def test_compose_web_health_check_passes_with_only_the_public_host_allowed(live_server, settings):
    """The health check calls the container's own address; with ALLOWED_HOSTS naming only
    the public host (as .env.example does) it must still get the health answer, not a 400."""
    settings.ALLOWED_HOSTS = ["catalog.example.com"]
    web = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["web"]
    command = web["healthcheck"]["test"]
    assert command[:2] == ["CMD", "python"]
    code = command[command.index("-c") + 1].replace("http://127.0.0.1:8000", live_server.url)
    env = {**os.environ, "ALLOWED_HOSTS": "catalog.example.com"}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(not shutil.which("docker-compose"), reason="docker-compose not installed")
def test_compose_web_and_worker_share_the_uploaded_feed_files(tmp_path):
    """A feed file uploaded on a page is saved under MEDIA_ROOT by web and read by the worker's
    feeds.pull: both containers must mount the same volume there."""
    config = _compose_config(filled_env(tmp_path))

    def volume_holding_media(service: str) -> str | None:
        for mount in config["services"][service].get("volumes", []):
            source, target = mount.split(":")[:2]
            if "/app/var/media".startswith(target.rstrip("/") + "/") or target == "/app/var/media":
                return source
        return None

    web, worker = volume_holding_media("web"), volume_holding_media("worker")
    assert web is not None and web in config["volumes"]
    assert worker == web


# What docker-compose sets itself (its own PostgreSQL, Redis and paths in the image), or what
# production does not read.
COMPOSE_OWN = {
    "POSTGRES_PASSWORD",
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "CACHE_KEY_PREFIX",
    "STATIC_ROOT",
    "MEDIA_ROOT",
    "DEBUG",
    "CELERY_TASK_ALWAYS_EAGER",
}


def test_compose_passes_on_every_variable_of_env_example():
    text = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", text, re.M))
    app = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["x-app"]["environment"]
    assert documented - COMPOSE_OWN - set(app) == set()
