"""The sandbox clearinghouse's generic face (Waystar's paths, no auth) and the adapter
registry."""

from __future__ import annotations

import base64
import dataclasses
import itertools
import logging

import httpx
import pytest

from clearinghouse.models import Vendor
from clearinghouse.sandbox.answers import is_denied
from clearinghouse.vendors import ADAPTERS, adapter_class, adapter_for
from clearinghouse.vendors.base import (
    PermanentFailure,
    TransientFailure,
    VendorAdapter,
    VendorSettings,
    VendorTimeout,
)
from clearinghouse.vendors.claim_md import ClaimMdAdapter
from clearinghouse.vendors.reports import report_kind
from clearinghouse.vendors.sandbox import SandboxAdapter
from clearinghouse.vendors.waystar import WaystarAdapter
from edi import models as x12
from edi.x270 import write_270
from edi.x271 import read_271
from edi.x276 import write_276
from edi.x277 import read_277, read_277ca
from edi.x278 import read_278, write_278_request
from edi.x835 import read_835
from edi.x837p import write_837p
from edi.x999 import read_999
from tests.edi import examples
from tests.vendors import recorded
from tests.vendors.state import MemoryState
from tests.vendors.test_waystar import ENROLLMENT

BASE = "http://127.0.0.1:8001/sandbox"


def without_auth(*names: str) -> list[dict]:
    """Waystar's recorded exchanges, minus the Authorization header the sandbox face
    does not want."""
    exchanges = recorded.load("waystar", *names)
    for exchange in exchanges:
        exchange["request"]["headers"].pop("Authorization", None)
    return exchanges


@pytest.fixture
def sandbox(monkeypatch):
    def make(*steps, **overrides):
        values = dict(vendor="sandbox", base_url=BASE, account_id="", secret="")
        settings = VendorSettings(**{**values, **overrides})
        script = recorded.Script(list(steps), settings.base_url)
        recorded.install(monkeypatch, script)
        return SandboxAdapter(settings, MemoryState()), script

    return make


def test_it_speaks_waystars_shapes_without_credentials(sandbox):
    mailbox = without_auth("fetch_reports")  # list, 999 and 277CA (read, deleted), 835
    still_listed = {"reports": [{"id": "RPT-1003", "kind": "835"}]}
    adapter, script = sandbox(
        *without_auth("submit_claims", "eligibility"),
        *mailbox[:5],
        lambda request: httpx.Response(200, json=still_listed),
        *mailbox[5:],
        *without_auth("health"),
    )
    result = adapter.submit_claims(
        recorded.request_of("waystar", "submit_claims")["text"], idempotency_key="claim-1001-v1"
    )
    assert result.reference == "WS-20261125-0001"
    assert adapter.eligibility(recorded.request_of("waystar", "eligibility")["text"]).startswith(
        "ISA*"
    )
    assert [r.kind for r in adapter.fetch_reports()] == ["999", "277CA"]
    assert [(r.report_id, r.kind) for r in adapter.fetch_eras()] == [("RPT-1003", "835")]
    assert adapter.health_check().ok is True
    script.done()
    assert all("Authorization" not in request.headers for request in script.seen)
    assert script.seen[0].url.path == "/sandbox/api/v1/claims"


def test_it_sends_the_account_id_as_the_basic_auth_user_when_there_is_one(sandbox):
    adapter, script = sandbox(*without_auth("health"), account_id="org-7")
    assert adapter.health_check().ok is True
    expected = "Basic " + base64.b64encode(b"org-7:").decode()  # the secret may be empty
    assert script.seen[0].headers["Authorization"] == expected

    adapter, script = sandbox(*without_auth("health"), account_id="org-7", secret="pw")
    adapter.health_check()
    expected = "Basic " + base64.b64encode(b"org-7:pw").decode()
    assert script.seen[0].headers["Authorization"] == expected


def test_live_each_account_has_its_own_mailbox_on_the_sandbox_face(sandbox_clearinghouse):
    def adapter(account_id: str) -> SandboxAdapter:
        settings = VendorSettings(
            vendor="sandbox",
            base_url=sandbox_clearinghouse.vendor_url("sandbox"),
            account_id=account_id,
            timeout_s=10.0,
        )
        return SandboxAdapter(settings, MemoryState())

    first, second = adapter("org-1"), adapter("org-2")
    first.submit_claims(claims_837(claim("PCN-MB1")), idempotency_key="mailbox-1")
    assert second.fetch_reports() == []
    assert second.fetch_eras() == []
    assert sorted(r.kind for r in first.fetch_reports()) == ["277CA", "999"]
    assert [r.kind for r in first.fetch_eras()] == ["835"]


def test_it_enrolls_like_waystar(sandbox):
    adapter, script = sandbox(*without_auth("submit_enrollment", "enrollment_status"))
    assert adapter.submit_enrollment(ENROLLMENT).status == "pending"
    assert adapter.enrollment_status("ENR-501").status == "rejected"
    script.done()


# --- the registry ------------------------------------------------------------------------------


def test_it_has_an_adapter_for_every_vendor():
    assert set(ADAPTERS) <= set(Vendor.values)
    assert adapter_class(Vendor.WAYSTAR) is WaystarAdapter
    assert adapter_class(Vendor.CLAIM_MD) is ClaimMdAdapter
    assert adapter_class(Vendor.SANDBOX) is SandboxAdapter
    for vendor in Vendor.values:
        cls = adapter_class(vendor)
        assert issubclass(cls, VendorAdapter)
        assert cls.vendor == vendor


def test_it_refuses_an_unknown_vendor():
    with pytest.raises(ValueError, match="no adapter for the clearinghouse vendor 'acme'"):
        adapter_class("acme")


def test_it_builds_the_adapter_for_the_settings():
    settings = VendorSettings(vendor="claim_md", base_url="https://svc.claim.example")
    state = MemoryState()
    adapter = adapter_for(settings, state)
    assert isinstance(adapter, ClaimMdAdapter)
    assert (adapter.settings, adapter.state) == (settings, state)


# --- against the sandbox clearinghouse over real HTTP ------------------------------------------


def claim(pcn: str, *, member_id: str = "XYZ123456789", payer_id: str = "ACME1") -> x12.Claim:
    visit = examples.office_visit(pcn)
    visit.subscriber = dataclasses.replace(visit.subscriber, member_id=member_id)
    visit.payer = dataclasses.replace(visit.payer, payer_id=payer_id)
    return visit


def claims_837(*claims: x12.Claim, control_number: int = 905) -> str:
    """An 837P interchange written by edi around the demo practice's claims."""
    batch = dataclasses.replace(examples.claims_batch(), claims=list(claims))
    return write_837p(examples.envelope(control_number), [batch])


def paid_claim_id(prefix: str) -> str:
    """A claim id the sandbox pays rather than denies (it denies one in five by hash)."""
    return next(f"{prefix}{n}" for n in itertools.count(1) if not is_denied(f"{prefix}{n}"))


def eligibility_270(member_id: str) -> str:
    request = examples.eligibility_request()
    request.inquiries = request.inquiries[:1]
    subscriber = dataclasses.replace(request.inquiries[0].subscriber, identifier=member_id)
    request.inquiries[0] = dataclasses.replace(request.inquiries[0], subscriber=subscriber)
    return write_270(examples.envelope(), [request])


def status_276(claim_id: str) -> str:
    request = examples.status_request()
    template = request.providers[0].claims[0]
    request.providers[0].claims = [
        dataclasses.replace(
            template, patient_control_number=claim_id, payer_claim_control_number=""
        )
    ]
    return write_276(examples.envelope(), [request])


def claim_verdicts(acknowledgements) -> dict[str, str]:
    return {
        c.patient_control_number: c.statuses[0].category
        for text in acknowledgements
        if report_kind(text) == "277CA"
        for ack in read_277ca(text).transactions
        for provider in ack.providers
        for c in provider.claims
    }


@pytest.fixture(params=["waystar", "sandbox"])
def live(request, sandbox_clearinghouse):
    """`live(**settings)`: the face's adapter pointed at the running sandbox."""
    vendor = request.param
    state = MemoryState()

    def make(**overrides) -> WaystarAdapter:
        values = dict(
            vendor=vendor,
            base_url=sandbox_clearinghouse.vendor_url(vendor),
            account_id="practice-svc",
            secret="live-waystar-secret-4471",
            timeout_s=10.0,
        )
        return adapter_class(vendor)(VendorSettings(**{**values, **overrides}), state)

    make.vendor = vendor
    make.sandbox = sandbox_clearinghouse
    return make


def test_live_it_submits_claims_and_gets_the_999_and_277ca_at_once(live):
    adapter = live()
    text = claims_837(claim("PCN-L1"), claim("PCN-L2", member_id="BAD77"))
    result = adapter.submit_claims(text, idempotency_key="live-claims-1")
    assert result.reference.startswith("SBX")
    assert [report_kind(a) for a in result.acknowledgements] == ["999", "277CA"]
    assert read_999(result.acknowledgements[0]).transactions[0].status == "A"
    assert claim_verdicts(result.acknowledgements) == {"PCN-L1": "A2", "PCN-L2": "A7"}
    assert "claim PCN-L2 rejected: A7:" in result.message


def test_live_it_raises_a_rejected_claim_as_permanent_with_the_reason(live):
    adapter = live()
    with pytest.raises(PermanentFailure) as caught:
        adapter.submit_claims(
            claims_837(claim("PCN-L3", payer_id="XX404")), idempotency_key="live-claims-2"
        )
    assert caught.value.status_code == 400
    assert "XX404" in caught.value.message


def test_live_a_repeated_submission_is_accepted_once(live):
    adapter = live()
    text = claims_837(claim("PCN-L4"))
    first = adapter.submit_claims(text, idempotency_key="live-claims-3")
    again = live().submit_claims(text, idempotency_key="live-claims-3")
    assert again == first
    assert len(live.sandbox.log(kind="837P", vendor=live.vendor)) == 1


def test_live_it_fetches_the_acknowledgements_and_the_era(live):
    adapter = live()
    paid = paid_claim_id("PCN-LR")
    adapter.submit_claims(claims_837(claim(paid)), idempotency_key="live-claims-4")
    eras = adapter.fetch_eras()
    assert [e.kind for e in eras] == ["835"]
    remittance = read_835(eras[0].text).transactions[0]
    assert [c.patient_control_number for c in remittance.claims] == [paid]
    assert remittance.claims[0].paid > 0
    reports = adapter.fetch_reports()
    assert sorted(r.kind for r in reports) == ["277CA", "999"]
    assert adapter.fetch_reports() == []  # deleted once read


def test_live_it_checks_eligibility(live):
    adapter = live()
    active = read_271(adapter.eligibility(eligibility_270("XYZ123456789"))).transactions[0]
    assert active.inquiries[0].benefits
    invalid = adapter.eligibility(eligibility_270("BAD123"))
    assert "AAA*N**72" in invalid


def test_live_it_asks_claim_status_and_prior_auth(live):
    adapter = live()
    adapter.submit_claims(claims_837(claim("PCN-L5")), idempotency_key="live-claims-5")
    status = read_277(adapter.claim_status(status_276("PCN-L5"))).transactions[0]
    assert status.providers[0].claims[0].statuses[0].category in {"A2", "F1", "F2"}
    review = read_278(
        adapter.prior_auth(write_278_request(examples.envelope(), [examples.review_request()]))
    )
    assert review.transactions[0].decision.action == "A1"


def test_live_it_enrolls_and_reads_the_decision(live):
    adapter = live()
    submitted = adapter.submit_enrollment(ENROLLMENT)
    assert submitted.status == "pending"
    assert adapter.enrollment_status(submitted.reference).status == "active"
    refused = adapter.submit_enrollment(
        dataclasses.replace(ENROLLMENT, electronic_payer_id="REJ001")
    )
    result = adapter.enrollment_status(refused.reference)
    assert result.status == "rejected"
    assert "REJ001" in result.reason


def test_live_health_follows_the_mode(live):
    adapter = live()
    assert adapter.health_check().ok is True
    live.sandbox.set_mode(live.vendor, "failing")
    health = adapter.health_check()
    assert (health.ok, "HTTP 503" in health.detail) == (False, True)


def test_live_failing_timing_out_and_down_are_transient(live):
    adapter = live(timeout_s=0.5)
    text = claims_837(claim("PCN-L6"))
    live.sandbox.set_mode(live.vendor, "failing")
    with pytest.raises(TransientFailure) as failing:
        adapter.submit_claims(text, idempotency_key="live-claims-6")
    assert failing.value.status_code == 503
    live.sandbox.set_mode(live.vendor, "timeout", timeout_hold_s=5)
    with pytest.raises(VendorTimeout) as timing_out:
        adapter.submit_claims(text, idempotency_key="live-claims-6")
    assert timing_out.value.outcome_unknown is True
    live.sandbox.set_mode(live.vendor, "slow", slow_s=2)
    with pytest.raises(VendorTimeout):
        adapter.eligibility(eligibility_270("XYZ123456789"))
    live.sandbox.set_mode(live.vendor, "down")
    with pytest.raises(TransientFailure) as down:
        adapter.submit_claims(text, idempotency_key="live-claims-6")
    assert down.value.outcome_unknown is True
    assert not isinstance(down.value, VendorTimeout)


def test_live_the_secret_never_reaches_the_logs(live, caplog):
    caplog.set_level(logging.DEBUG)
    adapter = live()
    adapter.submit_claims(claims_837(claim("PCN-L7")), idempotency_key="live-claims-7")
    adapter.fetch_reports()
    adapter.health_check()
    basic = base64.b64encode(b"practice-svc:live-waystar-secret-4471").decode()
    assert "/api/v1/claims -> 200" in caplog.text
    assert "live-waystar-secret-4471" not in caplog.text
    assert basic not in caplog.text
