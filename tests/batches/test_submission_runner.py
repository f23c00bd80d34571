"""Claim Submission batches against the sandbox clearinghouse over real HTTP."""

from __future__ import annotations

import pytest

from batches import engine, runners  # noqa: F401
from batches.models import BatchItem, BatchJob, JobType
from batches.services import batch_start
from clearinghouse import health
from clearinghouse.models import ClaimSubmission, FailoverSettings
from tests import factories
from tests.batches.submission_setup import ready_claims, sandbox_pair
from tests.cache import clear_cache

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _setup(monkeypatch):
    clear_cache()
    monkeypatch.setattr("batches.tasks.run_batch_job.delay_on_commit", lambda job_id: None)
    yield
    clear_cache()


def _submit(org, actor, claims):
    job = batch_start(
        organization=org,
        actor=actor,
        job_type=JobType.CLAIM_SUBMISSION,
        record_ids=[c.pk for c in claims],
    )
    return engine.job_run(job.pk)


def test_it_sends_each_claim_once_through_the_router(org, admin_user, sandbox_clearinghouse):
    primary, _secondary, payer = sandbox_pair(org, sandbox_clearinghouse)
    claims = ready_claims(org, payer, 25)

    job = _submit(org, admin_user, claims)

    assert job.status == BatchJob.Status.COMPLETED and job.processed_count == 25
    log = sandbox_clearinghouse.log(kind="837P", vendor="sandbox")
    keys = [entry["idempotency_key"] for entry in log]
    assert len(keys) == len(set(keys)) == 25
    assert set(ClaimSubmission.objects.values_list("clearinghouse", flat=True)) == {primary.pk}
    assert set(c.status for c in type(claims[0]).objects.filter(pk__in=[c.pk for c in claims])) == {
        "submitted"
    }

    again = _submit(org, admin_user, claims)  # submitted claims are not sent twice
    assert again.status == BatchJob.Status.COMPLETED
    assert len(sandbox_clearinghouse.log(kind="837P")) == 25


def test_a_primary_that_goes_down_mid_batch_fails_over_and_loses_nothing(
    org, admin_user, sandbox_clearinghouse
):
    primary, secondary, payer = sandbox_pair(org, sandbox_clearinghouse)
    primary.base_url = "http://127.0.0.1:9/sandbox"  # refused: nothing ever reaches it
    primary.save()
    claims = ready_claims(org, payer, 6)

    job = _submit(org, admin_user, claims)

    # The first two fail at the primary (threshold 2), then the router sends the rest to
    # the secondary; a retry of the failed records goes there too.
    assert job.status == BatchJob.Status.PARTIAL and job.error_count == 2
    failed = list(BatchItem.objects.filter(job=job, status="failed"))
    assert all("Not sent to Sandbox" in item.error_message for item in failed)
    from batches.services import batch_retry_failed

    retry = engine.job_run(batch_retry_failed(organization=org, actor=admin_user, job=job).pk)
    assert retry.status == BatchJob.Status.COMPLETED
    log = sandbox_clearinghouse.log(kind="837P", vendor="waystar")
    assert len({entry["idempotency_key"] for entry in log}) == len(log) == 6
    assert set(ClaimSubmission.objects.values_list("clearinghouse", flat=True)) == {secondary.pk}


def test_a_hard_pinned_payer_on_a_degraded_vendor_fails_each_item_with_the_reason(
    org, admin_user, sandbox_clearinghouse
):
    primary, _secondary, payer = sandbox_pair(org, sandbox_clearinghouse)
    factories.PayerRouteFactory(
        organization=org, payer=payer, forced_vendor=primary, allow_failover=False
    )
    settings = FailoverSettings.objects.get(organization=org)
    for _ in range(settings.failure_threshold):
        health.record_failure(org, primary, reason=health.HEALTH_CHECK_FAILURES, settings=settings)
    claims = ready_claims(org, payer, 3)

    job = _submit(org, admin_user, claims)

    assert job.status == BatchJob.Status.FAILED
    messages = set(BatchItem.objects.filter(job=job).values_list("error_message", flat=True))
    assert len(messages) == 1 and "pinned to Sandbox" in messages.pop()
    assert sandbox_clearinghouse.log(kind="837P") == []
    assert not ClaimSubmission.objects.exists()


def test_draft_claims_are_not_sent(org, admin_user, sandbox_clearinghouse):
    _primary, _secondary, payer = sandbox_pair(org, sandbox_clearinghouse)
    (claim,) = ready_claims(org, payer, 1)
    claim.status = "draft"
    claim.save()
    job = _submit(org, admin_user, [claim])
    assert job.status == BatchJob.Status.FAILED
    assert "only Ready claims are sent" in BatchItem.objects.get(job=job).error_message


def test_the_acknowledgements_of_a_batch_land_on_its_claims(org, admin_user, sandbox_clearinghouse):
    from billing.models import Claim
    from clearinghouse.models import ClaimAcknowledgement
    from clearinghouse.vendor_tasks import fetch_acknowledgements

    _primary, _secondary, payer = sandbox_pair(org, sandbox_clearinghouse)
    claims = ready_claims(org, payer, 3)
    job = _submit(org, admin_user, claims)
    assert job.status == BatchJob.Status.COMPLETED

    fetch_acknowledgements(organization_id=org.pk)

    statuses = dict(Claim.objects.filter(pk__in=[c.pk for c in claims]).values_list("pk", "status"))
    assert set(statuses.values()) == {"accepted"}
    kinds = set(
        ClaimAcknowledgement.objects.filter(claim__in=claims).values_list("kind", flat=True)
    )
    assert kinds >= {"999"}
