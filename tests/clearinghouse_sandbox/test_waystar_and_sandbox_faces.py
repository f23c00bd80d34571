"""Waystar (Basic auth, configurable /api/v1/ paths) and the sandbox's own face (the same
paths without authentication) (issue 6 spec, "Waystar", "The sandbox's own generic face")."""

from __future__ import annotations

import httpx
import pytest

from edi.x271 import read_271
from edi.x277 import read_277
from edi.x278 import read_278
from tests.clearinghouse_sandbox import x12_files

AUTH = ("waystar-service-account", "s3cret")


@pytest.fixture(params=["waystar", "sandbox"])
def face(request, sandbox_clearinghouse):
    client = httpx.Client(
        base_url=f"{sandbox_clearinghouse.vendor_url(request.param)}/api/v1", timeout=10
    )
    if request.param == "waystar":
        client.auth = AUTH
    return client


def test_waystar_requires_basic_auth(sandbox_clearinghouse):
    base = f"{sandbox_clearinghouse.vendor_url('waystar')}/api/v1"
    response = sandbox_clearinghouse.http.get(f"{base}/health")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert (
        sandbox_clearinghouse.http.post(
            f"{base}/claims", content="ISA", auth=("user", "")
        ).status_code
        == 401
    )
    assert sandbox_clearinghouse.http.get(f"{base}/health", auth=AUTH).json() == {"status": "UP"}


def test_the_sandbox_face_needs_no_auth(sandbox_clearinghouse):
    base = f"{sandbox_clearinghouse.vendor_url('sandbox')}/api/v1"
    assert sandbox_clearinghouse.http.get(f"{base}/health").json() == {"status": "UP"}


def test_it_answers_a_claim_submission_at_once(face):
    response = face.post("/claims", content=x12_files.claims_837(x12_files.claim("PCN-W1")))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ACCEPTED"
    assert body["submissionId"].startswith("SBX")
    assert body["claims"] == [{"claimId": "PCN-W1", "status": "ACCEPTED", "message": ""}]
    assert [a.split("ST*", 1)[1][:3] for a in body["acknowledgements"]] == ["999", "277"]


def test_it_answers_eligibility_status_and_authorizations(face):
    elig = face.post("/eligibility", content=x12_files.eligibility_270())
    assert read_271(elig.text).transactions[0].inquiries[0].benefits
    status = face.post("/claim-status", content=x12_files.status_276("PCN-Z"))
    assert read_277(status.text).transactions[0].providers[0].claims[0].statuses[0].category == "A4"
    auth = face.post("/authorizations", content=x12_files.review_278())
    assert read_278(auth.text).transactions[0].decision.action == "A1"


def test_it_refuses_x12_it_cannot_read(face):
    response = face.post("/eligibility", content=x12_files.claims_837(x12_files.claim("P")))
    assert response.status_code == 400
    assert "not a 270" in response.json()["message"]


def test_it_serves_and_deletes_reports(face):
    face.post("/claims", content=x12_files.claims_837(x12_files.claim("PCN-W2")))
    reports = face.get("/reports").json()["reports"]
    assert [r["kind"] for r in reports] == ["999", "277CA", "835"]
    assert face.get(f"/reports/{reports[2]['id']}").text.startswith("ISA*")
    assert face.delete(f"/reports/{reports[2]['id']}").json()["status"] == "DELETED"
    assert face.get(f"/reports/{reports[2]['id']}").status_code == 404


def test_it_takes_enrollments(face):
    created = face.post("/enrollments", json={"payerId": "ACME1", "npi": "1234567893"})
    assert created.status_code == 201
    assert face.get(f"/enrollments/{created.json()['id']}").json()["status"] == "APPROVED"
    assert face.get("/enrollments/SBXENR999999").status_code == 404
    missing = face.post("/enrollments", json={"npi": "1234567893"})
    assert missing.status_code == 400
    assert missing.json()["message"] == "the enrollment needs payerId"
