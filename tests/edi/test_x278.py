"""278 (005010X217): pyx12 has no map, so the files are held against the guide's skeleton
(tests/edi/structure.py) besides the round trips."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given

from edi.errors import X12ValueError
from edi.models import Member
from edi.x278 import read_278, write_278_request, write_278_response
from tests.edi import examples, strategies
from tests.edi.structure import check_header, check_hierarchy, check_required, transaction_sets

PARENTS = {"20": None, "21": "20", "22": "21", "23": "22", "EV": ("22", "23"), "SS": "EV"}


def test_it_reads_back_the_request_it_wrote():
    parsed = read_278(write_278_request(examples.envelope(), [examples.review_request()]))
    assert parsed.transactions == [examples.review_request()]
    assert parsed.transactions[0].decision is None


def test_it_reads_back_the_response_it_wrote():
    parsed = read_278(write_278_response(examples.envelope(), [examples.review_response()]))
    assert parsed.transactions == [examples.review_response()]
    decision = parsed.transactions[0].decision
    assert decision is not None and decision.certification_number == "AUTH778899"


def test_it_writes_the_request_the_guide_requires():
    (segments,) = transaction_sets(
        write_278_request(examples.envelope(), [examples.review_request()])
    )
    check_header(segments, ("278", "005010X217"), ("0007", "13", "278-0001"))
    assert check_hierarchy(segments, PARENTS) == ["20", "21", "22", "EV", "SS", "SS"]
    check_required(
        segments,
        {
            "20": ["NM1*X3"],
            "21": ["NM1*1P"],
            "22": ["NM1*IL", "DMG"],
            "EV": ["TRN*1", "UM*HS", "DTP*AAH", "HI", "NM1*SJ"],
            "SS": ["UM*HS", "SV1"],
        },
    )


def test_it_writes_the_response_the_guide_requires():
    (segments,) = transaction_sets(
        write_278_response(examples.envelope(), [examples.review_response()])
    )
    check_header(segments, ("278", "005010X217"), ("0007", "11", "278-0002"))
    check_hierarchy(segments, PARENTS)
    check_required(
        segments,
        {"EV": ["TRN*2", "UM*HS", "HCR", "HI"], "SS": ["UM*HS", "HCR", "SV1"]},
    )


def test_it_puts_a_dependent_patient_between_subscriber_and_event():
    review = examples.review_request()
    review.dependent = Member(last_name="DOE", first_name="JANE", gender="F")
    text = write_278_request(examples.envelope(), [review])
    (segments,) = transaction_sets(text)
    assert check_hierarchy(segments, PARENTS) == ["20", "21", "22", "23", "EV", "SS", "SS"]
    assert read_278(text).transactions == [review]


def test_it_refuses_a_response_without_decisions():
    review = examples.review_response()
    review.services[1].decision = None
    with pytest.raises(X12ValueError, match="a response decides every service"):
        write_278_response(examples.envelope(), [review])
    with pytest.raises(X12ValueError, match="a 278 response carries the decision"):
        write_278_request(examples.envelope(), [examples.review_response()])


@given(
    last_name=strategies.words(60),
    member_id=strategies.ids(2, 80),
    diagnoses=strategies.st.lists(strategies.diagnosis_codes, min_size=1, max_size=12),
    charge=strategies.money(),
)
def test_it_reads_back_any_request_it_writes(last_name, member_id, diagnoses, charge):
    review = copy.deepcopy(examples.review_request())  # shares example members
    review.subscriber.last_name, review.subscriber.identifier = last_name, member_id
    review.diagnoses, review.services[0].charge = diagnoses, charge
    assert read_278(write_278_request(examples.envelope(), [review])).transactions == [review]
