""" "Test connection" on a clearinghouse configuration's page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from billing.models import AuditLog
from clearinghouse.vendors.base import HealthResult, TransientFailure
from tests.clearinghouse.test_vendor_services import config_for, install_fake

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake(monkeypatch):
    return install_fake(monkeypatch)


BUTTON = "Test connection"


@pytest.fixture
def config(org):
    return config_for(org)


def _url(config):
    return reverse("clearinghouse_test_connection", args=[config.pk])


def _detail(config):
    return reverse("clearinghouse_detail", args=[config.pk])


def _messages(response):
    return [str(m) for m in response.context["messages"]]


# --- guards --------------------------------------------------------------------------------


def test_it_sends_anonymous_visitors_to_login(client, config, fake):
    response = client.post(_url(config))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert fake.calls == []


def test_it_answers_404_to_another_organizations_member(login, other, config, fake):
    assert login(other).post(_url(config)).status_code == 404
    assert fake.calls == []
    assert not AuditLog.objects.exists()


@pytest.mark.parametrize("persona", ["clerk", "manager"])
def test_it_refuses_members_without_the_clearinghouse_admin_code(
    request, login, config, fake, persona
):
    client = login(request.getfixturevalue(persona))
    assert client.post(_url(config)).status_code == 403
    assert fake.calls == []
    assert not AuditLog.objects.exists()
    html = client.get(_detail(config)).content.decode()
    assert BUTTON not in html
    assert "Not tested yet" in html


def test_it_takes_only_post(login, admin_user, config, fake):
    assert login(admin_user).get(_url(config)).status_code == 405


# --- results -------------------------------------------------------------------------------


def test_it_shows_a_healthy_connection_with_its_latency_and_audits(login, admin_user, config, fake):
    fake.script["health_check"] = HealthResult(ok=True, latency_ms=84)
    client = login(admin_user)
    assert BUTTON in client.get(_detail(config)).content.decode()

    response = client.post(_url(config), follow=True)

    assert response.redirect_chain == [(_detail(config), 302)]
    assert _messages(response) == ["Waystar: Healthy · 84 ms"]
    assert 'data-testid="connection-test">Healthy · 84 ms<' in response.content.decode()
    (row,) = AuditLog.objects.filter(action="clearinghouse.test_connection")
    assert (row.actor, row.record_id) == (admin_user, str(config.pk))
    assert row.new_values == {"ok": True, "latency_ms": 84, "detail": ""}


def test_it_shows_why_the_connection_failed(login, admin_user, config, fake):
    fake.script["health_check"] = TransientFailure("waystar", "GET /api/v1/health: HTTP 503")

    response = login(admin_user).post(_url(config), follow=True)

    (message,) = _messages(response)
    assert message.startswith("Waystar: connection failed after ")
    assert message.endswith(" ms · GET /api/v1/health: HTTP 503")
    html = response.content.decode()
    assert "Failed · " in html and "GET /api/v1/health: HTTP 503" in html
    assert "s3cret-value" not in html
    assert AuditLog.objects.get(action="clearinghouse.test_connection").new_values["ok"] is False


def test_readers_see_the_last_result(login, admin_user, clerk, config, fake):
    fake.script["health_check"] = HealthResult(ok=True, latency_ms=1250)
    login(admin_user).post(_url(config))
    html = login(clerk).get(_detail(config)).content.decode()
    assert 'data-testid="connection-test">Healthy · 1,250 ms<' in html


def test_with_htmx_it_answers_the_result_in_place(login, admin_user, config, fake):
    fake.script["health_check"] = HealthResult(ok=False, latency_ms=15000, detail="no answer")

    response = login(admin_user).post(_url(config), headers={"HX-Request": "true"})

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="conn-test"')
    assert "Failed · 15,000 ms" in html and "no answer" in html
    assert BUTTON in html  # the button stays for the next test
    assert "<h1" not in html
    assert "HX-Request" in response["Vary"]
    assert AuditLog.objects.filter(action="clearinghouse.test_connection").count() == 1


def test_it_tests_an_inactive_configuration_too(login, admin_user, org, fake):
    config = config_for(org, display_name="Spare", is_active=False)
    fake.script["health_check"] = HealthResult(ok=True, latency_ms=12)
    response = login(admin_user).post(_url(config), follow=True)
    assert _messages(response) == ["Spare: Healthy · 12 ms"]
