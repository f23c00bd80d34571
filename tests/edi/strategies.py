"""Hypothesis strategies for the edi tests: realistic values within what X12 allows.

Text is drawn from the 5010 extended character set minus the delimiters the writers use
(* : ^ ~); codes are drawn from the code lists pyx12 checks.
"""

from __future__ import annotations

import datetime
import string
from decimal import Decimal

from hypothesis import strategies as st

from edi.elements import npi_is_valid
from edi.models import (
    Address,
    Adjustment,
    BillingProvider,
    Claim,
    ClaimAck,
    ClaimAcknowledgment,
    ClaimPayment,
    Contact,
    ElementNote,
    Envelope,
    ImplementationAck,
    LineAdjudication,
    OtherPayer,
    Party,
    Patient,
    Payer,
    Person,
    ProfessionalClaims,
    ProviderAck,
    ProviderAdjustment,
    Receiver,
    Remittance,
    RenderingProvider,
    SegmentNote,
    ServiceLine,
    ServicePayment,
    Status,
    Submitter,
    Subscriber,
    TransactionAck,
)

WORD = string.ascii_letters + string.digits + "&'(),-./#@!?%+=_"
ID_CHARS = string.ascii_uppercase + string.digits
STATES = ["NC", "CA", "NY", "TX", "FL", "WA", "IL", "MA", "ON", "PR"]
PLACES_OF_SERVICE = ["02", "10", "11", "12", "19", "20", "21", "22", "23", "49", "81"]


def words(max_size: int, min_word: int = 1) -> st.SearchStrategy[str]:
    """Space-separated words, never starting or ending with a space."""
    word = st.text(WORD, min_size=min_word, max_size=10)
    return st.lists(word, min_size=1, max_size=4).map(lambda ws: " ".join(ws)[:max_size].rstrip())


def ids(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    return st.text(ID_CHARS, min_size=min_size, max_size=max_size)


def money(low: str = "0.01", high: str = "99999.99") -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=Decimal(low), max_value=Decimal(high), places=2)


phones = st.text(string.digits, min_size=10, max_size=10)
dates = st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2099, 12, 31))
stamps = st.datetimes(
    min_value=datetime.datetime(2000, 1, 1), max_value=datetime.datetime(2099, 12, 31)
).map(lambda d: d.replace(microsecond=0))


@st.composite
def npis(draw: st.DrawFn) -> str:
    stem = draw(st.sampled_from("12")) + draw(st.text(string.digits, min_size=8, max_size=8))
    return next(stem + d for d in string.digits if npi_is_valid(stem + d))


addresses = st.builds(
    Address,
    line1=words(55),
    line2=st.one_of(st.just(""), words(55)),
    city=words(30, min_word=2),
    state=st.sampled_from(STATES),
    postal_code=st.text(string.digits, min_size=5, max_size=9).filter(lambda z: len(z) in (5, 9)),
)

envelopes = st.builds(
    Envelope,
    sender_id=ids(2, 15),
    receiver_id=ids(2, 15),
    control_number=st.integers(1, 999_999_999),
    group_control_number=st.integers(1, 999_999_999),
    created=stamps,
    usage=st.sampled_from("PT"),
)

# --- 837P ------------------------------------------------------------------------------------

procedure_codes = st.one_of(
    st.text(string.digits, min_size=5, max_size=5),
    st.builds(
        lambda a, n: a + n, st.sampled_from("AJGE"), st.text(string.digits, min_size=4, max_size=4)
    ),
)
modifiers = st.lists(ids(2, 2), max_size=4).map(tuple)
diagnosis_codes = st.builds(
    lambda letter, digits, rest: letter + digits + rest,
    st.sampled_from("ABCDEFGHIJKLMNOPQRSTZ"),
    st.text(string.digits, min_size=2, max_size=2),
    ids(0, 4),
)
adjustments = st.lists(
    st.builds(
        Adjustment,
        group=st.sampled_from(["CO", "PR", "OA", "PI"]),
        reason=st.sampled_from(["1", "2", "3", "45", "97", "B7", "16"]),
        amount=money("0.01", "999.99"),
    ),
    max_size=7,
)

billing_providers = st.builds(
    BillingProvider,
    name=words(60),
    npi=npis(),
    tax_id=st.text(string.digits, min_size=9, max_size=9),
    address=addresses,
    taxonomy_code=st.sampled_from(["", "207Q00000X", "208D00000X"]),
)
subscribers = st.builds(
    Subscriber,
    last_name=words(60),
    first_name=words(35),
    middle_name=st.one_of(st.just(""), ids(1, 1)),
    member_id=ids(2, 20),
    payer_responsibility=st.sampled_from("PST"),
    claim_filing_indicator=st.sampled_from(["CI", "MB", "MC", "BL", "HM", "12"]),
    group_number=st.one_of(st.just(""), ids(1, 20)),
    address=addresses,
    birth_date=dates,
    gender=st.sampled_from("FMU"),
)
payers = st.builds(Payer, name=words(60), payer_id=ids(2, 10))
patients = st.builds(
    Patient,
    relationship=st.sampled_from(["01", "19", "20", "21", "39", "40", "53", "G8"]),
    last_name=words(60),
    first_name=words(35),
    address=addresses,
    birth_date=dates,
    gender=st.sampled_from("FMU"),
)


@st.composite
def service_lines(draw: st.DrawFn, diagnosis_count: int, other_payer_ids: list[str]) -> ServiceLine:
    pointers = draw(
        st.lists(
            st.integers(1, diagnosis_count),
            min_size=1,
            max_size=min(4, diagnosis_count),
            unique=True,
        )
    )
    start = draw(dates)
    code, mods = draw(procedure_codes), draw(modifiers)
    return ServiceLine(
        procedure_code=code,
        modifiers=mods,
        charge=draw(money("0.01", "9999.99")),
        units=draw(st.decimals(min_value=1, max_value=99, places=0)),
        service_date=start,
        service_date_end=draw(st.one_of(st.none(), st.just(start + datetime.timedelta(days=3)))),
        diagnosis_pointers=tuple(pointers),
        place_of_service=draw(st.sampled_from(["", "11", "22"])),
        control_number=draw(st.one_of(st.just(""), ids(1, 30))),
        adjudications=[
            LineAdjudication(
                payer_id=payer_id,
                paid_amount=draw(money("0", "999.99")),
                procedure_code=code,
                modifiers=mods,
                paid_units=Decimal(1),
                adjudication_date=draw(dates),
                adjustments=draw(adjustments.map(lambda a: a[:5])),
            )
            for payer_id in other_payer_ids
        ],
    )


@st.composite
def claims(
    draw: st.DrawFn, provider: BillingProvider, subscriber: Subscriber, payer: Payer
) -> Claim:
    diagnoses = draw(st.lists(diagnosis_codes, min_size=1, max_size=12))
    others = draw(
        st.lists(
            st.builds(
                OtherPayer,
                responsibility=st.sampled_from("PST"),
                insured_last_name=words(60),
                insured_first_name=words(35),
                insured_id=ids(2, 20),
                payer_name=words(60),
                payer_id=ids(2, 10),
                paid_amount=st.one_of(st.none(), money("0", "9999.99")),
                remaining_patient_liability=st.one_of(st.none(), money("0", "999.99")),
                adjustments=adjustments.map(lambda a: a[:5]),
                adjudication_date=st.one_of(st.none(), dates),
                payer_claim_control_number=st.one_of(st.just(""), ids(1, 30)),
            ),
            max_size=2,
        )
    )
    lines = draw(
        st.lists(
            service_lines(len(diagnoses), [o.payer_id for o in others]), min_size=1, max_size=4
        )
    )
    frequency = draw(st.sampled_from("178"))
    return Claim(
        billing_provider=provider,
        subscriber=subscriber,
        payer=payer,
        patient=draw(st.one_of(st.none(), patients)),
        patient_control_number=draw(ids(1, 38)),
        total_charge=sum((line.charge for line in lines), Decimal(0)),
        place_of_service=draw(st.sampled_from(PLACES_OF_SERVICE)),
        frequency_code=frequency,
        payer_claim_control_number=draw(ids(1, 30)) if frequency != "1" else "",
        diagnoses=diagnoses,
        service_lines=lines,
        rendering_provider=draw(
            st.one_of(
                st.none(),
                st.builds(RenderingProvider, last_name=words(60), first_name=words(35), npi=npis()),
            )
        ),
        other_payers=others,
    )


@st.composite
def claim_batches(draw: st.DrawFn) -> ProfessionalClaims:
    provider = draw(billing_providers)
    batch_claims = []
    for _ in range(draw(st.integers(1, 3))):
        subscriber, payer = draw(subscribers), draw(payers)
        batch_claims += draw(st.lists(claims(provider, subscriber, payer), min_size=1, max_size=2))
    return ProfessionalClaims(
        reference=draw(ids(1, 30)),
        created=draw(stamps),
        submitter=Submitter(
            name=draw(words(60)),
            identifier=draw(ids(2, 20)),
            contact=Contact(name=draw(words(60)), phone=draw(phones)),
        ),
        receiver=Receiver(name=draw(words(60)), identifier=draw(ids(2, 20))),
        claims=batch_claims,
    )


# --- 835 -------------------------------------------------------------------------------------


@st.composite
def claim_payments(draw: st.DrawFn) -> ClaimPayment:
    services = draw(
        st.lists(
            st.builds(
                ServicePayment,
                procedure_code=procedure_codes,
                modifiers=modifiers,
                charge=money("0.01", "9999.99"),
                paid=money("0", "9999.99"),
                units=st.one_of(st.none(), st.decimals(min_value=1, max_value=99, places=0)),
                service_date=st.one_of(st.none(), dates),
                adjustments=adjustments,
                control_number=st.one_of(st.just(""), ids(1, 30)),
                allowed_amount=st.one_of(st.none(), money()),
                remark_codes=st.lists(ids(2, 5), max_size=2).map(tuple),
            ),
            max_size=4,
        )
    )
    reversal = draw(st.booleans())
    sign = Decimal(-1) if reversal else Decimal(1)
    return ClaimPayment(
        patient_control_number=draw(ids(1, 38)),
        status_code="22"
        if reversal
        else draw(st.sampled_from(["1", "2", "3", "4", "19", "20", "21", "23"])),
        charge=sign * draw(money()),
        paid=sign * draw(money("0", "99999.99")),
        patient_responsibility=draw(st.one_of(st.none(), money("0", "9999.99"))),
        filing_indicator=draw(st.sampled_from(["12", "13", "MB", "MC", "HM", "ZZ"])),
        payer_claim_control_number=draw(ids(1, 50)),
        patient=Person(
            last_name=draw(words(60)),
            first_name=draw(words(35)),
            id_qualifier="MI",
            identifier=draw(ids(2, 20)),
        ),
        adjustments=draw(adjustments),
        statement_from=draw(st.one_of(st.none(), dates)),
        services=services,
    )


@st.composite
def remittances(draw: st.DrawFn, one_plb_segment: bool = False) -> Remittance:
    """Balanced ERAs. `one_plb_segment` keeps all provider adjustments in one PLB segment
    (one provider, one period, at most six): pyx12 wrongly rejects a second PLB segment."""
    paid_claims = draw(st.lists(claim_payments(), max_size=4))
    provider_id = draw(ids(1, 15))
    period_end = draw(dates)
    provider_adjustments = draw(
        st.lists(
            st.builds(
                ProviderAdjustment,
                provider_id=st.just(provider_id) if one_plb_segment else ids(1, 15),
                fiscal_period_end=st.just(period_end) if one_plb_segment else dates,
                reason_code=st.sampled_from(["L6", "WO", "72", "FB", "CS", "J1"]),
                reference=st.one_of(st.just(""), ids(1, 30)),
                amount=money("-999.99", "-0.01"),
            ),
            max_size=5 if one_plb_segment else 8,
        )
    )
    total = sum((c.paid for c in paid_claims), Decimal(0)) - sum(
        (p.amount for p in provider_adjustments), Decimal(0)
    )
    if total < 0:  # reversals outweigh payments: the payer carries the rest forward in PLB
        provider_adjustments.append(
            ProviderAdjustment(
                provider_id=provider_id,
                fiscal_period_end=period_end,
                reason_code="FB",
                amount=total,
            )
        )
        total = Decimal(0)
    zero = total == 0
    qualifier = draw(st.sampled_from(["XX", "FI"]))
    return Remittance(
        handling_code="H" if zero else "I",
        payment_amount=total,
        payment_method="NON" if zero else draw(st.sampled_from(["ACH", "CHK"])),
        payment_date=draw(dates),
        production_date=draw(st.one_of(st.none(), dates)),
        trace_number=draw(ids(1, 50)),
        payer_id="1" + draw(st.text(string.digits, min_size=9, max_size=9)),
        payer_name=draw(words(60)),
        payer_address=draw(addresses),
        payer_contact=Contact(name=draw(words(60)), phone=draw(phones)),
        payee_name=draw(words(60)),
        payee_id_qualifier=qualifier,
        payee_id=draw(npis())
        if qualifier == "XX"
        else draw(st.text(string.digits, min_size=9, max_size=9)),
        claims=paid_claims,
        provider_adjustments=provider_adjustments,
    )


# --- 999 and 277CA ---------------------------------------------------------------------------

element_notes = st.builds(
    ElementNote,
    position=st.integers(1, 30),
    component=st.one_of(st.none(), st.integers(1, 9)),
    reference_number=st.one_of(st.just(""), st.integers(1, 9999).map(str)),
    error_code=st.sampled_from(["1", "2", "4", "5", "6", "7", "8", "I10", "I12"]),
    bad_value=st.one_of(st.just(""), words(99)),
)
segment_notes = st.builds(
    SegmentNote,
    segment_id=st.sampled_from(["NM1", "CLM", "SV1", "HI", "DTP", "REF", "N4"]),
    position=st.integers(1, 999_999),
    loop_id=st.sampled_from(["", "2010", "2300", "2400"]),
    error_code=st.sampled_from(["", "1", "2", "3", "8", "I4", "I6"]),
    elements=st.lists(element_notes, max_size=3),
)


@st.composite
def implementation_acks(draw: st.DrawFn) -> ImplementationAck:
    transactions = draw(
        st.lists(
            st.builds(
                TransactionAck,
                transaction_set=st.sampled_from(["837", "270", "276"]),
                control_number=ids(4, 9),
                status=st.sampled_from("AER"),
                version=st.sampled_from(["", "005010X222A1"]),
                error_codes=st.lists(st.sampled_from(["1", "2", "5", "I5"]), max_size=5).map(tuple),
                segment_errors=st.lists(segment_notes, max_size=3),
            ),
            min_size=1,
            max_size=4,
        )
    )
    accepted = sum(1 for t in transactions if t.status != "R")
    return ImplementationAck(
        functional_id="HC",
        group_control_number=draw(st.integers(1, 999_999_999)),
        version="005010X222A1",
        status="A" if accepted == len(transactions) else "R" if accepted == 0 else "P",
        transaction_count=len(transactions),
        received_count=len(transactions),
        accepted_count=accepted,
        transactions=transactions,
        error_codes=draw(st.lists(st.sampled_from(["1", "2", "5", "24"]), max_size=5).map(tuple)),
    )


# STC01-3 entity codes pyx12's X214 map allows at the receiver, provider and claim levels.
RECEIVER_ENTITIES = ["", "36", "40", "41", "AY", "PR"]
PROVIDER_ENTITIES = [*RECEIVER_ENTITIES, "77", "82", "85", "87"]
CLAIM_ENTITIES = ["", "03", "1P", "41", "82", "85", "IL", "QC", "PR"]


def _statuses(entities: list[str], with_date: bool = True) -> st.SearchStrategy[list[Status]]:
    return st.lists(
        st.builds(
            Status,
            category=st.sampled_from(["A1", "A2", "A3", "A7"]),
            code=st.sampled_from(["20", "21", "562", "33", "187"]),
            entity=st.sampled_from(entities),
            effective_date=dates if with_date else st.none(),
            action_code=st.sampled_from(["WQ", "U"]),
            charge=money("0", "99999.99"),
            message=st.one_of(st.just(""), words(264))
            if entities is CLAIM_ENTITIES
            else st.just(""),
        ),
        min_size=1,
        max_size=2,
    )


@st.composite
def claim_acknowledgments(draw: st.DrawFn) -> ClaimAcknowledgment:
    def claim_ack(d: st.DrawFn) -> ClaimAck:
        start = d(dates)
        return ClaimAck(
            patient=Person(
                last_name=d(words(60)),
                first_name=d(words(35)),
                id_qualifier="MI",
                identifier=d(ids(2, 20)),
            ),
            patient_control_number=d(ids(1, 38)),
            statuses=d(_statuses(CLAIM_ENTITIES)),
            service_date=start,
            service_date_end=d(st.one_of(st.none(), st.just(start + datetime.timedelta(days=2)))),
            payer_claim_control_number=d(st.one_of(st.just(""), ids(1, 30))),
            clearinghouse_trace=d(st.one_of(st.just(""), ids(1, 30))),
        )

    providers = [
        ProviderAck(
            provider=Party(name=draw(words(60)), id_qualifier="XX", identifier=draw(npis())),
            trace_number=draw(ids(1, 30)),
            statuses=draw(_statuses(PROVIDER_ENTITIES, with_date=False)),
            claims=[claim_ack(draw) for _ in range(draw(st.integers(1, 3)))],
            accepted_quantity=draw(st.one_of(st.none(), st.integers(0, 99))),
            rejected_amount=draw(st.one_of(st.none(), money("0", "9999.99"))),
        )
        for _ in range(draw(st.integers(1, 2)))
    ]
    return ClaimAcknowledgment(
        reference=draw(ids(1, 30)),
        created=draw(stamps),
        source=Party(name=draw(words(60)), id_qualifier="46", identifier=draw(ids(2, 20))),
        receipt_trace=draw(ids(1, 30)),
        received_date=draw(dates),
        processed_date=draw(dates),
        receiver=Party(name=draw(words(60)), id_qualifier="46", identifier=draw(ids(2, 20))),
        batch_trace=draw(ids(1, 30)),
        receiver_statuses=draw(_statuses(RECEIVER_ENTITIES)),
        providers=providers,
        accepted_quantity=draw(st.one_of(st.none(), st.integers(0, 99))),
        rejected_quantity=draw(st.one_of(st.none(), st.integers(0, 99))),
        accepted_amount=draw(st.one_of(st.none(), money("0", "9999.99"))),
    )
