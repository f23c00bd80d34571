"""A repeated submission with the same idempotency key gets the original answer, once in
the log, on every face."""

from __future__ import annotations

import httpx
import pytest

from tests.clearinghouse_sandbox import x12_files


def chc_submit(sandbox, text: str, key: str) -> httpx.Response:
    base = sandbox.vendor_url("change_healthcare")
    token = sandbox.http.post(
        f"{base}/apip/auth/v2/token",
        data={"client_id": "c", "client_secret": "s", "grant_type": "client_credentials"},
    ).json()["access_token"]
    return sandbox.http.post(
        f"{base}/medicalnetwork/professionalclaims/v3/raw-x12-submission",
        json={"x12": text},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
    )


def availity_submit(sandbox, text: str, key: str) -> httpx.Response:
    base = sandbox.vendor_url("availity")
    token = sandbox.http.post(
        f"{base}/availity/v1/token",
        data={"client_id": "c", "client_secret": "s", "grant_type": "client_credentials"},
    ).json()["access_token"]
    return sandbox.http.post(
        f"{base}/availity/v1/edi/claims",
        content=text,
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
    )


def claim_md_submit(sandbox, text: str, key: str) -> httpx.Response:
    return sandbox.http.post(
        f"{sandbox.vendor_url('claim_md')}/services/upload/",
        data={"AccountKey": "k", "idempotency_key": key},
        files={"File": ("claims.837", text)},
    )


def waystar_submit(sandbox, text: str, key: str) -> httpx.Response:
    return sandbox.http.post(
        f"{sandbox.vendor_url('waystar')}/api/v1/claims",
        content=text,
        auth=("account", "secret"),
        headers={"Idempotency-Key": key},
    )


def sandbox_submit(sandbox, text: str, key: str) -> httpx.Response:
    return sandbox.http.post(
        f"{sandbox.vendor_url('sandbox')}/api/v1/claims",
        content=text,
        headers={"Idempotency-Key": key},
    )


SUBMIT = {
    "change_healthcare": chc_submit,
    "availity": availity_submit,
    "claim_md": claim_md_submit,
    "waystar": waystar_submit,
    "sandbox": sandbox_submit,
}


@pytest.mark.parametrize("vendor", SUBMIT)
def test_a_repeated_key_gets_the_original_answer_and_one_log_entry(sandbox_clearinghouse, vendor):
    submit = SUBMIT[vendor]
    first = submit(sandbox_clearinghouse, x12_files.claims_837(x12_files.claim("PCN-I1")), "k-1")
    # A retry builds the file again (a new ISA13): the key, not the body, identifies it.
    again = submit(
        sandbox_clearinghouse,
        x12_files.claims_837(x12_files.claim("PCN-I1"), control_number=906),
        "k-1",
    )
    assert first.status_code == again.status_code
    assert first.content == again.content
    entries = sandbox_clearinghouse.log(kind="837P", vendor=vendor)
    assert [(e["idempotency_key"], e["claim_ids"]) for e in entries] == [("k-1", ["PCN-I1"])]
    assert sandbox_clearinghouse.state()["counts"]["claims_accepted"] == 1


def test_a_rejection_is_remembered_too(sandbox_clearinghouse):
    text = x12_files.claims_837(x12_files.claim("PCN-I2", member_id="BAD"))
    first = sandbox_submit(sandbox_clearinghouse, text, "k-2")
    again = sandbox_submit(sandbox_clearinghouse, text, "k-2")
    assert (first.status_code, again.status_code) == (400, 400)
    assert first.json() == again.json()
    assert len(sandbox_clearinghouse.log(kind="837P")) == 1


def test_another_key_is_another_submission(sandbox_clearinghouse):
    text = x12_files.claims_837(x12_files.claim("PCN-I3"))
    first = sandbox_submit(sandbox_clearinghouse, text, "k-3").json()
    second = sandbox_submit(sandbox_clearinghouse, text, "k-4").json()
    assert first["submissionId"] != second["submissionId"]
    assert [e["idempotency_key"] for e in sandbox_clearinghouse.log()] == ["k-3", "k-4"]


def test_without_a_key_every_submission_counts(sandbox_clearinghouse):
    text = x12_files.claims_837(x12_files.claim("PCN-I4"))
    for _ in range(2):
        sandbox_clearinghouse.http.post(
            f"{sandbox_clearinghouse.vendor_url('sandbox')}/api/v1/claims", content=text
        )
    assert len(sandbox_clearinghouse.log(kind="837P")) == 2


def test_a_request_the_sandbox_refused_is_not_remembered(sandbox_clearinghouse):
    assert sandbox_submit(sandbox_clearinghouse, "garbage", "k-5").status_code == 400
    text = x12_files.claims_837(x12_files.claim("PCN-I5"))
    assert sandbox_submit(sandbox_clearinghouse, text, "k-5").status_code == 200


def test_the_log_filters_by_kind_and_vendor(sandbox_clearinghouse):
    sandbox_submit(sandbox_clearinghouse, x12_files.claims_837(x12_files.claim("PCN-I6")), "a")
    waystar_submit(sandbox_clearinghouse, x12_files.claims_837(x12_files.claim("PCN-I7")), "b")
    sandbox_clearinghouse.http.post(
        f"{sandbox_clearinghouse.vendor_url('sandbox')}/api/v1/eligibility",
        content=x12_files.eligibility_270(),
    )
    assert [e["kind"] for e in sandbox_clearinghouse.log()] == ["837P", "837P", "270"]
    assert [e["idempotency_key"] for e in sandbox_clearinghouse.log(vendor="waystar")] == ["b"]
    assert [e["vendor"] for e in sandbox_clearinghouse.log(kind="270")] == ["sandbox"]
