"""Running a batch job: claim a chunk of items, process it, save it, repeat.

- Claiming is one conditional `UPDATE ... RETURNING` (pending -> processing) over whole
  groups (`group_key`; Claim Generation groups the charges of one encounter), under a lock
  of the job row so two workers running the same job never split a group or take one item
  twice.
- A *transactional* runner (Charge Approval, Claim Generation) works in the database only:
  claim, work and outcomes commit in one transaction per chunk, so a crash leaves the
  chunk pending and nothing half-done.
- An *HTTP* runner (Claim Submission, Eligibility Check) talks to clearinghouses, which
  must happen outside any transaction: the claim commits first, each item's outcome is
  saved as soon as it is known. A worker that dies leaves items "processing"; the beat
  sweep (`sweep_stalled_jobs`) hands them back as pending once the job's heartbeat is
  stale, and the runners are idempotent (a claim keeps its idempotency key and vendor).
- After each chunk the job's counts are derived from its items, its heartbeat written,
  and one audit row lists the records the chunk changed. When no item is left the job
  ends Completed (no errors), Partial (some) or Failed (all).
- Cancel: the next chunk boundary marks the remaining items skipped ("cancelled").
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.db.models import Count, Q
from django.utils import timezone

from batches.models import BatchItem, BatchJob
from billing.audit import audit
from billing.models import Organization, User
from billing.tenancy import tenant_context

logger = logging.getLogger(__name__)

S = BatchItem.Status
DONE = (S.SUCCEEDED, S.FAILED, S.SKIPPED)
CANCELLED = "cancelled"


@dataclass(frozen=True)
class Outcome:
    ok: bool
    error: str = ""
    result: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Runner:
    """How one job type works: `process(organization, actor, items) -> {item id: Outcome}`;
    `transactional` runners are called inside the chunk's transaction, the others outside
    any transaction with `save(item, outcome)` to call as each item finishes."""

    process: Callable[..., dict[int, Outcome]]
    transactional: bool
    chunk_groups: int


RUNNERS: dict[str, Runner] = {}


def register(job_type: str, runner: Runner) -> None:
    RUNNERS[job_type] = runner


# --- counts and status -------------------------------------------------------------------


def refresh_counts(job: BatchJob) -> BatchJob:
    """Derive the job's counts from its items (in the caller's transaction)."""
    counts = BatchItem.objects.filter(job=job).aggregate(
        total=Count("pk"),
        processed=Count("pk", filter=Q(status__in=DONE)),
        errors=Count("pk", filter=Q(status__in=(S.FAILED, S.SKIPPED))),
    )
    job.total_count = counts["total"]
    job.processed_count = counts["processed"]
    job.error_count = counts["errors"]
    BatchJob.objects.filter(pk=job.pk).update(
        total_count=job.total_count,
        processed_count=job.processed_count,
        error_count=job.error_count,
    )
    return job


def final_status(job: BatchJob) -> str:
    if job.error_count == 0:
        return BatchJob.Status.COMPLETED
    if job.error_count < job.total_count:
        return BatchJob.Status.PARTIAL
    return BatchJob.Status.FAILED


# --- claiming ----------------------------------------------------------------------------


def _claim_sql() -> str:
    # The chunk is the pending items of the job up to its `groups`-th smallest pending group
    # key: whole groups, the same items as `group_key IN (those groups)`, with the bound
    # computed once. (With `IN (...)` and statistics taken before the job's items were
    # inserted (autovacuum off, or not run yet), PostgreSQL took a nested loop that read
    # every pending item of the job once per chosen group: 5 to 9 s per chunk of a
    # 100,000-item job. The bound reads them at most once per chunk, and only the chunk's
    # once the statistics know the job; see bench/README.md.)
    item = BatchItem._meta.db_table
    return f"""
        UPDATE {item}
           SET status = %s, claimed_at = %s, attempts = attempts + 1
         WHERE job_id = %s AND status = %s
           AND group_key <= (
               SELECT max(group_key) FROM (
                   SELECT DISTINCT group_key FROM {item}
                    WHERE job_id = %s AND status = %s
                    ORDER BY group_key LIMIT %s) AS chosen)
        RETURNING id
    """


def claim_chunk(job: BatchJob, groups: int) -> list[BatchItem]:
    """Take up to `groups` whole groups of pending items (in the caller's transaction,
    which holds the job row's lock)."""
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            _claim_sql(), [S.PROCESSING, now, job.pk, S.PENDING, job.pk, S.PENDING, groups]
        )
        ids = [row[0] for row in cursor.fetchall()]
    return list(BatchItem.objects.filter(pk__in=ids).order_by("group_key", "id"))


def _lock_job(job_id: int) -> BatchJob:
    return BatchJob.objects.select_for_update().get(pk=job_id)


# --- saving outcomes -----------------------------------------------------------------------


def save_outcomes(
    organization: Organization,
    actor: User | None,
    job: BatchJob,
    outcomes: dict[BatchItem, Outcome],
    *,
    audited: bool = True,
) -> list[BatchItem]:
    """Write the items' outcomes (only items still processing: a swept item that another
    worker already finished stays as that worker left it), refresh counts and heartbeat,
    and (`audited`) write one audit row listing the records changed. In the caller's
    transaction. Returns the items changed."""
    now = timezone.now()
    values = {
        item.pk: {
            "status": S.SUCCEEDED if outcome.ok else S.FAILED,
            "error_message": (outcome.error or "")[:500],
            "result": outcome.result,
        }
        for item, outcome in outcomes.items()
    }
    written = _write_outcomes(values, now)
    changed: list[BatchItem] = []
    for item in outcomes:
        if item.pk in written:
            for name, value in values[item.pk].items():
                setattr(item, name, value)
            item.finished_at = now
            changed.append(item)
    refresh_counts(job)
    BatchJob.objects.filter(pk=job.pk).update(heartbeat_at=now)
    if audited:
        audit_items(organization, actor, job, changed)
    return changed


def _write_outcomes(values: dict[int, dict[str, Any]], now: datetime.datetime) -> set[int]:
    """Write each item's status, error_message and result (`values`: item id -> fields) and
    finish time, only where the item is still processing; returns the ids written."""
    if not values:
        return set()
    if connection.vendor != "postgresql":
        fresh = set(
            BatchItem.objects.filter(pk__in=list(values), status=S.PROCESSING).values_list(
                "pk", flat=True
            )
        )
        BatchItem.objects.bulk_update(
            [BatchItem(pk=pk, finished_at=now, **values[pk]) for pk in fresh],
            ["status", "error_message", "result", "finished_at"],
        )
        return fresh
    # One statement for the chunk, reaching the items by primary key whatever the
    # statistics say: the new values travel as one JSON object keyed by item id, looked up
    # per row. (bulk_update builds a CASE with a branch per item for each column: most of
    # a chunk's Python time, and quadratic work for the database. A join with unnest()
    # arrays was planned as a nested loop over a sequential scan when the statistics
    # predated the job's items: 1.4 s for a chunk of 2,000 items.)
    encoder = BatchItem._meta.get_field("result").encoder
    new = {str(pk): fields for pk, fields in values.items()}
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {BatchItem._meta.db_table} AS item
               SET status = %(new)s -> item.id::text ->> 'status',
                   error_message = %(new)s -> item.id::text ->> 'error_message',
                   result = %(new)s -> item.id::text -> 'result',
                   finished_at = %(now)s
             WHERE item.id = ANY(%(ids)s::bigint[]) AND item.status = %(processing)s
            RETURNING item.id
            """,
            {
                "new": connection.ops.adapt_json_value(new, encoder),
                "now": now,
                "ids": list(values),
                "processing": S.PROCESSING,
            },
        )
        return {row[0] for row in cursor.fetchall()}


def audit_items(
    organization: Organization, actor: User | None, job: BatchJob, items: list[BatchItem]
) -> None:
    """One audit row for a chunk: the records it changed, with the failures' reasons."""
    if not items:
        return
    audit(
        organization=organization,
        actor=actor,
        action="batch.items",
        instance=job,
        new_values={
            "job_type": job.job_type,
            "record_kind": job.record_kind,
            "succeeded": [i.record_id for i in items if i.status == S.SUCCEEDED],
            "failed": {str(i.record_id): i.error_message for i in items if i.is_error},
        },
    )


def _finish_if_done(organization: Organization, actor: User | None, job: BatchJob) -> bool:
    """End the job when no item is pending or processing. In the caller's transaction."""
    if BatchItem.objects.filter(job=job, status__in=(S.PENDING, S.PROCESSING)).exists():
        return False
    refresh_counts(job)
    old = job.status
    job.status = final_status(job)
    job.finished_at = timezone.now()
    job.heartbeat_at = job.finished_at
    job.save(update_fields=["status", "finished_at", "heartbeat_at"])
    audit(
        organization=organization,
        actor=actor,
        action="batch.finish",
        instance=job,
        old_values={"status": old},
        new_values={
            "status": job.status,
            "total": job.total_count,
            "processed": job.processed_count,
            "errors": job.error_count,
        },
    )
    return True


def _skip_remaining(organization: Organization, actor: User | None, job: BatchJob) -> int:
    now = timezone.now()
    skipped = list(
        BatchItem.objects.filter(job=job, status=S.PENDING).values_list("record_id", flat=True)
    )
    BatchItem.objects.filter(job=job, status=S.PENDING).update(
        status=S.SKIPPED, error_message=CANCELLED, finished_at=now
    )
    if skipped:
        audit(
            organization=organization,
            actor=actor,
            action="batch.items",
            instance=job,
            new_values={"job_type": job.job_type, "skipped": skipped, "reason": CANCELLED},
        )
    return len(skipped)


# --- the loop ------------------------------------------------------------------------------


def job_run(job_id: int, *, chunk_groups: int | None = None) -> BatchJob:
    """Work the job until no pending item is left (or it is cancelled). Safe to run twice
    at once and to run again after a crash: finished items are never touched again."""
    job = BatchJob.objects.select_related("organization", "created_by").get(pk=job_id)
    organization, actor = job.organization, job.created_by
    runner = RUNNERS[job.job_type]
    groups = chunk_groups or runner.chunk_groups
    with tenant_context(organization):
        job = _lock_job(job_id)
        if job.finished_at is not None:
            return job
        if job.status == BatchJob.Status.PENDING:
            old = job.status
            job.status = BatchJob.Status.IN_PROGRESS
            job.started_at = job.started_at or timezone.now()
            job.heartbeat_at = timezone.now()
            job.save(update_fields=["status", "started_at", "heartbeat_at"])
            audit(
                organization=organization,
                actor=actor,
                action="batch.start",
                instance=job,
                old_values={"status": old},
                new_values={"status": job.status},
            )
    while True:
        if runner.transactional:
            if _transactional_chunk(organization, actor, job_id, runner, groups):
                continue
        elif _http_chunk(organization, actor, job_id, runner, groups):
            continue
        break
    with tenant_context(organization):
        job = _lock_job(job_id)
        if job.finished_at is None:
            _finish_if_done(organization, actor, job)
        return job


def _cancelled(organization, job: BatchJob) -> bool:
    if job.cancel_requested_at is None:
        return False
    _skip_remaining(organization, job.cancel_requested_by, job)
    refresh_counts(job)
    return True


def _transactional_chunk(organization, actor, job_id, runner: Runner, groups: int) -> bool:
    try:
        with tenant_context(organization):
            job = _lock_job(job_id)
            if _cancelled(organization, job):
                return False
            items = claim_chunk(job, groups)
            if not items:
                return False
            results = runner.process(organization, actor, items)
            save_outcomes(organization, actor, job, {i: results[i.pk] for i in items})
            return True
    except (OperationalError, InterfaceError):
        # A lock timeout, deadlock or lost connection is the database's, not a record's:
        # the chunk rolled back to pending; the task fails and the sweep runs it again.
        raise
    except Exception:
        # A record that breaks the runner must not stop the job (or loop it forever):
        # the chunk rolled back; run its groups one by one and fail only the breaking ones.
        logger.exception("Batch job %s: a chunk failed; retrying its groups one by one", job_id)
        if groups == 1:
            _fail_next_group(organization, actor, job_id)
            return True
        return _transactional_chunk(organization, actor, job_id, runner, 1)


def _fail_next_group(organization, actor, job_id: int) -> None:
    with tenant_context(organization):
        job = _lock_job(job_id)
        items = claim_chunk(job, 1)
        message = "Internal error while processing this record; the team has been notified."
        save_outcomes(organization, actor, job, {i: Outcome(False, message) for i in items})


def _http_chunk(organization, actor, job_id, runner: Runner, groups: int) -> bool:
    with tenant_context(organization):
        job = _lock_job(job_id)
        if _cancelled(organization, job):
            return False
        items = claim_chunk(job, groups)
        BatchJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now())
    if not items:
        return False

    # Each item's outcome is saved as soon as it is known (progress is live, and a worker
    # that dies loses at most the item in flight); the chunk's audit row comes at its end.
    changed: list[BatchItem] = []
    for item in items:
        try:
            outcome = runner.process(organization, actor, [item])[item.pk]
        except Exception as error:  # one record's surprise must not stop the others
            logger.exception("Batch job %s: record %s failed", job_id, item.record_id)
            outcome = Outcome(False, f"Internal error: {type(error).__name__}.")
        with tenant_context(organization):
            locked = _lock_job(job_id)
            changed += save_outcomes(organization, actor, locked, {item: outcome}, audited=False)
    with tenant_context(organization):
        audit_items(organization, actor, _lock_job(job_id), changed)
    return True


# --- stalled jobs ----------------------------------------------------------------------------


def stalled_jobs(now: datetime.datetime | None = None) -> list[int]:
    """Running jobs whose worker stopped writing its heartbeat, and pending jobs that no
    worker picked up, for longer than BATCH_STALE_AFTER_S."""
    now = now or timezone.now()
    stale = now - datetime.timedelta(seconds=settings.BATCH_STALE_AFTER_S)
    return list(
        BatchJob.objects.filter(finished_at__isnull=True)
        .filter(
            Q(status=BatchJob.Status.IN_PROGRESS, heartbeat_at__lt=stale)
            | Q(status=BatchJob.Status.PENDING, created_at__lt=stale)
        )
        .values_list("pk", flat=True)
    )


def job_recover(job_id: int) -> int:
    """Hand a stalled job's processing items back as pending and touch its heartbeat, so
    the next run takes them. Returns how many were handed back."""
    job = BatchJob.objects.select_related("organization").get(pk=job_id)
    with tenant_context(job.organization):
        job = _lock_job(job_id)
        if job.finished_at is not None:
            return 0
        count = BatchItem.objects.filter(job=job, status=S.PROCESSING).update(
            status=S.PENDING, claimed_at=None
        )
        BatchJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now())
        if count:
            audit(
                organization=job.organization,
                actor=None,
                action="batch.recover",
                instance=job,
                new_values={"returned_to_pending": count},
            )
        return count


def cancel_now(organization: Organization, actor: User | None, job: BatchJob) -> None:
    """Skip every pending item and end the job (in the caller's transaction, which holds
    the job row's lock)."""
    _skip_remaining(organization, actor, job)
    _finish_if_done(organization, actor, job)
