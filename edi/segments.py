"""The body of one transaction set: built segment by segment by writers, walked by readers.

Besides the builder (`Body`) and the reader (`Cursor`), this holds the segment groups every
transaction shares, written and read the same way everywhere: names (NM1), addresses
(N3/N4), contacts (PER) and adjustments (CAS).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from edi.elements import (
    Value,
    amount,
    optional_amount,
    parse_date,
    parse_datetime,
    parse_period,
)
from edi.errors import X12Error, X12ValueError
from edi.models import Address, Adjustment, Contact, Party, Person
from edi.tokenizer import Segment


@dataclass(slots=True)
class PendingSegment:
    tag: str
    values: tuple[Value, ...]
    context: str  # where the writer was, for error messages ("claim PCN1, 2400 line 2")


@dataclass
class Body:
    """Segments between ST and SE, in order, with a counter for HL ids."""

    segments: list[PendingSegment] = field(default_factory=list)
    context: str = ""
    _hl: int = 0

    def add(self, tag: str, *values: Value) -> None:
        self.segments.append(PendingSegment(tag, values, self.context))

    def hl(self, parent: str, level: str, has_children: bool | None) -> str:
        """Open a hierarchical level; returns its HL01 id for the children's HL02."""
        self._hl += 1
        child = None if has_children is None else ("1" if has_children else "0")
        self.add("HL", str(self._hl), parent, level, child)
        return str(self._hl)

    def person(self, entity: str, p: Person) -> None:
        self.add(
            "NM1",
            entity,
            "1",
            p.last_name,
            p.first_name,
            p.middle_name,
            None,
            p.suffix,
            p.id_qualifier,
            p.identifier,
        )

    def party(self, entity: str, p: Party) -> None:
        self.add(
            "NM1",
            entity,
            "1" if p.is_person else "2",
            p.name,
            p.first_name if p.is_person else None,
            None,
            None,
            None,
            p.id_qualifier,
            p.identifier,
        )

    def address(self, a: Address) -> None:
        self.add("N3", a.line1, a.line2)
        self.add("N4", a.city, a.state, a.postal_code)

    def contact(self, function: str, c: Contact) -> None:
        numbers = [
            (qualifier, value)
            for qualifier, value in (
                ("TE", c.phone),
                ("EX", c.extension),
                ("EM", c.email),
                ("FX", c.fax),
                ("UR", c.url),
            )
            if value
        ]
        if len(numbers) > 3:
            raise X12ValueError(f"{self.context}: PER holds at most three numbers", field="PER")
        self.add("PER", function, c.name, *(v for pair in numbers for v in pair))

    def adjustments(self, adjustments: list[Adjustment]) -> None:
        """CAS segments: one per run of the same group code, at most six reasons each."""
        for group, run in runs(adjustments, lambda a: a.group):
            for chunk in chunks(run, 6):
                values: list[Value] = [group]
                for a in chunk:
                    values += [a.reason, a.amount, a.quantity]
                self.add("CAS", *values)


def runs[T, K](items: Iterable[T], key: Callable[[T], K]) -> list[tuple[K, list[T]]]:
    """Consecutive items with the same key, grouped (order kept)."""
    result: list[tuple[K, list[T]]] = []
    for item in items:
        k = key(item)
        if result and result[-1][0] == k:
            result[-1][1].append(item)
        else:
            result.append((k, [item]))
    return result


def chunks[T](items: list[T], size: int) -> list[list[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


class Cursor:
    """Reads a transaction's segments front to back, collecting warnings as it goes."""

    def __init__(self, segments: list[Segment], warnings: list[str]) -> None:
        self.segments = segments
        self.position = 0
        self.warnings = warnings

    def peek(self) -> Segment | None:
        return self.segments[self.position] if self.position < len(self.segments) else None

    def at(self, tag: str, *qualifiers: str) -> bool:
        """Is the next segment `tag`, with its first element one of `qualifiers` (if given)?"""
        seg = self.peek()
        return (
            seg is not None
            and seg.tag == tag
            and (not qualifiers or (seg.elements[0] if seg.elements else "") in qualifiers)
        )

    def take(self, tag: str, *qualifiers: str) -> Segment | None:
        if self.at(tag, *qualifiers):
            self.position += 1
            return self.segments[self.position - 1]
        return None

    def take_all(self, tag: str, *qualifiers: str) -> list[Segment]:
        taken = []
        while (seg := self.take(tag, *qualifiers)) is not None:
            taken.append(seg)
        return taken

    def expect(self, tag: str, *qualifiers: str, what: str) -> Segment:
        seg = self.take(tag, *qualifiers)
        if seg is not None:
            return seg
        wanted = tag + (f"*{'/'.join(qualifiers)}" if qualifiers else "")
        found = self.peek()
        if found is None:
            raise X12Error(f"{what} ({wanted}) is missing at the end of the transaction set")
        raise found.error(f"expected {what} ({wanted}), found {found.tag}")

    def next(self) -> Segment:
        seg = self.segments[self.position]
        self.position += 1
        return seg

    def warn(self, segment: Segment | None, message: str) -> None:
        self.warnings.append(f"{segment.where}: {message}" if segment else message)

    def date(self, segment: Segment, position: int, what: str) -> datetime.date | None:
        return date_or_warn(segment, position, what, self.warnings)


def date_or_warn(
    segment: Segment, position: int, what: str, warnings: list[str]
) -> datetime.date | None:
    """A CCYYMMDD element as a date; an invalid one is a warning and None."""
    text = segment.get(position)
    value = parse_date(text)
    if value is None and text:
        warnings.append(
            f"{segment.where}: {segment.tag}{position:02d} ({what}) {text!r} is not a date"
        )
    return value


def period_or_warn(
    dtp: Segment, warnings: list[str]
) -> tuple[datetime.date | None, datetime.date | None]:
    """DTP03 as (start, end) from D8 or RD8; an invalid one is a warning and (None, None)."""
    start, end = parse_period(dtp.get(3))
    if start is None:
        warnings.append(f"{dtp.where}: DTP03 {dtp.get(3)!r} is not a date or date range")
    return start, end


def read_person(nm1: Segment) -> Person:
    return Person(
        last_name=nm1.get(3),
        first_name=nm1.get(4),
        middle_name=nm1.get(5),
        suffix=nm1.get(7),
        id_qualifier=nm1.get(8),
        identifier=nm1.get(9),
    )


def read_party(nm1: Segment) -> Party:
    is_person = nm1.get(2) == "1"
    return Party(
        name=nm1.get(3),
        first_name=nm1.get(4) if is_person else "",
        is_person=is_person,
        id_qualifier=nm1.get(8),
        identifier=nm1.get(9),
    )


def read_address(n3: Segment | None, n4: Segment | None) -> Address | None:
    if n3 is None and n4 is None:
        return None
    return Address(
        line1=n3.get(1) if n3 else "",
        line2=n3.get(2) if n3 else "",
        city=n4.get(1) if n4 else "",
        state=n4.get(2) if n4 else "",
        postal_code=n4.get(3) if n4 else "",
    )


_CONTACT_FIELDS = {"TE": "phone", "EX": "extension", "EM": "email", "FX": "fax", "UR": "url"}


def read_contact(per: Segment) -> Contact:
    values = {
        _CONTACT_FIELDS[per.get(p)]: per.get(p + 1)
        for p in (3, 5, 7)
        if per.get(p) in _CONTACT_FIELDS
    }
    return Contact(name=per.get(2), **values)


def read_adjustments(cas: Segment) -> list[Adjustment]:
    """The (reason, amount, quantity) triples of one CAS segment."""
    group, count = cas.get(1), len(cas.elements)
    result = []
    for position in range(2, min(count, 19) + 1, 3):
        if not cas.elements[position - 1]:
            break
        result.append(
            Adjustment(
                group=group,
                reason=cas.elements[position - 1],
                amount=amount(cas, position + 1),
                quantity=optional_amount(cas, position + 2) if position + 2 <= count else None,
            )
        )
    return result


def read_created(bht: Segment) -> datetime.datetime:
    """BHT04/BHT05: when the originator created the transaction."""
    created = parse_datetime(bht.get(4), bht.get(5))
    if created is None:
        raise bht.error(f"BHT04 (creation date) {bht.get(4)!r} is not a date")
    return created


def required_date(
    segment: Segment | None, position: int, what: str, *, missing_at: Segment
) -> datetime.date:
    """A date the transaction cannot do without: missing or invalid is an error, reported at
    `segment`, or at `missing_at` when there is no segment at all."""
    value = parse_date(segment.get(position)) if segment else None
    if value is None:
        raise (segment or missing_at).error(f"{what} is missing or not a date")
    return value


@dataclass
class Level:
    """One HL and the segments up to the next HL."""

    hl: Segment
    segments: list[Segment]

    @property
    def id(self) -> str:
        return self.hl.get(1)

    @property
    def parent(self) -> str:
        return self.hl.get(2)

    @property
    def code(self) -> str:
        return self.hl.get(3)

    def first(self, tag: str, *qualifiers: str) -> Segment | None:
        for seg in self.segments:
            if seg.tag == tag and (not qualifiers or seg.get(1) in qualifiers):
                return seg
        return None


def split_levels(segments: list[Segment]) -> tuple[list[Segment], list[Level]]:
    """The segments before the first HL, and every HL level in order."""
    header: list[Segment] = []
    levels: list[Level] = []
    for seg in segments:
        if seg.tag == "HL":
            levels.append(Level(seg, []))
        elif levels:
            levels[-1].segments.append(seg)
        else:
            header.append(seg)
    return header, levels


def expect_level(level: Level, tag: str, qualifier: str, what: str) -> Segment:
    seg = level.first(tag, qualifier)
    if seg is None:
        raise level.hl.error(f"{what} ({tag}*{qualifier}) is missing from HL {level.id}")
    return seg
