"""Settings shared by every environment. Everything a deployment changes comes from the
environment (django-environ); `.env.example` documents each variable.

With no configuration at all the project runs on the embedded default: SQLite and kombu's
`filesystem://` Celery transport under `var/`, so a first-time user needs no server.
"""

from pathlib import Path

import environ
from celery.schedules import crontab

from catalog_health.environment import read_env_file

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
read_env_file()  # already read by manage.py/wsgi/Celery; again for anything importing settings

SECRET_KEY = env("SECRET_KEY", default="dev-insecure-change-me-" + "x" * 40)
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",
    "csp",
    "catalog_health.tenancy",
    "catalogs",
    "feeds",
    "ecr",
    "flagged",
    "channels",
    # the tenant overview reads every app above, so it is installed after them
    "catalog_health.overview",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "catalog_health.request_guard.HostileInputMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
    "catalog_health.logging.RequestContextMiddleware",
    "catalog_health.tenancy.middleware.TenantMiddleware",
]

ROOT_URLCONF = "catalog_health.urls"
WSGI_APPLICATION = "catalog_health.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "catalog_health.tenancy.context_processors.tenancy",
            ],
            # {% load site %}: absolute_url, for links in emails (SITE_URL below)
            "libraries": {"site": "catalog_health.site"},
        },
    },
]

# --- Database -----------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default shares one file between web, worker and beat: wait for locks
    # instead of failing, and take the write lock up front so transactions don't deadlock.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
# Where a tenant's home (and the tenant picker) leads: a URL name taking tenant_slug. The
# tenancy core names no app; the project picks the page: the overview of every catalog.
TENANT_HOME_URL_NAME = "overview:home"
# Where this site is reached from outside: emails link to SITE_URL + a page's path
# (catalog_health.site.absolute_url), since an email has no page to be relative to.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "catalog_health.staticfiles.PlotlyFinder",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
# Uploaded feed files can be large; stream them to disk instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024

# --- Email --------------------------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Catalog Health <noreply@localhost>")
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))

# --- Celery -------------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery" / "queue"
    # control: kombu's exchange-queue table, which it would otherwise write as ./control
    for _folder in (_queue_dir, VAR_DIR / "celery" / "processed", VAR_DIR / "celery" / "control"):
        _folder.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "store_processed": False,
        "control_folder": str(VAR_DIR / "celery" / "control"),
    }
else:
    # Fail fast when the broker is down so pages stay up and say the job wasn't queued.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
        "max_retries": 1,
        "visibility_timeout": 3600,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True  # a killed worker's task is redelivered, and tasks are idempotent
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=60 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=55 * 60)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Periodic tasks every app declares. django-celery-beat's DatabaseScheduler copies them into its
# tables when beat starts; admins see and edit them (interval, enabled) in Django admin.
CELERY_BEAT_SCHEDULE: dict = {}

# --- Cache ----------------------------------------------------------------------------------
# Shared by every process (web workers, Celery): counters such as a channel feed's rate limit
# must not multiply with the number of gunicorn workers, as a per-process cache would. Redis
# when REDIS_URL is set; the embedded default keeps the cache in files under var/, which the
# processes of one machine share without a server.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="ch"),
            # Redis down: fail fast (callers degrade), as the broker settings below do
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            "OPTIONS": {"MAX_ENTRIES": 10_000},
        }
    }

# --- REST API -----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "catalog_health.tenancy.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "catalog_health.api_parsers.JSONParser",  # refuses NUL in strings
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "catalog_health.api_pagination.IdCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # JSON 413 for a body over DATA_UPLOAD_MAX_MEMORY_SIZE, 415 naming the types a route reads,
    # 406 for an unknown ?format=
    "EXCEPTION_HANDLER": "catalog_health.api_errors.exception_handler",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "catalog_health.api_negotiation.ContentNegotiation",
    "DEFAULT_THROTTLE_RATES": {"user": "2000/hour", "anon": "60/hour"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Catalog Health API",
    "DESCRIPTION": (
        "Tenant-scoped API. Authenticate with `Authorization: Token <key>`; a token belongs to "
        "one user in one tenant. With session auth, pick the tenant with the `X-Tenant` header."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a field called "status"; name each choice set after its meaning.
    "ENUM_NAME_OVERRIDES": {
        "FlagStatusEnum": "flagged.models.StatusChoices",
        "FeedRunStatusEnum": "feeds.models.RunStatus",
        "ReviewStatusEnum": "catalogs.models.ReviewStatus",
        # a channel feed's format is in two components (ChannelFeed, ChannelFeedDetail)
        "ChannelFeedFormatEnum": "channels.models.FeedFormat",
    },
}

# --- Security -----------------------------------------------------------------------------
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_RESET_ON_SUCCESS = True
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        # Scripts from our origin only. The one hash is django-celery-beat's inline script on
        # its periodic task form in Django admin (crontab help); the browser page walk fails if
        # a new version changes it.
        "script-src": ["'self'", "'sha256-QE3U2xYF7B4J2ro1/9oxiKhaWCGW39gB7ocQ/xlD0bE='"],
        # Plotly injects inline styles into the graphs it draws.
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "https:", "http:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
SESSION_COOKIE_HTTPONLY = True
# Denied attempts (role 403s) are audited, rate-limited per user and tenant: the same action on
# the same object once per window, at most this many events per window.
AUDIT_DENIED_WINDOW_SECONDS = env.int("AUDIT_DENIED_WINDOW_SECONDS", default=600)
AUDIT_DENIED_MAX_PER_WINDOW = env.int("AUDIT_DENIED_MAX_PER_WINDOW", default=20)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Keys encrypting stored feed passwords (Fernet), comma-separated: the first encrypts, all
# decrypt (rotation: docs/security.md). Production requires it; elsewhere an empty value falls
# back to a key derived from SECRET_KEY so the embedded demo needs no configuration.
FIELD_ENCRYPTION_KEY = env.list("FIELD_ENCRYPTION_KEY", default=[])

# --- Logging: one JSON object per line, with the tenant and run ids when known -------------
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "catalog_health.logging.ContextFilter"}},
    "formatters": {"json": {"()": "catalog_health.logging.JsonFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["context"], "formatter": "json"}
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "celery": {"level": "INFO"},
        # its version banner, logged by every process (each management command) at start-up
        "axes.apps": {"level": "WARNING"},
    },
}

# Demo / product knobs that are not per-tenant data.
FEED_STALE_AFTER_HOURS = env.int("FEED_STALE_AFTER_HOURS", default=24)

CELERY_BEAT_SCHEDULE["tenancy-heartbeat"] = {
    "task": "catalog_health.tasks.heartbeat",
    "schedule": crontab(minute="*/5"),
}

# Catalogs: the product list's sort key partitions of deleted catalogs are dropped nightly.
CELERY_BEAT_SCHEDULE["catalogs-drop-orphan-sort-key-partitions"] = {
    "task": "catalogs.drop_orphan_sort_key_partitions",
    "schedule": crontab(hour=3, minute=41),
}

# Flagged products (issue #6): hourly scoring of every tenant, a daily digest to sellers, and
# how long a Resolved product stays on the list.
FLAGGED_RESOLVED_DAYS = env.int("FLAGGED_RESOLVED_DAYS", default=14)
CELERY_BEAT_SCHEDULE["flagged-score-hourly"] = {
    "task": "flagged.score_all",
    "schedule": crontab(minute=7),
}
# Hourly: each tenant's digest leaves at 07:00 in its own time zone (flagged.digest).
CELERY_BEAT_SCHEDULE["flagged-daily-digest"] = {
    "task": "flagged.send_digests",
    "schedule": crontab(minute=0),
}

# Review and ECR (issue #5): the standard review queue drains every minute (capacity per cycle
# is set in Django admin, Review settings); every catalog's ECR state is checked every 15 min.
CELERY_BEAT_SCHEDULE["ecr-review-queue"] = {
    "task": "ecr.review_queue_drain",
    "schedule": crontab(minute="*"),
}
CELERY_BEAT_SCHEDULE["ecr-check"] = {
    "task": "ecr.check_all",
    "schedule": crontab(minute="*/15"),
}

# Product sources (issue #4): the dispatcher enqueues due pulls every minute, the reaper marks
# runs of dead workers failed, and stale sources are reported by email once per episode.
CELERY_BEAT_SCHEDULE["feeds-dispatch-due"] = {
    "task": "feeds.dispatch_due",
    "schedule": crontab(minute="*"),
}
# every minute: a dead worker's run holds its tenant's next pull until the reaper fails it
CELERY_BEAT_SCHEDULE["feeds-reap-stale"] = {
    "task": "feeds.reap_stale",
    "schedule": crontab(minute="*"),
}
# Order uploads (issue #20): fail imports whose worker died, expire unimported previews.
CELERY_BEAT_SCHEDULE["catalogs-reap-order-uploads"] = {
    "task": "catalogs.reap_order_uploads",
    "schedule": crontab(minute="*/5"),
}
CELERY_BEAT_SCHEDULE["feeds-notify-stale"] = {
    "task": "feeds.notify_stale",
    "schedule": crontab(minute=17),
}
# Old runs' row errors and change lists (FeedSettings.run_details_days), once a day.
CELERY_BEAT_SCHEDULE["feeds-prune-run-details"] = {
    "task": "feeds.prune_run_details",
    "schedule": crontab(hour=4, minute=23),
}
# Networks feeds may be fetched from although private/loopback (besides the admin list).
FEEDS_FETCH_ALLOW_LIST = env.list("FEEDS_FETCH_ALLOW_LIST", default=[])
