"""The denials worklist (/pm/claims/denials) over ERAs built with edi's writer: lines grouped
by CARC/RARC with descriptions, amounts at stake and ages; write-off and move to patient
responsibility (ledger, balance, audit); who may do what; bad input changes nothing."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from billing.models import AuditLog, Claim, LedgerEntry
from payments import ingestion
from payments.denial_selectors import denial_worklist
from payments.era_posting import insurance_balance
from payments.models import ClaimPayment, DenialResolution, EraFile, PaymentAdjustment
from tests import factories
from tests.payments import eras

pytestmark = pytest.mark.django_db

D = Decimal
URL = "/pm/claims/denials"
TODAY = datetime.datetime(2026, 12, 20, 15, 0, tzinfo=datetime.UTC)  # 30 days after PAY_DAY


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def payer(org):
    return factories.PayerFactory(organization=org, name="Acme Health Plan", payer_id="ACME1")


def ingest(org, text):
    return ingestion.era_file_ingest(
        organization=org, actor=None, content=text, source=EraFile.Source.COMMAND
    )


@pytest.fixture
def worked(org, payer):
    """One ERA: a claim with a denied line (CO-50, N130), a claim denied whole (CO-16, M51 on
    each line), a claim paid with an OA-18 line, a claim paid in full."""
    partly = eras.claim(org, payer, number="DEN-C000001")
    denied = eras.claim(org, payer, number="DEN-C000002")
    duplicate = eras.claim(org, payer, number="DEN-C000003")
    paid = eras.claim(org, payer, number="DEN-C000004")
    adjudications = [
        eras.paid_claim(
            partly,
            services=[
                eras.line("99213", "150.00", "96.00", ("CO", "45", "30.00"), ("PR", "2", "24.00")),
                eras.line("87880", "35.00", "0.00", ("CO", "50", "35.00"), remarks=("N130",)),
            ],
        ),
        eras.paid_claim(
            denied,
            status_code="4",
            services=[
                eras.line("99213", "150.00", "0.00", ("CO", "16", "150.00"), remarks=("M51",)),
                eras.line("87880", "35.00", "0.00", ("CO", "16", "35.00"), remarks=("M51",)),
            ],
        ),
        eras.paid_claim(
            duplicate,
            services=[
                eras.line("99213", "150.00", "120.00", ("CO", "45", "30.00")),
                eras.line("87880", "35.00", "28.00", ("CO", "45", "3.00"), ("OA", "18", "4.00")),
            ],
        ),
        eras.paid_claim(paid),
    ]
    ingest(org, eras.file_835(eras.remittance(org, adjudications, amount=None)))
    return {"partly": partly, "denied": denied, "duplicate": duplicate, "paid": paid}


def rows(response) -> list[tuple[str, str, str]]:
    """(group code, claim number, at stake) of each row on the page, in order."""
    html = response.content.decode()
    found = []
    for section in html.split('data-testid="denial-group" data-code="')[1:]:
        code = section.split('"', 1)[0]
        for row in section.split('data-testid="denial-row" data-claim="')[1:]:
            claim = row.split('"', 1)[0]
            stake = row.split('data-testid="at-stake">', 1)[1].split("<", 1)[0]
            found.append((code, claim, stake))
    return found


def balance(made: Claim) -> Decimal:
    return made.encounter.__class__.objects.get(pk=made.encounter_id).balance


def test_it_groups_open_denials_by_carc_with_descriptions_amounts_and_age(
    org, worked, clerk, login
):
    response = login(clerk).get(URL)

    assert response.status_code == 200
    assert rows(response) == [
        ("CO-16", "DEN-C000002", "$150.00"),
        ("CO-16", "DEN-C000002", "$35.00"),
        ("CO-50", "DEN-C000001", "$35.00"),
        ("OA-18", "DEN-C000003", "$4.00"),
    ]
    html = response.content.decode()
    assert "Claim/service lacks information or has submission/billing error(s); see" in html
    assert "Non-covered: not deemed a &#x27;medical necessity&#x27; by the payer." in html
    assert 'title="Missing/incomplete/invalid procedure code(s)."' in html  # M51
    assert "<strong>4</strong> lines · <strong>$224.00</strong> at stake" in html
    assert 'data-testid="age">30d<' in html
    # the paid claims' contractual CO-45 and the patient's PR are not denials
    assert "DEN-C000004" not in html and "CO-45" not in html and "PR-2" not in html
    # the clerk sees no actions, but the way to correct the claim
    assert 'data-testid="write-off"' not in html and 'data-testid="correct"' in html


def test_it_groups_by_rarc_and_filters(org, worked, payer, clerk, login):
    client = login(clerk)

    by_rarc = denial_worklist(org, group_by="rarc")
    assert [(g.code, g.amount) for g in by_rarc.groups] == [
        ("M51", D("185.00")),
        ("N130", D("35.00")),
        ("", D("4.00")),
    ]
    assert by_rarc.groups[1].description.startswith("Consult plan benefit documents")

    assert [r[1] for r in rows(client.get(URL, {"code": "CO-50"}))] == ["DEN-C000001"]
    assert [r[1] for r in rows(client.get(URL, {"code": "16"}))] == ["DEN-C000002"] * 2
    assert [r[1] for r in rows(client.get(URL, {"rarc": "n130"}))] == ["DEN-C000001"]
    assert [r[1] for r in rows(client.get(URL, {"q": "DEN-C000003"}))] == ["DEN-C000003"]
    assert len(rows(client.get(URL, {"payer": payer.name, "min_age": "30"}))) == 4
    assert rows(client.get(URL, {"min_age": "31"})) == []


def test_bad_filters_are_named_and_left_out(org, worked, clerk, login):
    response = login(clerk).get(URL, {"min_age": "soon", "code": "CO-50!", "payer": "Nobody"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "Older than (days): Enter a whole number. This filter was left out." in html
    assert "CARC: A CARC as 50 or CO-50." in html
    assert "Payer: Select a valid choice." in html
    assert len(rows(response)) == 4


def test_write_off_posts_to_the_ledger_lowers_the_balance_and_is_audited(
    org, worked, manager, login
):
    partly = worked["partly"]
    cp = ClaimPayment.objects.get(claim=partly)
    line = cp.service_lines.get(procedure_code="87880")
    before = balance(partly)
    assert before == D("59.00")  # 24.00 the patient's, 35.00 denied

    response = login(manager).post(
        f"{URL}/{cp.pk}/write-off", {"line": line.pk, "note": "Not worth an appeal", "next": URL}
    )

    assert response.status_code == 302 and response["Location"] == URL
    assert balance(partly) == D("24.00")
    entry = LedgerEntry.objects.get(kind="write_off")
    assert (entry.amount, entry.claim, entry.created_by) == (D("-35.00"), partly, manager)
    assert entry.memo == (
        "Denial written off: CO-50 35.00 on line 87880 of claim DEN-C000001 (Not worth an appeal)"
    )
    resolution = DenialResolution.objects.get()
    assert (resolution.action, resolution.amount, resolution.codes) == (
        "write_off",
        D("35.00"),
        "CO-50 35.00",
    )
    assert entry.source_table == "payments_denialresolution"
    assert entry.source_id == str(resolution.pk)
    row = AuditLog.objects.get(action="denial.write_off")
    assert row.actor == manager
    assert row.old_values["balance"] == "59.00" and row.new_values["balance"] == "24.00"
    assert AuditLog.objects.filter(action="ledger.write_off").count() == 1
    page = login(manager).get(URL)
    assert "DEN-C000001" not in {claim for _, claim, _ in rows(page)}
    assert "Claim DEN-C000001: 35.00 (CO-50 35.00) written off." in page.content.decode()


def test_a_whole_denied_claim_is_written_off_at_once(org, worked, manager, login):
    denied = worked["denied"]
    cp = ClaimPayment.objects.get(claim=denied)

    login(manager).post(f"{URL}/{cp.pk}/write-off")

    assert balance(denied) == D("0.00")
    assert not PaymentAdjustment.objects.filter(claim_payment=cp, resolution__isnull=True).exists()


def test_move_to_patient_responsibility_keeps_the_balance_and_moves_it_off_the_payer(
    org, worked, manager, login
):
    partly = worked["partly"]
    cp = ClaimPayment.objects.get(claim=partly)
    line = cp.service_lines.get(procedure_code="87880")
    assert insurance_balance(org, partly) == D("35.00")

    response = login(manager).post(f"{URL}/{cp.pk}/patient", {"line": line.pk})

    assert response.status_code == 302
    assert balance(partly) == D("59.00")
    assert insurance_balance(org, partly) == D("0.00")
    pair = list(
        LedgerEntry.objects.filter(source_table="payments_denialresolution")
        .order_by("id")
        .values_list("kind", "amount", "claim")
    )
    assert pair == [("adjustment", D("-35.00"), partly.pk), ("adjustment", D("35.00"), None)]
    patient_line = LedgerEntry.objects.get(source_table="payments_denialresolution", claim=None)
    assert patient_line.memo == (
        "Patient responsibility: CO-50 35.00 on line 87880 of claim DEN-C000001"
    )
    row = AuditLog.objects.get(action="denial.patient_responsibility")
    assert row.old_values["insurance_balance"] == "35.00"
    assert row.new_values["insurance_balance"] == "0.00"
    # shown on the encounter's ledger
    page = login(manager).get(reverse("encounter_detail", args=[partly.encounter_id]))
    assert "Patient responsibility: CO-50 35.00" in page.content.decode()


def test_working_a_denial_twice_is_refused_and_changes_nothing(org, worked, manager, login):
    cp = ClaimPayment.objects.get(claim=worked["partly"])
    client = login(manager)
    client.post(f"{URL}/{cp.pk}/write-off")
    entries, audits = LedgerEntry.objects.count(), AuditLog.objects.count()

    response = client.post(f"{URL}/{cp.pk}/patient")

    assert response.status_code == 400
    assert "Nothing is open on the claim any more" in response.content.decode()
    assert (LedgerEntry.objects.count(), AuditLog.objects.count()) == (entries, audits)


def test_a_line_of_another_adjudication_or_a_long_note_is_refused(org, worked, manager, login):
    cp = ClaimPayment.objects.get(claim=worked["partly"])
    foreign_line = ClaimPayment.objects.get(claim=worked["denied"]).service_lines.first()
    client = login(manager)
    entries = LedgerEntry.objects.count()

    response = client.post(f"{URL}/{cp.pk}/write-off", {"line": foreign_line.pk})
    assert response.status_code == 400
    assert "That line is not on this claim&#x27;s adjudication." in response.content.decode()

    response = client.post(f"{URL}/{cp.pk}/write-off", {"note": "x" * 201})
    assert response.status_code == 400
    assert "Ensure this value has at most 200 characters" in response.content.decode()

    response = client.post(f"{URL}/{cp.pk}/write-off", {"line": "abc"})
    assert response.status_code == 400
    assert LedgerEntry.objects.count() == entries
    assert not DenialResolution.objects.exists()


def test_a_write_off_larger_than_the_balance_is_refused(org, worked, manager, login):
    partly = worked["partly"]
    cp = ClaimPayment.objects.get(claim=partly)
    factories.LedgerEntryFactory(
        organization=org, encounter=partly.encounter, kind="patient_payment", amount=D("-50.00")
    )

    response = login(manager).post(f"{URL}/{cp.pk}/write-off")

    assert response.status_code == 400
    assert "writing off 35.00 would leave a credit" in response.content.decode()
    assert not LedgerEntry.objects.filter(kind="write_off").exists()


def test_the_clerk_may_look_but_not_work_denials(org, worked, clerk, login):
    cp = ClaimPayment.objects.get(claim=worked["partly"])
    client = login(clerk)

    assert client.get(URL).status_code == 200
    assert client.post(f"{URL}/{cp.pk}/write-off").status_code == 403
    assert client.post(f"{URL}/{cp.pk}/patient").status_code == 403
    assert not DenialResolution.objects.exists()


def test_a_member_without_billing_access_gets_403(org, worked, login):
    role = factories.OrganizationRoleFactory(organization=org, codes=["pm.payers.manage"])
    user = factories.UserFactory(username="frontdesk")
    factories.MembershipFactory(user=user, organization=org, role=role)

    assert login(user).get(URL).status_code == 403


def test_another_organizations_member_sees_none_and_gets_404(org, worked, other, login):
    cp = ClaimPayment.objects.get(claim=worked["partly"])
    client = login(other)

    response = client.get(URL)
    assert response.status_code == 200 and "DEN-C0000" not in response.content.decode()
    assert client.post(f"{URL}/{cp.pk}/write-off").status_code == 404
    assert client.post(f"{URL}/{cp.pk}/patient").status_code == 404
    assert not DenialResolution.objects.exists()


def test_a_reversal_or_a_later_adjudication_takes_the_denial_off_the_list(org, payer):
    made = eras.claim(org, payer, number="DEN-C000010")
    denial = eras.paid_claim(
        made,
        status_code="4",
        services=[
            eras.line("99213", "150.00", "0.00", ("CO", "16", "150.00")),
            eras.line("87880", "35.00", "0.00", ("CO", "16", "35.00")),
        ],
    )
    ingest(org, eras.file_835(eras.remittance(org, [denial], trace="T1", amount="0")))
    assert denial_worklist(org).rows == 2

    # corrected and paid on a later ERA
    ingest(
        org,
        eras.file_835(eras.remittance(org, [eras.paid_claim(made)], trace="T2"), control_number=2),
    )
    assert denial_worklist(org).rows == 0
