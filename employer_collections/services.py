"""Every write of pre-collections and collections: atomic, audited in the same transaction.

Audit actions: collections.precollections_add (Make List, To Collections, Send to
Collections), collections.precollections_clear, collections.set_action,
collections.apply_actions (one row per apply listing what moved, was removed, held or
skipped), collections.remove, collections.export_create, collections.export_download.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.audit import audit
from billing.models import ZERO, Employer, Encounter, Organization, User
from employer_collections import selectors, spreadsheet
from employer_collections.models import (
    EMPLOYER_COLLECTIONS_OFF,
    BalanceFor,
    CollectionEntry,
    CollectionExport,
    PreCollectionEntry,
    PreCollectionList,
    SetAction,
)

NO_SET_ACTIONS = (
    "No Set Actions to apply: select rows and use Set Action first. Nothing was changed."
)
PAID_IN_FULL = "paid in full since the list was made"


def _check_kind(organization: Organization, balance_for: str) -> None:
    if balance_for not in BalanceFor.values:
        raise ValidationError({"balance_for": "Choose Employer or Patient."})
    if balance_for == BalanceFor.EMPLOYER and not organization.employer_collections_enabled:
        raise ValidationError({"balance_for": EMPLOYER_COLLECTIONS_OFF})


def _lock_list(organization: Organization, balance_for: str) -> PreCollectionList:
    """The kind's current list, created on first use, locked until the transaction ends."""
    try:
        with transaction.atomic():
            PreCollectionList.objects.get_or_create(
                organization=organization, balance_for=balance_for
            )
    except IntegrityError:
        pass  # another request created it first
    return PreCollectionList.objects.select_for_update().get(
        organization=organization, balance_for=balance_for
    )


def _in_collections(organization: Organization, encounter_ids) -> set[int]:
    return set(
        CollectionEntry.objects.for_organization(organization)
        .filter(encounter_id__in=encounter_ids, removed_at__isnull=True)
        .values_list("encounter_id", flat=True)
    )


# --- make list / clear ------------------------------------------------------------------


def precollections_make_list(
    *,
    organization: Organization,
    actor: User,
    balance_for: str,
    today: datetime.date,
    employers: list[Employer] | None = None,
    guarantor: str = "",
    min_balance: Decimal | None = None,
    min_age_days: int | None = None,
    clear_current: bool = False,
) -> tuple[int, int]:
    """Add the matching encounters not on the list yet; with `clear_current`, empty the
    list first (unapplied Set Actions go with it: the view warns before). Returns
    (added, cleared)."""
    _check_kind(organization, balance_for)
    with transaction.atomic():
        plist = _lock_list(organization, balance_for)
        cleared = _clear(organization, actor, plist) if clear_current else 0
        found = list(
            selectors.candidates(
                organization,
                balance_for=balance_for,
                employers=employers,
                guarantor=guarantor,
                min_balance=min_balance,
                min_age_days=min_age_days,
                today=today,
            )
        )
        now = timezone.now()
        PreCollectionEntry.objects.bulk_create(
            PreCollectionEntry(
                organization=organization,
                list=plist,
                encounter=e,
                balance_when_listed=e.ledger_balance,
                added_at=now,
                added_by=actor,
            )
            for e in found
        )
        plist.made_at, plist.made_by = now, actor
        plist.filters = {
            "employers": [e.pk for e in employers or []],
            "guarantor": guarantor,
            "min_balance": str(min_balance) if min_balance is not None else "",
            "min_age_days": min_age_days,
            "separate_by": "encounter",
        }
        plist.save(update_fields=["made_at", "made_by", "filters"])
        if found:
            audit(
                organization=organization,
                actor=actor,
                action="collections.precollections_add",
                instance=plist,
                new_values={
                    "source": "make_list",
                    "balance_for": balance_for,
                    "encounter_ids": [e.pk for e in found],
                    "filters": plist.filters,
                },
            )
    return len(found), cleared


def _clear(organization: Organization, actor: User, plist: PreCollectionList) -> int:
    rows = list(plist.entries.values("encounter_id", "action"))
    if not rows:
        return 0
    plist.entries.all().delete()
    audit(
        organization=organization,
        actor=actor,
        action="collections.precollections_clear",
        instance=plist,
        old_values={
            "encounter_ids": [r["encounter_id"] for r in rows],
            "unapplied_actions": {r["encounter_id"]: r["action"] for r in rows if r["action"]},
        },
    )
    return len(rows)


def precollections_add_encounter(
    *, organization: Organization, actor: User, encounter: Encounter, source: str
) -> PreCollectionEntry:
    """ "To Collections" / "Send to Collections": put one encounter on its kind's list."""
    balance_for = selectors.balance_for_of(encounter)
    _check_kind(organization, balance_for)
    with transaction.atomic():
        plist = _lock_list(organization, balance_for)
        balance = encounter.balance
        if balance <= 0:
            raise ValidationError("This encounter has no balance due: nothing to collect.")
        if _in_collections(organization, [encounter.pk]):
            raise ValidationError("This encounter is already In Collections.")
        if plist.entries.filter(encounter=encounter).exists():
            raise ValidationError(f"This encounter is already on the {plist} list.")
        entry = PreCollectionEntry.objects.create(
            organization=organization,
            list=plist,
            encounter=encounter,
            balance_when_listed=balance,
            added_by=actor,
        )
        audit(
            organization=organization,
            actor=actor,
            action="collections.precollections_add",
            instance=plist,
            new_values={
                "source": source,
                "balance_for": balance_for,
                "encounter_ids": [encounter.pk],
            },
        )
    return entry


# --- select / set action ----------------------------------------------------------------


def precollections_select(
    *, organization: Organization, plist: PreCollectionList, entry_ids: list[int] | None
) -> int:
    """Select exactly `entry_ids` (None: all). The selection is a working state, not audited."""
    with transaction.atomic():
        rows = PreCollectionEntry.objects.for_organization(organization).filter(list=plist)
        if entry_ids is None:
            return rows.update(selected=True)
        rows.exclude(pk__in=entry_ids).update(selected=False)
        return rows.filter(pk__in=entry_ids).update(selected=True)


def precollections_set_action(
    *,
    organization: Organization,
    actor: User,
    plist: PreCollectionList,
    entry_ids: list[int],
    action: str,
) -> int:
    """Set (or with "" clear) the action of the selected rows; the selection is saved too."""
    if action and action not in SetAction.values:
        raise ValidationError({"action": "Choose one of the actions."})
    if not entry_ids:
        raise ValidationError({"action": "Select at least one row first."})
    with transaction.atomic():
        precollections_select(organization=organization, plist=plist, entry_ids=entry_ids)
        rows = PreCollectionEntry.objects.for_organization(organization).filter(
            list=plist, pk__in=entry_ids
        )
        encounter_ids = list(rows.values_list("encounter_id", flat=True))
        count = rows.update(action=action)
        audit(
            organization=organization,
            actor=actor,
            action="collections.set_action",
            instance=plist,
            new_values={"action": action, "encounter_ids": encounter_ids},
        )
    return count


# --- apply ------------------------------------------------------------------------------


@dataclass
class ApplyResult:
    moved: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    held: list[int] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)

    def summary(self) -> str:
        text = (
            f"{len(self.moved)} moved to In Collections, {len(self.removed)} removed, "
            f"{len(self.held)} held, {len(self.skipped)} skipped."
        )
        if self.skipped:
            reasons = "; ".join(f"encounter {pk}: {why}" for pk, why in self.skipped)
            text += f" Skipped: {reasons}."
        return text


def precollections_apply(
    *, organization: Organization, actor: User, plist: PreCollectionList
) -> ApplyResult:
    """Apply every Set Action on the list, whatever the checkboxes say (seed 004).

    Move: the encounter goes In Collections unless it was paid in full since the list was
    made (or is already there, or employer collections were turned off): those are
    skipped, their action cleared, and reported. Remove: off the list. Hold: stays on the
    list, marked held.
    """
    result = ApplyResult()
    with transaction.atomic():
        plist = _lock_list(organization, plist.balance_for)
        rows = list(
            PreCollectionEntry.objects.for_organization(organization)
            .filter(list=plist)
            .exclude(action="")
            .select_related("encounter")
        )
        if not rows:
            raise ValidationError(NO_SET_ACTIONS)
        balances = {
            e.pk: e.ledger_balance
            for e in Encounter.objects.for_organization(organization)
            .with_balance()
            .filter(pk__in=[r.encounter_id for r in rows])
        }
        already = _in_collections(organization, list(balances))
        now = timezone.now()
        employer_off = (
            plist.balance_for == BalanceFor.EMPLOYER
            and not organization.employer_collections_enabled
        )
        new_entries, delete_ids, hold_ids, skip_ids = [], [], [], []
        for row in rows:
            pk = row.encounter_id
            balance = balances.get(pk, ZERO)
            if row.action == SetAction.REMOVE:
                delete_ids.append(row.pk)
                result.removed.append(pk)
            elif balance <= 0:
                skip_ids.append(row.pk)
                result.skipped.append((pk, PAID_IN_FULL))
            elif row.action == SetAction.HOLD:
                hold_ids.append(row.pk)
                result.held.append(pk)
            elif pk in already:
                skip_ids.append(row.pk)
                result.skipped.append((pk, "already In Collections"))
            elif employer_off:
                skip_ids.append(row.pk)
                result.skipped.append((pk, "Employer Collections is not activated"))
            else:
                new_entries.append(
                    CollectionEntry(
                        organization=organization,
                        encounter_id=pk,
                        balance_for=plist.balance_for,
                        guarantor_employer_id=row.encounter.guarantor_employer_id,
                        original_balance=balance,
                        in_collections_since=now,
                        moved_by=actor,
                    )
                )
                delete_ids.append(row.pk)
                result.moved.append(pk)
        CollectionEntry.objects.bulk_create(new_entries)
        PreCollectionEntry.objects.filter(pk__in=delete_ids).delete()
        PreCollectionEntry.objects.filter(pk__in=hold_ids).update(
            action="", held_at=now, selected=False
        )
        PreCollectionEntry.objects.filter(pk__in=skip_ids).update(action="")
        audit(
            organization=organization,
            actor=actor,
            action="collections.apply_actions",
            instance=plist,
            new_values={
                "balance_for": plist.balance_for,
                "moved": result.moved,
                "removed": result.removed,
                "held": result.held,
                "skipped": [{"encounter_id": pk, "reason": why} for pk, why in result.skipped],
            },
        )
    return result


# --- in collections ---------------------------------------------------------------------


def collections_remove(
    *, organization: Organization, actor: User, entries: list[CollectionEntry]
) -> tuple[int, int]:
    """Take several employer encounters off the In Collections list at once. Ones the
    agency already has stay on record and go out as recalls in the next spreadsheet.
    Returns (removed, to recall)."""
    if not entries:
        raise ValidationError("Select at least one encounter to remove.")
    if any(e.balance_for != BalanceFor.EMPLOYER for e in entries):
        raise ValidationError(
            "Removing several encounters from the Collections list is for Employers only."
        )
    with transaction.atomic():
        locked = list(
            CollectionEntry.objects.select_for_update()
            .for_organization(organization)
            .filter(pk__in=[e.pk for e in entries], removed_at__isnull=True)
        )
        if len(locked) != len(entries):
            raise ValidationError("Some of those encounters are no longer In Collections.")
        now = timezone.now()
        for row in locked:
            row.removed_at, row.removed_by = now, actor
        CollectionEntry.objects.bulk_update(locked, ["removed_at", "removed_by"])
        recalls = [r.encounter_id for r in locked if r.sent_export_id]
        audit(
            organization=organization,
            actor=actor,
            action="collections.remove",
            table_name=CollectionEntry._meta.db_table,
            record_id=",".join(str(r.pk) for r in locked)[:40],
            new_values={"encounter_ids": [r.encounter_id for r in locked], "recalls": recalls},
        )
    return len(locked), len(recalls)


def collections_export_create(*, organization: Organization, actor: User) -> CollectionExport:
    """The agency spreadsheet: every encounter In Collections not sent yet, and every
    removed one the agency still has (a recall). Marks them as sent / recalled."""
    with transaction.atomic():
        # One spreadsheet at a time per organization: each encounter goes out once.
        Organization.objects.select_for_update().get(pk=organization.pk)
        new = selectors.unsent_entries(organization)
        recalls = selectors.pending_recalls(organization)
        if not new and not recalls:
            raise ValidationError(
                "Nothing to send: every encounter In Collections is already with the agency."
            )
        now = timezone.now()
        tz = ZoneInfo(organization.time_zone)
        today = timezone.localdate(now, tz)
        rows = [spreadsheet.row_for(e, "New", today, tz) for e in new]
        rows += [spreadsheet.row_for(e, "Recall", today, tz) for e in recalls]
        xlsx, csv_bytes, total = spreadsheet.build(organization, rows, now)
        export = CollectionExport.objects.create(
            organization=organization,
            created_at=now,
            created_by=actor,
            xlsx=xlsx,
            csv=csv_bytes,
            encounter_ids=[e.encounter_id for e in new],
            recall_encounter_ids=[e.encounter_id for e in recalls],
            total_balance=total,
        )
        marked = CollectionEntry.objects.filter(
            pk__in=[e.pk for e in new], sent_export__isnull=True
        ).update(sent_export=export)
        recalled = CollectionEntry.objects.filter(
            pk__in=[e.pk for e in recalls], recall_export__isnull=True
        ).update(recall_export=export)
        if marked != len(new) or recalled != len(recalls):
            raise ValidationError("Another spreadsheet was made at the same time; try again.")
        audit(
            organization=organization,
            actor=actor,
            action="collections.export_create",
            instance=export,
            new_values={
                "encounter_ids": export.encounter_ids,
                "recall_encounter_ids": export.recall_encounter_ids,
                "total_balance": total,
            },
        )
    return export


def collections_export_download(
    *, organization: Organization, actor: User, export: CollectionExport, file_format: str
) -> bytes:
    """The stored file, audited as a PHI export."""
    if file_format not in ("xlsx", "csv"):
        raise ValidationError("Download the spreadsheet as xlsx or csv.")
    with transaction.atomic():
        audit(
            organization=organization,
            actor=actor,
            action="collections.export_download",
            instance=export,
            new_values={
                "phi_export": True,
                "format": file_format,
                "encounter_ids": export.encounter_ids,
                "recall_encounter_ids": export.recall_encounter_ids,
            },
        )
    return bytes(export.xlsx if file_format == "xlsx" else export.csv)
