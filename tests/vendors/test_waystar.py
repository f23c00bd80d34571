"""Waystar adapter: contract tests against the recorded exchanges (fixtures/waystar: Basic
auth, configurable paths, X12 as text), failure mapping, the mailbox, no secrets in logs."""

from __future__ import annotations

import base64
import dataclasses
import logging

import httpx
import pytest

from clearinghouse.vendors import http
from clearinghouse.vendors.base import (
    EnrollmentRequest,
    PermanentFailure,
    TransientFailure,
    VendorError,
    VendorSettings,
    VendorTimeout,
)
from clearinghouse.vendors.reports import report_kind
from clearinghouse.vendors.waystar import WaystarAdapter, acknowledgement_verdict
from edi.x277 import write_277ca
from edi.x999 import write_999
from tests.edi import examples
from tests.vendors import recorded
from tests.vendors.state import MemoryState

V = "waystar"
BASE = "https://claims.waystar.example/ws"
ACCOUNT = "practice-svc"
SECRET = "TEST-WAYSTAR-SECRET-0001"
BASIC = base64.b64encode(f"{ACCOUNT}:{SECRET}".encode()).decode()

ENROLLMENT = EnrollmentRequest(
    payer_name="ACME HEALTH PLAN",
    payer_id="ACME",
    electronic_payer_id="ACME1",
    transaction_types=("837P", "835"),
    provider_name="DEMO FAMILY PRACTICE",
    provider_npi="1234567893",
    provider_tax_id="561234567",
    contact_name="PAT BILLER",
    contact_phone="9195550100",
    contact_email="billing@example.com",
)


def make_settings(**overrides) -> VendorSettings:
    values = dict(vendor=V, base_url=BASE, account_id=ACCOUNT, secret=SECRET, timeout_s=12.5)
    return VendorSettings(**{**values, **overrides})


@pytest.fixture
def state():
    return MemoryState()


@pytest.fixture
def vendor(monkeypatch, state):
    """`vendor(*steps, **settings)` scripts the transport and returns (adapter, script)."""

    def make(*steps, **overrides):
        settings = make_settings(**overrides)
        script = recorded.Script(list(steps), settings.base_url)
        recorded.install(monkeypatch, script)
        return WaystarAdapter(settings, state), script

    return make


def steps(*names: str) -> list:
    return recorded.load(V, *names)


def request_text(name: str, index: int = 0) -> str:
    return recorded.request_of(V, name, index)["text"]


def response_text(name: str, index: int = 0) -> str:
    return recorded.response_of(V, name, index)["text"]


def answering(response: httpx.Response | Exception):
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(response, Exception):
            raise response
        return response

    return handler


def raising(error_class):
    def handler(request: httpx.Request) -> httpx.Response:
        raise error_class("boom", request=request)

    return handler


# --- the documented exchanges -------------------------------------------------------------------


def test_it_submits_the_837p_as_text_with_basic_auth_and_the_idempotency_key(vendor):
    adapter, script = vendor(*steps("submit_claims"))
    result = adapter.submit_claims(request_text("submit_claims"), idempotency_key="claim-1001-v1")
    script.done()
    assert script.seen[0].headers["Authorization"] == f"Basic {BASIC}"
    assert script.seen[0].headers["Idempotency-Key"] == "claim-1001-v1"
    assert result.reference == "WS-20261125-0001"
    assert [report_kind(a) for a in result.acknowledgements] == ["999", "277CA"]
    assert result.message.startswith("RECEIVED; claim PCN-1003 rejected: A7:")


def test_it_raises_a_refused_submission_with_the_vendors_message(vendor):
    adapter, _ = vendor(*steps("submit_claims_refused"))
    with pytest.raises(PermanentFailure) as caught:
        adapter.submit_claims(request_text("submit_claims"), idempotency_key="claim-1001-v1")
    assert caught.value.status_code == 400
    assert "Submitter SUB12345 is not set up for production claims" in caught.value.message


def _all_rejected_277ca() -> str:
    ack = examples.claim_acknowledgment()
    for provider in ack.providers:
        for claim in provider.claims:
            claim.statuses = [
                dataclasses.replace(s, category="A7", code="164", action_code="U")
                for s in claim.statuses
            ]
    return write_277ca(examples.envelope(3002), [ack])


def _answer_with(*acks: str, status: str = "RECEIVED"):
    body = {"submissionId": "WS-1", "status": status, "acknowledgements": list(acks)}
    return answering(httpx.Response(200, json=body))


def test_it_raises_when_the_277ca_rejects_every_claim(vendor):
    adapter, _ = vendor(_answer_with(_all_rejected_277ca()))
    with pytest.raises(PermanentFailure) as caught:
        adapter.submit_claims(request_text("submit_claims"), idempotency_key="k")
    assert "claim PCN-1001 rejected: A7:164" in caught.value.message
    assert "claim PCN-1003 rejected: A7:164" in caught.value.message


def test_it_raises_when_the_999_rejects_the_file(vendor):
    rejected_999 = write_999(examples.envelope(3001), [examples.implementation_ack(rejected=True)])
    adapter, _ = vendor(_answer_with(rejected_999))
    with pytest.raises(PermanentFailure, match="999 rejected group 905: NM1 at position 17"):
        adapter.submit_claims(request_text("submit_claims"), idempotency_key="k")


def test_it_raises_a_submission_whose_status_is_rejected(vendor):
    body = {"submissionId": "WS-1", "status": "REJECTED", "message": "Duplicate file"}
    adapter, _ = vendor(answering(httpx.Response(200, json=body)))
    with pytest.raises(PermanentFailure, match="Duplicate file"):
        adapter.submit_claims(request_text("submit_claims"), idempotency_key="k")


def test_it_accepts_a_submission_without_acknowledgements(vendor):
    body = {"submissionId": "WS-2", "status": "RECEIVED"}
    adapter, _ = vendor(answering(httpx.Response(202, json=body)))
    result = adapter.submit_claims(request_text("submit_claims"), idempotency_key="k")
    assert (result.reference, result.acknowledgements, result.message) == ("WS-2", (), "RECEIVED")


@pytest.mark.parametrize("method", ["eligibility", "claim_status", "prior_auth"])
def test_it_exchanges_x12_as_text(vendor, method):
    name = method
    adapter, script = vendor(*steps(name))
    answer = getattr(adapter, method)(request_text(name))
    script.done()
    assert answer == response_text(name)


def test_it_takes_every_path_from_the_options(vendor):
    step = steps("eligibility")[0]
    step["request"]["path"] = "/edi/v2/elig"
    adapter, script = vendor(step, options={"eligibility_path": "/edi/v2/elig"})
    assert adapter.eligibility(request_text("eligibility")) == response_text("eligibility")
    script.done()


def test_it_refuses_an_answer_that_is_not_x12(vendor):
    adapter, _ = vendor(answering(httpx.Response(200, text="<html>Service page</html>")))
    with pytest.raises(TransientFailure, match="not an X12 interchange"):
        adapter.eligibility(request_text("eligibility"))


def test_it_reads_and_deletes_every_report_in_the_mailbox_but_the_835s(vendor):
    recorded_steps = steps("fetch_reports")
    adapter, script = vendor(*recorded_steps[:5])  # RPT-1003 is listed as an 835: left alone
    reports = adapter.fetch_reports()
    script.done()
    assert [(r.report_id, r.kind) for r in reports] == [
        ("RPT-1001", "999"),
        ("RPT-1002", "277CA"),
    ]
    assert [r.text for r in reports] == [s["response"]["text"] for s in recorded_steps[1:5:2]]
    assert [r.url.path for r in script.seen if r.method == "DELETE"] == [
        "/ws/api/v1/reports/RPT-1001",
        "/ws/api/v1/reports/RPT-1002",
    ]

    # the 835 is still listed at the vendor, and fetch_eras takes it
    still_listed = {"reports": [{"id": "RPT-1003", "kind": "835"}]}
    adapter, script = vendor(answering(httpx.Response(200, json=still_listed)), *recorded_steps[5:])
    (era,) = adapter.fetch_eras()
    script.done()
    assert (era.report_id, era.kind) == ("RPT-1003", "835")
    assert era.text == recorded.response_of(V, "fetch_reports", 5)["text"]


def test_it_fetches_only_the_835s_as_eras_and_leaves_the_rest(vendor):
    adapter, script = vendor(*steps("fetch_eras"))
    eras = adapter.fetch_eras()
    script.done()
    assert [(r.report_id, r.kind) for r in eras] == [("RPT-1003", "835")]


def test_it_keeps_the_reports_already_taken_when_the_mailbox_fails_midway(vendor):
    recorded_steps = steps("fetch_reports")
    adapter, _ = vendor(
        *recorded_steps[:3], answering(httpx.Response(503, text="busy")), *recorded_steps[4:]
    )
    reports = adapter.fetch_reports()
    assert [r.report_id for r in reports] == ["RPT-1001"]


def test_it_raises_when_the_first_report_cannot_be_read(vendor):
    adapter, _ = vendor(steps("fetch_reports")[0], raising(httpx.ReadTimeout))
    with pytest.raises(VendorTimeout):
        adapter.fetch_reports()


def test_it_submits_an_enrollment_as_pending_and_reads_its_rejection(vendor):
    adapter, script = vendor(*steps("submit_enrollment", "enrollment_status"))
    submitted = adapter.submit_enrollment(ENROLLMENT)
    assert (submitted.reference, submitted.status) == ("ENR-501", "pending")
    status = adapter.enrollment_status("ENR-501")
    script.done()
    assert status.status == "rejected"
    assert status.reason == "The payer needs a signed EFT agreement first"


def test_it_reads_an_approved_enrollment(vendor):
    body = {"id": "ENR-501", "status": "APPROVED"}
    adapter, _ = vendor(answering(httpx.Response(200, json=body)))
    assert adapter.enrollment_status("ENR-501").status == "active"


def test_it_checks_health(vendor):
    adapter, script = vendor(*steps("health"))
    health = adapter.health_check()
    script.done()
    assert health.ok is True
    assert health.latency_ms >= 0


def test_it_reports_an_unhealthy_vendor_without_raising(vendor):
    adapter, _ = vendor(answering(httpx.Response(503, text="down for maintenance")))
    health = adapter.health_check()
    assert health.ok is False
    assert "HTTP 503" in health.detail


# --- failure mapping ----------------------------------------------------------------------------


def test_it_raises_a_timeout_with_an_unknown_outcome_for_claims(vendor):
    adapter, _ = vendor(raising(httpx.ReadTimeout))
    with pytest.raises(VendorTimeout) as caught:
        adapter.submit_claims(request_text("submit_claims"), idempotency_key="k")
    assert caught.value.outcome_unknown is True


def test_it_raises_503_as_transient(vendor):
    adapter, _ = vendor(answering(httpx.Response(503, text="Service Unavailable")))
    with pytest.raises(TransientFailure) as caught:
        adapter.submit_claims(request_text("submit_claims"), idempotency_key="k")
    assert caught.value.status_code == 503
    assert caught.value.outcome_unknown is True


def test_it_raises_a_dropped_connection_as_transient_with_an_unknown_outcome(vendor):
    adapter, _ = vendor(raising(httpx.RemoteProtocolError))
    with pytest.raises(TransientFailure) as caught:
        adapter.submit_claims(request_text("submit_claims"), idempotency_key="k")
    assert not isinstance(caught.value, VendorTimeout)
    assert caught.value.outcome_unknown is True


def test_it_raises_a_refused_connection_as_transient_with_a_known_outcome(vendor):
    adapter, _ = vendor(raising(httpx.ConnectError))
    with pytest.raises(TransientFailure) as caught:
        adapter.submit_claims(request_text("submit_claims"), idempotency_key="k")
    assert caught.value.outcome_unknown is False


def test_it_raises_a_4xx_as_permanent_with_the_vendors_message(vendor):
    answer = httpx.Response(422, json={"errors": [{"description": "NM109 is missing"}]})
    adapter, _ = vendor(answering(answer))
    with pytest.raises(PermanentFailure, match="NM109 is missing"):
        adapter.claim_status(request_text("claim_status"))


def test_it_uses_the_configured_timeout(monkeypatch, state):
    seen = []

    def client(timeout_s: float) -> httpx.Client:
        seen.append(timeout_s)
        handler = recorded.Script(steps("health"), BASE)
        return httpx.Client(transport=httpx.MockTransport(handler))

    monkeypatch.setattr(http, "client", client)
    WaystarAdapter(make_settings(), state).health_check()
    assert seen == [12.5]


def test_it_never_logs_or_raises_the_secret(vendor, caplog):
    caplog.set_level(logging.DEBUG)
    echo = httpx.Response(401, text=f"Invalid credentials {ACCOUNT}:{SECRET} ({BASIC})")
    adapter, _ = vendor(
        *steps("submit_claims"),
        *steps("fetch_reports")[:5],  # the listed 835 stays for fetch_eras
        *steps("health"),
        answering(echo),
        raising(httpx.ReadTimeout),
    )
    adapter.submit_claims(request_text("submit_claims"), idempotency_key="claim-1001-v1")
    adapter.fetch_reports()
    adapter.health_check()
    messages = []
    for call in (adapter.eligibility, adapter.claim_status):
        with pytest.raises(VendorError) as caught:
            call(request_text("eligibility"))
        messages.append(str(caught.value))
    assert "Invalid credentials" in messages[0]
    assert "POST /ws/api/v1/claims -> 200" in caplog.text
    for text in [caplog.text, *messages]:
        assert SECRET not in text
        assert BASIC not in text


# --- helpers ------------------------------------------------------------------------------------


def test_it_reads_the_report_kind_from_the_x12():
    assert report_kind(response_text("claim_status")) == "277"
    assert report_kind(recorded.response_of(V, "fetch_reports", 3)["text"]) == "277CA"
    assert report_kind("not x12", "999") == "999"


def test_it_summarises_a_partly_rejected_277ca():
    text = write_277ca(examples.envelope(), [examples.claim_acknowledgment()])
    all_rejected, summary = acknowledgement_verdict([text])
    assert all_rejected is False
    assert summary.startswith("claim PCN-1003 rejected: A7:")
