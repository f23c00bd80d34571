"""Split an X12 interchange into segments, with the separators its ISA header declares.

The ISA segment is fixed width (106 characters), so its fourth character is the element
separator, ISA11 (character 82) the repetition separator, ISA16 (character 104) the component
separator and the character after it (105) the segment terminator. Real files bend this:
line breaks after terminators, files wrapped at 80 columns, unpadded ISA fields, newline used
as the terminator. The tokenizer copes with all of these by locating ISA16 by counting
element separators instead of trusting the column positions, and by dropping line breaks
inside segments (X12 data never contains them).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from edi.errors import X12Error

_ISA_ELEMENTS = 16
_NEWLINES = "\r\n"
_BLANKS = " \t\r\n\ufeff"


@dataclass(frozen=True, slots=True)
class Separators:
    """The four delimiters of an interchange; `repetition` is "" when there is none (4010)."""

    element: str = "*"
    component: str = ":"
    repetition: str = "^"
    segment: str = "~"

    def __post_init__(self) -> None:
        chars = [self.element, self.component, self.segment] + (
            [self.repetition] if self.repetition else []
        )
        if any(len(c) != 1 for c in chars):
            raise ValueError(f"separators must be single characters: {chars!r}")
        if len(set(chars)) != len(chars):
            raise ValueError(f"separators must differ from each other: {chars!r}")
        if any(c.isalnum() or c == " " for c in chars):
            raise ValueError(f"separators cannot be letters, digits or spaces: {chars!r}")

    def named(self) -> dict[str, str]:
        """Separator characters by name, for error messages about values that contain them."""
        names = {
            self.element: "element separator",
            self.component: "component separator",
            self.segment: "segment terminator",
        }
        if self.repetition:
            names[self.repetition] = "repetition separator"
        return names


DEFAULT_SEPARATORS = Separators()


@dataclass(slots=True)
class Segment:
    """One segment: `elements[0]` is element 01. `index` and `line` are 1-based, file-wide.

    Not frozen only because frozen dataclasses are four times slower to build, which the
    reader benchmark feels; treat segments as read-only.
    """

    tag: str
    elements: tuple[str, ...]
    index: int = 0
    line: int = 0
    separators: Separators = field(default=DEFAULT_SEPARATORS, compare=False, repr=False)

    def get(self, position: int) -> str:
        """Element at a 1-based position, "" when the segment stops before it."""
        elements = self.elements
        return elements[position - 1] if position <= len(elements) else ""

    def components(self, position: int) -> list[str]:
        value = self.get(position)
        return value.split(self.separators.component) if value else []

    def component(self, position: int, sub: int) -> str:
        parts = self.components(position)
        return parts[sub - 1] if sub <= len(parts) else ""

    def repeats(self, position: int) -> list[str]:
        value = self.get(position)
        if not value:
            return []
        return value.split(self.separators.repetition) if self.separators.repetition else [value]

    @property
    def where(self) -> str:
        return f"line {self.line}, segment {self.index} ({self.tag})"

    def error(self, message: str) -> X12Error:
        return X12Error(f"{self.tag}: {message}", line=self.line, segment_index=self.index)


def tokenize(text: str) -> list[Segment]:
    """All segments of `text`, which must start (after blanks) with an ISA header."""
    return list(iter_segments(text))


def iter_segments(text: str) -> Iterator[Segment]:
    start = _isa_start(text)
    separators = read_separators(text[start:])
    terminator = separators.segment
    element = separators.element
    newline_terminated = terminator == "\n"
    if newline_terminated:
        text = text.replace("\r", "")
        start = _isa_start(text)
    line = text.count("\n", 0, start) + 1
    index = 0
    known_tags: set[str] = set()
    for raw in text[start:].split(terminator):
        if not raw:
            line += newline_terminated
            continue
        body = raw
        if raw[0] in _BLANKS:  # usually the line break after the previous terminator
            body = raw.lstrip()
            line += raw.count("\n", 0, len(raw) - len(body))
            if not body:
                line += newline_terminated
                continue
        seg_line = line
        if newline_terminated:
            line += 1
        elif "\n" in body or "\r" in body:  # a line-wrapped file
            line += body.count("\n")
            body = body.replace("\r", "").replace("\n", "")
        index += 1
        parts = body.split(element)
        tag = parts[0]
        if tag not in known_tags:
            if not (2 <= len(tag) <= 3 and tag.isalnum() and tag.isupper()):
                raise X12Error(
                    f"{tag[:20]!r} is not a segment identifier; is the segment terminator "
                    f"{terminator!r} declared in the ISA header right?",
                    line=seg_line,
                    segment_index=index,
                )
            known_tags.add(tag)
        yield Segment(tag, tuple(parts[1:]), index, seg_line, separators)


def read_separators(text: str) -> Separators:
    """Separators declared by the ISA header at the start of `text`."""
    if not text.startswith("ISA") or len(text) < 4:
        raise _no_isa(text)
    element = text[3]
    fields = _isa_fields(text, element)
    if any(c in f for f in fields[:_ISA_ELEMENTS] for c in _NEWLINES) or (
        fields[_ISA_ELEMENTS][:1] in _NEWLINES and fields[_ISA_ELEMENTS][:1] != ""
    ):
        # Wrapped at a fixed width: the ISA itself contains line breaks.
        unwrapped = text[:400].replace("\r", "").replace("\n", "")
        fields = _isa_fields(unwrapped, element)
    tail = fields[_ISA_ELEMENTS]
    if len(tail) < 2:
        raise X12Error("the ISA header is cut short: no segment terminator after ISA16", line=1)
    component, terminator = tail[0], tail[1]
    if terminator in _NEWLINES:
        # Either newline is the terminator, or a fixed-width wrap fell between ISA16 and
        # the terminator: segments start with a letter, so a punctuation mark after the
        # break is the real terminator.
        after = tail[1:].lstrip("\r\n")
        terminator = after[0] if after and not after[0].isalnum() else "\n"
    isa11, isa12 = fields[11], fields[12]
    # Before 5010, ISA11 was a standards identifier ("U"), not a separator.
    repetition = isa11 if isa12 >= "00501" and len(isa11) == 1 and not isa11.isalnum() else ""
    try:
        return Separators(element, component, repetition, terminator)
    except ValueError as exc:
        raise X12Error(f"the ISA header declares unusable separators: {exc}", line=1) from exc


def _isa_fields(text: str, element: str) -> list[str]:
    fields = text[:400].split(element, _ISA_ELEMENTS)
    if len(fields) <= _ISA_ELEMENTS:
        raise X12Error(
            f"the ISA header has {len(fields) - 1} elements separated by {element!r}, not 16",
            line=1,
            segment_index=1,
        )
    return fields


def _isa_start(text: str) -> int:
    stripped = text.lstrip("\ufeff \t\r\n")
    start = len(text) - len(stripped)
    if not stripped.startswith("ISA"):
        raise _no_isa(stripped)
    return start


def _no_isa(text: str) -> X12Error:
    head = text.lstrip("\ufeff \t\r\n")[:40]
    found = f"it starts with {head!r}" if head else "it is empty"
    return X12Error(
        "No ISA interchange header: this is not an X12 interchange, or its envelope was "
        f"stripped ({found})"
    )
