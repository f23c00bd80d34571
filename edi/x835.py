"""835 health care claim payment/advice (005010X221A1): one ST/SE is one ERA.

Reading copes with what payers get wrong and says so in warnings: BPR16 missing or not a date
(the payment date falls back to DTM*405), no PER*BL technical contact, procedure codes written
with the wrong component separator, TRN03 missing. It refuses an ERA that does not balance:
BPR02 must equal the sum of CLP04 minus the sum of the PLB amounts, because the payment would
otherwise not match the claims it pays. Writing refuses the same, and anything pyx12 would
reject (a missing payment date, payer address or technical contact).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import Decimal

from edi.elements import Value, amount, optional_amount, parse_date
from edi.envelope import Kind, TransactionSet, read_interchanges, write_interchange
from edi.errors import X12ValueError
from edi.models import (
    Adjustment,
    BankTransfer,
    ClaimPayment,
    Envelope,
    Parsed,
    Person,
    ProviderAdjustment,
    Remittance,
    ServicePayment,
)
from edi.segments import (
    Body,
    Cursor,
    chunks,
    read_address,
    read_adjustments,
    read_contact,
    read_person,
    runs,
)
from edi.tokenizer import DEFAULT_SEPARATORS, Segment, Separators

KIND = Kind("835", "HP", "005010X221A1", accepted_versions=("005010X221",), send_st03=False)


def write_835(
    envelope: Envelope,
    remittances: Sequence[Remittance],
    *,
    separators: Separators = DEFAULT_SEPARATORS,
    line_break: str = "\n",
) -> str:
    bodies = [_body(r) for r in remittances]
    return write_interchange(envelope, KIND, bodies, separators=separators, line_break=line_break)


def read_835(text: str) -> Parsed[Remittance]:
    warnings: list[str] = []
    transaction_sets, envelopes = read_interchanges(text, KIND, warnings)
    remittances = []
    for transaction_set in transaction_sets:
        remittance = _remittance(transaction_set)
        warnings += remittance.warnings
        remittances.append(remittance)
    return Parsed(remittances, envelopes, warnings)


def balance_difference(remittance: Remittance) -> Decimal:
    """BPR02 - (sum CLP04 - sum PLB): zero for an ERA that balances."""
    claims = sum((c.paid for c in remittance.claims), Decimal(0))
    plb = sum((p.amount for p in remittance.provider_adjustments), Decimal(0))
    return remittance.payment_amount - (claims - plb)


# --- writing ---------------------------------------------------------------------------------


def _body(r: Remittance) -> Body:
    body = Body(context=f"ERA {r.trace_number}")
    if balance_difference(r):
        raise X12ValueError(_unbalanced(r), field="BPR02")
    if r.payment_date is None:
        raise X12ValueError("BPR16 (payment date) is required", field="BPR16")
    if r.payer_address is None or r.payer_contact is None:
        raise X12ValueError(
            "005010X221A1 requires the payer's address (N3/N4) and technical contact (PER*BL)",
            field="N3" if r.payer_address is None else "PER",
        )
    bank = r.bank
    sender: tuple[Value, ...] = (None,) * 5
    receiver: tuple[Value, ...] = (None,) * 4
    if bank:
        sender = ("01", bank.sender_routing, "DA", bank.sender_account, bank.originating_company_id)
        receiver = ("01", bank.receiver_routing, "DA", bank.receiver_account)
    body.add(
        "BPR",
        r.handling_code,
        r.payment_amount,
        r.credit_debit,
        r.payment_method,
        r.payment_format,
        *sender,
        None,
        *receiver,
        r.payment_date,
    )
    body.add("TRN", "1", r.trace_number, r.payer_id)
    if r.production_date:
        body.add("DTM", "405", r.production_date)
    body.context = f"ERA {r.trace_number}, 1000A payer"
    body.add("N1", "PR", r.payer_name)
    body.address(r.payer_address)
    body.contact("BL", r.payer_contact)
    body.context = f"ERA {r.trace_number}, 1000B payee"
    body.add("N1", "PE", r.payee_name, r.payee_id_qualifier, r.payee_id)
    if r.payee_address:
        body.address(r.payee_address)
    if r.claims:
        body.add("LX", 1)
    for claim in r.claims:
        body.context = f"ERA {r.trace_number}, claim {claim.patient_control_number}"
        body.add(
            "CLP",
            claim.patient_control_number,
            claim.status_code,
            claim.charge,
            claim.paid,
            claim.patient_responsibility,
            claim.filing_indicator,
            claim.payer_claim_control_number,
            claim.facility_type,
            claim.frequency_code,
        )
        body.adjustments(claim.adjustments)
        body.person("QC", claim.patient)
        if claim.insured:
            body.person("IL", claim.insured)
        for qualifier, day in (
            ("232", claim.statement_from),
            ("233", claim.statement_to),
            ("050", claim.received_date),
        ):
            if day:
                body.add("DTM", qualifier, day)
        for service in claim.services:
            _service(body, service)
    body.context = f"ERA {r.trace_number}, PLB"
    by_provider = runs(r.provider_adjustments, lambda p: (p.provider_id, p.fiscal_period_end))
    for (provider_id, period_end), group in by_provider:
        for chunk in chunks(group, 6):
            pairs: list[Value] = []
            for p in chunk:
                pairs += [(p.reason_code, p.reference) if p.reference else p.reason_code, p.amount]
            body.add("PLB", provider_id, period_end, *pairs)
    return body


def _service(body: Body, s: ServicePayment) -> None:
    body.add(
        "SVC",
        (s.qualifier, s.procedure_code, *s.modifiers),
        s.charge,
        s.paid,
        s.revenue_code,
        s.units,
    )
    if s.service_date and s.service_date_end:
        body.add("DTM", "150", s.service_date)
        body.add("DTM", "151", s.service_date_end)
    elif s.service_date:
        body.add("DTM", "472", s.service_date)
    body.adjustments(s.adjustments)
    if s.control_number:
        body.add("REF", "6R", s.control_number)
    if s.allowed_amount is not None:
        body.add("AMT", "B6", s.allowed_amount)
    for code in s.remark_codes:
        body.add("LQ", "HE", code)


def _unbalanced(r: Remittance) -> str:
    claims = sum((c.paid for c in r.claims), Decimal(0))
    plb = sum((p.amount for p in r.provider_adjustments), Decimal(0))
    return (
        f"the ERA does not balance: BPR02 is {r.payment_amount}, but the claims pay {claims} "
        f"(sum of CLP04) and the provider adjustments total {plb} (sum of PLB amounts), "
        f"so BPR02 should be {claims - plb}"
    )


# --- reading ---------------------------------------------------------------------------------

# Segments of the 835 this package reads past without modelling them.
_KNOWN = {"CUR", "REF", "RDM", "TS3", "TS2", "MIA", "MOA", "QTY", "PER", "AMT", "NM1", "DTM", "LQ"}


def _remittance(ts: TransactionSet) -> Remittance:
    warnings: list[str] = []
    cur = Cursor(ts.segments, warnings)
    bpr = cur.expect("BPR", what="financial information")
    trn = cur.expect("TRN", what="reassociation trace number")
    production_date = None
    parties: dict[str, list[Segment]] = {}  # N1*PR / N1*PE and the segments of their loops
    party: list[Segment] | None = None
    while (seg := cur.peek()) is not None and seg.tag not in ("LX", "CLP", "PLB"):
        cur.next()
        if seg.tag == "DTM" and seg.get(1) == "405":
            production_date = cur.date(seg, 2, "production date")
        elif seg.tag == "N1":
            party = parties.setdefault(seg.get(1), []) if seg.get(1) in ("PR", "PE") else None
            if party is not None:
                party.append(seg)
        elif party is not None and seg.tag in ("N3", "N4", "PER", "REF", "RDM"):
            party.append(seg)
        elif seg.tag not in _KNOWN:
            cur.warn(seg, "unexpected segment in the 835 header; skipped")
    if "PR" not in parties or "PE" not in parties:
        raise bpr.error("the payer (N1*PR) or the payee (N1*PE) is missing")
    payment_date = _payment_date(cur, bpr, production_date)
    payer_n1, payee_n1 = parties["PR"][0], parties["PE"][0]
    payer_contact = _find(parties["PR"], "PER", "BL")
    if payer_contact is None:
        cur.warn(payer_n1, "the payer's technical contact (PER*BL) is missing")
    payer_id = trn.get(3)
    if not payer_id:
        ref_2u = _find(parties["PR"], "REF", "2U")
        payer_id = payer_n1.get(4) if payer_n1.get(3) == "XV" else ref_2u.get(2) if ref_2u else ""
        cur.warn(
            trn, f"TRN03 (payer identifier) is missing; using {payer_id!r} from the payer loop"
        )
    claims: list[ClaimPayment] = []
    adjustments: list[ProviderAdjustment] = []
    while (seg := cur.peek()) is not None:
        if seg.tag == "CLP":
            claims.append(_claim(cur))
        elif seg.tag == "PLB":
            adjustments += _plb(cur.next())
        else:
            cur.next()
            if seg.tag not in ("LX", "TS3", "TS2"):
                cur.warn(seg, "unexpected segment between claims; skipped")
    remittance = Remittance(
        handling_code=bpr.get(1),
        payment_amount=amount(bpr, 2),
        credit_debit=bpr.get(3),
        payment_method=bpr.get(4),
        payment_format=bpr.get(5),
        bank=_bank(bpr),
        payment_date=payment_date,
        trace_number=trn.get(2),
        payer_id=payer_id,
        production_date=production_date,
        payer_name=payer_n1.get(2),
        payer_address=read_address(_find(parties["PR"], "N3"), _find(parties["PR"], "N4")),
        payer_contact=read_contact(payer_contact) if payer_contact else None,
        payee_name=payee_n1.get(2),
        payee_id_qualifier=payee_n1.get(3),
        payee_id=payee_n1.get(4),
        payee_address=read_address(_find(parties["PE"], "N3"), _find(parties["PE"], "N4")),
        claims=claims,
        provider_adjustments=adjustments,
        warnings=warnings,
    )
    if balance_difference(remittance):
        raise bpr.error(_unbalanced(remittance))
    return remittance


def _find(segments: list[Segment], tag: str, qualifier: str | None = None) -> Segment | None:
    return next(
        (s for s in segments if s.tag == tag and (qualifier is None or s.get(1) == qualifier)),
        None,
    )


def _payment_date(
    cur: Cursor, bpr: Segment, production_date: datetime.date | None
) -> datetime.date | None:
    """BPR16, or the DTM*405 production date (with a warning) when BPR16 is missing/invalid."""
    text = bpr.get(16)
    value = parse_date(text)
    if value is not None:
        return value
    problem = "BPR16 (payment date) " + (f"{text!r} is not a date" if text else "is missing")
    if production_date is not None:
        cur.warn(bpr, f"{problem}; using the DTM*405 production date {production_date}")
    else:
        cur.warn(bpr, f"{problem} and there is no DTM*405 date: the payment date is unknown")
    return production_date


def _bank(bpr: Segment) -> BankTransfer | None:
    if not (bpr.get(7) or bpr.get(13)):
        return None
    return BankTransfer(
        sender_routing=bpr.get(7),
        sender_account=bpr.get(9),
        originating_company_id=bpr.get(10),
        receiver_routing=bpr.get(13),
        receiver_account=bpr.get(15),
    )


def _claim(cur: Cursor) -> ClaimPayment:
    clp = cur.next()
    patient: Person | None = None
    insured = None
    dates: dict[str, datetime.date | None] = {}
    adjustments: list[Adjustment] = []
    services: list[ServicePayment] = []
    while (seg := cur.peek()) is not None and seg.tag not in ("CLP", "LX", "PLB", "SVC"):
        cur.next()
        if seg.tag == "CAS":
            adjustments += read_adjustments(seg)
        elif seg.tag == "NM1" and seg.get(1) == "QC":
            patient = read_person(seg)
        elif seg.tag == "NM1" and seg.get(1) == "IL":
            insured = read_person(seg)
        elif seg.tag == "DTM" and seg.get(1) in ("232", "233", "050"):
            dates[seg.get(1)] = cur.date(seg, 2, "claim date")
        elif seg.tag not in _KNOWN:
            cur.warn(seg, f"unexpected segment in claim {clp.get(1)}; skipped")
    while cur.at("SVC"):
        services.append(_service_payment(cur))
        while (seg := cur.peek()) is not None and seg.tag not in ("CLP", "LX", "PLB", "SVC"):
            cur.warn(cur.next(), "unexpected segment after a service line; skipped")
    if patient is None:
        cur.warn(clp, f"claim {clp.get(1)} has no patient name (NM1*QC)")
        patient = Person(last_name="")
    return ClaimPayment(
        patient_control_number=clp.get(1),
        status_code=clp.get(2),
        charge=amount(clp, 3),
        paid=amount(clp, 4),
        patient_responsibility=optional_amount(clp, 5),
        filing_indicator=clp.get(6),
        payer_claim_control_number=clp.get(7),
        facility_type=clp.get(8),
        frequency_code=clp.get(9),
        adjustments=adjustments,
        patient=patient,
        insured=insured,
        statement_from=dates.get("232"),
        statement_to=dates.get("233"),
        received_date=dates.get("050"),
        services=services,
    )


def _service_payment(cur: Cursor) -> ServicePayment:
    svc = cur.next()
    procedure = svc.components(1)
    if len(procedure) < 2 or not procedure[1]:
        cur.warn(
            svc,
            f"SVC01 {svc.get(1)!r} has no procedure code (the component separator is "
            f"{svc.separators.component!r})",
        )
    start = end = None
    control_number = ""
    allowed = None
    adjustments: list[Adjustment] = []
    remarks: list[str] = []
    while (seg := cur.peek()) is not None and seg.tag in ("DTM", "CAS", "REF", "AMT", "QTY", "LQ"):
        cur.next()
        qualifier = seg.get(1)
        if seg.tag == "DTM" and qualifier in ("472", "150"):
            start = cur.date(seg, 2, "service date")
        elif seg.tag == "DTM" and qualifier == "151":
            end = cur.date(seg, 2, "service end date")
        elif seg.tag == "CAS":
            adjustments += read_adjustments(seg)
        elif seg.tag == "REF" and qualifier == "6R":
            control_number = seg.get(2)
        elif seg.tag == "AMT" and qualifier == "B6":
            allowed = amount(seg, 2)
        elif seg.tag == "LQ" and qualifier == "HE":
            remarks.append(seg.get(2))
    return ServicePayment(
        qualifier=procedure[0] if procedure else "",
        procedure_code=procedure[1] if len(procedure) > 1 else "",
        modifiers=tuple(procedure[2:6]),
        charge=amount(svc, 2),
        paid=amount(svc, 3),
        revenue_code=svc.get(4),
        units=optional_amount(svc, 5),
        service_date=start,
        service_date_end=end,
        adjustments=adjustments,
        control_number=control_number,
        allowed_amount=allowed,
        remark_codes=tuple(remarks),
    )


def _plb(plb: Segment) -> list[ProviderAdjustment]:
    period_end = parse_date(plb.get(2))
    if period_end is None:
        raise plb.error(f"PLB02 (fiscal period date) {plb.get(2)!r} is not a date")
    result = []
    for position in range(3, 15, 2):
        if not plb.get(position):
            break
        result.append(
            ProviderAdjustment(
                provider_id=plb.get(1),
                fiscal_period_end=period_end,
                reason_code=plb.component(position, 1),
                reference=plb.component(position, 2),
                amount=amount(plb, position + 1),
            )
        )
    return result
