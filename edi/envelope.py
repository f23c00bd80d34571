"""ISA/GS/ST ... SE/GE/IEA: writing envelopes around transaction bodies, and reading them back.

Writing: the caller supplies ISA13 and GS06 (in `Envelope`); ST02 numbers the transaction
sets of the group 0001, 0002, ...; SE01, GE01 and IEA01 are counted here.

Reading refuses what cannot be trusted: a file without an ISA header, trailers whose counts
or control numbers do not match their headers, segments outside a transaction set, a
missing trailer (a truncated file), or transaction sets of another kind than the reader's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from edi.elements import Element, Value, check_value, parse_datetime, render_segment, time_text
from edi.errors import X12Error, X12ValueError
from edi.models import Envelope
from edi.segments import Body
from edi.tokenizer import DEFAULT_SEPARATORS, Segment, Separators, tokenize


@dataclass(frozen=True)
class Kind:
    """What an envelope says about the transaction sets inside it."""

    transaction_set: str  # ST01
    functional_id: str  # GS01
    version: str  # GS08 and ST03
    accepted_versions: tuple[str, ...] = ()  # others a reader takes without a warning
    send_st03: bool = True

    def accepts(self, version: str) -> bool:
        return version == self.version or version in self.accepted_versions


@dataclass
class TransactionSet:
    """One ST..SE read from a file: its envelope and the segments between ST and SE."""

    envelope: Envelope
    version: str  # GS08
    header: Segment  # ST
    segments: list[Segment]


_ISA_ID = Element("interchange id", 1, 15)


def write_interchange(
    envelope: Envelope,
    kind: Kind,
    bodies: Sequence[Body],
    *,
    separators: Separators = DEFAULT_SEPARATORS,
    line_break: str = "\n",
) -> str:
    """One interchange with one functional group holding `bodies` as transaction sets."""
    if not bodies:
        raise X12ValueError("an interchange needs at least one transaction set")
    if not separators.repetition:
        raise X12ValueError("5010 interchanges need a repetition separator (ISA11)")
    if not 1 <= envelope.control_number <= 999_999_999:
        raise X12ValueError(
            f"ISA13 (interchange control number) must be 1..999999999, "
            f"not {envelope.control_number}",
            field="ISA13",
        )
    if not 1 <= envelope.group_control_number <= 999_999_999:
        raise X12ValueError(
            f"GS06 (group control number) must be 1..999999999, "
            f"not {envelope.group_control_number}",
            field="GS06",
        )
    if envelope.usage not in ("P", "T"):
        raise X12ValueError(f"ISA15 (usage indicator) must be P or T, not {envelope.usage!r}")
    end = separators.segment + line_break
    out = [_isa(envelope, separators) + line_break]

    def seg(tag: str, *values: Value, context: str = "") -> None:
        out.append(render_segment(tag, values, separators, context)[:-1] + end)

    created = envelope.created
    seg(
        "GS",
        kind.functional_id,
        envelope.application_sender,
        envelope.application_receiver,
        created.date(),
        time_text(created),
        envelope.group_control_number,
        "X",
        kind.version,
    )
    for number, body in enumerate(bodies, 1):
        control = f"{number:04d}"
        seg("ST", kind.transaction_set, control, kind.version if kind.send_st03 else None)
        for pending in body.segments:
            seg(pending.tag, *pending.values, context=pending.context)
        seg("SE", len(body.segments) + 2, control)
    seg("GE", len(bodies), envelope.group_control_number)
    seg("IEA", 1, f"{envelope.control_number:09d}")
    return "".join(out)


def _isa(envelope: Envelope, separators: Separators) -> str:
    for ref, value in (("ISA06", envelope.sender_id), ("ISA08", envelope.receiver_id)):
        check_value(ref, _ISA_ID, value, separators)
    for ref, value in (
        ("ISA05", envelope.sender_qualifier),
        ("ISA07", envelope.receiver_qualifier),
    ):
        if len(value) != 2:
            raise X12ValueError(f"{ref} (interchange id qualifier) must be 2 characters", field=ref)
    created = envelope.created
    elements = [
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        envelope.sender_qualifier,
        envelope.sender_id.ljust(15),
        envelope.receiver_qualifier,
        envelope.receiver_id.ljust(15),
        created.strftime("%y%m%d"),
        created.strftime("%H%M"),
        separators.repetition,
        "00501",
        f"{envelope.control_number:09d}",
        "1" if envelope.acknowledgment_requested else "0",
        envelope.usage,
        separators.component,
    ]
    return separators.element.join(elements) + separators.segment


# --- reading ---------------------------------------------------------------------------------


def read_interchanges(
    text: str, kind: Kind, warnings: list[str]
) -> tuple[list[TransactionSet], list[Envelope]]:
    """Every transaction set of `kind` in `text`, after checking all envelopes."""
    transaction_sets, envelopes = check_envelopes(tokenize(text), kind, warnings)
    if not transaction_sets:
        raise X12Error(f"the interchange holds no {kind.transaction_set} transaction set")
    return transaction_sets, envelopes


def check_envelopes(
    segments: list[Segment], kind: Kind, warnings: list[str]
) -> tuple[list[TransactionSet], list[Envelope]]:
    transaction_sets: list[TransactionSet] = []
    envelopes: list[Envelope] = []
    isa: Segment | None = None
    gs: Segment | None = None
    st: Segment | None = None
    envelope: Envelope | None = None
    groups = sets = 0
    body: list[Segment] = []
    for seg in segments:
        tag = seg.tag
        if st is not None and tag != "SE":
            if tag in ("ISA", "GS", "ST", "GE", "IEA"):
                raise seg.error(f"transaction set {st.get(2)} (line {st.line}) has no SE trailer")
            body.append(seg)
        elif tag == "ISA":
            if isa is not None:
                raise seg.error(f"interchange {isa.get(13)} (line {isa.line}) has no IEA trailer")
            isa, groups = seg, 0
            _check_isa(seg, warnings)
        elif tag == "GS":
            if isa is None or gs is not None:
                raise seg.error("GS outside an interchange, or before the previous GE")
            gs, sets, groups = seg, 0, groups + 1
            envelope = _envelope(isa, gs, warnings)
            if envelope not in envelopes:
                envelopes.append(envelope)
            if not kind.accepts(seg.get(8)):
                warnings.append(
                    f"{seg.where}: GS08 is {seg.get(8)!r}; read with the {kind.version} rules"
                )
        elif tag == "ST":
            if gs is None:
                raise seg.error("ST outside a functional group (no GS)")
            if seg.get(1) != kind.transaction_set:
                raise seg.error(
                    f"this is a {seg.get(1)} transaction set, not a {kind.transaction_set}"
                )
            st, body, sets = seg, [], sets + 1
        elif tag == "SE":
            if st is None or envelope is None or gs is None:
                raise seg.error("SE without its ST")
            _match(seg, 2, st, 2, "transaction set control number")
            _count(seg, 1, len(body) + 2, "segments in the transaction set, ST and SE included")
            transaction_sets.append(TransactionSet(envelope, gs.get(8), st, body))
            st = None
        elif tag == "GE":
            if gs is None:
                raise seg.error("GE without its GS")
            _match(seg, 2, gs, 6, "group control number")
            _count(seg, 1, sets, "transaction sets in the group")
            gs = None
        elif tag == "IEA":
            if isa is None or gs is not None:
                raise seg.error("IEA without its ISA, or before the group's GE")
            _match(seg, 2, isa, 13, "interchange control number")
            _count(seg, 1, groups, "functional groups in the interchange")
            isa = None
        elif tag == "TA1" and isa is not None and gs is None:
            continue  # an interchange acknowledgment riding along
        else:
            raise seg.error("segment outside any transaction set (ST..SE)")
    if st is not None:
        raise st.error(f"transaction set {st.get(2)} has no SE trailer: the file is truncated")
    if gs is not None:
        raise gs.error(f"group {gs.get(6)} has no GE trailer: the file is truncated")
    if isa is not None:
        raise isa.error(f"interchange {isa.get(13)} has no IEA trailer: the file is truncated")
    return transaction_sets, envelopes


def _match(
    trailer: Segment, position: int, header: Segment, header_position: int, what: str
) -> None:
    mine, theirs = trailer.get(position), header.get(header_position)
    same = int(mine) == int(theirs) if mine.isdigit() and theirs.isdigit() else mine == theirs
    if not same:
        raise trailer.error(
            f"{trailer.tag}{position:02d} ({what}) is {mine!r} but {header.tag}"
            f"{header_position:02d} on line {header.line} is {theirs!r}; they must match"
        )


def _count(trailer: Segment, position: int, actual: int, what: str) -> None:
    stated = trailer.get(position)
    if not stated.isdigit() or int(stated) != actual:
        raise trailer.error(
            f"{trailer.tag}{position:02d} says {stated!r} {what}, but there are {actual}"
        )


def _check_isa(isa: Segment, warnings: list[str]) -> None:
    if len(isa.elements) != 16:
        raise isa.error(f"the ISA header has {len(isa.elements)} elements, not 16")
    if not isa.get(13).isdigit():
        raise isa.error(f"ISA13 (interchange control number) {isa.get(13)!r} is not a number")
    if isa.get(12) != "00501":
        warnings.append(f"{isa.where}: ISA12 version is {isa.get(12)!r}, not 00501")
    if any(len(isa.get(n)) != 15 for n in (6, 8)):
        warnings.append(f"{isa.where}: ISA06/ISA08 are not padded to 15 characters")


def _envelope(isa: Segment, gs: Segment, warnings: list[str]) -> Envelope:
    created = parse_datetime(gs.get(4), gs.get(5))
    if created is None:
        created = parse_datetime("20" + isa.get(9), isa.get(10))
        warnings.append(f"{gs.where}: GS04 {gs.get(4)!r} is not a date; using the ISA date")
    if created is None:
        raise gs.error("neither GS04 nor ISA09 is a valid date")
    if not gs.get(6).isdigit():
        raise gs.error(f"GS06 (group control number) {gs.get(6)!r} is not a number")
    time = gs.get(5)
    if len(time) >= 6 and time[4:6].isdigit() and int(time[4:6]) > 59:
        warnings.append(f"{gs.where}: GS05 {time!r} is not a valid time; seconds dropped")
    return Envelope(
        sender_qualifier=isa.get(5),
        sender_id=isa.get(6).rstrip(),
        receiver_qualifier=isa.get(7),
        receiver_id=isa.get(8).rstrip(),
        control_number=int(isa.get(13)),
        acknowledgment_requested=isa.get(14) == "1",
        usage=isa.get(15),
        application_sender=gs.get(2),
        application_receiver=gs.get(3),
        group_control_number=int(gs.get(6)),
        created=created,
    )
