from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import AuditLog, Membership, Role
from clearinghouse.models import ClearinghouseConfig, PayerRoute
from tests import factories

pytestmark = pytest.mark.django_db

PAGE = reverse("failover_settings") + "?tab=routes"
ADD = reverse("failover_route_add")


def _config(org, name, vendor, *, baa=True) -> ClearinghouseConfig:
    fields = {}
    if baa:
        fields = {
            "baa_on_file": True,
            "baa_signed_on": datetime.date(2026, 1, 5),
            "baa_acknowledged_at": timezone.now(),
        }
    return factories.ClearinghouseConfigFactory(
        organization=org, display_name=name, vendor=vendor, **fields
    )


@pytest.fixture
def waystar(org):
    return _config(org, "Waystar", "waystar")


@pytest.fixture
def availity(org):
    return _config(org, "Availity Essentials", "availity")


@pytest.fixture
def payer(org):
    return factories.PayerFactory(organization=org, name="State Medicaid")


@pytest.fixture
def route(org, payer, availity):
    return PayerRoute.objects.create(
        organization=org, payer=payer, forced_vendor=availity, allow_failover=False
    )


def _snapshot():
    return sorted(
        PayerRoute.objects.values_list("pk", "payer_id", "forced_vendor_id", "allow_failover")
    )


def test_it_redirects_anonymous_to_login(client):
    assert client.get(PAGE).status_code == 302
    assert client.post(ADD, {}).status_code == 302


def test_it_refuses_a_member_without_payers_manage(org, login):
    role = Role.objects.create(organization=org, name="No payers", codes=["can_see_billing"])
    user = factories.UserFactory(username="nopayers")
    Membership.objects.create(user=user, organization=org, role=role)
    assert login(user).get(PAGE).status_code == 403


def test_it_lists_the_routes(admin_user, login, org, route, waystar):
    other_payer = factories.PayerFactory(organization=org, name="Acme Health")
    PayerRoute.objects.create(
        organization=org, payer=other_payer, forced_vendor=waystar, allow_failover=True
    )
    body = login(admin_user).get(PAGE).content.decode()
    assert "State Medicaid" in body and "Hard pin" in body
    assert "Acme Health" in body and "Forced with fallback" in body
    assert "Add Payer Route" in body


def test_it_shows_an_empty_state(admin_user, login, waystar):
    body = login(admin_user).get(PAGE).content.decode()
    assert "No payer routes" in body


def test_it_offers_only_vendors_with_a_signed_baa(admin_user, login, org, other_org, waystar):
    no_baa = _config(org, "Change Healthcare", "change_healthcare", baa=False)
    theirs = _config(other_org, "Their Availity", "availity")
    response = login(admin_user).get(PAGE)
    choices = [c.pk for c in response.context["route_form"].fields["forced_vendor"].queryset]
    assert choices == [waystar.pk]
    body = response.content.decode()
    assert f'<option value="{no_baa.pk}"' not in body
    assert f'<option value="{theirs.pk}"' not in body


def test_it_adds_a_route_and_audits(admin_user, login, org, payer, waystar):
    response = login(admin_user).post(
        ADD, {"payer": payer.pk, "forced_vendor": waystar.pk, "allow_failover": "on"}
    )
    assert response.status_code == 302
    route = PayerRoute.objects.get(organization=org, payer=payer)
    assert route.forced_vendor == waystar and route.allow_failover
    assert route.created_by == admin_user
    row = AuditLog.objects.get(action="failover.route_create")
    assert row.new_values == {
        "payer_id": payer.pk,
        "forced_vendor_id": waystar.pk,
        "allow_failover": True,
    }
    page = login(admin_user).get(response["Location"]).content.decode()
    assert "Payer route for State Medicaid added." in page


def test_it_refuses_a_vendor_without_a_baa(admin_user, login, org, payer):
    no_baa = _config(org, "Change Healthcare", "change_healthcare", baa=False)
    response = login(admin_user).post(ADD, {"payer": payer.pk, "forced_vendor": no_baa.pk})
    assert response.status_code == 200
    assert "Choose a clearinghouse with a signed BAA on file." in response.content.decode()
    assert not PayerRoute.objects.exists()


def test_it_refuses_a_second_route_for_the_same_payer(admin_user, login, route, payer, waystar):
    before = _snapshot()
    response = login(admin_user).post(ADD, {"payer": payer.pk, "forced_vendor": waystar.pk})
    assert response.status_code == 200
    assert (
        "State Medicaid already has a payer route. Edit that one instead."
        in response.content.decode()
    )
    assert _snapshot() == before
    assert not AuditLog.objects.filter(action="failover.route_create").exists()


def test_it_requires_payer_and_vendor(admin_user, login, waystar):
    response = login(admin_user).post(ADD, {"payer": "", "forced_vendor": ""})
    body = response.content.decode()
    assert "Choose the payer." in body and "Choose the forced vendor." in body
    assert not PayerRoute.objects.exists()


def test_it_shows_the_edit_form(admin_user, login, route):
    body = login(admin_user).get(PAGE + f"&edit={route.pk}").content.decode()
    assert "Edit payer route for State Medicaid" in body
    assert reverse("failover_route_edit", args=[route.pk]) in body


def test_it_edits_a_route_and_audits(admin_user, login, route, payer, waystar, availity):
    response = login(admin_user).post(
        reverse("failover_route_edit", args=[route.pk]),
        {"payer": payer.pk, "forced_vendor": waystar.pk, "allow_failover": "on"},
    )
    assert response.status_code == 302
    route.refresh_from_db()
    assert route.forced_vendor == waystar and route.allow_failover
    row = AuditLog.objects.get(action="failover.route_update")
    assert row.old_values == {"forced_vendor_id": availity.pk, "allow_failover": False}
    assert row.new_values == {"forced_vendor_id": waystar.pk, "allow_failover": True}


def test_it_refuses_an_edit_onto_another_routed_payer(admin_user, login, org, route, waystar):
    acme = factories.PayerFactory(organization=org, name="Acme Health")
    second = PayerRoute.objects.create(organization=org, payer=acme, forced_vendor=waystar)
    before = _snapshot()
    response = login(admin_user).post(
        reverse("failover_route_edit", args=[second.pk]),
        {"payer": route.payer_id, "forced_vendor": waystar.pk},
    )
    assert response.status_code == 200
    assert "State Medicaid already has a payer route." in response.content.decode()
    assert _snapshot() == before


def test_it_removes_a_route_and_audits(admin_user, login, route, payer, availity):
    response = login(admin_user).post(reverse("failover_route_delete", args=[route.pk]))
    assert response.status_code == 302
    assert not PayerRoute.objects.exists()
    row = AuditLog.objects.get(action="failover.route_delete")
    assert row.record_id == str(route.pk)
    assert row.old_values == {
        "payer_id": payer.pk,
        "forced_vendor_id": availity.pk,
        "allow_failover": False,
    }


def test_it_shows_the_clerk_a_read_only_table(clerk, login, route):
    response = login(clerk).get(PAGE)
    assert response.status_code == 200
    body = response.content.decode()
    assert "State Medicaid" in body and "Hard pin" in body
    assert "Add Payer Route" not in body
    assert "Remove" not in body and "Edit" not in body
    content = body.split("<h1>")[1]
    assert "<select" not in content and 'type="checkbox"' not in content
    assert "<form" not in content
    # the edit form is not offered either
    body = login(clerk).get(PAGE + f"&edit={route.pk}").content.decode()
    assert "Edit payer route" not in body


def test_it_refuses_every_clerk_post(clerk, login, route, payer, waystar, org):
    client = login(clerk)
    before = _snapshot()
    acme = factories.PayerFactory(organization=org, name="Acme Health")
    assert client.post(ADD, {"payer": acme.pk, "forced_vendor": waystar.pk}).status_code == 403
    edit = reverse("failover_route_edit", args=[route.pk])
    assert client.post(edit, {"payer": payer.pk, "forced_vendor": waystar.pk}).status_code == 403
    assert client.post(reverse("failover_route_delete", args=[route.pk])).status_code == 403
    assert _snapshot() == before
    assert not AuditLog.objects.filter(action__startswith="failover.").exists()


def test_it_hides_other_organizations_routes(other, login, route, other_org):
    client = login(other)
    body = client.get(PAGE).content.decode()
    assert "State Medicaid" not in body
    assert client.get(PAGE + f"&edit={route.pk}").status_code == 404
    theirs = _config(other_org, "Their Waystar", "waystar")
    their_payer = factories.PayerFactory(organization=other_org, name="Their Payer")
    edit = reverse("failover_route_edit", args=[route.pk])
    data = {"payer": their_payer.pk, "forced_vendor": theirs.pk}
    assert client.post(edit, data).status_code == 404
    assert client.post(reverse("failover_route_delete", args=[route.pk])).status_code == 404
    assert PayerRoute.objects.filter(pk=route.pk).exists()


def test_it_refuses_another_organizations_payer(admin_user, login, other_org, waystar):
    their_payer = factories.PayerFactory(organization=other_org, name="Their Payer")
    response = login(admin_user).post(ADD, {"payer": their_payer.pk, "forced_vendor": waystar.pk})
    assert "Choose a payer of this organization." in response.content.decode()
    assert not PayerRoute.objects.exists()
