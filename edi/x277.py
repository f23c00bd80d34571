"""277 claim status response (005010X212) and 277CA claim acknowledgment (005010X214).

The 277 answers a 276 with the same hierarchy (see `edi.x276`). The 277CA answers an 837:
2000A information source (the clearinghouse or payer) with its receipt trace and dates >
2000B information receiver (the submitter) with the batch trace (the 837's BHT03) and its
status > 2000C billing provider > 2000D patient, one per claim, whose TRN*2 is the claim's
patient control number (CLM01) and whose STC says accepted (A1/A2, action WQ) or rejected
(A3/A7, action U).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

from edi.elements import d8, optional_amount, time_text
from edi.envelope import Kind, TransactionSet, read_interchanges, write_interchange
from edi.errors import X12ValueError
from edi.models import (
    ClaimAck,
    ClaimAcknowledgment,
    ClaimStatusExchange,
    Envelope,
    Parsed,
    ProviderAck,
    Status,
)
from edi.segments import (
    Body,
    Level,
    expect_level,
    period_or_warn,
    read_created,
    read_party,
    read_person,
    required_date,
    split_levels,
)
from edi.tokenizer import DEFAULT_SEPARATORS, Separators
from edi.x276 import (
    read_status,
    read_status_exchange,
    status_body,
    write_service_dates,
    write_status,
)

KIND = Kind("277", "HN", "005010X212")
KIND_CA = Kind("277", "HN", "005010X214")


def write_277(
    envelope: Envelope,
    responses: Sequence[ClaimStatusExchange],
    *,
    separators: Separators = DEFAULT_SEPARATORS,
    line_break: str = "\n",
) -> str:
    bodies = [status_body(r, response=True) for r in responses]
    return write_interchange(envelope, KIND, bodies, separators=separators, line_break=line_break)


def read_277(text: str) -> Parsed[ClaimStatusExchange]:
    warnings: list[str] = []
    transaction_sets, envelopes = read_interchanges(text, KIND, warnings)
    _refuse_other_variant(transaction_sets, KIND_CA, "read_277ca")
    responses = [read_status_exchange(ts, warnings, response=True) for ts in transaction_sets]
    return Parsed(responses, envelopes, warnings)


def write_277ca(
    envelope: Envelope,
    acknowledgments: Sequence[ClaimAcknowledgment],
    *,
    separators: Separators = DEFAULT_SEPARATORS,
    line_break: str = "\n",
) -> str:
    bodies = [_ack_body(a) for a in acknowledgments]
    return write_interchange(
        envelope, KIND_CA, bodies, separators=separators, line_break=line_break
    )


def read_277ca(text: str) -> Parsed[ClaimAcknowledgment]:
    warnings: list[str] = []
    transaction_sets, envelopes = read_interchanges(text, KIND_CA, warnings)
    _refuse_other_variant(transaction_sets, KIND, "read_277")
    acks = [_read_ack(ts, warnings) for ts in transaction_sets]
    return Parsed(acks, envelopes, warnings)


def _refuse_other_variant(transaction_sets: list[TransactionSet], other: Kind, reader: str) -> None:
    for ts in transaction_sets:
        if other.accepts(ts.version):
            raise ts.header.error(f"this 277 is {ts.version}; read it with {reader}")


# --- 277CA writing ---------------------------------------------------------------------------


def _ack_body(a: ClaimAcknowledgment) -> Body:
    body = Body(context=f"277CA {a.reference}")
    body.add("BHT", "0085", "08", a.reference, a.created.date(), time_text(a.created), "TH")
    source_hl = body.hl("", "20", True)
    body.party(a.source_entity, a.source)
    body.add("TRN", "1", a.receipt_trace)
    body.add("DTP", "050", "D8", d8(a.received_date))
    body.add("DTP", "009", "D8", d8(a.processed_date))
    receiver_hl = body.hl(source_hl, "21", bool(a.providers))
    body.party("41", a.receiver)
    body.add("TRN", "2", a.batch_trace)
    for status in a.receiver_statuses:
        _check_ack_status(body, status, claim_level=False)
        write_status(body, status)
    _totals(body, ("90", "AA"), a.accepted_quantity, a.rejected_quantity)
    _amounts(body, a.accepted_amount, a.rejected_amount)
    for provider in a.providers:
        body.context = f"277CA provider {provider.provider.identifier}"
        provider_hl = body.hl(receiver_hl, "19", bool(provider.claims))
        body.party("85", provider.provider)
        body.add("TRN", "1", provider.trace_number)
        for status in provider.statuses:
            _check_ack_status(body, status, claim_level=False)
            # pyx12's X214 map does not use STC02 at the provider level.
            write_status(body, replace(status, effective_date=None))
        _totals(body, ("QA", "QC"), provider.accepted_quantity, provider.rejected_quantity)
        _amounts(body, provider.accepted_amount, provider.rejected_amount)
        for claim in provider.claims:
            body.context = f"277CA claim {claim.patient_control_number}"
            body.hl(provider_hl, "PT", None)
            body.person("QC", claim.patient)
            body.add("TRN", "2", claim.patient_control_number)
            for status in claim.statuses:
                _check_ack_status(body, status, claim_level=True)
                write_status(body, status)
            if claim.payer_claim_control_number:
                body.add("REF", "1K", claim.payer_claim_control_number)
            if claim.clearinghouse_trace:
                body.add("REF", "D9", claim.clearinghouse_trace)
            write_service_dates(body, claim.service_date, claim.service_date_end)
    return body


def _check_ack_status(body: Body, status: Status, *, claim_level: bool) -> None:
    """A 277CA status carries no paid amount, and a message (STC12) only for a claim."""
    if status.paid is not None:
        raise X12ValueError(f"{body.context}: STC05 (paid amount) is not used in a 277CA")
    if status.message and not claim_level:
        raise X12ValueError(
            f"{body.context}: STC12 (message) is only sent for a claim in a 277CA", field="STC12"
        )


def _totals(
    body: Body, qualifiers: tuple[str, str], accepted: int | None, rejected: int | None
) -> None:
    for qualifier, quantity in zip(qualifiers, (accepted, rejected), strict=True):
        if quantity is not None:
            body.add("QTY", qualifier, quantity)


def _amounts(body: Body, accepted: Decimal | None, rejected: Decimal | None) -> None:
    for qualifier, value in (("YU", accepted), ("YY", rejected)):
        if value is not None:
            body.add("AMT", qualifier, value)


# --- 277CA reading ---------------------------------------------------------------------------


def _read_ack(ts: TransactionSet, warnings: list[str]) -> ClaimAcknowledgment:
    header, levels = split_levels(ts.segments)
    bht = next((s for s in header if s.tag == "BHT"), None)
    if bht is None or not levels or levels[0].code != "20":
        raise ts.header.error("a 277CA starts with BHT and the information source level (HL 20)")
    source_level = levels[0]
    source_nm1 = source_level.first("NM1")
    if source_nm1 is None:
        raise source_level.hl.error("the information source name (NM1) is missing")
    receiver_level = next((level for level in levels if level.code == "21"), None)
    if receiver_level is None:
        raise source_level.hl.error("the information receiver level (HL 21) is missing")
    source_hl = source_level.hl
    ack = ClaimAcknowledgment(
        reference=bht.get(3),
        created=read_created(bht),
        source_entity=source_nm1.get(1),
        source=read_party(source_nm1),
        receipt_trace=_trace(source_level),
        received_date=required_date(
            source_level.first("DTP", "050"), 3, "DTP*050 (receipt date)", missing_at=source_hl
        ),
        processed_date=required_date(
            source_level.first("DTP", "009"), 3, "DTP*009 (process date)", missing_at=source_hl
        ),
        receiver=read_party(expect_level(receiver_level, "NM1", "41", "information receiver name")),
        batch_trace=_trace(receiver_level),
        receiver_statuses=_statuses(receiver_level, warnings),
    )
    ack.accepted_quantity, ack.rejected_quantity = _read_totals(receiver_level, ("90", "AA"))
    ack.accepted_amount, ack.rejected_amount = _read_amounts(receiver_level)
    providers: dict[str, ProviderAck] = {}
    for level in levels[1:]:
        if level.code == "19":
            provider = ProviderAck(
                provider=read_party(expect_level(level, "NM1", "85", "billing provider name")),
                trace_number=_trace(level),
                statuses=_statuses(level, warnings),
            )
            provider.accepted_quantity, provider.rejected_quantity = _read_totals(
                level, ("QA", "QC")
            )
            provider.accepted_amount, provider.rejected_amount = _read_amounts(level)
            providers[level.id] = provider
            ack.providers.append(provider)
        elif level.code == "PT":
            if level.parent not in providers:
                raise level.hl.error(f"HL02 {level.parent!r} is not a billing provider level (19)")
            providers[level.parent].claims.append(_read_claim_ack(level, warnings))
        elif level.code != "21":
            warnings.append(f"{level.hl.where}: unknown hierarchical level {level.code!r}")
    return ack


def _read_claim_ack(level: Level, warnings: list[str]) -> ClaimAck:
    dtp = level.first("DTP", "472")
    start, end = period_or_warn(dtp, warnings) if dtp else (None, None)
    if start is None:
        raise level.hl.error("the claim service date (DTP*472) is missing or invalid")
    payer_claim = level.first("REF", "1K")
    clearinghouse = level.first("REF", "D9")
    return ClaimAck(
        patient=read_person(expect_level(level, "NM1", "QC", "patient name")),
        patient_control_number=_trace(level),
        statuses=_statuses(level, warnings),
        payer_claim_control_number=payer_claim.get(2) if payer_claim else "",
        clearinghouse_trace=clearinghouse.get(2) if clearinghouse else "",
        service_date=start,
        service_date_end=end,
    )


def _trace(level: Level) -> str:
    trn = level.first("TRN")
    if trn is None:
        raise level.hl.error("the trace number (TRN) is missing")
    return trn.get(2)


def _statuses(level: Level, warnings: list[str]) -> list[Status]:
    """The level's own STC segments (service line statuses after an SVC are not included)."""
    statuses = []
    for seg in level.segments:
        if seg.tag == "SVC":
            break
        if seg.tag == "STC":
            statuses.append(read_status(seg, warnings))
    return statuses


def _read_totals(level: Level, qualifiers: tuple[str, str]) -> tuple[int | None, int | None]:
    values = []
    for qualifier in qualifiers:
        qty = level.first("QTY", qualifier)
        quantity = optional_amount(qty, 2) if qty else None
        values.append(int(quantity) if quantity is not None else None)
    return values[0], values[1]


def _read_amounts(level: Level) -> tuple[Decimal | None, Decimal | None]:
    accepted, rejected = level.first("AMT", "YU"), level.first("AMT", "YY")
    return (
        optional_amount(accepted, 2) if accepted else None,
        optional_amount(rejected, 2) if rejected else None,
    )
