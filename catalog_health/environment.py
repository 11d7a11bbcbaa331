"""Read the deployment's `.env` before anything chooses a settings module.

`manage.py`, `wsgi.py` and the Celery app call `configure()` first, so a `.env` line
`DJANGO_SETTINGS_MODULE=catalog_health.settings.production` is honoured everywhere. Variables
already in the process environment win over the file (docker-compose, systemd, CI). The file
is `<project>/.env`, or the one `ENV_FILE` names.

This module imports nothing from Django: it runs before settings exist.
"""

from __future__ import annotations

import os
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_SETTINGS_MODULE = "catalog_health.settings.local"


def env_file() -> Path:
    return Path(os.environ.get("ENV_FILE") or BASE_DIR / ".env")


def read_env_file() -> None:
    """Load the `.env` file into os.environ without overriding what is already set."""
    path = env_file()
    if path.is_file():
        environ.Env.read_env(path, overwrite=False)


def configure(default_settings: str = DEFAULT_SETTINGS_MODULE) -> None:
    read_env_file()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", default_settings)


def parse_fernet_keys(value: str | list[str] | tuple[str, ...] | None) -> list[str]:
    """FIELD_ENCRYPTION_KEY as a list of keys, in order (comma-separated string or a list)."""
    if not value:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    return [item.strip() for item in items if item and item.strip()]


def validate_fernet_keys(keys: list[str]) -> None:
    """Raise ImproperlyConfigured naming the position of a key that is not a Fernet key."""
    from cryptography.fernet import Fernet
    from django.core.exceptions import ImproperlyConfigured

    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError):
            raise ImproperlyConfigured(
                f"FIELD_ENCRYPTION_KEY: key {position} is not a Fernet key (32 url-safe "
                'base64-encoded bytes); generate one with `python -c "from cryptography.fernet '
                'import Fernet; print(Fernet.generate_key().decode())"`'
            ) from None
