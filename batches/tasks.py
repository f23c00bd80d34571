"""Celery tasks of batch jobs. Messages carry only the job id; the rows say the rest."""

from __future__ import annotations

import logging

from celery import shared_task

from batches import engine, runners  # noqa: F401  (runners register themselves)
from batches.models import JobType

logger = logging.getLogger(__name__)


@shared_task(name="batches.run_job", acks_late=True, reject_on_worker_lost=True)
def run_batch_job(job_id: int) -> dict[str, object]:
    """Work one job to its end. Delivered twice, or again after a crash, it only takes the
    items still pending (finished ones are never touched again)."""
    job = engine.job_run(job_id)
    if job.job_type == JobType.CLAIM_SUBMISSION and job.finished_at is not None:
        # Acknowledgements (999, 277CA) of what was just sent: fetch them now rather than
        # at the next five-minute round.
        from clearinghouse.vendor_tasks import fetch_acknowledgements

        fetch_acknowledgements.apply_async(
            kwargs={"organization_id": job.organization_id}, countdown=5
        )
    return {
        "job": job.pk,
        "status": job.status,
        "processed": job.processed_count,
        "errors": job.error_count,
    }


@shared_task(name="batches.sweep_stalled_jobs", acks_late=True)
def sweep_stalled_jobs() -> list[int]:
    """Every half minute: jobs whose worker died (no heartbeat for BATCH_STALE_AFTER_S) or
    that no worker picked up get their in-flight records back and a new run."""
    restarted = []
    for job_id in engine.stalled_jobs():
        returned = engine.job_recover(job_id)
        logger.warning("Batch job %s stalled: %s records back to pending", job_id, returned)
        run_batch_job.delay(job_id)
        restarted.append(job_id)
    return restarted
