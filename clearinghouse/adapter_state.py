"""Where vendor adapters keep what outlives one call, for one clearinghouse configuration.

Tokens go to Django's cache: keys starting with "token:" or "oauth:" (the adapters' OAuth
helper names its entries "oauth:<vendor>:<digest>"), and anything set with a lifetime. The
cache is shared by the web server, the workers and beat, and the lifetime becomes the
entry's. Tokens are bearer credentials, so they are stored encrypted with
FIELD_ENCRYPTION_KEY (the file cache writes them to disk). Every other key is a cursor
(Claim.MD's last response and ERA ids ...) that must survive restarts and cache evictions:
a `VendorCursor` row, upserted.
"""

from __future__ import annotations

import hashlib
import time

from cryptography.fernet import InvalidToken
from django.core.cache import cache
from django.utils import timezone

from billing.models import Organization
from clearinghouse.models import ClearinghouseConfig, VendorCursor, _fernet

TOKEN_PREFIXES = ("token:", "oauth:")
CURSOR_KEY_LIMIT = VendorCursor._meta.get_field("key").max_length
CURSOR_VALUE_LIMIT = VendorCursor._meta.get_field("value").max_length


class DjangoAdapterState:
    """`clearinghouse.vendors.base.AdapterState` on the cache (tokens) and the database
    (cursors). A new instance for the same configuration sees what an earlier one set."""

    def __init__(self, organization: Organization, clearinghouse: ClearinghouseConfig):
        if clearinghouse.organization_id != organization.pk:
            raise ValueError("The clearinghouse configuration belongs to another organization.")
        self.organization = organization
        self.clearinghouse = clearinghouse

    def get(self, key: str) -> str | None:
        cached = self._cache_get(key)
        if cached is not None or key.startswith(TOKEN_PREFIXES):
            return cached
        return (
            VendorCursor.objects.for_organization(self.organization)
            .filter(clearinghouse=self.clearinghouse, key=key)
            .values_list("value", flat=True)
            .first()
        )

    def set(self, key: str, value: str, *, ttl_s: int | None = None) -> None:
        """Tokens, and any value with a lifetime, expire after `ttl_s` (a token without one
        stays until replaced); cursors are kept in the database until overwritten."""
        if key.startswith(TOKEN_PREFIXES) or ttl_s is not None:
            encrypted = _fernet().encrypt(value.encode()).decode()
            # The expiry is kept with the value and checked on read, so every process (and
            # a test's clock) agrees on it; the cache's own timeout only cleans up.
            expires = time.time() + ttl_s if ttl_s is not None else None
            cache.set(self._cache_key(key), (encrypted, expires), timeout=ttl_s)
            return
        if len(key) > CURSOR_KEY_LIMIT or len(value) > CURSOR_VALUE_LIMIT:
            raise ValueError(
                f"A vendor cursor key has at most {CURSOR_KEY_LIMIT} characters and its value "
                f"at most {CURSOR_VALUE_LIMIT}."
            )
        cache.delete(self._cache_key(key))  # an earlier value with a lifetime must not shadow it
        # One statement, safe when two workers write the same cursor at once.
        VendorCursor.objects.bulk_create(
            [
                VendorCursor(
                    organization=self.organization,
                    clearinghouse=self.clearinghouse,
                    key=key,
                    value=value,
                    updated_at=timezone.now(),
                )
            ],
            update_conflicts=True,
            unique_fields=["clearinghouse", "key"],
            update_fields=["value", "updated_at"],
        )

    def _cache_get(self, key: str) -> str | None:
        stored = cache.get(self._cache_key(key))
        if not isinstance(stored, tuple) or len(stored) != 2:
            return None
        encrypted, expires = stored
        if expires is not None and time.time() >= expires:
            return None
        try:
            return _fernet().decrypt(encrypted.encode()).decode()
        except InvalidToken:
            return None  # encrypted under a retired key: fetch a new token

    def _cache_key(self, key: str) -> str:
        # Cache backends limit key length and characters (memcached): hash the adapter's key.
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        return f"vendor-state:{self.organization.pk}:{self.clearinghouse.pk}:{digest}"
