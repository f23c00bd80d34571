"""Check eligibility: one 270 through the audited router to the sandbox clearinghouse over
real HTTP, the 271 stored and shown; and seed 001 step 3.3/3.4 end to end (a test 270
fails over to the secondary while the primary is down and comes back after its cool-down)."""

from __future__ import annotations

import datetime
import time
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from billing.models import AuditLog, Coverage, EligibilityCheck, Membership, Role
from clearinghouse import health
from clearinghouse.eligibility import eligibility_check, read_answer
from clearinghouse.health_checks import health_check_one
from clearinghouse.models import FailoverSettings
from edi import models as x12
from edi.x271 import write_271
from tests import factories
from tests.cache import empty_cache  # noqa: F401  (autouse)
from tests.clearinghouse.pair import sandbox_pair

pytestmark = pytest.mark.django_db(transaction=True)

Status = EligibilityCheck.Status


@pytest.fixture
def setup(org, sandbox_clearinghouse):
    pair = sandbox_pair(
        org,
        sandbox_clearinghouse,
        primary_name="Sandbox Clearinghouse",
        payer_name="Keystone Health Plan",
        recovery_cooldown_s=300,
        transaction_timeout_ms=1000,
    )
    return org, pair.primary, pair.secondary, pair.payer, sandbox_clearinghouse


def _coverage(org, payer, **fields) -> Coverage:
    patient = factories.PatientFactory(
        organization=org, first_name="Ada", last_name="Lovelace", sex="F"
    )
    return factories.CoverageFactory(
        patient=patient, payer=payer, member_id=fields.pop("member_id", "KHP123456"), **fields
    )


def _no_eligibility_member(org):
    role = Role.objects.create(organization=org, name="Front desk", codes=["can_see_billing"])
    user = factories.UserFactory(username="frontdesk")
    Membership.objects.create(user=user, organization=org, role=role)
    return user


def _check_url(coverage) -> str:
    return reverse("coverage_eligibility", args=[coverage.pk])


# --- the result: active, payer's error, routing error ---------------------------------------


def test_it_asks_the_payer_and_shows_the_active_coverage_and_its_benefits(setup, clerk, login):
    org, sandbox, _secondary, payer, server = setup
    coverage = _coverage(org, payer)
    client = login(clerk)

    response = client.post(_check_url(coverage))

    check = EligibilityCheck.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("patient_eligibility", args=[check.pk])
    assert check.status == Status.ACTIVE
    assert (check.coverage, check.patient, check.payer) == (coverage, coverage.patient, payer)
    assert check.plan_description == "SANDBOX GOLD PPO"
    assert check.copay == Decimal("25.00")
    assert (check.deductible, check.deductible_remaining) == (Decimal("1500.00"), Decimal("650.00"))
    assert check.coinsurance_percent == Decimal("20.00")
    assert check.eligibility_begin == datetime.date(timezone.now().year, 1, 1)
    assert check.service_date == timezone.localdate()
    assert (check.vendor_display, check.clearinghouse_config_id) == (
        sandbox.display_name,
        sandbox.pk,
    )
    assert check.failed_over is False and check.created_by == clerk
    # Built for the routed clearinghouse: its electronic payer id, the member and the NPI.
    x12_270 = check.request_270.replace("\n", "")
    assert "NM1*PR*2*Keystone Health Plan*****PI*SBX01~" in x12_270
    assert "NM1*IL*1*Lovelace*Ada****MI*KHP123456~" in x12_270
    assert f"*XX*{org.billing_npi}~" in x12_270
    assert check.response_271.startswith("ISA")
    assert len(server.log(kind="270", vendor="sandbox")) == 1
    row = AuditLog.objects.get(action="eligibility.check")
    assert (row.actor, row.record_id) == (clerk, str(check.pk))
    assert row.new_values["status"] == "active" and row.new_values["clearinghouse_id"] == sandbox.pk

    page = client.get(response["Location"]).content.decode()
    assert (
        '<span class="badge el-st el-st-active" data-testid="eligibility-status">Active</span>'
        in page
    )
    for shown in ("SANDBOX GOLD PPO", "$25.00", "$1,500.00", "$650.00 remaining", "20%"):
        assert shown in page
    assert "Sandbox Clearinghouse" in page and "Failed over" not in page
    assert "270 request" in page and "271 response" in page  # the raw X12, collapsed


def test_an_invalid_member_id_is_the_payers_error_in_words(setup, clerk, login):
    org, _sandbox, _secondary, payer, _server = setup
    coverage = _coverage(org, payer, member_id="BAD0001")
    client = login(clerk)

    response = client.post(_check_url(coverage))

    check = EligibilityCheck.objects.get()
    assert check.status == Status.ERROR
    assert check.message == "Member: Invalid or missing member id (AAA 72): correct and resubmit"
    assert check.copay is None and check.plan_description == ""
    assert check.vendor_display == "Sandbox Clearinghouse"
    page = client.get(response["Location"]).content.decode()
    assert "Error</span>" in page
    assert "Invalid or missing member id (AAA 72): correct and resubmit" in page


def test_a_routing_error_is_stored_as_not_sent_naming_payer_and_vendor(setup, clerk, login):
    org, sandbox, _secondary, payer, server = setup
    settings = FailoverSettings.objects.get(organization=org)
    factories.PayerRouteFactory(
        organization=org, payer=payer, forced_vendor=sandbox, allow_failover=False
    )
    for _ in range(settings.failure_threshold):
        health.record_failure(org, sandbox, reason=health.HEALTH_CHECK_FAILURES, settings=settings)
    coverage = _coverage(org, payer)
    client = login(clerk)

    response = client.post(_check_url(coverage))

    check = EligibilityCheck.objects.get()
    assert check.status == Status.NOT_SENT
    assert check.message.startswith(
        "Payer Keystone Health Plan is pinned to Sandbox Clearinghouse, which is degraded"
    )
    assert "nothing was sent" in check.message
    assert (check.vendor_display, check.clearinghouse_config_id) == ("", None)
    assert check.request_270 == "" and check.response_271 == ""
    assert server.log(kind="270") == []
    assert AuditLog.objects.filter(action="eligibility.check").count() == 1
    page = client.get(response["Location"]).content.decode()
    assert "Not sent</span>" in page
    assert "is pinned to Sandbox Clearinghouse" in page


def test_an_unreachable_clearinghouse_is_not_sent_and_says_which(setup, clerk, login):
    org, _sandbox, _secondary, payer, server = setup
    server.set_mode("sandbox", "failing")
    coverage = _coverage(org, payer)

    login(clerk).post(_check_url(coverage))

    check = EligibilityCheck.objects.get()
    assert check.status == Status.NOT_SENT
    assert check.message.startswith("Sandbox Clearinghouse could not be reached:")
    assert "HTTP 503" in check.message
    assert check.vendor_display == "" and check.request_270  # built, sent, never answered


def test_a_payer_level_rejection_and_an_inactive_coverage_are_read_in_words():
    def answer(**changes) -> str:
        inquiry = x12.EligibilityInquiry(
            subscriber=x12.Member(last_name="DOE", id_qualifier="MI", identifier="X1"),
            trace_number="T1",
            trace_originator="9PRACTICE1",
            service_types=(),
            benefits=changes.pop("benefits", []),
        )
        response = x12.Eligibility(
            reference="R1",
            created=datetime.datetime(2026, 5, 1, 9, 30),
            payer=x12.Party(name="ACME", id_qualifier="PI", identifier="ACME1"),
            provider=x12.Party(name="PRACTICE", id_qualifier="XX", identifier="1234567893"),
            inquiries=[inquiry],
            **changes,
        )
        envelope = x12.Envelope(
            sender_id="CH",
            receiver_id="US",
            control_number=1,
            group_control_number=1,
            created=datetime.datetime(2026, 5, 1, 9, 30),
        )
        return write_271(envelope, [response])

    busy = read_answer(answer(payer_errors=[x12.RequestError(reason="42", follow_up="R")]), "T1")
    assert busy.status == Status.ERROR
    assert busy.message == (
        "Payer: The payer is unable to respond right now (AAA 42): resubmission allowed"
    )
    inactive = read_answer(answer(benefits=[x12.Benefit(code="6", plan_description="OLD")]), "T1")
    assert (inactive.status, inactive.plan_description) == (Status.INACTIVE, "OLD")
    assert read_answer("not x12 at all", "T1").status == Status.ERROR


# --- what is asked ----------------------------------------------------------------------------


def test_an_appointment_asks_for_its_day_with_its_provider(setup, clerk, login):
    org, _sandbox, _secondary, payer, _server = setup
    coverage = _coverage(org, payer)
    provider = factories.ProviderFactory(organization=org, first_name="Nora", last_name="Quill")
    appointment = factories.AppointmentFactory(
        organization=org, patient=coverage.patient, provider=provider
    )
    client = login(clerk)

    response = client.post(
        reverse("appointment_eligibility", args=[appointment.pk]),
        {"next": reverse("appointment_list")},
    )

    check = EligibilityCheck.objects.get()
    assert response["Location"] == reverse("patient_eligibility", args=[check.pk])
    assert (check.appointment, check.coverage, check.status) == (appointment, coverage, "active")
    assert check.service_date == timezone.localtime(appointment.scheduled_at).date()
    x12_270 = check.request_270.replace("\n", "")
    assert f"NM1*1P*1*Quill*Nora****XX*{provider.npi}~" in x12_270
    assert f"DTP*291*D8*{check.service_date:%Y%m%d}~" in x12_270
    listing = client.get(reverse("appointment_list")).content.decode()
    assert '<span class="badge el-st-active">Active</span>' in listing
    assert "copay $25.00" in listing


def test_a_dependent_is_asked_about_under_the_subscriber(setup, admin_user):
    org, _sandbox, _secondary, payer, _server = setup
    coverage = _coverage(
        org,
        payer,
        relationship=Coverage.Relationship.CHILD,
        subscriber_first_name="George",
        subscriber_last_name="Byron",
        subscriber_birth_date=datetime.date(1970, 1, 22),
    )

    check = eligibility_check(organization=org, actor=admin_user, coverage=coverage)

    x12_270 = check.request_270.replace("\n", "")
    assert "NM1*IL*1*Byron*George****MI*KHP123456~" in x12_270
    assert "HL*4*3*23*0~" in x12_270 and "NM1*03*1*Lovelace*Ada~" in x12_270
    assert check.status == Status.ACTIVE


def test_an_ended_coverage_is_refused_with_a_clear_message_and_nothing_is_sent(setup, clerk, login):
    org, _sandbox, _secondary, payer, server = setup
    coverage = _coverage(
        org,
        payer,
        effective_from=datetime.date(2024, 1, 1),
        effective_to=timezone.localdate() - datetime.timedelta(days=3),
    )

    response = login(clerk).post(_check_url(coverage), follow=True)

    assert response.redirect_chain[-1][0] == reverse("patient_detail", args=[coverage.patient_id])
    page = response.content.decode()
    assert f"Coverage {coverage} ended on {coverage.effective_to:%m/%d/%Y}" in page
    assert "nothing was sent" in page
    assert not EligibilityCheck.objects.exists()
    assert not AuditLog.objects.filter(action="eligibility.check").exists()
    assert server.log(kind="270") == []


def test_an_appointment_without_coverage_in_force_sends_nothing(setup, admin_user):
    org, _sandbox, _secondary, _payer, server = setup
    appointment = factories.AppointmentFactory(organization=org)
    with pytest.raises(ValidationError, match="has no coverage in force on"):
        eligibility_check(organization=org, actor=admin_user, appointment=appointment)
    assert not EligibilityCheck.objects.exists()
    assert server.log(kind="270") == []


def test_the_service_refuses_to_hold_a_transaction_open_while_it_calls_a_vendor(setup, admin_user):
    org, _sandbox, _secondary, payer, server = setup
    coverage = _coverage(org, payer)
    with pytest.raises(RuntimeError, match="outside a transaction"), transaction.atomic():
        eligibility_check(organization=org, actor=admin_user, coverage=coverage)
    assert server.log(kind="270") == []


# --- who may --------------------------------------------------------------------------------


def test_a_member_without_the_code_gets_403_and_nothing_is_sent(setup, login):
    org, _sandbox, _secondary, payer, server = setup
    coverage = _coverage(org, payer)
    appointment = factories.AppointmentFactory(organization=org, patient=coverage.patient)
    client = login(_no_eligibility_member(org))

    assert client.post(_check_url(coverage)).status_code == 403
    assert client.post(reverse("appointment_eligibility", args=[appointment.pk])).status_code == 403
    assert not EligibilityCheck.objects.exists()
    assert server.log(kind="270") == []
    patient_page = client.get(reverse("patient_detail", args=[coverage.patient_id]))
    assert "Check eligibility" not in patient_page.content.decode()
    assert "Check eligibility" not in client.get(reverse("appointment_list")).content.decode()


def test_another_organizations_member_gets_404(setup, clerk, other, login):
    org, _sandbox, _secondary, payer, server = setup
    coverage = _coverage(org, payer)
    appointment = factories.AppointmentFactory(organization=org, patient=coverage.patient)
    check = eligibility_check(organization=org, actor=clerk, coverage=coverage)
    client = login(other)

    assert client.post(_check_url(coverage)).status_code == 404
    assert client.post(reverse("appointment_eligibility", args=[appointment.pk])).status_code == 404
    assert client.get(reverse("patient_eligibility", args=[check.pk])).status_code == 404
    assert EligibilityCheck.objects.count() == 1
    assert len(server.log(kind="270")) == 1


def test_checking_needs_a_post(setup, clerk, login):
    org, _sandbox, _secondary, payer, _server = setup
    coverage = _coverage(org, payer)
    assert login(clerk).get(_check_url(coverage)).status_code == 405
    assert not EligibilityCheck.objects.exists()


# --- the patient page -------------------------------------------------------------------------


def test_the_patient_page_shows_each_coverages_latest_check(setup, clerk, login):
    org, _sandbox, _secondary, payer, _server = setup
    coverage = _coverage(org, payer, member_id="BAD0001")
    first = eligibility_check(organization=org, actor=clerk, coverage=coverage)
    coverage.member_id = "KHP123456"
    coverage.save()
    latest = eligibility_check(organization=org, actor=clerk, coverage=coverage)
    assert (first.status, latest.status) == (Status.ERROR, Status.ACTIVE)

    page = login(clerk).get(reverse("patient_detail", args=[coverage.patient_id])).content.decode()

    cell = page.split('data-testid="coverage-eligibility"')[1].split("</td>")[0]
    assert reverse("patient_eligibility", args=[latest.pk]) in cell
    assert reverse("patient_eligibility", args=[first.pk]) not in cell
    assert f"{timezone.localdate():%m/%d/%Y}" in cell
    assert '<span class="badge el-st-active">Active</span>' in cell
    assert "SANDBOX GOLD PPO" in cell and "copay $25.00" in cell
    assert reverse("coverage_eligibility", args=[coverage.pk]) in cell  # the button
    # The earlier check still says what it asked, and the payer's words.
    earlier = login(clerk).get(reverse("patient_eligibility", args=[first.pk])).content.decode()
    assert '<code>BAD0001</code> <span class="muted">· now <code>KHP123456</code>' in earlier
    assert "Invalid or missing member id (AAA 72)" in earlier


# --- seed 001, 3.3 and 3.4: a test 270 fails over and comes back --------------------------------


def _failover_rows(org) -> list[dict]:
    rows = AuditLog.objects.filter(organization=org, action="clearinghouse_route_failover")
    return [row.new_values for row in rows.order_by("created_at", "id")]


def test_a_test_270_fails_over_to_the_secondary_and_returns_after_the_cooldown(
    setup, admin_user, login
):
    org, sandbox, secondary, payer, server = setup
    settings = FailoverSettings.objects.get(organization=org)
    coverage = _coverage(org, payer)
    client = login(admin_user)
    server.set_mode("sandbox", "down")  # reads the request and closes the connection

    # The first 270 fails at the primary (one failure, under the threshold of two).
    client.post(_check_url(coverage))
    first = EligibilityCheck.objects.latest("id")
    assert first.status == Status.NOT_SENT
    assert first.message.startswith("Sandbox Clearinghouse could not be reached:")
    assert _failover_rows(org) == []

    # The second one degrades the primary and is asked again at the secondary, at once.
    response = client.post(_check_url(coverage))
    second = EligibilityCheck.objects.latest("id")
    assert second.status == Status.ACTIVE
    assert (second.vendor_display, second.failed_over) == ("Waystar", True)
    assert second.route_reason == health.TRANSACTION_ERRORS
    assert [a["vendor"] for a in second.attempts] == ["Sandbox Clearinghouse"]
    assert "*PI*WAY02~" in second.request_270.replace("\n", "")
    (failover,) = _failover_rows(org)
    assert failover["vendor"] == secondary.pk
    assert failover["failed_over"] is True
    assert failover["reason"] == "transaction_errors"
    page = client.get(response["Location"]).content.decode()
    assert "Waystar" in page and "Failed over" in page
    assert "the preferred clearinghouse failed transactions" in page

    # Again in quick succession: the same decision, no duplicate row.
    client.post(_check_url(coverage))
    assert EligibilityCheck.objects.latest("id").vendor_display == "Waystar"
    assert len(_failover_rows(org)) == 1

    # The primary is restored and passes its health check: its cool-down starts, and until
    # it has lasted `recovery_cooldown_s` traffic stays on the secondary.
    server.set_mode("sandbox", "healthy")
    state = health_check_one(organization=org, settings=settings, config=sandbox)
    assert state.state == health.RECOVERING
    client.post(_check_url(coverage))
    assert EligibilityCheck.objects.latest("id").vendor_display == "Waystar"
    assert len(_failover_rows(org)) == 1

    with time_machine.travel(time.time() + settings.recovery_cooldown_s + 1, tick=True):
        client.post(_check_url(coverage))
    back = EligibilityCheck.objects.latest("id")
    assert back.status == Status.ACTIVE
    assert (back.vendor_display, back.failed_over) == ("Sandbox Clearinghouse", False)
    assert "*PI*SBX01~" in back.request_270.replace("\n", "")
    recovered = _failover_rows(org)[-1]
    assert len(_failover_rows(org)) == 2
    assert recovered["vendor"] == sandbox.pk
    assert recovered["failed_over"] is False
    assert recovered["reason"] == "recovered_after_cooldown"
    assert len(server.log(kind="270", vendor="sandbox")) == 1  # only the last one answered
    assert len(server.log(kind="270", vendor="waystar")) == 3
