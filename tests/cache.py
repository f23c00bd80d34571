"""Emptying the cache in a test without touching other test workers' keys."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache


def clear_cache() -> None:
    """Delete this test worker's cache entries. On Redis, `cache.clear()` would flush the
    whole database that parallel workers share; their keys differ by KEY_PREFIX (see
    config/test_settings.py), so delete only ours. The file cache is per worker already."""
    if not settings.REDIS_URL:
        cache.clear()
        return
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
    client = cache._cache.get_client(write=True)
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)


@pytest.fixture(autouse=True, name="empty_cache_around_each_test")
def empty_cache():
    """Imported into a test module, an empty cache before and after each of its tests
    (vendor health and route state live in the cache)."""
    clear_cache()
    yield
    clear_cache()
