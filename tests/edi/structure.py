"""Structural checks for the transactions pyx12 has no map for (270/271, 276/277 X212, 278).

They hold a written file against the implementation guide's skeleton: the ST/BHT header,
a consistent HL tree (ids in order, parents that exist, HL04 saying whether children
follow), and the required segments of each hierarchical level in their order.
"""

from __future__ import annotations

from edi.segments import split_levels
from edi.tokenizer import Segment, tokenize


def transaction_sets(text: str) -> list[list[Segment]]:
    """The segments of each ST..SE, both included."""
    result: list[list[Segment]] = []
    for seg in tokenize(text):
        if seg.tag == "ST":
            result.append([])
        if result and (seg.tag not in ("GE", "IEA")):
            result[-1].append(seg)
    return result


def check_header(segments: list[Segment], st: tuple[str, ...], bht: tuple[str, ...]) -> None:
    assert segments[0].tag == "ST" and segments[0].elements[:1] + segments[0].elements[2:] == st
    assert segments[1].tag == "BHT" and segments[1].elements[: len(bht)] == bht
    assert segments[-1].tag == "SE"


def check_hierarchy(
    segments: list[Segment], parents: dict[str, str | tuple[str, ...] | None]
) -> list[str]:
    """HL ids count up from 1, each parent exists and has a level `parents` allows for it,
    and HL04 (when sent) is 1 exactly when the level has children. Returns the level codes."""
    _, levels = split_levels(segments[1:-1])
    codes_by_id: dict[str, str] = {}
    for number, level in enumerate(levels, 1):
        assert level.id == str(number), f"HL01 {level.id} out of order"
        expected_parent = parents[level.code]
        if expected_parent is None:
            assert level.parent == ""
        else:
            allowed = (expected_parent,) if isinstance(expected_parent, str) else expected_parent
            assert codes_by_id[level.parent] in allowed, f"HL {level.id} under the wrong level"
        codes_by_id[level.id] = level.code
    for level in levels:
        has_children = any(other.parent == level.id for other in levels)
        if level.hl.get(4):
            assert level.hl.get(4) == ("1" if has_children else "0"), f"HL04 of HL {level.id}"
    return [level.code for level in levels]


def check_required(segments: list[Segment], required: dict[str, list[str]]) -> None:
    """Every level holds its required segments ("TAG" or "TAG*QUALIFIER"), in this order.
    `required` is keyed by level code, or by "code/HL04" where the two differ."""
    _, levels = split_levels(segments[1:-1])
    for level in levels:
        key = f"{level.code}/{level.hl.get(4)}"
        names = [f"{s.tag}*{s.get(1)}" for s in level.segments] + [s.tag for s in level.segments]
        position = 0
        for wanted in required.get(key, required.get(level.code, [])):
            found = [
                i
                for i, s in enumerate(level.segments)
                if i >= position and (s.tag == wanted or f"{s.tag}*{s.get(1)}" == wanted)
            ]
            assert found, f"HL {level.id} ({level.code}) lacks {wanted}: {names}"
            position = found[0] + 1
