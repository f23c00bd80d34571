from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edi.errors import X12Error
from edi.tokenizer import Separators, read_separators, tokenize

FIXTURES = Path(__file__).parent.parent / "fixtures" / "x12"


def _fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def _shape(text: str) -> list[tuple[str, tuple[str, ...]]]:
    return [(s.tag, s.elements) for s in tokenize(text)]


def _isa(separators: Separators) -> str:
    e = separators.element
    fields = [
        "ISA", "00", " " * 10, "00", " " * 10, "ZZ", "SENDER".ljust(15), "ZZ",
        "RECEIVER".ljust(15), "261125", "0930", separators.repetition or "U", "00501",
        "000000001", "0", "P", separators.component,
    ]  # fmt: skip
    return e.join(fields) + separators.segment


def test_it_reads_the_separators_from_the_fixed_width_isa():
    text = _fixture("999/imsweb-999-rejected.999")
    assert read_separators(text) == Separators("*", "|", "^", "~")
    assert len(text.split("~")[0]) == 105


def test_it_splits_elements_and_components_with_the_declared_separators():
    segments = tokenize(_fixture("835/e835p-united_healthcare_legacy_sample.835"))
    svc = next(s for s in segments if s.tag == "SVC")
    assert svc.get(1) == "HC>B4152"
    assert svc.components(1) == ["HC", "B4152"]
    assert svc.get(2) == "156.42"
    assert svc.get(40) == ""


def test_it_numbers_segments_and_lines_across_the_file():
    segments = tokenize(_fixture("835/lfh-managed-care.835"))
    clp = next(s for s in segments if s.tag == "CLP")
    assert (clp.index, clp.line) == (13, 13)
    one_line = tokenize(_fixture("835/e835p-emedny_sample.835"))
    assert {s.line for s in one_line} == {1}
    assert [s.index for s in one_line] == list(range(1, len(one_line) + 1))


def test_it_gives_the_same_segments_with_or_without_line_breaks():
    text = _fixture("835/lfh-medicare-part-a.835")
    assert _shape(text) == _shape(text.replace("~\n", "~"))
    assert _shape(text) == _shape(text.replace("~\n", "~\r\n"))


def test_it_reads_a_file_wrapped_at_80_columns():
    flat = _fixture("835/e835p-emedny_sample.835")
    wrapped = "\n".join(flat[i : i + 80] for i in range(0, len(flat), 80))
    assert _shape(wrapped) == _shape(flat)


def test_it_reads_newline_as_the_segment_terminator():
    text = re.sub("~\n?", "\n", _fixture("835/lfh-managed-care.835"))
    assert read_separators(text).segment == "\n"
    assert _shape(text) == _shape(_fixture("835/lfh-managed-care.835"))


def test_it_takes_a_4010_style_isa11_as_no_repetition_separator():
    text = _fixture("837p/imsweb-x12_valid.837")
    assert read_separators(text).repetition == ""
    n3 = next(s for s in tokenize(text) if s.tag == "N3")
    assert n3.repeats(1) == ["3901 CALVERTON BLVD"]


def test_it_refuses_a_file_without_an_isa_header():
    with pytest.raises(X12Error) as error:
        tokenize(_fixture("835/e835p-blue_cross_nc_sample.835"))
    assert str(error.value).startswith("No ISA interchange header: this is not an X12 interchange")
    assert "'ST*835*1234~BPR*I*1922.86" in str(error.value)


def test_it_refuses_an_empty_file():
    with pytest.raises(X12Error, match=r"No ISA interchange header.*it is empty"):
        tokenize("  \n")


def test_it_reports_the_line_and_segment_of_a_garbled_segment():
    text = _fixture("835/lfh-managed-care.835").replace("N3*10 SOUTH AVENUE", "n3 10 SOUTH AVENUE")
    with pytest.raises(X12Error) as error:
        tokenize(text)
    assert (error.value.line, error.value.segment_index) == (8, 8)
    assert str(error.value).startswith("line 8, segment 8: 'n3 10 SOUTH AVENUE' is not a segment")


def test_it_refuses_an_isa_cut_short():
    with pytest.raises(X12Error, match="ISA header has 6 elements"):
        tokenize("ISA*00*          *00*   *ZZ*A~")


def test_it_refuses_separators_that_collide():
    isa = _isa(Separators()).replace("*:~", "*~~")
    with pytest.raises(X12Error, match="unusable separators"):
        read_separators(isa)


# --- property: any separators, any line breaks, the same segments ----------------------------

_PUNCTUATION = "*:^~|!>{}+`@#$%&<?=_"
_TAGS = ["GS", "ST", "BPR", "TRN", "N1", "N3", "CLP", "CAS", "NM1", "SVC", "DTM", "SE", "GE", "IEA"]


@st.composite
def _separators(draw: st.DrawFn) -> Separators:
    chars = draw(st.lists(st.sampled_from(_PUNCTUATION), min_size=4, max_size=4, unique=True))
    return Separators(*chars)


@st.composite
def _segments(draw: st.DrawFn, separators: Separators) -> list[tuple[str, tuple[str, ...]]]:
    forbidden = set(separators.named())
    alphabet = "".join(
        c
        for c in string.ascii_uppercase + string.digits + " .-/" + _PUNCTUATION
        if c not in forbidden
    )
    value = st.text(alphabet, max_size=12).map(str.strip)
    segments = draw(
        st.lists(
            st.tuples(st.sampled_from(_TAGS), st.lists(value, min_size=1, max_size=8).map(tuple)),
            min_size=1,
            max_size=20,
        )
    )
    return [(tag, elements) for tag, elements in segments]


@given(data=st.data(), separators=_separators(), line_break=st.sampled_from(["", "\n", "\r\n"]))
def test_it_gives_the_same_segments_for_any_separators_and_line_breaks(
    data, separators, line_break
):
    segments = data.draw(_segments(separators))
    body = "".join(
        separators.element.join((tag, *elements)) + separators.segment + line_break
        for tag, elements in segments
    )
    text = _isa(separators) + line_break + body
    expected = [("ISA", tuple(_isa(separators)[4:-1].split(separators.element))), *segments]
    assert _shape(text) == expected
    width = data.draw(st.integers(min_value=30, max_value=120))
    wrapped = "\n".join(text[i : i + width] for i in range(0, len(text), width))
    assert _shape(wrapped) == expected


@given(data=st.data())
def test_it_gives_the_same_segments_with_newline_as_the_terminator(data):
    separators = Separators("*", ":", "^", "\n")
    segments = data.draw(_segments(Separators("*", ":", "^", "~")))
    segments = [(tag, tuple(e.replace("~", "") for e in elements)) for tag, elements in segments]
    crlf = data.draw(st.booleans())
    end = "\r\n" if crlf else "\n"
    text = _isa(separators).replace("\n", end) + "".join(
        "*".join((tag, *elements)) + end for tag, elements in segments
    )
    assert _shape(text)[1:] == segments


@pytest.mark.parametrize("width", [103, 104, 105, 106])
def test_it_reads_the_separators_when_a_wrap_falls_at_the_end_of_the_isa(width):
    # Hypothesis found these: the wrap lands just before ISA16 or before the terminator.
    separators = Separators("*", ":", "^", "~")
    text = _isa(separators) + "GS*HC*A*B~ST*837*0001~"
    wrapped = "\n".join(text[i : i + width] for i in range(0, len(text), width))
    assert [tag for tag, _ in _shape(wrapped)] == ["ISA", "GS", "ST"]
