"""Availity adapter: contract tests against the recorded exchanges (fixtures/availity):
5-minute tokens, asynchronous coverages with polling and 429 back-off, raw X12 on the
configurable paths, reports, enrollment; no secrets in logs."""

from __future__ import annotations

import datetime
import json
import logging
import time

import httpx
import pytest

from clearinghouse.vendors.availity import AvailityAdapter
from clearinghouse.vendors.base import (
    EnrollmentRequest,
    PermanentFailure,
    TransientFailure,
    VendorSettings,
    VendorTimeout,
)
from edi.x270 import write_270
from edi.x271 import read_271
from edi.x277 import read_277, read_277ca
from edi.x278 import read_278
from edi.x835 import read_835
from tests.clearinghouse_sandbox import x12_files
from tests.edi import examples
from tests.vendors import recorded
from tests.vendors.state import MemoryState

V = "availity"
BASE = "https://api.availity.com"
SECRET = "avl-test-client-secret-3Kd9"
TOKEN = "avl-test-access-token-0001"


def make_settings(**overrides) -> VendorSettings:
    values = dict(
        vendor=V, base_url=BASE, account_id="avl-test-client-id", secret=SECRET, timeout_s=15.0
    )
    return VendorSettings(**{**values, **overrides})


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
        return AvailityAdapter(settings, state), script

    return make


def steps(*names: str) -> list:
    return recorded.load(V, *names)


def text_of(name: str, which: str = "request") -> str:
    return recorded.load(V, name)[0][which]["text"]


def the_270(**changes) -> str:
    """The 270 whose inquiry the recorded coverages form carries (John Doe at ACME1)."""
    request = examples.eligibility_request()
    request.inquiries = request.inquiries[:1]
    for name, value in changes.items():
        setattr(request.inquiries[0], name, value)
    return write_270(examples.envelope(1002), [request])


RECORDED_271 = steps("coverages_complete")[0]["response"]["json"]["x12"]

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


# --- eligibility: coverages ------------------------------------------------------------------


def test_it_posts_the_coverage_form_and_polls_until_complete(vendor, clock):
    adapter, script = vendor(
        *steps("token", "coverages_post", "coverages_poll", "coverages_poll", "coverages_complete")
    )
    assert adapter.eligibility(the_270()) == RECORDED_271
    script.done()
    assert clock.sleeps == pytest.approx([0.2, 0.3, 0.45])


def test_it_builds_the_271_from_plans_when_there_is_no_x12(vendor):
    adapter, _ = vendor(*steps("token", "coverages_post", "coverages_complete_plans_only"))
    parsed = read_271(adapter.eligibility(the_270()))
    assert parsed.warnings == []
    (answer,) = parsed.transactions
    assert answer.payer.identifier == "ACME1"
    (inquiry,) = answer.inquiries
    assert inquiry.trace_number == "ELIG-1"
    assert inquiry.subscriber.identifier == "XYZ123456789"
    assert inquiry.eligibility_begin == datetime.date(2026, 1, 1)
    assert inquiry.eligibility_end == datetime.date(2026, 12, 31)
    assert [(b.code, b.plan_description) for b in inquiry.benefits] == [("1", "GOLD PPO")]
    assert parsed.envelopes[0].sender_id == "CLEARHOUSE"


def test_it_answers_subscriber_not_found_when_there_are_no_plans(vendor):
    def no_plans(request):
        return httpx.Response(200, json={"id": "8912345670", "statusCode": "4", "plans": []})

    adapter, _ = vendor(*steps("token", "coverages_post"), no_plans)
    (inquiry,) = read_271(adapter.eligibility(the_270())).transactions[0].inquiries
    assert [e.reason for e in inquiry.errors] == ["75"]


def test_it_asks_about_the_dependent_when_the_270_names_one(vendor):
    jane = examples.JANE
    form = {}

    def capture(request):
        form.update(httpx.QueryParams(request.content.decode()))
        return httpx.Response(200, json={"id": "1", "statusCode": "4", "x12": RECORDED_271})

    adapter, _ = vendor(*steps("token"), capture)
    adapter.eligibility(the_270(dependent=jane, service_types=("98", "UC")))
    assert form == {
        "payerId": "ACME1",
        "memberId": "XYZ123456789",
        "patientLastName": "DOE",
        "patientFirstName": "JANE",
        "patientBirthDate": "2015-02-01",
        "serviceType": "98",
        "providerNpi": examples.PRACTICE_NPI,
    }


def test_it_raises_a_request_error_with_the_payers_message(vendor):
    adapter, _ = vendor(*steps("token", "coverages_post", "coverages_error"))
    with pytest.raises(PermanentFailure, match="Invalid/Missing Subscriber/Insured ID"):
        adapter.eligibility(the_270())


def test_it_raises_a_communication_error_as_transient(vendor):
    def payer_down(request):
        return httpx.Response(
            200, json={"id": "8912345670", "statusCode": "7", "statusMessage": "Payer timed out"}
        )

    adapter, _ = vendor(*steps("token", "coverages_post"), payer_down)
    with pytest.raises(TransientFailure, match="Payer timed out"):
        adapter.eligibility(the_270())


def test_it_stops_polling_when_the_budget_is_spent(vendor, clock):
    adapter, _ = vendor(
        *steps("token", "coverages_post"), *steps("coverages_poll") * 20, timeout_s=3.0
    )
    with pytest.raises(VendorTimeout, match="not complete within 3 s"):
        adapter.eligibility(the_270())
    assert sum(clock.sleeps) <= 3.0
    assert clock.sleeps[:4] == pytest.approx([0.2, 0.3, 0.45, 0.675])
    assert max(clock.sleeps) <= 2.0


def test_it_waits_out_a_429_while_polling(vendor, clock):
    adapter, script = vendor(
        *steps("token", "coverages_post", "rate_limited", "coverages_complete")
    )
    assert adapter.eligibility(the_270()) == RECORDED_271
    script.done()
    assert clock.sleeps == [0.2, 1.0]


def test_it_raises_the_429_when_the_budget_is_spent(vendor, clock):
    adapter, _ = vendor(
        *steps("token", "coverages_post"), *steps("rate_limited") * 5, timeout_s=2.5
    )
    with pytest.raises(TransientFailure) as caught:
        adapter.eligibility(the_270())
    assert caught.value.status_code == 429
    assert clock.sleeps == [0.2, 1.0, 1.0]


def test_it_refuses_a_270_it_cannot_send(vendor):
    adapter, script = vendor()
    two = write_270(examples.envelope(), [examples.eligibility_request()])
    with pytest.raises(PermanentFailure, match="one inquiry per 270; this one has 2"):
        adapter.eligibility(two)
    with pytest.raises(PermanentFailure, match="cannot be read") as caught:
        adapter.eligibility(the_270().replace("ISA*", "ISX*"))
    assert "XYZ123456789" not in str(caught.value)
    assert script.seen == []


# --- raw X12 on the configurable paths -------------------------------------------------------


def test_it_submits_claims_as_text_with_the_idempotency_key(vendor):
    adapter, script = vendor(*steps("token", "claims_submit"))
    result = adapter.submit_claims(text_of("claims_submit"), idempotency_key="claim-41-v3")
    script.done()
    assert (result.reference, result.message, result.acknowledgements) == (
        "AVB-20261125-0007",
        "RECEIVED",
        (),
    )


def test_it_raises_a_rejected_claim_file_with_availitys_message(vendor):
    adapter, _ = vendor(*steps("token", "claims_rejected"))
    with pytest.raises(PermanentFailure) as caught:
        adapter.submit_claims(text_of("claims_rejected"), idempotency_key="claim-41-v3")
    assert caught.value.status_code == 400
    assert "ISA06 is not a registered submitter" in caught.value.message


def test_it_exchanges_276_and_278_as_text(vendor):
    adapter, script = vendor(*steps("token", "claim_status", "prior_auth"))
    assert adapter.claim_status(text_of("claim_status")) == text_of("claim_status", "response")
    assert adapter.prior_auth(text_of("prior_auth")) == text_of("prior_auth", "response")
    script.done()


def test_it_uses_the_paths_from_the_options(vendor):
    moved = steps("token", "claims_submit", "claim_status")
    moved[1]["request"]["path"] = "/x/claims"
    moved[2]["request"]["path"] = "/x/status"
    adapter, script = vendor(
        *moved, options={"claims_path": "/x/claims", "status_path": "/x/status"}
    )
    adapter.submit_claims(text_of("claims_submit"), idempotency_key="claim-41-v3")
    adapter.claim_status(text_of("claim_status"))
    script.done()


def test_it_asks_for_the_configured_scope(vendor):
    token = steps("token")[0]
    token["request"]["form"]["scope"] = "hipaa claims"
    adapter, script = vendor(token, *steps("health"), options={"scope": "hipaa claims"})
    assert adapter.health_check().ok
    script.done()


# --- reports, enrollment, health ---------------------------------------------------------------


def test_it_reads_and_deletes_every_report_but_the_835s(vendor):
    gets = steps("reports_get")
    adapter, script = vendor(*steps("token", "reports_list"), *gets[:6])
    reports = adapter.fetch_reports()
    script.done()
    assert [(r.report_id, r.kind) for r in reports] == [
        ("RPT-1", "999"),
        ("RPT-2", "277CA"),
        ("RPT-3", "277"),
    ]
    assert [r.text for r in reports] == [s["response"]["text"] for s in gets[0:6:2]]
    assert [r.url.path for r in script.seen if r.method == "DELETE"] == [
        "/availity/v1/edi/reports/RPT-1",
        "/availity/v1/edi/reports/RPT-2",
        "/availity/v1/edi/reports/RPT-3",
    ]
    assert not [r for r in script.seen if r.url.path.endswith("/RPT-4")]  # listed as an 835

    # the 835 is still listed at the vendor, and fetch_eras takes it
    still_listed = {"reports": [{"id": "RPT-4", "kind": "835"}]}
    adapter, script = vendor(lambda r: httpx.Response(200, json=still_listed), gets[6], gets[7])
    (era,) = adapter.fetch_eras()
    script.done()
    assert (era.report_id, era.kind) == ("RPT-4", "835")
    assert era.text == gets[6]["response"]["text"]


def test_it_fetches_only_the_listed_835s_as_eras(vendor):
    gets = steps("reports_get")
    adapter, script = vendor(*steps("token", "reports_list"), gets[6], gets[7])
    eras = adapter.fetch_eras()
    script.done()
    assert [(r.report_id, r.kind) for r in eras] == [("RPT-4", "835")]


def test_it_submits_and_follows_an_enrollment(vendor):
    adapter, script = vendor(
        *steps("token", "enrollment_submit", "enrollment_status", "enrollment_rejected")
    )
    submitted = adapter.submit_enrollment(ENROLLMENT)
    assert (submitted.reference, submitted.status) == ("AVE-5521", "pending")
    assert adapter.enrollment_status("AVE-5521").status == "active"
    rejected = adapter.enrollment_status("AVE-5521")
    assert (rejected.status, rejected.reason) == ("rejected", "NPI not found at the payer")
    script.done()


def test_it_checks_health(vendor):
    adapter, _ = vendor(*steps("token", "health"))
    assert adapter.health_check().ok is True


def test_it_reports_refused_credentials_as_unhealthy(vendor):
    adapter, _ = vendor(lambda r: httpx.Response(401, json={"error": "invalid_client"}))
    health = adapter.health_check()
    assert health.ok is False
    assert "invalid_client" in health.detail


# --- tokens and secrets ------------------------------------------------------------------------


def test_it_renews_the_five_minute_token_before_it_expires(vendor, clock):
    adapter, script = vendor(*steps("token", "health", "health", "token", "health"))
    adapter.health_check()
    clock.advance(239)
    adapter.health_check()
    clock.advance(2)  # 241 s: inside the last minute
    adapter.health_check()
    script.done()


def test_it_renews_the_token_once_on_a_401(vendor):
    adapter, script = vendor(
        *steps("token"), lambda r: httpx.Response(401), *steps("token", "claim_status")
    )
    adapter.claim_status(text_of("claim_status"))
    script.done()


def test_it_never_logs_the_secret_or_the_token(vendor, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="clearinghouse.vendors")
    adapter, _ = vendor(
        *steps("token", "coverages_post", "coverages_complete"),
        lambda r: httpx.Response(401, json={"userMessage": f"token {TOKEN} is revoked"}),
        lambda r: httpx.Response(401, json={"error_description": f"secret {SECRET} is wrong"}),
    )
    adapter.eligibility(the_270())
    with pytest.raises(PermanentFailure) as caught:
        adapter.claim_status(text_of("claim_status"))
    assert "[redacted]" in str(caught.value)
    assert "GET /availity/v1/coverages/8912345670 -> 200" in caplog.text
    for text in (caplog.text, str(caught.value)):
        assert SECRET not in text
        assert TOKEN not in text
        assert "XYZ123456789" not in text


# --- against the sandbox clearinghouse over real HTTP ------------------------------------------


@pytest.fixture
def live(sandbox_clearinghouse):
    """`live(**settings)`: an adapter pointed at the sandbox's Availity face."""
    state = MemoryState()

    def make(**overrides):
        values = dict(base_url=sandbox_clearinghouse.vendor_url(V), timeout_s=5.0)
        return AvailityAdapter(make_settings(**{**values, **overrides}), state)

    make.state = state
    return make


def test_live_eligibility_polls_the_coverage_for_a_member_id(live, sandbox_clearinghouse):
    sandbox_clearinghouse.settings(coverage_pending_polls=2)
    adapter = live()
    (answer,) = read_271(
        adapter.eligibility(x12_files.eligibility_270("XYZ123456789"))
    ).transactions
    assert answer.inquiries[0].benefits[0].code == "1"
    (bad,) = read_271(adapter.eligibility(x12_files.eligibility_270("BAD0001"))).transactions
    assert [e.reason for e in bad.inquiries[0].errors] == ["72"]
    with pytest.raises(PermanentFailure, match="could not process"):
        adapter.eligibility(x12_files.eligibility_270("ERR0001"))


def test_live_eligibility_backs_off_when_throttled(live, sandbox_clearinghouse):
    sandbox_clearinghouse.settings(throttle_polls=2, retry_after_s=0.3)
    started = time.monotonic()
    (answer,) = read_271(live().eligibility(x12_files.eligibility_270())).transactions
    assert answer.inquiries[0].benefits
    assert time.monotonic() - started >= 0.6


def test_live_throttling_past_the_budget_is_a_transient_failure(live, sandbox_clearinghouse):
    sandbox_clearinghouse.settings(throttle_polls=50, retry_after_s=0.4)
    with pytest.raises(TransientFailure) as caught:
        live(timeout_s=1.0).eligibility(x12_files.eligibility_270())
    assert caught.value.status_code == 429


def test_live_claims_are_received_then_acknowledged_in_the_reports(live, sandbox_clearinghouse):
    adapter = live()
    claim_id = x12_files.paid_claim_id("PCN-AV")
    text = x12_files.claims_837(x12_files.claim(claim_id))
    first = adapter.submit_claims(text, idempotency_key="claim-9-v1")
    assert first.message == "RECEIVED"
    assert adapter.submit_claims(text, idempotency_key="claim-9-v1") == first
    assert len(sandbox_clearinghouse.log(kind="837P", vendor=V)) == 1

    (era,) = adapter.fetch_eras()
    assert [c.patient_control_number for c in read_835(era.text).transactions[0].claims] == [
        claim_id
    ]
    reports = adapter.fetch_reports()
    assert sorted(r.kind for r in reports) == ["277CA", "999"]
    ack = next(r for r in reports if r.kind == "277CA")
    (claim_ack,) = read_277ca(ack.text).transactions[0].providers[0].claims
    assert claim_ack.patient_control_number == claim_id
    assert adapter.fetch_reports() == []


def test_live_a_rejected_claim_is_acknowledged_as_rejected(live):
    adapter = live()
    text = x12_files.claims_837(x12_files.claim("PCN-BAD2", member_id="BAD999"))
    adapter.submit_claims(text, idempotency_key="claim-bad-v2")
    (ack,) = [r for r in adapter.fetch_reports() if r.kind == "277CA"]
    (claim_ack,) = read_277ca(ack.text).transactions[0].providers[0].claims
    assert claim_ack.statuses[0].category == "A7"


def test_live_claim_status_prior_auth_enrollment_and_health(live):
    adapter = live()
    claim_id = x12_files.paid_claim_id("PCN-AS")
    adapter.submit_claims(x12_files.claims_837(x12_files.claim(claim_id)), idempotency_key="k-as")
    (status,) = read_277(adapter.claim_status(x12_files.status_276(claim_id))).transactions
    assert status.providers[0].claims[0].patient_control_number == claim_id
    (review,) = read_278(adapter.prior_auth(x12_files.review_278())).transactions
    assert review.decision.certification_number
    submitted = adapter.submit_enrollment(ENROLLMENT)
    assert submitted.status == "pending"
    assert adapter.enrollment_status(submitted.reference).status == "active"
    assert adapter.health_check().ok


def test_live_the_short_lived_token_is_renewed(live, sandbox_clearinghouse):
    sandbox_clearinghouse.settings(token_ttl_s=1)
    adapter = live()
    assert adapter.health_check().ok
    time.sleep(0.85)
    assert adapter.health_check().ok
    tokens = [json.loads(value)["access_token"] for _, value, _ in live.state.sets]
    assert len(tokens) == 2 and tokens[0] != tokens[1]


@pytest.mark.parametrize(
    ("mode", "failure"),
    [("slow", VendorTimeout), ("failing", TransientFailure), ("down", TransientFailure)],
)
def test_live_modes_are_typed_failures(live, sandbox_clearinghouse, mode, failure):
    adapter = live(timeout_s=0.5)
    assert adapter.health_check().ok
    sandbox_clearinghouse.set_mode(V, mode, slow_s=2)
    with pytest.raises(failure):
        adapter.eligibility(x12_files.eligibility_270())
    assert adapter.health_check().ok is False


def test_live_nothing_secret_reaches_the_logs(live, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="clearinghouse.vendors")
    live().eligibility(x12_files.eligibility_270())
    token = json.loads(live.state.sets[0][1])["access_token"]
    assert SECRET not in caplog.text
    assert token not in caplog.text
