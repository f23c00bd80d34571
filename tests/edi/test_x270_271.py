"""270/271 (005010X279A1): pyx12 has no map, so the files are held against the guide's
skeleton (tests/edi/structure.py) besides the round trips."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edi.errors import X12ValueError
from edi.x270 import read_270, write_270
from edi.x271 import read_271, write_271
from tests.edi import examples, strategies
from tests.edi.structure import check_header, check_hierarchy, check_required, transaction_sets

PARENTS = {"20": None, "21": "20", "22": "21", "23": "22"}


def test_it_reads_back_the_inquiry_it_wrote():
    parsed = read_270(write_270(examples.envelope(), [examples.eligibility_request()]))
    assert parsed.transactions == [examples.eligibility_request()]
    assert parsed.warnings == []


def test_it_reads_back_the_response_it_wrote():
    parsed = read_271(write_271(examples.envelope(), [examples.eligibility_response()]))
    assert parsed.transactions == [examples.eligibility_response()]
    assert parsed.warnings == []


def test_it_writes_the_inquiry_the_guide_requires():
    (segments,) = transaction_sets(write_270(examples.envelope(), [examples.eligibility_request()]))
    check_header(segments, ("270", "005010X279A1"), ("0022", "13", "270-0001"))
    assert check_hierarchy(segments, PARENTS) == ["20", "21", "22", "22", "23"]
    check_required(
        segments,
        {
            "20": ["NM1*PR"],
            "21": ["NM1*1P"],
            "22/0": ["TRN*1", "NM1*IL", "DTP*291", "EQ"],
            "22/1": ["NM1*IL"],
            "23": ["TRN*1", "NM1*03", "DTP*291", "EQ"],
        },
    )
    eq = [s for s in segments if s.tag == "EQ"]
    assert [s.repeats(1) for s in eq] == [["30"], ["98", "UC"]]


def test_it_writes_the_response_the_guide_requires():
    (segments,) = transaction_sets(
        write_271(examples.envelope(), [examples.eligibility_response()])
    )
    check_header(segments, ("271", "005010X279A1"), ("0022", "11", "271-0001"))
    check_hierarchy(segments, PARENTS)
    check_required(
        segments,
        {
            "20": ["NM1*PR"],
            "21": ["NM1*1P"],
            "22/0": ["TRN*2", "NM1*IL", "N3", "N4", "DMG", "DTP*346", "EB", "MSG"],
            "22/1": ["NM1*IL"],
            "23": ["TRN*2", "NM1*03", "AAA", "DMG"],
        },
    )


def test_it_refuses_an_inquiry_without_a_service_type():
    request = examples.eligibility_request()
    request.inquiries[0].service_types = ()
    with pytest.raises(X12ValueError, match="EQ01 needs at least one service type"):
        write_270(examples.envelope(), [request])


@given(
    last_name=strategies.words(60),
    member_id=strategies.ids(2, 80),
    trace=strategies.ids(1, 50),
    birth_date=st.one_of(st.none(), strategies.dates),
    service_types=st.lists(
        st.sampled_from(["1", "30", "33", "35", "47", "98", "UC"]), min_size=1, max_size=5
    ),
)
def test_it_reads_back_any_inquiry_it_writes(
    last_name, member_id, trace, birth_date, service_types
):
    request = copy.deepcopy(examples.eligibility_request())  # shares example members
    inquiry = request.inquiries[1]
    inquiry.subscriber.last_name, inquiry.subscriber.identifier = last_name, member_id
    inquiry.subscriber.birth_date = birth_date
    inquiry.trace_number, inquiry.service_types = trace, tuple(service_types)
    assert read_270(write_270(examples.envelope(), [request])).transactions == [request]
