"""Every sample 835 in tests/fixtures/x12/835 (real-world and implementation-guide files, see
its README) ingested: the payments, claim postings and warnings each one gives, or its
refusal. Some claims of the files are made ours first, so their posting is checked too."""

from __future__ import annotations

import datetime
import os
from decimal import Decimal

import pytest
from django.db.models import Sum

from billing.models import Claim, LedgerEntry
from payments import ingestion
from payments.models import ClaimPayment, Era, EraFile, InsurancePayment
from tests import factories
from tests.payments import eras

pytestmark = pytest.mark.django_db

D = Decimal
PER_BL = "the payer's technical contact (PER*BL) is missing"


def _review(name: str, kind: str, number: str) -> str:
    return (
        f"The payee {name} ({kind} {number}) matches neither this organization's billing NPI "
        "or tax id nor one of its providers: check that this payment is ours."
    )


def _payer(name: str, number: str) -> str:
    return f"The payer {name} (id {number}) is not one of this organization's payers."


# file -> what ingesting it gives. "claims": our claims made before (number: total) and,
# after, (status, ledger postings of the ERA, encounter balance). "payment": (amount, date,
# NPI, check/EFT number, payer) or None.
EXPECTED: dict[str, dict] = {
    "e835p-blue_cross_nc_sample.835": {
        "refused": "Refused: No ISA interchange header: this is not an X12 interchange, or its "
        "envelope was stripped (it starts with 'ST*835*1234~BPR*I*1922.86*C*CHK*********'). "
        "Nothing was posted.",
    },
    "e835p-emedny_sample.835": {
        "payment": ("45.75", datetime.date(2010, 1, 1), "9999999995", "10100000000", "NYSDOH"),
        "review": True,
        "claims": {},
        "unmatched": 3,
        "warnings": [
            _payer("NYSDOH", "1000000000"),
            _review("MAJOR MEDICAL PROVIDER", "NPI", "9999999995"),
            "3 claims not found in this organization (PATIENT ACCOUNT NUMBER): kept for follow-up.",
        ],
    },
    "e835p-united_healthcare_legacy_sample.835": {
        "payment": (
            "349.99",
            datetime.date(2021, 2, 4),
            "1922164458",
            "1234567890",
            "UNITED HEALTHCARE INSURANCE COMPANY",
        ),
        "review": True,
        "claims": {
            # paid 88.92; CO-45 67.50 + 79.60 adjusted; PR-1 105.26 left for the patient
            "001-18573-358": (
                "341.28",
                "paid",
                [("insurance_payment", "-88.92"), ("adjustment", "-147.10")],
                "105.26",
            ),
            "001-18604-358": (
                "816.24",
                "paid",
                [("insurance_payment", "-261.07"), ("adjustment", "-440.04")],
                "115.13",
            ),
        },
        "unmatched": 0,
        "warnings": [
            _payer("UNITED HEALTHCARE INSURANCE COMPANY", "1234567890"),
            _review("KLAUS MEDICAL CENTER", "NPI", "1922164458"),
        ],
    },
    "lfh-cob-contractural-adjustment.835": {
        "payment": (
            "34.00",
            datetime.date(2005, 3, 18),
            None,
            "0063158ABC",
            "YOUR TAX DOLLARS AT WORK",
        ),
        "review": True,
        "claims": {},
        "unmatched": 1,
        "warnings": [
            "line 4, segment 4 (BPR): BPR16 (payment date) is missing; using the DTM*405 "
            "production date 2005-03-18",
            f"line 8, segment 8 (N1): {PER_BL}",
            "line 21, segment 21 (SVC): SVC01 'HC>55669' has no procedure code (the component "
            "separator is ':')",
            _payer("YOUR TAX DOLLARS AT WORK", "1566339911"),
            _review("ATONEWITHHEALTH", "tax id", "3UR334563"),
            "1 claim not found in this organization (0001000055): kept for follow-up.",
        ],
    },
    "lfh-managed-care.835": {
        "provider_npi": "5544667733",  # the payee is one of our providers: no review
        "payer": ("Rushmore Life", "1935665544"),
        "payment": (
            "945.00",
            datetime.date(2002, 3, 14),
            "5544667733",
            "7170066655",
            "RUSHMORE LIFE",
        ),
        "review": False,
        "claims": {
            # paid 450, CO-A2 50 adjusted, PR-1 300 left for the patient
            "5554555444": (
                "800.00",
                "paid",
                [("insurance_payment", "-450.00"), ("adjustment", "-50.00")],
                "300.00",
            ),
            "8765432112": (
                "1200.00",
                "paid",
                [("insurance_payment", "-495.00"), ("adjustment", "-105.00")],
                "600.00",
            ),
        },
        "unmatched": 0,
        "warnings": [
            "line 4, segment 4 (BPR): BPR16 (payment date) '20002316' is not a date; using the "
            "DTM*405 production date 2002-03-14",
            f"line 7, segment 7 (N1): {PER_BL}",
        ],
    },
    "lfh-medicare-part-a.835": {
        "payment": (
            "150000.00",
            datetime.date(2002, 9, 13),
            "6543210903",
            "12345",
            "INSURANCE COMPANY OF TIMBUCKTU",
        ),
        "review": True,
        "plb": [("CV", "CP", "-1.27")],
        "claims": {
            "666123": (
                "211366.97",
                "paid",
                [("insurance_payment", "-138018.40"), ("adjustment", "-73348.57")],
                "0.00",
            ),
            "777777": (
                "15000.00",
                "paid",
                [("insurance_payment", "-11980.33"), ("adjustment", "-3019.67")],
                "0.00",
            ),
        },
        "unmatched": 0,
        "warnings": [
            f"line 7, segment 7 (N1): {PER_BL}",
            _payer("INSURANCE COMPANY OF TIMBUCKTU", "1512345678"),
            _review("REGIONAL HOPE HOSPITAL", "NPI", "6543210903"),
        ],
    },
    "lfh-secondary-payment.835": {
        "payment": (
            "1222.00",
            datetime.date(2005, 4, 12),
            None,
            "0012524965",
            "YOUR TAX DOLLARS AT WORK",
        ),
        "review": True,
        "claims": {
            # OA-23 (the prior payer's part) is kept on the ERA, not posted: it stays open
            "L0004828311": (
                "10323.64",
                "partially_paid",
                [("insurance_payment", "-912.00")],
                "9411.64",
            ),
            "0001000053": (
                "751.50",
                "partially_paid",
                [("insurance_payment", "-310.00"), ("adjustment", "-85.00")],
                "356.50",
            ),
        },
        "unmatched": 0,
        "warnings": [
            "line 4, segment 4 (BPR): BPR16 (payment date) is missing; using the DTM*405 "
            "production date 2005-04-12",
            f"line 8, segment 8 (N1): {PER_BL}",
            "line 29, segment 29 (SVC): SVC01 'HC>12345>26' has no procedure code (the component "
            "separator is ':')",
            "line 34, segment 34 (SVC): SVC01 'HC>66543>26' has no procedure code (the component "
            "separator is ':')",
            _payer("YOUR TAX DOLLARS AT WORK", "1559123456"),
            _review("ACME MEDICAL CENTER", "tax id", "599944521"),
        ],
    },
    "lfh-tertiary-payment.835": {
        "payment": (
            "187.50",
            datetime.date(2005, 4, 12),
            None,
            "0012524879",
            "YOUR TAX DOLLARS AT WORK",
        ),
        "review": True,
        "claims": {},
        "unmatched": 1,
        "warnings": [
            "line 4, segment 4 (BPR): BPR16 (payment date) is missing; using the DTM*405 "
            "production date 2005-04-12",
            f"line 8, segment 8 (N1): {PER_BL}",
            "line 20, segment 20 (SVC): SVC01 'HC' has no procedure code (the component separator "
            "is ':')",
            _payer("YOUR TAX DOLLARS AT WORK", "1559123456"),
            _review("ACME MEDICAL CENTER", "tax id", "599944521"),
            "1 claim not found in this organization (0001000054): kept for follow-up.",
        ],
    },
    "pyx12-mult-loops.835": {
        "payment": None,  # zero-pay notification BPR*H*0*C*NON
        "review": True,
        "claims": {"2005555A": ("915.39", "denied", [], "915.39")},
        "unmatched": 0,
        "warnings": [
            _payer("PAYER", "1386000134"),
            _review("UNKNOWN", "tax id", "444313000"),
        ],
    },
}


def test_every_sample_835_has_an_expectation():
    assert sorted(os.listdir(eras.FIXTURES)) == sorted(EXPECTED)


def _our_claim(org, number: str, total: str) -> Claim:
    payer = factories.PayerFactory(organization=org)
    made = eras.claim(org, payer, number=number, lines=(("99213", total),))
    return made


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_it_ingests_the_sample(org, name):
    expected = EXPECTED[name]
    if "provider_npi" in expected:
        factories.ProviderFactory(organization=org, npi=expected["provider_npi"])
    if "payer" in expected:
        payer_name, payer_id = expected["payer"]
        factories.PayerFactory(organization=org, name=payer_name, payer_id=payer_id)
    ours = {
        number: _our_claim(org, number, total)
        for number, (total, *_) in expected.get("claims", {}).items()
    }

    result = ingestion.era_file_ingest(
        organization=org, actor=None, content=eras.fixture(name), source="command", file_name=name
    )

    era_file = EraFile.objects.get()
    if "refused" in expected:
        assert result.refused
        assert result.message == expected["refused"]
        assert (era_file.status, era_file.message) == ("refused", expected["refused"])
        assert not Era.objects.exists() and not InsurancePayment.objects.exists()
        assert not ClaimPayment.objects.exists()
        return

    assert result.status == "ingested" and era_file.status == "ingested"
    era = Era.objects.get()
    assert era.warnings == expected["warnings"]
    assert era.needs_review is expected["review"]
    if expected["payment"] is None:
        assert not InsurancePayment.objects.exists()
        assert era.payment_amount == 0
    else:
        amount, day, npi, number, payer = expected["payment"]
        payment = InsurancePayment.objects.get()
        assert (
            payment.paid_amount,
            payment.paid_date,
            payment.npi,
            payment.ach_check_number,
            payment.payer_name,
            payment.source,
            payment.era,
        ) == (D(amount), day, npi, number, payer, "automatic", era)
        assert era.payment_amount == D(amount)
    assert [(p["reason_code"], p["reference"], p["amount"]) for p in era.provider_adjustments] == (
        expected.get("plb", [])
    )
    assert result.claims_unmatched == expected["unmatched"]
    assert ClaimPayment.objects.filter(claim__isnull=True).count() == expected["unmatched"]
    postings = 0
    for number, (_, status, entries, left) in expected["claims"].items():
        claim = ours[number]
        claim.refresh_from_db()
        assert claim.status == status, number
        posted = list(
            LedgerEntry.objects.filter(claim=claim, source_table="payments_claimpayment")
            .order_by("id")
            .values_list("kind", "amount")
        )
        assert posted == [(kind, D(amount)) for kind, amount in entries], number
        ledger = LedgerEntry.objects.filter(encounter=claim.encounter_id).aggregate(t=Sum("amount"))
        assert ledger["t"] == D(left), number
        postings += len(entries)
    assert result.postings == postings
