from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

WRONG = "Please enter a correct username and password"


def test_it_logs_in_and_lands_on_the_dashboard_of_the_last_organization(client, admin_user, org):
    response = client.post(reverse("login"), {"username": "admin", "password": "demo"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("dashboard")
    assert b"Dashboard" in response.content
    assert org.name.encode() in response.content


@pytest.mark.parametrize(
    ("username", "password"), [("admin", "wrong"), ("nobody", "demo"), ("admin", "")]
)
def test_it_refuses_a_wrong_login_without_saying_which_part_was_wrong(
    client, admin_user, username, password
):
    response = client.post(reverse("login"), {"username": username, "password": password})
    assert response.status_code == 200
    text = response.content.decode()
    if password:
        assert WRONG in text
    else:
        assert "This field is required" in text
    assert "_auth_user_id" not in client.session
    assert "no such user" not in text.lower()


@pytest.mark.parametrize("name", ["dashboard", "audit_log"])
def test_it_sends_anonymous_users_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_logs_out_only_by_post(client, admin_user):
    client.force_login(admin_user)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_it_needs_a_csrf_token_to_log_in(admin_user):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "admin", "password": "demo"})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_it_tells_a_user_without_an_organization_so(client, db):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="lonely"))
    response = client.get(reverse("dashboard"))
    assert response.status_code == 403
    assert b"not a member of any organization" in response.content
