from __future__ import annotations

import pytest

from billing import permissions
from billing.models import Role
from billing.permissions import BILLING_CLERK_ROLE, BILLING_MANAGER_ROLE, ORG_ADMIN_ROLE
from billing.tenancy import tenant_context
from tests import factories

pytestmark = pytest.mark.django_db

TABLE = {
    # code: (Org Admin, Billing Manager, Billing Clerk), as in the table
    "pm.payers.manage": (1, 1, 1),
    "pm.payers.edit": (1, 1, 0),
    "pm.payer_enrollments.create": (1, 1, 0),
    "pm.payer_enrollments.edit": (1, 1, 0),
    "pm.clearinghouse.admin": (1, 0, 0),
    "pm.batch.claim_generate": (1, 1, 0),
    "pm.patients.edit": (1, 1, 0),
    "pm.charges.edit": (1, 1, 0),
    "pm.eligibility.check": (1, 1, 1),
    "can_see_billing": (1, 1, 1),
    "sees_all_billing": (1, 1, 0),
    "pm.collections.manage": (1, 1, 0),
    "pm.collections.export": (1, 1, 0),
    "pm.audit.view": (1, 1, 0),
    "pm.org.admin": (1, 0, 0),
}


def test_the_codes_are_exactly_the_table():
    assert set(permissions.CODES) == set(TABLE)


@pytest.mark.parametrize("code", sorted(TABLE))
def test_the_builtin_roles_hold_the_codes_of_the_table(code):
    roles = [ORG_ADMIN_ROLE, BILLING_MANAGER_ROLE, BILLING_CLERK_ROLE]
    held = tuple(int(code in Role.objects.get(organization=None, name=r).codes) for r in roles)
    assert held == TABLE[code]


def test_has_perm_answers_for_the_active_organization_only(org, other_org):
    user = factories.UserFactory(username="two-hats")
    factories.MembershipFactory(user=user, organization=org, role=factories.role(ORG_ADMIN_ROLE))
    factories.MembershipFactory(
        user=user, organization=other_org, role=factories.role(BILLING_CLERK_ROLE)
    )

    assert not user.has_perm("pm.org.admin")  # no organization active: nothing
    with tenant_context(org):
        assert user.has_perm("pm.org.admin")
    with tenant_context(other_org):
        assert not user.has_perm("pm.org.admin")
        assert user.has_perm("pm.payers.manage")
        assert "can_see_billing" in user.get_all_permissions()


def test_an_organization_may_define_its_own_role(org, other_org):
    custom = Role.objects.create(organization=org, name="Front desk", codes=["pm.patients.edit"])
    user = factories.UserFactory(username="frontdesk")
    factories.MembershipFactory(user=user, organization=org, role=custom)
    with tenant_context(org):
        assert user.has_perm("pm.patients.edit")
        assert not user.has_perm("pm.charges.edit")


def test_a_role_refuses_unknown_codes(org):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match=r"pm\.made\.up"):
        Role(organization=org, name="Bad", codes=["pm.made.up"]).full_clean()


def test_a_membership_cannot_use_another_organizations_role(org, other_org):
    from django.core.exceptions import ValidationError

    foreign = Role.objects.create(organization=other_org, name="Theirs", codes=[])
    membership = factories.MembershipFactory.build(
        user=factories.UserFactory(username="x"), organization=org, role=foreign
    )
    with pytest.raises(ValidationError, match="another organization"):
        membership.full_clean()
