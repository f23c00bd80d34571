from __future__ import annotations

import datetime
import zoneinfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from billing.models import AuditLog, Membership, Role
from clearinghouse import services
from clearinghouse.models import ClearinghouseConfig, PayerEnrollment
from tests import factories

pytestmark = pytest.mark.django_db

S = PayerEnrollment.Status
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def _config(org, **fields) -> ClearinghouseConfig:
    fields.setdefault("display_name", "Waystar")
    fields.setdefault("vendor", "waystar")
    fields.setdefault("base_url", "https://api.waystar.example/v1")
    fields.setdefault("submitter_id", "DEMO1234")
    fields.setdefault("account_id", "demo-account")
    return factories.ClearinghouseConfigFactory(organization=org, **fields)


def _form_data(**overrides) -> dict[str, str]:
    data = {
        "vendor": "availity",
        "display_name": "Availity Essentials",
        "base_url": "https://api.availity.example/v2",
        "submitter_id": "AV12345",
        "account_id": "client-42",
        "secret": "",
        "is_active": "on",
    }
    data.update(overrides)
    return data


def _edit_data(config: ClearinghouseConfig, **overrides) -> dict[str, str]:
    data = {
        "vendor": config.vendor,
        "display_name": config.display_name,
        "base_url": config.base_url,
        "submitter_id": config.submitter_id,
        "account_id": config.account_id,
        "secret": "",
    }
    data.update(overrides)
    return data


def _snapshot(config: ClearinghouseConfig) -> tuple:
    config.refresh_from_db()
    return (
        config.display_name,
        config.base_url,
        config.submitter_id,
        config.account_id,
        config.credentials_encrypted,
        config.is_active,
        config.baa_on_file,
        config.baa_signed_on,
    )


def _no_payers_member(org):
    role = Role.objects.create(organization=org, name="No payers", codes=["can_see_billing"])
    user = factories.UserFactory(username="nopayers")
    Membership.objects.create(user=user, organization=org, role=role)
    return user


def _write_requests(config: ClearinghouseConfig) -> list[tuple[str, dict]]:
    return [
        (reverse("clearinghouse_add"), _form_data()),
        (reverse("clearinghouse_detail", args=[config.pk]), _edit_data(config, account_id="x")),
        (
            reverse("clearinghouse_baa", args=[config.pk]),
            {"baa_signed_on": "2025-03-04", "confirm": "on"},
        ),
        (reverse("clearinghouse_set_active", args=[config.pk]), {"active": "0"}),
    ]


# --- who may open what ------------------------------------------------------------------


def test_it_sends_anonymous_visitors_to_login(client, org):
    config = _config(org)
    for url in (
        reverse("clearinghouse_list"),
        reverse("clearinghouse_add"),
        reverse("clearinghouse_detail", args=[config.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    for url, data in _write_requests(config):
        response = client.post(url, data)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert ClearinghouseConfig.objects.count() == 1


def test_it_answers_404_to_another_organizations_member(login, other, org):
    config = _config(org, display_name="Hidden Waystar")
    before = _snapshot(config)
    client = login(other)

    assert client.get(reverse("clearinghouse_detail", args=[config.pk])).status_code == 404
    for url, data in _write_requests(config)[1:]:
        assert client.post(url, data).status_code == 404

    assert _snapshot(config) == before
    assert not AuditLog.objects.exists()
    assert "Hidden Waystar" not in client.get(reverse("clearinghouse_list")).content.decode()


def test_it_refuses_every_write_to_the_clerk_and_changes_nothing(login, clerk, org):
    config = _config(org, is_active=True)
    before = _snapshot(config)
    client = login(clerk)

    assert client.get(reverse("clearinghouse_add")).status_code == 403
    for url, data in _write_requests(config):
        assert client.post(url, data).status_code == 403

    assert _snapshot(config) == before
    assert ClearinghouseConfig.objects.count() == 1
    assert not AuditLog.objects.exists()


def test_it_shows_the_clerk_the_pages_without_the_admin_actions(login, clerk, org):
    config = _config(org)
    client = login(clerk)

    listing = client.get(reverse("clearinghouse_list")).content.decode()
    detail = client.get(reverse("clearinghouse_detail", args=[config.pk])).content.decode()

    assert "Waystar" in listing
    assert "New clearinghouse" not in listing
    assert "DEMO1234" in detail
    assert "Deactivate" not in detail
    assert "Acknowledge BAA on file" not in detail
    assert "Save configuration" not in detail
    assert 'name="secret"' not in detail


def test_it_refuses_the_pages_to_a_member_without_the_payers_code(login, org):
    config = _config(org)
    client = login(_no_payers_member(org))
    for url in (
        reverse("clearinghouse_list"),
        reverse("clearinghouse_add"),
        reverse("clearinghouse_detail", args=[config.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 403
        assert b"DEMO1234" not in response.content


# --- the list ---------------------------------------------------------------------------


def test_it_lists_the_organizations_configurations(login, admin_user, org, other_org):
    waystar = _config(org, baa_on_file=False)
    acknowledged = timezone.now()
    availity = _config(
        org,
        display_name="Availity",
        vendor="availity",
        baa_on_file=True,
        baa_signed_on=datetime.date(2025, 3, 4),
        baa_acknowledged_at=acknowledged,
        baa_acknowledged_by=admin_user,
        is_active=False,
    )
    _config(other_org, display_name="Their Clearinghouse")
    factories.PayerEnrollmentFactory.create_batch(2, organization=org, clearinghouse=waystar)
    factories.PayerEnrollmentFactory(
        organization=org, clearinghouse=waystar, deleted_at=timezone.now()
    )

    html = login(admin_user).get(reverse("clearinghouse_list")).content.decode()

    assert f'href="{reverse("clearinghouse_detail", args=[waystar.pk])}">Waystar</a>' in html
    assert "https://api.waystar.example/v1" in html
    assert "DEMO1234" in html and "demo-account" in html
    assert "Their Clearinghouse" not in html
    baa_waystar = html.split(f'data-testid="baa-{waystar.pk}">')[1].split("</td>")[0]
    baa_availity = html.split(f'data-testid="baa-{availity.pk}">')[1].split("</td>")[0]
    assert "BAA required" in baa_waystar
    assert "On file" in baa_availity and "03/04/2025" in baa_availity
    assert f'data-testid="live-{waystar.pk}">2</td>' in html
    assert f'data-testid="live-{availity.pk}">0</td>' in html
    assert "Inactive" in html
    assert "Not monitored: only the failover pair" in html  # no failover settings yet
    assert "New clearinghouse" in html


def test_it_lists_in_a_fixed_number_of_queries(login, admin_user, org):
    client = login(admin_user)

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("clearinghouse_list")).status_code == 200
        return len(queries)

    first = _config(org, display_name="One")
    factories.PayerEnrollmentFactory(organization=org, clearinghouse=first)
    few = count_queries()
    for n in range(6):
        config = _config(
            org,
            display_name=f"More {n}",
            baa_on_file=True,
            baa_signed_on=datetime.date(2025, 1, 1),
            baa_acknowledged_at=timezone.now(),
            baa_acknowledged_by=admin_user,
        )
        factories.PayerEnrollmentFactory.create_batch(2, organization=org, clearinghouse=config)
    assert count_queries() == few


def test_it_says_when_there_is_no_configuration(login, admin_user, clerk):
    admin_html = login(admin_user).get(reverse("clearinghouse_list")).content.decode()
    assert "No clearinghouse is configured yet." in admin_html
    assert "Add the first clearinghouse" in admin_html
    clerk_html = login(clerk).get(reverse("clearinghouse_list")).content.decode()
    assert "Add the first clearinghouse" not in clerk_html


# --- new ----------------------------------------------------------------------------------


def test_it_adds_a_configuration_with_its_audit_row(login, admin_user, org):
    response = login(admin_user).post(
        reverse("clearinghouse_add"), _form_data(secret="s3cr3t-api-key")
    )

    config = ClearinghouseConfig.objects.get(organization=org)
    assert response.status_code == 302
    assert response["Location"] == reverse("clearinghouse_detail", args=[config.pk])
    assert config.display_name == "Availity Essentials"
    assert config.vendor == "availity"
    assert config.is_active
    assert config.get_credentials() == {"secret": "s3cr3t-api-key"}
    row = AuditLog.objects.get(action="clearinghouse.create")
    assert row.actor == admin_user
    assert row.record_id == str(config.pk)
    assert row.new_values["display_name"] == "Availity Essentials"
    assert row.new_values["credentials_set"] is True
    assert "s3cr3t-api-key" not in str(row.new_values)


@pytest.mark.parametrize(
    ("overrides", "field_message"),
    [
        ({"base_url": "not a url"}, "Enter a valid URL."),
        ({"display_name": ""}, "This field is required."),
        ({"vendor": "acme"}, "Select a valid choice."),
    ],
)
def test_it_refuses_bad_input_and_saves_nothing(login, admin_user, org, overrides, field_message):
    response = login(admin_user).post(reverse("clearinghouse_add"), _form_data(**overrides))

    assert response.status_code == 200
    assert field_message in response.content.decode()
    assert 'class="field-error"' in response.content.decode()
    assert not ClearinghouseConfig.objects.exists()
    assert not AuditLog.objects.exists()


def test_it_refuses_a_display_name_already_used_in_the_organization(
    login, admin_user, org, other_org
):
    _config(org, display_name="Availity Essentials")
    _config(other_org, display_name="Shared Name")
    client = login(admin_user)

    response = client.post(reverse("clearinghouse_add"), _form_data())

    html = response.content.decode()
    assert response.status_code == 200
    assert "A clearinghouse named “Availity Essentials” already exists" in html
    assert ClearinghouseConfig.objects.filter(organization=org).count() == 1
    assert not AuditLog.objects.exists()
    # Another organization's names do not count.
    response = client.post(reverse("clearinghouse_add"), _form_data(display_name="Shared Name"))
    assert response.status_code == 302


# --- the configuration page ---------------------------------------------------------------


def test_it_shows_the_configuration_and_its_enrollments(login, clerk, org):
    config = _config(org)
    config.set_credentials({"secret": "hunter2"})
    config.save()
    bare = _config(org, display_name="No Secret")
    for status, n in ((S.ACTIVE, 3), (S.PENDING, 1), (S.REJECTED, 1)):
        factories.PayerEnrollmentFactory.create_batch(
            n, organization=org, clearinghouse=config, enrollment_status=status
        )
    factories.PayerEnrollmentFactory(
        organization=org,
        clearinghouse=config,
        enrollment_status=S.ACTIVE,
        deleted_at=timezone.now(),
    )
    factories.PayerEnrollmentFactory(organization=org, clearinghouse=bare)
    client = login(clerk)

    html = client.get(reverse("clearinghouse_detail", args=[config.pk])).content.decode()

    assert "<h1>Waystar" in html
    assert 'data-testid="credentials">Stored, encrypted</dd>' in html
    assert "hunter2" not in html
    assert 'data-testid="count-active">3</td>' in html
    assert 'data-testid="count-pending">1</td>' in html
    assert 'data-testid="count-rejected">1</td>' in html
    assert 'data-testid="count-expired">0</td>' in html
    assert 'data-testid="count-total"><strong>5</strong>' in html
    assert f'href="{reverse("enrollment_list")}"' in html
    assert "BAA required" in html
    bare_html = client.get(reverse("clearinghouse_detail", args=[bare.pk])).content.decode()
    assert 'data-testid="credentials">None</dd>' in bare_html


def test_it_saves_an_edit_and_keeps_the_stored_secret_when_left_empty(login, admin_user, org):
    config = _config(org)
    config.set_credentials({"secret": "keep-me"})
    config.save()

    response = login(admin_user).post(
        reverse("clearinghouse_detail", args=[config.pk]),
        _edit_data(config, base_url="https://api.waystar.example/v2", secret=""),
    )

    assert response.status_code == 302
    config.refresh_from_db()
    assert config.base_url == "https://api.waystar.example/v2"
    assert config.get_credentials() == {"secret": "keep-me"}
    assert config.is_active  # the edit form leaves activation alone
    row = AuditLog.objects.get(action="clearinghouse.update")
    assert row.old_values == {"base_url": "https://api.waystar.example/v1"}
    assert row.new_values == {"base_url": "https://api.waystar.example/v2"}


def test_it_replaces_the_secret_when_a_new_one_is_typed(login, admin_user, org):
    config = _config(org)
    config.set_credentials({"secret": "old-secret"})
    config.save()

    login(admin_user).post(
        reverse("clearinghouse_detail", args=[config.pk]),
        _edit_data(config, secret="brand-new-secret"),
    )

    config.refresh_from_db()
    assert config.get_credentials() == {"secret": "brand-new-secret"}
    row = AuditLog.objects.get(action="clearinghouse.update")
    assert row.new_values == {"credentials_replaced": True}
    assert "secret" not in str(row.old_values)


def test_it_refuses_a_bad_edit_and_shows_what_is_stored(login, admin_user, org):
    config = _config(org)
    _config(org, display_name="Availity", vendor="availity")
    before = _snapshot(config)
    client = login(admin_user)

    response = client.post(
        reverse("clearinghouse_detail", args=[config.pk]),
        _edit_data(config, display_name="Availity", base_url="https://api.waystar.example/v9"),
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "A clearinghouse named “Availity” already exists" in html
    assert "<h1>Waystar" in html  # the stored name, not the rejected one

    response = client.post(
        reverse("clearinghouse_detail", args=[config.pk]), _edit_data(config, base_url="nope")
    )
    assert "Enter a valid URL." in response.content.decode()
    assert _snapshot(config) == before
    assert not AuditLog.objects.exists()


# --- BAA ----------------------------------------------------------------------------------


def test_it_records_the_baa_with_the_date_who_and_when(login, org):
    avery = factories.UserFactory(username="avery", first_name="Avery", last_name="Collins")
    factories.MembershipFactory(user=avery, organization=org, role=factories.role("Org Admin"))
    config = _config(org, baa_on_file=False)
    client = login(avery)

    with time_machine.travel(datetime.datetime(2026, 11, 25, 10, 14, tzinfo=NEW_YORK), tick=False):
        response = client.post(
            reverse("clearinghouse_baa", args=[config.pk]),
            {"baa_signed_on": "2025-03-04", "confirm": "on"},
        )
        assert response.status_code == 302
        html = client.get(response["Location"]).content.decode()

    assert "BAA on file since 03/04/2025, acknowledged by Avery Collins on 11/25/2026 10:14" in html
    config.refresh_from_db()
    assert config.baa_on_file
    assert config.baa_signed_on == datetime.date(2025, 3, 4)
    assert config.baa_acknowledged_by == avery
    row = AuditLog.objects.get(action="clearinghouse.baa_acknowledged")
    assert row.actor == avery
    assert row.new_values["baa_signed_on"] == "2025-03-04"
    assert row.old_values["baa_on_file"] is False


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"baa_signed_on": "2999-01-01", "confirm": "on"},
            "The BAA cannot be signed in the future.",
        ),
        ({"baa_signed_on": "2025-03-04"}, "Confirm that the signed BAA is on file."),
        ({"baa_signed_on": "", "confirm": "on"}, "This field is required."),
    ],
)
def test_it_refuses_a_bad_baa_acknowledgement(login, admin_user, org, data, message):
    config = _config(org, baa_on_file=False)

    response = login(admin_user).post(reverse("clearinghouse_baa", args=[config.pk]), data)

    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert "BAA required" in html
    config.refresh_from_db()
    assert not config.baa_on_file
    assert not AuditLog.objects.exists()


# --- activation ----------------------------------------------------------------------------


def test_it_deactivates_and_activates_with_audit_rows(login, admin_user, org):
    config = _config(org, is_active=True)
    client = login(admin_user)
    url = reverse("clearinghouse_set_active", args=[config.pk])

    response = client.post(url, {"active": "0"}, follow=True)
    config.refresh_from_db()
    assert not config.is_active
    html = response.content.decode()
    assert "is inactive" in html
    assert "Activate</button>" in html

    client.post(url, {"active": "1"})
    config.refresh_from_db()
    assert config.is_active
    actions = list(AuditLog.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["clearinghouse.deactivate", "clearinghouse.activate"]


def test_it_refuses_an_unknown_active_value(login, admin_user, org):
    config = _config(org, is_active=True)
    response = login(admin_user).post(
        reverse("clearinghouse_set_active", args=[config.pk]), {"active": "maybe"}
    )
    assert response.status_code == 400
    config.refresh_from_db()
    assert config.is_active
    assert not AuditLog.objects.exists()


def test_the_service_turns_a_duplicate_name_into_a_message(admin_user, org):
    from django.core.exceptions import ValidationError
    from django.db import transaction

    _config(org, display_name="Waystar")
    with pytest.raises(ValidationError) as caught, transaction.atomic():
        services.clearinghouse_create(
            organization=org,
            actor=admin_user,
            data={"vendor": "waystar", "display_name": "waystar", "base_url": "https://w.example"},
        )
    assert "already exists" in caught.value.message_dict["display_name"][0]
