from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import AuditLog, Membership, Role
from clearinghouse.models import ClearinghouseConfig, FailoverSettings
from tests import factories

pytestmark = pytest.mark.django_db

URL = reverse("failover_settings")


def _config(org, name, vendor, *, baa=True, **fields) -> ClearinghouseConfig:
    if baa:
        fields.update(
            baa_on_file=True,
            baa_signed_on=datetime.date(2026, 1, 5),
            baa_acknowledged_at=timezone.now(),
        )
    return factories.ClearinghouseConfigFactory(
        organization=org, display_name=name, vendor=vendor, **fields
    )


@pytest.fixture
def waystar(org):
    return _config(org, "Waystar", "waystar")


@pytest.fixture
def availity(org):
    return _config(org, "Availity Essentials", "availity", baa=False)


@pytest.fixture
def claim_md(org):
    return _config(org, "Claim.MD", "claim_md")


def _data(primary, secondary=None, **overrides) -> dict[str, str]:
    data = {
        "primary": str(primary.pk),
        "secondary": str(secondary.pk) if secondary else "",
        "health_check_interval_s": "60",
        "failure_threshold": "3",
        "recovery_cooldown_s": "300",
        "transaction_timeout_ms": "15000",
    }
    data.update(overrides)
    return data


def _no_payers_member(org):
    role = Role.objects.create(organization=org, name="No payers", codes=["can_see_billing"])
    user = factories.UserFactory(username="nopayers")
    Membership.objects.create(user=user, organization=org, role=role)
    return user


def test_it_redirects_anonymous_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_it_refuses_a_member_without_payers_manage(org, login):
    assert login(_no_payers_member(org)).get(URL).status_code == 403


def test_it_shows_the_defaults_with_waystar_as_primary(admin_user, login, waystar, availity):
    response = login(admin_user).get(URL)
    assert response.status_code == 200
    form = response.context["settings_form"]
    assert form.initial["primary"] == waystar.pk
    body = response.content.decode()
    for name, value in [
        ("health_check_interval_s", "60"),
        ("failure_threshold", "3"),
        ("recovery_cooldown_s", "300"),
        ("transaction_timeout_ms", "15000"),
    ]:
        assert f'name="{name}" value="{value}"' in body
    assert f'<option value="{waystar.pk}" selected>' in body
    assert "BAA required" in body
    assert f'<option value="{availity.pk}" disabled data-baa="0">' in body
    assert 'id="fo-save"' in body


def test_it_lists_only_this_organizations_active_configs(
    admin_user, login, org, other_org, waystar
):
    _config(other_org, "Their Waystar", "waystar")
    _config(org, "Old Change", "change_healthcare", is_active=False)
    body = login(admin_user).get(URL).content.decode()
    assert "Their Waystar" not in body
    assert "Old Change" not in body


def test_it_saves_the_settings_and_audits(admin_user, login, org, waystar, claim_md):
    response = login(admin_user).post(
        URL, _data(waystar, claim_md, health_check_interval_s="1", recovery_cooldown_s="1")
    )
    assert response.status_code == 302
    settings = FailoverSettings.objects.get(organization=org)
    assert (settings.primary, settings.secondary) == (waystar, claim_md)
    assert settings.health_check_interval_s == 1
    assert settings.recovery_cooldown_s == 1
    assert settings.updated_by == admin_user
    row = AuditLog.objects.get(organization=org, action="failover.settings")
    assert row.new_values["secondary_id"] == claim_md.pk
    page = login(admin_user).get(URL, follow=True)
    assert (
        "Failover settings saved." in login(admin_user).get(response["Location"]).content.decode()
        or page
    )


def test_it_audits_only_changed_values_on_a_second_save(admin_user, login, org, waystar, claim_md):
    client = login(admin_user)
    client.post(URL, _data(waystar, claim_md))
    client.post(URL, _data(waystar, claim_md, failure_threshold="5"))
    assert FailoverSettings.objects.filter(organization=org).count() == 1
    rows = AuditLog.objects.filter(organization=org, action="failover.settings").order_by("pk")
    assert rows.count() == 2
    assert rows[1].old_values == {"failure_threshold": 3}
    assert rows[1].new_values == {"failure_threshold": 5}


def test_it_refuses_a_secondary_without_a_baa(admin_user, login, org, waystar, availity):
    response = login(admin_user).post(URL, _data(waystar, availity))
    assert response.status_code == 200
    assert (
        "Confirm the BAA is on file for Availity Essentials before saving."
        in response.content.decode()
    )
    assert not FailoverSettings.objects.filter(organization=org).exists()
    availity.refresh_from_db()
    assert not availity.baa_on_file


def test_it_records_the_baa_when_the_box_is_checked(admin_user, login, org, waystar, availity):
    signed = timezone.localdate() - datetime.timedelta(days=3)
    response = login(admin_user).post(
        URL, _data(waystar, availity, baa_on_file="on", baa_signed_on=signed.isoformat())
    )
    assert response.status_code == 302
    availity.refresh_from_db()
    assert availity.baa_on_file
    assert availity.baa_signed_on == signed
    assert availity.baa_acknowledged_by == admin_user
    assert FailoverSettings.objects.get(organization=org).secondary == availity
    assert AuditLog.objects.filter(action="clearinghouse.baa_acknowledged").count() == 1
    assert AuditLog.objects.filter(action="failover.settings").count() == 1


def test_it_refuses_a_baa_signed_in_the_future(admin_user, login, org, waystar, availity):
    future = timezone.localdate() + datetime.timedelta(days=2)
    response = login(admin_user).post(
        URL, _data(waystar, availity, baa_on_file="on", baa_signed_on=future.isoformat())
    )
    assert "The BAA cannot be signed in the future." in response.content.decode()
    availity.refresh_from_db()
    assert not availity.baa_on_file
    assert not FailoverSettings.objects.exists()


def test_it_refuses_the_same_primary_and_secondary(admin_user, login, org, waystar):
    response = login(admin_user).post(URL, _data(waystar, waystar))
    assert response.status_code == 200
    assert "The secondary must be a different clearinghouse." in response.content.decode()
    assert not FailoverSettings.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("health_check_interval_s", "0", "Enter a whole number of seconds from 1 to 3,600."),
        ("recovery_cooldown_s", "0", "Enter a whole number of seconds from 1 to 86,400."),
        ("failure_threshold", "0", "Enter a whole number of failures from 1 to 100."),
        (
            "transaction_timeout_ms",
            "99",
            "Enter a whole number of milliseconds from 100 to 120,000.",
        ),
        (
            "transaction_timeout_ms",
            "120001",
            "Enter a whole number of milliseconds from 100 to 120,000.",
        ),
        ("health_check_interval_s", "abc", "Enter a whole number of seconds from 1 to 3,600."),
        ("failure_threshold", "", "Enter a whole number of failures from 1 to 100."),
    ],
)
def test_it_enforces_the_bounds(admin_user, login, waystar, claim_md, field, value, message):
    response = login(admin_user).post(URL, _data(waystar, claim_md, **{field: value}))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not FailoverSettings.objects.exists()
    assert not AuditLog.objects.filter(action="failover.settings").exists()


def test_it_accepts_the_smallest_and_largest_values(admin_user, login, org, waystar, claim_md):
    response = login(admin_user).post(
        URL,
        _data(
            waystar,
            claim_md,
            health_check_interval_s="1",
            failure_threshold="1",
            recovery_cooldown_s="1",
            transaction_timeout_ms="120000",
        ),
    )
    assert response.status_code == 302
    assert FailoverSettings.objects.get(organization=org).transaction_timeout_ms == 120000


def test_it_shows_the_clerk_a_read_only_form(clerk, login, waystar, claim_md):
    response = login(clerk).get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="fo-save"' not in body
    assert "baa_on_file" not in body
    assert (
        'name="health_check_interval_s" value="60" min="1" max="3600" step="1" required disabled'
        in body
        or (body.count(" disabled") >= 6)
    )
    assert "Read-only" in body


def test_it_refuses_the_clerks_post(clerk, login, org, waystar, claim_md):
    response = login(clerk).post(URL, _data(waystar, claim_md))
    assert response.status_code == 403
    assert not FailoverSettings.objects.exists()
    assert not AuditLog.objects.filter(action="failover.settings").exists()


def test_it_keeps_another_organizations_configs_out(other, login, org, other_org, waystar):
    theirs = _config(other_org, "Theirs", "waystar")
    mine2 = _config(org, "Mine 2", "availity")
    response = login(other).post(URL, _data(theirs, mine2))
    assert response.status_code == 200
    assert not FailoverSettings.objects.exists()
    body = login(other).get(URL).content.decode()
    assert "Mine 2" not in body
    assert f'<option value="{waystar.pk}"' not in body
