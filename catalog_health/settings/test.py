"""Test settings: real PostgreSQL and Redis of the machine (overridable by environment)."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/catalog_health")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")

# One cache key prefix per test run, inherited by the processes a test starts (so that they
# share the cache with it) and apart from other runs on the same Redis database.
os.environ.setdefault("CACHE_KEY_PREFIX", f"test-{os.getpid()}")

from .base import *  # noqa: F403
from .base import REST_FRAMEWORK

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast user creation
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
AXES_ENABLED = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"user": None, "anon": None}}
LOGGING = {"version": 1, "disable_existing_loggers": False}

import warnings  # noqa: E402

# Tests serve static files through the finders; there is no collected STATIC_ROOT.
warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
