"""The one seam for the organization: every request, task and command that touches tenant
data runs inside `tenant_context(organization)`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from django.db import DEFAULT_DB_ALIAS, connections, transaction

if TYPE_CHECKING:
    from billing.models import Organization

_current_organization: ContextVar[Organization | None] = ContextVar(
    "current_organization", default=None
)


@contextmanager
def tenant_context(
    organization: Organization, *, using: str = DEFAULT_DB_ALIAS
) -> Iterator[Organization]:
    """Run the block in a transaction of its own, scoped to one organization.

    On PostgreSQL the transaction also carries `app.organization_id` (set with
    `set_config(..., true)`, so it ends with the transaction and never leaks to the next
    user of a pooled connection); row-level security policies key on it.
    """
    with transaction.atomic(using=using):
        connection = connections[using]
        postgres = connection.vendor == "postgresql"
        previous = _set_organization_setting(connection, str(organization.pk)) if postgres else ""
        token = _current_organization.set(organization)
        try:
            yield organization
        finally:
            _current_organization.reset(token)
        if postgres and not connection.needs_rollback:
            # A nested context ends in a savepoint release, which keeps the setting until
            # the outer transaction ends: give the outer context its organization back.
            # (On an exception or set_rollback the savepoint's rollback restores it.)
            _set_organization_setting(connection, previous)


def _set_organization_setting(connection, value: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('app.organization_id', true),"
            " set_config('app.organization_id', %s, true)",
            [value],
        )
        return cursor.fetchone()[0] or ""


def current_organization() -> Organization | None:
    """The organization of the innermost `tenant_context`, or None outside one."""
    return _current_organization.get()
