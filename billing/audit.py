"""The audit service: one row per change, written in the transaction of the change."""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Any

from django.db import transaction
from django.db.models import Model

from billing.models import AuditLog, Organization, User


class AuditOutsideTransaction(RuntimeError):
    """An audit row must commit or roll back together with the change it records."""


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Model):
        return value.pk
    return value


def model_values(instance: Model, fields: list[str] | None = None) -> dict[str, Any]:
    """The instance's concrete field values (foreign keys as ids), ready for an audit row."""
    names = fields or [f.attname for f in instance._meta.concrete_fields]
    return _jsonable({name: getattr(instance, name) for name in names})


def audit(
    *,
    organization: Organization,
    actor: User | None,
    action: str,
    instance: Model | None = None,
    table_name: str = "",
    record_id: str | int = "",
    old_values: dict[str, Any] | None = None,
    new_values: dict[str, Any] | None = None,
) -> AuditLog:
    """Write one audit row. Refuses to run outside a transaction (see the exception)."""
    if not transaction.get_connection().in_atomic_block:
        raise AuditOutsideTransaction(f"audit({action!r}) called outside transaction.atomic()")
    if instance is not None:
        table_name = table_name or instance._meta.db_table
        record_id = record_id or instance.pk
    if actor is not None and not actor.is_authenticated:
        actor = None
    return AuditLog.objects.create(
        organization=organization,
        actor=actor,
        action=action,
        table_name=table_name,
        record_id=str(record_id),
        old_values=_jsonable(old_values) if old_values is not None else None,
        new_values=_jsonable(new_values) if new_values is not None else None,
    )
