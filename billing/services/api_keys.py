"""API keys: created for the member who asks, shown once, stored only as a hash.

A key reads `bbo_<prefix>_<secret>`: the prefix (8 hex characters) tells keys apart on
screen; the secret (`secrets.token_urlsafe(32)`) is never stored, only its SHA-256.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import re
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from billing.audit import audit
from billing.models import ApiKey, Membership, Organization, User

KEY_PATTERN = re.compile(r"bbo_(?P<prefix>[0-9a-f]{8})_(?P<secret>[A-Za-z0-9_-]{20,100})")
LAST_USED_EVERY = datetime.timedelta(minutes=1)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _audit_values(key: ApiKey) -> dict[str, object]:
    # The prefix identifies the key; the raw key and its hash never reach the audit log.
    return {"name": key.name, "prefix": key.prefix, "user_id": key.user_id}


def api_key_create(*, organization: Organization, actor: User, name: str) -> tuple[ApiKey, str]:
    """A new key for the actor in this organization, and the raw key to show them once."""
    with transaction.atomic():
        if not Membership.objects.filter(user=actor, organization=organization).exists():
            raise ValidationError("Only a member of the organization can hold its API keys.")
        prefix = secrets.token_hex(4)
        while ApiKey.objects.filter(prefix=prefix).exists():
            prefix = secrets.token_hex(4)
        secret = secrets.token_urlsafe(32)
        key = ApiKey(
            user=actor,
            organization=organization,
            name=name.strip(),
            prefix=prefix,
            key_hash=hash_secret(secret),
        )
        key.full_clean()
        key.save()
        audit(
            organization=organization,
            actor=actor,
            action="api_key.create",
            instance=key,
            new_values=_audit_values(key),
        )
    return key, f"bbo_{prefix}_{secret}"


def api_key_revoke(*, organization: Organization, actor: User, api_key: ApiKey) -> ApiKey:
    """Stop a key from working. Revoking a revoked key changes nothing."""
    with transaction.atomic():
        key = ApiKey.objects.select_for_update().get(pk=api_key.pk, organization=organization)
        if key.revoked_at is not None:
            return key
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit(
            organization=organization,
            actor=actor,
            action="api_key.revoke",
            instance=key,
            old_values={"revoked_at": None},
            new_values={**_audit_values(key), "revoked_at": key.revoked_at},
        )
    return key


def api_key_authenticate(raw_key: str) -> ApiKey | None:
    """The live key `raw_key` stands for, or None.

    The lookup is by the secret's hash, so no comparison runs over the secret itself; the
    prefix is then compared in constant time. Revoked keys, inactive users and users no
    longer members of the key's organization get None. `last_used_at` is written at most
    once a minute, so a busy client does not turn every call into a write.
    """
    match = KEY_PATTERN.fullmatch(raw_key or "")
    if match is None:
        return None
    key = (
        ApiKey.objects.select_related("user", "organization")
        .filter(key_hash=hash_secret(match["secret"]))
        .first()
    )
    if key is None or not hmac.compare_digest(key.prefix, match["prefix"]):
        return None
    if key.revoked_at is not None or not key.user.is_active:
        return None
    if not Membership.objects.filter(user=key.user, organization=key.organization).exists():
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_EVERY:
        ApiKey.objects.filter(pk=key.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_EVERY)
        ).update(last_used_at=now)
        key.last_used_at = now
    return key
