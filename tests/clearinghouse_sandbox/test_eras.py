"""Later, 835 ERAs pay, adjust and deny the claims the sandbox accepted."""

from __future__ import annotations

from decimal import Decimal

from clearinghouse.sandbox.answers import is_denied
from edi.x835 import balance_difference, read_835
from tests.clearinghouse_sandbox import x12_files
from tests.edi.pyx12_check import validate_with_pyx12


def submit_and_fetch_eras(sandbox, text: str) -> list[str]:
    base = f"{sandbox.vendor_url('sandbox')}/api/v1"
    sandbox.http.post(f"{base}/claims", content=text, timeout=10).raise_for_status()
    reports = sandbox.http.get(f"{base}/reports").json()["reports"]
    return [
        sandbox.http.get(f"{base}/reports/{r['id']}").text for r in reports if r["kind"] == "835"
    ]


def test_it_pays_accepted_claims_with_balanced_eras_that_pass_pyx12(sandbox_clearinghouse):
    paid_id, denied_id = x12_files.paid_claim_id(), x12_files.denied_claim_id()
    text = x12_files.claims_837(
        x12_files.claim(paid_id),
        x12_files.claim(denied_id),
        x12_files.claim("PCN-R1", member_id="BAD1"),
    )
    (era_text,) = submit_and_fetch_eras(sandbox_clearinghouse, text)
    assert validate_with_pyx12(era_text) == []
    (era,) = read_835(era_text).transactions
    assert balance_difference(era) == 0
    claims = {c.patient_control_number: c for c in era.claims}
    assert set(claims) == {paid_id, denied_id}  # the rejected claim is never paid

    paid = claims[paid_id]
    assert (paid.status_code, paid.charge) == ("1", Decimal("185"))
    assert paid.charge - paid.paid == sum(a.amount for s in paid.services for a in s.adjustments)
    assert Decimal("0.6") <= paid.paid / paid.charge <= Decimal("0.8")
    reasons = {(a.group, a.reason) for s in paid.services for a in s.adjustments}
    assert reasons == {("CO", "45"), ("PR", "2"), ("PR", "3")}
    assert paid.patient_responsibility == sum(
        a.amount for s in paid.services for a in s.adjustments if a.group == "PR"
    )
    assert [(s.procedure_code, s.charge) for s in paid.services] == [
        ("99213", Decimal("150")),
        ("87880", Decimal("35")),
    ]
    for service in paid.services:
        assert service.charge - service.paid == sum(a.amount for a in service.adjustments)

    denied = claims[denied_id]
    assert (denied.status_code, denied.paid, denied.charge) == ("4", 0, Decimal("185"))
    assert [(a.group, a.reason, a.amount) for a in denied.adjustments] == [
        ("CO", "50", Decimal("185"))
    ]
    assert era.payment_amount == paid.paid
    assert era.payee_npi == "1234567893"
    assert era.payer_name == "ACME HEALTH PLAN"


def test_it_sends_one_era_per_payer(sandbox_clearinghouse):
    text = x12_files.claims_837(
        x12_files.claim(x12_files.paid_claim_id("PCN-A")),
        x12_files.claim(x12_files.paid_claim_id("PCN-B"), payer_id="OTHER1"),
    )
    eras = submit_and_fetch_eras(sandbox_clearinghouse, text)
    assert len(eras) == 2
    for era_text in eras:
        assert validate_with_pyx12(era_text) == []


def test_it_sends_a_zero_pay_notification_when_every_claim_is_denied(sandbox_clearinghouse):
    text = x12_files.claims_837(x12_files.claim(x12_files.denied_claim_id()))
    (era_text,) = submit_and_fetch_eras(sandbox_clearinghouse, text)
    assert validate_with_pyx12(era_text) == []
    era = read_835(era_text).transactions[0]
    assert era.is_notification
    assert era.payment_amount == 0


def test_it_keeps_the_era_back_until_the_delay_has_passed(sandbox_clearinghouse):
    sandbox_clearinghouse.settings(era_delay_s=3600)
    text = x12_files.claims_837(x12_files.claim(x12_files.paid_claim_id()))
    assert submit_and_fetch_eras(sandbox_clearinghouse, text) == []
    assert sandbox_clearinghouse.state()["counts"]["eras_scheduled"] == 1


def test_it_denies_the_same_claims_on_every_run():
    assert x12_files.denied_claim_id() == x12_files.denied_claim_id()
    ids = [f"CLM-{n}" for n in range(200)]
    denied = sum(is_denied(i) for i in ids)
    assert 20 <= denied <= 60  # about one in five
