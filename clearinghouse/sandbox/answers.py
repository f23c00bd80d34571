"""What a clearinghouse answers, as X12 built with `edi`: 999 and 277CA for an 837P, 835 ERAs
for the claims it accepted, 271 for a 270, 277 for a 276, and the 278 response.

Plain functions of their input (numbers and dates come in from the caller), so the same
request gets the same answer. The sandbox's rules:
- an 837P the reader refuses is rejected whole by the 999 (IK3/IK5 point at the segment);
- a claim is rejected by the 277CA (STC A7) when its member id starts with BAD or 000, its
  electronic payer id starts with XX (the only ids missing from the sandbox's payer list), or
  its total is not the sum of its lines; every other claim is accepted (A2);
- an accepted claim is paid by an 835 about 70% of its charges (CO-45 contractual write-off,
  PR-2 coinsurance, PR-3 copay on the first line), or denied whole (CLP02 4, CO-50) when its
  claim id hashes into the denied fifth, so a claim's fate is the same on every run;
- a 270 for a member id starting with BAD answers AAA*N**72 (invalid member id), any other
  member has active coverage, a copay, a deductible and co-insurance;
- a 278 is approved (HCR A1) with a certification number.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal

from edi import models as x12
from edi.errors import X12Error
from edi.tokenizer import Segment, tokenize
from edi.x270 import read_270
from edi.x271 import write_271
from edi.x276 import read_276
from edi.x277 import write_277, write_277ca
from edi.x278 import read_278, write_278_response
from edi.x835 import write_835
from edi.x837p import read_837p
from edi.x999 import write_999

SANDBOX_NAME = "SANDBOX CLEARINGHOUSE"
SANDBOX_ID = "SANDBOX"
CENT = Decimal("0.01")
ALLOWED_SHARE = Decimal("0.85")  # of the charge; the rest is the CO-45 write-off
COINSURANCE = Decimal("0.10")  # of the allowed amount, PR-2
COPAY = Decimal("10.00")  # PR-3, on the first line
DENIED_ONE_IN = 5

Numbers = Callable[[], int]


class NotX12(Exception):
    """The body is not an X12 interchange the sandbox can even acknowledge (no ISA/GS)."""


# --- envelopes -------------------------------------------------------------------------------


def reply_envelope(request: x12.Envelope, control_number: int, now: datetime.datetime):
    """The envelope of an answer: sender and receiver swapped, the request's usage (P/T)."""
    return x12.Envelope(
        sender_id=request.receiver_id or SANDBOX_ID,
        sender_qualifier=request.receiver_qualifier or "ZZ",
        receiver_id=request.sender_id or "SUBMITTER",
        receiver_qualifier=request.sender_qualifier or "ZZ",
        control_number=control_number,
        group_control_number=control_number,
        created=now,
        usage=request.usage if request.usage in ("P", "T") else "P",
    )


@dataclass
class _Set:
    transaction_set: str  # ST01
    control_number: str  # ST02
    start: int  # segment index of ST
    end: int | None = None  # segment index of SE


@dataclass
class _Group:
    functional_id: str
    control_number: int
    version: str
    sets: list[_Set] = field(default_factory=list)


@dataclass
class _Scan:
    envelope: x12.Envelope
    groups: list[_Group]
    segments: list[Segment]


def _scan(text: str, now: datetime.datetime) -> _Scan:
    """The envelope, groups and transaction sets of a file, even one the readers refuse."""
    try:
        segments = tokenize(text)
    except X12Error as error:
        raise NotX12(str(error)) from None
    isa = segments[0]
    if isa.tag != "ISA" or len(isa.elements) < 16:
        raise NotX12("the interchange header (ISA) is incomplete")
    envelope = x12.Envelope(
        sender_qualifier=isa.get(5) or "ZZ",
        sender_id=isa.get(6).strip(),
        receiver_qualifier=isa.get(7) or "ZZ",
        receiver_id=isa.get(8).strip(),
        control_number=int(isa.get(13)) if isa.get(13).isdigit() else 0,
        group_control_number=0,
        created=now,
        usage=isa.get(15) if isa.get(15) in ("P", "T") else "P",
    )
    groups: list[_Group] = []
    for seg in segments:
        if seg.tag == "GS":
            if not seg.get(6).isdigit():
                raise NotX12("GS06 (group control number) is not a number")
            groups.append(_Group(seg.get(1), int(seg.get(6)), seg.get(8)))
        elif seg.tag == "ST" and groups:
            groups[-1].sets.append(_Set(seg.get(1), seg.get(2), seg.index))
        elif seg.tag == "SE" and groups and groups[-1].sets:
            groups[-1].sets[-1].end = seg.index
    if not any(group.sets for group in groups):
        raise NotX12("the interchange holds no functional group with a transaction set")
    return _Scan(envelope, groups, segments)


# --- 837P: 999, 277CA ------------------------------------------------------------------------


@dataclass
class Verdict:
    """The 277CA's word on one claim."""

    claim: x12.Claim
    accepted: bool
    status: x12.Status
    reason: str = ""
    payer_claim_number: str = ""
    trace: str = ""

    @property
    def claim_id(self) -> str:
        return self.claim.patient_control_number


@dataclass
class ClaimsAnswer:
    control_number: str  # the 837's ISA13
    ack_999: str
    ack_277ca: str  # "" when the 999 rejected the file
    file_error: str  # why the 999 rejected the file; "" when it accepted it
    verdicts: list[Verdict]
    envelope: x12.Envelope  # the 837's

    @property
    def accepted(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.accepted]

    @property
    def rejected(self) -> list[Verdict]:
        return [v for v in self.verdicts if not v.accepted]

    @property
    def outcome(self) -> str:
        if self.file_error or not self.accepted:
            return "rejected"
        return "partially_accepted" if self.rejected else "accepted"

    @property
    def reason(self) -> str:
        """The vendor's words when nothing was accepted."""
        if self.file_error:
            return f"999 rejected the file: {self.file_error}"
        return "; ".join(f"claim {v.claim_id}: {v.reason}" for v in self.rejected)


def answer_837p(
    text: str,
    *,
    submission_id: str,
    numbers: Numbers,
    claim_number: Callable[[], str],
    now: datetime.datetime,
) -> ClaimsAnswer:
    """999 and (when the file reads) 277CA for an 837P. Raises `NotX12`."""
    scan = _scan(text, now)
    try:
        parsed = read_837p(text)
    except X12Error as error:
        ack = write_999(reply_envelope(scan.envelope, numbers(), now), _rejection_999(scan, error))
        return ClaimsAnswer(
            control_number=str(scan.envelope.control_number),
            ack_999=ack,
            ack_277ca="",
            file_error=str(error),
            verdicts=[],
            envelope=scan.envelope,
        )
    envelope = parsed.envelopes[0]
    ack_999 = write_999(reply_envelope(envelope, numbers(), now), _acceptance_999(scan))
    today = now.date()
    verdicts_by_batch = []
    for batch in parsed.transactions:
        verdicts = []
        for number, claim in enumerate(batch.claims, 1):
            verdict = judge_claim(claim, today)
            verdict.trace = f"{submission_id}-{number}"
            if verdict.accepted:
                verdict.payer_claim_number = claim_number()
            verdicts.append(verdict)
        verdicts_by_batch.append((batch, verdicts))
    acks = [
        _claim_acknowledgment(batch, verdicts, envelope, submission_id, index, now)
        for index, (batch, verdicts) in enumerate(verdicts_by_batch, 1)
    ]
    return ClaimsAnswer(
        control_number=str(envelope.control_number),
        ack_999=ack_999,
        ack_277ca=write_277ca(reply_envelope(envelope, numbers(), now), acks),
        file_error="",
        verdicts=[v for _, verdicts in verdicts_by_batch for v in verdicts],
        envelope=envelope,
    )


def judge_claim(claim: x12.Claim, today: datetime.date) -> Verdict:
    charge = claim.total_charge

    def rejected(code: str, entity: str, reason: str) -> Verdict:
        status = x12.Status(
            category="A7",
            code=code,
            entity=entity,
            effective_date=today,
            action_code="U",
            charge=charge,
            message=reason,
        )
        return Verdict(claim, False, status, reason)

    member_id = claim.subscriber.member_id.upper()
    if member_id.startswith(("BAD", "000")):
        return rejected("164", "IL", "SUBSCRIBER MEMBER ID IS INVALID")
    payer_id = claim.payer.payer_id.upper()
    if payer_id.startswith("XX"):
        return rejected("116", "PR", f"PAYER ID {payer_id} IS NOT IN THE PAYER LIST")
    lines = sum((line.charge for line in claim.service_lines), Decimal(0))
    if lines != charge:
        return rejected(
            "178", "", f"CLAIM TOTAL {charge:.2f} DOES NOT EQUAL THE SUM OF THE LINES {lines:.2f}"
        )
    status = x12.Status(
        category="A2", code="20", effective_date=today, action_code="WQ", charge=charge
    )
    return Verdict(claim, True, status)


def _acceptance_999(scan: _Scan) -> list[x12.ImplementationAck]:
    acks = []
    for group in scan.groups:
        transactions = [
            x12.TransactionAck(
                transaction_set=s.transaction_set, control_number=s.control_number, status="A"
            )
            for s in group.sets
        ]
        acks.append(_group_ack(group, transactions))
    return acks


def _rejection_999(scan: _Scan, error: X12Error) -> list[x12.ImplementationAck]:
    """Every transaction set is rejected (the sandbox reads a file whole); the one holding the
    faulty segment says which segment (IK3) and why (IK5)."""
    acks = []
    for group in scan.groups:
        transactions = []
        for s in group.sets:
            ack = x12.TransactionAck(
                transaction_set=s.transaction_set,
                control_number=s.control_number,
                status="R",
                error_codes=("5",),  # one or more segments in error
            )
            if s.transaction_set != "837":
                ack.error_codes = ("1",)  # transaction set not supported
            elif _holds(s, error.segment_index, len(scan.segments)):
                segment = scan.segments[(error.segment_index or 1) - 1]
                if "no SE trailer" in str(error):
                    ack.error_codes = ("2",)  # trailer missing
                elif segment.tag == "SE":
                    ack.error_codes = ("4",)  # segment count does not match
                elif segment.tag != "ST":
                    ack.segment_errors = [
                        x12.SegmentNote(
                            segment_id=segment.tag,
                            position=segment.index - s.start + 1,
                            error_code="8",  # segment has data element errors
                        )
                    ]
            transactions.append(ack)
        acks.append(_group_ack(group, transactions))
    return acks


def _holds(s: _Set, index: int | None, last: int) -> bool:
    return index is not None and s.start <= index <= (s.end or last)


def _group_ack(group: _Group, transactions: list[x12.TransactionAck]) -> x12.ImplementationAck:
    accepted = sum(1 for t in transactions if t.status in ("A", "E"))
    status = "A" if accepted == len(transactions) else ("P" if accepted else "R")
    return x12.ImplementationAck(
        functional_id=group.functional_id or "HC",
        group_control_number=group.control_number,
        version=group.version or "005010X222A1",
        status=status,
        transaction_count=len(transactions),
        received_count=len(transactions),
        accepted_count=accepted,
        transactions=transactions,
    )


def _claim_acknowledgment(
    batch: x12.ProfessionalClaims,
    verdicts: list[Verdict],
    envelope: x12.Envelope,
    submission_id: str,
    index: int,
    now: datetime.datetime,
) -> x12.ClaimAcknowledgment:
    today = now.date()
    providers: list[x12.ProviderAck] = []
    by_npi: dict[str, x12.ProviderAck] = {}
    for verdict in verdicts:
        billing = verdict.claim.billing_provider
        provider = by_npi.get(billing.npi)
        if provider is None:
            provider = x12.ProviderAck(
                provider=x12.Party(
                    name=billing.name,
                    first_name=billing.first_name,
                    is_person=billing.is_person,
                    id_qualifier="XX",
                    identifier=billing.npi,
                ),
                trace_number=f"{submission_id}-P{len(providers) + 1}",
                statuses=[],
            )
            by_npi[billing.npi] = provider
            providers.append(provider)
        provider.claims.append(_claim_ack(verdict))
    for provider in providers:
        group = [
            v for v in verdicts if v.claim.billing_provider.npi == provider.provider.identifier
        ]
        provider.statuses = [_received(_total(group), None)]
        _set_totals(provider, group)
    ack = x12.ClaimAcknowledgment(
        reference=f"{submission_id}-{index}",
        created=now,
        source=x12.Party(
            name=SANDBOX_NAME, id_qualifier="46", identifier=envelope.receiver_id or SANDBOX_ID
        ),
        receipt_trace=submission_id,
        received_date=today,
        processed_date=today,
        receiver=x12.Party(
            name=batch.submitter.name, id_qualifier="46", identifier=batch.submitter.identifier
        ),
        batch_trace=batch.reference,
        receiver_statuses=[_received(_total(verdicts), today)],
        providers=providers,
    )
    _set_totals(ack, verdicts)
    return ack


def _received(charge: Decimal, day: datetime.date | None) -> x12.Status:
    return x12.Status(category="A1", code="20", effective_date=day, action_code="WQ", charge=charge)


def _total(verdicts: list[Verdict]) -> Decimal:
    return sum((v.claim.total_charge for v in verdicts), Decimal(0))


def _set_totals(target: x12.ClaimAcknowledgment | x12.ProviderAck, verdicts: list[Verdict]):
    accepted = [v for v in verdicts if v.accepted]
    rejected = [v for v in verdicts if not v.accepted]
    target.accepted_quantity = len(accepted) or None
    target.rejected_quantity = len(rejected) or None
    target.accepted_amount = _total(accepted) if accepted else None
    target.rejected_amount = _total(rejected) if rejected else None


def _claim_ack(verdict: Verdict) -> x12.ClaimAck:
    claim = verdict.claim
    start, end = service_period(claim)
    return x12.ClaimAck(
        patient=_patient_person(claim),
        patient_control_number=claim.patient_control_number,
        statuses=[verdict.status],
        payer_claim_control_number=verdict.payer_claim_number,
        clearinghouse_trace=verdict.trace,
        service_date=start,
        service_date_end=end if end != start else None,
    )


def _patient_person(claim: x12.Claim) -> x12.Person:
    who = claim.patient or claim.subscriber
    return x12.Person(
        last_name=who.last_name,
        first_name=who.first_name,
        id_qualifier="MI",
        identifier=claim.subscriber.member_id,
    )


def service_period(claim: x12.Claim) -> tuple[datetime.date, datetime.date]:
    starts = [line.service_date for line in claim.service_lines]
    ends = [line.service_date_end or line.service_date for line in claim.service_lines]
    return min(starts), max(ends)


# --- 835 -------------------------------------------------------------------------------------


def is_denied(claim_id: str) -> bool:
    """One claim in five is denied, chosen by its id so every run denies the same claims."""
    return hashlib.sha256(claim_id.encode()).digest()[0] % DENIED_ONE_IN == 0


@dataclass
class Era:
    text: str
    remittance: x12.Remittance
    paid: dict[str, Decimal]  # claim id -> CLP04
    denied: set[str]


def build_era(
    verdicts: list[Verdict],
    *,
    trace_number: str,
    control_number: int,
    request_envelope: x12.Envelope,
    now: datetime.datetime,
) -> Era:
    """One 835 (one ERA) paying or denying accepted claims of one payer to one payee."""
    first = verdicts[0].claim
    payer, provider = first.payer, first.billing_provider
    payments = [_claim_payment(v) for v in verdicts]
    total = sum((p.paid for p in payments), Decimal(0))
    paying = total > 0
    payer_tin = "1" + str(int(hashlib.sha256(payer.payer_id.encode()).hexdigest(), 16))[-9:]
    remittance = x12.Remittance(
        handling_code="I" if paying else "H",
        payment_amount=total,
        payment_method="ACH" if paying else "NON",
        payment_format="CCP" if paying else "",
        bank=x12.BankTransfer(
            sender_routing="091000019",
            sender_account="5550001111",
            originating_company_id=payer_tin,
            receiver_routing="011000015",
            receiver_account="7770002222",
        )
        if paying
        else None,
        payment_date=now.date(),
        production_date=now.date(),
        trace_number=trace_number,
        payer_id=payer_tin,
        payer_name=payer.name,
        payer_address=payer.address
        or x12.Address(line1="PO BOX 1000", city="NASHVILLE", state="TN", postal_code="37201"),
        payer_contact=x12.Contact(name="SANDBOX EDI SUPPORT", phone="8005550199"),
        payee_name=provider.name,
        payee_id_qualifier="XX",
        payee_id=provider.npi,
        payee_address=provider.address,
        claims=payments,
    )
    envelope = reply_envelope(request_envelope, control_number, now)
    return Era(
        text=write_835(envelope, [remittance]),
        remittance=remittance,
        paid={p.patient_control_number: p.paid for p in payments},
        denied={p.patient_control_number for p in payments if p.status_code == "4"},
    )


def _claim_payment(verdict: Verdict) -> x12.ClaimPayment:
    claim = verdict.claim
    start, end = service_period(claim)
    patient, insured = _era_people(claim)
    payment = x12.ClaimPayment(
        patient_control_number=claim.patient_control_number,
        status_code={"S": "2", "T": "3"}.get(claim.subscriber.payer_responsibility, "1"),
        charge=claim.total_charge,
        paid=Decimal("0.00"),
        patient_responsibility=Decimal("0.00"),
        filing_indicator=_filing_indicator(claim.subscriber.claim_filing_indicator),
        payer_claim_control_number=verdict.payer_claim_number,
        facility_type=claim.place_of_service,
        frequency_code=claim.frequency_code,
        patient=patient,
        insured=insured,
        statement_from=start,
        statement_to=end,
    )
    if is_denied(claim.patient_control_number):
        payment.status_code = "4"
        payment.adjustments = [x12.Adjustment(group="CO", reason="50", amount=claim.total_charge)]
        return payment
    for number, line in enumerate(claim.service_lines):
        service = _service_payment(line, copay=COPAY if number == 0 else Decimal(0))
        payment.services.append(service)
        payment.paid += service.paid
        payment.patient_responsibility = (payment.patient_responsibility or Decimal(0)) + sum(
            (a.amount for a in service.adjustments if a.group == "PR"), Decimal(0)
        )
    return payment


def _service_payment(line: x12.ServiceLine, *, copay: Decimal) -> x12.ServicePayment:
    allowed = _money(line.charge * ALLOWED_SHARE)
    coinsurance = _money(allowed * COINSURANCE)
    copay = min(copay, allowed - coinsurance)
    paid = allowed - coinsurance - copay
    adjustments = [
        x12.Adjustment(group=group, reason=reason, amount=amount)
        for group, reason, amount in (
            ("CO", "45", line.charge - allowed),
            ("PR", "2", coinsurance),
            ("PR", "3", copay),
        )
        if amount
    ]
    spans = line.service_date_end and line.service_date_end != line.service_date
    return x12.ServicePayment(
        procedure_code=line.procedure_code,
        modifiers=line.modifiers,
        charge=line.charge,
        paid=paid,
        units=line.units,
        service_date=line.service_date,
        service_date_end=line.service_date_end if spans else None,
        adjustments=adjustments,
        control_number=line.control_number,
        allowed_amount=allowed,
    )


def _era_people(claim: x12.Claim) -> tuple[x12.Person, x12.Person | None]:
    subscriber = claim.subscriber
    if claim.patient is None:
        return x12.Person(
            last_name=subscriber.last_name,
            first_name=subscriber.first_name,
            id_qualifier="MI",
            identifier=subscriber.member_id,
        ), None
    patient = x12.Person(last_name=claim.patient.last_name, first_name=claim.patient.first_name)
    insured = x12.Person(
        last_name=subscriber.last_name,
        first_name=subscriber.first_name,
        id_qualifier="MI",
        identifier=subscriber.member_id,
    )
    return patient, insured


# The 837's SBR09 codes the 835's CLP06 does not know, and what the payer reports instead.
_FILING = {"CI": "12", "BL": "12", "11": "ZZ", "FI": "ZZ"}


def _filing_indicator(code: str) -> str:
    return _FILING.get(code, code or "ZZ")


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# --- 270 -> 271 ------------------------------------------------------------------------------


@dataclass
class EligibilityAnswer:
    text: str
    responses: list[x12.Eligibility]

    @property
    def invalid_members(self) -> int:
        return sum(1 for r in self.responses for i in r.inquiries if i.errors)


def answer_270(text: str, *, numbers: Numbers, now: datetime.datetime) -> EligibilityAnswer:
    scan = _scan(text, now)
    parsed = read_270(text)
    return answer_eligibility(parsed.transactions, scan.envelope, numbers=numbers, now=now)


def answer_eligibility(
    requests: list[x12.Eligibility],
    envelope: x12.Envelope,
    *,
    numbers: Numbers,
    now: datetime.datetime,
) -> EligibilityAnswer:
    responses = [_eligibility_response(r, now) for r in requests]
    text = write_271(reply_envelope(envelope, numbers(), now), responses)
    return EligibilityAnswer(text, responses)


def _eligibility_response(request: x12.Eligibility, now: datetime.datetime) -> x12.Eligibility:
    inquiries = []
    for inquiry in request.inquiries:
        answer = replace(inquiry, service_types=(), service_date=None, benefits=[], errors=[])
        if inquiry.subscriber.identifier.upper().startswith("BAD"):
            answer.errors = [x12.RequestError(reason="72", follow_up="C")]
        else:
            answer.eligibility_begin = datetime.date(now.year, 1, 1)
            answer.benefits = active_benefits(inquiry.service_types or ("30",))
        inquiries.append(answer)
    return replace(request, created=now, inquiries=inquiries, payer_errors=[], provider_errors=[])


def active_benefits(service_types: tuple[str, ...]) -> list[x12.Benefit]:
    return [
        x12.Benefit(
            code="1",
            coverage_level="IND",
            service_types=service_types,
            insurance_type="PR",
            plan_description="SANDBOX GOLD PPO",
        ),
        x12.Benefit(
            code="B",
            coverage_level="IND",
            service_types=("98",),
            time_period="27",
            amount=Decimal("25.00"),
            in_network="Y",
            messages=("COPAY PER OFFICE VISIT",),
        ),
        x12.Benefit(
            code="C",
            coverage_level="IND",
            service_types=("30",),
            time_period="23",
            amount=Decimal("1500.00"),
            in_network="Y",
        ),
        x12.Benefit(
            code="C",
            coverage_level="IND",
            service_types=("30",),
            time_period="29",
            amount=Decimal("650.00"),
            in_network="Y",
        ),
        x12.Benefit(
            code="A",
            coverage_level="IND",
            service_types=("30",),
            percent=Decimal("0.2"),
            in_network="Y",
        ),
    ]


# --- 276 -> 277 ------------------------------------------------------------------------------


@dataclass(frozen=True)
class KnownClaim:
    """What the sandbox knows of a claim it received, for a 276."""

    state: str  # accepted, rejected, paid, denied
    charge: Decimal
    payer_claim_number: str = ""
    paid: Decimal | None = None
    reason: str = ""
    status_code: str = ""  # category:code:entity of the rejection
    decided_on: datetime.date | None = None


@dataclass
class StatusAnswer:
    text: str
    claim_ids: list[str]
    states: list[str]


def answer_276(
    text: str,
    *,
    lookup: Callable[[str], KnownClaim | None],
    numbers: Numbers,
    now: datetime.datetime,
) -> StatusAnswer:
    scan = _scan(text, now)
    parsed = read_276(text)
    claim_ids: list[str] = []
    states: list[str] = []
    responses = []
    for request in parsed.transactions:
        providers = []
        for provider in request.providers:
            claims = []
            for inquiry in provider.claims:
                known = lookup(inquiry.patient_control_number)
                claim_ids.append(inquiry.patient_control_number)
                states.append(known.state if known else "unknown")
                claims.append(_status_answer(inquiry, known, now.date()))
            providers.append(x12.ProviderClaims(provider=provider.provider, claims=claims))
        responses.append(replace(request, created=now, providers=providers))
    text_277 = write_277(reply_envelope(scan.envelope, numbers(), now), responses)
    return StatusAnswer(text_277, claim_ids, states)


def _status_answer(
    inquiry: x12.ClaimInquiry, known: KnownClaim | None, today: datetime.date
) -> x12.ClaimInquiry:
    charge = known.charge if known else inquiry.charge
    day = (known.decided_on if known else None) or today
    if known is None:
        status = x12.Status(category="A4", code="35", effective_date=today, charge=charge)
    elif known.state == "rejected":
        category, code, entity = [*known.status_code.split(":"), "", ""][:3]
        status = x12.Status(
            category=category or "A7",
            code=code or "21",
            entity=entity,
            effective_date=day,
            charge=charge,
            message=known.reason,
        )
    elif known.state == "paid":
        status = x12.Status(
            category="F1", code="65", effective_date=day, charge=charge, paid=known.paid
        )
    elif known.state == "denied":
        status = x12.Status(
            category="F2", code="107", effective_date=day, charge=charge, paid=Decimal(0)
        )
    else:
        status = x12.Status(category="A2", code="20", effective_date=day, charge=charge)
    subscriber = inquiry.subscriber
    patient = inquiry.patient
    return x12.ClaimInquiry(
        subscriber=x12.Member(
            last_name=subscriber.last_name,
            first_name=subscriber.first_name,
            id_qualifier=subscriber.id_qualifier,
            identifier=subscriber.identifier,
        ),
        patient=x12.Member(last_name=patient.last_name, first_name=patient.first_name)
        if patient
        else None,
        trace_number=inquiry.trace_number,
        statuses=[status],
        payer_claim_control_number=(known.payer_claim_number if known else "")
        or inquiry.payer_claim_control_number,
        patient_control_number=inquiry.patient_control_number,
        service_date=inquiry.service_date,
        service_date_end=inquiry.service_date_end,
    )


# --- 278 -------------------------------------------------------------------------------------


@dataclass
class ReviewAnswer:
    text: str
    certifications: list[str]


def answer_278(
    text: str,
    *,
    certification: Callable[[], str],
    numbers: Numbers,
    now: datetime.datetime,
) -> ReviewAnswer:
    scan = _scan(text, now)
    parsed = read_278(text)
    responses = []
    numbers_given = []
    for review in parsed.transactions:
        number = certification()
        numbers_given.append(number)
        services = [
            replace(
                s, decision=x12.ReviewDecision(action="A1", certification_number=f"{number}-{i}")
            )
            for i, s in enumerate(review.services, 1)
        ]
        responses.append(
            replace(
                review,
                created=now,
                services=services,
                decision=x12.ReviewDecision(action="A1", certification_number=number),
            )
        )
    text_278 = write_278_response(reply_envelope(scan.envelope, numbers(), now), responses)
    return ReviewAnswer(text_278, numbers_given)
