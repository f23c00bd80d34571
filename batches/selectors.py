"""Reads of batch jobs: the history list, one job for its detail sheet, its failed records
with the records themselves (for links), and its parameters as a person reads them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet

from batches.models import BatchItem, BatchJob
from billing.models import Appointment, Charge, Claim, Organization

FAILED_PER_PAGE = 25
ERROR_STATUSES = (BatchItem.Status.FAILED, BatchItem.Status.SKIPPED)

# Keys of `parameters` that are bookkeeping, not something a person needs to read.
HIDDEN_PARAMETERS = frozenset({"token", "retry_of"})
PARAMETER_LABELS = {"source": "Started from", "selection": "Selection", "filters": "Filter"}


def job_list(organization: Organization) -> QuerySet[BatchJob]:
    """The organization's jobs, newest first, with who started them."""
    return (
        BatchJob.objects.for_organization(organization)
        .select_related("created_by")
        .order_by("-created_at", "-id")
    )


def job_get(organization: Organization, pk: int) -> BatchJob | None:
    return (
        BatchJob.objects.for_organization(organization)
        .select_related("created_by", "cancel_requested_by", "retry_of")
        .filter(pk=pk)
        .first()
    )


def job_by_token(organization: Organization, token: str) -> BatchJob | None:
    """The job a wizard confirmation already started (its form carries a one-time token),
    so a second submission of the same form does not start a second job."""
    if not token:
        return None
    return BatchJob.objects.for_organization(organization).filter(parameters__token=token).first()


@dataclass(frozen=True)
class ItemCounts:
    succeeded: int
    failed: int
    skipped: int
    waiting: int  # pending or processing


def item_counts(job: BatchJob) -> ItemCounts:
    S = BatchItem.Status
    counts = BatchItem.objects.filter(job=job).aggregate(
        succeeded=Count("pk", filter=Q(status=S.SUCCEEDED)),
        failed=Count("pk", filter=Q(status=S.FAILED)),
        skipped=Count("pk", filter=Q(status=S.SKIPPED)),
        waiting=Count("pk", filter=Q(status__in=(S.PENDING, S.PROCESSING))),
    )
    return ItemCounts(**counts)


def _records(job: BatchJob, ids: list[int]) -> dict[int, Any]:
    organization = job.organization_id
    kind = job.record_kind
    if kind == "charge":
        rows: QuerySet = Charge.objects.for_organization(organization).select_related(
            "encounter__patient"
        )
    elif kind == "claim":
        rows = Claim.objects.for_organization(organization).select_related(
            "encounter__patient", "payer"
        )
    else:
        rows = Appointment.objects.for_organization(organization).select_related("patient")
    return {row.pk: row for row in rows.filter(pk__in=ids)}


def failed_items_page(job: BatchJob, number: str | None) -> Page:
    """One page of the job's failed and skipped records, oldest record first, each with
    `item.record` (the charge, claim or appointment; None when it no longer exists)."""
    items = BatchItem.objects.filter(job=job, status__in=ERROR_STATUSES).order_by("record_id")
    page = Paginator(items, FAILED_PER_PAGE).get_page(number)
    records = _records(job, [item.record_id for item in page])
    for item in page:
        item.record = records.get(item.record_id)  # type: ignore[attr-defined]
    return page


def failure_reasons(job: BatchJob, limit: int = 5) -> list[dict[str, Any]]:
    """The most frequent reasons records failed, with how many each (`reason`, `count`):
    a thousand failures are usually a handful of causes."""
    rows = (
        BatchItem.objects.filter(job=job, status__in=ERROR_STATUSES)
        .values("error_message")
        .annotate(count=Count("pk"))
        .order_by("-count", "error_message")[:limit]
    )
    return [dict(row) for row in rows]


def job_retries(job: BatchJob) -> list[BatchJob]:
    return list(
        BatchJob.objects.for_organization(job.organization_id)
        .filter(retry_of=job)
        .order_by("created_at", "id")
    )


def parameter_rows(job: BatchJob) -> list[tuple[str, str]]:
    """The job's parameters as (label, text) rows for the detail sheet."""
    rows = []
    for key, value in (job.parameters or {}).items():
        if key in HIDDEN_PARAMETERS:
            continue
        label = PARAMETER_LABELS.get(key, key.replace("_", " ").capitalize())
        if isinstance(value, dict):
            text = " · ".join(f"{k}: {v}" for k, v in value.items()) or "none (everything)"
        elif isinstance(value, list | tuple):
            text = ", ".join(str(v) for v in value)
        else:
            text = str(value)
        rows.append((label, text))
    return rows
