from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from billing.permissions import BILLING_MANAGER_ROLE
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_in_both(admin_user, other_org):
    factories.MembershipFactory(
        user=admin_user, organization=other_org, role=factories.role(BILLING_MANAGER_ROLE)
    )
    return admin_user


def test_it_offers_the_switcher_only_to_members_of_several_organizations(
    login, admin_in_both, clerk
):
    assert 'name="organization"' in login(admin_in_both).get(reverse("dashboard")).content.decode()
    assert 'name="organization"' not in login(clerk).get(reverse("dashboard")).content.decode()


def test_it_switches_organization_and_remembers_it_for_the_next_login(
    login, admin_in_both, org, other_org
):
    client = login(admin_in_both)
    response = client.post(
        reverse("organization_switch"), {"organization": other_org.pk}, follow=True
    )

    html = response.content.decode()
    assert f"You are now working in {other_org.name}" in html
    assert f'value="{other_org.pk}" selected' in html
    assert "Billing Manager" in html
    admin_in_both.refresh_from_db()
    assert admin_in_both.last_organization == other_org
    # Billing Manager there: no audit code is lost, but org admin codes are.
    assert client.get(reverse("audit_log")).status_code == 200

    fresh = Client()
    fresh.post(reverse("login"), {"username": "admin", "password": "demo"})
    assert fresh.session.get("organization_id") is None
    assert f'value="{other_org.pk}" selected' in fresh.get(reverse("dashboard")).content.decode()


def test_it_answers_404_for_an_organization_the_user_is_not_a_member_of(
    login, clerk, other_org, org
):
    client = login(clerk)
    response = client.post(reverse("organization_switch"), {"organization": other_org.pk})
    assert response.status_code == 404
    clerk.refresh_from_db()
    assert clerk.last_organization_id is None
    assert f'value="{other_org.pk}"' not in client.get(reverse("dashboard")).content.decode()


def test_it_refuses_bad_input_and_get(login, admin_in_both):
    client = login(admin_in_both)
    assert client.post(reverse("organization_switch"), {"organization": "x"}).status_code == 400
    assert client.get(reverse("organization_switch")).status_code == 405
    admin_in_both.refresh_from_db()
    assert admin_in_both.last_organization_id is None


def test_it_needs_a_csrf_token_to_switch(admin_in_both, other_org):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_in_both)
    response = client.post(reverse("organization_switch"), {"organization": other_org.pk})
    assert response.status_code == 403
    admin_in_both.refresh_from_db()
    assert admin_in_both.last_organization_id is None
