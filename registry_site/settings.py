"""Settings for Model Registry.

Every value comes from the environment, with an embedded default that runs on one
machine with nothing else installed: SQLite under var/, files under var/media/ and a
filesystem Celery broker under var/. Point DATABASE_URL, CELERY_BROKER_URL and the
S3 variables elsewhere to scale out; nothing in the code assumes one process.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent

# A checkout's own .env (make run writes one with DEBUG=true and a generated SECRET_KEY)
# fills in what the environment leaves unset; a variable set in the environment wins.
ENV_FILE = Path(os.environ.get("ENV_FILE", str(BASE_DIR / ".env")))
if ENV_FILE.is_file():
    load_dotenv(ENV_FILE, override=False)


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {value!r}")


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from None


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


VAR_DIR = Path(env("VAR_DIR", str(BASE_DIR / "var")))
DEBUG = envbool("DEBUG", False)
# Under DEBUG, missing pages and crashes still get the site's pages; "technical" shows Django's.
DEBUG_TECHNICAL_ERROR_PAGES = os.environ.get("DEBUG_ERROR_PAGES", "") == "technical"

SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY, or DEBUG=true for the development default.")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "registry_site.apps.RegistryAdminConfig",  # django.contrib.admin, audited (registry_site.admin)
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
    "accounts_app",
    "models_app",
    "evaluations_app",
    "reviews_app",
    "protocols_app",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "registry_site.middleware.ContentSecurityPolicyMiddleware",
    "registry_site.middleware.SiteErrorPagesMiddleware",
]

ROOT_URLCONF = "registry_site.urls"

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
                "accounts_app.context_processors.roles",
                "reviews_app.context_processors.review_nav",
            ],
        },
    },
]

WSGI_APPLICATION = "registry_site.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'registry.sqlite3'}"),
        conn_max_age=envint("DATABASE_CONN_MAX_AGE", 60),
    )
}
# Search, its index and the row locks are written for these two (models_app/search.py).
SUPPORTED_DATABASE_ENGINES = ("django.db.backends.postgresql", "django.db.backends.sqlite3")
if DATABASES["default"]["ENGINE"] not in SUPPORTED_DATABASE_ENGINES:
    raise ImproperlyConfigured(
        f"DATABASE_URL points at {DATABASES['default']['ENGINE']}; the registry runs on PostgreSQL "
        "(postgres://...) or SQLite (sqlite:///...)."
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the worker read while the other writes; the busy
    # timeout makes a writer wait for the lock instead of failing at once.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DATABASES["default"].setdefault("TEST", {})
if env("TEST_DATABASE_NAME"):
    DATABASES["default"]["TEST"]["NAME"] = env("TEST_DATABASE_NAME")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media-not-served/"  # files are only ever served through the download views

# Storage: local disk by default, any S3-compatible store when AWS_STORAGE_BUCKET_NAME is set.
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME")
if AWS_STORAGE_BUCKET_NAME:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env("AWS_S3_ENDPOINT_URL") or None,
            "region_name": env("AWS_S3_REGION_NAME") or None,
            "access_key": env("AWS_ACCESS_KEY_ID") or None,
            "secret_key": env("AWS_SECRET_ACCESS_KEY") or None,
            "file_overwrite": True,  # keys are content hashes: same key, same bytes
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": envint("AWS_QUERYSTRING_EXPIRE", 300),
        },
    }
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT)},
    }
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Redirect downloads to a short-lived presigned URL when the storage can make one (S3),
# so the bytes do not pass through the web process.
DOWNLOAD_REDIRECT = envbool("DOWNLOAD_REDIRECT", bool(AWS_STORAGE_BUCKET_NAME))

# Uploads: every file part goes to a temporary file while it is hashed; the cap is
# enforced while streaming, so an oversized body is refused before it is read whole.
MAX_UPLOAD_SIZE = envint("MAX_UPLOAD_SIZE", 2 * 1024**3)
FILE_UPLOAD_HANDLERS = ["models_app.uploads.HashingUploadHandler"]
FILE_UPLOAD_TEMP_DIR = env("FILE_UPLOAD_TEMP_DIR") or None
DATA_UPLOAD_MAX_NUMBER_FILES = envint("DATA_UPLOAD_MAX_NUMBER_FILES", 20)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200
DATA_UPLOAD_MAX_MEMORY_SIZE = envint("DATA_UPLOAD_MAX_MEMORY_SIZE", 5 * 1024**2)

# Security headers. SECURE_* that need HTTPS are switched on with HTTPS=true.
HTTPS = envbool("HTTPS", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if envbool("BEHIND_PROXY", False) else None
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts_app.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "registry_site.pagination.Pagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "registry_site.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "DEFAULT_PARSER_CLASSES": [
        "registry_site.parsers.JSONParser",  # refuses the JSON the rest of the stack cannot take
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("THROTTLE_ANON", "600/minute"),
        "user": env("THROTTLE_USER", "3000/minute"),
        "auth": env("THROTTLE_AUTH", "30/minute"),
    },
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
API_PAGE_SIZE = envint("API_PAGE_SIZE", 20)
API_MAX_PAGE_SIZE = envint("API_MAX_PAGE_SIZE", 100)

SPECTACULAR_SETTINGS = {
    "TITLE": "Model Registry API",
    "DESCRIPTION": "Register models, upload versioned files, and find and download published models.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Versions, reviews, checks and evaluations each have a `status` with its own choices;
    # naming the version's keeps its component stable (the others take their component's prefix).
    "ENUM_NAME_OVERRIDES": {
        "VersionStatusEnum": "models_app.models.VersionStatus",
        "ModelTaskEnum": "models_app.models.Task",
        "TestSetTaskEnum": "evaluations_app.models.TestSetTask",
        "AliasActionEnum": "models_app.models.AliasAction",
    },
}

# Shared cache: the throttles count here. Redis when CACHE_URL is set, else local memory.
CACHE_URL = env("CACHE_URL")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Celery: a filesystem broker under var/ by default, Redis (or any broker) by URL.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", "filesystem://localhost//")  # a host, or kombu warns
CELERY_BROKER_DIR = VAR_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    for _folder in ("queue", "control"):
        (CELERY_BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": envint("CELERY_VISIBILITY_TIMEOUT", 3600)}
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "collect-unreferenced-blobs": {
        "task": "models_app.tasks.collect_unreferenced_blobs",
        "schedule": envint("BLOB_GC_INTERVAL", 3600),
    },
    "sweep-unsent-notifications": {
        "task": "reviews_app.tasks.sweep_unsent_notifications",
        "schedule": envint("NOTIFICATION_SWEEP_INTERVAL", 60),
    },
}
NOTIFICATION_SWEEP_AFTER_SECONDS = envint("NOTIFICATION_SWEEP_AFTER_SECONDS", 120)
# An unreferenced blob younger than this may belong to an upload still in flight.
BLOB_GC_GRACE_SECONDS = envint("BLOB_GC_GRACE_SECONDS", 3600)

# Evaluation: test-set caps, sandbox limits, attempts and quotas.
TEST_SET_MAX_ROWS = envint("TEST_SET_MAX_ROWS", 2_000_000)
TEST_SET_MAX_COLUMNS = envint("TEST_SET_MAX_COLUMNS", 1000)
# What a test set may take once decoded, checked from the Parquet metadata or a streaming
# count of the CSV before pandas reads it; the upload request peaks at a small multiple.
TEST_SET_MAX_DECODED_BYTES = envint("TEST_SET_MAX_DECODED_BYTES", 1024**3)
EVAL_MEMORY_BYTES = envint("EVAL_MEMORY_BYTES", 2 * 1024**3)
EVAL_CPU_SECONDS = envint("EVAL_CPU_SECONDS", 300)
EVAL_WALL_SECONDS = envint("EVAL_WALL_SECONDS", 300)
EVAL_FILE_BYTES = envint("EVAL_FILE_BYTES", 1024**3)
EVAL_MAX_PROCESSES = envint("EVAL_MAX_PROCESSES", 64)
EVAL_MAX_OUTPUT_BYTES = envint("EVAL_MAX_OUTPUT_BYTES", 512 * 1024**2)
EVAL_MAX_ATTEMPTS = envint("EVAL_MAX_ATTEMPTS", 3)
EVAL_MAX_ACTIVE_PER_USER = envint("EVAL_MAX_ACTIVE_PER_USER", 20)
# Each evaluation on a benchmark tells its requester something about the secret labels:
# one version may be evaluated on one benchmark this many times in 24 hours.
EVAL_BENCHMARK_RUNS_PER_DAY = envint("EVAL_BENCHMARK_RUNS_PER_DAY", 3)
# The task's own limits sit above the sandbox's wall clock: the sandbox stops first.
EVAL_TASK_SOFT_TIME_LIMIT = EVAL_WALL_SECONDS + envint("EVAL_TASK_MARGIN_SECONDS", 120)
EVAL_TASK_TIME_LIMIT = EVAL_TASK_SOFT_TIME_LIMIT + 30
EVAL_STALE_MARGIN_SECONDS = envint("EVAL_STALE_MARGIN_SECONDS", 60)
EVAL_RESEND_AFTER_SECONDS = envint("EVAL_RESEND_AFTER_SECONDS", 600)
EVALUATE_PICKLE = envbool("EVALUATE_PICKLE", False)
# Models run under bubblewrap or not at all; true lets them run with resource limits alone
# where bubblewrap cannot be set up, and every such evaluation says what was missing.
EVAL_ALLOW_WEAK_SANDBOX = envbool("EVAL_ALLOW_WEAK_SANDBOX", False)
SKOPS_TRUSTED_TYPES = envlist("SKOPS_TRUSTED_TYPES", "")
CELERY_TASK_ROUTES = {
    "evaluations_app.tasks.run_evaluation": {"queue": "evaluations"},
    "evaluations_app.tasks.scan_file": {"queue": "evaluations"},  # it runs the sandbox too
}
# Upload scans: how far an archive may expand while it is walked, how many members it may
# hold, and after how long a file still pending is sent to the scanner again.
SCAN_MAX_EXPANDED_BYTES = envint("SCAN_MAX_EXPANDED_BYTES", 1024**3)
SCAN_MAX_MEMBERS = envint("SCAN_MAX_MEMBERS", 10_000)
SCAN_RESEND_AFTER_SECONDS = envint("SCAN_RESEND_AFTER_SECONDS", 120)
CELERY_BEAT_SCHEDULE["sweep-pending-scans"] = {
    "task": "evaluations_app.tasks.sweep_pending_scans",
    "schedule": envint("SCAN_SWEEP_INTERVAL", 60),
}
CELERY_BEAT_SCHEDULE["recover-evaluations"] = {
    "task": "evaluations_app.tasks.recover_evaluations",
    "schedule": envint("EVAL_SWEEP_INTERVAL", 60),
}
# Webhooks (reviews_app/webhooks/): deliveries go only to globally routable addresses, except
# to the `host` or `host:port` entries listed here (an internal receiver the operator trusts).
WEBHOOK_ALLOWED_HOSTS = [host.lower() for host in envlist("WEBHOOK_ALLOWED_HOSTS", "")]
WEBHOOK_MAX_ATTEMPTS = envint("WEBHOOK_MAX_ATTEMPTS", 6)
WEBHOOK_RETRY_BASE_SECONDS = envint("WEBHOOK_RETRY_BASE_SECONDS", 10)  # 10 s, 20 s, 40 s... with jitter
WEBHOOK_CONNECT_TIMEOUT = envint("WEBHOOK_CONNECT_TIMEOUT", 3)
WEBHOOK_READ_TIMEOUT = envint("WEBHOOK_READ_TIMEOUT", 5)
# The CA certificates https receivers are checked against (a PEM file); empty: the system's.
WEBHOOK_CA_BUNDLE = env("WEBHOOK_CA_BUNDLE") or None
WEBHOOK_MAX_PER_MODEL = envint("WEBHOOK_MAX_PER_MODEL", 20)
# A pending delivery whose attempt is this late was not enqueued (broker down): the sweep sends it.
WEBHOOK_SWEEP_AFTER_SECONDS = envint("WEBHOOK_SWEEP_AFTER_SECONDS", 60)
CELERY_BEAT_SCHEDULE["sweep-webhook-deliveries"] = {
    "task": "reviews_app.webhooks.tasks.sweep_webhook_deliveries",
    "schedule": envint("WEBHOOK_SWEEP_INTERVAL", 60),
}

EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "registry@localhost")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", 10)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
}

# MLflow-compatible endpoint: files a client uploaded while logging a model wait this long to
# be registered as a model version (whose files are the catalog's own), then they are removed.
MLFLOW_ARTIFACT_RETENTION_SECONDS = envint("MLFLOW_ARTIFACT_RETENTION_SECONDS", 7 * 24 * 3600)
CELERY_BEAT_SCHEDULE["expire-mlflow-artifacts"] = {
    "task": "protocols_app.tasks.expire_mlflow_artifacts",
    "schedule": envint("MLFLOW_ARTIFACT_SWEEP_INTERVAL", 3600),
}
