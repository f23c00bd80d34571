"""Writes of organization settings: the organization itself, its members and its roles.

Every write that can change who holds pm.org.admin first locks the organization row, so
two admins demoting each other at the same moment cannot leave the organization with none.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from billing import permissions
from billing.audit import audit
from billing.models import ApiKey, Membership, Organization, Role, User
from billing.selectors import organization as selectors

SETTINGS_FIELDS = (
    "name",
    "time_zone",
    "billing_npi",
    "tax_id",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "zip_code",
    "phone",
    "employer_collections_enabled",
)

USERNAME_TAKEN = "That username is taken."
LAST_ADMIN = (
    "The organization must keep at least one member with pm.org.admin; "
    "give that permission to someone else first."
)


def _lock(organization: Organization) -> Organization:
    return Organization.objects.select_for_update().get(pk=organization.pk)


def _is_admin_role(role: Role) -> bool:
    return permissions.ORG_ADMIN in (role.codes or [])


def _check_other_admins(organization: Organization, membership: Membership) -> None:
    """Refuse when `membership` is the organization's last one holding pm.org.admin."""
    others = Membership.objects.filter(
        organization=organization, role_id__in=selectors.admin_role_ids(organization)
    ).exclude(pk=membership.pk)
    if not others.exists():
        raise ValidationError({NON_FIELD_ERRORS: LAST_ADMIN})


def _role_values(role: Role) -> dict[str, Any]:
    return {"name": role.name, "codes": sorted(role.codes)}


def _member_values(membership: Membership) -> dict[str, Any]:
    user = membership.user
    return {
        "user_id": user.pk,
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "role_id": membership.role_id,
        "role": membership.role.name,
    }


# --- the organization -----------------------------------------------------------------------


def organization_update(
    *, organization: Organization, actor: User, changes: dict[str, Any]
) -> Organization:
    """Apply the settings form's values; the audit row holds only the fields that changed."""
    with transaction.atomic():
        locked = _lock(organization)
        old, new = {}, {}
        for name in SETTINGS_FIELDS:
            if name not in changes or getattr(locked, name) == changes[name]:
                continue
            old[name] = getattr(locked, name)
            new[name] = changes[name]
            setattr(locked, name, changes[name])
        if not new:
            return locked
        locked.full_clean()
        locked.save(update_fields=list(new))
        audit(
            organization=locked,
            actor=actor,
            action="organization.update",
            instance=locked,
            old_values=old,
            new_values=new,
        )
    return locked


# --- members --------------------------------------------------------------------------------


def member_add(
    *,
    organization: Organization,
    actor: User,
    username: str,
    first_name: str,
    last_name: str,
    email: str,
    role: Role,
    password: str,
) -> Membership:
    """Create a new user account and make it a member.

    An existing username is refused, never attached: attaching another organization's
    account would tell this organization who exists elsewhere.
    """
    with transaction.atomic():
        _lock(organization)
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError({"username": USERNAME_TAKEN})
        user = User(username=username, first_name=first_name, last_name=last_name, email=email)
        try:
            validate_password(password, user=user)
        except ValidationError as error:
            raise ValidationError({"password": error.messages}) from None
        user.set_password(password)
        user.last_organization = organization
        user.full_clean(exclude=["password"], validate_unique=False)
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:
            raise ValidationError({"username": USERNAME_TAKEN}) from None
        membership = Membership(user=user, organization=organization, role=role)
        membership.full_clean()
        membership.save()
        audit(
            organization=organization,
            actor=actor,
            action="member.add",
            instance=membership,
            new_values=_member_values(membership),
        )
    return membership


def member_change_role(
    *, organization: Organization, actor: User, membership: Membership, role: Role
) -> Membership:
    """Give a member another role. Nobody takes pm.org.admin away from themselves, and
    the organization keeps at least one member holding it."""
    with transaction.atomic():
        _lock(organization)
        membership = Membership.objects.select_related("user", "role").get(
            pk=membership.pk, organization=organization
        )
        if membership.role_id == role.pk:
            return membership
        if _is_admin_role(membership.role) and not _is_admin_role(role):
            _check_other_admins(organization, membership)
            if membership.user_id == actor.pk:
                raise ValidationError(
                    {
                        "role": "You cannot take pm.org.admin away from yourself; "
                        "ask another admin to change your role."
                    }
                )
        old = {"role_id": membership.role_id, "role": membership.role.name}
        membership.role = role
        membership.full_clean()
        membership.save(update_fields=["role"])
        audit(
            organization=organization,
            actor=actor,
            action="member.role_change",
            instance=membership,
            old_values={"username": membership.user.username, **old},
            new_values={
                "username": membership.user.username,
                "role_id": role.pk,
                "role": role.name,
            },
        )
    return membership


def member_remove(*, organization: Organization, actor: User, membership: Membership) -> None:
    """End a membership. The user account stays (it may belong to other organizations);
    the member's live API keys for this organization are revoked with it."""
    with transaction.atomic():
        _lock(organization)
        membership = Membership.objects.select_related("user", "role").get(
            pk=membership.pk, organization=organization
        )
        if _is_admin_role(membership.role):
            _check_other_admins(organization, membership)
        if membership.user_id == actor.pk:
            raise ValidationError(
                {NON_FIELD_ERRORS: "You cannot remove yourself; ask another admin."}
            )
        old = _member_values(membership)
        pk = membership.pk
        membership.delete()
        revoked = ApiKey.objects.filter(
            user_id=old["user_id"], organization=organization, revoked_at__isnull=True
        ).update(revoked_at=timezone.now())
        audit(
            organization=organization,
            actor=actor,
            action="member.remove",
            table_name=Membership._meta.db_table,
            record_id=pk,
            old_values=old,
            new_values={"api_keys_revoked": revoked} if revoked else None,
        )


# --- roles ----------------------------------------------------------------------------------


def _check_role_name(organization: Organization, name: str, role: Role | None = None) -> None:
    problem = selectors.role_name_problem(organization, name, role)
    if problem:
        raise ValidationError({"name": problem})


def _save_role(role: Role) -> None:
    role.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            role.save()
    except IntegrityError:
        raise ValidationError(
            {"name": "This organization already has a role with that name."}
        ) from None


def role_create(*, organization: Organization, actor: User, name: str, codes: list[str]) -> Role:
    with transaction.atomic():
        _lock(organization)
        _check_role_name(organization, name)
        role = Role(organization=organization, name=name, codes=sorted(set(codes)))
        _save_role(role)
        audit(
            organization=organization,
            actor=actor,
            action="role.create",
            instance=role,
            new_values=_role_values(role),
        )
    return role


def role_update(
    *, organization: Organization, actor: User, role: Role, name: str, codes: list[str]
) -> Role:
    """Rename a role or change its codes. Taking pm.org.admin out of the actor's own role,
    or out of the last role that gives it to anyone, is refused."""
    with transaction.atomic():
        _lock(organization)
        role = Role.objects.get(pk=role.pk, organization=organization)
        old = _role_values(role)
        codes = sorted(set(codes))
        if old == {"name": name, "codes": codes}:
            return role
        _check_role_name(organization, name, role)
        if _is_admin_role(role) and permissions.ORG_ADMIN not in codes:
            others = Membership.objects.filter(
                organization=organization,
                role_id__in=selectors.admin_role_ids(organization) - {role.pk},
            )
            if not others.exists():
                raise ValidationError({"codes": LAST_ADMIN})
            if role.memberships.filter(user=actor).exists():
                raise ValidationError(
                    {
                        "codes": "You hold this role: taking pm.org.admin out of it would "
                        "take it away from you. Ask another admin."
                    }
                )
        role.name, role.codes = name, codes
        _save_role(role)
        new = _role_values(role)
        audit(
            organization=organization,
            actor=actor,
            action="role.update",
            instance=role,
            old_values={k: v for k, v in old.items() if v != new[k]},
            new_values={k: v for k, v in new.items() if v != old[k]},
        )
    return role


def role_delete(*, organization: Organization, actor: User, role: Role) -> None:
    """Delete one of the organization's roles, only while no membership uses it."""
    with transaction.atomic():
        _lock(organization)
        role = Role.objects.get(pk=role.pk, organization=organization)
        in_use = role.memberships.count()
        if in_use:
            held_by = "1 member holds" if in_use == 1 else f"{in_use} members hold"
            raise ValidationError(
                {NON_FIELD_ERRORS: f"{held_by} this role; give them another role first."}
            )
        old, pk = _role_values(role), role.pk
        try:
            role.delete()
        except ProtectedError:
            raise ValidationError(
                {NON_FIELD_ERRORS: "Members hold this role; give them another role first."}
            ) from None
        audit(
            organization=organization,
            actor=actor,
            action="role.delete",
            table_name=Role._meta.db_table,
            record_id=pk,
            old_values=old,
        )
