from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape

from billing import permissions
from billing.models import AuditLog, Membership, Role
from billing.permissions import BILLING_CLERK_ROLE, ORG_ADMIN, ORG_ADMIN_ROLE
from tests import factories

pytestmark = pytest.mark.django_db

LIST = reverse("role_list")
ADD = reverse("role_add")


def _roles() -> set[tuple]:
    return {(r.pk, r.organization_id, r.name, tuple(r.codes)) for r in Role.objects.all()}


@pytest.fixture
def front_desk(org):
    return factories.OrganizationRoleFactory(
        organization=org, name="Front desk", codes=["can_see_billing", "pm.patients.edit"]
    )


# --- access ---------------------------------------------------------------------------------


def test_it_sends_anonymous_visitors_to_login(client, org, front_desk):
    for response in (
        client.get(LIST),
        client.post(ADD, {"name": "X", "codes": ["can_see_billing"]}),
        client.post(reverse("role_delete", args=[front_desk.pk])),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert Role.objects.filter(pk=front_desk.pk).exists()


@pytest.mark.parametrize("persona", ["clerk", "manager"])
def test_it_refuses_members_without_org_admin_and_changes_nothing(
    request, login, org, front_desk, persona
):
    client = login(request.getfixturevalue(persona))
    before = _roles()

    responses = [
        client.get(LIST),
        client.get(ADD),
        client.post(ADD, {"name": "Sneaky", "codes": [ORG_ADMIN]}),
        client.get(reverse("role_edit", args=[front_desk.pk])),
        client.post(
            reverse("role_edit", args=[front_desk.pk]),
            {"name": "Front desk", "codes": [ORG_ADMIN]},
        ),
        client.post(reverse("role_delete", args=[front_desk.pk])),
    ]

    assert [r.status_code for r in responses] == [403] * 6
    assert _roles() == before
    assert not AuditLog.objects.exists()


def test_another_organizations_admin_gets_404_on_this_organizations_roles(
    login, org, front_desk, other
):
    client = login(other)
    before = _roles()

    assert client.get(reverse("role_edit", args=[front_desk.pk])).status_code == 404
    assert (
        client.post(
            reverse("role_edit", args=[front_desk.pk]), {"name": "Mine", "codes": [ORG_ADMIN]}
        ).status_code
        == 404
    )
    assert client.post(reverse("role_delete", args=[front_desk.pk])).status_code == 404
    assert "Front desk" not in client.get(LIST).content.decode()
    assert _roles() == before


def test_built_in_roles_cannot_be_edited_or_deleted(login, admin_user):
    builtin = factories.role(BILLING_CLERK_ROLE)
    client = login(admin_user)
    before = _roles()

    assert client.get(reverse("role_edit", args=[builtin.pk])).status_code == 404
    assert (
        client.post(
            reverse("role_edit", args=[builtin.pk]), {"name": "Clerk+", "codes": [ORG_ADMIN]}
        ).status_code
        == 404
    )
    assert client.post(reverse("role_delete", args=[builtin.pk])).status_code == 404
    assert _roles() == before


# --- the list -------------------------------------------------------------------------------


def test_it_lists_built_in_roles_with_their_codes_and_the_organizations_roles(
    login, org, other_org, admin_user, front_desk
):
    factories.OrganizationRoleFactory(organization=other_org, name="Ortho billing")
    factories.MembershipFactory(organization=org, role=front_desk)

    html = login(admin_user).get(LIST).content.decode()

    builtin = html.split('data-testid="builtin-roles"')[1].split("</table>")[0]
    for name in permissions.BUILTIN_ROLES:
        assert name in builtin
    assert '<code class="org-code">pm.clearinghouse.admin</code>' in builtin
    own = html.split('data-testid="org-roles"')[1].split("</table>")[0]
    row = own.split(f'id="role-{front_desk.pk}"')[1].split("</tr>")[0]
    assert "Front desk" in row
    assert '<code class="org-code">pm.patients.edit</code>' in row
    assert '<td class="num">1</td>' in row
    assert "Ortho billing" not in html
    for meaning in permissions.CODES.values():
        assert escape(meaning) in html


def test_it_says_when_the_organization_has_no_roles_of_its_own(login, admin_user):
    assert "No roles of your own yet." in login(admin_user).get(LIST).content.decode()


def test_the_form_lists_every_code_with_its_meaning(login, admin_user):
    html = login(admin_user).get(ADD).content.decode()
    for code, meaning in permissions.CODES.items():
        assert f'value="{code}"' in html
        assert escape(meaning) in html


# --- creating and editing -------------------------------------------------------------------


def test_it_creates_a_role(login, org, admin_user):
    response = login(admin_user).post(
        ADD,
        {"name": "  Front   desk ", "codes": ["pm.patients.edit", "can_see_billing"]},
        follow=True,
    )

    assert "The role Front desk was created." in response.content.decode()
    role = Role.objects.get(organization=org)
    assert role.name == "Front desk"
    assert role.codes == ["can_see_billing", "pm.patients.edit"]
    row = AuditLog.objects.get(action="role.create")
    assert (row.organization, row.actor, row.record_id) == (org, admin_user, str(role.pk))
    assert row.new_values == {
        "name": "Front desk",
        "codes": ["can_see_billing", "pm.patients.edit"],
    }


def test_two_organizations_may_use_the_same_role_name(login, other_org, front_desk, other):
    login(other).post(ADD, {"name": "Front desk", "codes": ["can_see_billing"]})
    assert Role.objects.filter(organization=other_org, name="Front desk").exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "Front desk", "codes": ["can_see_billing"]}, "already has a role with that name"),
        ({"name": "FRONT DESK", "codes": ["can_see_billing"]}, "already has a role with that name"),
        ({"name": "Org Admin", "codes": ["can_see_billing"]}, "name of a built-in role"),
        ({"name": "billing clerk", "codes": ["can_see_billing"]}, "name of a built-in role"),
        ({"name": "Auditor", "codes": []}, "Pick at least one permission."),
        ({"name": "Auditor", "codes": ["pm.everything"]}, "Select a valid choice."),
        ({"name": "", "codes": ["can_see_billing"]}, "This field is required."),
    ],
)
def test_it_refuses_bad_roles_and_changes_nothing(login, admin_user, front_desk, data, message):
    before = _roles()

    response = login(admin_user).post(ADD, data)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert _roles() == before
    assert not AuditLog.objects.exists()


def test_it_edits_a_role_and_audits_what_changed(login, org, admin_user, front_desk):
    response = login(admin_user).post(
        reverse("role_edit", args=[front_desk.pk]),
        {"name": "Front desk", "codes": ["can_see_billing", "pm.eligibility.check"]},
        follow=True,
    )

    assert "The role Front desk was saved." in response.content.decode()
    front_desk.refresh_from_db()
    assert front_desk.codes == ["can_see_billing", "pm.eligibility.check"]
    row = AuditLog.objects.get(action="role.update")
    assert row.old_values == {"codes": ["can_see_billing", "pm.patients.edit"]}
    assert row.new_values == {"codes": ["can_see_billing", "pm.eligibility.check"]}


def test_the_edit_form_shows_the_roles_codes_checked(login, admin_user, front_desk):
    html = login(admin_user).get(reverse("role_edit", args=[front_desk.pk])).content.decode()
    assert 'value="Front desk"' in html
    assert 'value="pm.patients.edit" id="id_codes_6" checked' in html
    assert 'value="pm.org.admin" id="id_codes_14">' in html


def test_a_role_keeps_its_own_name_when_edited(login, admin_user, front_desk):
    login(admin_user).post(
        reverse("role_edit", args=[front_desk.pk]),
        {"name": "Reception", "codes": front_desk.codes},
    )
    front_desk.refresh_from_db()
    assert front_desk.name == "Reception"
    assert AuditLog.objects.get(action="role.update").new_values == {"name": "Reception"}


def test_renaming_onto_another_role_is_refused(login, org, admin_user, front_desk):
    factories.OrganizationRoleFactory(organization=org, name="Reception")
    response = login(admin_user).post(
        reverse("role_edit", args=[front_desk.pk]),
        {"name": "Reception", "codes": front_desk.codes},
    )
    assert "already has a role with that name" in response.content.decode()
    front_desk.refresh_from_db()
    assert front_desk.name == "Front desk"


def test_an_admin_cannot_take_org_admin_out_of_their_own_role(login, org, admin_user):
    keeper = factories.OrganizationRoleFactory(organization=org, name="Owners", codes=[ORG_ADMIN])
    membership = admin_user.memberships.get()
    membership.role = keeper
    membership.save()
    factories.MembershipFactory(organization=org, role=factories.role(ORG_ADMIN_ROLE))

    response = login(admin_user).post(
        reverse("role_edit", args=[keeper.pk]), {"name": "Owners", "codes": ["can_see_billing"]}
    )

    assert "You hold this role" in response.content.decode()
    keeper.refresh_from_db()
    assert keeper.codes == [ORG_ADMIN]


def test_taking_org_admin_out_of_the_last_role_that_gives_it_is_refused(org, admin_user):
    from billing.services import organization as services

    keeper = factories.OrganizationRoleFactory(organization=org, name="Owners", codes=[ORG_ADMIN])
    membership = admin_user.memberships.get()
    membership.role = keeper
    membership.save()

    with pytest.raises(services.ValidationError, match="at least one member"):
        services.role_update(
            organization=org,
            actor=factories.UserFactory(username="support"),
            role=keeper,
            name="Owners",
            codes=["can_see_billing"],
        )
    keeper.refresh_from_db()
    assert keeper.codes == [ORG_ADMIN]


# --- deleting -------------------------------------------------------------------------------


def test_it_deletes_an_unused_role(login, org, admin_user, front_desk):
    pk = front_desk.pk
    response = login(admin_user).post(reverse("role_delete", args=[pk]), follow=True)

    assert "The role Front desk was deleted." in response.content.decode()
    assert not Role.objects.filter(pk=pk).exists()
    row = AuditLog.objects.get(action="role.delete")
    assert (row.organization, row.record_id, row.table_name) == (org, str(pk), "billing_role")
    assert row.old_values == {
        "name": "Front desk",
        "codes": ["can_see_billing", "pm.patients.edit"],
    }


def test_it_refuses_to_delete_a_role_in_use(login, org, admin_user, front_desk):
    factories.MembershipFactory(organization=org, role=front_desk)

    response = login(admin_user).post(reverse("role_delete", args=[front_desk.pk]))

    assert response.status_code == 200
    assert "1 member holds this role; give them another role first." in response.content.decode()
    assert Role.objects.filter(pk=front_desk.pk).exists()
    assert Membership.objects.filter(role=front_desk).count() == 1
    assert not AuditLog.objects.exists()


def test_it_reports_a_bad_name_and_missing_permissions_together(login, admin_user):
    response = login(admin_user).post(ADD, {"name": "org admin", "codes": []})

    html = response.content.decode()
    assert "That is the name of a built-in role; choose another." in html
    assert "Pick at least one permission." in html
    assert not Role.objects.filter(organization__isnull=False).exists()


def test_a_role_in_use_offers_no_delete_button(login, org, admin_user, front_desk):
    factories.MembershipFactory(organization=org, role=front_desk)
    html = login(admin_user).get(LIST).content.decode()
    row = html.split(f'id="role-{front_desk.pk}"')[1].split("</tr>")[0]
    assert "in use" in row
    assert reverse("role_delete", args=[front_desk.pk]) not in row
