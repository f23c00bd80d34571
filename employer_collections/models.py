"""Pre-collections lists, the In Collections list and the agency spreadsheets (seed 004).

An encounter moves: open balance -> a pre-collections list (one current list per
organization and "balance for" kind) -> In Collections -> sent to the agency in an export.
Removing an encounter the agency already has keeps its row (removed_at) so the next export
tells the agency to recall it.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from billing.models import MONEY, Employer, Encounter, TenantModel, User

EMPLOYER_COLLECTIONS_OFF = (
    "To send an Employer to Collections, Employer Collections must be activated."
)
ASK_SUPPORT = "Ask Support or your Implementation Manager to activate this feature."


class BalanceFor(models.TextChoices):
    EMPLOYER = "employer", "Employer"
    PATIENT = "patient", "Patient"


class SeparateBy(models.TextChoices):
    ENCOUNTER = "encounter", "Encounter"
    GUARANTOR = "guarantor", "Guarantor"


class SetAction(models.TextChoices):
    MOVE = "move", "Move to In Collections"
    REMOVE = "remove", "Remove from list"
    HOLD = "hold", "Hold"


class PreCollectionList(TenantModel):
    """The current pre-collections list of one kind; entries come and go, the list stays."""

    balance_for = models.CharField(max_length=10, choices=BalanceFor.choices)
    made_at = models.DateTimeField(null=True, blank=True)
    made_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    filters = models.JSONField(default=dict, blank=True, help_text="The last Make List filters.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "balance_for"], name="precollection_one_list_per_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_balance_for_display()} Pre-Collections"


class PreCollectionEntry(TenantModel):
    list = models.ForeignKey(PreCollectionList, on_delete=models.CASCADE, related_name="entries")
    encounter = models.ForeignKey(Encounter, on_delete=models.PROTECT, related_name="+")
    balance_when_listed = models.DecimalField(**MONEY)
    action = models.CharField(max_length=10, choices=SetAction.choices, blank=True)
    selected = models.BooleanField(default=False)
    held_at = models.DateTimeField(null=True, blank=True)
    added_at = models.DateTimeField(default=timezone.now)
    added_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["encounter__date_of_service", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["list", "encounter"], name="precollection_entry_once_per_list"
            )
        ]

    def __str__(self) -> str:
        return f"{self.encounter} on {self.list}"


class CollectionExport(TenantModel):
    """One agency spreadsheet, kept byte for byte as it was handed over."""

    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    xlsx = models.BinaryField()
    csv = models.BinaryField()
    encounter_ids = models.JSONField(default=list, help_text="New encounters sent.")
    recall_encounter_ids = models.JSONField(default=list, help_text="Encounters recalled.")
    total_balance = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Collections spreadsheet {self.created_at:%m/%d/%Y %H:%M}"

    @property
    def filename(self) -> str:
        return f"collections-{self.created_at:%Y%m%d-%H%M}-{self.pk}"


class CollectionEntry(TenantModel):
    encounter = models.ForeignKey(Encounter, on_delete=models.PROTECT, related_name="+")
    balance_for = models.CharField(max_length=10, choices=BalanceFor.choices)
    guarantor_employer = models.ForeignKey(
        Employer, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    original_balance = models.DecimalField(**MONEY, help_text="The balance when it moved in.")
    in_collections_since = models.DateTimeField(default=timezone.now)
    moved_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sent_export = models.ForeignKey(
        CollectionExport, null=True, blank=True, on_delete=models.PROTECT, related_name="sent"
    )
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recall_export = models.ForeignKey(
        CollectionExport, null=True, blank=True, on_delete=models.PROTECT, related_name="recalled"
    )

    class Meta:
        ordering = ["in_collections_since", "id"]
        verbose_name_plural = "collection entries"
        constraints = [
            models.UniqueConstraint(
                fields=["encounter"],
                condition=Q(removed_at__isnull=True),
                name="collection_entry_one_live_per_encounter",
            ),
            models.CheckConstraint(
                condition=Q(recall_export__isnull=True)
                | Q(removed_at__isnull=False, sent_export__isnull=False),
                name="collection_recall_only_of_sent_removed",
            ),
        ]
        indexes = [models.Index(fields=["organization", "removed_at"])]

    def __str__(self) -> str:
        return f"{self.encounter} in collections"

    @property
    def is_recall_pending(self) -> bool:
        return (
            self.removed_at is not None
            and self.sent_export_id is not None
            and self.recall_export_id is None
        )
