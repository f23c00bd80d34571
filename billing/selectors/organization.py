"""Reads of organization settings: members, roles and API keys. Every read takes the
organization; memberships, roles and keys are directory tables, so nothing else scopes them."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from billing import permissions
from billing.models import ApiKey, Membership, Organization, Role, User


def organization_for_update(organization: Organization) -> Organization:
    """A fresh copy of the organization for a settings form, so a form that fails
    validation never changes the instance the rest of the request shows."""
    return Organization.objects.get(pk=organization.pk)


def members(organization: Organization) -> QuerySet[Membership]:
    active_keys = Count(
        "user__api_keys",
        filter=Q(
            user__api_keys__organization=organization, user__api_keys__revoked_at__isnull=True
        ),
    )
    return (
        Membership.objects.filter(organization=organization)
        .select_related("user", "role")
        .annotate(active_api_keys=active_keys)
        .order_by("user__last_name", "user__first_name", "user__username")
    )


def builtin_roles() -> QuerySet[Role]:
    return Role.objects.filter(organization__isnull=True).order_by("name")


def organization_roles(organization: Organization) -> QuerySet[Role]:
    """The organization's own roles, each with the number of members holding it."""
    return (
        Role.objects.filter(organization=organization)
        .annotate(member_count=Count("memberships"))
        .order_by("name")
    )


def role_name_problem(organization: Organization, name: str, role: Role | None = None) -> str:
    """Why `name` cannot name one of the organization's roles, or "" when it can."""
    if Role.objects.filter(organization__isnull=True, name__iexact=name).exists():
        return "That is the name of a built-in role; choose another."
    same = Role.objects.filter(organization=organization, name__iexact=name)
    if role is not None:
        same = same.exclude(pk=role.pk)
    if same.exists():
        return "This organization already has a role with that name."
    return ""


def assignable_roles(organization: Organization) -> QuerySet[Role]:
    """The roles a member of this organization may hold: the built-in ones and its own."""
    return Role.objects.filter(
        Q(organization__isnull=True) | Q(organization=organization)
    ).order_by("organization_id", "name")


def admin_role_ids(organization: Organization) -> set[int]:
    # JSON containment differs between SQLite and PostgreSQL; the roles are few.
    return {
        role.pk
        for role in assignable_roles(organization)
        if permissions.ORG_ADMIN in (role.codes or [])
    }


def admin_count(organization: Organization) -> int:
    """How many members hold pm.org.admin through their role."""
    return Membership.objects.filter(
        organization=organization, role_id__in=admin_role_ids(organization)
    ).count()


def user_api_keys(user: User, organization: Organization) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(user=user, organization=organization).order_by(
        "revoked_at", "-created_at", "-id"
    )


def other_members_active_api_keys(organization: Organization, user: User) -> QuerySet[ApiKey]:
    """The organization's live keys that belong to members other than `user`."""
    return (
        ApiKey.objects.filter(
            organization=organization,
            revoked_at__isnull=True,
            user__memberships__organization=organization,
        )
        .exclude(user=user)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "-created_at", "-id")
    )
