"""The Change Healthcare (Optum) face: OAuth2 tokens, raw-X12 JSON endpoints, the reports
mailbox, enrollments, health (issue 6 spec, "Change Healthcare (Optum)")."""

from __future__ import annotations

import time

import httpx
import pytest

from edi.x271 import read_271
from edi.x277 import read_277
from edi.x278 import read_278
from tests.clearinghouse_sandbox import x12_files
from tests.edi.pyx12_check import validate_with_pyx12


@pytest.fixture
def chc(sandbox_clearinghouse):
    return httpx.Client(base_url=sandbox_clearinghouse.vendor_url("change_healthcare"), timeout=10)


def token(chc, client_id: str = "demo-client") -> dict:
    response = chc.post(
        "/apip/auth/v2/token",
        data={
            "client_id": client_id,
            "client_secret": "s3cret",
            "grant_type": "client_credentials",
        },
    )
    assert response.status_code == 200
    return response.json()


def bearer(chc, client_id: str = "demo-client") -> dict[str, str]:
    return {"Authorization": f"Bearer {token(chc, client_id)['access_token']}"}


def test_it_issues_hour_long_bearer_tokens(chc):
    body = token(chc)
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert len(body["access_token"]) > 20


def test_it_issues_tokens_with_the_lifetime_the_control_api_sets(chc, sandbox_clearinghouse):
    sandbox_clearinghouse.settings(token_ttl_s=2)
    assert token(chc)["expires_in"] == 2


def test_it_refuses_an_expired_token(chc, sandbox_clearinghouse):
    sandbox_clearinghouse.settings(token_ttl_s=0.3)
    headers = bearer(chc)
    assert chc.get("/medicalnetwork/eligibility/v3/healthcheck", headers=headers).status_code == 200
    time.sleep(0.35)
    response = chc.get("/medicalnetwork/eligibility/v3/healthcheck", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer made-up"}, {"Authorization": "Basic YTpi"}]
)
def test_it_answers_401_without_a_valid_bearer_token(chc, headers):
    response = chc.post(
        "/medicalnetwork/eligibility/v3/raw-x12",
        json={"x12": x12_files.eligibility_270()},
        headers=headers,
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_it_refuses_a_token_request_without_client_credentials(chc):
    response = chc.post(
        "/apip/auth/v2/token", data={"client_id": "x", "grant_type": "client_credentials"}
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    response = chc.post(
        "/apip/auth/v2/token", data={"client_id": "x", "client_secret": "y", "grant_type": "pw"}
    )
    assert response.status_code == 400


def test_it_answers_a_270_with_a_271(chc):
    response = chc.post(
        "/medicalnetwork/eligibility/v3/raw-x12",
        json={"x12": x12_files.eligibility_270()},
        headers=bearer(chc),
    )
    assert response.status_code == 200
    answer = read_271(response.json()["x12"]).transactions[0]
    assert answer.inquiries[0].benefits[0].code == "1"


def test_it_accepts_a_claim_submission(chc, sandbox_clearinghouse):
    text = x12_files.claims_837(x12_files.claim("PCN-C1"), control_number=4242)
    response = chc.post(
        "/medicalnetwork/professionalclaims/v3/raw-x12-submission",
        json={"x12": text},
        headers={**bearer(chc), "Idempotency-Key": "claim-1-v1"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "SUCCESS"
    assert body["controlNumber"] == "4242"
    assert body["claimReference"]["correlationId"].startswith("SBX")
    (entry,) = sandbox_clearinghouse.log(vendor="change_healthcare")
    assert (entry["account"], entry["idempotency_key"]) == ("demo-client", "claim-1-v1")


def test_it_rejects_a_claim_with_the_reason(chc):
    text = x12_files.claims_837(x12_files.claim("PCN-C2", member_id="BAD77"))
    response = chc.post(
        "/medicalnetwork/professionalclaims/v3/raw-x12-submission",
        json={"x12": text},
        headers=bearer(chc),
    )
    assert response.status_code == 400
    assert response.json() == {
        "errors": [{"description": "claim PCN-C2: SUBSCRIBER MEMBER ID IS INVALID"}]
    }


def test_it_answers_claim_status_and_prior_auth(chc):
    headers = bearer(chc)
    chc.post(
        "/medicalnetwork/professionalclaims/v3/raw-x12-submission",
        json={"x12": x12_files.claims_837(x12_files.claim("PCN-C3"))},
        headers=headers,
    )
    status = chc.post(
        "/medicalnetwork/claimstatus/v2/raw-x12",
        json={"x12": x12_files.status_276("PCN-C3")},
        headers=headers,
    )
    claim = read_277(status.json()["x12"]).transactions[0].providers[0].claims[0]
    assert claim.patient_control_number == "PCN-C3"
    assert claim.statuses[0].category in ("F1", "F2")  # paid or denied: the ERA came already
    auth = chc.post(
        "/medicalnetwork/priorauthorization/v1/raw-x12",
        json={"x12": x12_files.review_278()},
        headers=headers,
    )
    assert read_278(auth.json()["x12"]).transactions[0].decision.action == "A1"


def test_it_refuses_a_body_without_x12(chc):
    response = chc.post(
        "/medicalnetwork/eligibility/v3/raw-x12", json={"payload": "?"}, headers=bearer(chc)
    )
    assert response.status_code == 400
    assert "x12" in response.json()["errors"][0]["description"]


def test_it_keeps_acknowledgements_and_eras_in_the_reports_mailbox(chc):
    headers = bearer(chc)
    chc.post(
        "/medicalnetwork/professionalclaims/v3/raw-x12-submission",
        json={"x12": x12_files.claims_837(x12_files.claim(x12_files.paid_claim_id()))},
        headers=headers,
    )
    names = chc.get("/medicalnetwork/reports/v2", headers=headers).json()["reportNames"]
    assert len(names) == 3
    contents = [
        chc.get(f"/medicalnetwork/reports/v2/{name}", headers=headers).json()["reportContent"]
        for name in names
    ]
    kinds = [text.split("ST*", 1)[1].split("*", 1)[0] for text in contents]
    assert kinds == ["999", "277", "835"]
    assert "*TH~" in contents[1]  # BHT06 TH: the 277 is a 277CA
    assert all(validate_with_pyx12(text) == [] for text in contents)
    delete = chc.delete(f"/medicalnetwork/reports/v2/{names[0]}", headers=headers)
    assert delete.status_code == 200
    assert chc.get("/medicalnetwork/reports/v2", headers=headers).json()["reportNames"] == names[1:]
    assert chc.get(f"/medicalnetwork/reports/v2/{names[0]}", headers=headers).status_code == 404


def test_it_keeps_each_account_s_mailbox_to_itself(chc):
    chc.post(
        "/medicalnetwork/professionalclaims/v3/raw-x12-submission",
        json={"x12": x12_files.claims_837(x12_files.claim("PCN-C5"))},
        headers=bearer(chc, "practice-a"),
    )
    other = bearer(chc, "practice-b")
    assert chc.get("/medicalnetwork/reports/v2", headers=other).json() == {"reportNames": []}


def test_it_reports_health(chc):
    response = chc.get("/medicalnetwork/eligibility/v3/healthcheck", headers=bearer(chc))
    assert response.json() == {"status": "UP"}


def test_it_takes_enrollments_and_decides_them(chc):
    headers = bearer(chc)
    response = chc.post(
        "/enrollment/v1/enrollments",
        json={
            "payerId": "ACME1",
            "npi": "1234567893",
            "taxId": "561234567",
            "providerName": "DEMO FAMILY PRACTICE",
            "transactions": ["837P", "835"],
            "contact": {"name": "Billing", "phone": "9195550100", "email": "b@example.com"},
        },
        headers=headers,
    )
    assert response.status_code == 201
    created = response.json()
    assert created["status"] == "SUBMITTED"
    status = chc.get(f"/enrollment/v1/enrollments/{created['id']}", headers=headers).json()
    assert status == {"id": created["id"], "status": "APPROVED", "reason": ""}


def test_it_answers_404_for_an_unknown_path_and_405_for_a_wrong_method(chc):
    headers = bearer(chc)
    assert chc.get("/medicalnetwork/nothing", headers=headers).status_code == 404
    assert chc.get("/medicalnetwork/eligibility/v3/raw-x12", headers=headers).status_code == 405
