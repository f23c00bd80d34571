from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from hypothesis import given, settings

from edi.errors import X12ValueError
from edi.tokenizer import tokenize
from edi.x837p import read_837p, write_837p
from tests.edi import examples, strategies
from tests.edi.pyx12_check import validate_with_pyx12


def _write(*claims) -> str:
    batch = examples.claims_batch()
    if claims:
        batch.claims = list(claims)
    return write_837p(examples.envelope(), [batch])


def test_it_writes_claims_that_pass_pyx12():
    assert validate_with_pyx12(_write()) == []


def test_it_reads_back_what_it_wrote():
    parsed = read_837p(_write())
    assert parsed.transactions == [examples.claims_batch()]
    assert parsed.envelopes == [examples.envelope()]
    assert parsed.warnings == []


def test_it_routes_the_claim_to_the_payer_id_it_is_given():
    segments = tokenize(_write(examples.office_visit()))
    payer = next(s for s in segments if s.tag == "NM1" and s.get(1) == "PR")
    assert (payer.get(3), payer.get(8), payer.get(9)) == ("ACME HEALTH PLAN", "PI", "ACME1")


def test_it_nests_claims_under_provider_subscriber_and_patient_levels():
    segments = tokenize(_write())
    levels = [(s.get(1), s.get(2), s.get(3), s.get(4)) for s in segments if s.tag == "HL"]
    assert levels == [
        ("1", "", "20", "1"),  # the practice
        ("2", "1", "22", "1"),  # John, with his own claim and a child below
        ("3", "2", "23", "0"),  # Jane
        ("4", "1", "22", "0"),  # John again, as a Medicare subscriber (secondary claim)
    ]
    clm = [s.get(1) for s in segments if s.tag == "CLM"]
    assert clm == ["PCN-1001", "PCN-1003", "PCN-1002"]


def test_it_writes_the_claim_line_by_line():
    text = _write(examples.office_visit())
    assert "CLM*PCN-1001*185***11:B:1*Y*A*Y*Y~\nHI*ABK:J0690*ABF:R509~\n" in text
    assert (
        "LX*1~\nSV1*HC:99213:25*150*UN*1***1:2~\nDTP*472*D8*20261103~\nREF*6R*PCN-1001-1~" in text
    )


def test_it_writes_the_other_payer_loops_of_a_secondary_claim():
    text = _write(examples.secondary_claim())
    assert (
        "SBR*P*18*GRP-7788******CI~\nCAS*CO*45*45~\nCAS*PR*2*20~\nAMT*D*120~\nAMT*EAF*20~\n"
        "OI***Y***Y~\nNM1*IL*1*DOE*JOHN****MI*XYZ123456789~\n"
        "NM1*PR*2*ACME HEALTH PLAN*****PI*ACME1~\nDTP*573*D8*20261120~\nREF*F8*ACME-CLAIM-555~"
    ) in text
    assert (
        "SVD*ACME1*100*HC:99213:25**1~\nCAS*CO*45*30~\nCAS*PR*2*20~\nDTP*573*D8*20261120~" in text
    )


def test_it_opens_a_new_subscriber_level_for_a_self_claim_after_a_dependent_claim():
    child = examples.office_visit("PCN-2", patient=examples.CHILD)
    claims = [examples.office_visit("PCN-1"), child, examples.office_visit("PCN-3")]
    text = _write(*claims)
    levels = [s.get(3) for s in tokenize(text) if s.tag == "HL"]
    assert levels == ["20", "22", "23", "22"]
    assert read_837p(text).transactions[0].claims == claims


def test_it_refuses_a_billing_npi_with_a_wrong_check_digit():
    claim = examples.office_visit()
    claim.billing_provider = dataclasses.replace(examples.PRACTICE, npi="1234567890")
    with pytest.raises(X12ValueError) as error:
        _write(claim)
    assert "NM109 (billing provider NPI) '1234567890' is not a valid NPI" in str(error.value)


def test_it_refuses_a_rendering_npi_with_a_wrong_check_digit():
    claim = examples.office_visit()
    claim.rendering_provider = dataclasses.replace(examples.DOCTOR, npi="1003000127")
    with pytest.raises(X12ValueError, match=r"NM109 \(rendering provider NPI\)"):
        _write(claim)


def test_it_refuses_a_total_that_is_not_the_sum_of_the_lines():
    claim = dataclasses.replace(examples.office_visit(), total_charge=Decimal("190.00"))
    with pytest.raises(X12ValueError) as error:
        _write(claim)
    assert str(error.value) == (
        "claim PCN-1001: CLM02 (total claim charge) 190.00 is not the sum of the service line "
        "charges (185.00)"
    )


def test_it_refuses_a_diagnosis_pointer_past_the_diagnoses():
    claim = examples.office_visit()
    claim.service_lines[1].diagnosis_pointers = (3,)
    with pytest.raises(X12ValueError, match=r"line 2: SV107 diagnosis pointers \(3,\)"):
        _write(claim)


def test_it_refuses_a_replacement_claim_without_the_payer_claim_number():
    claim = dataclasses.replace(examples.office_visit(), frequency_code="7")
    with pytest.raises(X12ValueError, match=r"needs the payer's claim control number \(REF\*F8\)"):
        _write(claim)
    claim.payer_claim_control_number = "ACME-CLAIM-555"
    assert "CLM*PCN-1001*185***11:B:7*Y*A*Y*Y~\nREF*F8*ACME-CLAIM-555~" in _write(claim)


def test_it_refuses_a_subscriber_patient_without_demographics():
    claim = examples.office_visit()
    claim.subscriber = dataclasses.replace(examples.SUBSCRIBER, birth_date=None)
    with pytest.raises(
        X12ValueError, match="needs the subscriber's address, birth date and gender"
    ):
        _write(claim)


def test_it_refuses_more_than_twelve_diagnoses():
    claim = examples.office_visit()
    claim.diagnoses = [f"R{n:02d}" for n in range(13)]
    with pytest.raises(X12ValueError, match="1 to 12 diagnoses, not 13"):
        _write(claim)


@settings(max_examples=30)
@given(envelope=strategies.envelopes, batch=strategies.claim_batches())
def test_it_reads_back_any_batch_it_writes(envelope, batch):
    parsed = read_837p(write_837p(envelope, [batch]))
    assert parsed.transactions == [batch]
    assert parsed.envelopes == [envelope]


@settings(max_examples=12)
@given(envelope=strategies.envelopes, batch=strategies.claim_batches())
def test_it_writes_claims_that_pass_pyx12_for_any_input(envelope, batch):
    assert validate_with_pyx12(write_837p(envelope, [batch])) == []
