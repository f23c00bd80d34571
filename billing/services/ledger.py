"""The one writer of `LedgerEntry` rows.

Every posting (charges, insurance and patient payments, adjustments, write-offs, reversals)
goes through `ledger_post`, which checks the sign against the kind before the database's
check constraint would, ties the entry to its encounter, and audits it in the same
transaction as `ledger.<kind>`.

How charges reach the ledger (`charge_posting_sync`): a charge posts its amount when it is
created, still a draft, so an encounter's balance shows work not yet billed; a void reverses
what the charge has on the ledger; an edit that changes the amount (or the code) reverses
the old posting and posts the new amount. So at every moment

    encounter balance = sum(amounts of its non-void charges) - payments - write-offs
                        +/- adjustments and reversals of payments.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from billing.audit import audit, model_values
from billing.models import (
    ZERO,
    Charge,
    Claim,
    Encounter,
    LedgerEntry,
    Organization,
    User,
)

Kind = LedgerEntry.Kind
CENT = Decimal("0.01")

POSITIVE_KINDS = frozenset({Kind.CHARGE})
NEGATIVE_KINDS = frozenset({Kind.INSURANCE_PAYMENT, Kind.PATIENT_PAYMENT, Kind.WRITE_OFF})

SIGN_RULES = {
    Kind.CHARGE: "A charge posts a positive amount.",
    Kind.INSURANCE_PAYMENT: "An insurance payment posts a negative amount.",
    Kind.PATIENT_PAYMENT: "A patient payment posts a negative amount.",
    Kind.WRITE_OFF: "A write-off posts a negative amount.",
    Kind.ADJUSTMENT: "An adjustment cannot be zero.",
    Kind.REVERSAL: "A reversal cannot be zero.",
}

# Charge postings and their reversals carry this source, which tells them apart from
# payments that a later feature may tie to a charge line.
CHARGE_SOURCE = "billing_charge"


def _sign_ok(kind: str, amount: Decimal) -> bool:
    if kind in POSITIVE_KINDS:
        return amount > 0
    if kind in NEGATIVE_KINDS:
        return amount < 0
    return amount != 0


def ledger_post(
    *,
    organization: Organization,
    actor: User | None,
    encounter: Encounter,
    kind: str,
    amount: Decimal,
    claim: Claim | None = None,
    charge: Charge | None = None,
    source_table: str = "",
    source_id: str | int = "",
    memo: str = "",
    posted_at: datetime.datetime | None = None,
) -> LedgerEntry:
    """Post one entry to the encounter's ledger and audit it as `ledger.<kind>`.

    Refuses (ValidationError) an unknown kind, an amount with more than two decimal places
    or whose sign does not match the kind, and a claim or charge of another encounter.
    """
    if kind not in Kind.values:
        raise ValidationError({"kind": f"Unknown ledger entry kind {kind!r}."})
    amount = Decimal(amount)
    if amount != amount.quantize(CENT):
        raise ValidationError({"amount": "Amounts are in dollars and cents."})
    amount = amount.quantize(CENT)  # 10.0000 (as a database sum may give) is 10.00
    if not _sign_ok(kind, amount):
        raise ValidationError({"amount": SIGN_RULES[Kind(kind)]})
    if encounter.organization_id != organization.pk:
        raise ValidationError({"encounter": "That encounter belongs to another organization."})
    if claim is not None and claim.encounter_id != encounter.pk:
        raise ValidationError({"claim": "That claim is for another encounter."})
    if charge is not None and charge.encounter_id != encounter.pk:
        raise ValidationError({"charge": "That charge is on another encounter."})
    with transaction.atomic():
        entry = LedgerEntry(
            organization=organization,
            encounter=encounter,
            claim=claim,
            charge=charge,
            kind=kind,
            amount=amount,
            posted_at=posted_at or timezone.now(),
            source_table=source_table,
            source_id=str(source_id),
            memo=memo[:200],
            created_by=actor if actor is not None and actor.is_authenticated else None,
        )
        entry.full_clean()
        entry.save()
        audit(
            organization=organization,
            actor=actor,
            action=f"ledger.{kind}",
            instance=entry,
            new_values=model_values(entry),
        )
    return entry


def charge_posted_amount(charge: Charge) -> Decimal:
    """What the charge itself has on the ledger: its postings net of their reversals."""
    total = LedgerEntry.objects.filter(
        organization_id=charge.organization_id,
        charge=charge,
        source_table=CHARGE_SOURCE,
        kind__in=[Kind.CHARGE, Kind.REVERSAL],
    ).aggregate(total=Sum("amount"))["total"]
    return total.quantize(CENT) if total is not None else ZERO


def charge_posting_sync(
    *,
    organization: Organization,
    actor: User | None,
    charge: Charge,
    reason: str,
    force: bool = False,
    posted_code: str = "",
) -> list[LedgerEntry]:
    """Make the ledger carry what the charge is worth now: its amount, or nothing once void.

    When the posted amount differs (or `force`, e.g. a changed code whose memo would be
    stale), the posted amount is reversed and the current amount posted afresh.
    `posted_code` names the code the reversed posting was for, when it has changed.
    """
    posted = charge_posted_amount(charge)
    target = ZERO if charge.status == Charge.Status.VOID else charge.amount
    if posted == target and not force:
        return []

    def post(kind: str, amount: Decimal, memo: str) -> LedgerEntry:
        return ledger_post(
            organization=organization,
            actor=actor,
            encounter=charge.encounter,
            kind=kind,
            amount=amount,
            charge=charge,
            source_table=CHARGE_SOURCE,
            source_id=charge.pk,
            memo=memo,
        )

    entries = []
    if posted != 0:
        code = posted_code or charge.procedure_code
        entries.append(post(Kind.REVERSAL, -posted, f"{code} charge reversed ({reason})"))
    if target != 0:
        entries.append(post(Kind.CHARGE, target, f"{charge.procedure_code} charge"))
    return entries
