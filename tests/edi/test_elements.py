from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from edi.elements import Repeat, Value, decimal_text, npi_is_valid, render_segment
from edi.errors import X12ValueError
from edi.models import Contact, Subscriber
from edi.tokenizer import DEFAULT_SEPARATORS, Separators
from edi.x835 import write_835
from edi.x837p import write_837p
from tests.edi import examples


def _render(tag: str, *values: Value, separators: Separators = DEFAULT_SEPARATORS) -> str:
    return render_segment(tag, values, separators)


def test_it_writes_values_and_drops_trailing_empty_elements():
    assert (
        _render("NM1", "IL", "1", "DOE", "JOHN", None, None, None, "", "") == "NM1*IL*1*DOE*JOHN~"
    )
    assert _render("SV1", ("HC", "99213", "25"), Decimal("150.00"), "UN", Decimal("1")) == (
        "SV1*HC:99213:25*150*UN*1~"
    )
    assert _render("EQ", Repeat(("98", "UC"))) == "EQ*98^UC~"


def test_it_refuses_a_value_containing_the_element_separator_and_names_the_field():
    with pytest.raises(X12ValueError) as error:
        _render("NM1", "IL", "1", "O*BRIEN")
    assert str(error.value) == (
        "NM103 (last or organization name) contains the element separator '*': 'O*BRIEN'"
    )
    assert error.value.field == "NM103"


def test_it_refuses_each_delimiter_by_name():
    separators = Separators("|", ">", "^", "\\")
    cases = [
        ("A|B", "element separator"),
        ("A>B", "component separator"),
        ("A^B", "repetition separator"),
        ("A\\B", "segment terminator"),
    ]
    for value, name in cases:
        with pytest.raises(X12ValueError, match=f"N301 \\(address line 1\\) contains the {name}"):
            _render("N3", value, separators=separators)


def test_it_names_the_component_of_a_composite():
    with pytest.raises(X12ValueError, match=r"^SV101-02 \(procedure code\) contains the component"):
        _render("SV1", ("HC", "99:13"), Decimal(1), "UN", Decimal(1))


def test_it_refuses_a_value_longer_than_its_element():
    with pytest.raises(X12ValueError) as error:
        _render("NM1", "IL", "1", "DOE", "J" * 36)
    assert str(error.value) == (
        "NM104 (first name) is 36 characters long, more than its maximum of 35: '" + "J" * 36 + "'"
    )


def test_it_refuses_a_value_shorter_than_its_element():
    with pytest.raises(X12ValueError, match=r"N401 \(city name\) is 1 characters long, less than"):
        _render("N4", "X", "NC", "27701")


def test_it_counts_digits_only_for_numeric_lengths():
    assert _render("AMT", "D", Decimal("-1234567890123456.78")) == "AMT*D*-1234567890123456.78~"
    with pytest.raises(X12ValueError, match=r"AMT02 .* more than its maximum of 18"):
        _render("AMT", "D", Decimal("12345678901234567.89"))


def test_it_refuses_characters_outside_the_x12_character_set():
    with pytest.raises(X12ValueError, match=r"NM103 .* contains 'É', which is outside the X12"):
        _render("NM1", "IL", "1", "ÉLODIE")


def test_it_refuses_fractions_of_a_cent():
    with pytest.raises(
        X12ValueError, match=r"CLP04 \(claim payment amount\) has fractions of a cent"
    ):
        _render("CLP", "PCN", "1", Decimal("10"), Decimal("1.005"))


def test_it_writes_decimals_without_exponent_or_trailing_zeros():
    assert [decimal_text(Decimal(v)) for v in ("100.00", "0.50", "-0.00", "1E+2", "-12.30")] == [
        "100",
        "0.5",
        "0",
        "100",
        "-12.3",
    ]


def test_it_checks_npi_check_digits():
    assert npi_is_valid("1234567893")
    assert not npi_is_valid("1234567890")
    assert not npi_is_valid("123456789")
    assert not npi_is_valid("12345678AB")


def test_it_says_which_claim_holds_a_bad_value():
    batch = examples.claims_batch()
    batch.claims[0].subscriber = dataclasses.replace(examples.SUBSCRIBER, last_name="O*BRIEN")
    with pytest.raises(X12ValueError) as error:
        write_837p(examples.envelope(), [batch])
    assert str(error.value) == (
        "2000B subscriber XYZ123456789: NM103 (last or organization name) contains the element "
        "separator '*': 'O*BRIEN'"
    )


def test_it_refuses_a_url_whose_colon_is_the_component_separator():
    era = examples.notification()
    era.payer_contact = Contact(url="https://edi.acme.example")
    with pytest.raises(X12ValueError, match=r"PER04 .* contains the component separator ':'"):
        write_835(examples.envelope(), [era])


def test_it_refuses_an_overlong_member_id_in_a_claim():
    batch = examples.claims_batch()
    batch.claims[0].subscriber = Subscriber(**{**vars(examples.SUBSCRIBER), "member_id": "M" * 81})
    with pytest.raises(X12ValueError, match=r"NM109 .* more than its maximum of 80"):
        write_837p(examples.envelope(), [batch])
