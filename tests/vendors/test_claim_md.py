"""Claim.MD adapter: contract tests against the recorded exchanges (fixtures/claim_md: form
posts with the AccountKey, XML answers), cursors kept per account across adapter instances,
failure mapping, and the account key never in logs or errors."""

from __future__ import annotations

import dataclasses
import logging
from email.parser import BytesParser
from email.policy import HTTP

import httpx
import pytest

from clearinghouse.vendors import http
from clearinghouse.vendors.base import (
    ClaimStatusReport,
    EnrollmentRequest,
    PermanentFailure,
    TransientFailure,
    VendorError,
    VendorSettings,
    VendorTimeout,
)
from clearinghouse.vendors.claim_md import ClaimMdAdapter
from edi.x271 import read_271
from edi.x277 import read_277
from edi.x278 import read_278, write_278_request
from edi.x835 import read_835
from tests.edi import examples
from tests.vendors import recorded
from tests.vendors.state import MemoryState
from tests.vendors.test_sandbox_adapter import (
    claim,
    claims_837,
    eligibility_270,
    paid_claim_id,
    status_276,
)

V = "claim_md"
BASE = "https://svc.claim.example/cmd"
KEY = "TEST-CLAIMMD-KEY-0001"
X12_837 = recorded.request_of(V, "upload")["multipart"]["files"]["File"]["text"]

ENROLLMENT = EnrollmentRequest(
    payer_name="ACME HEALTH PLAN",
    payer_id="ACME",
    electronic_payer_id="ACME1",
    transaction_types=("837P", "835", "276"),
    provider_name="DEMO FAMILY PRACTICE",
    provider_npi="1234567893",
    provider_tax_id="561234567",
    contact_name="PAT BILLER",
    contact_phone="9195550100",
    contact_email="billing@example.com",
)


def make_settings(**overrides) -> VendorSettings:
    values = dict(vendor=V, base_url=BASE, account_id="acct-3301", secret=KEY, timeout_s=20.0)
    return VendorSettings(**{**values, **overrides})


@pytest.fixture
def state():
    return MemoryState()


@pytest.fixture
def vendor(monkeypatch, state):
    """`vendor(*steps, **settings)` scripts the transport and returns (adapter, script);
    every adapter made in one test shares `state`, like workers sharing the cursor table."""

    def make(*steps, **overrides):
        settings = make_settings(**overrides)
        script = recorded.Script([_multipart_aware(s) for s in steps], settings.base_url)
        recorded.install(monkeypatch, script)
        return ClaimMdAdapter(settings, state), script

    return make


def steps(*names: str) -> list:
    return recorded.load(V, *names)


def multipart(request: httpx.Request) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """The fields and files ({name: (filename, text)}) of a multipart/form-data body."""
    head = f"Content-Type: {request.headers['Content-Type']}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + request.content)
    assert message.is_multipart()
    fields, files = {}, {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True).decode()
        if part.get_filename():
            files[name] = (part.get_filename(), payload)
        else:
            fields[name] = payload
    return fields, files


def _multipart_aware(step):
    """Recorded uploads hold `multipart` (fields and files) instead of a form: check those
    here, the rest with `recorded.check`."""
    if callable(step) or "multipart" not in step["request"]:
        return step
    expected = step["request"]

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.method == expected["method"]
        assert request.url.path.endswith(expected["path"])
        assert request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
        fields, files = multipart(request)
        assert fields == expected["multipart"]["fields"]
        want = expected["multipart"]["files"]
        assert files == {name: (f["filename"], f["text"]) for name, f in want.items()}
        return recorded.answer(step["response"])

    return handler


def answering(response: httpx.Response):
    return lambda request: response


def raising(error_class):
    def handler(request: httpx.Request) -> httpx.Response:
        raise error_class("boom", request=request)

    return handler


# --- claims -------------------------------------------------------------------------------------


def test_it_uploads_the_837p_with_the_account_key_and_idempotency_key(vendor):
    adapter, script = vendor(*steps("upload"))
    result = adapter.submit_claims(X12_837, idempotency_key="claim-1001-v1")
    script.done()
    assert result.reference == "5521907"
    assert result.acknowledgements == ()
    assert result.message == (
        "2 of 3 claims accepted; claim PCN-1003 rejected: "
        "Patient date of birth is after the date of service"
    )


def test_it_raises_an_upload_whose_every_claim_is_rejected(vendor):
    adapter, _ = vendor(*steps("upload_rejected"))
    with pytest.raises(PermanentFailure) as caught:
        adapter.submit_claims(X12_837, idempotency_key="claim-1001-v1")
    assert caught.value.message == (
        "claim PCN-1001 rejected: Payer ID XX001 is not a valid payer; "
        "claim PCN-1003 rejected: Payer ID XX001 is not a valid payer; "
        "claim PCN-1002 rejected: Subscriber member id is invalid"
    )


def test_it_raises_claim_mds_xml_error_as_permanent(vendor):
    adapter, _ = vendor(*steps("upload_error"))
    with pytest.raises(PermanentFailure) as caught:
        adapter.submit_claims(X12_837, idempotency_key="claim-1001-v1")
    assert caught.value.message == (
        "POST /cmd/services/upload/: The AccountKey is not valid or has been disabled (code 1006)"
    )


def test_it_treats_an_upload_answer_that_is_not_xml_as_an_unknown_outcome(vendor):
    adapter, _ = vendor(answering(httpx.Response(200, text="Service temporarily unavailable")))
    with pytest.raises(TransientFailure) as caught:
        adapter.submit_claims(X12_837, idempotency_key="k")
    assert caught.value.outcome_unknown is True


# --- responses and ERAs: cursors per account ----------------------------------------------------


def test_it_returns_claim_statuses_and_remembers_the_last_response_id(vendor, state):
    first, script = vendor(*steps("fetch_reports"))
    reports = first.fetch_reports()
    assert all(isinstance(r, ClaimStatusReport) and r.kind == "status" for r in reports)
    assert [(r.report_id, r.claim_id, r.status, r.messages) for r in reports] == [
        ("4108.1:PCN-1001", "PCN-1001", "accepted", ("Accepted by the payer",)),
        (
            "4108.2:PCN-1003",
            "PCN-1003",
            "rejected",
            ("Patient date of birth is after the date of service",),
        ),
    ]
    assert reports[1].vendor_status == "R"
    assert reports[1].vendor_claim_id == "88410002"
    assert reports[1].text.startswith('<claim claimid="PCN-1003"')
    assert state.get("claim_md:acct-3301:last_responseid") == "4108"

    second = ClaimMdAdapter(make_settings(), state)  # another worker, the same state
    assert second.fetch_reports() == []  # the recorded second call sends ResponseID 4108
    script.done()


def test_it_fetches_each_new_era_and_remembers_the_last_era_id(vendor, state):
    first, script = vendor(*steps("fetch_eras"))
    eras = first.fetch_eras()
    assert [(e.report_id, e.kind) for e in eras] == [("77001", "835"), ("77002", "835")]
    assert eras[0].text == recorded.response_of(V, "fetch_eras", 1)["text"]
    assert eras[1].text.startswith("ISA*")
    assert state.get("claim_md:acct-3301:last_eraid") == "77002"

    assert ClaimMdAdapter(make_settings(), state).fetch_eras() == []  # sends ERAID 77002
    script.done()


def test_it_keeps_the_era_cursor_when_an_era_cannot_be_read(vendor, state):
    recorded_steps = steps("fetch_eras")
    adapter, _ = vendor(
        recorded_steps[0], recorded_steps[1], answering(httpx.Response(503, text="busy"))
    )
    with pytest.raises(TransientFailure):
        adapter.fetch_eras()
    assert state.get("claim_md:acct-3301:last_eraid") is None


def test_it_keeps_separate_cursors_per_account(vendor, state):
    state.set("claim_md:acct-3301:last_responseid", "4108")
    step = steps("fetch_reports")[0]  # ResponseID 0: the other account has seen nothing
    step["request"]["form"]["AccountKey"] = "OTHER-ACCOUNT-KEY-0002"
    adapter, script = vendor(step, account_id="acct-9000", secret="OTHER-ACCOUNT-KEY-0002")
    assert len(adapter.fetch_reports()) == 2
    script.done()
    assert state.get("claim_md:acct-9000:last_responseid") == "4108"


def test_it_names_the_cursor_by_a_digest_of_the_key_when_there_is_no_account_id():
    adapter = ClaimMdAdapter(make_settings(account_id=""), MemoryState())
    assert adapter.response_key.startswith("claim_md:key-")
    assert KEY not in adapter.response_key


# --- request / response transactions ------------------------------------------------------------


@pytest.mark.parametrize("method", ["eligibility", "claim_status", "prior_auth"])
def test_it_posts_x12_in_a_form_and_returns_the_answer(vendor, method):
    name = method
    adapter, script = vendor(*steps(name))
    request = recorded.request_of(V, name)["form"]["x12"]
    assert getattr(adapter, method)(request) == recorded.response_of(V, name)["text"]
    script.done()


def test_it_takes_the_transaction_paths_from_the_options(vendor):
    step = steps("eligibility")[0]
    step["request"]["path"] = "/services/eligibility/"
    adapter, script = vendor(step, options={"eligibility_path": "/services/eligibility/"})
    adapter.eligibility(step["request"]["form"]["x12"])
    script.done()


def test_it_raises_an_xml_error_answering_a_transaction(vendor):
    error = '<result><error error_mesg="Payer ACME1 does not support eligibility"/></result>'
    adapter, _ = vendor(answering(httpx.Response(200, text=error)))
    with pytest.raises(PermanentFailure, match="Payer ACME1 does not support eligibility"):
        adapter.eligibility("ISA*...")


# --- enrollment ---------------------------------------------------------------------------------


def test_it_enrolls_once_per_enroll_type_and_reads_them_as_one(vendor):
    adapter, script = vendor(*steps("submit_enrollment", "enrollment_status"))
    submitted = adapter.submit_enrollment(ENROLLMENT)
    assert (submitted.reference, submitted.status) == ("E-88001,E-88002", "pending")
    status = adapter.enrollment_status(submitted.reference)
    script.done()
    assert status.status == "rejected"
    assert status.reason == "The payer requires a voided check for ERA enrollment"


def test_it_reads_an_approved_enrollment(vendor):
    approved = '<result><enroll enrollid="E-88001" status="Approved"/></result>'
    adapter, _ = vendor(answering(httpx.Response(200, text=approved)))
    assert adapter.enrollment_status("E-88001").status == "active"


# --- health -------------------------------------------------------------------------------------


def test_it_checks_health_with_the_remembered_response_id_without_moving_it(vendor, state):
    state.set("claim_md:acct-3301:last_responseid", "4108")
    adapter, script = vendor(*steps("health"))
    health = adapter.health_check()
    script.done()
    assert health.ok is True
    assert state.get("claim_md:acct-3301:last_responseid") == "4108"


def test_it_reports_an_xml_error_as_unhealthy(vendor):
    suspended = '<result><error error_mesg="Account suspended"/></result>'
    adapter, _ = vendor(answering(httpx.Response(200, text=suspended)))
    health = adapter.health_check()
    assert health.ok is False
    assert "Account suspended" in health.detail


# --- failure mapping ----------------------------------------------------------------------------


def test_it_raises_a_timeout_with_an_unknown_outcome_for_an_upload(vendor):
    adapter, _ = vendor(raising(httpx.ReadTimeout))
    with pytest.raises(VendorTimeout) as caught:
        adapter.submit_claims(X12_837, idempotency_key="k")
    assert caught.value.outcome_unknown is True


def test_it_raises_503_as_transient(vendor):
    adapter, _ = vendor(answering(httpx.Response(503, text="Service Unavailable")))
    with pytest.raises(TransientFailure) as caught:
        adapter.fetch_reports()
    assert caught.value.status_code == 503


def test_it_raises_a_dropped_connection_as_transient(vendor):
    adapter, _ = vendor(raising(httpx.RemoteProtocolError))
    with pytest.raises(TransientFailure) as caught:
        adapter.submit_claims(X12_837, idempotency_key="k")
    assert caught.value.outcome_unknown is True


def test_it_raises_a_4xx_as_permanent_with_the_vendors_message(vendor):
    adapter, _ = vendor(answering(httpx.Response(403, text="Account not enabled for ERA")))
    with pytest.raises(PermanentFailure, match="HTTP 403: Account not enabled for ERA"):
        adapter.fetch_eras()


def test_it_uses_the_configured_timeout(monkeypatch, state):
    seen = []

    def client(timeout_s: float) -> httpx.Client:
        seen.append(timeout_s)
        handler = recorded.Script(steps("health"), BASE)
        return httpx.Client(transport=httpx.MockTransport(handler))

    monkeypatch.setattr(http, "client", client)
    state.set("claim_md:acct-3301:last_responseid", "4108")
    ClaimMdAdapter(make_settings(), state).health_check()
    assert seen == [20.0]


def test_it_never_logs_or_raises_the_account_key(vendor, caplog):
    caplog.set_level(logging.DEBUG)
    echo = f'<result><error error_mesg="AccountKey {KEY} is disabled"/></result>'
    adapter, _ = vendor(
        *steps("upload"),
        *steps("fetch_reports")[:1],
        *steps("fetch_eras")[:3],
        answering(httpx.Response(200, text=echo)),
        answering(httpx.Response(401, text=f"Unknown AccountKey={KEY}")),
        raising(httpx.ReadTimeout),
    )
    adapter.submit_claims(X12_837, idempotency_key="claim-1001-v1")
    adapter.fetch_reports()
    adapter.fetch_eras()
    messages = []
    for call in (adapter.eligibility, adapter.claim_status, adapter.prior_auth):
        with pytest.raises(VendorError) as caught:
            call("ISA*...")
        messages.append(str(caught.value))
    assert "[redacted] is disabled" in messages[0]
    assert "Unknown AccountKey=[redacted]" in messages[1]
    assert "POST /cmd/services/upload/ -> 200" in caplog.text
    for text in [caplog.text, *messages]:
        assert KEY not in text


def test_it_reads_claim_mds_xml_error_in_a_4xx(vendor):
    refusal = (
        '<result><error error_code="AUTH" error_mesg="AccountKey is missing or not valid"/>'
        "</result>"
    )
    adapter, _ = vendor(answering(httpx.Response(401, text=refusal)))
    with pytest.raises(PermanentFailure) as caught:
        adapter.fetch_reports()
    assert caught.value.message == (
        "POST /cmd/services/response/: HTTP 401: AccountKey is missing or not valid (code AUTH)"
    )


# --- against the sandbox clearinghouse over real HTTP ------------------------------------------


LIVE_KEY = "live-claim-md-account-key-5521"


@pytest.fixture
def live(sandbox_clearinghouse):
    """`live(**settings)`: a Claim.MD adapter on the running sandbox; all share one state."""
    state = MemoryState()

    def make(**overrides) -> ClaimMdAdapter:
        values = dict(
            vendor=V,
            base_url=sandbox_clearinghouse.vendor_url(V),
            account_id="acct-live",
            secret=LIVE_KEY,
            timeout_s=10.0,
        )
        return ClaimMdAdapter(VendorSettings(**{**values, **overrides}), state)

    make.sandbox = sandbox_clearinghouse
    make.state = state
    return make


def test_live_it_uploads_claims_and_reads_their_statuses(live):
    adapter = live()
    text = claims_837(claim("PCN-C1"), claim("PCN-C2", member_id="BAD9"))
    result = adapter.submit_claims(text, idempotency_key="live-cmd-1")
    assert result.reference.startswith("SBX")
    assert result.message == "1 of 2 claims accepted; claim PCN-C2 rejected: " + (
        "SUBSCRIBER MEMBER ID IS INVALID"
    )
    statuses = adapter.fetch_reports()
    assert [(r.kind, r.claim_id, r.status) for r in statuses] == [
        ("status", "PCN-C1", "accepted"),
        ("status", "PCN-C2", "rejected"),
    ]
    assert statuses[1].messages == ("SUBSCRIBER MEMBER ID IS INVALID",)
    assert live.state.get(adapter.response_key)
    assert live().fetch_reports() == []  # another instance, the same cursor


def test_live_it_raises_an_upload_whose_claims_are_all_rejected(live):
    with pytest.raises(PermanentFailure, match=r"claim PCN-C3 rejected: .*XX1"):
        live().submit_claims(
            claims_837(claim("PCN-C3", payer_id="XX1")), idempotency_key="live-cmd-2"
        )


def test_live_a_repeated_upload_is_accepted_once(live):
    text = claims_837(claim("PCN-C4"))
    first = live().submit_claims(text, idempotency_key="live-cmd-3")
    assert live().submit_claims(text, idempotency_key="live-cmd-3") == first
    assert len(live.sandbox.log(kind="837P", vendor=V)) == 1


def test_live_it_fetches_new_eras_once(live):
    paid = paid_claim_id("PCN-CE")
    live().submit_claims(claims_837(claim(paid)), idempotency_key="live-cmd-4")
    eras = live().fetch_eras()
    assert [e.kind for e in eras] == ["835"]
    remittance = read_835(eras[0].text).transactions[0]
    assert [c.patient_control_number for c in remittance.claims] == [paid]
    assert live.state.get(live().era_key) == eras[0].report_id
    assert live().fetch_eras() == []


def test_live_it_checks_eligibility_status_and_prior_auth(live):
    adapter = live()
    adapter.submit_claims(claims_837(claim("PCN-C5")), idempotency_key="live-cmd-5")
    benefits = read_271(adapter.eligibility(eligibility_270("XYZ123456789"))).transactions[0]
    assert benefits.inquiries[0].benefits
    status = read_277(adapter.claim_status(status_276("PCN-C5"))).transactions[0]
    assert status.providers[0].claims[0].statuses[0].category in {"A2", "F1", "F2"}
    request = write_278_request(examples.envelope(), [examples.review_request()])
    assert read_278(adapter.prior_auth(request)).transactions[0].decision.action == "A1"


def test_live_it_enrolls_each_type_and_reads_the_decision(live):
    adapter = live()
    submitted = adapter.submit_enrollment(ENROLLMENT)
    assert submitted.status == "pending"
    assert len(submitted.reference.split(",")) == 2  # 1500 and era
    assert adapter.enrollment_status(submitted.reference).status == "active"
    refused = adapter.submit_enrollment(
        dataclasses.replace(ENROLLMENT, electronic_payer_id="REJ7", transaction_types=("270",))
    )
    result = adapter.enrollment_status(refused.reference)
    assert (result.status, "REJ7" in result.reason) == ("rejected", True)


def test_live_health_and_failures(live):
    adapter = live(timeout_s=0.5)
    assert adapter.health_check().ok is True
    live.sandbox.set_mode(V, "failing")
    assert adapter.health_check().ok is False
    with pytest.raises(TransientFailure) as failing:
        adapter.fetch_reports()
    assert failing.value.status_code == 503
    live.sandbox.set_mode(V, "timeout", timeout_hold_s=5)
    with pytest.raises(VendorTimeout):
        adapter.submit_claims(claims_837(claim("PCN-C6")), idempotency_key="live-cmd-6")
    live.sandbox.set_mode(V, "down")
    with pytest.raises(TransientFailure) as down:
        adapter.submit_claims(claims_837(claim("PCN-C6")), idempotency_key="live-cmd-6")
    assert down.value.outcome_unknown is True


def test_live_the_account_key_never_reaches_the_logs(live, caplog):
    caplog.set_level(logging.DEBUG)
    adapter = live()
    adapter.submit_claims(claims_837(claim("PCN-C7")), idempotency_key="live-cmd-7")
    adapter.fetch_reports()
    adapter.fetch_eras()
    adapter.health_check()
    assert "POST /claim_md/services/upload/ -> 200" in caplog.text
    assert LIVE_KEY not in caplog.text
