"""Writes of encounters and of the payments a patient (or guarantor) makes on them."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from billing.audit import audit, model_values
from billing.models import (
    Charge,
    Employer,
    Encounter,
    LedgerEntry,
    Organization,
    Patient,
    Provider,
    User,
)
from billing.services.ledger import ledger_post

ENCOUNTER_FIELDS = [
    "provider_id",
    "date_of_service",
    "place_of_service",
    "guarantor_employer_id",
    "diagnosis_codes",
]

PAYMENT_METHODS = {"cash": "cash", "check": "check", "card": "card"}


def _check_date_of_service(day: datetime.date) -> None:
    if day > timezone.localdate():
        raise ValidationError({"date_of_service": "The date of service cannot be in the future."})


def encounter_create(
    *,
    organization: Organization,
    actor: User | None,
    patient: Patient,
    provider: Provider,
    date_of_service: datetime.date,
    place_of_service: str,
    guarantor_employer: Employer | None = None,
    diagnosis_codes: list[str],
) -> Encounter:
    _check_date_of_service(date_of_service)
    with transaction.atomic():
        encounter = Encounter(
            organization=organization,
            patient=patient,
            provider=provider,
            date_of_service=date_of_service,
            place_of_service=place_of_service,
            guarantor_employer=guarantor_employer,
            diagnosis_codes=list(diagnosis_codes),
        )
        encounter.full_clean()
        encounter.save()
        audit(
            organization=organization,
            actor=actor,
            action="encounter.create",
            instance=encounter,
            new_values=model_values(encounter),
        )
    return encounter


def _remap_pointers(
    charges: list[Charge], old_codes: list[str], new_codes: list[str]
) -> dict[int, list[int]]:
    """New pointer lists that keep every charge pointing at the same codes.

    Pointers are positions, so a reordered list would silently change what a charge points
    at. A live charge pointing at a code the new list drops is refused; a void charge
    (kept for the record) just loses that pointer.
    """
    position = {code: i for i, code in enumerate(new_codes, start=1)}
    blocked: dict[str, list[str]] = {}
    remapped: dict[int, list[int]] = {}
    for charge in charges:
        codes = [old_codes[p - 1] for p in charge.diagnosis_pointers if 1 <= p <= len(old_codes)]
        missing = [c for c in codes if c not in position]
        if missing and charge.status != Charge.Status.VOID:
            for code in missing:
                blocked.setdefault(code, []).append(charge.procedure_code)
        pointers = [position[c] for c in codes if c in position]
        if pointers != charge.diagnosis_pointers:
            remapped[charge.pk] = pointers
    if blocked:
        raise ValidationError(
            {
                "diagnosis_codes": [
                    f"{code} cannot be removed: charge {', '.join(sorted(set(cpts)))} points at"
                    " it. Change or void the charge first."
                    for code, cpts in blocked.items()
                ]
            }
        )
    return remapped


def encounter_update(
    *,
    organization: Organization,
    actor: User | None,
    encounter: Encounter,
    provider: Provider,
    date_of_service: datetime.date,
    place_of_service: str,
    guarantor_employer: Employer | None,
    diagnosis_codes: list[str],
) -> Encounter:
    """Change the encounter; charges keep pointing at the same diagnosis codes."""
    _check_date_of_service(date_of_service)
    with transaction.atomic():
        encounter = Encounter.objects.select_for_update().get(
            organization=organization, pk=encounter.pk
        )
        old = model_values(encounter, ENCOUNTER_FIELDS)
        old_codes = list(encounter.diagnosis_codes or [])
        encounter.provider = provider
        encounter.date_of_service = date_of_service
        encounter.place_of_service = place_of_service
        encounter.guarantor_employer = guarantor_employer
        encounter.diagnosis_codes = list(diagnosis_codes)
        encounter.full_clean()
        charges = list(
            Charge.objects.select_for_update().filter(
                organization=organization, encounter=encounter
            )
        )
        remapped = _remap_pointers(charges, old_codes, encounter.diagnosis_codes)
        encounter.save()
        for charge_id, pointers in remapped.items():
            Charge.objects.filter(organization=organization, pk=charge_id).update(
                diagnosis_pointers=pointers
            )
        new = model_values(encounter, ENCOUNTER_FIELDS)
        if remapped:
            new["charge_pointers"] = {str(k): v for k, v in remapped.items()}
        audit(
            organization=organization,
            actor=actor,
            action="encounter.update",
            instance=encounter,
            old_values=old,
            new_values=new,
        )
    return encounter


def patient_payment_post(
    *,
    organization: Organization,
    actor: User | None,
    encounter: Encounter,
    amount: Decimal,
    method: str,
    reference: str = "",
    paid_on: datetime.date,
) -> LedgerEntry:
    """Post money the patient (or the encounter's guarantor) paid: a positive amount
    received is stored as a negative `patient_payment` entry, audited as
    `ledger.patient_payment`."""
    errors = {}
    if amount is None or amount <= 0:
        errors["amount"] = "Enter the amount received, more than $0.00."
    if method not in PAYMENT_METHODS:
        errors["method"] = "Choose cash, check or card."
    if paid_on > timezone.localdate():
        errors["paid_on"] = "The payment date cannot be in the future."
    if errors:
        raise ValidationError(errors)
    memo = f"Patient payment, {PAYMENT_METHODS[method]}"
    if reference:
        memo += f" {reference}"
    if paid_on == timezone.localdate():
        posted_at = timezone.now()
    else:
        posted_at = timezone.make_aware(datetime.datetime.combine(paid_on, datetime.time(12)))
    return ledger_post(
        organization=organization,
        actor=actor,
        encounter=encounter,
        kind=LedgerEntry.Kind.PATIENT_PAYMENT,
        amount=-amount,
        memo=memo,
        posted_at=posted_at,
    )
