from __future__ import annotations

from billing.models import Role
from billing.permissions import BUILTIN_ROLES


def sync_builtin_roles(*, using: str = "default", **_kwargs) -> None:
    """Create the built-in roles, or bring their codes up to the table in permissions.py.

    Runs after every `migrate` (post_migrate), so a code added to a built-in role in a
    release reaches existing installs without a hand-written data migration.
    """
    for name, codes in BUILTIN_ROLES.items():
        role, _ = Role.objects.using(using).get_or_create(
            organization=None, name=name, defaults={"codes": []}
        )
        if set(role.codes) != codes:
            role.codes = sorted(codes)
            role.save(update_fields=["codes"])


def builtin_role(name: str) -> Role:
    return Role.objects.get(organization=None, name=name)
