"""Secondary claims: a primary ERA (835 built with edi's writer) posting to a claim of a
patient with a secondary coverage creates one Ready secondary claim carrying the primary's
adjudication, whose 837P has the other-payer loops and passes pyx12; nothing is created
twice (the same file, a later adjudication, a reversal)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from billing.models import AuditLog, Claim, ClaimStatusChange, Coverage
from clearinghouse.claim_files import build_837p
from edi.x837p import read_837p
from payments import ingestion
from payments.era_posting import insurance_balance
from payments.models import ClaimPayment, EraFile
from tests import factories
from tests.edi.pyx12_check import validate_with_pyx12
from tests.payments import eras

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def practice(org):
    org.address_line1, org.city, org.state, org.zip_code = "1 Main St", "Camp Hill", "PA", "17011"
    org.phone = "(717) 555-0100"
    org.save()
    return org


@pytest.fixture
def primary_payer(practice):
    return factories.PayerFactory(organization=practice, name="Acme Health Plan", payer_id="ACME1")


@pytest.fixture
def secondary_payer(practice):
    return factories.PayerFactory(
        organization=practice, name="Keystone Supplemental", payer_id="KEY22"
    )


def _primary_claim(org, payer, secondary_payer, *, number="SEC-C000001", **coverage):
    made = eras.claim(org, payer, number=number)
    patient = made.encounter.patient
    patient.address_line1, patient.city, patient.state, patient.zip_code = (
        "9 Elm St",
        "Harrisburg",
        "PA",
        "17101",
    )
    patient.save()
    if secondary_payer is not None:
        factories.CoverageFactory(
            organization=org,
            patient=patient,
            payer=secondary_payer,
            order=Coverage.Order.SECONDARY,
            member_id="SUPP778899",
            **coverage,
        )
    return made


def ingest(org, text):
    return ingestion.era_file_ingest(
        organization=org, actor=None, content=text, source=EraFile.Source.COMMAND
    )


def _pay(org, made, *, trace="EFT0001", control_number=1, **kwargs):
    adjudication = eras.paid_claim(made, **kwargs)
    remittance = eras.remittance(org, [adjudication], trace=trace)
    return ingest(org, eras.file_835(remittance, control_number=control_number))


def test_a_primary_payment_creates_a_ready_secondary_claim_with_the_primary_adjudication(
    practice, primary_payer, secondary_payer
):
    made = _primary_claim(practice, primary_payer, secondary_payer)

    _pay(practice, made)

    secondary = Claim.objects.get(primary_claim=made)
    assert secondary.status == "ready"
    assert secondary.payer == secondary_payer
    assert secondary.coverage.member_id == "SUPP778899"
    assert secondary.claim_number.startswith("CLM") and secondary.claim_number != made.claim_number
    assert secondary.total == made.total == D("185.00")
    assert set(secondary.charges.all()) == set(made.charges.all())
    (other,) = secondary.other_payers
    cp = ClaimPayment.objects.get(claim=made)
    # 99213: 150 billed, 120 allowed, 24 coinsurance: paid 96; 87880: 35 -> 28 paid
    assert (other["claim_payment"], other["paid"], other["patient_responsibility"]) == (
        cp.pk,
        "124.00",
        "24.00",
    )
    assert other["payer_id"] == "ACME1" and other["payer_claim_control_number"] == "PCNSEC-C000001"
    assert [(line["procedure_code"], line["paid"]) for line in other["lines"]] == [
        ("99213", "96.00"),
        ("87880", "28.00"),
    ]
    assert other["lines"][0]["adjustments"] == [
        {"group": "CO", "reason": "45", "amount": "30.00"},
        {"group": "PR", "reason": "2", "amount": "24.00"},
    ]
    row = AuditLog.objects.get(action="claim.secondary_create")
    assert row.record_id == str(secondary.pk)
    assert row.new_values["primary_claim"] == made.claim_number
    assert row.new_values["payer"] == "Keystone Supplemental"


def test_the_secondary_837p_carries_the_other_payer_loops_and_passes_pyx12(
    practice, primary_payer, secondary_payer
):
    clearinghouse = factories.ClearinghouseConfigFactory(organization=practice, vendor="waystar")
    factories.PayerEnrollmentFactory(
        organization=practice,
        clearinghouse=clearinghouse,
        payer=secondary_payer,
        enrollment_status="active",
        electronic_payer_id="WAYKEY22",
    )
    made = _primary_claim(practice, primary_payer, secondary_payer)
    _pay(practice, made)
    secondary = Claim.objects.get(primary_claim=made)

    built = build_837p(organization=practice, clearinghouse=clearinghouse, claims=[secondary])

    assert built.skipped == []
    assert validate_with_pyx12(built.text) == []
    assert "SBR*P*18" in built.text and "AMT*D*124" in built.text
    assert "NM1*PR*2*Acme Health Plan*****PI*ACME1" in built.text
    (claim,) = [c for batch in read_837p(built.text).transactions for c in batch.claims]
    assert claim.patient_control_number == secondary.claim_number
    assert claim.subscriber.payer_responsibility == "S"
    assert claim.payer.payer_id == "WAYKEY22"
    (other,) = claim.other_payers
    assert (other.responsibility, other.payer_id, other.paid_amount) == ("P", "ACME1", D("124"))
    assert other.remaining_patient_liability == D("24")
    assert other.insured_id == made.coverage.member_id
    assert other.payer_claim_control_number == "PCNSEC-C000001"
    first, second = claim.service_lines
    (svd,) = first.adjudications
    assert (svd.payer_id, svd.paid_amount, svd.procedure_code) == ("ACME1", D("96"), "99213")
    assert [(a.group, a.reason, a.amount) for a in svd.adjustments] == [
        ("CO", "45", D("30")),
        ("PR", "2", D("24")),
    ]
    assert svd.adjudication_date == eras.PAY_DAY
    assert second.adjudications[0].paid_amount == D("28")


def test_a_claim_level_only_adjudication_reports_its_date_in_2330b_and_passes_pyx12(
    practice, primary_payer, secondary_payer
):
    clearinghouse = factories.ClearinghouseConfigFactory(organization=practice, vendor="waystar")
    factories.PayerEnrollmentFactory(
        organization=practice,
        clearinghouse=clearinghouse,
        payer=secondary_payer,
        enrollment_status="active",
    )
    made = _primary_claim(practice, primary_payer, secondary_payer)
    adjudication = eras.paid_claim(made, services=[], adjustments=[("CO", "45", "37.00")])
    adjudication.paid = D("100.00")
    adjudication.patient_responsibility = D("48.00")
    adjudication.adjustments.append(eras.x12.Adjustment(group="PR", reason="1", amount=D("48")))
    ingest(practice, eras.file_835(eras.remittance(practice, [adjudication])))
    secondary = Claim.objects.get(primary_claim=made)

    built = build_837p(organization=practice, clearinghouse=clearinghouse, claims=[secondary])

    assert validate_with_pyx12(built.text) == []
    assert f"DTP*573*D8*{eras.PAY_DAY:%Y%m%d}" in built.text
    assert "SVD*" not in built.text
    assert "CAS*CO*45*37~" in built.text and "CAS*PR*1*48~" in built.text


def test_the_same_era_again_or_a_later_adjudication_creates_no_second_secondary_claim(
    practice, primary_payer, secondary_payer
):
    made = _primary_claim(practice, primary_payer, secondary_payer)
    adjudication = eras.paid_claim(made)
    text = eras.file_835(eras.remittance(practice, [adjudication], trace="EFT1"))
    ingest(practice, text)
    assert ingest(practice, text).already_ingested
    secondary = Claim.objects.get(primary_claim=made)
    version = secondary.version

    # the payer adjudicates the claim again (a second ERA, other trace): still one claim,
    # its snapshot refreshed while it is unsent
    later = eras.paid_claim(
        made,
        services=[
            eras.line("99213", "150.00", "100.00", ("CO", "45", "30.00"), ("PR", "2", "20.00")),
            eras.line("87880", "35.00", "28.00", ("CO", "45", "7.00")),
        ],
    )
    ingest(
        practice,
        eras.file_835(eras.remittance(practice, [later], trace="EFT2"), control_number=2),
    )

    assert Claim.objects.filter(primary_claim=made).count() == 1
    assert Claim.objects.count() == 2
    secondary.refresh_from_db()
    assert secondary.other_payers[0]["paid"] == "128.00"
    assert secondary.version == version + 1
    assert AuditLog.objects.filter(action="claim.secondary_create").count() == 1
    assert AuditLog.objects.filter(action="claim.secondary_refresh").count() == 1


def test_a_reversal_holds_the_unsent_secondary_and_the_correction_makes_it_ready_again(
    practice, primary_payer, secondary_payer
):
    made = _primary_claim(practice, primary_payer, secondary_payer)
    _pay(practice, made, trace="EFT1")
    secondary = Claim.objects.get(primary_claim=made)

    reversal = eras.paid_claim(
        made,
        status_code="22",
        services=[
            eras.line("99213", "-150.00", "-96.00", ("CO", "45", "-30.00"), ("PR", "2", "-24.00")),
            eras.line("87880", "-35.00", "-28.00", ("CO", "45", "-7.00")),
        ],
    )
    reversal.charge = D("-185.00")
    ingest(
        practice,
        eras.file_835(eras.remittance(practice, [reversal], trace="EFT2"), control_number=2),
    )
    secondary.refresh_from_db()
    assert secondary.status == "draft"

    _pay(practice, made, trace="EFT3", control_number=3)

    assert Claim.objects.filter(primary_claim=made).count() == 1
    secondary.refresh_from_db()
    assert secondary.status == "ready"
    steps = list(
        ClaimStatusChange.objects.filter(claim=secondary)
        .order_by("id")
        .values_list("to_status", flat=True)
    )
    assert steps == ["ready", "draft", "ready"]


def test_a_reversal_after_the_secondary_was_sent_warns_and_changes_nothing(
    practice, primary_payer, secondary_payer
):
    made = _primary_claim(practice, primary_payer, secondary_payer)
    _pay(practice, made, trace="EFT1")
    Claim.objects.filter(primary_claim=made).update(status="submitted")
    reversal = eras.paid_claim(made, status_code="22", services=[])
    reversal.paid, reversal.charge, reversal.patient_responsibility = (
        D("-124.00"),
        D("-185.00"),
        D("-24.00"),
    )

    result = ingest(
        practice,
        eras.file_835(eras.remittance(practice, [reversal], trace="EFT2"), control_number=2),
    )

    secondary = Claim.objects.get(primary_claim=made)
    assert secondary.status == "submitted"
    assert any(
        f"secondary claim {secondary.claim_number} is already submitted" in w
        for w in result.warnings
    )


@pytest.mark.parametrize(
    "case",
    ["no secondary coverage", "secondary ended before the visit", "forwarded", "denied", "no PR"],
)
def test_no_secondary_claim_when_there_is_nothing_for_a_secondary_to_pay(
    practice, primary_payer, secondary_payer, case
):
    kwargs = {}
    if case == "secondary ended before the visit":
        kwargs = {"effective_to": datetime.date(2024, 12, 31)}
    made = _primary_claim(
        practice,
        primary_payer,
        None if case == "no secondary coverage" else secondary_payer,
        **kwargs,
    )
    if case == "forwarded":
        _pay(practice, made, status_code="19")
    elif case == "denied":
        _pay(
            practice,
            made,
            status_code="4",
            services=[
                eras.line("99213", "150.00", "0.00", ("CO", "50", "150.00")),
                eras.line("87880", "35.00", "0.00", ("CO", "50", "35.00")),
            ],
        )
    elif case == "no PR":
        _pay(
            practice,
            made,
            services=[
                eras.line("99213", "150.00", "120.00", ("CO", "45", "30.00")),
                eras.line("87880", "35.00", "28.00", ("CO", "45", "7.00")),
            ],
        )
    else:
        _pay(practice, made)

    assert Claim.objects.filter(primary_claim=made).count() == 0
    assert Claim.objects.count() == 1


def test_the_secondary_payment_settles_what_the_primary_left(
    practice, primary_payer, secondary_payer
):
    made = _primary_claim(practice, primary_payer, secondary_payer)
    _pay(practice, made, trace="EFT1")
    secondary = Claim.objects.get(primary_claim=made)
    secondary.status = "accepted"
    secondary.save()
    secondary.lines = made.lines
    assert insurance_balance(practice, secondary) == D("24.00")

    # the secondary pays the coinsurance; OA-23 reports the primary's part
    paying = eras.paid_claim(
        secondary,
        status_code="2",
        services=[
            eras.line("99213", "150.00", "24.00", ("OA", "23", "126.00")),
            eras.line("87880", "35.00", "0.00", ("OA", "23", "35.00")),
        ],
    )
    ingest(
        practice,
        eras.file_835(
            eras.remittance(practice, [paying], trace="SUPP1", payer_name="KEYSTONE"),
            control_number=2,
        ),
    )

    secondary.refresh_from_db()
    assert secondary.status == "paid"
    assert made.encounter.balance == D("0.00")
    assert Claim.objects.filter(primary_claim=secondary).count() == 0


def test_the_claim_pages_link_the_primary_and_its_secondary(
    practice, primary_payer, secondary_payer, clerk, login
):
    made = _primary_claim(practice, primary_payer, secondary_payer)
    _pay(practice, made)
    secondary = Claim.objects.get(primary_claim=made)
    client = login(clerk)

    primary_page = client.get(f"/pm/claims/{made.pk}").content.decode()
    assert f'href="/pm/claims/{secondary.pk}" data-testid="secondary-claim"' in primary_page
    assert "Keystone Supplemental" in primary_page
    secondary_page = client.get(f"/pm/claims/{secondary.pk}").content.decode()
    assert f'href="/pm/claims/{made.pk}" data-testid="primary-claim"' in secondary_page
    assert "Acme Health Plan paid $124.00, patient owes $24.00" in secondary_page
    assert f"Secondary claim of {made.claim_number} after 835 EFT0001" in secondary_page
