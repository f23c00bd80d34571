"""276/277 (005010X212): pyx12 has no map, so the files are held against the guide's
skeleton (tests/edi/structure.py) besides the round trips."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest
from hypothesis import given

from edi.errors import X12Error
from edi.x276 import read_276, write_276
from edi.x277 import read_277, read_277ca, write_277
from tests.edi import examples, strategies
from tests.edi.structure import check_header, check_hierarchy, check_required, transaction_sets

PARENTS = {"20": None, "21": "20", "19": "21", "22": "19", "23": "22"}


def test_it_reads_back_the_request_it_wrote():
    parsed = read_276(write_276(examples.envelope(), [examples.status_request()]))
    assert parsed.transactions == [examples.status_request()]
    assert parsed.warnings == []


def test_it_reads_back_the_response_it_wrote():
    parsed = read_277(write_277(examples.envelope(), [examples.status_response()]))
    assert parsed.transactions == [examples.status_response()]
    assert parsed.warnings == []


def test_it_writes_the_request_the_guide_requires():
    (segments,) = transaction_sets(write_276(examples.envelope(), [examples.status_request()]))
    check_header(segments, ("276", "005010X212"), ("0010", "13", "276-0001"))
    assert check_hierarchy(segments, PARENTS) == ["20", "21", "19", "22", "22", "23"]
    check_required(
        segments,
        {
            "20": ["NM1*PR"],
            "21": ["NM1*41"],
            "19": ["NM1*1P"],
            "22/0": ["DMG", "NM1*IL", "TRN*1", "REF*1K", "REF*EJ", "AMT*T3", "DTP*472"],
            "22/1": ["NM1*IL"],
            "23": ["DMG", "NM1*QC", "TRN*1", "AMT*T3", "DTP*472", "SVC", "REF*FJ", "DTP*472"],
        },
    )


def test_it_writes_the_response_the_guide_requires():
    (segments,) = transaction_sets(write_277(examples.envelope(), [examples.status_response()]))
    check_header(
        segments, ("277", "005010X212"), ("0010", "08", "277-0001", "20261125", "0930", "DG")
    )
    assert check_hierarchy(segments, PARENTS) == ["20", "21", "19", "22", "22", "23", "19"]
    check_required(
        segments,
        {
            "20": ["NM1*PR"],
            "21": ["NM1*41"],
            "19/1": ["NM1*1P"],
            "19/0": ["NM1*1P", "TRN*1", "STC"],
            "22/0": ["NM1*IL", "TRN*2", "STC", "DTP*472"],
            "22/1": ["NM1*IL"],
            "23": ["NM1*QC", "TRN*2", "STC", "SVC", "STC", "DTP*472"],
        },
    )


def test_it_answers_with_the_trace_the_request_sent():
    request = read_276(write_276(examples.envelope(), [examples.status_request()])).transactions[0]
    response = read_277(write_277(examples.envelope(), [examples.status_response()])).transactions[
        0
    ]
    asked = [c.trace_number for p in request.providers for c in p.claims]
    answered = [c.trace_number for p in response.providers for c in p.claims]
    assert asked == answered == ["TRACE-1", "TRACE-2"]
    assert response.providers[0].claims[0].statuses[0].paid == Decimal("120.00")


def test_it_sends_a_277_to_its_own_reader():
    text = write_277(examples.envelope(), [examples.status_response()])
    with pytest.raises(X12Error, match="this 277 is 005010X212; read it with read_277"):
        read_277ca(text)


@given(
    last_name=strategies.words(60),
    member_id=strategies.ids(2, 80),
    trace=strategies.ids(1, 50),
    charge=strategies.money(),
)
def test_it_reads_back_any_request_it_writes(last_name, member_id, trace, charge):
    request = copy.deepcopy(examples.status_request())  # shares example members
    claim = request.providers[0].claims[0]
    claim.subscriber.last_name, claim.subscriber.identifier = last_name, member_id
    claim.trace_number, claim.charge = trace, charge
    assert read_276(write_276(examples.envelope(), [request])).transactions == [request]
