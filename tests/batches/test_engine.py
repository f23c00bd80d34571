"""The batch engine with the two database-only runners: Charge Approval and Claim
Generation. Jobs are run in-process (`engine.job_run`), as a worker would run them."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from batches import engine, runners
from batches.models import BatchItem, BatchJob, JobType
from batches.services import batch_cancel, batch_retry_failed, batch_start
from batches.tasks import sweep_stalled_jobs
from billing.models import AuditLog, Charge, Claim
from tests import factories

pytestmark = pytest.mark.django_db

Status = BatchJob.Status


@pytest.fixture(autouse=True)
def _no_queue(monkeypatch):
    """Record what would be enqueued instead of talking to a broker."""
    sent = []
    monkeypatch.setattr("batches.tasks.run_batch_job.delay_on_commit", sent.append)
    monkeypatch.setattr("batches.tasks.run_batch_job.delay", sent.append)
    return sent


def _encounter(org, *, covered=True, charges=2, **charge_fields):
    patient = factories.PatientFactory(organization=org)
    if covered:
        factories.CoverageFactory(organization=org, patient=patient)
    encounter = factories.EncounterFactory(organization=org, patient=patient)
    return [
        factories.ChargeFactory(encounter=encounter, amount=Decimal("100.00"), **charge_fields)
        for _ in range(charges)
    ]


def _start(org, actor, job_type, charges):
    return batch_start(
        organization=org, actor=actor, job_type=job_type, record_ids=[c.pk for c in charges]
    )


def _counts(job):
    job.refresh_from_db()
    items = BatchItem.objects.filter(job=job)
    done = items.exclude(status__in=["pending", "processing"]).count()
    errors = items.filter(status__in=["failed", "skipped"]).count()
    assert (job.total_count, job.processed_count, job.error_count) == (
        items.count(),
        done,
        errors,
    ), "the job's counts must equal its item table"
    return job.total_count, job.processed_count, job.error_count


def test_charge_approval_approves_good_drafts_and_says_why_for_the_others(org, admin_user):
    good = _encounter(org)
    uncovered = _encounter(org, covered=False, charges=1)
    bad_pointer = _encounter(org, charges=1, diagnosis_pointers=[7])
    approved_already = _encounter(org, charges=1, status="approved")
    job = _start(
        org, admin_user, JobType.CHARGE_APPROVAL, good + uncovered + bad_pointer + approved_already
    )

    job = engine.job_run(job.pk)

    assert job.status == Status.PARTIAL
    assert _counts(job) == (5, 5, 3)
    assert {c.status for c in Charge.objects.filter(pk__in=[c.pk for c in good])} == {"approved"}
    errors = dict(
        BatchItem.objects.filter(job=job, status="failed").values_list("record_id", "error_message")
    )
    assert "no primary coverage" in errors[uncovered[0].pk]
    assert "Diagnosis pointers" in errors[bad_pointer[0].pk]
    assert "only drafts are approved" in errors[approved_already[0].pk]
    assert Charge.objects.get(pk=uncovered[0].pk).status == "draft"
    approve = AuditLog.objects.get(action="charge.approve")
    assert sorted(approve.new_values["charge_ids"]) == sorted(c.pk for c in good)
    chunk = AuditLog.objects.get(action="batch.items")
    assert sorted(chunk.new_values["succeeded"]) == sorted(c.pk for c in good)
    assert set(chunk.new_values["failed"]) == {
        str(c.pk) for c in uncovered + bad_pointer + approved_already
    }
    finish = AuditLog.objects.get(action="batch.finish")
    assert finish.new_values == {"status": "partial", "total": 5, "processed": 5, "errors": 3}


def test_claim_generation_groups_per_encounter_and_payer_and_bills_each_charge_once(
    org, admin_user
):
    first = _encounter(org, charges=3, status="approved")
    second = _encounter(org, charges=1, status="approved")
    draft = _encounter(org, charges=1)
    job = _start(org, admin_user, JobType.CLAIM_GENERATION, first + second + draft)

    job = engine.job_run(job.pk, chunk_groups=1)  # one encounter per chunk

    assert job.status == Status.PARTIAL and _counts(job) == (5, 5, 1)
    claims = list(Claim.objects.filter(organization=org).order_by("pk"))
    assert len(claims) == 2
    assert claims[0].total == Decimal("300.00") and claims[0].status == "ready"
    assert set(claims[0].charges.values_list("pk", flat=True)) == {c.pk for c in first}
    assert claims[0].payer == first[0].encounter.patient.coverages.get().payer
    assert (
        Charge.objects.filter(pk__in=[c.pk for c in first + second], status="billed").count() == 4
    )
    assert [c.claim_number for c in claims] == ["CLM0000001", "CLM0000002"]
    failed = BatchItem.objects.get(job=job, status="failed")
    assert failed.record_id == draft[0].pk and "not approved" in failed.error_message

    again = _start(org, admin_user, JobType.CLAIM_GENERATION, first)
    again = engine.job_run(again.pk)
    assert again.status == Status.FAILED
    assert Claim.objects.filter(organization=org).count() == 2
    assert set(BatchItem.objects.filter(job=again).values_list("error_message", flat=True)) == {
        "Not billed: it is already billed."
    }


def test_a_chunk_never_splits_an_encounter(org, admin_user):
    charges = _encounter(org, charges=5, status="approved")
    job = _start(org, admin_user, JobType.CLAIM_GENERATION, charges)
    with engine.tenant_context(org):
        locked = BatchJob.objects.select_for_update().get(pk=job.pk)
        items = engine.claim_chunk(locked, 1)
    assert len(items) == 5  # one group, all of it


def test_all_failed_is_failed_and_all_good_is_completed(org, admin_user):
    bad = _start(org, admin_user, JobType.CHARGE_APPROVAL, _encounter(org, covered=False))
    assert engine.job_run(bad.pk).status == Status.FAILED
    good = _start(org, admin_user, JobType.CHARGE_APPROVAL, _encounter(org))
    good = engine.job_run(good.pk)
    assert good.status == Status.COMPLETED and _counts(good) == (2, 2, 0)
    assert good.started_at and good.finished_at and good.finished_at >= good.started_at


def test_a_job_delivered_twice_processes_each_item_once(org, admin_user):
    charges = _encounter(org, charges=3)
    job = _start(org, admin_user, JobType.CHARGE_APPROVAL, charges)
    engine.job_run(job.pk)
    before = AuditLog.objects.count()

    engine.job_run(job.pk)  # the broker delivers the message again

    assert AuditLog.objects.count() == before
    assert BatchItem.objects.filter(job=job, attempts=1).count() == 3


def test_starting_refuses_records_of_another_organization_and_creates_nothing(
    org, other_org, admin_user
):
    mine = _encounter(org, charges=1)
    theirs = _encounter(other_org, charges=1)
    with pytest.raises(Exception, match="do not exist in this organization"):
        _start(org, admin_user, JobType.CHARGE_APPROVAL, mine + theirs)
    assert not BatchJob.objects.exists() and not BatchItem.objects.exists()


def test_starting_enqueues_the_job_and_audits_it(org, admin_user, _no_queue):
    job = _start(org, admin_user, JobType.CHARGE_APPROVAL, _encounter(org))
    assert _no_queue == [job.pk]
    assert job.status == Status.PENDING and job.total_count == 2
    created = AuditLog.objects.get(action="batch.create")
    assert created.new_values["records"] == 2 and created.actor == admin_user


def test_cancelling_a_job_no_worker_started_ends_it_failed(org, admin_user):
    job = _start(org, admin_user, JobType.CHARGE_APPROVAL, _encounter(org))
    batch_cancel(organization=org, actor=admin_user, job=job)
    job.refresh_from_db()
    assert job.status == Status.FAILED and job.finished_at
    assert set(BatchItem.objects.filter(job=job).values_list("status", "error_message")) == {
        ("skipped", "cancelled")
    }
    assert _counts(job) == (2, 2, 2)
    assert Charge.objects.filter(status="approved").count() == 0


def test_cancelling_a_running_job_skips_the_rest_and_ends_partial(org, admin_user):
    charges = _encounter(org, charges=1) + _encounter(org, charges=1) + _encounter(org, charges=1)
    job = _start(org, admin_user, JobType.CHARGE_APPROVAL, charges)
    # The worker has done one chunk when the user cancels.
    with engine.tenant_context(org):
        locked = BatchJob.objects.select_for_update().get(pk=job.pk)
        locked.status = Status.IN_PROGRESS
        locked.save()
        items = engine.claim_chunk(locked, 1)
        results = runners.approve_charges(org, admin_user, items)
        engine.save_outcomes(org, admin_user, locked, {i: results[i.pk] for i in items})
    batch_cancel(organization=org, actor=admin_user, job=job)

    job = engine.job_run(job.pk)

    assert job.status == Status.PARTIAL and _counts(job) == (3, 3, 2)
    assert Charge.objects.filter(status="approved").count() == 1
    assert AuditLog.objects.filter(action="batch.cancel", actor=admin_user).exists()


def test_retry_failed_items_starts_a_new_job_for_just_them(org, admin_user):
    uncovered = _encounter(org, covered=False, charges=1)
    job = _start(org, admin_user, JobType.CHARGE_APPROVAL, _encounter(org) + uncovered)
    job = engine.job_run(job.pk)
    assert job.status == Status.PARTIAL
    factories.CoverageFactory(organization=org, patient=uncovered[0].encounter.patient)

    retry = batch_retry_failed(organization=org, actor=admin_user, job=job)

    assert retry.retry_of == job and retry.total_count == 1
    assert list(retry.items.values_list("record_id", flat=True)) == [uncovered[0].pk]
    assert engine.job_run(retry.pk).status == Status.COMPLETED


def test_a_job_whose_worker_died_is_swept_and_finished_with_correct_counts(
    org, admin_user, settings, _no_queue
):
    settings.BATCH_STALE_AFTER_S = 60
    charges = _encounter(org, charges=1) + _encounter(org, charges=1)
    job = _start(org, admin_user, JobType.CHARGE_APPROVAL, charges)
    _no_queue.clear()
    with engine.tenant_context(org):  # a worker claimed a chunk, then died
        locked = BatchJob.objects.select_for_update().get(pk=job.pk)
        locked.status, locked.started_at = Status.IN_PROGRESS, timezone.now()
        locked.heartbeat_at = timezone.now() - datetime.timedelta(minutes=5)
        locked.save()
        engine.claim_chunk(locked, 1)

    assert sweep_stalled_jobs() == [job.pk]
    assert _no_queue == [job.pk]
    assert not BatchItem.objects.filter(job=job, status="processing").exists()
    job = engine.job_run(job.pk)

    assert job.status == Status.COMPLETED and _counts(job) == (2, 2, 0)
    assert sweep_stalled_jobs() == []


def test_a_record_that_breaks_the_runner_fails_alone(org, admin_user, monkeypatch):
    charges = _encounter(org, charges=1) + _encounter(org, charges=1) + _encounter(org, charges=1)
    broken = charges[1].pk
    real = runners.approve_charges

    def flaky(organization, actor, items):
        if any(i.record_id == broken for i in items):
            raise RuntimeError("boom")
        return real(organization, actor, items)

    monkeypatch.setitem(
        engine.RUNNERS,
        JobType.CHARGE_APPROVAL,
        engine.Runner(flaky, transactional=True, chunk_groups=10),
    )
    job = _start(org, admin_user, JobType.CHARGE_APPROVAL, charges)
    job = engine.job_run(job.pk)
    assert job.status == Status.PARTIAL and _counts(job) == (3, 3, 1)
    assert BatchItem.objects.get(job=job, status="failed").record_id == broken
    assert Charge.objects.filter(status="approved").count() == 2


def test_claim_generation_costs_a_constant_number_of_queries_per_chunk(org, admin_user):
    def queries(encounters):
        charges = [c for _ in range(encounters) for c in _encounter(org, status="approved")]
        job = _start(org, admin_user, JobType.CLAIM_GENERATION, charges)
        with CaptureQueriesContext(connection) as captured:
            engine.job_run(job.pk)
        return len(captured)

    queries(1)  # the first claim of the organization creates its number sequence
    assert queries(2) == queries(12)
