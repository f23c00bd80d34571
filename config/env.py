"""Typed readers of environment variables, so settings.py reads as a list of decisions."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_secret(name: str, *, debug: bool, dev_file: Path, generate: callable) -> str:
    """A secret from the environment; in DEBUG a generated one kept in an ignored file.

    Outside DEBUG a missing secret refuses to start: a key invented at start-up would
    silently log everyone out (SECRET_KEY) or make stored credentials unreadable
    (FIELD_ENCRYPTION_KEY) on the next deploy.
    """
    value = os.environ.get(name, "").strip()
    if value:
        return value
    if not debug:
        raise ImproperlyConfigured(f"{name} must be set when DEBUG is off")
    if dev_file.exists():
        return dev_file.read_text().strip()
    dev_file.parent.mkdir(parents=True, exist_ok=True)
    value = generate()
    dev_file.write_text(value + "\n")
    dev_file.chmod(0o600)
    return value


def generate_secret_key() -> str:
    return secrets.token_urlsafe(50)


def generate_fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()
