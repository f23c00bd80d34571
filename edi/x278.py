"""278 health care services review, request and response (005010X217): prior authorization.

Levels: 2000A utilization management organization, the payer (20) > 2000B requester (21) >
2000C subscriber (22) > 2000D dependent (23), when the patient is not the subscriber >
2000E patient event (EV: TRN, UM, DTP*AAH, HI diagnoses, 2010EA service provider) > 2000F
services (SS: UM, DTP*472, SV1). The response repeats the request and adds HCR decisions:
for the event (required) and for each service. One transaction set carries one event.
"""

from __future__ import annotations

from collections.abc import Sequence

from edi.elements import amount, d8, optional_amount, time_text
from edi.envelope import Kind, TransactionSet, read_interchanges, write_interchange
from edi.errors import X12ValueError
from edi.models import (
    Envelope,
    Member,
    Parsed,
    ReviewDecision,
    ReviewService,
    ServiceReview,
)
from edi.segments import (
    Body,
    Level,
    date_or_warn,
    expect_level,
    period_or_warn,
    read_created,
    read_party,
    split_levels,
)
from edi.tokenizer import DEFAULT_SEPARATORS, Segment, Separators
from edi.x276 import write_service_dates

KIND = Kind("278", "HI", "005010X217")


def write_278_request(
    envelope: Envelope,
    reviews: Sequence[ServiceReview],
    *,
    separators: Separators = DEFAULT_SEPARATORS,
    line_break: str = "\n",
) -> str:
    bodies = [_body(r, response=False) for r in reviews]
    return write_interchange(envelope, KIND, bodies, separators=separators, line_break=line_break)


def write_278_response(
    envelope: Envelope,
    reviews: Sequence[ServiceReview],
    *,
    separators: Separators = DEFAULT_SEPARATORS,
    line_break: str = "\n",
) -> str:
    bodies = [_body(r, response=True) for r in reviews]
    return write_interchange(envelope, KIND, bodies, separators=separators, line_break=line_break)


def read_278(text: str) -> Parsed[ServiceReview]:
    """Requests and responses alike; a response is a review whose `decision` is set."""
    warnings: list[str] = []
    transaction_sets, envelopes = read_interchanges(text, KIND, warnings)
    return Parsed([_review(ts, warnings) for ts in transaction_sets], envelopes, warnings)


# --- writing ---------------------------------------------------------------------------------


def _body(r: ServiceReview, *, response: bool) -> Body:
    body = Body(context=f"278 {r.reference}")
    if response != (r.decision is not None):
        raise X12ValueError(
            f"{body.context}: a 278 response carries the decision (HCR) and a request does not",
            field="HCR01",
        )
    if not r.diagnoses or len(r.diagnoses) > 12:
        raise X12ValueError(f"{body.context}: a review carries 1 to 12 diagnoses")
    created = r.created
    purpose = "11" if response else "13"
    body.add("BHT", "0007", purpose, r.reference, created.date(), time_text(created))
    umo_hl = body.hl("", "20", True)
    body.party("X3", r.umo)
    requester_hl = body.hl(umo_hl, "21", True)
    body.party("1P", r.requester)
    subscriber_hl = body.hl(requester_hl, "22", True)
    _member(body, "IL", r.subscriber)
    parent = subscriber_hl
    if r.dependent is not None:
        parent = body.hl(subscriber_hl, "23", True)
        _member(body, "QC", r.dependent)
    body.context = f"278 {r.reference}, 2000E patient event"
    event_hl = body.hl(parent, "EV", bool(r.services))
    body.add("TRN", "2" if response else "1", r.trace_number, r.trace_originator)
    location = (r.place_of_service, "B") if r.place_of_service else None
    body.add("UM", r.request_category, r.certification_type, r.service_type, location)
    if r.decision:
        _decision(body, r.decision)
    if r.event_date and r.event_date_end and r.event_date_end != r.event_date:
        body.add("DTP", "AAH", "RD8", f"{d8(r.event_date)}-{d8(r.event_date_end)}")
    elif r.event_date:
        body.add("DTP", "AAH", "D8", d8(r.event_date))
    body.add("HI", *(("ABK" if i == 0 else "ABF", code) for i, code in enumerate(r.diagnoses)))
    if r.service_provider:
        body.party("SJ", r.service_provider)
    for number, service in enumerate(r.services, 1):
        body.context = f"278 {r.reference}, 2000F service {number}"
        if response and service.decision is None:
            raise X12ValueError(f"{body.context}: a response decides every service (HCR)")
        body.hl(event_hl, "SS", False)
        body.add("UM", r.request_category, r.certification_type)
        if service.decision:
            _decision(body, service.decision)
        write_service_dates(body, service.service_date, service.service_date_end)
        body.add(
            "SV1",
            ("HC", service.procedure_code, *service.modifiers),
            service.charge,
            "UN",
            service.units,
        )
    return body


def _member(body: Body, entity: str, m: Member) -> None:
    body.person(entity, m)
    if m.birth_date or m.gender:
        body.add("DMG", "D8", d8(m.birth_date) if m.birth_date else None, m.gender)


def _decision(body: Body, d: ReviewDecision) -> None:
    body.add("HCR", d.action, d.certification_number, d.reason)


# --- reading ---------------------------------------------------------------------------------


def _review(ts: TransactionSet, warnings: list[str]) -> ServiceReview:
    header, levels = split_levels(ts.segments)
    bht = next((s for s in header if s.tag == "BHT"), None)
    if bht is None:
        raise ts.header.error("the BHT segment is missing")
    by_code: dict[str, list[Level]] = {}
    for level in levels:
        by_code.setdefault(level.code, []).append(level)
    for code in ("20", "21", "22", "EV"):
        if code not in by_code:
            raise bht.error(f"the hierarchical level {code} is missing")
    if len(by_code["EV"]) > 1:
        warnings.append(f"{by_code['EV'][1].hl.where}: only the first patient event is read")
    event = by_code["EV"][0]
    trn = event.first("TRN")
    um = event.first("UM")
    if trn is None or um is None:
        raise event.hl.error("the patient event needs its trace (TRN) and review (UM)")
    dtp = event.first("DTP", "AAH")
    start, end = period_or_warn(dtp, warnings) if dtp else (None, None)
    hi = event.first("HI")
    provider = event.first("NM1", "SJ")
    dependent = by_code.get("23")
    return ServiceReview(
        reference=bht.get(3),
        created=read_created(bht),
        umo=read_party(expect_level(by_code["20"][0], "NM1", "X3", "UMO name")),
        requester=read_party(_requester(by_code["21"][0])),
        subscriber=_read_member(by_code["22"][0], "IL", warnings),
        dependent=_read_member(dependent[0], "QC", warnings) if dependent else None,
        trace_number=trn.get(2),
        trace_originator=trn.get(3),
        request_category=um.get(1),
        certification_type=um.get(2),
        service_type=um.get(3),
        place_of_service=um.component(4, 1),
        decision=_read_decision(event.first("HCR")),
        event_date=start,
        event_date_end=end if end != start else None,
        diagnoses=[hi.component(p, 2) for p in range(1, 13) if hi.get(p)] if hi else [],
        service_provider=read_party(provider) if provider else None,
        services=[_read_service(level, warnings) for level in by_code.get("SS", [])],
    )


def _requester(level: Level) -> Segment:
    nm1 = level.first("NM1")
    if nm1 is None:
        raise level.hl.error("the requester name (NM1) is missing")
    return nm1


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


def _read_decision(hcr: Segment | None) -> ReviewDecision | None:
    if hcr is None:
        return None
    return ReviewDecision(action=hcr.get(1), certification_number=hcr.get(2), reason=hcr.get(3))


def _read_service(level: Level, warnings: list[str]) -> ReviewService:
    sv1 = level.first("SV1")
    if sv1 is None:
        raise level.hl.error("the professional service (SV1) is missing")
    procedure = sv1.components(1)
    dtp = level.first("DTP", "472")
    start, end = period_or_warn(dtp, warnings) if dtp else (None, None)
    return ReviewService(
        procedure_code=procedure[1] if len(procedure) > 1 else "",
        modifiers=tuple(procedure[2:6]),
        charge=optional_amount(sv1, 2),
        units=amount(sv1, 4),
        service_date=start,
        service_date_end=end,
        decision=_read_decision(level.first("HCR")),
    )
