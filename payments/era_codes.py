"""What the codes of an ERA mean: CARC reason codes, RARC remarks, CAS group codes and CLP02
claim statuses, for the ERA page. The code lists are data (payments/data/*.csv, with their
source in payments/data/README.md); a code missing from them is shown without a meaning."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"

GROUPS = {
    "CO": "Contractual obligation",
    "PR": "Patient responsibility",
    "OA": "Other adjustment",
    "PI": "Payer-initiated reduction",
    "CR": "Correction and reversal",
}

CLAIM_STATUSES = {
    "1": "Processed as primary",
    "2": "Processed as secondary",
    "3": "Processed as tertiary",
    "4": "Denied",
    "19": "Processed as primary, forwarded to another payer",
    "20": "Processed as secondary, forwarded to another payer",
    "21": "Processed as tertiary, forwarded to another payer",
    "22": "Reversal of previous payment",
    "23": "Not our claim, forwarded to another payer",
    "25": "Predetermination pricing only, no payment",
}

# PLB03-1 reasons practices see most (X12 element 426).
PROVIDER_ADJUSTMENT_REASONS = {
    "72": "Authorized return",
    "CS": "Adjustment",
    "CV": "Capital passthru",
    "FB": "Forwarding balance",
    "IR": "Internal Revenue Service withholding",
    "L6": "Interest owed",
    "WO": "Overpayment recovery",
    "WU": "Unspecified recovery",
    "J1": "Nonreimbursable",
    "LE": "Levy",
    "50": "Late charge",
    "90": "Early payment allowance",
}


@cache
def _codes(name: str) -> dict[str, str]:
    with (DATA / name).open(newline="", encoding="utf-8") as handle:
        return {
            row["code"].strip().upper(): row["description"].strip()
            for row in csv.DictReader(handle)
        }


def carc(code: str) -> str:
    """The description of a claim adjustment reason code, or "" when the list lacks it."""
    return _codes("carc.csv").get((code or "").strip().upper(), "")


def rarc(code: str) -> str:
    """The description of a remittance advice remark code, or "" when the list lacks it."""
    return _codes("rarc.csv").get((code or "").strip().upper(), "")


def group(code: str) -> str:
    return GROUPS.get((code or "").upper(), "")


def claim_status(code: str) -> str:
    return CLAIM_STATUSES.get(code or "", "")


def provider_adjustment_reason(code: str) -> str:
    return PROVIDER_ADJUSTMENT_REASONS.get((code or "").upper(), "")
