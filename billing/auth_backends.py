from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from billing.models import Membership
from billing.tenancy import current_organization


class OrganizationPermissionBackend(ModelBackend):
    """Answers `user.has_perm(code)` with the codes of the user's role in the active
    organization: the request's (set by OrganizationMiddleware) or, in tasks and commands,
    the one of the enclosing `tenant_context`."""

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        membership = getattr(user_obj, "active_membership", None)
        if membership is None:
            organization = current_organization()
            if organization is None:
                return set()
            cache = user_obj.__dict__.setdefault("_codes_by_organization", {})
            if organization.pk not in cache:
                membership = (
                    Membership.objects.select_related("role")
                    .filter(user=user_obj, organization=organization)
                    .first()
                )
                cache[organization.pk] = (
                    frozenset(membership.role.codes) if membership else frozenset()
                )
            return set(cache[organization.pk])
        return set(membership.role.codes)

    def get_user_permissions(self, user_obj, obj=None) -> set[str]:
        return self.get_all_permissions(user_obj, obj)

    def get_group_permissions(self, user_obj, obj=None) -> set[str]:
        return set()

    def has_perm(self, user_obj, perm, obj=None) -> bool:
        return perm in self.get_all_permissions(user_obj, obj)

    def has_module_perms(self, user_obj, app_label) -> bool:
        # Lets templates ask `{% if "can_see_billing" in perms %}` for dotless codes.
        return app_label in self.get_all_permissions(user_obj)
