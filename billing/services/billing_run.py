"""Charge approval and claim generation: the practice side of two batch job types.

Both take a set of charges, lock them, decide per charge, and write everything of the set
in the caller's transaction (the batch engine's per-chunk transaction), with one audit row
for the set that lists the records changed.

- Approval: a draft charge that passes `charge_problems` becomes approved.
- Generation: approved charges are grouped per encounter and primary payer on the date of
  service into one claim each (status Ready), and become billed. Charges are locked and
  must still be approved, so nothing is billed twice even when two jobs race.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from billing.audit import audit
from billing.models import ICD10, ZERO, Charge, Claim, Coverage, NumberSequence, Organization, User
from billing.validators import npi_check_digit_ok

PROCEDURE_CODE = re.compile(r"^([0-9]{4}[0-9FTU]|[A-V][0-9]{4})$")
CLAIM_NUMBER_SEQUENCE = "claim_number"


@dataclass(frozen=True)
class ChargeOutcome:
    ok: bool
    error: str = ""
    claim_id: int | None = None


def _icd10_ok(code: str) -> bool:
    try:
        ICD10(code)
    except ValidationError:
        return False
    return True


def primary_coverages(
    organization: Organization, charges: Iterable[Charge]
) -> dict[int, Coverage | None]:
    """For each charge id, the patient's primary coverage in force on its date of service
    (one query for all)."""
    charges = list(charges)
    patient_ids = {c.encounter.patient_id for c in charges}
    by_patient: dict[int, list[Coverage]] = defaultdict(list)
    for coverage in (
        Coverage.objects.for_organization(organization)
        .filter(patient_id__in=patient_ids, order=Coverage.Order.PRIMARY)
        .select_related("payer")
        .order_by("-effective_from", "-id")
    ):
        by_patient[coverage.patient_id].append(coverage)
    found: dict[int, Coverage | None] = {}
    for charge in charges:
        dos = charge.encounter.date_of_service
        found[charge.pk] = next(
            (
                c
                for c in by_patient[charge.encounter.patient_id]
                if c.effective_from <= dos and (c.effective_to is None or c.effective_to >= dos)
            ),
            None,
        )
    return found


def charge_problems(charge: Charge, coverage: Coverage | None) -> list[str]:
    """Why the charge cannot be billed as it is, in words; empty when it can."""
    problems = []
    encounter = charge.encounter
    if not PROCEDURE_CODE.match(charge.procedure_code or ""):
        problems.append(f"{charge.procedure_code!r} is not a CPT/HCPCS code")
    diagnoses = encounter.diagnosis_codes or []
    if not diagnoses:
        problems.append("the encounter has no diagnosis codes")
    bad = [code for code in diagnoses if not _icd10_ok(code)]
    if bad:
        problems.append(f"not ICD-10-CM code shapes: {', '.join(bad)}")
    pointers = charge.diagnosis_pointers or []
    if (
        not 1 <= len(pointers) <= 4
        or len(set(pointers)) != len(pointers)
        or not all(isinstance(p, int) and 1 <= p <= len(diagnoses) for p in pointers)
    ):
        problems.append("diagnosis pointers must name 1 to 4 of the encounter's diagnoses")
    if charge.units is None or charge.units <= 0:
        problems.append("units must be more than 0")
    if charge.amount is None or charge.amount <= 0:
        problems.append("the amount must be more than $0.00")
    if not npi_check_digit_ok(encounter.provider.npi):
        problems.append(f"provider {encounter.provider} has no valid NPI")
    if coverage is None:
        problems.append(
            f"the patient has no primary coverage on {encounter.date_of_service:%m/%d/%Y}"
        )
    return problems


# What claim generation reads of a charge. (Loading every field of each charge and its
# encounter, JSON included, and its provider took twice as long; see bench/README.md.)
GENERATION_FIELDS = (
    "status",
    "amount",
    "encounter",
    "encounter__patient",
    "encounter__date_of_service",
)


def _locked_charges(
    organization: Organization, charge_ids: Iterable[int], *, only: tuple[str, ...] = ()
) -> dict[int, Charge]:
    """The charges, locked, with their encounters and providers (`only`: just those fields
    of the charge and its encounter)."""
    charges = (
        Charge.objects.select_for_update(of=("self",))
        .filter(organization=organization, pk__in=list(charge_ids))
        .order_by("pk")
    )
    if only:
        charges = charges.select_related("encounter").only(*only)
    else:
        charges = charges.select_related("encounter__provider")
    return {c.pk: c for c in charges}


def _missing(charge_ids: Iterable[int], found: dict[int, Charge]) -> dict[int, ChargeOutcome]:
    return {
        pk: ChargeOutcome(False, "The charge no longer exists.")
        for pk in charge_ids
        if pk not in found
    }


def charges_approve(
    *, organization: Organization, actor: User | None, charge_ids: Iterable[int]
) -> dict[int, ChargeOutcome]:
    """Approve the draft charges that pass the checks; say why for the others."""
    charge_ids = list(charge_ids)
    with transaction.atomic():
        charges = _locked_charges(organization, charge_ids)
        outcomes = _missing(charge_ids, charges)
        coverages = primary_coverages(organization, charges.values())
        approved = []
        for pk, charge in charges.items():
            if charge.status != Charge.Status.DRAFT:
                outcomes[pk] = ChargeOutcome(
                    False, f"The charge is {charge.get_status_display()}; only drafts are approved."
                )
                continue
            problems = charge_problems(charge, coverages[pk])
            if problems:
                text = "; ".join(problems)
                outcomes[pk] = ChargeOutcome(False, text[0].upper() + text[1:] + ".")
                continue
            approved.append(pk)
            outcomes[pk] = ChargeOutcome(True)
        if approved:
            Charge.objects.filter(pk__in=approved, status=Charge.Status.DRAFT).update(
                status=Charge.Status.APPROVED
            )
            audit(
                organization=organization,
                actor=actor,
                action="charge.approve",
                table_name=Charge._meta.db_table,
                old_values={"status": Charge.Status.DRAFT},
                new_values={"status": Charge.Status.APPROVED, "charge_ids": approved},
            )
    return outcomes


def next_numbers(organization: Organization, name: str, count: int) -> range:
    """`count` fresh numbers of the organization's sequence `name` (locked, gap-free)."""
    NumberSequence.objects.get_or_create(organization=organization, name=name)
    NumberSequence.objects.filter(organization=organization, name=name).update(
        last_value=F("last_value") + count
    )
    last = NumberSequence.objects.get(organization=organization, name=name).last_value
    return range(last - count + 1, last + 1)


def claim_number(number: int) -> str:
    return f"CLM{number:07d}"


def claims_generate(
    *, organization: Organization, actor: User | None, charge_ids: Iterable[int]
) -> dict[int, ChargeOutcome]:
    """One Ready claim per encounter and primary payer from the approved charges; the
    charges become billed. Charges that are not approved (or have no coverage) are left."""
    charge_ids = list(charge_ids)
    with transaction.atomic():
        charges = _locked_charges(organization, charge_ids, only=GENERATION_FIELDS)
        outcomes = _missing(charge_ids, charges)
        coverages = primary_coverages(organization, charges.values())
        groups: dict[tuple[int, int], list[Charge]] = defaultdict(list)
        for pk, charge in charges.items():
            if charge.status != Charge.Status.APPROVED:
                why = (
                    "it is already billed"
                    if charge.status == Charge.Status.BILLED
                    else f"it is {charge.get_status_display()}, not approved"
                )
                outcomes[pk] = ChargeOutcome(False, f"Not billed: {why}.")
                continue
            coverage = coverages[pk]
            if coverage is None:
                outcomes[pk] = ChargeOutcome(
                    False,
                    "Not billed: the patient has no primary coverage on "
                    f"{charge.encounter.date_of_service:%m/%d/%Y}.",
                )
                continue
            groups[(charge.encounter_id, coverage.pk)].append(charge)
        if not groups:
            return outcomes
        now = timezone.now()
        numbers = iter(next_numbers(organization, CLAIM_NUMBER_SEQUENCE, len(groups)))
        claims = []
        for (encounter_id, coverage_id), members in groups.items():
            coverage = coverages[members[0].pk]
            claims.append(
                Claim(
                    organization=organization,
                    encounter_id=encounter_id,
                    payer_id=coverage.payer_id,
                    coverage_id=coverage_id,
                    claim_number=claim_number(next(numbers)),
                    status=Claim.Status.READY,
                    total=sum((c.amount for c in members), start=ZERO),
                    created_at=now,
                )
            )
        Claim.objects.bulk_create(claims)
        links = []
        for claim, members in zip(claims, groups.values(), strict=True):
            for charge in members:
                links.append(Claim.charges.through(claim_id=claim.pk, charge_id=charge.pk))
                outcomes[charge.pk] = ChargeOutcome(True, claim_id=claim.pk)
        Claim.charges.through.objects.bulk_create(links)
        billed = [c.pk for members in groups.values() for c in members]
        Charge.objects.filter(pk__in=billed, status=Charge.Status.APPROVED).update(
            status=Charge.Status.BILLED
        )
        audit(
            organization=organization,
            actor=actor,
            action="claim.generate",
            table_name=Claim._meta.db_table,
            new_values={
                "claims": {c.claim_number: c.pk for c in claims},
                "charge_ids": billed,
                "status": Claim.Status.READY,
            },
        )
    return outcomes
