"""Production settings: PostgreSQL, Redis, HTTPS. `manage.py check --deploy --fail-level
WARNING` passes with `.env.example` filled in (CI checks it).

Secrets have no defaults here: a missing SECRET_KEY, ALLOWED_HOSTS or FIELD_ENCRYPTION_KEY
stops the process at start-up instead of running with a known or derived value.
"""

from django.core.exceptions import ImproperlyConfigured

from catalog_health.environment import parse_fernet_keys, validate_fernet_keys

from .base import *  # noqa: F403
from .base import env


def _required(name: str, value):
    if not value:
        raise ImproperlyConfigured(f"Set {name} in .env or the environment (production).")
    return value


DEBUG = False
SECRET_KEY = _required("SECRET_KEY", env.str("SECRET_KEY", default=""))
ALLOWED_HOSTS = _required("ALLOWED_HOSTS", env.list("ALLOWED_HOSTS", default=[]))
FIELD_ENCRYPTION_KEY = _required(
    "FIELD_ENCRYPTION_KEY", parse_fernet_keys(env.list("FIELD_ENCRYPTION_KEY", default=[]))
)
validate_fernet_keys(FIELD_ENCRYPTION_KEY)

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)

# Static files for good: hashed names (a changed file gets a new URL), so WhiteNoise serves them
# with a far-future, immutable Cache-Control; gzip (and brotli, with the `brotli` package)
# copies made by collectstatic are sent to browsers that accept them.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
