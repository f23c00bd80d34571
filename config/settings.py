"""Settings, read from the environment. Defaults run the embedded local setup.

Unset DATABASE_URL: a SQLite file in the project folder. Unset REDIS_URL: kombu's
filesystem broker and Django's file-based cache under .local/, which the web server,
worker and beat share on one machine.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab

from config.env import (
    env_bool,
    env_int,
    env_list,
    env_secret,
    env_str,
    generate_fernet_key,
    generate_secret_key,
)

BASE_DIR = Path(__file__).resolve().parent.parent
# Ignored by git: dev secrets, broker files, cache. Tests point it at a temporary folder.
LOCAL_DIR = Path(os.environ.get("LOCAL_DIR") or BASE_DIR / ".local")

DEBUG = env_bool("DEBUG", default=False)
SECRET_KEY = env_secret(
    "SECRET_KEY", debug=DEBUG, dev_file=LOCAL_DIR / "secret_key", generate=generate_secret_key
)
FIELD_ENCRYPTION_KEY = env_secret(
    "FIELD_ENCRYPTION_KEY",
    debug=DEBUG,
    dev_file=LOCAL_DIR / "field_encryption_key",
    generate=generate_fernet_key,
)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "billing",
    "clearinghouse",
    "payments",
    "employer_collections",
    "batches",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "billing.middleware.OrganizationMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "billing.context_processors.organization",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------

DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=env_int("CONN_MAX_AGE", 60), conn_health_checks=True
        )
    }
else:
    # WAL, a busy timeout and IMMEDIATE transactions let web, worker and beat write the
    # same file without "database is locked" on the first write of a read transaction.
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }

# Migrations may run as the tables' owner while the application connects as a role
# with fewer rights; `manage.py migrate` uses this alias (billing/management/commands).
DATABASE_OWNER_URL = env_str("DATABASE_OWNER_URL")
if DATABASE_OWNER_URL and DATABASE_OWNER_URL != DATABASE_URL:
    DATABASES["owner"] = dj_database_url.parse(DATABASE_OWNER_URL)
    DATABASES["owner"]["TEST"] = {"MIRROR": "default"}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- auth -----------------------------------------------------------------------------

AUTH_USER_MODEL = "billing.User"
AUTHENTICATION_BACKENDS = ["billing.auth_backends.OrganizationPermissionBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

SECURE_COOKIES = env_bool("SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 60 * 60)
if env_bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"

# --- i18n, time -----------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "America/New_York")
USE_I18N = False
USE_TZ = True

# --- static ---------------------------------------------------------------------------

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env_str("STATIC_ROOT", str(LOCAL_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- cache, broker --------------------------------------------------------------------

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
else:
    # Never locmem: it is per process, and web, worker and beat must see one cache.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(LOCAL_DIR / "cache"),
            # The default (300 entries, then a third culled at random) would drop vendor
            # health state and tokens at random.
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }
    _broker_dir = LOCAL_DIR / "broker"
    for _folder in ("broker/queue", "broker/processed", "broker/control", "results"):
        (LOCAL_DIR / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_RESULT_BACKEND = f"file://{LOCAL_DIR / 'results'}"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }

# The longest task is capped by CELERY_TASK_TIME_LIMIT; Redis must not hand an
# unacknowledged message to another worker before that task could have finished.
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 60 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] = CELERY_TASK_TIME_LIMIT * 2
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 24 * 60 * 60
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(LOCAL_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "run-health-checks": {
        # Every second; each organization's own interval decides when its checks run.
        "task": "clearinghouse.run_health_checks",
        "schedule": 1.0,
    },
    "expire-enrollments": {
        "task": "clearinghouse.expire_enrollments",
        "schedule": crontab(hour=2, minute=15),
    },
    # The clearinghouses' answers: enrollment approvals and late claim acknowledgements.
    "poll-pending-enrollments": {
        "task": "clearinghouse.poll_pending_enrollments",
        "schedule": 5 * 60,
    },
    "fetch-acknowledgements": {
        "task": "clearinghouse.fetch_acknowledgements",
        "schedule": 5 * 60,
    },
    # New ERA 835s from each clearinghouse with an active ERA enrollment, stored and posted.
    "fetch-eras": {
        "task": "payments.fetch_eras",
        "schedule": 5 * 60,
    },
    # Batch jobs whose worker died (or that no worker picked up) are started again.
    "sweep-stalled-batch-jobs": {
        "task": "batches.sweep_stalled_jobs",
        "schedule": 30,
    },
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- clearinghouses ------------------------------------------------------------------

# Where the built-in sandbox clearinghouse listens; demo configurations point at it.
# --- batch jobs ---------------------------------------------------------------------------

# A running job whose worker wrote no heartbeat for this long is taken over by the sweep.
# Workers write one after every record of a clearinghouse job and every chunk of the
# others, so this only has to outlast one vendor call (the transaction timeout) with room.
BATCH_STALE_AFTER_S = env_int("BATCH_STALE_AFTER_S", 120)
BATCH_MAX_RECORDS = env_int("BATCH_MAX_RECORDS", 200_000)

SANDBOX_CLEARINGHOUSE_URL = env_str("SANDBOX_CLEARINGHOUSE_URL", "http://127.0.0.1:8001")
# An active ERA (835) enrollment without an ERA for longer than this is flagged as silent.
ERA_SILENT_AFTER_DAYS = env_int("ERA_SILENT_AFTER_DAYS", 30)

# --- logging --------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # httpx logs whole request URLs at INFO; some vendors put keys in query strings.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
