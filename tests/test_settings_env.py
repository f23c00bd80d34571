"""Settings read from the environment: the secrets rule and the embedded defaults."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from django.conf import settings

PRINT = (
    "import json, django; from django.conf import settings as s; "
    "print(json.dumps({'secret': s.SECRET_KEY, 'fernet': s.FIELD_ENCRYPTION_KEY, 'debug': s.DEBUG,"
    " 'db': s.DATABASES['default']['ENGINE'], 'cache': s.CACHES['default']['BACKEND'],"
    " 'broker': s.CELERY_BROKER_URL, 'sqlite': s.DATABASES['default'].get('OPTIONS', {})}))"
)


def _settings(tmp_path, **env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "SECRET_KEY",
            "FIELD_ENCRYPTION_KEY",
            "DEBUG",
            "DATABASE_URL",
            "REDIS_URL",
            "LOCAL_DIR",
        }
    }
    clean.update(DJANGO_SETTINGS_MODULE="config.settings", LOCAL_DIR=str(tmp_path), **env)
    return subprocess.run(
        [sys.executable, "-c", PRINT],
        env=clean,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
    )


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off(tmp_path):
    result = _settings(tmp_path, FIELD_ENCRYPTION_KEY="x" * 44)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_it_refuses_to_start_without_a_field_encryption_key_when_debug_is_off(tmp_path):
    result = _settings(tmp_path, SECRET_KEY="s" * 50)
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEY must be set when DEBUG is off" in result.stderr


def test_it_generates_dev_secrets_once_and_keeps_them_in_debug(tmp_path):
    first = json.loads(_settings(tmp_path, DEBUG="1").stdout)
    second = json.loads(_settings(tmp_path, DEBUG="1").stdout)
    assert first["secret"] == second["secret"] and len(first["secret"]) >= 50
    assert first["fernet"] == second["fernet"]
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_it_runs_embedded_without_database_and_redis_urls(tmp_path):
    values = json.loads(_settings(tmp_path, DEBUG="1").stdout)
    assert values["db"] == "django.db.backends.sqlite3"
    assert values["sqlite"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in values["sqlite"]["init_command"]
    assert values["cache"] == "django.core.cache.backends.filebased.FileBasedCache"
    assert values["broker"] == "filesystem://"


def test_it_uses_postgres_and_redis_when_their_urls_are_set(tmp_path):
    values = json.loads(
        _settings(
            tmp_path,
            DEBUG="1",
            DATABASE_URL="postgres://app@db:5432/billing",
            REDIS_URL="redis://r:6379/0",
        ).stdout
    )
    assert values["db"] == "django.db.backends.postgresql"
    assert values["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert values["broker"] == "redis://r:6379/0"


def test_it_refuses_a_debug_value_that_is_not_a_boolean(tmp_path):
    result = _settings(tmp_path, DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr
