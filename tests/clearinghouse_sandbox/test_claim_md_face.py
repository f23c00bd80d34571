"""The Claim.MD face: form posts with AccountKey, XML answers, response and ERA cursors
(issue 6 spec, "Claim.MD")."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

import httpx
import pytest

from edi.x271 import read_271
from edi.x277 import read_277
from edi.x278 import read_278
from edi.x835 import read_835
from tests.clearinghouse_sandbox import x12_files
from tests.edi.pyx12_check import validate_with_pyx12

KEY = {"AccountKey": "claim-md-account-key"}


@pytest.fixture
def claim_md(sandbox_clearinghouse):
    return httpx.Client(base_url=sandbox_clearinghouse.vendor_url("claim_md"), timeout=10)


def upload(claim_md, text: str, key: str = "") -> httpx.Response:
    data = {**KEY, **({"idempotency_key": key} if key else {})}
    return claim_md.post("/services/upload/", data=data, files={"File": ("claims.837", text)})


@pytest.mark.parametrize(
    "path", ["/services/upload/", "/services/response/", "/services/eralist/", "/services/elig/"]
)
def test_it_answers_an_xml_error_without_the_account_key(claim_md, path):
    response = claim_md.post(path, data={"ResponseID": "0"})
    assert response.status_code == 401
    error = ET.fromstring(response.text).find("error")
    assert error is not None
    assert error.get("error_mesg") == "AccountKey is missing or not valid"


def test_it_answers_an_upload_with_each_claim_s_status(claim_md):
    text = x12_files.claims_837(
        x12_files.claim("PCN-M1"), x12_files.claim("PCN-M2", member_id="BAD5")
    )
    response = upload(claim_md, text)
    assert response.status_code == 200
    result = ET.fromstring(response.text)
    claims = {c.get("claimid"): (c.get("status"), c.get("messages")) for c in result.iter("claim")}
    assert claims == {
        "PCN-M1": ("A", "Accepted for processing"),
        "PCN-M2": ("R", "SUBSCRIBER MEMBER ID IS INVALID"),
    }
    assert result.findtext("fileid").startswith("SBX")


def test_it_hands_out_responses_after_the_last_one_seen(claim_md):
    upload(claim_md, x12_files.claims_837(x12_files.claim("PCN-M3")))
    first = ET.fromstring(
        claim_md.post("/services/response/", data={**KEY, "ResponseID": "0"}).text
    )
    assert [c.get("claimid") for c in first.iter("claim")] == ["PCN-M3"]
    last = first.get("last_responseid")
    again = ET.fromstring(
        claim_md.post("/services/response/", data={**KEY, "ResponseID": last}).text
    )
    assert list(again.iter("claim")) == []
    assert again.get("last_responseid") == last
    upload(claim_md, x12_files.claims_837(x12_files.claim("PCN-M4"), control_number=906))
    later = ET.fromstring(
        claim_md.post("/services/response/", data={**KEY, "ResponseID": last}).text
    )
    assert [c.get("claimid") for c in later.iter("claim")] == ["PCN-M4"]


def test_it_lists_and_serves_eras(claim_md):
    upload(claim_md, x12_files.claims_837(x12_files.claim(x12_files.paid_claim_id())))
    eras = ET.fromstring(claim_md.post("/services/eralist/", data={**KEY, "ERAID": "0"}).text)
    (era,) = eras.iter("era")
    assert era.get("payerid") == "ACME1"
    text = claim_md.post("/services/era835/", data={**KEY, "eraid": era.get("eraid")}).text
    assert validate_with_pyx12(text) == []
    assert read_835(text).transactions[0].payment_amount == Decimal(era.get("paid_amount"))
    newer = ET.fromstring(
        claim_md.post("/services/eralist/", data={**KEY, "ERAID": era.get("eraid")}).text
    )
    assert list(newer.iter("era")) == []


def test_it_keeps_another_account_s_eras_to_itself(claim_md):
    upload(claim_md, x12_files.claims_837(x12_files.claim("PCN-M5")))
    eras = claim_md.post("/services/eralist/", data={"AccountKey": "other", "ERAID": "0"})
    assert list(ET.fromstring(eras.text).iter("era")) == []
    assert (
        claim_md.post("/services/era835/", data={"AccountKey": "other", "eraid": "1"}).status_code
        == 404
    )


def test_it_takes_an_enrollment_and_reports_its_status(claim_md):
    form = {
        **KEY,
        "payerid": "ACME1",
        "enroll_type": "era",
        "prov_npi": "1234567893",
        "prov_taxid": "561234567",
        "prov_name": "DEMO FAMILY PRACTICE",
        "contact": "Billing office",
        "contact_phone": "9195550100",
        "contact_email": "billing@example.com",
    }
    submitted = ET.fromstring(claim_md.post("/services/enroll/", data=form).text).find("enroll")
    assert submitted.get("status") == "SUBMITTED"
    enroll_id = submitted.get("enrollid")
    status = ET.fromstring(
        claim_md.post("/services/enroll/", data={**KEY, "enrollid": enroll_id}).text
    ).find("enroll")
    assert (status.get("status"), status.get("reason"), status.get("enrollid")) == (
        "APPROVED",
        "",
        enroll_id,
    )


def test_it_answers_eligibility_status_and_auth_posted_as_form_fields(claim_md):
    elig = claim_md.post("/services/elig/", data={**KEY, "x12": x12_files.eligibility_270("BAD3")})
    inquiry = read_271(elig.text).transactions[0].inquiries[0]
    assert [e.reason for e in inquiry.errors] == ["72"]
    status = claim_md.post("/services/claimstatus/", data={**KEY, "x12": x12_files.status_276("Q")})
    assert (
        read_277(status.text).transactions[0].providers[0].claims[0].patient_control_number == "Q"
    )
    auth = claim_md.post("/services/auth/", data={**KEY, "x12": x12_files.review_278()})
    assert read_278(auth.text).transactions[0].decision.action == "A1"


def test_it_answers_an_xml_error_for_a_file_that_is_not_x12(claim_md):
    response = upload(claim_md, "not a claim file")
    assert response.status_code == 400
    assert ET.fromstring(response.text).find("error") is not None
