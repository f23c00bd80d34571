"""An in-memory `AdapterState` for adapter tests: a dict with optional expiry.

Expiry is read from `clock` (default `time.time`), so a test with a fake clock can make an
entry lapse; `sets` records every write (key, value, ttl_s) for assertions.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class MemoryState:
    def __init__(self, clock: Callable[[], float] = time.time):
        self.clock = clock
        self.values: dict[str, tuple[str, float | None]] = {}
        self.sets: list[tuple[str, str, int | None]] = []

    def get(self, key: str) -> str | None:
        entry = self.values.get(key)
        if entry is None:
            return None
        value, expires_at = entry
        if expires_at is not None and self.clock() >= expires_at:
            del self.values[key]
            return None
        return value

    def set(self, key: str, value: str, *, ttl_s: int | None = None) -> None:
        self.sets.append((key, value, ttl_s))
        self.values[key] = (value, None if ttl_s is None else self.clock() + ttl_s)
