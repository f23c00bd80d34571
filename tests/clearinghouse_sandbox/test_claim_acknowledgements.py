"""837P in, 999 and 277CA out: what the sandbox accepts and rejects, in files pyx12 accepts."""

from __future__ import annotations

import re

import httpx
import pytest

from edi.x277 import read_277ca
from edi.x999 import read_999
from tests.clearinghouse_sandbox import x12_files
from tests.edi.pyx12_check import validate_with_pyx12


def submit(sandbox, text: str, key: str = "") -> httpx.Response:
    headers = {"Idempotency-Key": key} if key else {}
    return sandbox.http.post(
        f"{sandbox.vendor_url('sandbox')}/api/v1/claims", content=text, headers=headers, timeout=10
    )


def verdicts(ack_277ca: str) -> dict[str, tuple[str, str, str]]:
    ack = read_277ca(ack_277ca).transactions[0]
    return {
        claim.patient_control_number: (
            claim.statuses[0].category,
            claim.statuses[0].code,
            claim.statuses[0].message,
        )
        for provider in ack.providers
        for claim in provider.claims
    }


def test_it_accepts_good_claims_and_rejects_a_bad_member_id(sandbox_clearinghouse):
    text = x12_files.claims_837(
        x12_files.claim("PCN-GOOD-1"),
        x12_files.claim("PCN-BAD-1", member_id="BAD0001"),
        x12_files.claim("PCN-GOOD-2"),
    )
    response = submit(sandbox_clearinghouse, text)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ACCEPTED"
    assert {c["claimId"]: c["status"] for c in body["claims"]} == {
        "PCN-GOOD-1": "ACCEPTED",
        "PCN-BAD-1": "REJECTED",
        "PCN-GOOD-2": "ACCEPTED",
    }
    ack_999, ack_277ca = body["acknowledgements"]
    assert validate_with_pyx12(ack_999) == []
    assert validate_with_pyx12(ack_277ca) == []
    group = read_999(ack_999).transactions[0]
    assert (group.status, group.group_control_number, group.accepted_count) == ("A", 905, 1)
    assert verdicts(ack_277ca) == {
        "PCN-GOOD-1": ("A2", "20", ""),
        "PCN-BAD-1": ("A7", "164", "SUBSCRIBER MEMBER ID IS INVALID"),
        "PCN-GOOD-2": ("A2", "20", ""),
    }
    ack = read_277ca(ack_277ca).transactions[0]
    assert ack.batch_trace == "BATCH-20261125-01"  # the 837's BHT03
    assert (ack.accepted_quantity, ack.rejected_quantity) == (2, 1)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"member_id": "000123"}, ("A7", "164", "SUBSCRIBER MEMBER ID IS INVALID")),
        ({"payer_id": "XXUNKNOWN"}, ("A7", "116", "PAYER ID XXUNKNOWN IS NOT IN THE PAYER LIST")),
    ],
)
def test_it_rejects_a_claim_whose_data_is_wrong(sandbox_clearinghouse, change, expected):
    text = x12_files.claims_837(x12_files.claim("PCN-W1", **change))
    response = submit(sandbox_clearinghouse, text)
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "REJECTED"
    assert body["message"] == f"claim PCN-W1: {expected[2]}"
    assert verdicts(body["acknowledgements"][1]) == {"PCN-W1": expected}
    assert validate_with_pyx12(body["acknowledgements"][1]) == []


def test_it_rejects_a_claim_whose_total_does_not_match_its_lines(sandbox_clearinghouse):
    text = x12_files.with_total(
        x12_files.claims_837(x12_files.claim("PCN-T1"), x12_files.claim("PCN-T2")), "PCN-T2", "190"
    )
    body = submit(sandbox_clearinghouse, text).json()
    assert verdicts(body["acknowledgements"][1]) == {
        "PCN-T1": ("A2", "20", ""),
        "PCN-T2": ("A7", "178", "CLAIM TOTAL 190.00 DOES NOT EQUAL THE SUM OF THE LINES 185.00"),
    }


def test_it_rejects_a_structurally_wrong_file_with_a_999_that_names_the_segment(
    sandbox_clearinghouse,
):
    text = x12_files.claims_837(x12_files.claim("PCN-S1")).replace(
        "CLM*PCN-S1*185*", "CLM*PCN-S1*ABC*"
    )
    response = submit(sandbox_clearinghouse, text)
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "REJECTED"
    assert "CLM02 'ABC' is not a number" in body["message"]
    (ack_999,) = body["acknowledgements"]  # no 277CA for a file the 999 rejected
    assert validate_with_pyx12(ack_999) == []
    group = read_999(ack_999).transactions[0]
    assert (group.status, group.accepted_count) == ("R", 0)
    transaction = group.transactions[0]
    assert (transaction.status, transaction.error_codes) == ("R", ("5",))
    assert [(s.segment_id, s.error_code) for s in transaction.segment_errors] == [("CLM", "8")]
    clm_line = next(n for n, line in enumerate(text.splitlines(), 1) if line.startswith("CLM"))
    st_line = next(n for n, line in enumerate(text.splitlines(), 1) if line.startswith("ST"))
    assert transaction.segment_errors[0].position == clm_line - st_line + 1


def test_it_refuses_a_body_that_is_not_x12_and_logs_nothing(sandbox_clearinghouse):
    response = submit(sandbox_clearinghouse, "hello")
    assert response.status_code == 400
    assert response.json()["message"].startswith("the body is not an X12 interchange")
    assert sandbox_clearinghouse.log() == []


def test_it_puts_the_acknowledgements_in_the_reports_mailbox(sandbox_clearinghouse):
    submit(sandbox_clearinghouse, x12_files.claims_837(x12_files.claim("PCN-M1")))
    reports = sandbox_clearinghouse.http.get(
        f"{sandbox_clearinghouse.vendor_url('sandbox')}/api/v1/reports"
    ).json()
    kinds = [r["kind"] for r in reports["reports"]]
    assert kinds[:2] == ["999", "277CA"]


def test_it_logs_the_submission_with_its_claims_and_outcome(sandbox_clearinghouse):
    text = x12_files.claims_837(
        x12_files.claim("PCN-L1"), x12_files.claim("PCN-L2", member_id="BAD9")
    )
    submit(sandbox_clearinghouse, text, key="claim-77-v1")
    (entry,) = sandbox_clearinghouse.log(kind="837P")
    assert entry["vendor"] == "sandbox"
    assert entry["idempotency_key"] == "claim-77-v1"
    assert entry["claim_ids"] == ["PCN-L1", "PCN-L2"]
    assert entry["outcome"] == "partially_accepted"
    assert "rejected PCN-L2 (SUBSCRIBER MEMBER ID IS INVALID)" in entry["detail"]


def _good() -> str:
    return x12_files.claims_837(x12_files.claim("PCN-V1"))


@pytest.mark.parametrize(
    ("broken", "ak2", "ik5"),
    [
        (lambda: re.sub(r"SE\*\d+\*0001", "SE*99*0001", _good()), "837", ("4",)),
        (lambda: _good().split("\nSE*")[0] + "\n", "837", ("2",)),
        (lambda: _good().replace("GE*1*905", "GE*2*905"), "837", ("5",)),
        (lambda: x12_files.eligibility_270(), "270", ("1",)),
    ],
    ids=["segment-count", "truncated", "group-count", "not-an-837"],
)
def test_it_rejects_a_broken_envelope_with_a_999(sandbox_clearinghouse, broken, ak2, ik5):
    body = submit(sandbox_clearinghouse, broken()).json()
    assert body["status"] == "REJECTED"
    (ack_999,) = body["acknowledgements"]
    assert validate_with_pyx12(ack_999) == []
    transaction = read_999(ack_999).transactions[0].transactions[0]
    assert (transaction.transaction_set, transaction.status, transaction.error_codes) == (
        ak2,
        "R",
        ik5,
    )
