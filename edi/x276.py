"""276 claim status request (005010X212), and the X212 hierarchy it shares with the 277.

Levels: 2000A payer (20) > 2000B information receiver (21) > 2000C service provider (19) >
2000D subscriber (22) > 2000E dependent (23) when the patient is not the subscriber. Each
claim asked about is a TRN under the patient's level, with its references (REF*1K payer
claim number, REF*EJ patient control number, REF*BLT bill type), AMT*T3, DTP*472 and SVC
lines. The writer gives every claim its own subscriber level; the reader accepts several
claims (TRNs) under one.

The 277 (005010X212) answers with the same hierarchy: TRN*2 echoes the trace, STC gives the
status; a provider-level TRN/STC answers for the provider as a whole.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from edi.elements import amount, d8, optional_amount, rd8, time_text
from edi.envelope import Kind, TransactionSet, read_interchanges, write_interchange
from edi.models import (
    ClaimInquiry,
    ClaimStatusExchange,
    Envelope,
    Member,
    Parsed,
    ProviderClaims,
    ServiceInquiry,
    Status,
)
from edi.segments import (
    Body,
    Cursor,
    Level,
    date_or_warn,
    expect_level,
    period_or_warn,
    read_created,
    read_party,
    split_levels,
)
from edi.tokenizer import DEFAULT_SEPARATORS, Segment, Separators

KIND = Kind("276", "HR", "005010X212")


def write_276(
    envelope: Envelope,
    requests: Sequence[ClaimStatusExchange],
    *,
    separators: Separators = DEFAULT_SEPARATORS,
    line_break: str = "\n",
) -> str:
    bodies = [status_body(r, response=False) for r in requests]
    return write_interchange(envelope, KIND, bodies, separators=separators, line_break=line_break)


def read_276(text: str) -> Parsed[ClaimStatusExchange]:
    warnings: list[str] = []
    transaction_sets, envelopes = read_interchanges(text, KIND, warnings)
    exchanges = [read_status_exchange(ts, warnings, response=False) for ts in transaction_sets]
    return Parsed(exchanges, envelopes, warnings)


# --- writing ---------------------------------------------------------------------------------


def status_body(x: ClaimStatusExchange, *, response: bool) -> Body:
    """A 276 request body, or with `response` the 277 (X212) answering it."""
    body = Body(context=f"{'277' if response else '276'} {x.reference}")
    body.add(
        "BHT",
        "0010",
        "08" if response else "13",
        x.reference,
        x.created.date(),
        time_text(x.created),
        "DG" if response else None,
    )
    payer_hl = body.hl("", "20", True)
    body.party("PR", x.payer)
    receiver_hl = body.hl(payer_hl, "21", True)
    body.party("41", x.receiver)
    for provider in x.providers:
        body.context = f"provider {provider.provider.identifier}"
        provider_hl = body.hl(receiver_hl, "19", bool(provider.claims))
        body.party("1P", provider.provider)
        if response and (provider.trace_number or provider.statuses):
            body.add("TRN", "1", provider.trace_number)
            for status in provider.statuses:
                write_status(body, status)
        for claim in provider.claims:
            body.context = f"claim {claim.trace_number}"
            subscriber_hl = body.hl(provider_hl, "22", claim.patient is not None)
            _member(body, "IL", claim.subscriber, demographics=not response)
            if claim.patient is not None:
                body.hl(subscriber_hl, "23", None)
                _member(body, "QC", claim.patient, demographics=not response)
            _claim(body, claim, response)
    return body


def write_status(body: Body, s: Status) -> None:
    body.add(
        "STC",
        (s.category, s.code, s.entity),
        s.effective_date,
        s.action_code,
        s.charge,
        s.paid,
        *(None,) * 6,
        s.message,
    )


def _member(body: Body, entity: str, m: Member, *, demographics: bool) -> None:
    if demographics and (m.birth_date or m.gender):
        body.add("DMG", "D8", d8(m.birth_date) if m.birth_date else None, m.gender)
    body.person(entity, m)


def _claim(body: Body, c: ClaimInquiry, response: bool) -> None:
    body.add("TRN", "2" if response else "1", c.trace_number)
    if response:
        for status in c.statuses:
            write_status(body, status)
    for qualifier, value in (
        ("1K", c.payer_claim_control_number),
        ("BLT", c.bill_type),
        ("EJ", c.patient_control_number),
    ):
        if value:
            body.add("REF", qualifier, value)
    if not response and c.charge is not None:
        body.add("AMT", "T3", c.charge)
    write_service_dates(body, c.service_date, c.service_date_end)
    for s in c.services:
        body.add(
            "SVC",
            (s.qualifier, s.procedure_code, *s.modifiers),
            s.charge,
            s.paid if response else None,
            s.revenue_code,
            None,
            None,
            s.units,
        )
        if response:
            for status in s.statuses:
                write_status(body, status)
        if s.control_number:
            body.add("REF", "FJ", s.control_number)
        write_service_dates(body, s.service_date, s.service_date_end)


def write_service_dates(body: Body, start: datetime.date | None, end: datetime.date | None) -> None:
    """DTP*472 as D8, or RD8 when the service spans several days."""
    if start and end and end != start:
        body.add("DTP", "472", "RD8", rd8(start, end))
    elif start:
        body.add("DTP", "472", "D8", d8(start))


# --- reading ---------------------------------------------------------------------------------


def read_status_exchange(
    ts: TransactionSet, warnings: list[str], *, response: bool
) -> ClaimStatusExchange:
    header, levels = split_levels(ts.segments)
    bht = next((s for s in header if s.tag == "BHT"), None)
    if bht is None:
        raise ts.header.error("the BHT segment is missing")
    payer = receiver = None
    providers: list[ProviderClaims] = []
    provider_levels: dict[str, ProviderClaims] = {}
    subscriber_levels: dict[str, tuple[ProviderClaims, Member]] = {}
    for level in levels:
        if level.code == "20":
            payer = read_party(expect_level(level, "NM1", "PR", "payer name"))
        elif level.code == "21":
            receiver = read_party(expect_level(level, "NM1", "41", "information receiver name"))
        elif level.code == "19":
            provider = ProviderClaims(
                provider=read_party(expect_level(level, "NM1", "1P", "provider name"))
            )
            if response:
                trn = level.first("TRN")
                provider.trace_number = trn.get(2) if trn else ""
                provider.statuses = [
                    read_status(s, warnings) for s in level.segments if s.tag == "STC"
                ]
            providers.append(provider)
            provider_levels[level.id] = provider
        elif level.code == "22":
            provider = _parent(level, provider_levels, "service provider (19)")
            subscriber = _read_member(level, "IL", warnings)
            subscriber_levels[level.id] = (provider, subscriber)
            provider.claims += _read_claims(level, subscriber, None, warnings)
        elif level.code == "23":
            provider, subscriber = _parent(level, subscriber_levels, "subscriber (22)")
            patient = _read_member(level, "QC", warnings)
            provider.claims += _read_claims(level, subscriber, patient, warnings)
        else:
            warnings.append(f"{level.hl.where}: unknown hierarchical level {level.code!r}")
    if payer is None or receiver is None:
        raise bht.error("the payer (HL 20) or information receiver (HL 21) level is missing")
    return ClaimStatusExchange(
        reference=bht.get(3),
        created=read_created(bht),
        payer=payer,
        receiver=receiver,
        providers=providers,
    )


def _parent[T](level: Level, known: dict[str, T], what: str) -> T:
    if level.parent not in known:
        raise level.hl.error(f"HL02 {level.parent!r} is not a {what} level")
    return known[level.parent]


def _read_member(level: Level, entity: str, warnings: list[str]) -> Member:
    nm1 = expect_level(level, "NM1", entity, "name")
    dmg = level.first("DMG")
    return Member(
        last_name=nm1.get(3),
        first_name=nm1.get(4),
        middle_name=nm1.get(5),
        suffix=nm1.get(7),
        id_qualifier=nm1.get(8),
        identifier=nm1.get(9),
        birth_date=date_or_warn(dmg, 2, "birth date", warnings) if dmg else None,
        gender=dmg.get(3) if dmg else "",
    )


def _read_claims(
    level: Level, subscriber: Member, patient: Member | None, warnings: list[str]
) -> list[ClaimInquiry]:
    cur = Cursor(level.segments, warnings)
    claims: list[ClaimInquiry] = []
    while (seg := cur.peek()) is not None:
        cur.next()
        if seg.tag != "TRN":
            continue
        claim = ClaimInquiry(subscriber=subscriber, patient=patient, trace_number=seg.get(2))
        while (seg := cur.peek()) is not None and seg.tag in ("STC", "REF", "AMT", "DTP"):
            cur.next()
            _claim_detail(claim, seg, warnings)
        while cur.at("SVC"):
            claim.services.append(_read_service(cur, warnings))
        claims.append(claim)
    return claims


def _claim_detail(claim: ClaimInquiry, seg: Segment, warnings: list[str]) -> None:
    qualifier = seg.get(1)
    if seg.tag == "STC":
        claim.statuses.append(read_status(seg, warnings))
    elif seg.tag == "REF" and qualifier == "1K":
        claim.payer_claim_control_number = seg.get(2)
    elif seg.tag == "REF" and qualifier == "BLT":
        claim.bill_type = seg.get(2)
    elif seg.tag == "REF" and qualifier == "EJ":
        claim.patient_control_number = seg.get(2)
    elif seg.tag == "AMT" and qualifier == "T3":
        claim.charge = optional_amount(seg, 2)
    elif seg.tag == "DTP" and qualifier == "472":
        claim.service_date, claim.service_date_end = period_or_warn(seg, warnings)


def _read_service(cur: Cursor, warnings: list[str]) -> ServiceInquiry:
    svc = cur.next()
    procedure = svc.components(1)
    service = ServiceInquiry(
        qualifier=procedure[0] if procedure else "",
        procedure_code=procedure[1] if len(procedure) > 1 else "",
        modifiers=tuple(procedure[2:6]),
        charge=amount(svc, 2),
        paid=optional_amount(svc, 3),
        revenue_code=svc.get(4),
        units=optional_amount(svc, 7),
    )
    while (seg := cur.peek()) is not None and seg.tag in ("STC", "REF", "DTP"):
        cur.next()
        if seg.tag == "STC":
            service.statuses.append(read_status(seg, warnings))
        elif seg.tag == "REF" and seg.get(1) == "FJ":
            service.control_number = seg.get(2)
        elif seg.tag == "DTP" and seg.get(1) == "472":
            service.service_date, service.service_date_end = period_or_warn(seg, warnings)
    return service


def read_status(stc: Segment, warnings: list[str]) -> Status:
    return Status(
        category=stc.component(1, 1),
        code=stc.component(1, 2),
        entity=stc.component(1, 3),
        effective_date=date_or_warn(stc, 2, "status effective date", warnings),
        action_code=stc.get(3),
        charge=optional_amount(stc, 4),
        paid=optional_amount(stc, 5),
        message=stc.get(12),
    )
