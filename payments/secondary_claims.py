"""Secondary claims: after the primary payer's ERA posts, the patient's secondary coverage
is billed for what is left.

`secondary_claim_follow` runs at the end of each ERA posting of a claim
(`era_posting.claim_payment_post`):

- A primary claim processed as primary (CLP02 1) that left something for the patient
  (PR), when the patient has a secondary coverage in force on the date of service: a
  secondary claim is created, status Ready, to the secondary coverage's payer, with the same
  charges and a new claim number. It carries the primary's adjudication
  (`Claim.other_payers`, a snapshot: paid amount, claim and line adjustments, the payer's
  claim control number, the adjudication date) for the 837P's other-payer loops.
  CLP02 19 (processed as primary, forwarded to another payer) creates none: the payer sent
  the claim on to the secondary itself. A denial creates none: it goes to the denials
  worklist.
- One secondary claim per primary claim (a unique constraint on `primary_claim`): the same
  ERA again is not posted again (ingestion), and a later adjudication of the primary
  refreshes the secondary's snapshot while the secondary is unsent (Draft or Ready), or
  leaves a warning once it was sent.
- A reversal of the primary (CLP02 22) takes an unsent (Ready) secondary claim back to
  Draft, so no batch submits it with a payment that no longer stands; the next primary
  adjudication makes it Ready again. A secondary already sent gets a warning.

Every creation and refresh is audited in the ERA's transaction.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import IntegrityError, transaction

from billing.audit import audit
from billing.models import Charge, Claim, Coverage, Organization, User
from billing.services.billing_run import CLAIM_NUMBER_SEQUENCE, claim_number, next_numbers
from billing.services.claims import claim_content_changed, claim_set_status
from edi import models as x12
from payments.models import ClaimPayment, Era

PROCESSED_AS_PRIMARY = "1"
REVERSAL = "22"
S = Claim.Status
UNSENT = {S.DRAFT, S.READY}


def secondary_coverage(claim: Claim) -> Coverage | None:
    """The patient's secondary coverage in force on the claim's date of service."""
    dos = claim.encounter.date_of_service
    for coverage in (
        Coverage.objects.for_organization(claim.organization_id)
        .filter(patient_id=claim.encounter.patient_id, order=Coverage.Order.SECONDARY)
        .select_related("payer")
        .order_by("-effective_from", "-id")
    ):
        if coverage.is_active_on(dos):
            return coverage
    return None


def secondary_claim_follow(
    *,
    organization: Organization,
    actor: User | None,
    claim: Claim,
    claim_payment: ClaimPayment,
    adjudication: x12.ClaimPayment,
    era: Era,
    status: str,
    patient_owes: Decimal,
    warnings: list[str],
) -> Claim | None:
    """Create, refresh or hold the secondary claim of `claim` after one of its ERA
    postings (see the module docstring); the secondary claim, or None when there is none.
    `status` is the primary's status after posting; `warnings` gets what needs a look."""
    if adjudication.status_code not in (PROCESSED_AS_PRIMARY, REVERSAL):
        return None
    if claim.primary_claim_id is not None or claim.coverage.order != Coverage.Order.PRIMARY:
        return None
    existing = (
        Claim.objects.for_organization(organization)
        .select_for_update()
        .filter(primary_claim=claim)
        .first()
    )
    if adjudication.status_code == REVERSAL:
        if existing is not None:
            _hold(organization, actor, existing, era, warnings)
        return existing
    if status == S.DENIED or patient_owes <= 0:
        return existing
    coverage = secondary_coverage(claim)
    if coverage is None:
        return existing
    snapshot = _snapshot(claim, claim_payment, adjudication, era, patient_owes)
    if existing is not None:
        return _refresh(organization, actor, existing, snapshot, era, warnings)
    number = claim_number(next_numbers(organization, CLAIM_NUMBER_SEQUENCE, 1)[0])
    secondary = Claim(
        organization=organization,
        encounter=claim.encounter,
        payer=coverage.payer,
        coverage=coverage,
        claim_number=number,
        status=S.DRAFT,
        total=claim.total,
        primary_claim=claim,
        other_payers=[snapshot],
    )
    try:
        with transaction.atomic():
            secondary.save()
    except IntegrityError:  # another worker made it first: that one is the secondary
        return Claim.objects.for_organization(organization).get(primary_claim=claim)
    charges = [c for c in claim.charges.all() if c.status != Charge.Status.VOID]
    secondary.charges.set(charges)
    claim_set_status(
        organization=organization,
        actor=actor,
        claim=secondary,
        to_status=S.READY,
        note=(
            f"Secondary claim of {claim.claim_number} after 835 {era.trace_number} from "
            f"{era.payer_name} (paid {snapshot['paid']})."
        ),
    )
    audit(
        organization=organization,
        actor=actor,
        action="claim.secondary_create",
        instance=secondary,
        new_values={
            "claim_number": secondary.claim_number,
            "primary_claim": claim.claim_number,
            "payer": coverage.payer.name,
            "coverage": coverage.pk,
            "status": secondary.status,
            "total": secondary.total,
            "charges": [c.pk for c in charges],
            "primary_paid": snapshot["paid"],
            "primary_era": era.trace_number,
            "claim_payment": claim_payment.pk,
        },
    )
    return secondary


def _refresh(
    organization: Organization,
    actor: User | None,
    secondary: Claim,
    snapshot: dict,
    era: Era,
    warnings: list[str],
) -> Claim:
    if secondary.status not in UNSENT:
        if secondary.other_payers != [snapshot]:
            warnings.append(
                f"Claim {secondary.primary_claim.claim_number} was adjudicated again by "
                f"{era.payer_name}, but its secondary claim {secondary.claim_number} is "
                f"{secondary.get_status_display().lower()} with the earlier adjudication: "
                "correct the secondary claim."
            )
        return secondary
    old = secondary.other_payers
    secondary.other_payers = [snapshot]
    secondary.save(update_fields=["other_payers"])
    claim_content_changed(secondary)
    if secondary.status != S.READY:
        claim_set_status(
            organization=organization,
            actor=actor,
            claim=secondary,
            to_status=S.READY,
            note=f"835 {era.trace_number}: the primary payer adjudicated the claim again.",
        )
    audit(
        organization=organization,
        actor=actor,
        action="claim.secondary_refresh",
        instance=secondary,
        old_values={"other_payers": old},
        new_values={"other_payers": secondary.other_payers, "version": secondary.version},
    )
    return secondary


def _hold(
    organization: Organization, actor: User | None, secondary: Claim, era: Era, warnings: list
) -> None:
    if secondary.status == S.READY:
        claim_set_status(
            organization=organization,
            actor=actor,
            claim=secondary,
            to_status=S.DRAFT,
            note=(
                f"835 {era.trace_number}: the primary payment was reversed; held until the "
                "primary payer adjudicates the claim again."
            ),
        )
    elif secondary.status not in UNSENT:
        warnings.append(
            f"{era.payer_name} reversed its payment on claim "
            f"{secondary.primary_claim.claim_number}, whose secondary claim "
            f"{secondary.claim_number} is already {secondary.get_status_display().lower()}: "
            "check the secondary claim."
        )


def _adjustments(adjustments: list[x12.Adjustment]) -> list[dict]:
    return [
        {"group": a.group, "reason": a.reason, "amount": str(_money(a.amount))}
        for a in adjustments
        if a.amount
    ]


def _money(value: Decimal | None) -> Decimal:
    return (value or Decimal(0)).quantize(Decimal("0.01"))


def _snapshot(
    claim: Claim,
    claim_payment: ClaimPayment,
    adjudication: x12.ClaimPayment,
    era: Era,
    patient_owes: Decimal,
) -> dict:
    """The primary's adjudication as the secondary's 837P reports it. Service lines are
    matched to our charges by their line item control number (REF*6R, the charge id we
    sent), else by procedure code and modifiers; what matches no charge is reported at the
    claim level, so the claim still balances (CLM02 = paid + adjustments)."""
    coverage = claim.coverage
    patient = claim.encounter.patient
    is_self = coverage.relationship == Coverage.Relationship.SELF
    charges = [c for c in claim.charges.all() if c.status != Charge.Status.VOID]
    unused = {c.pk: c for c in charges}
    claim_adjustments = list(adjudication.adjustments)
    lines = []
    for service in adjudication.services:
        charge = None
        if service.control_number.isdigit() and int(service.control_number) in unused:
            charge = unused[int(service.control_number)]
        else:
            charge = next(
                (
                    c
                    for c in unused.values()
                    if c.procedure_code == service.procedure_code
                    and (not service.modifiers or list(service.modifiers) == (c.modifiers or []))
                ),
                None,
            )
        if charge is None:
            claim_adjustments += service.adjustments
            continue
        del unused[charge.pk]
        lines.append(
            {
                "charge": charge.pk,
                "procedure_code": service.procedure_code,
                "modifiers": list(service.modifiers),
                "paid": str(_money(service.paid)),
                "units": str((service.units or charge.units).normalize()),
                "adjustments": _adjustments(service.adjustments),
            }
        )
    return {
        "responsibility": "P",
        "claim_payment": claim_payment.pk,
        "era": era.pk,
        "payer_name": claim.payer.name[:60],
        "payer_id": claim.payer.payer_id,
        "claim_filing_indicator": claim.payer.claim_filing_indicator,
        "relationship": coverage.relationship,
        "group_number": coverage.group_number,
        "insured_last_name": patient.last_name if is_self else coverage.subscriber_last_name,
        "insured_first_name": patient.first_name if is_self else coverage.subscriber_first_name,
        "insured_id": coverage.member_id,
        "paid": str(_money(adjudication.paid)),
        "patient_responsibility": str(_money(patient_owes)),
        "adjudication_date": (era.payment_date or claim_payment.era.created_at.date()).isoformat(),
        "payer_claim_control_number": adjudication.payer_claim_control_number,
        "adjustments": _adjustments(claim_adjustments),
        "lines": lines,
    }
