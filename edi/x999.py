"""999 implementation acknowledgment (005010X231A1): the verdict on each received group.

One 999 transaction set answers one functional group (AK1), with one AK2..IK5 per
transaction set of that group, the segments (IK3) and elements (IK4) in error, and the
group's verdict and counts (AK9).
"""

from __future__ import annotations

from collections.abc import Sequence

from edi.envelope import Kind, TransactionSet, read_interchanges, write_interchange
from edi.errors import X12ValueError
from edi.models import (
    ElementNote,
    Envelope,
    ImplementationAck,
    Parsed,
    SegmentNote,
    TransactionAck,
)
from edi.segments import Body, Cursor
from edi.tokenizer import DEFAULT_SEPARATORS, Segment, Separators

KIND = Kind("999", "FA", "005010X231A1", accepted_versions=("005010X231",))


def write_999(
    envelope: Envelope,
    acks: Sequence[ImplementationAck],
    *,
    separators: Separators = DEFAULT_SEPARATORS,
    line_break: str = "\n",
) -> str:
    bodies = [_body(ack) for ack in acks]
    return write_interchange(envelope, KIND, bodies, separators=separators, line_break=line_break)


def read_999(text: str) -> Parsed[ImplementationAck]:
    warnings: list[str] = []
    transaction_sets, envelopes = read_interchanges(text, KIND, warnings)
    return Parsed([_ack(ts, warnings) for ts in transaction_sets], envelopes, warnings)


def _body(ack: ImplementationAck) -> Body:
    body = Body(context=f"999 for group {ack.group_control_number}")
    if len(ack.error_codes) > 5:
        raise X12ValueError("AK9 carries at most five group error codes", field="AK905")
    body.add("AK1", ack.functional_id, ack.group_control_number, ack.version)
    for t in ack.transactions:
        body.context = f"999 AK2 {t.transaction_set} {t.control_number}"
        if len(t.error_codes) > 5:
            raise X12ValueError("IK5 carries at most five error codes", field="IK502")
        body.add("AK2", t.transaction_set, t.control_number, t.version)
        for s in t.segment_errors:
            body.add("IK3", s.segment_id, s.position, s.loop_id, s.error_code)
            for e in s.elements:
                position = (str(e.position),) + ((str(e.component),) if e.component else ())
                body.add("IK4", position, e.reference_number, e.error_code, e.bad_value)
        body.add("IK5", t.status, *t.error_codes)
    body.context = f"999 for group {ack.group_control_number}"
    body.add(
        "AK9",
        ack.status,
        ack.transaction_count,
        ack.received_count,
        ack.accepted_count,
        *ack.error_codes,
    )
    return body


def _ack(ts: TransactionSet, warnings: list[str]) -> ImplementationAck:
    cur = Cursor(ts.segments, warnings)
    ak1 = cur.expect("AK1", what="functional group response header")
    transactions = []
    while cur.at("AK2"):
        transactions.append(_transaction(cur))
    ak9 = cur.expect("AK9", what="functional group response trailer")
    for extra in cur.segments[cur.position :]:
        cur.warn(extra, "unexpected segment after AK9; skipped")
    return ImplementationAck(
        functional_id=ak1.get(1),
        group_control_number=_number(ak1, 2),
        version=ak1.get(3),
        status=ak9.get(1),
        transaction_count=_number(ak9, 2),
        received_count=_number(ak9, 3),
        accepted_count=_number(ak9, 4),
        transactions=transactions,
        error_codes=tuple(e for e in ak9.elements[4:9] if e),
    )


def _transaction(cur: Cursor) -> TransactionAck:
    ak2 = cur.next()
    notes: list[SegmentNote] = []
    while (seg := cur.peek()) is not None and seg.tag in ("IK3", "IK4", "CTX"):
        cur.next()
        if seg.tag == "IK3":
            notes.append(
                SegmentNote(
                    segment_id=seg.get(1),
                    position=_number(seg, 2),
                    loop_id=seg.get(3),
                    error_code=seg.get(4),
                )
            )
        elif seg.tag == "IK4" and notes:
            component = seg.component(1, 2)
            notes[-1].elements.append(
                ElementNote(
                    position=int(seg.component(1, 1) or 0),
                    component=int(component) if component.isdigit() else None,
                    reference_number=seg.get(2),
                    error_code=seg.get(3),
                    bad_value=seg.get(4),
                )
            )
    ik5 = cur.expect("IK5", what="transaction set response trailer")
    return TransactionAck(
        transaction_set=ak2.get(1),
        control_number=ak2.get(2),
        version=ak2.get(3),
        status=ik5.get(1),
        error_codes=tuple(e for e in ik5.elements[1:6] if e),
        segment_errors=notes,
    )


def _number(seg: Segment, position: int) -> int:
    text = seg.get(position)
    if not text.isdigit():
        raise seg.error(f"{seg.tag}{position:02d} {text!r} is not a number")
    return int(text)
