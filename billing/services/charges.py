"""Writes of charges (charge capture). Approval and billing belong to the batch work.

Ledger rule (see billing.services.ledger): a charge posts to the ledger when it is created;
a void reverses it; an edit of a draft that changes the amount or the code reverses the old
posting and posts the new one.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from billing.audit import audit, model_values
from billing.models import Charge, Encounter, Organization, User
from billing.services.ledger import charge_posting_sync

CHARGE_FIELDS = [
    "procedure_code",
    "modifiers",
    "diagnosis_pointers",
    "units",
    "amount",
    "status",
]

VOIDABLE = (Charge.Status.DRAFT, Charge.Status.APPROVED)


def charge_create(
    *,
    organization: Organization,
    actor: User | None,
    encounter: Encounter,
    procedure_code: str,
    modifiers: list[str],
    diagnosis_pointers: list[int],
    units: Decimal,
    amount: Decimal,
) -> Charge:
    """A new draft charge on the encounter, posted to its ledger at once."""
    with transaction.atomic():
        charge = Charge(
            organization=organization,
            encounter=encounter,
            procedure_code=procedure_code,
            modifiers=list(modifiers),
            diagnosis_pointers=list(diagnosis_pointers),
            units=units,
            amount=amount,
            status=Charge.Status.DRAFT,
        )
        charge.full_clean()
        charge.save()
        audit(
            organization=organization,
            actor=actor,
            action="charge.create",
            instance=charge,
            new_values=model_values(charge),
        )
        charge_posting_sync(organization=organization, actor=actor, charge=charge, reason="new")
    return charge


def _locked(organization: Organization, charge: Charge) -> Charge:
    return (
        Charge.objects.select_for_update()
        .select_related("encounter")
        .get(organization=organization, pk=charge.pk)
    )


def charge_update(
    *,
    organization: Organization,
    actor: User | None,
    charge: Charge,
    procedure_code: str,
    modifiers: list[str],
    diagnosis_pointers: list[int],
    units: Decimal,
    amount: Decimal,
) -> Charge:
    """Change a draft charge. Once approved or billed it is refused: a claim may carry it."""
    with transaction.atomic():
        charge = _locked(organization, charge)
        if charge.status != Charge.Status.DRAFT:
            raise ValidationError(
                f"This charge is {charge.get_status_display().lower()} and can no longer be edited."
            )
        old = model_values(charge, CHARGE_FIELDS)
        old_code = charge.procedure_code
        charge.procedure_code = procedure_code
        charge.modifiers = list(modifiers)
        charge.diagnosis_pointers = list(diagnosis_pointers)
        charge.units = units
        charge.amount = amount
        charge.full_clean()
        charge.save()
        audit(
            organization=organization,
            actor=actor,
            action="charge.update",
            instance=charge,
            old_values=old,
            new_values=model_values(charge, CHARGE_FIELDS),
        )
        charge_posting_sync(
            organization=organization,
            actor=actor,
            charge=charge,
            reason="edited",
            force=old_code != procedure_code,
            posted_code=old_code,
        )
    return charge


def charge_void(
    *, organization: Organization, actor: User | None, charge: Charge, reason: str = ""
) -> Charge:
    """Void a draft or approved charge and reverse what it posted. A billed charge is
    corrected through its claim, not here."""
    with transaction.atomic():
        charge = _locked(organization, charge)
        if charge.status not in VOIDABLE:
            raise ValidationError(
                f"This charge is {charge.get_status_display().lower()}; only draft and"
                " approved charges can be voided."
            )
        old = model_values(charge, ["status"])
        charge.status = Charge.Status.VOID
        charge.save(update_fields=["status"])
        new = model_values(charge, ["status"])
        if reason:
            new["reason"] = reason
        audit(
            organization=organization,
            actor=actor,
            action="charge.void",
            instance=charge,
            old_values=old,
            new_values=new,
        )
        charge_posting_sync(organization=organization, actor=actor, charge=charge, reason="void")
    return charge
