"""Writes of batch jobs: start one, cancel it, retry its failed records. Each is atomic and
audited; the work itself runs on Celery workers (`batches.tasks.run_batch_job`), enqueued
when the transaction commits."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from batches import engine
from batches.models import BatchItem, BatchJob, JobType
from billing.audit import audit
from billing.models import Appointment, Charge, Claim, Organization, User

RECORD_MODELS = {
    JobType.CHARGE_APPROVAL: Charge,
    JobType.CLAIM_GENERATION: Charge,
    JobType.CLAIM_SUBMISSION: Claim,
    JobType.ELIGIBILITY_CHECK: Appointment,
}


def _groups(organization: Organization, job_type: str, ids: list[int]) -> dict[int, int]:
    """record id -> group key, for the records of the organization among `ids`."""
    model = RECORD_MODELS[JobType(job_type)]
    rows = model.objects.for_organization(organization).filter(pk__in=ids)
    if job_type == JobType.CLAIM_GENERATION:
        return dict(rows.values_list("pk", "encounter_id"))
    return {pk: pk for pk in rows.values_list("pk", flat=True)}


def batch_start(
    *,
    organization: Organization,
    actor: User | None,
    job_type: str,
    record_ids: Iterable[int],
    parameters: dict[str, Any] | None = None,
    retry_of: BatchJob | None = None,
) -> BatchJob:
    """A pending job with one item per record, handed to the workers on commit. Every id
    must be a record of the organization of the job type's kind; otherwise nothing is
    created (ValidationError)."""
    if job_type not in JobType.values:
        raise ValidationError({"job_type": "Choose a job type."})
    ids = sorted({int(pk) for pk in record_ids})
    if not ids:
        raise ValidationError("Select at least one record.")
    if len(ids) > settings.BATCH_MAX_RECORDS:
        raise ValidationError(
            f"A batch takes at most {settings.BATCH_MAX_RECORDS:,} records; "
            f"{len(ids):,} were selected. Narrow the filter."
        )
    with transaction.atomic():
        groups = _groups(organization, job_type, ids)
        if len(groups) != len(ids):
            kind = RECORD_MODELS[JobType(job_type)]._meta.verbose_name_plural
            raise ValidationError(
                f"{len(ids) - len(groups)} of the selected {kind} do not exist in this "
                "organization. Reload the list and select again."
            )
        job = BatchJob.objects.create(
            organization=organization,
            job_type=job_type,
            parameters=parameters or {},
            created_by=actor,
            total_count=len(ids),
            retry_of=retry_of,
        )
        BatchItem.objects.bulk_create(
            [
                BatchItem(organization=organization, job=job, record_id=pk, group_key=groups[pk])
                for pk in ids
            ],
            batch_size=5000,
        )
        audit(
            organization=organization,
            actor=actor,
            action="batch.create",
            instance=job,
            new_values={
                "job_type": job_type,
                "records": len(ids),
                "parameters": job.parameters,
                **({"retry_of": retry_of.pk} if retry_of else {}),
            },
        )
        from batches.tasks import run_batch_job

        run_batch_job.delay_on_commit(job.pk)
    return job


def batch_cancel(*, organization: Organization, actor: User, job: BatchJob) -> BatchJob:
    """Ask the job to stop: its remaining records are skipped with the reason "cancelled"
    (at once when no worker has started it, else at the worker's next chunk) and it ends
    Partial or Failed by the usual rule."""
    with transaction.atomic():
        job = BatchJob.objects.select_for_update().get(pk=job.pk, organization=organization)
        if job.finished_at is not None:
            raise ValidationError(f"{job} already ended ({job.get_status_display()}).")
        if job.cancel_requested_at is not None:
            return job
        job.cancel_requested_at = timezone.now()
        job.cancel_requested_by = actor
        job.save(update_fields=["cancel_requested_at", "cancel_requested_by"])
        audit(
            organization=organization,
            actor=actor,
            action="batch.cancel",
            instance=job,
            new_values={"cancel_requested_at": job.cancel_requested_at},
        )
        if job.status == BatchJob.Status.PENDING:
            # No worker holds it (a worker's first step moves it to In Progress under
            # this same lock): end it now.
            engine.cancel_now(organization, actor, job)
    return job


def batch_retry_failed(*, organization: Organization, actor: User, job: BatchJob) -> BatchJob:
    """A new job of the same type for the records that failed or were skipped."""
    if job.organization_id != organization.pk:
        raise ValidationError("That batch job belongs to another organization.")
    if job.finished_at is None:
        raise ValidationError(f"{job} is still running; retry its failed records when it ends.")
    failed = list(
        job.items.filter(
            status__in=(BatchItem.Status.FAILED, BatchItem.Status.SKIPPED)
        ).values_list("record_id", flat=True)
    )
    if not failed:
        raise ValidationError(f"{job} has no failed records to retry.")
    return batch_start(
        organization=organization,
        actor=actor,
        job_type=job.job_type,
        record_ids=failed,
        parameters={**job.parameters, "retry_of": job.pk},
        retry_of=job,
    )
