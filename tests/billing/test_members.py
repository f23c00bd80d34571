from __future__ import annotations

import pytest
from django.urls import reverse

from billing.models import AuditLog, Membership, User
from billing.permissions import BILLING_CLERK_ROLE, BILLING_MANAGER_ROLE, ORG_ADMIN, ORG_ADMIN_ROLE
from billing.services import organization as services
from billing.services.organization import LAST_ADMIN
from tests import factories

pytestmark = pytest.mark.django_db

LIST = reverse("member_list")
ADD = reverse("member_add")
PASSWORD = "plum-Harbor-88"


def _new_member(role, /, **changes) -> dict:
    data = {
        "username": "newbie",
        "first_name": "Nora",
        "last_name": "Newman",
        "email": "nora@example.com",
        "role": role.pk,
        "password": PASSWORD,
        "password_again": PASSWORD,
    }
    data.update(changes)
    return data


def _memberships() -> set[tuple[int, int, int]]:
    return set(Membership.objects.values_list("user_id", "organization_id", "role_id"))


def _second_admin(org, username="admin2"):
    user = factories.UserFactory(username=username)
    factories.MembershipFactory(user=user, organization=org, role=factories.role(ORG_ADMIN_ROLE))
    return user


# --- access ---------------------------------------------------------------------------------


def test_it_sends_anonymous_visitors_to_login(client, org, clerk):
    membership = clerk.memberships.get()
    for response in (
        client.get(LIST),
        client.post(ADD, _new_member(factories.role(BILLING_CLERK_ROLE))),
        client.post(reverse("member_remove", args=[membership.pk])),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert Membership.objects.filter(pk=membership.pk).exists()


@pytest.mark.parametrize("persona", ["clerk", "manager"])
def test_it_refuses_members_without_org_admin_and_changes_nothing(
    request, login, org, admin_user, persona
):
    user = request.getfixturevalue(persona)
    admin_membership = admin_user.memberships.get()
    key = factories.ApiKeyFactory(user=admin_user, organization=org)
    before = _memberships()
    users = User.objects.count()
    client = login(user)
    clerk_role = factories.role(BILLING_CLERK_ROLE)

    responses = [
        client.get(LIST),
        client.post(ADD, _new_member(clerk_role)),
        client.post(
            reverse("member_change_role", args=[admin_membership.pk]), {"role": clerk_role.pk}
        ),
        client.post(reverse("member_remove", args=[admin_membership.pk])),
        client.post(reverse("member_api_key_revoke", args=[key.pk])),
    ]

    assert [r.status_code for r in responses] == [403] * 5
    assert _memberships() == before
    assert User.objects.count() == users
    key.refresh_from_db()
    assert key.revoked_at is None
    assert not AuditLog.objects.exists()


def test_another_organizations_admin_gets_404_on_this_organizations_members(
    login, org, admin_user, clerk, other
):
    membership = clerk.memberships.get()
    key = factories.ApiKeyFactory(user=clerk, organization=org)
    before = _memberships()
    client = login(other)
    admin_role = factories.role(ORG_ADMIN_ROLE)

    assert (
        client.post(
            reverse("member_change_role", args=[membership.pk]), {"role": admin_role.pk}
        ).status_code
        == 404
    )
    assert client.post(reverse("member_remove", args=[membership.pk])).status_code == 404
    assert client.post(reverse("member_api_key_revoke", args=[key.pk])).status_code == 404
    html = client.get(LIST).content.decode()

    assert "clerk" not in html
    assert key.name not in html
    assert _memberships() == before
    key.refresh_from_db()
    assert key.revoked_at is None
    assert not AuditLog.objects.exists()


# --- the list -------------------------------------------------------------------------------


def test_it_lists_the_members_with_their_role_and_since(login, org, admin_user, other):
    clerk = factories.UserFactory(
        username="cleo", first_name="Cleo", last_name="Clark", email="cleo@example.com"
    )
    membership = factories.MembershipFactory(
        user=clerk, organization=org, role=factories.role(BILLING_CLERK_ROLE)
    )

    html = login(admin_user).get(LIST).content.decode()

    row = html.split(f'id="member-{membership.pk}"')[1].split("</tr>")[0]
    assert "Cleo Clark" in row
    assert "cleo@example.com" in row
    assert ">cleo<" in row
    assert f'<option value="{membership.role_id}" selected>Billing Clerk</option>' in row
    assert membership.created_at.strftime("%m/%d/%Y") in row
    assert ">other<" not in html


def test_it_shows_admins_the_other_members_live_api_keys(login, org, admin_user, manager):
    factories.ApiKeyFactory(user=manager, organization=org, name="Nightly export")
    factories.ApiKeyFactory(
        user=manager, organization=org, name="Old one", revoked_at="2025-01-01T00:00Z"
    )
    factories.ApiKeyFactory(user=admin_user, organization=org, name="Admin's own")

    html = login(admin_user).get(LIST).content.decode()

    manager_row = html.split(f'id="member-{manager.memberships.get().pk}"')[1].split("</tr>")[0]
    assert '<td class="num">1</td>' in manager_row
    keys = html.split('data-testid="member-keys"')[1].split("</table>")[0]
    assert "Nightly export" in keys
    assert "Old one" not in keys
    assert "Admin&#x27;s own" not in keys


def test_an_admin_revokes_another_members_key(login, org, admin_user, manager):
    key = factories.ApiKeyFactory(user=manager, organization=org, name="Nightly export")

    response = login(admin_user).post(reverse("member_api_key_revoke", args=[key.pk]), follow=True)

    assert f"The API key {key.prefix}… of manager was revoked." in response.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is not None
    row = AuditLog.objects.get(action="api_key.revoke")
    assert row.actor == admin_user
    assert row.new_values["prefix"] == key.prefix
    assert key.key_hash not in str(row.new_values)


# --- adding ---------------------------------------------------------------------------------


def test_it_adds_a_new_user_as_a_member(login, org, admin_user):
    role = factories.role(BILLING_MANAGER_ROLE)

    response = login(admin_user).post(ADD, _new_member(role), follow=True)

    assert "Nora Newman (newbie) was added as Billing Manager." in response.content.decode()
    user = User.objects.get(username="newbie")
    assert (user.first_name, user.last_name, user.email) == ("Nora", "Newman", "nora@example.com")
    assert user.check_password(PASSWORD)
    membership = Membership.objects.get(user=user)
    assert (membership.organization, membership.role) == (org, role)
    row = AuditLog.objects.get(action="member.add")
    assert (row.organization, row.actor, row.record_id) == (org, admin_user, str(membership.pk))
    assert row.new_values["username"] == "newbie"
    assert row.new_values["role"] == "Billing Manager"
    assert PASSWORD not in str(row.new_values)
    assert "password" not in row.new_values


def test_the_new_member_can_log_in_and_works_in_the_organization(client, login, org, admin_user):
    login(admin_user).post(ADD, _new_member(factories.role(BILLING_CLERK_ROLE)))
    client.logout()

    assert client.login(username="newbie", password=PASSWORD)
    assert "Demo Family Practice" in client.get(reverse("dashboard")).content.decode()


def test_it_offers_and_accepts_the_organizations_own_roles(login, org, other_org, admin_user):
    own = factories.OrganizationRoleFactory(organization=org, name="Front desk")
    foreign = factories.OrganizationRoleFactory(organization=other_org, name="Ortho billing")
    client = login(admin_user)

    html = client.get(LIST).content.decode()
    assert "Front desk" in html
    assert "Ortho billing" not in html

    client.post(ADD, _new_member(own))
    assert Membership.objects.get(user__username="newbie").role == own

    response = client.post(ADD, _new_member(foreign, username="sneaky"))
    assert "Select a valid choice" in response.content.decode()
    assert not User.objects.filter(username="sneaky").exists()


@pytest.mark.parametrize("username", ["other", "OTHER"])
def test_it_refuses_a_username_that_exists_anywhere(login, org, admin_user, other, username):
    before = _memberships()
    users = User.objects.count()

    response = login(admin_user).post(
        ADD, _new_member(factories.role(BILLING_CLERK_ROLE), username=username)
    )

    assert response.status_code == 200
    assert "That username is taken." in response.content.decode()
    assert _memberships() == before
    assert User.objects.count() == users
    assert not Membership.objects.filter(user=other, organization=org).exists()
    assert not AuditLog.objects.exists()


def test_the_service_refuses_a_taken_username_too(org, admin_user, other):
    with pytest.raises(services.ValidationError) as caught:
        services.member_add(
            organization=org,
            actor=admin_user,
            username="other",
            first_name="O",
            last_name="Ther",
            email="o@example.com",
            role=factories.role(BILLING_CLERK_ROLE),
            password=PASSWORD,
        )
    assert caught.value.message_dict == {"username": ["That username is taken."]}
    assert not Membership.objects.filter(user=other, organization=org).exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"password_again": "plum-Harbor-89"}, "The two passwords do not match."),
        ({"password": "123", "password_again": "123"}, "This password is too short."),
        ({"password": "password123", "password_again": "password123"}, "too common"),
        ({"password": "newbie-nora", "password_again": "newbie-nora"}, "too similar"),
        ({"username": "has space"}, "Enter a valid username."),
        ({"email": "not-an-email"}, "Enter a valid email address."),
        ({"role": ""}, "This field is required."),
        ({"first_name": ""}, "This field is required."),
    ],
)
def test_it_refuses_bad_input_and_creates_nothing(login, org, admin_user, changes, message):
    before = _memberships()
    users = User.objects.count()

    response = login(admin_user).post(
        ADD, _new_member(factories.role(BILLING_CLERK_ROLE), **changes)
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert '<div class="field-error">' in html
    assert PASSWORD not in html  # passwords are never echoed back
    assert User.objects.count() == users
    assert _memberships() == before
    assert not AuditLog.objects.exists()


# --- changing a role ------------------------------------------------------------------------


def test_it_changes_a_members_role(login, org, admin_user, clerk):
    membership = clerk.memberships.get()
    manager_role = factories.role(BILLING_MANAGER_ROLE)

    response = login(admin_user).post(
        reverse("member_change_role", args=[membership.pk]), {"role": manager_role.pk}, follow=True
    )

    assert "clerk now has the role Billing Manager." in response.content.decode()
    membership.refresh_from_db()
    assert membership.role == manager_role
    row = AuditLog.objects.get(action="member.role_change")
    assert row.old_values == {
        "username": "clerk",
        "role_id": factories.role(BILLING_CLERK_ROLE).pk,
        "role": "Billing Clerk",
    }
    assert row.new_values == {
        "username": "clerk",
        "role_id": manager_role.pk,
        "role": "Billing Manager",
    }


def test_an_admin_cannot_demote_themselves(login, org, admin_user):
    _second_admin(org)
    membership = admin_user.memberships.get()

    response = login(admin_user).post(
        reverse("member_change_role", args=[membership.pk]),
        {"role": factories.role(BILLING_MANAGER_ROLE).pk},
    )

    assert response.status_code == 200
    assert "You cannot take pm.org.admin away from yourself" in response.content.decode()
    membership.refresh_from_db()
    assert membership.role.name == ORG_ADMIN_ROLE
    assert not AuditLog.objects.exists()


def test_an_admin_may_move_to_another_role_that_keeps_org_admin(login, org, admin_user):
    keeper = factories.OrganizationRoleFactory(organization=org, codes=[ORG_ADMIN])
    membership = admin_user.memberships.get()

    login(admin_user).post(reverse("member_change_role", args=[membership.pk]), {"role": keeper.pk})

    membership.refresh_from_db()
    assert membership.role == keeper


def test_the_last_admin_keeps_org_admin(login, org, admin_user):
    membership = admin_user.memberships.get()

    response = login(admin_user).post(
        reverse("member_change_role", args=[membership.pk]),
        {"role": factories.role(BILLING_CLERK_ROLE).pk},
    )

    assert LAST_ADMIN in response.content.decode()
    membership.refresh_from_db()
    assert membership.role.name == ORG_ADMIN_ROLE


def test_the_service_keeps_the_last_admin_whoever_asks(org, admin_user):
    outsider = factories.UserFactory(username="support")
    with pytest.raises(services.ValidationError, match="at least one member"):
        services.member_change_role(
            organization=org,
            actor=outsider,
            membership=admin_user.memberships.get(),
            role=factories.role(BILLING_CLERK_ROLE),
        )
    with pytest.raises(services.ValidationError, match="at least one member"):
        services.member_remove(
            organization=org, actor=outsider, membership=admin_user.memberships.get()
        )
    assert admin_user.memberships.get().role.name == ORG_ADMIN_ROLE


# --- removing -------------------------------------------------------------------------------


def test_it_removes_a_member_but_keeps_the_account_and_revokes_their_keys(
    login, org, other_org, admin_user, manager
):
    membership = manager.memberships.get()
    factories.MembershipFactory(user=manager, organization=other_org)
    here = factories.ApiKeyFactory(user=manager, organization=org)
    there = factories.ApiKeyFactory(user=manager, organization=other_org)

    response = login(admin_user).post(reverse("member_remove", args=[membership.pk]), follow=True)

    assert "manager is no longer a member of Demo Family Practice." in response.content.decode()
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert User.objects.filter(pk=manager.pk).exists()
    assert Membership.objects.filter(user=manager, organization=other_org).exists()
    here.refresh_from_db()
    there.refresh_from_db()
    assert here.revoked_at is not None
    assert there.revoked_at is None
    row = AuditLog.objects.get(action="member.remove")
    assert (row.organization, row.actor, row.record_id) == (org, admin_user, str(membership.pk))
    assert row.old_values["username"] == "manager"
    assert row.old_values["role"] == "Billing Manager"
    assert row.new_values == {"api_keys_revoked": 1}


def test_an_admin_cannot_remove_themselves(login, org, admin_user):
    _second_admin(org)
    membership = admin_user.memberships.get()

    response = login(admin_user).post(reverse("member_remove", args=[membership.pk]))

    assert "You cannot remove yourself; ask another admin." in response.content.decode()
    assert Membership.objects.filter(pk=membership.pk).exists()
    assert not AuditLog.objects.exists()


def test_removing_the_last_admin_is_refused(login, org, admin_user):
    membership = admin_user.memberships.get()

    response = login(admin_user).post(reverse("member_remove", args=[membership.pk]))

    assert response.status_code == 200
    assert LAST_ADMIN in response.content.decode()
    assert Membership.objects.filter(pk=membership.pk).exists()
    assert not AuditLog.objects.exists()


def test_an_admin_removes_another_admin_while_one_remains(login, org, admin_user):
    second = _second_admin(org)

    login(admin_user).post(reverse("member_remove", args=[second.memberships.get().pk]))

    assert not Membership.objects.filter(user=second, organization=org).exists()
    assert AuditLog.objects.filter(action="member.remove").count() == 1
