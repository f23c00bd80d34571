"""ERA ingestion of 835s paying our own claims (built with edi's writer): payments, claim
payments, ledger postings, claim statuses, balances, audit rows; and what is refused or
skipped."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db.models import Sum

from billing.models import AuditLog, Claim, ClaimStatusChange, Encounter, LedgerEntry
from edi import models as x12
from payments import ingestion
from payments.models import (
    ClaimPayment,
    Era,
    EraFile,
    InsurancePayment,
    PaymentAdjustment,
    ServiceLinePayment,
)
from tests import factories
from tests.payments import eras

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def payer(org):
    return factories.PayerFactory(organization=org, name="Acme Health Plan", payer_id="ACME1")


@pytest.fixture
def enrollment(org, payer):
    return factories.PayerEnrollmentFactory(
        organization=org,
        payer=payer,
        enrollment_status="active",
        covers_837p=True,
        covers_835=True,
    )


def ingest(org, text, **kwargs):
    kwargs.setdefault("source", EraFile.Source.COMMAND)
    return ingestion.era_file_ingest(organization=org, actor=None, content=text, **kwargs)


def balance(claim: Claim) -> Decimal:
    """The encounter's balance recomputed from its ledger rows."""
    total = LedgerEntry.objects.filter(encounter=claim.encounter_id).aggregate(t=Sum("amount"))["t"]
    assert Encounter.objects.get(pk=claim.encounter_id).balance == total
    return total


def ledger(claim: Claim) -> list[tuple[str, Decimal]]:
    return list(
        LedgerEntry.objects.filter(claim=claim, source_table="payments_claimpayment")
        .order_by("id")
        .values_list("kind", "amount")
    )


def counts() -> tuple[int, ...]:
    return (
        Era.objects.count(),
        InsurancePayment.objects.count(),
        ClaimPayment.objects.count(),
        ServiceLinePayment.objects.count(),
        PaymentAdjustment.objects.count(),
        LedgerEntry.objects.exclude(kind="charge").count(),
        ClaimStatusChange.objects.count(),
        AuditLog.objects.filter(action="era.ingest").count(),
    )


def test_it_pays_posts_and_moves_our_claims(org, payer, enrollment):
    paid = eras.claim(org, payer, number="DFP-C000001")
    partly = eras.claim(org, payer, number="DFP-C000002")
    partly_lines = [
        eras.line("99213", "150.00", "96.00", ("CO", "45", "30.00"), ("PR", "2", "24.00")),
        eras.line("87880", "35.00", "0.00", ("CO", "50", "35.00"), remarks=("N130",)),
    ]
    text = eras.file_835(
        eras.remittance(
            org,
            [eras.paid_claim(paid), eras.paid_claim(partly, services=partly_lines)],
            trace="EFT0001",
        )
    )

    result = ingest(
        org, text, file_name="acme-1120.835", clearinghouse_config_id=enrollment.clearinghouse_id
    )

    assert result.status == "ingested"
    assert (result.payments, result.paid_total) == (1, D("220.00"))
    assert (result.claims_matched, result.claims_unmatched, result.postings) == (2, 0, 4)
    (era,) = result.eras
    assert era.era_id == "1999999999|EFT0001|" + org.billing_npi
    assert (era.payer, era.payment_amount, era.payment_date) == (payer, D("220.00"), eras.PAY_DAY)
    assert not era.needs_review and era.warnings == []
    payment = InsurancePayment.objects.get()
    assert (payment.source, payment.era, payment.paid_amount, payment.paid_date) == (
        "automatic",
        era,
        D("220.00"),
        eras.PAY_DAY,
    )
    assert (payment.npi, payment.ach_check_number, payment.payer_name) == (
        org.billing_npi,
        "EFT0001",
        "ACME HEALTH PLAN",
    )
    assert payment.deposit_status == "PENDING" and payment.created_by is None

    # 185.00 billed: paid 124.00, CO-45 37.00 adjusted, the patient's 24.00 coinsurance left
    paid.refresh_from_db()
    assert paid.status == "paid"
    assert ledger(paid) == [("insurance_payment", D("-124.00")), ("adjustment", D("-37.00"))]
    assert balance(paid) == D("24.00")
    # the denied line's 35.00 stays open with the payer
    partly.refresh_from_db()
    assert partly.status == "partially_paid"
    assert ledger(partly) == [("insurance_payment", D("-96.00")), ("adjustment", D("-30.00"))]
    assert balance(partly) == D("59.00")

    row = ClaimPayment.objects.get(claim=partly)
    assert row.posting_note == (
        "Partially paid: paid 96.00, adjusted 30.00, patient owes 24.00, 35.00 still open with "
        "the payer."
    )
    denied_line = row.service_lines.get(procedure_code="87880")
    assert denied_line.remark_codes == ["N130"]
    assert list(denied_line.adjustments.values_list("group_code", "reason_code", "amount")) == [
        ("CO", "50", D("35.00"))
    ]
    change = ClaimStatusChange.objects.get(claim=paid)
    assert (change.from_status, change.to_status, change.actor) == ("accepted", "paid", None)
    assert change.note.startswith("835 EFT0001 from ACME HEALTH PLAN: Paid")

    (audit_row,) = AuditLog.objects.filter(action="era.ingest")
    assert audit_row.record_id == str(era.pk)
    assert audit_row.new_values["payment"] == {"id": payment.pk, "paid_amount": "220.00"}
    assert [c["claim"] for c in audit_row.new_values["claims"]] == [paid.pk, partly.pk]
    assert audit_row.new_values["ledger_entries"] == 4
    assert (
        AuditLog.objects.filter(action__startswith="ledger.")
        .exclude(action="ledger.charge")
        .count()
        == 4
    )

    enrollment.refresh_from_db()
    assert enrollment.last_era_received_at == result.era_file.received_at
    era_file = EraFile.objects.get()
    assert (era_file.status, era_file.file_name, era_file.sha256) == (
        "ingested",
        "acme-1120.835",
        ingestion.content_sha256(text),
    )
    assert era_file.message == (
        "1 ERA, 1 payment ($220.00), 2 claims (2 matched, 0 unmatched), 4 ledger postings."
    )


def test_a_zero_pay_notification_records_the_denials_but_no_payment(org, payer):
    made = eras.claim(org, payer, number="DFP-C000003")
    denial = eras.paid_claim(
        made,
        status_code="4",
        services=[],
        adjustments=[("CO", "50", "185.00")],
    )
    text = eras.file_835(eras.remittance(org, [denial], trace="NOTICE1"))
    assert "BPR*H*0*C*NON" in text

    result = ingest(org, text)

    assert (result.status, result.payments, result.postings) == ("ingested", 0, 0)
    era = Era.objects.get()
    assert (era.handling_code, era.payment_method, era.payment_amount) == ("H", "NON", D("0.00"))
    assert not InsurancePayment.objects.exists()
    made.refresh_from_db()
    assert made.status == "denied"
    assert balance(made) == D("185.00")  # nothing posted: the denial is worked from here
    note = ClaimPayment.objects.get().posting_note
    assert note == "Denied (CO-50): nothing posted; the balance stays for follow-up."


def test_a_denial_in_a_paying_era_keeps_its_codes_and_posts_nothing(org, payer):
    made = eras.claim(org, payer, number="DFP-C000004")
    other = eras.claim(org, payer, number="DFP-C000005")
    denial = eras.paid_claim(
        made,
        status_code="4",
        services=[
            eras.line("99213", "150.00", "0", ("CO", "197", "150.00"), remarks=("N54",)),
            eras.line("87880", "35.00", "0", ("CO", "197", "35.00")),
        ],
    )
    ingest(org, eras.file_835(eras.remittance(org, [denial, eras.paid_claim(other)])))

    made.refresh_from_db()
    other.refresh_from_db()
    assert (made.status, other.status) == ("denied", "paid")
    assert ledger(made) == []
    assert balance(made) == D("185.00")
    row = ClaimPayment.objects.get(claim=made)
    assert sorted(
        PaymentAdjustment.objects.filter(claim_payment=row).values_list("reason_code", flat=True)
    ) == ["197", "197"]
    assert InsurancePayment.objects.get().paid_amount == D("124.00")


def test_a_reversal_takes_the_earlier_posting_back_and_a_correction_pays_again(org, payer):
    made = eras.claim(org, payer, number="DFP-C000006")
    ingest(org, eras.file_835(eras.remittance(org, [eras.paid_claim(made)], trace="EFT1")))
    made.refresh_from_db()
    assert (made.status, balance(made)) == ("paid", D("24.00"))
    first = ClaimPayment.objects.get()

    reversal = eras.paid_claim(
        made,
        status_code="22",
        services=[
            eras.line("99213", "-150.00", "-96.00", ("CO", "45", "-30.00"), ("PR", "2", "-24.00")),
            eras.line("87880", "-35.00", "-28.00", ("CO", "45", "-7.00")),
        ],
    )
    reversal.charge = D("-185.00")
    correction = eras.paid_claim(
        made,
        services=[
            eras.line("99213", "150.00", "120.00", ("CO", "45", "30.00")),
            eras.line("87880", "35.00", "28.00", ("CO", "45", "7.00")),
        ],
    )
    text = eras.file_835(
        eras.remittance(org, [reversal, correction], trace="EFT2"), control_number=2
    )
    result = ingest(org, text)

    assert result.status == "ingested"
    assert InsurancePayment.objects.get(era__trace_number="EFT2").paid_amount == D("24.00")
    back, _again = ClaimPayment.objects.filter(era__trace_number="EFT2").order_by("id")
    first.refresh_from_db()
    assert first.reversed_by == back
    assert back.posting_note == "Reversed: 2 earlier posting(s) taken back (paid 124.00)."
    assert ledger(made) == [
        ("insurance_payment", D("-124.00")),
        ("adjustment", D("-37.00")),
        ("reversal", D("124.00")),
        ("reversal", D("37.00")),
        ("insurance_payment", D("-148.00")),
        ("adjustment", D("-37.00")),
    ]
    made.refresh_from_db()
    assert made.status == "paid"
    assert balance(made) == D("0.00")
    steps = list(
        ClaimStatusChange.objects.filter(claim=made)
        .order_by("id")
        .values_list("to_status", flat=True)
    )
    assert steps == ["paid", "reversed", "paid"]


def test_a_reversal_alone_leaves_the_claim_reversed_with_its_balance_back(org, payer):
    made = eras.claim(org, payer, number="DFP-C000007")
    other = eras.claim(org, payer, number="DFP-C000008")
    ingest(org, eras.file_835(eras.remittance(org, [eras.paid_claim(made)], trace="EFT1")))
    reversal = eras.paid_claim(
        made,
        status_code="22",
        services=[
            eras.line("99213", "-150.00", "-96.00", ("CO", "45", "-30.00"), ("PR", "2", "-24.00")),
            eras.line("87880", "-35.00", "-28.00", ("CO", "45", "-7.00")),
        ],
    )
    text = eras.file_835(
        eras.remittance(org, [reversal, eras.paid_claim(other)], trace="EFT2"), control_number=2
    )
    ingest(org, text)

    made.refresh_from_db()
    assert made.status == "reversed"
    assert balance(made) == D("185.00")
    assert not InsurancePayment.objects.filter(era__trace_number="EFT2").exists()  # nets to 0


def test_a_reversal_of_a_payment_made_before_eras_reverses_the_payers_amounts(org, payer):
    made = eras.claim(org, payer, number="DFP-C000009", status="paid")
    other = eras.claim(org, payer, number="DFP-C000010")
    reversal = eras.paid_claim(
        made,
        status_code="22",
        services=[eras.line("99213", "-150.00", "-120.00", ("CO", "45", "-30.00"))],
    )
    text = eras.file_835(eras.remittance(org, [reversal, eras.paid_claim(other)], trace="EFT3"))
    ingest(org, text)

    assert ledger(made) == [("reversal", D("120.00")), ("reversal", D("30.00"))]
    made.refresh_from_db()
    assert made.status == "reversed"
    assert ClaimPayment.objects.get(claim=made).posting_note.startswith(
        "Reversed: no earlier ERA posting for this claim"
    )


def test_unmatched_claims_are_kept_for_follow_up_and_other_organizations_claims_are_not_ours(
    org, other_org, payer
):
    theirs = eras.claim(
        other_org,
        factories.PayerFactory(organization=other_org, name="Acme Health Plan"),
        number="DFP-C000011",
    )
    ours = eras.claim(org, payer, number="DFP-C000012")
    stranger = eras.paid_claim(theirs)
    text = eras.file_835(eras.remittance(org, [eras.paid_claim(ours), stranger], trace="EFT4"))

    result = ingest(org, text)

    assert (result.claims_matched, result.claims_unmatched, result.postings) == (1, 1, 2)
    row = ClaimPayment.objects.get(patient_control_number="DFP-C000011")
    assert row.claim is None and row.posted_at is None
    assert row.posting_note == "No claim with this number here: kept for follow-up."
    assert row.organization == org
    assert Era.objects.get().warnings == [
        "1 claim not found in this organization (DFP-C000011): kept for follow-up."
    ]
    theirs.refresh_from_db()
    assert theirs.status == "accepted"
    assert not LedgerEntry.objects.filter(claim=theirs).exclude(kind="charge").exists()


def test_a_payee_that_is_not_ours_is_ingested_for_review(org, payer):
    made = eras.claim(org, payer, number="DFP-C000013")
    text = eras.file_835(
        eras.remittance(org, [eras.paid_claim(made)], trace="EFT5", payee_npi="1999999984")
    )

    result = ingest(org, text)

    era = Era.objects.get()
    assert era.needs_review
    assert era.warnings == [
        f"The payee {org.name.upper()} (NPI 1999999984) matches neither this organization's "
        "billing NPI or tax id nor one of its providers: check that this payment is ours."
    ]
    assert result.payments == 1
    assert InsurancePayment.objects.get().npi == "1999999984"


def test_a_payee_matching_a_provider_or_the_tax_id_is_ours(org, payer):
    provider = factories.ProviderFactory(organization=org)
    made = eras.claim(org, payer, number="DFP-C000014")
    by_provider = eras.remittance(
        org, [eras.paid_claim(made)], trace="EFT6", payee_npi=provider.npi
    )
    by_tax_id = eras.remittance(org, [], trace="EFT7", amount="0")
    by_tax_id.payee_id_qualifier, by_tax_id.payee_id = "FI", org.tax_id.replace("-", "")

    ingest(org, eras.file_835(by_provider, by_tax_id))

    assert list(Era.objects.order_by("trace_number").values_list("needs_review", flat=True)) == [
        False,
        False,
    ]


def test_the_same_file_again_is_reported_as_already_ingested_and_changes_nothing(org, payer):
    made = eras.claim(org, payer, number="DFP-C000015")
    text = eras.file_835(eras.remittance(org, [eras.paid_claim(made)]))
    ingest(org, text)
    before = counts()

    again = ingest(org, text, file_name="copy.835")

    assert again.already_ingested
    assert again.message.startswith("Already ingested on ")
    assert again.era_file == EraFile.objects.get()
    assert counts() == before


def test_an_era_already_ingested_from_another_file_is_skipped_with_a_note(org, payer):
    made = eras.claim(org, payer, number="DFP-C000016")
    era = eras.remittance(org, [eras.paid_claim(made)], trace="EFT8")
    first = ingest(org, eras.file_835(era, control_number=1), file_name="first.835")
    before = counts()

    second = ingest(org, eras.file_835(era, control_number=2), file_name="second.835")

    assert second.status == "ingested" and second.eras == []
    assert second.skipped == [
        "ERA EFT8 from ACME HEALTH PLAN was already ingested from first.835: skipped."
    ]
    second.era_file.refresh_from_db()
    assert second.era_file.status == "duplicate"
    assert second.era_file.message.startswith("Every ERA in it was already ingested")
    assert counts() == before
    assert first.era_file.pk != second.era_file.pk


def test_a_file_that_does_not_balance_is_refused_and_writes_nothing_else(org, payer):
    made = eras.claim(org, payer, number="DFP-C000017")
    text = eras.file_835(eras.remittance(org, [eras.paid_claim(made)]))
    unbalanced = text.replace("BPR*I*124*", "BPR*I*125*")
    before = counts()

    result = ingest(org, unbalanced, file_name="bad.835")

    assert result.refused
    assert "the ERA does not balance: BPR02 is 125" in result.message
    assert result.message.startswith("Refused: ") and result.message.endswith("Nothing was posted.")
    assert counts() == before
    stored = EraFile.objects.get()
    assert (stored.status, stored.message) == ("refused", result.message)
    made.refresh_from_db()
    assert made.status == "accepted"

    again = ingest(org, unbalanced)  # read again (edi may have learnt), refused again
    assert again.refused and EraFile.objects.count() == 1


def test_a_file_without_an_envelope_is_refused(org):
    result = ingest(org, eras.fixture("e835p-blue_cross_nc_sample.835"))
    assert result.refused
    assert "No ISA interchange header" in result.message
    assert not Era.objects.exists()


def test_a_stored_file_is_ingested_once_by_the_worker(org, payer):
    made = eras.claim(org, payer, number="DFP-C000018")
    text = eras.file_835(eras.remittance(org, [eras.paid_claim(made)]))
    stored, created = ingestion.era_file_store(
        organization=org, actor=None, content=text, source="upload", file_name="up.835"
    )
    assert created and stored.status == "pending"
    assert ingestion.era_file_store(
        organization=org, actor=None, content=text, source="upload"
    ) == (stored, False)

    first = ingestion.era_file_process(organization=org, actor=None, era_file_id=stored.pk)
    second = ingestion.era_file_process(organization=org, actor=None, era_file_id=stored.pk)

    assert (first.status, second.status) == ("ingested", "already_ingested")
    assert InsurancePayment.objects.count() == 1
    stored.refresh_from_db()
    assert stored.status == "ingested" and stored.ingested_at is not None


def test_provider_adjustments_are_kept_and_balance_the_payment(org, payer):
    made = eras.claim(org, payer, number="DFP-C000019")
    recovery = x12.ProviderAdjustment(
        provider_id=org.billing_npi,
        fiscal_period_end=datetime.date(2026, 12, 31),
        reason_code="WO",
        reference="PCNOLD1",
        amount=D("20.00"),
    )
    text = eras.file_835(
        eras.remittance(org, [eras.paid_claim(made)], provider_adjustments=[recovery])
    )

    ingest(org, text)

    era = Era.objects.get()
    assert era.payment_amount == D("104.00")
    assert era.provider_adjustments == [
        {
            "provider_id": org.billing_npi,
            "fiscal_period_end": "2026-12-31",
            "reason_code": "WO",
            "reference": "PCNOLD1",
            "amount": "20.00",
        }
    ]
    assert InsurancePayment.objects.get().paid_amount == D("104.00")
    made.refresh_from_db()
    assert made.status == "paid"  # the recovery is about another claim


def test_an_era_from_an_unknown_payer_is_kept_with_a_warning(org):
    text = eras.fixture("lfh-managed-care.835")
    ingest(org, text)
    era = Era.objects.get()
    assert era.payer is None
    assert (
        "The payer RUSHMORE LIFE (id 1935665544) is not one of this organization's payers."
        in era.warnings
    )
