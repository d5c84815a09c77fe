"""Settings for the credit-supervision portal, read from the environment (see .env.example)."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PORTAL_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG or env_bool("PORTAL_TESTING"):
        # Only development and tests may run without a configured secret.
        SECRET_KEY = "insecure-development-key-do-not-use-in-production"
    else:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set (see .env.example).")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI / ReDoc assets served locally: the bureau's intranet has no CDN
    "axes",
    "core",
    "enterprises",
    "disclosure",
    "inspections",
    "repair",
    "credit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.RequestContextMiddleware",
    # Axes must be last: it turns locked-out login attempts into a lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------------------
# Default: an embedded SQLite file so that `make run` needs no server. Production and tests: DATABASE_URL
# pointing at PostgreSQL (psycopg2).
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'portal.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # WAL lets the web server, the worker and beat share the file without "database is locked" errors.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
        "transaction_mode": "IMMEDIATE",
    }
else:
    # JIT compilation off: the portal's heavy statements (a nightly chunk, a report aggregate, a draw's population)
    # are planned as expensive, so PostgreSQL would JIT-compile each of them — ~100 ms of LLVM per statement,
    # more than many of them take to run (measured on a 10^6 chunk query: 104 ms of 858). DATABASE_PG_OPTIONS
    # replaces these libpq options (e.g. "" to leave the server's settings alone).
    pg_options = os.environ.get("DATABASE_PG_OPTIONS", "-c jit=off")
    if pg_options:
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = pg_options
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/admin/login/"

# Login throttling (django-axes): every form that calls authenticate() is covered, the admin's included.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "0.25"))  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "core/lockout.html"
AXES_VERBOSE = False

# --- Language and time ----------------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Uploaded files (import files, materials) are private: never served under a public URL.
MEDIA_ROOT = Path(os.environ.get("PORTAL_MEDIA_ROOT", VAR_DIR / "media"))

# Uploads: the import limit is enforced by the importer; Django keeps large uploads on disk, not in memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
IMPORT_MAX_BYTES = int(os.environ.get("PORTAL_IMPORT_MAX_BYTES", str(200 * 1024 * 1024)))

# --- Cache and Celery -----------------------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
else:
    # No server: kombu's filesystem transport (a folder per queue) lets a real worker and beat run in the demo.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True  # a killed worker's task is redelivered; tasks are idempotent
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Celery tasks the nightly reclassification fans its chunks out to, besides the task coordinating it (credit).
CREDIT_RECLASSIFY_TASKS = int(os.environ.get("CREDIT_RECLASSIFY_TASKS", "1"))

# --- REST API -------------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"anon": "120/min", "user": "1200/min"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "企业信用监管平台 API",
    "DESCRIPTION": "Registry, disclosure and credit-supervision API of the municipal market-regulation bureau.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a nested Status/Reason/Kind: name each enum in the schema once, explicitly.
    "ENUM_NAME_OVERRIDES": {
        "AbnormalReasonEnum": "disclosure.models.AbnormalListing.Reason",
        "AbnormalRemovalReasonEnum": "disclosure.models.AbnormalListing.RemovalReason",
        "AbnormalStatusEnum": "disclosure.models.AbnormalListing.Status",
        "ObjectionStatusEnum": "disclosure.models.Objection.Status",
        "SeriousRemovalKindEnum": "disclosure.models.SeriousListing.RemovalKind",
        "RestrictionKindEnum": "disclosure.models.Restriction.Kind",
        "EnterpriseStatusEnum": "enterprises.models.Enterprise.Status",
        "PenaltyStatusEnum": "disclosure.models.Penalty.Status",
        "PenaltyKindEnum": "disclosure.models.Penalty.Kind",
        "PenaltyTierEnum": "disclosure.models.Penalty.Tier",
        "PenaltyEndReasonEnum": "disclosure.models.Penalty.EndReason",
        "RepairApplicationStatusEnum": "repair.models.RepairApplication.Status",
        "RepairApplicationKindEnum": "repair.models.RepairApplication.Kind",
        "RepairMaterialKindEnum": "repair.models.Material.Kind",
        "RepairStepKindEnum": "repair.models.ApplicationStep.Kind",
        "RepairDocumentTypeEnum": "repair.models.RepairDocument.DocType",
    },
}

# --- Notifications (outbox) -----------------------------------------------------------------------------------
# Per channel, the dotted path of a backend class; the dev backend stores and logs only.
OUTBOX_BACKENDS = {
    "sms": os.environ.get("OUTBOX_SMS_BACKEND", "core.notifications.backends.LogBackend"),
    "email": os.environ.get("OUTBOX_EMAIL_BACKEND", "core.notifications.backends.LogBackend"),
    "letter": os.environ.get("OUTBOX_LETTER_BACKEND", "core.notifications.backends.LogBackend"),
}
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "noreply@scjgj.jz.example")

# --- Security -------------------------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# A form posted without (or with a stale) CSRF token gets a page in Chinese saying what to do, not Django's default.
CSRF_FAILURE_VIEW = "core.views.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("DJANGO_BEHIND_PROXY") else None

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # WeasyPrint and fontTools log every rendering step at INFO: a batch of certificates would flood the log.
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# --- Domain settings --------------------------------------------------------------------------------------------
# The bureau this deployment serves: its region code (GB/T 2260) and name.
PORTAL_CITY_REGION_CODE = os.environ.get("PORTAL_CITY_REGION_CODE", "140700")
PORTAL_BUREAU_NAME = os.environ.get("PORTAL_BUREAU_NAME", "晋中市市场监督管理局")
# The public address of the portal (scheme and host, no trailing slash), printed in certificates' QR codes so a
# scanned certificate opens /verify/… on the public site; empty: a path relative to the site that printed it.
PORTAL_PUBLIC_BASE_URL = os.environ.get("PORTAL_PUBLIC_BASE_URL", "").rstrip("/")
# Credit checks (issue 7): most codes in one batch; the warning window before 30 June for annual reports (days).
CREDIT_CHECK_BATCH_MAX = int(os.environ.get("CREDIT_CHECK_BATCH_MAX", "5000"))
CREDIT_WARNING_ANNUAL_REPORT_DAYS = int(os.environ.get("CREDIT_WARNING_ANNUAL_REPORT_DAYS", "30"))
# Celery tasks a batch check's certificates are split over (chunks rendered in parallel, then one assembling task).
CREDIT_CHECK_BATCH_TASKS = int(os.environ.get("CREDIT_CHECK_BATCH_TASKS", "2"))

# The province's "lower amount" of a fine (较低数额罚款, DESIGN.md §3.2): penalties of only circulated criticism or
# a fine at (or under) this amount are disclosed for the short period. Provinces differ in the amounts and in
# whether the boundary is included (Shanghai: ≤ 5,000 / ≤ 50,000; Fujian, Guizhou: < 5,000 / < 50,000).
DISCLOSURE_LOWER_AMOUNT_INDIVIDUAL = int(os.environ.get("DISCLOSURE_LOWER_AMOUNT_INDIVIDUAL", "5000"))
DISCLOSURE_LOWER_AMOUNT_ORGANISATION = int(os.environ.get("DISCLOSURE_LOWER_AMOUNT_ORGANISATION", "50000"))
DISCLOSURE_LOWER_AMOUNT_INCLUSIVE = env_bool("DISCLOSURE_LOWER_AMOUNT_INCLUSIVE", True)
# Working days a party has to make a statement or ask for a hearing after a notice of intended serious listing.
SERIOUS_LIST_STATEMENT_WORKING_DAYS = int(os.environ.get("SERIOUS_LIST_STATEMENT_WORKING_DAYS", "5"))

# Credit repair: largest accepted material file (bytes), how long an activation code (days) and a password-reset
# code (minutes) stay valid, and how recent a decision must be for its repair notice to be sent (older ones are
# shown in the portal only).
REPAIR_MATERIAL_MAX_BYTES = int(os.environ.get("REPAIR_MATERIAL_MAX_BYTES", str(10 * 1024 * 1024)))
REPAIR_ACTIVATION_CODE_DAYS = int(os.environ.get("REPAIR_ACTIVATION_CODE_DAYS", "14"))
REPAIR_RESET_CODE_MINUTES = int(os.environ.get("REPAIR_RESET_CODE_MINUTES", "30"))
REPAIR_NOTICE_SEND_DAYS = int(os.environ.get("REPAIR_NOTICE_SEND_DAYS", "30"))
