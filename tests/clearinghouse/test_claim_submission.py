"""Claims sent through the audited router to the sandbox clearinghouse over real HTTP,
exactly once."""

from __future__ import annotations

import pytest

from billing.models import AuditLog, Claim
from clearinghouse import health
from clearinghouse.models import ClaimSubmission, FailoverSettings
from clearinghouse.router import RouteError
from clearinghouse.submission import claim_submit, idempotency_key
from tests import factories
from tests.cache import empty_cache  # noqa: F401  (autouse)
from tests.clearinghouse.pair import sandbox_pair
from tests.clearinghouse.test_export_837p import _claim

pytestmark = pytest.mark.django_db(transaction=True)

Status = ClaimSubmission.Status


@pytest.fixture
def setup(org, sandbox_clearinghouse):
    pair = sandbox_pair(org, sandbox_clearinghouse)
    return org, pair.primary, pair.payer, sandbox_clearinghouse


def _logged_claims(sandbox_clearinghouse) -> list[dict]:
    return sandbox_clearinghouse.log(kind="837P")


def test_it_records_sends_and_marks_the_claim_submitted(setup, admin_user):
    org, _sandbox, payer, server = setup
    claim = _claim(org, payer)

    submission = claim_submit(organization=org, actor=admin_user, claim=claim)

    assert submission.status == Status.SENT
    assert submission.idempotency_key == idempotency_key(claim)
    assert submission.control_number == 1 and "CLM*" + claim.claim_number in submission.x12
    claim.refresh_from_db()
    assert claim.status == Claim.Status.SUBMITTED
    assert len(_logged_claims(server)) == 1
    actions = set(AuditLog.objects.filter(organization=org).values_list("action", flat=True))
    assert {"claim.submission_recorded", "claim.submission", "claim.status"} <= actions


def test_sending_again_does_not_send_twice(setup, admin_user):
    org, _sandbox, payer, server = setup
    claim = _claim(org, payer)
    first = claim_submit(organization=org, actor=admin_user, claim=claim)
    again = claim_submit(organization=org, actor=admin_user, claim=claim)
    assert again.pk == first.pk
    assert ClaimSubmission.objects.filter(claim=claim).count() == 1
    assert len(_logged_claims(server)) == 1


def test_an_unknown_outcome_is_settled_with_the_same_vendor_and_key(setup, admin_user):
    org, sandbox, payer, server = setup
    claim = _claim(org, payer)
    server.set_mode("sandbox", "down")

    lost = claim_submit(organization=org, actor=admin_user, claim=claim)
    assert lost.status == Status.UNKNOWN
    again = claim_submit(organization=org, actor=admin_user, claim=claim)
    assert again.status == Status.UNKNOWN and again.clearinghouse == sandbox
    # Two timeouts degraded the primary: the router now says Waystar, but the claim stays.
    assert not health.is_available(org, sandbox, FailoverSettings.objects.get(organization=org))
    assert server.log(kind="837P", vendor="waystar") == []

    server.set_mode("sandbox", "healthy")
    settled = claim_submit(organization=org, actor=admin_user, claim=claim)
    assert settled.pk == lost.pk and settled.status == Status.SENT
    assert settled.x12 == lost.x12  # the same file, the same key
    assert len(_logged_claims(server)) == 1
    assert server.log(kind="837P", vendor="waystar") == []


def test_the_file_carries_the_routed_vendors_electronic_payer_id(setup, admin_user):
    org, sandbox, payer, _server = setup
    claim = _claim(org, payer)
    submission = claim_submit(organization=org, actor=admin_user, claim=claim)
    assert submission.clearinghouse == sandbox
    assert "*PI*SBX01~" in submission.x12.replace("\n", "")
    recorded = AuditLog.objects.get(action="claim.submission_recorded")
    assert recorded.new_values["failed_over"] is False


def test_a_new_claim_goes_to_the_secondary_while_the_primary_is_degraded(setup, admin_user):
    org, sandbox, payer, server = setup
    settings = FailoverSettings.objects.get(organization=org)
    for _ in range(settings.failure_threshold):
        health.record_failure(org, sandbox, reason=health.HEALTH_CHECK_FAILURES, settings=settings)
    claim = _claim(org, payer)

    submission = claim_submit(organization=org, actor=admin_user, claim=claim)

    assert submission.status == Status.SENT
    assert submission.clearinghouse == settings.secondary
    assert "*PI*WAY02~" in submission.x12.replace("\n", "")
    assert len(server.log(kind="837P", vendor="waystar")) == 1
    assert server.log(kind="837P", vendor="sandbox") == []
    failover = AuditLog.objects.get(action="clearinghouse_route_failover")
    assert failover.new_values["vendor"] == settings.secondary_id
    assert failover.new_values["failed_over"] is True
    assert failover.new_values["reason"] == "consecutive_health_failures"


def test_a_submission_that_never_got_there_is_routed_afresh(setup, admin_user):
    org, sandbox, payer, server = setup
    settings = FailoverSettings.objects.get(organization=org)
    claim = _claim(org, payer)
    sandbox.base_url = "http://127.0.0.1:9/sandbox"  # connection refused: nothing was sent
    sandbox.save()

    first = claim_submit(organization=org, actor=admin_user, claim=claim)
    assert first.status == Status.FAILED and first.clearinghouse == sandbox
    second = claim_submit(organization=org, actor=admin_user, claim=claim)
    assert second.status == Status.FAILED  # the second failure reaches the threshold
    third = claim_submit(organization=org, actor=admin_user, claim=claim)

    assert third.pk == first.pk and third.status == Status.SENT
    assert third.clearinghouse == settings.secondary
    assert third.idempotency_key == first.idempotency_key
    assert len(server.log(kind="837P", vendor="waystar")) == 1
    rerouted = AuditLog.objects.get(action="claim.submission_rerouted")
    assert rerouted.old_values["clearinghouse_id"] == sandbox.pk
    assert rerouted.new_values["clearinghouse_id"] == settings.secondary_id


def test_a_hard_pinned_payer_on_a_degraded_vendor_is_refused_with_a_clear_error(setup, admin_user):
    org, sandbox, payer, server = setup
    settings = FailoverSettings.objects.get(organization=org)
    factories.PayerRouteFactory(
        organization=org, payer=payer, forced_vendor=sandbox, allow_failover=False
    )
    for _ in range(settings.failure_threshold):
        health.record_failure(org, sandbox, reason=health.HEALTH_CHECK_FAILURES, settings=settings)
    claim = _claim(org, payer)

    with pytest.raises(RouteError, match=f"Payer {payer.name} is pinned to {sandbox}"):
        claim_submit(organization=org, actor=admin_user, claim=claim)

    assert not ClaimSubmission.objects.exists()
    assert server.log(kind="837P") == []


def test_a_refused_claim_is_rejected_with_the_vendors_reason(setup, admin_user):
    org, _sandbox, payer, _server = setup
    claim = _claim(org, payer)
    claim.coverage.member_id = "BAD123"
    claim.coverage.save()

    submission = claim_submit(organization=org, actor=admin_user, claim=claim)

    assert submission.status == Status.REJECTED and submission.message
    claim.refresh_from_db()
    assert claim.status == Claim.Status.REJECTED


def test_a_claim_without_an_active_enrollment_there_is_refused_before_anything_is_sent(
    setup, admin_user
):
    org, _sandbox, _payer, server = setup
    unenrolled = factories.PayerFactory(organization=org)
    claim = _claim(org, unenrolled)
    with pytest.raises(RouteError, match="no active 837P enrollment"):
        claim_submit(organization=org, actor=admin_user, claim=claim)
    assert not ClaimSubmission.objects.exists()
    assert _logged_claims(server) == []
