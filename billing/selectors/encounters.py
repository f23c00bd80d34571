"""Reads for the encounter page: the encounter, its charges, claims and ledger."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.http import Http404

from billing.models import (
    ZERO,
    Charge,
    Claim,
    Employer,
    Encounter,
    LedgerEntry,
    Organization,
    Patient,
    Provider,
)
from billing.selectors.charges import plain_units


def encounter_get(organization: Organization, pk: int) -> Encounter | None:
    return (
        Encounter.objects.with_balance()
        .for_organization(organization)
        .select_related("patient", "provider", "guarantor_employer")
        .filter(pk=pk)
        .first()
    )


def patient_get(organization: Organization, pk: int) -> Patient | None:
    return Patient.objects.for_organization(organization).filter(pk=pk).first()


def providers(organization: Organization):
    return Provider.objects.for_organization(organization).order_by("last_name", "first_name")


def employers(organization: Organization):
    return Employer.objects.for_organization(organization).order_by("name")


def encounter_charges(encounter: Encounter) -> list[Charge]:
    """The encounter's charges, each with `pointer_codes`: the diagnosis codes it points at."""
    codes = encounter.diagnosis_codes or []
    charges = list(
        Charge.objects.for_organization(encounter.organization_id)
        .filter(encounter=encounter)
        .order_by("id")
    )
    for charge in charges:
        charge.units_display = plain_units(charge.units)
        charge.pointer_codes = [
            codes[p - 1] if isinstance(p, int) and 1 <= p <= len(codes) else f"#{p}?"
            for p in charge.diagnosis_pointers or []
        ]
    return charges


def encounter_claims(encounter: Encounter) -> list[Claim]:
    return list(
        Claim.objects.for_organization(encounter.organization_id)
        .filter(encounter=encounter)
        .select_related("payer")
        .order_by("created_at", "id")
    )


@dataclass(frozen=True)
class LedgerLine:
    entry: LedgerEntry
    balance: Decimal


def encounter_ledger(encounter: Encounter) -> list[LedgerLine]:
    """The ledger in posting order, each line with the running balance after it."""
    entries = (
        LedgerEntry.objects.for_organization(encounter.organization_id)
        .filter(encounter=encounter)
        .select_related("claim", "charge")
        .order_by("posted_at", "id")
    )
    running = ZERO
    lines = []
    for entry in entries:
        running += entry.amount
        lines.append(LedgerLine(entry, running))
    return lines


def encounter_get_or_404(organization: Organization, pk: int) -> Encounter:
    """The organization's encounter, or 404: another organization's id does not exist here."""
    encounter = encounter_get(organization, pk)
    if encounter is None:
        raise Http404("No such encounter.")
    return encounter
