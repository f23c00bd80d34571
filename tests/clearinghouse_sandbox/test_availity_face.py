"""The Availity face: 5-minute OAuth2 tokens, asynchronous coverages polled by id (with 429
and Retry-After when throttled), raw X12 under /availity/v1/edi/ (issue 6 spec, "Availity")."""

from __future__ import annotations

import httpx
import pytest

from edi.x271 import read_271
from edi.x277 import read_277
from edi.x278 import read_278
from tests.clearinghouse_sandbox import x12_files

COVERAGE = {
    "payerId": "ACME1",
    "memberId": "XYZ123456789",
    "patientLastName": "DOE",
    "patientFirstName": "JOHN",
    "patientBirthDate": "1980-05-17",
    "serviceType": "30",
    "providerNpi": "1234567893",
}


@pytest.fixture
def availity(sandbox_clearinghouse):
    client = httpx.Client(base_url=sandbox_clearinghouse.vendor_url("availity"), timeout=10)
    response = client.post(
        "/availity/v1/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "availity-client",
            "client_secret": "s3cret",
            "scope": "hipaa",
        },
    )
    client.token_body = response.json()
    client.headers["Authorization"] = f"Bearer {client.token_body['access_token']}"
    return client


def test_it_issues_five_minute_tokens(availity):
    assert availity.token_body["expires_in"] == 300
    assert availity.token_body["scope"] == "hipaa"


def test_it_honours_the_token_lifetime_setting(sandbox_clearinghouse):
    sandbox_clearinghouse.settings(token_ttl_s=2)
    response = sandbox_clearinghouse.http.post(
        f"{sandbox_clearinghouse.vendor_url('availity')}/availity/v1/token",
        data={"grant_type": "client_credentials", "client_id": "a", "client_secret": "b"},
    )
    assert response.json()["expires_in"] == 2


def test_it_answers_401_without_a_bearer_token(sandbox_clearinghouse):
    base = sandbox_clearinghouse.vendor_url("availity")
    assert sandbox_clearinghouse.http.get(f"{base}/availity/v1/health").status_code == 401
    response = sandbox_clearinghouse.http.post(f"{base}/availity/v1/coverages", data=COVERAGE)
    assert response.status_code == 401


def test_it_answers_coverages_asynchronously(availity, sandbox_clearinghouse):
    created = availity.post("/availity/v1/coverages", data=COVERAGE)
    assert created.status_code == 202
    assert created.json()["statusCode"] == "0"
    coverage_id = created.json()["id"]
    first = availity.get(f"/availity/v1/coverages/{coverage_id}").json()
    assert (first["id"], first["statusCode"]) == (coverage_id, "0")  # in progress
    done = availity.get(f"/availity/v1/coverages/{coverage_id}").json()
    assert done["statusCode"] == "4"
    assert done["plans"][0]["status"] == "Active Coverage"
    inquiry = read_271(done["x12"]).transactions[0].inquiries[0]
    assert inquiry.subscriber.identifier == "XYZ123456789"
    assert [b.code for b in inquiry.benefits] == ["1", "B", "C", "C", "A"]
    (entry,) = sandbox_clearinghouse.log(kind="270")
    assert (entry["vendor"], entry["outcome"]) == ("availity", "active")


def test_it_answers_an_invalid_member_id_with_aaa_72(availity, sandbox_clearinghouse):
    sandbox_clearinghouse.settings(coverage_pending_polls=0)
    coverage_id = availity.post(
        "/availity/v1/coverages", data={**COVERAGE, "memberId": "BAD42"}
    ).json()["id"]
    done = availity.get(f"/availity/v1/coverages/{coverage_id}").json()
    assert done["statusCode"] == "4"
    assert done["plans"] == []
    inquiry = read_271(done["x12"]).transactions[0].inquiries[0]
    assert [(e.reason, e.follow_up) for e in inquiry.errors] == [("72", "C")]


def test_it_reports_a_request_error_with_status_19(availity, sandbox_clearinghouse):
    sandbox_clearinghouse.settings(coverage_pending_polls=0)
    coverage_id = availity.post(
        "/availity/v1/coverages", data={**COVERAGE, "memberId": "ERR1"}
    ).json()["id"]
    done = availity.get(f"/availity/v1/coverages/{coverage_id}").json()
    assert done["statusCode"] == "19"
    assert done["statusMessage"]


def test_it_throttles_polls_with_429_and_retry_after(availity, sandbox_clearinghouse):
    sandbox_clearinghouse.settings(throttle_polls=2, retry_after_s=1, coverage_pending_polls=0)
    coverage_id = availity.post("/availity/v1/coverages", data=COVERAGE).json()["id"]
    for _ in range(2):
        throttled = availity.get(f"/availity/v1/coverages/{coverage_id}")
        assert throttled.status_code == 429
        assert throttled.headers["Retry-After"] == "1"
    assert availity.get(f"/availity/v1/coverages/{coverage_id}").json()["statusCode"] == "4"


def test_it_refuses_a_coverage_request_missing_fields(availity):
    response = availity.post("/availity/v1/coverages", data={"payerId": "ACME1"})
    assert response.status_code == 400
    assert "memberId" in response.json()["message"]


def test_it_receives_claims_and_answers_through_the_mailbox(availity):
    text = x12_files.claims_837(
        x12_files.claim("PCN-AV1"), x12_files.claim("PCN-AV2", member_id="BAD1")
    )
    response = availity.post(
        "/availity/v1/edi/claims", content=text, headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "RECEIVED"
    assert body["batchId"].startswith("SBX")
    reports = availity.get("/availity/v1/edi/reports").json()["reports"]
    assert [r["kind"] for r in reports] == ["999", "277CA", "835"]
    ack = availity.get(f"/availity/v1/edi/reports/{reports[1]['id']}")
    assert "STC*A7:164:IL" in ack.text
    assert availity.delete(f"/availity/v1/edi/reports/{reports[0]['id']}").status_code == 200
    assert len(availity.get("/availity/v1/edi/reports").json()["reports"]) == 2


def test_it_answers_claim_status_and_authorizations_as_raw_x12(availity):
    status = availity.post("/availity/v1/edi/claim-status", content=x12_files.status_276("PCN-X"))
    claim = read_277(status.text).transactions[0].providers[0].claims[0]
    assert (claim.statuses[0].category, claim.statuses[0].code) == ("A4", "35")  # not found
    auth = availity.post("/availity/v1/edi/authorizations", content=x12_files.review_278())
    assert read_278(auth.text).transactions[0].decision.certification_number.startswith("SBXAUTH")


def test_it_takes_enrollments(availity):
    created = availity.post(
        "/availity/v1/enrollments", json={"payerId": "REJ9", "npi": "1234567893"}
    )
    assert created.status_code == 201
    status = availity.get(f"/availity/v1/enrollments/{created.json()['id']}").json()
    assert status["status"] == "REJECTED"
    assert status["reason"]


def test_it_reports_health(availity):
    assert availity.get("/availity/v1/health").status_code == 200
