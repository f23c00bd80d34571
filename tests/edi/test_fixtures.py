"""Every sample file in tests/fixtures/x12 (see its README for sources), read by this package:
what each one says (payments, totals, claim counts, warnings), or the clear error it earns."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from edi.errors import X12Error
from edi.models import Parsed
from edi.x270 import read_270
from edi.x271 import read_271
from edi.x276 import read_276
from edi.x277 import read_277, read_277ca
from edi.x835 import balance_difference, read_835
from edi.x837p import read_837p
from edi.x999 import read_999

FIXTURES = Path(__file__).parent.parent / "fixtures" / "x12"
D = Decimal
date = datetime.date

PER_MISSING = "the payer's technical contact (PER*BL) is missing"
BPR16_MISSING = "BPR16 (payment date) is missing; using the DTM*405 production date"


@dataclass(frozen=True)
class Expect:
    reader: Callable[[str], Parsed]
    summary: object = None  # what summarize(...) gives for the file
    warnings: tuple[str, ...] = ()  # one substring per warning, in order
    error: str = ""  # the X12Error message's substring, when the file is refused


def _eras(parsed: Parsed) -> list[tuple]:
    return [
        (
            era.era_id,
            era.payment_amount,
            era.payment_method,
            era.payment_date,
            len(era.claims),
            sum((c.paid for c in era.claims), D(0)),
            sum((p.amount for p in era.provider_adjustments), D(0)),
        )
        for era in parsed.transactions
    ]


def _claims(parsed: Parsed) -> list[tuple]:
    return [
        (
            claim.patient_control_number,
            claim.total_charge,
            claim.billing_provider.npi,
            claim.payer.payer_id,
            claim.subscriber.last_name,
            claim.patient.first_name if claim.patient else None,
            len(claim.service_lines),
            tuple(claim.diagnoses),
            len(claim.other_payers),
        )
        for batch in parsed.transactions
        for claim in batch.claims
    ]


def _acks(parsed: Parsed) -> list[tuple]:
    return [
        (
            ack.group_control_number,
            ack.status,
            ack.accepted_count,
            [
                (
                    t.control_number,
                    t.status,
                    t.error_codes,
                    [s.segment_id for s in t.segment_errors],
                )
                for t in ack.transactions
            ],
        )
        for ack in parsed.transactions
    ]


def _claim_acks(parsed: Parsed) -> list[tuple]:
    return [
        (
            ack.batch_trace,
            [
                (
                    c.patient_control_number,
                    c.statuses[0].category,
                    c.statuses[0].code,
                    c.statuses[0].charge,
                    c.payer_claim_control_number,
                    c.service_date,
                )
                for p in ack.providers
                for c in p.claims
            ],
        )
        for ack in parsed.transactions
    ]


def _statuses(parsed: Parsed) -> list[tuple]:
    return [
        (
            p.provider.identifier,
            [(s.category, s.code) for s in p.statuses],
            [
                (
                    c.trace_number,
                    c.patient.first_name if c.patient else None,
                    [(s.category, s.code, s.charge, s.paid) for s in c.statuses],
                    c.charge,
                    c.patient_control_number,
                    len(c.services),
                )
                for c in p.claims
            ],
        )
        for x in parsed.transactions
        for p in x.providers
    ]


def _eligibility(parsed: Parsed) -> list[tuple]:
    return [
        (
            i.trace_number,
            i.subscriber.last_name,
            i.dependent.first_name if i.dependent else None,
            i.service_types,
            i.service_date,
            i.eligibility_begin,
            [(b.code, b.amount, b.in_network) for b in i.benefits],
        )
        for x in parsed.transactions
        for i in x.inquiries
    ]


SUMMARIES: dict[Callable, Callable[[Parsed], list[tuple]]] = {
    read_835: _eras,
    read_837p: _claims,
    read_999: _acks,
    read_277ca: _claim_acks,
    read_277: _statuses,
    read_276: _statuses,
    read_270: _eligibility,
    read_271: _eligibility,
}

SE_COUNT_WRONG = "SE01 says '25' segments in the transaction set, ST and SE included, but there are"

EXPECTED: dict[str, Expect] = {
    # --- 835 ---------------------------------------------------------------------------------
    "835/lfh-medicare-part-a.835": Expect(
        read_835,
        [(("1512345678", "12345", "6543210903"), D("150000.00"), "ACH", date(2002, 9, 13), 2,
          D("149998.73"), D("-1.27"))],
        (PER_MISSING,),
    ),
    "835/lfh-managed-care.835": Expect(
        read_835,
        [(("1935665544", "7170066655", "5544667733"), D("945.00"), "ACH", date(2002, 3, 14), 2,
          D("945.00"), 0)],
        ("BPR16 (payment date) '20002316' is not a date; using the DTM*405 production date "
         "2002-03-14", PER_MISSING),
    ),
    "835/lfh-cob-contractural-adjustment.835": Expect(
        read_835,
        [(("1566339911", "0063158ABC", "3UR334563"), D("34.00"), "CHK", date(2005, 3, 18), 1,
          D("34.00"), 0)],
        (BPR16_MISSING + " 2005-03-18", PER_MISSING,
         "SVC01 'HC>55669' has no procedure code (the component separator is ':')"),
    ),
    "835/lfh-secondary-payment.835": Expect(
        read_835,
        [(("1559123456", "0012524965", "599944521"), D("1222.00"), "CHK", date(2005, 4, 12), 2,
          D("1222.00"), 0)],
        (BPR16_MISSING + " 2005-04-12", PER_MISSING, "SVC01 'HC>12345>26' has no procedure code",
         "SVC01 'HC>66543>26' has no procedure code"),
    ),
    "835/lfh-tertiary-payment.835": Expect(
        read_835,
        [(("1559123456", "0012524879", "599944521"), D("187.50"), "CHK", date(2005, 4, 12), 1,
          D("187.50"), 0)],
        (BPR16_MISSING + " 2005-04-12", PER_MISSING, "SVC01 'HC' has no procedure code"),
    ),
    "835/pyx12-mult-loops.835": Expect(
        read_835,
        [(("1386000134", "000000000", "444313000"), 0, "NON", date(2004, 10, 28), 1, 0, 0)],
    ),
    "835/e835p-emedny_sample.835": Expect(
        read_835,
        [(("1000000000", "10100000000", "9999999995"), D("45.75"), "ACH", date(2010, 1, 1), 3,
          D("45.75"), 0)],
    ),
    "835/e835p-united_healthcare_legacy_sample.835": Expect(
        read_835,
        [(("1234567890", "1234567890", "1922164458"), D("349.99"), "ACH", date(2021, 2, 4), 2,
          D("349.99"), 0)],
    ),
    "835/e835p-blue_cross_nc_sample.835": Expect(
        read_835,
        error="No ISA interchange header: this is not an X12 interchange, or its envelope was "
        "stripped (it starts with 'ST*835*1234~BPR*I*1922.86*C*CHK*********')",
    ),
    # --- 837P --------------------------------------------------------------------------------
    "837p/lfh-demo.ambulance.example5.837": Expect(
        read_837p,
        [("051068", D("766.50"), "2366554859", "123245", "JONES", None, 4,
          ("8628", "E8888", "9592", "8540"), 0)],
    ),
    "837p/lfh-demo.autoaccident.837": Expect(
        read_837p,
        [("900000032", D("185.00"), "1253695747", "999888777", "HOWLING", "DJ", 2, ("8540",), 0)],
    ),
    "837p/lfh-demo.cob.example3.A.837": Expect(
        read_837p,
        [("26407789", D("79.04"), "1999996666", "999996666", "SMITH", "TED", 3,
          ("4779", "2724", "2780", "53081"), 1)],
        ("the other payer's name (2330B NM1*PR) is missing from this 2320 loop",),
    ),
    "837p/lfh-demo.example1.837": Expect(
        read_837p,
        [("26463774", D("100.00"), "1912301953", "999996666", "SMITH", "TED", 4,
          ("0340", "V7389"), 0)],
    ),
    "837p/lfh-demo.example2.837": Expect(
        read_837p,
        [("26462967", D("100.00"), "9876543210", "741234", "SMITH", None, 4, ("0340", "V7389"), 0)],
    ),
    "837p/imsweb-x12_valid.837": Expect(read_837p, error=SE_COUNT_WRONG + " 34"),
    "837p/imsweb-x12_missing_elements.837": Expect(read_837p, error=SE_COUNT_WRONG + " 34"),
    "837p/imsweb-x12_segments_out_of_order.837": Expect(read_837p, error=SE_COUNT_WRONG + " 34"),
    "837p/imsweb-x12_multiple_isa.837": Expect(read_837p, error=SE_COUNT_WRONG + " 34"),
    "837p/imsweb-x12_many_claims.837": Expect(read_837p, error=SE_COUNT_WRONG + " 11486"),
    # --- 999 ---------------------------------------------------------------------------------
    "999/imsweb-999-accepted.999": Expect(
        read_999,
        error="line 10, segment 10: IEA: IEA02 (interchange control number) is '000000001' but "
        "ISA13 on line 1 is '000000286'; they must match",
    ),
    "999/imsweb-999-rejected.999": Expect(
        read_999, [(28, "R", 0, [("0028", "R", ("5",), ["NM"])])]
    ),
    # --- 277CA and 277 -----------------------------------------------------------------------
    "277/imsweb-277CA-accepted.277": Expect(
        read_277ca,
        [("000000674", [("5781", "A2", "20", D("125"), "1107000000014420", date(1001, 1, 1))])],
    ),
    "277/imsweb-277CA-rejected.277": Expect(
        read_277ca,
        [("11200001", [("3920394930203", "A7", "562", D("199.14"), "1107000000001120",
                        date(2009, 3, 11))])],
    ),
    "277/lfh-claim-level-status.277": Expect(
        read_277,
        [("1666666661", [],
          [("ABCXYZ1", None, [("P3", "317", D("8513.88"), None)], None, "SM123456", 0),
           ("ABCXYZ2", None, [("F0", "3", D("7599.00"), D("7599.00"))], None, "J0234567", 0)]),
         ("166666666", [],
          [("ABCXYC3", "JOSEPH", [("F2", "88", D("150.00"), D("0.00"))], None, "MA345678", 1)])],
    ),
    "277/lfh-provider-level-status.277": Expect(
        read_277,
        [("1666666661", [],
          [("ABCXYZ1", None, [("P3", "317", D("8513.88"), None)], None, "SM123456", 0)]),
         ("6166666666", [("E0", "24")], [])],
    ),
    # --- 276 ---------------------------------------------------------------------------------
    "276/lfh-claim-level-status.276": Expect(
        read_276,
        [("1666666661", [], [("ABCXYZ1", None, [], D("8513.88"), "SM123456", 0),
                             ("ABCXYZ2", None, [], D("7599.00"), "J0234567", 0)]),
         ("166666666", [], [("ABCXYZ3", "JOSEPH", [], None, "MA345678", 1)])],
    ),
    "276/lfh-provider-level-status.276": Expect(
        read_276,
        [("1666666661", [], [("ABCXYZ1", None, [], D("8513.88"), "SM123456", 0)]),
         ("6166666666", [], [("ABCXYZ3", "JOSEPH", [], None, "MA345678", 1)])],
    ),
    # --- 270/271 -----------------------------------------------------------------------------
    "270/lfh-subscriber-health-benefit-check.270": Expect(
        read_270, [("93175-012547", "SMITH", None, ("30",), date(2006, 5, 1), None, [])]
    ),
    "270/lfh-dependent-health-benefit-check.270": Expect(
        read_270, [("93175-012547", "", "MARY", ("30",), date(2006, 5, 1), None, [])]
    ),
    "271/lfh-subscriber-health-benefit-check.271": Expect(
        read_271,
        [("93175-012547", "SMITH", None, (), None, date(2006, 1, 1),
          [("1", None, ""), ("L", None, ""), ("1", None, ""), ("B", D("10.00"), "Y"),
           ("B", D("30.00"), "N")])],
    ),
    "271/lfh-dependent-health-benefit-check.271": Expect(
        read_271,
        [("93175-012547", "SMITH", "MARY", (), None, date(2006, 1, 1),
          [("1", None, ""), ("L", None, ""), ("1", None, ""), ("B", D("10.00"), "Y"),
           ("B", D("30.00"), "N")])],
    ),
    "271/lfh-subscriber-health-benefit-check-error.271": Expect(
        read_271,
        error="line 10, segment 10: SE: SE02 (transaction set control number) is '4323' but ST02 "
        "on line 3 is '4321'; they must match",
    ),
}  # fmt: skip


def test_it_states_an_expectation_for_every_fixture():
    files = {
        str(p.relative_to(FIXTURES))
        for p in FIXTURES.rglob("*")
        if p.is_file() and p.name != "README.md"
    }
    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_it_reads_each_fixture_as_stated(name):
    expect = EXPECTED[name]
    text = (FIXTURES / name).read_text()
    if expect.error:
        with pytest.raises(X12Error) as error:
            expect.reader(text)
        assert expect.error in str(error.value)
        return
    parsed = expect.reader(text)
    assert SUMMARIES[expect.reader](parsed) == expect.summary
    assert len(parsed.warnings) == len(expect.warnings), parsed.warnings
    for warning, wanted in zip(parsed.warnings, expect.warnings, strict=True):
        assert wanted in warning


@pytest.mark.parametrize(
    "name", sorted(n for n, e in EXPECTED.items() if e.reader is read_835 and not e.error)
)
def test_it_finds_every_readable_835_fixture_balanced(name):
    for era in read_835((FIXTURES / name).read_text()).transactions:
        assert balance_difference(era) == 0


def test_it_keeps_each_eras_own_warnings():
    parsed = read_835((FIXTURES / "835/lfh-managed-care.835").read_text())
    (era,) = parsed.transactions
    assert era.warnings == parsed.warnings
    assert era.payment_date == era.production_date == date(2002, 3, 14)
