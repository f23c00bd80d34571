"""Hand-made, realistic transactions of a small family practice, shared by the edi tests."""

from __future__ import annotations

import datetime
from decimal import Decimal

from edi.models import (
    Address,
    Adjustment,
    BankTransfer,
    Benefit,
    BillingProvider,
    Claim,
    ClaimAck,
    ClaimAcknowledgment,
    ClaimInquiry,
    ClaimPayment,
    ClaimStatusExchange,
    Contact,
    ElementNote,
    Eligibility,
    EligibilityInquiry,
    Envelope,
    ImplementationAck,
    LineAdjudication,
    Member,
    OtherPayer,
    Party,
    Patient,
    Payer,
    Person,
    ProfessionalClaims,
    ProviderAck,
    ProviderAdjustment,
    ProviderClaims,
    Receiver,
    Remittance,
    RenderingProvider,
    RequestError,
    ReviewDecision,
    ReviewService,
    SegmentNote,
    ServiceInquiry,
    ServiceLine,
    ServicePayment,
    ServiceReview,
    Status,
    Submitter,
    Subscriber,
    TransactionAck,
)

D = Decimal
CREATED = datetime.datetime(2026, 11, 25, 9, 30)
DOS = datetime.date(2026, 11, 3)

PRACTICE_NPI = "1234567893"
DOCTOR_NPI = "1003000126"  # NPPES's published test-style NPI with a valid check digit

PRACTICE = BillingProvider(
    name="DEMO FAMILY PRACTICE",
    npi=PRACTICE_NPI,
    tax_id="561234567",
    address=Address(
        line1="100 MAIN ST", line2="SUITE 2", city="DURHAM", state="NC", postal_code="277010000"
    ),
    taxonomy_code="207Q00000X",
)
SUBSCRIBER = Subscriber(
    last_name="DOE",
    first_name="JOHN",
    middle_name="Q",
    member_id="XYZ123456789",
    group_number="GRP-7788",
    address=Address(line1="12 OAK AVE", city="CARY", state="NC", postal_code="27511"),
    birth_date=datetime.date(1980, 5, 17),
    gender="M",
)
PAYER = Payer(name="ACME HEALTH PLAN", payer_id="ACME1")
CHILD = Patient(
    relationship="19",
    last_name="DOE",
    first_name="JANE",
    address=Address(line1="12 OAK AVE", city="CARY", state="NC", postal_code="27511"),
    birth_date=datetime.date(2015, 2, 1),
    gender="F",
)
DOCTOR = RenderingProvider(
    last_name="WELBY", first_name="MARCUS", npi=DOCTOR_NPI, taxonomy_code="207Q00000X"
)


def envelope(
    control_number: int = 905, sender: str = "DEMOFAMILY", receiver: str = "CLEARHOUSE"
) -> Envelope:
    return Envelope(
        sender_id=sender,
        receiver_id=receiver,
        control_number=control_number,
        group_control_number=control_number,
        created=CREATED,
        usage="T",
    )


def office_visit(pcn: str = "PCN-1001", patient: Patient | None = None) -> Claim:
    return Claim(
        billing_provider=PRACTICE,
        subscriber=SUBSCRIBER,
        payer=PAYER,
        patient=patient,
        patient_control_number=pcn,
        total_charge=D("185.00"),
        place_of_service="11",
        diagnoses=["J0690", "R509"],
        rendering_provider=DOCTOR,
        service_lines=[
            ServiceLine(
                procedure_code="99213",
                modifiers=("25",),
                charge=D("150.00"),
                service_date=DOS,
                diagnosis_pointers=(1, 2),
                control_number=f"{pcn}-1",
            ),
            ServiceLine(
                procedure_code="87880",
                charge=D("35.00"),
                service_date=DOS,
                diagnosis_pointers=(1,),
                control_number=f"{pcn}-2",
            ),
        ],
    )


def secondary_claim() -> Claim:
    """The same visit billed to the secondary payer after the primary paid 120."""
    claim = office_visit("PCN-1002")
    claim.subscriber = Subscriber(
        last_name="DOE",
        first_name="JOHN",
        member_id="SEC998877",
        payer_responsibility="S",
        claim_filing_indicator="MB",
        address=SUBSCRIBER.address,
        birth_date=SUBSCRIBER.birth_date,
        gender="M",
    )
    claim.payer = Payer(name="MEDICARE PART B", payer_id="MCRB1")
    primary_paid = datetime.date(2026, 11, 20)
    claim.other_payers = [
        OtherPayer(
            responsibility="P",
            insured_last_name="DOE",
            insured_first_name="JOHN",
            insured_id="XYZ123456789",
            payer_name="ACME HEALTH PLAN",
            payer_id="ACME1",
            group_number="GRP-7788",
            paid_amount=D("120.00"),
            remaining_patient_liability=D("20.00"),
            adjustments=[
                Adjustment(group="CO", reason="45", amount=D("45.00")),
                Adjustment(group="PR", reason="2", amount=D("20.00")),
            ],
            adjudication_date=primary_paid,
            payer_claim_control_number="ACME-CLAIM-555",
        )
    ]
    claim.service_lines[0].adjudications = [
        LineAdjudication(
            payer_id="ACME1",
            paid_amount=D("100.00"),
            procedure_code="99213",
            modifiers=("25",),
            paid_units=D(1),
            adjudication_date=primary_paid,
            adjustments=[
                Adjustment(group="CO", reason="45", amount=D("30.00")),
                Adjustment(group="PR", reason="2", amount=D("20.00")),
            ],
        )
    ]
    claim.service_lines[1].adjudications = [
        LineAdjudication(
            payer_id="ACME1",
            paid_amount=D("20.00"),
            procedure_code="87880",
            paid_units=D(1),
            adjudication_date=primary_paid,
            adjustments=[Adjustment(group="CO", reason="45", amount=D("15.00"))],
        )
    ]
    return claim


def claims_batch() -> ProfessionalClaims:
    return ProfessionalClaims(
        reference="BATCH-20261125-01",
        created=CREATED,
        submitter=Submitter(
            name="DEMO FAMILY PRACTICE",
            identifier="SUB12345",
            contact=Contact(name="BILLING OFFICE", phone="9195550100", email="billing@example.com"),
        ),
        receiver=Receiver(name="CLEARHOUSE INC", identifier="CLEARHOUSE"),
        claims=[office_visit(), office_visit("PCN-1003", patient=CHILD), secondary_claim()],
    )


def remittance() -> Remittance:
    """An ACH ERA paying two claims, reversing an older one, with an interest PLB."""
    return Remittance(
        payment_amount=D("159.73"),
        payment_method="ACH",
        payment_format="CCP",
        payment_date=datetime.date(2026, 11, 24),
        production_date=datetime.date(2026, 11, 22),
        trace_number="EFT-88112233",
        payer_id="1123456789",
        payer_name="ACME HEALTH PLAN",
        payer_address=Address(line1="PO BOX 2291", city="DURHAM", state="NC", postal_code="27702"),
        payer_contact=Contact(name="EDI SUPPORT", phone="8005551212", email="edi@acme.example"),
        payee_name="DEMO FAMILY PRACTICE",
        payee_id_qualifier="XX",
        payee_id=PRACTICE_NPI,
        bank=BankTransfer(
            sender_routing="021000021",
            sender_account="12345678",
            originating_company_id="1123456789",
            receiver_routing="053000196",
            receiver_account="99887766",
        ),
        claims=[
            ClaimPayment(
                patient_control_number="PCN-1001",
                status_code="1",
                charge=D("185.00"),
                paid=D("120.00"),
                patient_responsibility=D("20.00"),
                filing_indicator="12",
                payer_claim_control_number="ACME-CLAIM-555",
                facility_type="11",
                frequency_code="1",
                patient=Person(
                    last_name="DOE", first_name="JOHN", id_qualifier="MI", identifier="XYZ123456789"
                ),
                statement_from=DOS,
                statement_to=DOS,
                services=[
                    ServicePayment(
                        procedure_code="99213",
                        modifiers=("25",),
                        charge=D("150.00"),
                        paid=D("100.00"),
                        units=D(1),
                        service_date=DOS,
                        adjustments=[
                            Adjustment(group="CO", reason="45", amount=D("30.00")),
                            Adjustment(group="PR", reason="2", amount=D("20.00")),
                        ],
                        control_number="PCN-1001-1",
                        allowed_amount=D("120.00"),
                    ),
                    ServicePayment(
                        procedure_code="87880",
                        charge=D("35.00"),
                        paid=D("20.00"),
                        units=D(1),
                        service_date=DOS,
                        adjustments=[Adjustment(group="CO", reason="45", amount=D("15.00"))],
                        control_number="PCN-1001-2",
                        allowed_amount=D("20.00"),
                        remark_codes=("N130",),
                    ),
                ],
            ),
            ClaimPayment(
                patient_control_number="PCN-0950",
                status_code="22",
                charge=D("-90.00"),
                paid=D("-60.00"),
                patient_responsibility=D("0"),
                filing_indicator="12",
                payer_claim_control_number="ACME-CLAIM-501",
                patient=Person(
                    last_name="DOE", first_name="JANE", id_qualifier="MI", identifier="XYZ123456701"
                ),
                adjustments=[Adjustment(group="CO", reason="45", amount=D("-30.00"))],
            ),
            ClaimPayment(
                patient_control_number="PCN-0950R",
                status_code="1",
                charge=D("90.00"),
                paid=D("95.00"),
                patient_responsibility=D("0"),
                filing_indicator="12",
                payer_claim_control_number="ACME-CLAIM-502",
                patient=Person(
                    last_name="DOE", first_name="JANE", id_qualifier="MI", identifier="XYZ123456701"
                ),
                adjustments=[Adjustment(group="CO", reason="45", amount=D("-5.00"))],
            ),
        ],
        provider_adjustments=[
            ProviderAdjustment(
                provider_id=PRACTICE_NPI,
                fiscal_period_end=datetime.date(2026, 12, 31),
                reason_code="L6",
                reference="INTEREST",
                amount=D("-4.73"),
            ),
            ProviderAdjustment(
                provider_id=PRACTICE_NPI,
                fiscal_period_end=datetime.date(2026, 12, 31),
                reason_code="WO",
                reference="ACME-CLAIM-400",
                amount=D("0.00"),
            ),
        ],
    )


def notification() -> Remittance:
    """A zero-pay notification: a denial, no money."""
    return Remittance(
        handling_code="H",
        payment_amount=D("0"),
        payment_method="NON",
        payment_date=datetime.date(2026, 11, 24),
        trace_number="NOTICE-1",
        payer_id="1123456789",
        payer_name="ACME HEALTH PLAN",
        payer_address=Address(line1="PO BOX 2291", city="DURHAM", state="NC", postal_code="27702"),
        payer_contact=Contact(url="WWW.ACME.EXAMPLE/EDI"),
        payee_name="DEMO FAMILY PRACTICE",
        payee_id_qualifier="FI",
        payee_id="561234567",
        claims=[
            ClaimPayment(
                patient_control_number="PCN-1003",
                status_code="4",
                charge=D("185.00"),
                paid=D("0"),
                patient_responsibility=D("0"),
                filing_indicator="12",
                payer_claim_control_number="ACME-CLAIM-556",
                patient=Person(
                    last_name="DOE", first_name="JANE", id_qualifier="MI", identifier="XYZ123456701"
                ),
                insured=Person(
                    last_name="DOE", first_name="JOHN", id_qualifier="MI", identifier="XYZ123456789"
                ),
                adjustments=[Adjustment(group="CO", reason="29", amount=D("185.00"))],
            )
        ],
    )


def implementation_ack(rejected: bool = False) -> ImplementationAck:
    if not rejected:
        return ImplementationAck(
            functional_id="HC",
            group_control_number=905,
            version="005010X222A1",
            status="A",
            transaction_count=1,
            received_count=1,
            accepted_count=1,
            transactions=[TransactionAck(transaction_set="837", control_number="0001", status="A")],
        )
    return ImplementationAck(
        functional_id="HC",
        group_control_number=905,
        version="005010X222A1",
        status="R",
        transaction_count=1,
        received_count=1,
        accepted_count=0,
        transactions=[
            TransactionAck(
                transaction_set="837",
                control_number="0001",
                version="005010X222A1",
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
                                position=9, reference_number="67", error_code="7", bad_value="123"
                            ),
                            ElementNote(position=3, component=None, error_code="1"),
                        ],
                    ),
                    SegmentNote(segment_id="CLM", position=25, error_code="8"),
                ],
            )
        ],
    )


def _ack_status(category: str, code: str, date: datetime.date | None, charge: str) -> Status:
    return Status(
        category=category,
        code=code,
        effective_date=date,
        action_code="WQ" if category in ("A1", "A2") else "U",
        charge=D(charge),
    )


def claim_acknowledgment() -> ClaimAcknowledgment:
    received = datetime.date(2026, 11, 25)
    return ClaimAcknowledgment(
        reference="277CA-0001",
        created=CREATED,
        source=Party(name="CLEARHOUSE INC", id_qualifier="46", identifier="CLEARHOUSE"),
        receipt_trace="RCPT-905",
        received_date=received,
        processed_date=received,
        receiver=Party(name="DEMO FAMILY PRACTICE", id_qualifier="46", identifier="SUB12345"),
        batch_trace="BATCH-20261125-01",
        receiver_statuses=[_ack_status("A1", "20", received, "370.00")],
        accepted_quantity=1,
        rejected_quantity=1,
        accepted_amount=D("185.00"),
        rejected_amount=D("185.00"),
        providers=[
            ProviderAck(
                provider=Party(
                    name="DEMO FAMILY PRACTICE", id_qualifier="XX", identifier=PRACTICE_NPI
                ),
                trace_number="PRV-1",
                statuses=[_ack_status("A1", "20", None, "370.00")],
                accepted_quantity=1,
                rejected_quantity=1,
                accepted_amount=D("185.00"),
                rejected_amount=D("185.00"),
                claims=[
                    ClaimAck(
                        patient=Person(
                            last_name="DOE",
                            first_name="JOHN",
                            id_qualifier="MI",
                            identifier="XYZ123456789",
                        ),
                        patient_control_number="PCN-1001",
                        statuses=[_ack_status("A2", "20", received, "185.00")],
                        payer_claim_control_number="CH-2026-0001",
                        service_date=DOS,
                    ),
                    ClaimAck(
                        patient=Person(
                            last_name="DOE",
                            first_name="JANE",
                            id_qualifier="MI",
                            identifier="XYZ123456701",
                        ),
                        patient_control_number="PCN-1003",
                        statuses=[
                            Status(
                                category="A7",
                                code="562",
                                entity="85",
                                effective_date=received,
                                action_code="U",
                                charge=D("185.00"),
                                message="BILLING PROVIDER NPI NOT ON FILE",
                            )
                        ],
                        service_date=DOS,
                        service_date_end=datetime.date(2026, 11, 4),
                    ),
                ],
            )
        ],
    )


ACME = Party(name="ACME HEALTH PLAN", id_qualifier="PI", identifier="ACME1")
CLEARHOUSE = Party(name="CLEARHOUSE INC", id_qualifier="46", identifier="CLEARHOUSE")
PRACTICE_PARTY = Party(name="DEMO FAMILY PRACTICE", id_qualifier="XX", identifier=PRACTICE_NPI)
JOHN = Member(
    last_name="DOE",
    first_name="JOHN",
    id_qualifier="MI",
    identifier="XYZ123456789",
    birth_date=datetime.date(1980, 5, 17),
    gender="M",
)
JANE = Member(last_name="DOE", first_name="JANE", birth_date=datetime.date(2015, 2, 1), gender="F")


def status_request() -> ClaimStatusExchange:
    return ClaimStatusExchange(
        reference="276-0001",
        created=CREATED,
        payer=ACME,
        receiver=CLEARHOUSE,
        providers=[
            ProviderClaims(
                provider=PRACTICE_PARTY,
                claims=[
                    ClaimInquiry(
                        subscriber=JOHN,
                        trace_number="TRACE-1",
                        patient_control_number="PCN-1001",
                        payer_claim_control_number="ACME-CLAIM-555",
                        charge=D("185.00"),
                        service_date=DOS,
                    ),
                    ClaimInquiry(
                        subscriber=Member(
                            last_name="DOE",
                            first_name="JOHN",
                            id_qualifier="MI",
                            identifier="XYZ123456789",
                        ),
                        patient=JANE,
                        trace_number="TRACE-2",
                        patient_control_number="PCN-1003",
                        charge=D("185.00"),
                        service_date=DOS,
                        service_date_end=datetime.date(2026, 11, 4),
                        services=[
                            ServiceInquiry(
                                procedure_code="99213",
                                modifiers=("25",),
                                charge=D("150.00"),
                                units=D(1),
                                control_number="PCN-1003-1",
                                service_date=DOS,
                            )
                        ],
                    ),
                ],
            )
        ],
    )


def status_response() -> ClaimStatusExchange:
    finalized = datetime.date(2026, 11, 20)
    return ClaimStatusExchange(
        reference="277-0001",
        created=CREATED,
        payer=ACME,
        receiver=CLEARHOUSE,
        providers=[
            ProviderClaims(
                provider=PRACTICE_PARTY,
                claims=[
                    ClaimInquiry(
                        subscriber=Member(
                            last_name="DOE",
                            first_name="JOHN",
                            id_qualifier="MI",
                            identifier="XYZ123456789",
                        ),
                        trace_number="TRACE-1",
                        statuses=[
                            Status(
                                category="F1",
                                code="65",
                                effective_date=finalized,
                                charge=D("185.00"),
                                paid=D("120.00"),
                            )
                        ],
                        payer_claim_control_number="ACME-CLAIM-555",
                        patient_control_number="PCN-1001",
                        service_date=DOS,
                    ),
                    ClaimInquiry(
                        subscriber=Member(
                            last_name="DOE",
                            first_name="JOHN",
                            id_qualifier="MI",
                            identifier="XYZ123456789",
                        ),
                        patient=Member(last_name="DOE", first_name="JANE"),
                        trace_number="TRACE-2",
                        statuses=[
                            Status(
                                category="P1",
                                code="20",
                                effective_date=finalized,
                                charge=D("185.00"),
                            )
                        ],
                        patient_control_number="PCN-1003",
                        service_date=DOS,
                        service_date_end=datetime.date(2026, 11, 4),
                        services=[
                            ServiceInquiry(
                                procedure_code="99213",
                                modifiers=("25",),
                                charge=D("150.00"),
                                paid=D("0"),
                                units=D(1),
                                control_number="PCN-1003-1",
                                service_date=DOS,
                                statuses=[
                                    Status(category="P1", code="20", effective_date=finalized)
                                ],
                            )
                        ],
                    ),
                ],
            ),
            ProviderClaims(
                provider=Party(name="NORTHSIDE CLINIC", id_qualifier="XX", identifier=DOCTOR_NPI),
                trace_number="0",
                statuses=[Status(category="E0", code="24", entity="85", effective_date=finalized)],
            ),
        ],
    )


def eligibility_request() -> Eligibility:
    return Eligibility(
        reference="270-0001",
        created=CREATED,
        payer=ACME,
        provider=PRACTICE_PARTY,
        inquiries=[
            EligibilityInquiry(
                subscriber=JOHN,
                trace_number="ELIG-1",
                trace_originator="9DEMOFAMLY",
                service_date=DOS,
                service_types=("30",),
            ),
            EligibilityInquiry(
                subscriber=Member(
                    last_name="DOE", first_name="JOHN", id_qualifier="MI", identifier="XYZ123456789"
                ),
                dependent=JANE,
                trace_number="ELIG-2",
                trace_originator="9DEMOFAMLY",
                service_date=DOS,
                service_types=("98", "UC"),
            ),
        ],
    )


def eligibility_response() -> Eligibility:
    return Eligibility(
        reference="271-0001",
        created=CREATED,
        payer=ACME,
        provider=PRACTICE_PARTY,
        inquiries=[
            EligibilityInquiry(
                subscriber=Member(
                    last_name="DOE",
                    first_name="JOHN",
                    id_qualifier="MI",
                    identifier="XYZ123456789",
                    birth_date=datetime.date(1980, 5, 17),
                    gender="M",
                    address=Address(
                        line1="12 OAK AVE", city="CARY", state="NC", postal_code="27511"
                    ),
                ),
                trace_number="ELIG-1",
                trace_originator="9DEMOFAMLY",
                service_types=(),
                eligibility_begin=datetime.date(2026, 1, 1),
                benefits=[
                    Benefit(
                        code="1",
                        coverage_level="FAM",
                        service_types=("30",),
                        plan_description="GOLD PPO",
                    ),
                    Benefit(
                        code="B",
                        coverage_level="IND",
                        service_types=("98", "UC"),
                        time_period="27",
                        amount=D("25.00"),
                        in_network="Y",
                        messages=("COPAY APPLIES PER VISIT",),
                    ),
                    Benefit(code="A", service_types=("30",), percent=D("0.2"), in_network="Y"),
                    Benefit(
                        code="C",
                        coverage_level="IND",
                        time_period="23",
                        amount=D("1500"),
                        in_network="Y",
                    ),
                ],
            ),
            EligibilityInquiry(
                subscriber=Member(
                    last_name="DOE", first_name="JOHN", id_qualifier="MI", identifier="XYZ123456789"
                ),
                dependent=Member(
                    last_name="DOE",
                    first_name="JANE",
                    birth_date=datetime.date(2015, 2, 1),
                    gender="F",
                ),
                trace_number="ELIG-2",
                trace_originator="9DEMOFAMLY",
                service_types=(),
                errors=[RequestError(reason="65", follow_up="C")],
            ),
        ],
    )


def review_request() -> ServiceReview:
    return ServiceReview(
        reference="278-0001",
        created=CREATED,
        umo=ACME,
        requester=PRACTICE_PARTY,
        subscriber=JOHN,
        trace_number="AUTH-REQ-1",
        trace_originator="9DEMOFAMLY",
        service_type="2",
        place_of_service="11",
        diagnoses=["M1711", "M25561"],
        event_date=datetime.date(2026, 12, 1),
        event_date_end=datetime.date(2026, 12, 31),
        service_provider=Party(
            name="WELBY",
            first_name="MARCUS",
            is_person=True,
            id_qualifier="XX",
            identifier=DOCTOR_NPI,
        ),
        services=[
            ReviewService(
                procedure_code="20610",
                modifiers=("RT",),
                charge=D("250.00"),
                service_date=datetime.date(2026, 12, 1),
            ),
            ReviewService(procedure_code="J7325", units=D(48), charge=D("900.00")),
        ],
    )


def review_response() -> ServiceReview:
    review = review_request()
    review.reference = "278-0002"
    review.decision = ReviewDecision(action="A1", certification_number="AUTH778899")
    review.services[0].decision = ReviewDecision(action="A1", certification_number="AUTH778899-1")
    review.services[1].decision = ReviewDecision(action="A3", reason="35")
    return review
