"""Late acknowledgements: real 999, 277CA and 277 files (built with `edi`) about claims
sent in a real 837P, applied to the claims, their submissions and statuses."""

from __future__ import annotations

import dataclasses
import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import AuditLog, Claim, ClaimStatusChange
from clearinghouse import vendor_services, vendor_tasks
from clearinghouse.claim_files import build_837p, receiver_id, sender_id
from clearinghouse.models import ClaimAcknowledgement, ClaimSubmission
from clearinghouse.vendors.base import ClaimStatusReport, Report
from edi.models import (
    ClaimAck,
    ElementNote,
    Envelope,
    ImplementationAck,
    Person,
    SegmentNote,
    Status,
    TransactionAck,
)
from edi.x277 import write_277, write_277ca
from edi.x835 import write_835
from edi.x999 import write_999
from tests import factories
from tests.clearinghouse.test_vendor_services import config_for, install_fake
from tests.edi import examples

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake(monkeypatch):
    return install_fake(monkeypatch)


CS = ClaimSubmission.Status
RECEIVED = datetime.datetime(2026, 11, 25, 14, tzinfo=datetime.UTC)


@dataclasses.dataclass
class Sent:
    org: object
    config: object
    claims: list
    control_number: int
    st02: str
    submissions: list


def _claim(org, payer, charges):
    patient = factories.PatientFactory(
        organization=org, address_line1="9 Elm St", city="Harrisburg", state="PA", zip_code="17101"
    )
    coverage = factories.CoverageFactory(organization=org, patient=patient, payer=payer)
    encounter = factories.EncounterFactory(organization=org, patient=patient)
    lines = [
        factories.ChargeFactory(
            encounter=encounter, procedure_code=code, amount=Decimal(amount), status="billed"
        )
        for code, amount in charges
    ]
    claim = factories.ClaimFactory(
        encounter=encounter,
        coverage=coverage,
        payer=payer,
        status=Claim.Status.SUBMITTED,
        total=sum(line.amount for line in lines),
    )
    claim.charges.set(lines)
    return claim


def send(org, config, claims, *, status=CS.SENT) -> Sent:
    """Build the 837P for `claims` and record its submissions, as the claim submission
    work does before its HTTP call."""
    built = build_837p(organization=org, clearinghouse=config, claims=claims)
    assert not built.skipped, built.skipped
    st02 = re.search(r"ST\*837\*(\d+)\*", built.text).group(1)
    submissions = [
        ClaimSubmission.objects.create(
            organization=org,
            claim=claim,
            claim_version=claim.version,
            clearinghouse=config,
            idempotency_key=f"{claim.pk}-v{claim.version}-{built.control_number}",
            control_number=built.control_number,
            status=status,
            x12=built.text,
            sent_at=timezone.now(),
        )
        for claim in claims
    ]
    return Sent(org, config, claims, built.control_number, st02, submissions)


@pytest.fixture
def sent(org):
    org.address_line1, org.city, org.state, org.zip_code = "1 Main St", "Camp Hill", "PA", "17011"
    org.phone = "(717) 555-0100"
    org.save()
    config = config_for(
        org, vendor="sandbox", display_name="Sandbox Clearinghouse", submitter_id="DEMO1234"
    )
    enrollment = factories.PayerEnrollmentFactory(
        organization=org,
        clearinghouse=config,
        payer=factories.PayerFactory(organization=org, name="Aetna"),
        enrollment_status="active",
        electronic_payer_id="60054",
    )
    office_visit = _claim(org, enrollment.payer, [("99213", "145.00"), ("36415", "15.00")])
    new_patient = _claim(org, enrollment.payer, [("99204", "210.00")])
    return send(org, config, [office_visit, new_patient])


def _envelope(sent: Sent, control_number: int = 501) -> Envelope:
    return Envelope(
        sender_id=receiver_id(sent.config),
        receiver_id=sender_id(sent.org, sent.config),
        control_number=control_number,
        group_control_number=control_number,
        created=datetime.datetime(2026, 11, 25, 9, 30),
    )


def ack_999(sent: Sent, *, rejected: bool = False, group: int | None = None) -> str:
    transaction = TransactionAck(transaction_set="837", control_number=sent.st02, status="A")
    if rejected:
        transaction = TransactionAck(
            transaction_set="837",
            control_number=sent.st02,
            status="R",
            error_codes=("5",),
            segment_errors=[
                SegmentNote(
                    segment_id="NM1",
                    position=17,
                    loop_id="2010",
                    error_code="8",
                    elements=[
                        ElementNote(
                            position=9, reference_number="67", error_code="7", bad_value="XYZ999"
                        )
                    ],
                )
            ],
        )
    ack = ImplementationAck(
        functional_id="HC",
        group_control_number=group or sent.control_number,
        version="005010X222A1",
        status="R" if rejected else "A",
        transaction_count=1,
        received_count=1,
        accepted_count=0 if rejected else 1,
        transactions=[transaction],
    )
    return write_999(_envelope(sent), [ack])


ACCEPTED = Status(category="A2", code="20", action_code="WQ", charge=Decimal("0"))
NPI_NOT_ON_FILE = Status(
    category="A7",
    code="562",
    entity="85",
    action_code="U",
    message="BILLING PROVIDER NPI NOT ON FILE",
)


def _claim_ack(claim: Claim, status: Status, pcn: str | None = None) -> ClaimAck:
    patient = claim.encounter.patient
    return ClaimAck(
        patient=Person(
            last_name=patient.last_name.upper(),
            first_name=patient.first_name.upper(),
            id_qualifier="MI",
            identifier=claim.coverage.member_id,
        ),
        patient_control_number=pcn or claim.claim_number,
        statuses=[
            dataclasses.replace(
                status, effective_date=datetime.date(2026, 11, 25), charge=claim.total
            )
        ],
        service_date=claim.encounter.date_of_service,
    )


def ack_277ca(sent: Sent, verdicts: list[tuple[Claim, Status]], *, pcn: str | None = None) -> str:
    base = examples.claim_acknowledgment()
    provider = dataclasses.replace(
        base.providers[0],
        claims=[_claim_ack(claim, status, pcn) for claim, status in verdicts],
        accepted_quantity=None,
        rejected_quantity=None,
        accepted_amount=None,
        rejected_amount=None,
    )
    ack = dataclasses.replace(
        base,
        batch_trace=f"{sent.org.pk}-{sent.control_number}",
        providers=[provider],
        accepted_quantity=None,
        rejected_quantity=None,
        accepted_amount=None,
        rejected_amount=None,
    )
    return write_277ca(_envelope(sent, 502), [ack])


def fetch(org, config, fake, reports):
    fake.script["fetch_reports"] = list(reports)
    return vendor_services.acknowledgements_fetch(organization=org, config=config)


def _refresh(*objects):
    for obj in objects:
        obj.refresh_from_db()


# --- the happy path --------------------------------------------------------------------------


def test_it_applies_a_999_and_a_277ca_to_the_claims_they_name(sent, fake):
    office_visit, new_patient = sent.claims
    reports = [
        # The 277CA first: the 999 is still applied before it.
        Report(
            "RPT-277CA-1",
            "277CA",
            ack_277ca(sent, [(office_visit, ACCEPTED), (new_patient, NPI_NOT_ON_FILE)]),
            RECEIVED,
        ),
        Report("RPT-999-1", "999", ack_999(sent), RECEIVED),
    ]

    summary = fetch(sent.org, sent.config, fake, reports)

    assert summary == vendor_services.FetchSummary(
        reports=2, acknowledgements=4, claims_updated=2, skipped=0, unmatched=0
    )
    acks = {(a.claim_id, a.kind): a for a in ClaimAcknowledgement.objects.order_by("id")}
    assert [k for k in acks] == [
        (office_visit.pk, "999"),
        (new_patient.pk, "999"),
        (office_visit.pk, "277CA"),
        (new_patient.pk, "277CA"),
    ]
    assert acks[(office_visit.pk, "999")].accepted is True
    assert acks[(office_visit.pk, "999")].report_id == "RPT-999-1"
    assert acks[(office_visit.pk, "277CA")].accepted is True
    rejected = acks[(new_patient.pk, "277CA")]
    assert rejected.accepted is False
    assert rejected.message == "A7:562:85 BILLING PROVIDER NPI NOT ON FILE"
    assert rejected.submission == sent.submissions[1]
    assert rejected.received_at == RECEIVED
    assert rejected.x12.startswith("ISA*")

    first, second = sent.submissions
    _refresh(office_visit, new_patient, first, second)
    assert (first.status, second.status) == (CS.ACCEPTED, CS.REJECTED)
    assert second.message == "A7:562:85 BILLING PROVIDER NPI NOT ON FILE"
    assert first.settled_at and second.settled_at
    assert office_visit.status == Claim.Status.ACCEPTED
    assert office_visit.accepted_at is not None
    assert new_patient.status == Claim.Status.REJECTED
    change = ClaimStatusChange.objects.get(claim=new_patient)
    assert (change.from_status, change.to_status, change.actor) == ("submitted", "rejected", None)
    assert change.note == "277CA: A7:562:85 BILLING PROVIDER NPI NOT ON FILE"
    assert AuditLog.objects.filter(action="claim.status").count() == 2
    audit_rows = AuditLog.objects.filter(action="claim.acknowledgement").order_by("id")
    assert audit_rows.count() == 4
    assert audit_rows.last().new_values["claim_status"] == "rejected"
    assert audit_rows.last().actor is None


def test_running_it_again_stores_nothing_new(sent, fake):
    office_visit = sent.claims[0]
    reports = [
        Report("RPT-999-1", "999", ack_999(sent)),
        Report("RPT-277CA-1", "277CA", ack_277ca(sent, [(office_visit, ACCEPTED)])),
    ]
    fetch(sent.org, sent.config, fake, reports)
    audits = AuditLog.objects.count()
    changes = ClaimStatusChange.objects.count()

    summary = fetch(sent.org, sent.config, fake, reports)

    assert (summary.reports, summary.acknowledgements, summary.claims_updated) == (2, 0, 0)
    assert ClaimAcknowledgement.objects.count() == 3
    assert AuditLog.objects.count() == audits
    assert ClaimStatusChange.objects.count() == changes


def test_a_file_without_a_report_id_is_recognised_by_its_content(sent, fake):
    report = Report("", "999", ack_999(sent))
    fetch(sent.org, sent.config, fake, [report])
    assert fetch(sent.org, sent.config, fake, [report]).acknowledgements == 0
    assert {a.report_id[:7] for a in ClaimAcknowledgement.objects.all()} == {"sha256:"}


# --- 999 -------------------------------------------------------------------------------------


def test_a_rejected_999_rejects_every_claim_of_the_file_and_says_why(sent, fake):
    summary = fetch(
        sent.org, sent.config, fake, [Report("R1", "999", ack_999(sent, rejected=True))]
    )

    assert summary.claims_updated == 2
    expected = (
        f"999: rejected: transaction set {sent.st02} rejected (IK5 5); "
        "segment NM1 #17 error 8, element NM109 error 7"
    )
    for claim, submission in zip(sent.claims, sent.submissions, strict=True):
        _refresh(claim, submission)
        assert claim.status == Claim.Status.REJECTED
        assert (submission.status, submission.message) == (CS.REJECTED, expected)
    assert set(ClaimAcknowledgement.objects.values_list("accepted", "message")) == {
        (False, expected)
    }
    assert "XYZ999" not in expected  # the bad value may be PHI: never copied


def test_an_accepting_999_settles_an_unknown_outcome_and_leaves_the_claim_submitted(
    org, sent, fake
):
    claim = factories.ClaimFactory(organization=org)  # another file, with its own number
    for submission in sent.submissions:
        submission.status = CS.UNKNOWN
        submission.save()

    fetch(sent.org, sent.config, fake, [Report("R1", "999", ack_999(sent))])

    for claim, submission in zip(sent.claims, sent.submissions, strict=True):
        _refresh(claim, submission)
        assert submission.status == CS.SENT
        assert claim.status == Claim.Status.SUBMITTED
    assert not ClaimStatusChange.objects.exists()


def test_a_999_for_a_file_we_did_not_send_is_counted_as_unmatched(sent, fake):
    summary = fetch(sent.org, sent.config, fake, [Report("R1", "999", ack_999(sent, group=777))])
    assert (summary.acknowledgements, summary.unmatched) == (0, 1)


# --- 277CA and 277 -----------------------------------------------------------------------------


def test_a_claim_that_is_not_ours_is_counted_and_skipped(sent, fake):
    report = Report(
        "R1", "277CA", ack_277ca(sent, [(sent.claims[0], ACCEPTED)], pcn="SOMEONE-ELSES")
    )
    summary = fetch(sent.org, sent.config, fake, [report])
    assert (summary.acknowledgements, summary.unmatched) == (0, 1)
    assert not ClaimAcknowledgement.objects.exists()


def test_an_acknowledgement_of_an_older_submission_leaves_the_claim_alone(sent, fake):
    office_visit = sent.claims[0]
    newer = send(sent.org, sent.config, [office_visit])
    report = Report("R1", "277CA", ack_277ca(sent, [(office_visit, NPI_NOT_ON_FILE)]))

    fetch(sent.org, sent.config, fake, [report])

    ack = ClaimAcknowledgement.objects.get()
    assert ack.submission == sent.submissions[0]  # named by the 277CA's batch trace
    _refresh(office_visit, sent.submissions[0], newer.submissions[0])
    assert sent.submissions[0].status == CS.REJECTED
    assert newer.submissions[0].status == CS.SENT
    assert office_visit.status == Claim.Status.SUBMITTED


def test_a_payers_277ca_can_reject_a_claim_the_clearinghouse_accepted(sent, fake):
    office_visit = sent.claims[0]
    fetch(
        sent.org,
        sent.config,
        fake,
        [Report("R1", "277CA", ack_277ca(sent, [(office_visit, ACCEPTED)]))],
    )
    fetch(
        sent.org,
        sent.config,
        fake,
        [Report("R2", "277CA", ack_277ca(sent, [(office_visit, NPI_NOT_ON_FILE)]))],
    )
    office_visit.refresh_from_db()
    assert office_visit.status == Claim.Status.REJECTED


def _status_response(sent: Sent, claim: Claim, status: Status) -> str:
    response = examples.status_response()
    provider = response.providers[0]
    inquiry = dataclasses.replace(
        provider.claims[0], patient_control_number=claim.claim_number, statuses=[status]
    )
    response = dataclasses.replace(
        response, providers=[dataclasses.replace(provider, claims=[inquiry])]
    )
    return write_277(_envelope(sent, 503), [response])


def test_a_finalized_277_is_stored_and_leaves_the_status_to_the_era(sent, fake):
    office_visit = sent.claims[0]
    paid = Status(
        category="F1",
        code="65",
        effective_date=datetime.date(2026, 11, 20),
        charge=Decimal("160.00"),
        paid=Decimal("120.00"),
    )
    report = Report("R1", "277", _status_response(sent, office_visit, paid))

    summary = fetch(sent.org, sent.config, fake, [report])

    ack = ClaimAcknowledgement.objects.get()
    assert (ack.kind, ack.accepted, ack.message) == ("277", True, "F1:65")
    assert summary.claims_updated == 0
    office_visit.refresh_from_db()
    assert office_visit.status == Claim.Status.SUBMITTED


def test_a_277_rejection_rejects_the_claim(sent, fake):
    office_visit = sent.claims[0]
    report = Report("R1", "277", _status_response(sent, office_visit, NPI_NOT_ON_FILE))
    fetch(sent.org, sent.config, fake, [report])
    office_visit.refresh_from_db()
    assert office_visit.status == Claim.Status.REJECTED


def test_the_kind_comes_from_the_file_when_the_label_is_wrong(sent, fake):
    text = ack_277ca(sent, [(sent.claims[0], ACCEPTED)])
    fetch(sent.org, sent.config, fake, [Report("R1", "277", text)])
    assert ClaimAcknowledgement.objects.get().kind == "277CA"


# --- Claim.MD's claim statuses (given as data, not X12) -----------------------------------------


def status_report(claim: Claim, status: str, *messages: str, response_id: str = "77") -> Report:
    vendor_status = {"accepted": "A", "rejected": "R"}.get(status, "Q")
    return ClaimStatusReport(
        report_id=f"{response_id}:{claim.claim_number}",
        kind="status",
        text=f'<claim claimid="{claim.claim_number}" status="{vendor_status}"/>',
        received_at=RECEIVED,
        claim_id=claim.claim_number,
        status=status,
        vendor_status=vendor_status,
        messages=messages,
    )


def test_a_claim_status_settles_the_claims_latest_submission_like_a_277ca(sent, fake):
    office_visit, new_patient = sent.claims
    reports = [
        status_report(office_visit, "accepted"),
        status_report(new_patient, "rejected", "SUBSCRIBER MEMBER ID IS INVALID"),
    ]

    summary = fetch(sent.org, sent.config, fake, reports)

    assert summary == vendor_services.FetchSummary(
        reports=2, acknowledgements=2, claims_updated=2, skipped=0, unmatched=0
    )
    acks = {a.claim_id: a for a in ClaimAcknowledgement.objects.all()}
    assert {(a.kind, a.accepted, a.report_id) for a in acks.values()} == {
        ("status", True, f"77:{office_visit.claim_number}"),
        ("status", False, f"77:{new_patient.claim_number}"),
    }
    assert acks[new_patient.pk].message == "R: SUBSCRIBER MEMBER ID IS INVALID"
    assert acks[new_patient.pk].x12 == reports[1].text  # the vendor's record, kept raw
    assert acks[office_visit.pk].submission == sent.submissions[0]
    _refresh(office_visit, new_patient, *sent.submissions)
    assert (office_visit.status, new_patient.status) == (
        Claim.Status.ACCEPTED,
        Claim.Status.REJECTED,
    )
    assert [s.status for s in sent.submissions] == [CS.ACCEPTED, CS.REJECTED]
    assert sent.submissions[1].message == "R: SUBSCRIBER MEMBER ID IS INVALID"
    change = ClaimStatusChange.objects.get(claim=new_patient)
    assert change.note == "status: R: SUBSCRIBER MEMBER ID IS INVALID"
    assert AuditLog.objects.filter(action="claim.acknowledgement").count() == 2
    # The same statuses again store nothing new.
    assert fetch(sent.org, sent.config, fake, reports).acknowledgements == 0
    assert ClaimAcknowledgement.objects.count() == 2


def test_a_claim_status_neither_accepted_nor_rejected_leaves_the_claim_alone(sent, fake):
    office_visit = sent.claims[0]
    fetch(sent.org, sent.config, fake, [status_report(office_visit, "", "IN REVIEW")])
    ack = ClaimAcknowledgement.objects.get()
    assert (ack.kind, ack.accepted, ack.message) == ("status", True, "Q: IN REVIEW")
    _refresh(office_visit, sent.submissions[0])
    assert office_visit.status == Claim.Status.SUBMITTED
    assert sent.submissions[0].status == CS.SENT


def test_a_claim_status_about_a_claim_that_is_not_ours_is_counted_unmatched(sent, fake):
    stranger = factories.ClaimFactory(organization=factories.OrganizationFactory())
    summary = fetch(sent.org, sent.config, fake, [status_report(stranger, "accepted")])
    assert (summary.unmatched, summary.acknowledgements) == (1, 0)


# --- files skipped -------------------------------------------------------------------------------


def test_a_report_of_an_unexpected_kind_is_logged_without_content_and_skipped(sent, fake, caplog):
    era = write_835(examples.envelope(), [examples.remittance()])

    summary = fetch(sent.org, sent.config, fake, [Report("ERA-1", "835", era, RECEIVED)])

    assert (summary.skipped, summary.acknowledgements) == (1, 0)
    assert not ClaimAcknowledgement.objects.exists()
    assert "ERA-1" in caplog.text and "835" in caplog.text
    assert "ISA" not in caplog.text  # never the content (PHI)


def test_an_unreadable_file_is_skipped_and_the_others_still_apply(sent, fake, caplog):
    broken = Report("BROKEN", "999", "ISA*00*this is not x12~")
    summary = fetch(sent.org, sent.config, fake, [broken, Report("R1", "999", ack_999(sent))])

    assert (summary.skipped, summary.acknowledgements) == (1, 2)
    assert "BROKEN" in caplog.text and "skipped" in caplog.text
    assert "this is not x12" not in caplog.text


# --- the beat task -----------------------------------------------------------------------------


def test_the_beat_task_applies_the_reports_of_each_active_configuration(sent, fake):
    fake.script["fetch_reports"] = [Report("R1", "999", ack_999(sent, rejected=True))]

    result = vendor_tasks.fetch_acknowledgements()

    assert result[sent.org.slug]["acknowledgements"] == 2
    assert result[sent.org.slug]["claims_updated"] == 2
    assert set(Claim.objects.values_list("status", flat=True)) == {Claim.Status.REJECTED}


# --- end to end, against the sandbox clearinghouse over HTTP -----------------------------------


def test_end_to_end_the_sandboxs_acknowledgements_settle_the_claims_it_took(
    sent, sandbox_clearinghouse
):
    sent.config.base_url = sandbox_clearinghouse.vendor_url("sandbox")
    sent.config.save()
    office_visit, unknown_member = sent.claims
    coverage = unknown_member.coverage
    coverage.member_id = "BAD0001"  # the sandbox rejects it with a 277CA
    coverage.save()
    sent = send(sent.org, sent.config, sent.claims)  # the file again, with the bad member id
    adapter = vendor_services.adapter_for(sent.config)
    result = adapter.submit_claims(
        sent.submissions[0].x12, idempotency_key=f"file-{sent.control_number}"
    )
    assert result.reference

    summary = vendor_services.acknowledgements_fetch(organization=sent.org, config=sent.config)

    kinds = sorted(ClaimAcknowledgement.objects.values_list("claim_id", "kind", "accepted"))
    assert kinds == sorted(
        [
            (office_visit.pk, "999", True),
            (unknown_member.pk, "999", True),
            (office_visit.pk, "277CA", True),
            (unknown_member.pk, "277CA", False),
        ]
    )
    _refresh(office_visit, unknown_member, *sent.submissions)
    assert office_visit.status == Claim.Status.ACCEPTED
    assert unknown_member.status == Claim.Status.REJECTED
    assert [s.status for s in sent.submissions] == [CS.ACCEPTED, CS.REJECTED]
    assert (summary.skipped, summary.unmatched) == (0, 0)
    change = ClaimStatusChange.objects.get(claim=unknown_member)
    assert "MEMBER ID IS INVALID" in change.note
    # Nothing is left in the mailbox for the acknowledgements: a second run finds nothing.
    assert (
        vendor_services.acknowledgements_fetch(organization=sent.org, config=sent.config)
        == vendor_services.FetchSummary()
    )
    # The accepted claim's ERA (era_delay_s is 0) stayed in the mailbox for fetch_eras.
    (era,) = adapter.fetch_eras()
    assert era.kind == "835" and f"CLP*{office_visit.claim_number}*" in era.text
    assert f"CLP*{unknown_member.claim_number}*" not in era.text


def test_end_to_end_claim_mds_statuses_settle_the_claims_it_took(sent, sandbox_clearinghouse):
    sent.config.vendor = "claim_md"
    sent.config.base_url = sandbox_clearinghouse.vendor_url("claim_md")
    sent.config.save()
    office_visit, unknown_member = sent.claims
    coverage = unknown_member.coverage
    coverage.member_id = "BAD0001"  # the sandbox rejects it
    coverage.save()
    sent = send(sent.org, sent.config, sent.claims)
    adapter = vendor_services.adapter_for(sent.config)
    result = adapter.submit_claims(
        sent.submissions[0].x12, idempotency_key=f"file-{sent.control_number}"
    )
    assert result.reference

    summary = vendor_services.acknowledgements_fetch(organization=sent.org, config=sent.config)

    assert summary.skipped == 0
    acks = sorted(
        ClaimAcknowledgement.objects.filter(kind="status").values_list("claim_id", "accepted")
    )
    assert acks == sorted([(office_visit.pk, True), (unknown_member.pk, False)])
    _refresh(office_visit, unknown_member, *sent.submissions)
    assert office_visit.status == Claim.Status.ACCEPTED
    assert unknown_member.status == Claim.Status.REJECTED
    assert [s.status for s in sent.submissions] == [CS.ACCEPTED, CS.REJECTED]
    assert "MEMBER ID IS INVALID" in ClaimStatusChange.objects.get(claim=unknown_member).note
    # Claim.MD remembers the last response: a second run finds nothing new.
    again = vendor_services.acknowledgements_fetch(organization=sent.org, config=sent.config)
    assert again.acknowledgements == 0
