"""Claims sent to the sandbox clearinghouse over real HTTP, exactly once."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from billing.models import AuditLog, Claim
from clearinghouse.models import ClaimSubmission
from clearinghouse.submission import claim_submit, idempotency_key
from tests import factories
from tests.clearinghouse.test_export_837p import _claim

pytestmark = pytest.mark.django_db(transaction=True)

Status = ClaimSubmission.Status


@pytest.fixture
def setup(org, sandbox_clearinghouse):
    org.address_line1, org.city, org.state, org.zip_code = "1 Main St", "Camp Hill", "PA", "17011"
    org.phone = "(717) 555-0100"
    org.save()
    sandbox = factories.ClearinghouseConfigFactory(
        organization=org, vendor="sandbox", base_url=sandbox_clearinghouse.vendor_url("sandbox")
    )
    enrollment = factories.PayerEnrollmentFactory(
        organization=org, clearinghouse=sandbox, enrollment_status="active"
    )
    return org, sandbox, enrollment.payer, sandbox_clearinghouse


def _logged_claims(sandbox_clearinghouse) -> list[dict]:
    return sandbox_clearinghouse.log(kind="837P")


def test_it_records_sends_and_marks_the_claim_submitted(setup, admin_user):
    org, sandbox, payer, server = setup
    claim = _claim(org, payer)

    submission = claim_submit(
        organization=org, actor=admin_user, claim=claim, clearinghouse=sandbox
    )

    assert submission.status == Status.SENT
    assert submission.idempotency_key == idempotency_key(claim)
    assert submission.control_number == 1 and "CLM*" + claim.claim_number in submission.x12
    claim.refresh_from_db()
    assert claim.status == Claim.Status.SUBMITTED
    assert len(_logged_claims(server)) == 1
    actions = set(AuditLog.objects.filter(organization=org).values_list("action", flat=True))
    assert {"claim.submission_recorded", "claim.submission", "claim.status"} <= actions


def test_sending_again_does_not_send_twice(setup, admin_user):
    org, sandbox, payer, server = setup
    claim = _claim(org, payer)
    first = claim_submit(organization=org, actor=admin_user, claim=claim, clearinghouse=sandbox)
    again = claim_submit(organization=org, actor=admin_user, claim=claim, clearinghouse=sandbox)
    assert again.pk == first.pk
    assert ClaimSubmission.objects.filter(claim=claim).count() == 1
    assert len(_logged_claims(server)) == 1


def test_an_unknown_outcome_is_settled_with_the_same_vendor_and_key(setup, admin_user):
    org, sandbox, payer, server = setup
    claim = _claim(org, payer)
    server.set_mode("sandbox", "down")

    lost = claim_submit(organization=org, actor=admin_user, claim=claim, clearinghouse=sandbox)
    assert lost.status in (Status.UNKNOWN, Status.FAILED)
    other = factories.ClearinghouseConfigFactory(organization=org, vendor="sandbox")
    with pytest.raises(ValidationError, match="never sent to a second clearinghouse"):
        claim_submit(organization=org, actor=admin_user, claim=claim, clearinghouse=other)

    server.set_mode("sandbox", "healthy")
    settled = claim_submit(organization=org, actor=admin_user, claim=claim, clearinghouse=sandbox)
    assert settled.pk == lost.pk and settled.status == Status.SENT
    assert settled.x12 == lost.x12  # the same file, the same key
    assert len(_logged_claims(server)) == 1


def test_a_refused_claim_is_rejected_with_the_vendors_reason(setup, admin_user):
    org, sandbox, payer, _server = setup
    claim = _claim(org, payer)
    claim.coverage.member_id = "BAD123"
    claim.coverage.save()

    submission = claim_submit(
        organization=org, actor=admin_user, claim=claim, clearinghouse=sandbox
    )

    assert submission.status == Status.REJECTED and submission.message
    claim.refresh_from_db()
    assert claim.status == Claim.Status.REJECTED


def test_a_claim_without_an_active_enrollment_there_is_refused_before_anything_is_sent(
    setup, admin_user
):
    org, sandbox, _payer, server = setup
    unenrolled = factories.PayerFactory(organization=org)
    claim = _claim(org, unenrolled)
    with pytest.raises(ValidationError, match="no active 837P enrollment"):
        claim_submit(organization=org, actor=admin_user, claim=claim, clearinghouse=sandbox)
    assert not ClaimSubmission.objects.exists()
    assert _logged_claims(server) == []
