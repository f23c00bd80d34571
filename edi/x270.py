"""270 eligibility inquiry (005010X279A1), and the hierarchy it shares with the 271 response.

Levels: 2000A information source, the payer (20) > 2000B information receiver, the provider
(21) > 2000C subscriber (22) > 2000D dependent (23) when the question is about a dependent.
The question itself (TRN trace, DTP*291 date, EQ service types) sits on the level of the
person it is about. The writer gives every inquiry its own subscriber level; the 271 answers
on the same levels with TRN*2 (the inquiry's trace), AAA errors, DTP*346/347 and EB benefits.
"""

from __future__ import annotations

from collections.abc import Sequence

from edi.elements import Repeat, d8, optional_amount, time_text
from edi.envelope import Kind, TransactionSet, read_interchanges, write_interchange
from edi.errors import X12ValueError
from edi.models import (
    Benefit,
    Eligibility,
    EligibilityInquiry,
    Envelope,
    Member,
    Parsed,
    RequestError,
)
from edi.segments import (
    Body,
    Level,
    date_or_warn,
    expect_level,
    read_address,
    read_created,
    read_party,
    split_levels,
)
from edi.tokenizer import DEFAULT_SEPARATORS, Segment, Separators

KIND = Kind("270", "HS", "005010X279A1", accepted_versions=("005010X279",))


def write_270(
    envelope: Envelope,
    requests: Sequence[Eligibility],
    *,
    separators: Separators = DEFAULT_SEPARATORS,
    line_break: str = "\n",
) -> str:
    bodies = [eligibility_body(r, response=False) for r in requests]
    return write_interchange(envelope, KIND, bodies, separators=separators, line_break=line_break)


def read_270(text: str) -> Parsed[Eligibility]:
    warnings: list[str] = []
    transaction_sets, envelopes = read_interchanges(text, KIND, warnings)
    requests = [read_eligibility(ts, warnings, response=False) for ts in transaction_sets]
    return Parsed(requests, envelopes, warnings)


# --- writing ---------------------------------------------------------------------------------


def eligibility_body(x: Eligibility, *, response: bool) -> Body:
    """A 270 body, or with `response` the 271 answering it."""
    body = Body(context=f"{'271' if response else '270'} {x.reference}")
    created = x.created
    purpose = "11" if response else "13"
    body.add("BHT", "0022", purpose, x.reference, created.date(), time_text(created))
    payer_hl = body.hl("", "20", True)
    body.party("PR", x.payer)
    _errors(body, x.payer_errors)
    provider_hl = body.hl(payer_hl, "21", bool(x.inquiries))
    body.party("1P", x.provider)
    _errors(body, x.provider_errors)
    for inquiry in x.inquiries:
        body.context = f"inquiry {inquiry.trace_number}"
        if not response and not inquiry.service_types:
            raise X12ValueError(f"{body.context}: EQ01 needs at least one service type")
        subscriber_hl = body.hl(provider_hl, "22", inquiry.dependent is not None)
        errors = inquiry.errors if response else []
        if inquiry.dependent is None:
            _trace(body, inquiry, response)
            _member(body, "IL", inquiry.subscriber, errors)
        else:
            _member(body, "IL", inquiry.subscriber, [])
            body.hl(subscriber_hl, "23", False)
            _trace(body, inquiry, response)
            _member(body, "03", inquiry.dependent, errors)
        _question_or_answer(body, inquiry, response)
    return body


def _trace(body: Body, inquiry: EligibilityInquiry, response: bool) -> None:
    body.add("TRN", "2" if response else "1", inquiry.trace_number, inquiry.trace_originator)


def _member(body: Body, entity: str, m: Member, errors: list[RequestError]) -> None:
    """2100C/D in the implementation guide's order: NM1, N3/N4, AAA, DMG."""
    body.person(entity, m)
    if m.address:
        body.address(m.address)
    _errors(body, errors)
    if m.birth_date or m.gender:
        body.add("DMG", "D8", d8(m.birth_date) if m.birth_date else None, m.gender)


def _question_or_answer(body: Body, inquiry: EligibilityInquiry, response: bool) -> None:
    if not response:
        if inquiry.service_date:
            body.add("DTP", "291", "D8", d8(inquiry.service_date))
        body.add("EQ", Repeat(inquiry.service_types))
        return
    for qualifier, day in (("346", inquiry.eligibility_begin), ("347", inquiry.eligibility_end)):
        if day:
            body.add("DTP", qualifier, "D8", d8(day))
    for b in inquiry.benefits:
        body.add(
            "EB",
            b.code,
            b.coverage_level,
            Repeat(b.service_types),
            b.insurance_type,
            b.plan_description,
            b.time_period,
            b.amount,
            b.percent,
            b.quantity_qualifier,
            b.quantity,
            b.authorization_required,
            b.in_network,
        )
        for message in b.messages:
            body.add("MSG", message)


def _errors(body: Body, errors: list[RequestError]) -> None:
    for e in errors:
        body.add("AAA", e.valid, None, e.reason, e.follow_up)


# --- reading ---------------------------------------------------------------------------------


def read_eligibility(ts: TransactionSet, warnings: list[str], *, response: bool) -> Eligibility:
    header, levels = split_levels(ts.segments)
    bht = next((s for s in header if s.tag == "BHT"), None)
    if bht is None:
        raise ts.header.error("the BHT segment is missing")
    payer_level = next((level for level in levels if level.code == "20"), None)
    provider_level = next((level for level in levels if level.code == "21"), None)
    if payer_level is None or provider_level is None:
        raise bht.error("the payer (HL 20) or the provider (HL 21) level is missing")
    eligibility = Eligibility(
        reference=bht.get(3),
        created=read_created(bht),
        payer=read_party(expect_level(payer_level, "NM1", "PR", "payer name")),
        provider=read_party(expect_level(provider_level, "NM1", "1P", "provider name")),
        payer_errors=_read_errors(payer_level.segments),
        provider_errors=_read_errors(provider_level.segments),
        inquiries=[],
    )
    subscribers: dict[str, Member] = {}
    for level in levels:
        if level.code == "22":
            subscriber = _read_member(level, "IL", warnings)
            subscribers[level.id] = subscriber
            if level.first("TRN") is not None:
                eligibility.inquiries.append(_read_inquiry(level, subscriber, None, warnings))
        elif level.code == "23":
            if level.parent not in subscribers:
                raise level.hl.error(f"HL02 {level.parent!r} is not a subscriber level (22)")
            subscriber = subscribers[level.parent]
            dependent = _read_member(level, "03", warnings)
            eligibility.inquiries.append(_read_inquiry(level, subscriber, dependent, warnings))
        elif level.code not in ("20", "21"):
            warnings.append(f"{level.hl.where}: unknown hierarchical level {level.code!r}")
    return eligibility


def _read_member(level: Level, entity: str, warnings: list[str]) -> Member:
    segments = _name_loop(level.segments)
    nm1 = next((s for s in segments if s.tag == "NM1" and s.get(1) == entity), None)
    if nm1 is None:
        raise level.hl.error(f"the name (NM1*{entity}) is missing")
    dmg = next((s for s in segments if s.tag == "DMG"), None)
    n3 = next((s for s in segments if s.tag == "N3"), None)
    n4 = next((s for s in segments if s.tag == "N4"), None)
    return Member(
        last_name=nm1.get(3),
        first_name=nm1.get(4),
        middle_name=nm1.get(5),
        suffix=nm1.get(7),
        id_qualifier=nm1.get(8),
        identifier=nm1.get(9),
        birth_date=date_or_warn(dmg, 2, "birth date", warnings) if dmg else None,
        gender=dmg.get(3) if dmg else "",
        address=read_address(n3, n4),
    )


def _name_loop(segments: list[Segment]) -> list[Segment]:
    """The person's own segments (2100C/D), before the benefit loops (EB/EQ) start."""
    own = []
    for seg in segments:
        if seg.tag in ("EB", "EQ", "LS"):
            break
        own.append(seg)
    return own


def _read_inquiry(
    level: Level, subscriber: Member, dependent: Member | None, warnings: list[str]
) -> EligibilityInquiry:
    trn = level.first("TRN", "2") or level.first("TRN")
    assert trn is not None
    own = _name_loop(level.segments)
    service_date = next((s for s in own if s.tag == "DTP" and s.get(1) == "291"), None)
    begin = next((s for s in own if s.tag == "DTP" and s.get(1) == "346"), None)
    end = next((s for s in own if s.tag == "DTP" and s.get(1) == "347"), None)
    service_types: tuple[str, ...] = ()
    for eq in (s for s in level.segments if s.tag == "EQ"):
        service_types += tuple(eq.repeats(1))
    return EligibilityInquiry(
        subscriber=subscriber,
        dependent=dependent,
        trace_number=trn.get(2),
        trace_originator=trn.get(3),
        service_date=_dtp_date(service_date, warnings),
        service_types=service_types,
        eligibility_begin=_dtp_date(begin, warnings),
        eligibility_end=_dtp_date(end, warnings),
        benefits=_read_benefits(level.segments),
        errors=_read_errors(own),
    )


def _dtp_date(dtp: Segment | None, warnings: list[str]):
    if dtp is None:
        return None
    return date_or_warn(dtp, 3, "date", warnings) if dtp.get(2) == "D8" else None


def _read_benefits(segments: list[Segment]) -> list[Benefit]:
    benefits: list[Benefit] = []
    for seg in segments:
        if seg.tag == "EB":
            benefits.append(
                Benefit(
                    code=seg.get(1),
                    coverage_level=seg.get(2),
                    service_types=tuple(seg.repeats(3)),
                    insurance_type=seg.get(4),
                    plan_description=seg.get(5),
                    time_period=seg.get(6),
                    amount=optional_amount(seg, 7),
                    percent=optional_amount(seg, 8),
                    quantity_qualifier=seg.get(9),
                    quantity=optional_amount(seg, 10),
                    authorization_required=seg.get(11),
                    in_network=seg.get(12),
                )
            )
        elif seg.tag == "MSG" and benefits:
            benefits[-1].messages += (seg.get(1),)
    return benefits


def _read_errors(segments: list[Segment]) -> list[RequestError]:
    return [
        RequestError(valid=s.get(1), reason=s.get(3), follow_up=s.get(4))
        for s in segments
        if s.tag == "AAA"
    ]
