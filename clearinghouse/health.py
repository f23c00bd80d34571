"""Vendor health: a small state machine per (organization, clearinghouse configuration).

State lives in Django's cache, which every process shares (Redis in production, the file
cache locally; never locmem), so the web server, workers and beat agree on it:

- `consecutive_failures` counts failed health checks and failed real transactions
  (timeouts at `transaction_timeout_ms` and errors); a success resets it.
- `failure_threshold` consecutive failures mark the vendor *degraded*.
- A degraded vendor that succeeds starts its cool-down (`healthy_since`); it counts as
  recovered (available again) only once it has stayed healthy for `recovery_cooldown_s`.
  A failure during the cool-down restarts it (and the count).

Time comes from `time.time()`, so tests drive it with time_machine.

Concurrency: every update is a read-modify-write of one small dict under a short lock:
- Redis (or any backend whose `add` is atomic, SET NX): a lock key taken with `cache.add`
  with a 5 s expiry, so a crashed holder cannot block anyone for long.
- The file cache: its `add` is has_key() then set(), not atomic between processes, so the
  lock is an `fcntl.flock` on a file beside the cache files instead (same machine, which is
  the only place a file cache is shared).
Reads take no lock: the value is written whole (the file cache replaces the file
atomically), so a reader sees either the old or the new state.
"""

from __future__ import annotations

import fcntl
import hashlib
import math
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.filebased import FileBasedCache

HEALTH_CHECK_FAILURES = "consecutive_health_failures"
TRANSACTION_TIMEOUTS = "transaction_timeouts"
TRANSACTION_ERRORS = "transaction_errors"
FAILURE_REASONS = (HEALTH_CHECK_FAILURES, TRANSACTION_TIMEOUTS, TRANSACTION_ERRORS)

HEALTHY = "healthy"
DEGRADED = "degraded"
RECOVERING = "recovering"

LOCK_TIMEOUT_S = 5
LOCK_ATTEMPTS = 500  # x 10 ms: give up after about five seconds of real waiting


class HealthLockTimeout(RuntimeError):
    """Another process held the health lock for too long."""


@dataclass(frozen=True)
class Health:
    state: str  # "healthy", "degraded" or "recovering" (degraded, in its cool-down)
    failures: int
    cooldown_remaining_s: int
    reason: str  # the last failure's reason ("" when it never failed)

    @property
    def available(self) -> bool:
        return self.state == HEALTHY


def _ids(organization: Any, config: Any) -> tuple[int, int]:
    org_id = getattr(organization, "pk", organization)
    config_id = getattr(config, "pk", config)
    if getattr(config, "organization_id", org_id) != org_id:
        raise ValueError("The clearinghouse configuration belongs to another organization.")
    return org_id, config_id


def _key(organization: Any, config: Any) -> str:
    org_id, config_id = _ids(organization, config)
    return f"clearinghouse:health:{org_id}:{config_id}"


def _empty() -> dict[str, Any]:
    return {"failures": 0, "degraded": False, "healthy_since": None, "reason": ""}


def _load(key: str) -> dict[str, Any]:
    return {**_empty(), **(caches["default"].get(key) or {})}


def _save(key: str, state: dict[str, Any]) -> None:
    caches["default"].set(key, state, timeout=None)  # no expiry: a restart must not heal


@contextmanager
def _locked(key: str) -> Iterator[None]:
    backend = caches["default"]
    if isinstance(backend, FileBasedCache):
        os.makedirs(backend._dir, exist_ok=True)
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        with open(os.path.join(backend._dir, f"{digest}.lock"), "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    lock_key, token = f"{key}:lock", uuid.uuid4().hex
    for _ in range(LOCK_ATTEMPTS):
        if backend.add(lock_key, token, timeout=LOCK_TIMEOUT_S):
            break
        time.sleep(0.01)
    else:
        raise HealthLockTimeout(f"Could not lock {key}.")
    try:
        yield
    finally:
        if backend.get(lock_key) == token:  # never release a lock that expired and moved on
            backend.delete(lock_key)


def _evaluate(state: dict[str, Any], settings: Any, now: float) -> Health:
    failures, reason = int(state["failures"]), state["reason"]
    if not state["degraded"]:
        return Health(HEALTHY, failures, 0, reason)
    since = state["healthy_since"]
    if since is None:
        return Health(DEGRADED, failures, int(settings.recovery_cooldown_s), reason)
    remaining = settings.recovery_cooldown_s - (now - since)
    if remaining <= 0:
        return Health(HEALTHY, failures, 0, reason)
    return Health(RECOVERING, failures, max(1, math.ceil(remaining)), reason)


def record_failure(organization: Any, config: Any, *, reason: str, settings: Any) -> Health:
    """One failed health check or transaction. `failure_threshold` in a row degrade the
    vendor; any failure while degraded (or recovering) restarts the cool-down."""
    if reason not in FAILURE_REASONS:
        raise ValueError(f"Unknown failure reason {reason!r}; use one of {FAILURE_REASONS}.")
    key = _key(organization, config)
    with _locked(key):
        now = time.time()
        state = _load(key)
        if state["degraded"] and _evaluate(state, settings, now).state == HEALTHY:
            state = _empty()  # it had recovered: this failure starts a new count
        state["failures"] = int(state["failures"]) + 1
        state["reason"] = reason
        state["healthy_since"] = None
        if state["failures"] >= settings.failure_threshold:
            state["degraded"] = True
        _save(key, state)
        return _evaluate(state, settings, now)


def record_success(organization: Any, config: Any, *, settings: Any) -> Health:
    """One successful health check or transaction: resets the count; a degraded vendor
    starts (or keeps) its cool-down and is recovered once it has lasted long enough."""
    key = _key(organization, config)
    with _locked(key):
        now = time.time()
        state = _load(key)
        state["failures"] = 0
        if state["degraded"]:
            if state["healthy_since"] is None:
                state["healthy_since"] = now
            elif _evaluate(state, settings, now).state == HEALTHY:
                state = {**_empty(), "reason": state["reason"]}
        _save(key, state)
        return _evaluate(state, settings, now)


def vendor_health(
    organization: Any, config: Any, settings: Any, *, now: float | None = None
) -> Health:
    """The vendor's health now (or at `now`, a Unix timestamp)."""
    return _evaluate(
        _load(_key(organization, config)), settings, time.time() if now is None else now
    )


def is_available(
    organization: Any, config: Any, settings: Any, *, now: float | None = None
) -> bool:
    """Healthy, or degraded but healthy again for the whole recovery cool-down."""
    return vendor_health(organization, config, settings, now=now).available


def reset_health(organization: Any, config: Any) -> None:
    """Forget the vendor's state (for tests and admin resets)."""
    key = _key(organization, config)
    with _locked(key):
        caches["default"].delete(key)
