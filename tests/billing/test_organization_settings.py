from __future__ import annotations

import re

import pytest
from django.urls import reverse

from billing.models import AuditLog, Organization
from tests import factories

pytestmark = pytest.mark.django_db

URL = reverse("organization_settings")


def _form(organization: Organization, **changes) -> dict:
    data = {
        "name": organization.name,
        "time_zone": organization.time_zone,
        "billing_npi": organization.billing_npi,
        "tax_id": organization.tax_id,
        "address_line1": organization.address_line1,
        "address_line2": organization.address_line2,
        "city": organization.city,
        "state": organization.state,
        "zip_code": organization.zip_code,
        "phone": organization.phone,
    }
    if organization.employer_collections_enabled:
        data["employer_collections_enabled"] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _snapshot(organization: Organization) -> dict:
    organization.refresh_from_db()
    return {f.attname: getattr(organization, f.attname) for f in Organization._meta.fields}


def test_it_sends_anonymous_visitors_to_login(client, org):
    for response in (client.get(URL), client.post(URL, _form(org, name="X"))):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("persona", ["clerk", "manager"])
def test_it_refuses_members_without_org_admin(request, login, org, persona):
    user = request.getfixturevalue(persona)
    before = _snapshot(org)
    client = login(user)

    assert client.get(URL).status_code == 403
    response = client.post(URL, _form(org, name="Taken Over", employer_collections_enabled="on"))

    assert response.status_code == 403
    assert _snapshot(org) == before
    assert not AuditLog.objects.filter(action="organization.update").exists()


def test_it_shows_the_settings_with_employer_collections_off_by_default(login, admin_user, org):
    html = login(admin_user).get(URL).content.decode()

    assert f'value="{org.name}"' in html
    assert '<option value="America/Chicago">Central — Chicago</option>' in html
    assert '<option value="UTC">UTC</option>' in html
    assert '<option value="America/New_York" selected>' in html
    checkbox = re.search(r'<input type="checkbox" name="employer_collections_enabled"[^>]*>', html)
    assert checkbox is not None
    assert "checked" not in checkbox.group()
    assert "employer or TPA" in html
    assert "pre-collections and collections" in html
    for tab in ("Settings", "Members", "Roles"):
        assert f">{tab}</a>" in html


def test_it_saves_the_settings_and_audits_only_the_changed_fields(login, admin_user, org):
    new_npi = factories.valid_npi(4242)
    client = login(admin_user)
    old_name, old_npi = org.name, org.billing_npi

    response = client.post(
        URL,
        _form(
            org,
            name="Demo Family Practice PLLC",
            time_zone="America/Chicago",
            billing_npi=new_npi,
            employer_collections_enabled="on",
        ),
        follow=True,
    )

    assert "Organization settings saved." in response.content.decode()
    org.refresh_from_db()
    assert org.name == "Demo Family Practice PLLC"
    assert org.time_zone == "America/Chicago"
    assert org.billing_npi == new_npi
    assert org.employer_collections_enabled is True
    row = AuditLog.objects.get(action="organization.update")
    assert row.organization == org
    assert row.actor == admin_user
    assert row.record_id == str(org.pk)
    assert row.old_values == {
        "name": old_name,
        "time_zone": "America/New_York",
        "billing_npi": old_npi,
        "employer_collections_enabled": False,
    }
    assert row.new_values == {
        "name": "Demo Family Practice PLLC",
        "time_zone": "America/Chicago",
        "billing_npi": new_npi,
        "employer_collections_enabled": True,
    }


def test_it_writes_no_audit_row_when_nothing_changed(login, admin_user, org):
    response = login(admin_user).post(URL, _form(org), follow=True)

    assert "Nothing changed." in response.content.decode()
    assert not AuditLog.objects.filter(action="organization.update").exists()


def test_it_turns_employer_collections_off_again(login, admin_user, org):
    org.employer_collections_enabled = True
    org.save()
    data = _form(org)
    del data["employer_collections_enabled"]

    login(admin_user).post(URL, data)

    org.refresh_from_db()
    assert org.employer_collections_enabled is False
    row = AuditLog.objects.get(action="organization.update")
    assert row.new_values == {"employer_collections_enabled": False}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"billing_npi": "1234567890"}, "This NPI fails the NPI check digit."),
        ({"billing_npi": "12345"}, "An NPI is exactly 10 digits."),
        ({"time_zone": "Mars/Olympus_Mons"}, "Choose one of the listed time zones."),
        ({"time_zone": "Europe/Paris"}, "Choose one of the listed time zones."),
        ({"tax_id": "12-34"}, "A tax id (EIN) is 9 digits, as 12-3456789."),
        ({"name": ""}, "This field is required."),
        ({"state": "Illinois"}, "Ensure this value has at most 2 characters"),
        ({"zip_code": "6270"}, "A ZIP code is 5 or 9 digits."),
    ],
)
def test_it_refuses_bad_input_and_changes_nothing(login, admin_user, org, changes, message):
    before = _snapshot(org)

    response = login(admin_user).post(URL, _form(org, **changes, city="Elsewhere"))

    assert response.status_code == 200
    html = response.content.decode()
    assert '<div class="field-error">' in html
    assert message in html
    assert _snapshot(org) == before
    assert not AuditLog.objects.exists()


def test_it_keeps_an_unlisted_zone_the_organization_already_has(login, admin_user, org):
    org.time_zone = "Europe/London"
    org.save()

    client = login(admin_user)
    assert '<option value="Europe/London" selected>' in client.get(URL).content.decode()
    client.post(URL, _form(org, phone="555-0100"))

    org.refresh_from_db()
    assert org.time_zone == "Europe/London"
    assert org.phone == "555-0100"


def test_it_upper_cases_the_state(login, admin_user, org):
    login(admin_user).post(URL, _form(org, state="ny"))
    org.refresh_from_db()
    assert org.state == "NY"


def test_another_organizations_admin_changes_only_their_own(login, other, org, other_org):
    before = _snapshot(org)

    login(other).post(URL, _form(other_org, name="Northside Ortho Group"))

    other_org.refresh_from_db()
    assert other_org.name == "Northside Ortho Group"
    assert _snapshot(org) == before
    assert AuditLog.objects.get().organization == other_org
