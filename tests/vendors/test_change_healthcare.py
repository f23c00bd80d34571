"""Change Healthcare (Optum) adapter: contract tests against the recorded documented
exchanges (fixtures/change_healthcare), failure mapping, token handling, no secrets in logs."""

from __future__ import annotations

import dataclasses
import json
import logging
import time

import httpx
import pytest

from clearinghouse.vendors.base import (
    EnrollmentRequest,
    PermanentFailure,
    TransientFailure,
    VendorSettings,
    VendorTimeout,
)
from clearinghouse.vendors.change_healthcare import ChangeHealthcareAdapter
from clearinghouse.vendors.reports import report_kind
from edi.x271 import read_271
from edi.x277 import read_277, read_277ca
from edi.x278 import read_278
from edi.x835 import read_835
from edi.x999 import read_999
from tests.clearinghouse_sandbox import x12_files
from tests.sandbox import TEST_SETTINGS as SANDBOX_TEST_SETTINGS
from tests.vendors import recorded
from tests.vendors.state import MemoryState

V = "change_healthcare"
BASE = "https://sandbox.apigw.changehealthcare.com"
SECRET = "chc-test-client-secret-7Yq2"
TOKEN = "chc-test-access-token-0001"


def make_settings(**overrides) -> VendorSettings:
    values = dict(
        vendor=V, base_url=BASE, account_id="chc-test-client-id", secret=SECRET, timeout_s=15.0
    )
    return VendorSettings(**{**values, **overrides})


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


@pytest.fixture
def clock(monkeypatch):
    return recorded.use_fake_clock(monkeypatch)


@pytest.fixture
def state(clock):
    return MemoryState(clock=clock.time)


@pytest.fixture
def vendor(monkeypatch, state):
    """`vendor(*steps, **settings)` scripts the transport and returns (adapter, script)."""

    def make(*steps, **overrides):
        settings = make_settings(**overrides)
        script = recorded.Script(list(steps), settings.base_url)
        recorded.install(monkeypatch, script)
        return ChangeHealthcareAdapter(settings, state), script

    return make


def x12_of(name: str, which: str = "request") -> str:
    return recorded.load(V, name)[0][which]["json"]["x12"]


def steps(*names: str) -> list:
    return recorded.load(V, *names)


# --- the documented exchanges ----------------------------------------------------------------


def test_it_sends_a_270_and_returns_the_271(vendor):
    adapter, script = vendor(*steps("token", "eligibility"))
    assert adapter.eligibility(x12_of("eligibility")) == x12_of("eligibility", "response")
    script.done()


def test_it_submits_claims_with_the_idempotency_key(vendor):
    adapter, script = vendor(*steps("token", "claims_submit"))
    result = adapter.submit_claims(x12_of("claims_submit"), idempotency_key="claim-41-v3")
    script.done()
    assert result.reference == "202611250930-CHC-7731"
    assert result.message == "SUCCESS"
    assert result.acknowledgements == ()


def test_it_raises_a_rejected_claim_file_with_the_vendors_reason(vendor):
    adapter, _ = vendor(*steps("token", "claims_rejected"))
    with pytest.raises(PermanentFailure) as caught:
        adapter.submit_claims(x12_of("claims_rejected"), idempotency_key="claim-41-v3")
    assert caught.value.status_code == 400
    assert "Subscriber member id is invalid" in caught.value.message
    assert "ISA" not in str(caught.value)


def test_it_treats_errors_in_a_200_answer_as_a_rejection(vendor):
    def answer(request):
        return httpx.Response(200, json={"errors": [{"description": "Payer id not found"}]})

    adapter, _ = vendor(*steps("token"), answer)
    with pytest.raises(PermanentFailure, match="Payer id not found"):
        adapter.submit_claims(x12_of("claims_submit"), idempotency_key="k")


def test_it_asks_claim_status_with_a_276(vendor):
    adapter, script = vendor(*steps("token", "claim_status"))
    assert adapter.claim_status(x12_of("claim_status")) == x12_of("claim_status", "response")
    script.done()


def test_it_sends_a_278_to_the_default_or_configured_path(vendor):
    adapter, script = vendor(*steps("token", "prior_auth"))
    assert adapter.prior_auth(x12_of("prior_auth")) == x12_of("prior_auth", "response")
    script.done()

    moved = steps("prior_auth")[0]
    moved["request"]["path"] = "/medicalnetwork/pa/v2/raw-x12"
    adapter, script = vendor(moved, options={"prior_auth_path": "/medicalnetwork/pa/v2/raw-x12"})
    adapter.prior_auth(x12_of("prior_auth"))
    script.done()


def test_it_reads_and_deletes_every_report_in_the_mailbox_but_the_835s(vendor):
    gets = steps("reports_get")
    # every report is read (the kind is in the content); the 835 is neither kept nor deleted
    adapter, script = vendor(*steps("token", "reports_list"), *gets[:7])
    reports = adapter.fetch_reports()
    script.done()
    assert [(r.report_id, r.kind) for r in reports] == [
        ("X3000001.XX", "999"),
        ("X3000002.XX", "277CA"),
        ("X3000003.XX", "277"),
    ]
    assert [r.text for r in reports] == [
        s["response"]["json"]["reportContent"] for s in gets[0:6:2]
    ]
    assert [r.url.path for r in script.seen if r.method == "DELETE"] == [
        "/medicalnetwork/reports/v2/X3000001.XX",
        "/medicalnetwork/reports/v2/X3000002.XX",
        "/medicalnetwork/reports/v2/X3000003.XX",
    ]

    # the 835 is still in the mailbox, for fetch_eras
    still_listed = {"reportNames": ["R5000004.RMT"]}
    adapter, script = vendor(lambda r: httpx.Response(200, json=still_listed), gets[6], gets[7])
    (era,) = adapter.fetch_eras()
    script.done()
    assert (era.report_id, era.kind) == ("R5000004.RMT", "835")
    assert era.text == gets[6]["response"]["json"]["reportContent"]


def test_it_fetches_only_the_835s_as_eras_and_leaves_the_rest(vendor):
    gets = steps("reports_get")
    adapter, script = vendor(*steps("token", "reports_list"), *gets[0:7:2], gets[7])
    eras = adapter.fetch_eras()
    script.done()
    assert [(r.report_id, r.kind) for r in eras] == [("R5000004.RMT", "835")]
    assert [r.url.path for r in script.seen if r.method == "DELETE"] == [
        "/medicalnetwork/reports/v2/R5000004.RMT"
    ]


def test_it_keeps_the_reports_already_taken_when_the_mailbox_fails_midway(vendor):
    gets = steps("reports_get")
    adapter, _ = vendor(*steps("token", "reports_list"), *gets[:2], lambda r: httpx.Response(503))
    reports = adapter.fetch_reports()
    assert [r.report_id for r in reports] == ["X3000001.XX"]


def test_it_raises_when_the_first_report_cannot_be_read(vendor):
    adapter, _ = vendor(*steps("token", "reports_list"), lambda r: httpx.Response(503))
    with pytest.raises(TransientFailure):
        adapter.fetch_reports()


def test_it_submits_an_enrollment_as_pending(vendor):
    adapter, script = vendor(*steps("token", "enrollment_submit"))
    result = adapter.submit_enrollment(ENROLLMENT)
    script.done()
    assert (result.reference, result.status, result.reason) == ("ENR-8841", "pending", "")


def test_it_reads_an_approved_or_rejected_enrollment(vendor):
    adapter, _ = vendor(*steps("token", "enrollment_status", "enrollment_rejected"))
    approved = adapter.enrollment_status("ENR-8841")
    rejected = adapter.enrollment_status("ENR-8841")
    assert (approved.status, approved.reason) == ("active", "")
    assert (rejected.status, rejected.reason) == (
        "rejected",
        "Tax id does not match the payer's records",
    )


def test_it_checks_health(vendor, clock):
    def slow_up(request):
        clock.advance(0.25)
        return recorded.answer(steps("health")[0]["response"])

    adapter, _ = vendor(*steps("token"), slow_up)
    health = adapter.health_check()
    assert (health.ok, health.latency_ms) == (True, 250)


def test_it_reports_an_unhealthy_vendor_without_raising(vendor):
    adapter, _ = vendor(*steps("token"), lambda r: httpx.Response(503))
    health = adapter.health_check()
    assert health.ok is False
    assert "HTTP 503" in health.detail


def test_it_talks_to_a_base_url_with_a_path_prefix(vendor):
    adapter, script = vendor(
        *steps("token", "eligibility"), base_url="http://127.0.0.1:8001/change_healthcare"
    )
    adapter.eligibility(x12_of("eligibility"))
    script.done()
    assert script.seen[1].url.path == "/change_healthcare/medicalnetwork/eligibility/v3/raw-x12"


# --- tokens ---------------------------------------------------------------------------------


def test_it_reuses_the_token_across_calls_and_renews_before_expiry(vendor, clock):
    adapter, script = vendor(*steps("token", "eligibility", "claim_status", "token", "eligibility"))
    adapter.eligibility(x12_of("eligibility"))
    clock.advance(3000)
    adapter.claim_status(x12_of("claim_status"))
    clock.advance(541)  # 59 s before the hour is out
    adapter.eligibility(x12_of("eligibility"))
    script.done()


def test_it_renews_the_token_once_on_a_401(vendor):
    adapter, script = vendor(
        *steps("token"), lambda r: httpx.Response(401), *steps("token", "eligibility")
    )
    assert adapter.eligibility(x12_of("eligibility")) == x12_of("eligibility", "response")
    script.done()


# --- failures ---------------------------------------------------------------------------------


def test_it_raises_a_timeout_with_an_unknown_outcome_for_claims(vendor):
    def hang(request):
        raise httpx.ReadTimeout("no answer", request=request)

    adapter, _ = vendor(*steps("token"), hang)
    with pytest.raises(VendorTimeout) as caught:
        adapter.submit_claims(x12_of("claims_submit"), idempotency_key="claim-41-v3")
    assert caught.value.outcome_unknown is True


def test_it_raises_503_as_transient(vendor):
    adapter, _ = vendor(*steps("token"), lambda r: httpx.Response(503))
    with pytest.raises(TransientFailure) as caught:
        adapter.eligibility(x12_of("eligibility"))
    assert caught.value.status_code == 503


def test_it_backs_off_on_429_then_succeeds(vendor, clock):
    adapter, script = vendor(*steps("token", "rate_limited", "eligibility"))
    assert adapter.eligibility(x12_of("eligibility")) == x12_of("eligibility", "response")
    script.done()
    assert clock.sleeps == [2.0]


def test_it_gives_up_on_429_when_the_budget_is_spent(vendor, clock):
    adapter, _ = vendor(*steps("token"), *steps("rate_limited") * 3, timeout_s=5.0)
    with pytest.raises(TransientFailure) as caught:
        adapter.eligibility(x12_of("eligibility"))
    assert caught.value.status_code == 429
    assert clock.sleeps == [2.0, 2.0]


def test_it_never_logs_the_secret_or_the_token(vendor, caplog):
    caplog.set_level(logging.DEBUG)
    adapter, _ = vendor(
        *steps("token", "eligibility", "claims_rejected"),
        lambda r: httpx.Response(401, text=f"token {TOKEN} revoked"),
        lambda r: httpx.Response(400, json={"error_description": f"bad secret {SECRET}"}),
    )
    adapter.eligibility(x12_of("eligibility"))
    messages = []
    with pytest.raises(PermanentFailure) as caught:
        adapter.submit_claims(x12_of("claims_submit"), idempotency_key="claim-41-v3")
    messages.append(str(caught.value))
    with pytest.raises(PermanentFailure) as caught:
        adapter.claim_status(x12_of("claim_status"))
    messages.append(str(caught.value))
    assert "POST /medicalnetwork/eligibility/v3/raw-x12 -> 200" in caplog.text
    for text in [caplog.text, *messages]:
        assert SECRET not in text
        assert TOKEN not in text
        assert "XYZ123456789" not in text  # nor the member id from the X12


def test_it_reads_the_report_kind_from_the_x12():
    texts = {s["request"]["path"]: s["response"]["json"] for s in steps("reports_get")[::2]}
    kinds = [report_kind(t["reportContent"]) for t in texts.values()]
    assert kinds == ["999", "277CA", "277", "835"]
    assert report_kind("not x12") == "unknown"


# --- against the sandbox clearinghouse over real HTTP ------------------------------------------


@pytest.fixture
def live(sandbox_clearinghouse):
    """`live(**settings)`: an adapter pointed at the sandbox's Change Healthcare face."""
    state = MemoryState()

    def make(**overrides):
        values = dict(base_url=sandbox_clearinghouse.vendor_url(V), timeout_s=5.0)
        return ChangeHealthcareAdapter(make_settings(**{**values, **overrides}), state)

    make.state = state
    return make


def test_live_eligibility_answers_for_a_member_id(live):
    adapter = live()
    (answer,) = read_271(
        adapter.eligibility(x12_files.eligibility_270("XYZ123456789"))
    ).transactions
    assert answer.inquiries[0].benefits[0].code == "1"
    assert answer.inquiries[0].errors == []
    (bad,) = read_271(adapter.eligibility(x12_files.eligibility_270("BAD0001"))).transactions
    assert [e.reason for e in bad.inquiries[0].errors] == ["72"]


def test_live_claims_are_acknowledged_through_the_mailbox_once_per_key(live, sandbox_clearinghouse):
    adapter = live()
    claim_id = x12_files.paid_claim_id("PCN-CHC")
    text = x12_files.claims_837(x12_files.claim(claim_id))
    first = adapter.submit_claims(text, idempotency_key="claim-7-v1")
    again = adapter.submit_claims(text, idempotency_key="claim-7-v1")
    assert first.reference.startswith("SBX")
    assert again == first
    assert len(sandbox_clearinghouse.log(kind="837P", vendor=V)) == 1

    reports = adapter.fetch_reports()  # not the ERA (its delay is 0 in tests): fetch_eras'
    assert sorted(r.kind for r in reports) == ["277CA", "999"]
    ack = next(r for r in reports if r.kind == "277CA")
    (claim_ack,) = read_277ca(ack.text).transactions[0].providers[0].claims
    assert claim_ack.patient_control_number == claim_id
    assert read_999(next(r for r in reports if r.kind == "999").text).transactions
    assert adapter.fetch_reports() == []  # deleted once read
    (era,) = adapter.fetch_eras()  # the 835 stayed in the mailbox
    (remittance,) = read_835(era.text).transactions
    assert [c.patient_control_number for c in remittance.claims] == [claim_id]
    assert adapter.fetch_eras() == []


def test_live_eras_come_from_the_mailbox_and_leave_the_acknowledgements(live):
    adapter = live()
    claim_id = x12_files.paid_claim_id("PCN-ERA")
    adapter.submit_claims(x12_files.claims_837(x12_files.claim(claim_id)), idempotency_key="k-era")
    (era,) = adapter.fetch_eras()
    assert era.kind == "835"
    (remittance,) = read_835(era.text).transactions
    assert [c.patient_control_number for c in remittance.claims] == [claim_id]
    assert adapter.fetch_eras() == []
    assert sorted(r.kind for r in adapter.fetch_reports()) == ["277CA", "999"]


def test_live_a_rejected_claim_is_a_permanent_failure_with_the_reason(live):
    adapter = live()
    text = x12_files.claims_837(x12_files.claim("PCN-BAD1", member_id="BAD123"))
    with pytest.raises(PermanentFailure) as caught:
        adapter.submit_claims(text, idempotency_key="claim-bad-v1")
    assert caught.value.status_code == 400
    assert "PCN-BAD1" in caught.value.message


def test_live_claim_status_and_prior_auth(live):
    adapter = live()
    claim_id = x12_files.paid_claim_id("PCN-ST")
    adapter.submit_claims(x12_files.claims_837(x12_files.claim(claim_id)), idempotency_key="k-st")
    (status,) = read_277(adapter.claim_status(x12_files.status_276(claim_id))).transactions
    assert status.providers[0].claims[0].patient_control_number == claim_id
    (review,) = read_278(adapter.prior_auth(x12_files.review_278())).transactions
    assert review.decision.certification_number


def test_live_enrollment_is_pending_then_decided(live):
    adapter = live()
    submitted = adapter.submit_enrollment(ENROLLMENT)
    assert submitted.status == "pending"
    assert adapter.enrollment_status(submitted.reference).status == "active"
    refused = adapter.submit_enrollment(dataclasses.replace(ENROLLMENT, electronic_payer_id="REJ9"))
    rejected = adapter.enrollment_status(refused.reference)
    assert rejected.status == "rejected"
    assert rejected.reason


def test_live_health_and_token_renewal(live, sandbox_clearinghouse):
    sandbox_clearinghouse.settings(token_ttl_s=1)  # renewed 0.2 s before it lapses
    adapter = live()
    assert adapter.health_check().ok
    time.sleep(0.85)
    assert adapter.health_check().ok
    tokens = [json.loads(value)["access_token"] for _, value, _ in live.state.sets]
    assert len(tokens) == 2 and tokens[0] != tokens[1]


def test_live_a_revoked_token_is_renewed_once(live, sandbox_clearinghouse):
    adapter = live()
    assert adapter.health_check().ok
    sandbox_clearinghouse.reset()  # forgets every token it issued
    sandbox_clearinghouse.settings(**SANDBOX_TEST_SETTINGS)
    assert adapter.health_check().ok
    assert len(live.state.sets) == 2


@pytest.mark.parametrize(
    ("mode", "failure"),
    [("slow", VendorTimeout), ("failing", TransientFailure), ("down", TransientFailure)],
)
def test_live_modes_are_typed_failures(live, sandbox_clearinghouse, mode, failure):
    adapter = live(timeout_s=0.5)
    assert adapter.health_check().ok  # the token, while the face is healthy
    sandbox_clearinghouse.set_mode(V, mode, slow_s=2)
    with pytest.raises(failure):
        adapter.eligibility(x12_files.eligibility_270())
    health = adapter.health_check()
    assert health.ok is False


def test_live_nothing_secret_reaches_the_logs(live, caplog):
    caplog.set_level(logging.DEBUG)
    adapter = live()
    adapter.eligibility(x12_files.eligibility_270())
    token = json.loads(live.state.sets[0][1])["access_token"]
    assert SECRET not in caplog.text
    assert token not in caplog.text
