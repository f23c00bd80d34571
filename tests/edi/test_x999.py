from __future__ import annotations

import pytest
from hypothesis import given, settings

from edi.errors import X12ValueError
from edi.x999 import read_999, write_999
from tests.edi import examples, strategies
from tests.edi.pyx12_check import validate_with_pyx12


def test_it_writes_acknowledgments_that_pass_pyx12():
    text = write_999(
        examples.envelope(),
        [examples.implementation_ack(), examples.implementation_ack(rejected=True)],
    )
    assert validate_with_pyx12(text) == []


def test_it_reads_back_what_it_wrote():
    acks = [examples.implementation_ack(), examples.implementation_ack(rejected=True)]
    parsed = read_999(write_999(examples.envelope(), acks))
    assert parsed.transactions == acks
    assert parsed.warnings == []


def test_it_writes_the_errors_of_a_rejected_transaction_set():
    text = write_999(examples.envelope(), [examples.implementation_ack(rejected=True)])
    assert (
        "AK1*HC*905*005010X222A1~\nAK2*837*0001*005010X222A1~\nIK3*NM1*17*2010*8~\n"
        "IK4*9*67*7*123~\nIK4*3**1~\nIK3*CLM*25**8~\nIK5*R*5~\nAK9*R*1*1*0~\n"
    ) in text


def test_it_refuses_more_than_five_error_codes():
    ack = examples.implementation_ack(rejected=True)
    ack.transactions[0].error_codes = ("1", "2", "3", "4", "5", "6")
    with pytest.raises(X12ValueError, match="IK5 carries at most five error codes"):
        write_999(examples.envelope(), [ack])


@given(envelope=strategies.envelopes, ack=strategies.implementation_acks())
def test_it_reads_back_any_acknowledgment_it_writes(envelope, ack):
    assert read_999(write_999(envelope, [ack])).transactions == [ack]


@settings(max_examples=20)
@given(envelope=strategies.envelopes, ack=strategies.implementation_acks())
def test_it_writes_acknowledgments_that_pass_pyx12_for_any_input(envelope, ack):
    assert validate_with_pyx12(write_999(envelope, [ack])) == []
