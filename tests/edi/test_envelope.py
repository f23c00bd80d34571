from __future__ import annotations

import dataclasses
import datetime
from typing import Any

import pytest

from edi.errors import X12Error, X12ValueError
from edi.tokenizer import Separators, tokenize
from edi.x835 import read_835, write_835
from edi.x837p import read_837p
from tests.edi import examples


def _era_file(**changes: Any) -> str:
    envelope = dataclasses.replace(examples.envelope(), **changes)
    return write_835(envelope, [examples.remittance(), examples.notification()])


def test_it_counts_segments_transaction_sets_and_groups():
    segments = tokenize(_era_file())
    tags = [s.tag for s in segments]
    st_positions = [i for i, tag in enumerate(tags) if tag == "ST"]
    se_positions = [i for i, tag in enumerate(tags) if tag == "SE"]
    for st, se in zip(st_positions, se_positions, strict=True):
        assert int(segments[se].get(1)) == se - st + 1
        assert segments[se].get(2) == segments[st].get(2)
    assert [segments[i].get(2) for i in st_positions] == ["0001", "0002"]
    assert segments[-2].elements == ("2", "905")  # GE
    assert segments[-1].elements == ("1", "000000905")  # IEA


def test_it_reads_back_the_envelope_it_wrote():
    envelope = examples.envelope()
    envelope.acknowledgment_requested = True
    envelope.created = datetime.datetime(2026, 11, 25, 9, 30, 15)
    text = write_835(envelope, [examples.remittance()])
    assert text.startswith(
        "ISA*00*          *00*          *ZZ*DEMOFAMILY     *ZZ*CLEARHOUSE     *261125*0930*^*00501"
        "*000000905*1*T*:~\nGS*HP*DEMOFAMILY*CLEARHOUSE*20261125*093015*905*X*005010X221A1~\n"
    )
    assert read_835(text).envelopes == [envelope]


def test_it_writes_with_other_separators_and_without_line_breaks():
    separators = Separators("|", ">", "!", "\\")
    text = write_835(
        examples.envelope(), [examples.remittance()], separators=separators, line_break=""
    )
    assert "\n" not in text
    assert "SVC|HC>99213>25|150|100||1\\" in text
    assert read_835(text).transactions == [examples.remittance()]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("SE*34*0001", "SE*33*0001", "SE01 says '33' segments in the transaction set, ST and SE "
         "included, but there are 34"),
        ("SE*34*0001", "SE*34*0009", "SE02 (transaction set control number) is '0009' but ST02 "
         "on line 3 is '0001'; they must match"),
        ("GE*2*905", "GE*3*905", "GE01 says '3' transaction sets in the group, but there are 2"),
        ("GE*2*905", "GE*2*906", "GE02 (group control number) is '906' but GS06 on line 2 is "
         "'905'; they must match"),
        ("IEA*1*000000905", "IEA*2*000000905", "IEA01 says '2' functional groups in the "
         "interchange, but there are 1"),
        ("IEA*1*000000905", "IEA*1*000000906", "IEA02 (interchange control number) is "
         "'000000906' but ISA13 on line 1 is '000000905'; they must match"),
    ],
)  # fmt: skip
def test_it_refuses_trailers_that_do_not_match_their_headers(old, new, message):
    text = _era_file()
    assert old in text
    with pytest.raises(X12Error) as error:
        read_835(text.replace(old, new))
    assert message in str(error.value)


def test_it_says_where_the_mismatching_trailer_is():
    text = _era_file().replace("GE*2*905", "GE*3*905")
    with pytest.raises(X12Error) as error:
        read_835(text)
    lines = text.splitlines()
    assert error.value.line == lines.index("GE*3*905~") + 1
    assert error.value.segment_index == len(lines) - 1


def test_it_refuses_a_truncated_file():
    text = _era_file()
    with pytest.raises(X12Error, match="has no IEA trailer: the file is truncated"):
        read_835(text[: text.index("IEA")])
    with pytest.raises(X12Error, match="transaction set 0002 has no SE trailer"):
        read_835(text[: text.rindex("SE*")])


def test_it_refuses_segments_outside_a_transaction_set():
    text = _era_file().replace("GE*2*905~", "LX*1~\nGE*2*905~")
    with pytest.raises(X12Error, match="segment outside any transaction set"):
        read_835(text)


def test_it_refuses_another_kind_of_transaction_set():
    with pytest.raises(X12Error, match="this is a 835 transaction set, not a 837"):
        read_837p(_era_file())


def test_it_refuses_an_interchange_without_transaction_sets():
    text = _era_file()
    envelope_only = "\n".join(
        line for line in text.splitlines() if line[:2] in ("IS", "IE")
    ).replace("IEA*1", "IEA*0")
    with pytest.raises(X12Error, match="holds no 835 transaction set"):
        read_835(envelope_only)


def test_it_refuses_control_numbers_out_of_range():
    with pytest.raises(X12ValueError, match=r"ISA13 \(interchange control number\) must be"):
        _era_file(control_number=1_000_000_000)
    with pytest.raises(X12ValueError, match=r"GS06 \(group control number\) must be"):
        _era_file(group_control_number=0)


def test_it_refuses_an_interchange_id_that_does_not_fit():
    with pytest.raises(X12ValueError, match=r"ISA06 \(interchange id\) is 16 characters long"):
        _era_file(sender_id="S" * 16)
    with pytest.raises(X12ValueError, match=r"ISA08 \(interchange id\) contains the element"):
        _era_file(receiver_id="A*B")


def test_it_warns_about_an_unpadded_isa_but_reads_it():
    text = _era_file().replace("DEMOFAMILY     *", "DEMOFAMILY*", 1)
    parsed = read_835(text)
    assert parsed.envelopes[0].sender_id == "DEMOFAMILY"
    assert parsed.warnings == [
        "line 1, segment 1 (ISA): ISA06/ISA08 are not padded to 15 characters"
    ]
