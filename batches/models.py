"""Batch jobs (seed 002): one BatchJob per run, one BatchItem per record it works on.

The job's counts are never counted up by hand: `batches.services.job_refresh_counts`
derives them from the items in the same transaction that changes items, so they cannot
drift from the item table.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from billing.models import TenantModel, User


class JobType(models.TextChoices):
    CLAIM_GENERATION = "claim_generation", "Claim Generation"
    CLAIM_SUBMISSION = "claim_submission", "Claim Submission"
    ELIGIBILITY_CHECK = "eligibility_check", "Eligibility Check"
    CHARGE_APPROVAL = "charge_approval", "Charge Approval"


# What each job type works on, for labels and links.
RECORD_KIND = {
    JobType.CLAIM_GENERATION: "charge",
    JobType.CLAIM_SUBMISSION: "claim",
    JobType.ELIGIBILITY_CHECK: "appointment",
    JobType.CHARGE_APPROVAL: "charge",
}


class BatchJob(TenantModel):
    class Status(models.TextChoices):
        # The seed's five, and nothing else.
        PENDING = "pending", "Pending"
        IN_PROGRESS = "in_progress", "In Progress"
        COMPLETED = "completed", "Completed"
        PARTIAL = "partial", "Partial"
        FAILED = "failed", "Failed"

    job_type = models.CharField(max_length=20, choices=JobType.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    total_count = models.PositiveIntegerField(default=0)
    processed_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    parameters = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(User, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Written by the worker after each chunk; a running job whose heartbeat is old has lost
    # its worker (the beat sweep picks it up again).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    cancel_requested_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    retry_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="retries"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(processed_count__lte=models.F("total_count"))
                & Q(error_count__lte=models.F("processed_count")),
                name="batch_job_counts_consistent",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "-created_at", "-id"]),
            models.Index(fields=["status", "heartbeat_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_job_type_display()} #{self.pk}"

    @property
    def is_running(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.IN_PROGRESS)

    @property
    def record_kind(self) -> str:
        return RECORD_KIND[JobType(self.job_type)]


class BatchItem(TenantModel):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSING = "processing", "Processing"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"  # cancelled before it ran: counts as an error

    job = models.ForeignKey(BatchJob, on_delete=models.CASCADE, related_name="items")
    record_id = models.BigIntegerField()
    # Items of one group are claimed and processed together (Claim Generation: the
    # charges of one encounter); elsewhere each record is its own group.
    group_key = models.BigIntegerField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    error_message = models.CharField(max_length=500, blank=True)
    result = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["group_key", "id"]
        constraints = [
            models.UniqueConstraint(fields=["job", "record_id"], name="batch_item_unique_record"),
        ]
        indexes = [models.Index(fields=["job", "status", "group_key"])]

    def __str__(self) -> str:
        return f"{self.job} item {self.record_id}"

    @property
    def is_error(self) -> bool:
        return self.status in (self.Status.FAILED, self.Status.SKIPPED)
