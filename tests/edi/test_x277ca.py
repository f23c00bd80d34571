from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings

from edi.errors import X12Error, X12ValueError
from edi.x277 import read_277, read_277ca, write_277ca
from tests.edi import examples, strategies
from tests.edi.pyx12_check import validate_with_pyx12


def test_it_writes_claim_acknowledgments_that_pass_pyx12():
    assert (
        validate_with_pyx12(write_277ca(examples.envelope(), [examples.claim_acknowledgment()]))
        == []
    )


def test_it_reads_back_what_it_wrote():
    ack = examples.claim_acknowledgment()
    parsed = read_277ca(write_277ca(examples.envelope(), [ack]))
    assert parsed.transactions == [ack]
    assert parsed.warnings == []


def test_it_ties_each_claim_to_its_patient_control_number_and_verdict():
    ack = read_277ca(
        write_277ca(examples.envelope(), [examples.claim_acknowledgment()])
    ).transactions[0]
    verdicts = {
        c.patient_control_number: (c.statuses[0].category, c.statuses[0].action_code)
        for c in ack.providers[0].claims
    }
    assert verdicts == {"PCN-1001": ("A2", "WQ"), "PCN-1003": ("A7", "U")}
    assert ack.batch_trace == "BATCH-20261125-01"


def test_it_leaves_the_provider_status_date_out():
    text = write_277ca(examples.envelope(), [examples.claim_acknowledgment()])
    assert "TRN*1*PRV-1~\nSTC*A1:20**WQ*370~" in text


def test_it_refuses_a_message_above_the_claim_level():
    ack = examples.claim_acknowledgment()
    ack.receiver_statuses[0] = dataclasses.replace(ack.receiver_statuses[0], message="HELLO")
    with pytest.raises(X12ValueError, match=r"STC12 \(message\) is only sent for a claim"):
        write_277ca(examples.envelope(), [ack])


def test_it_sends_a_277ca_to_its_own_reader():
    text = write_277ca(examples.envelope(), [examples.claim_acknowledgment()])
    with pytest.raises(X12Error, match="this 277 is 005010X214; read it with read_277ca"):
        read_277(text)


@given(envelope=strategies.envelopes, ack=strategies.claim_acknowledgments())
def test_it_reads_back_any_acknowledgment_it_writes(envelope, ack):
    assert read_277ca(write_277ca(envelope, [ack])).transactions == [ack]


@settings(max_examples=20)
@given(envelope=strategies.envelopes, ack=strategies.claim_acknowledgments())
def test_it_writes_acknowledgments_that_pass_pyx12_for_any_input(envelope, ack):
    assert validate_with_pyx12(write_277ca(envelope, [ack])) == []
