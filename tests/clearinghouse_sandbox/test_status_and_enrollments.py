"""276 -> 277 with what the sandbox knows of a claim; enrollments decided after the delay."""

from __future__ import annotations

import httpx

from edi.x277 import read_277
from tests.clearinghouse_sandbox import x12_files


def sandbox_face(sandbox) -> httpx.Client:
    return httpx.Client(base_url=f"{sandbox.vendor_url('sandbox')}/api/v1", timeout=10)


def statuses(client: httpx.Client, *claim_ids: str) -> dict[str, tuple]:
    text = client.post("/claim-status", content=x12_files.status_276(*claim_ids)).text
    claims = read_277(text).transactions[0].providers[0].claims
    return {
        c.patient_control_number: (c.statuses[0].category, c.statuses[0].code, c.statuses[0].paid)
        for c in claims
    }


def test_it_answers_a_claim_s_current_status(sandbox_clearinghouse):
    client = sandbox_face(sandbox_clearinghouse)
    paid_id, denied_id = x12_files.paid_claim_id(), x12_files.denied_claim_id()
    client.post(
        "/claims",
        content=x12_files.claims_837(
            x12_files.claim(paid_id),
            x12_files.claim(denied_id),
            x12_files.claim("PCN-REJ", member_id="BAD2"),
        ),
    )
    answer = statuses(client, paid_id, denied_id, "PCN-REJ", "PCN-NEVER")
    assert answer[paid_id][:2] == ("F1", "65")
    assert answer[paid_id][2] > 0
    assert answer[denied_id] == ("F2", "107", 0)
    assert answer["PCN-REJ"] == ("A7", "164", None)
    assert answer["PCN-NEVER"] == ("A4", "35", None)
    (entry,) = sandbox_clearinghouse.log(kind="276")
    assert entry["claim_ids"] == [paid_id, denied_id, "PCN-REJ", "PCN-NEVER"]


def test_it_answers_accepted_until_the_era_is_out(sandbox_clearinghouse):
    sandbox_clearinghouse.settings(era_delay_s=3600)
    client = sandbox_face(sandbox_clearinghouse)
    client.post("/claims", content=x12_files.claims_837(x12_files.claim("PCN-WAIT")))
    assert statuses(client, "PCN-WAIT") == {"PCN-WAIT": ("A2", "20", None)}


def test_it_keeps_an_enrollment_pending_until_the_delay_has_passed(sandbox_clearinghouse):
    sandbox_clearinghouse.settings(enrollment_delay_s=3600)
    client = sandbox_face(sandbox_clearinghouse)
    created = client.post("/enrollments", json={"payerId": "ACME1", "npi": "1234567893"}).json()
    assert client.get(f"/enrollments/{created['id']}").json() == {
        "id": created["id"],
        "status": "SUBMITTED",
        "reason": "",
    }


def test_it_approves_or_rejects_an_enrollment_after_the_delay(sandbox_clearinghouse):
    client = sandbox_face(sandbox_clearinghouse)
    approved = client.post("/enrollments", json={"payerId": "ACME1", "npi": "1234567893"}).json()
    rejected = client.post("/enrollments", json={"payerId": "REJ-7", "npi": "1234567893"}).json()
    assert client.get(f"/enrollments/{approved['id']}").json()["status"] == "APPROVED"
    answer = client.get(f"/enrollments/{rejected['id']}").json()
    assert answer["status"] == "REJECTED"
    assert "not credentialed" in answer["reason"]
    entries = sandbox_clearinghouse.log(kind="enrollment")
    assert [e["outcome"] for e in entries] == ["submitted", "submitted"]
