"""Working a denial from the worklist: write it off, or move it to the patient.

Both close the open denial adjustments (`payments.denial_selectors`) of one claim
adjudication, or of one of its lines, under one `DenialResolution`, post to the ledger
through `ledger_post` (the ledger entries carry the resolution as their source) and audit
the whole in one transaction. The claim adjudication is locked first, so two people working
the same denial at once write it off once; the second is told it is already done.

- Write off: one `write_off` entry of the open amount on the claim; the encounter's balance
  goes down by it. Refused when the balance is smaller (it would leave a credit).
- Patient responsibility: the ledger has no column for who owes what; what the payer still
  owes on a claim (`era_posting.insurance_balance`) is read from the entries tied to the
  claim, and what is on the encounter outside any claim is the patient's. So the move is a
  pair of adjustments: minus the amount on the claim (the payer no longer owes it) and plus
  the amount on the encounter without a claim (the patient does). The balance stays the
  same; the ledger, the encounter page and any statement built from it show the amount as
  the patient's, with its CARC in the memo.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from billing.audit import audit
from billing.models import ZERO, LedgerEntry, Organization, User
from billing.services.ledger import ledger_post
from payments.denial_selectors import open_denial_adjustments
from payments.era_posting import insurance_balance, money
from payments.models import ClaimPayment, DenialResolution, PaymentAdjustment, ServiceLinePayment

SOURCE = "payments_denialresolution"  # LedgerEntry.source_table of these postings
Action = DenialResolution.Action
Kind = LedgerEntry.Kind


def denial_write_off(
    *,
    organization: Organization,
    actor: User | None,
    claim_payment: ClaimPayment,
    line: ServiceLinePayment | None = None,
    note: str = "",
) -> DenialResolution:
    """Write off what is open on the adjudication (or on `line` of it)."""
    return _resolve(organization, actor, claim_payment, line, note, Action.WRITE_OFF)


def denial_to_patient(
    *,
    organization: Organization,
    actor: User | None,
    claim_payment: ClaimPayment,
    line: ServiceLinePayment | None = None,
    note: str = "",
) -> DenialResolution:
    """Move what is open on the adjudication (or on `line` of it) to the patient."""
    return _resolve(organization, actor, claim_payment, line, note, Action.PATIENT)


def _resolve(
    organization: Organization,
    actor: User | None,
    claim_payment: ClaimPayment,
    line: ServiceLinePayment | None,
    note: str,
    action: str,
) -> DenialResolution:
    if claim_payment.organization_id != organization.pk:
        raise ValidationError("That claim adjudication belongs to another organization.")
    if line is not None and line.claim_payment_id != claim_payment.pk:
        raise ValidationError({"line": "That line is not on this claim's adjudication."})
    note = note.strip()
    if len(note) > 200:
        raise ValidationError({"note": "Keep the note to 200 characters."})
    with transaction.atomic():
        locked = (
            ClaimPayment.objects.for_organization(organization)
            .select_for_update()
            .get(pk=claim_payment.pk)
        )
        rows = open_denial_adjustments(organization).filter(claim_payment=locked)
        if line is not None:
            rows = rows.filter(service_line=line)
        rows = list(rows.order_by("id"))
        what = f"line {line.procedure_code}" if line is not None else "the claim"
        claim = locked.claim
        if not rows or claim is None:
            raise ValidationError(
                f"Nothing is open on {what} any more: it was worked already, or a later ERA "
                "settled it."
            )
        amount = sum((r.amount for r in rows), ZERO)
        codes = _codes(rows)
        encounter = claim.encounter
        before = money(encounter.balance)
        owed_before = insurance_balance(organization, claim)
        if action == Action.WRITE_OFF and amount > before:
            raise ValidationError(
                f"The encounter's balance is {before}: writing off {amount} would leave a "
                "credit. Check its ledger first."
            )
        resolution = DenialResolution.objects.create(
            organization=organization,
            claim=claim,
            claim_payment=locked,
            service_line=line,
            action=action,
            amount=amount,
            codes=codes[:200],
            note=note,
            created_by=actor if actor is not None and actor.is_authenticated else None,
        )
        PaymentAdjustment.objects.filter(pk__in=[r.pk for r in rows]).update(resolution=resolution)
        on = f"{codes} on {what} of claim {claim.claim_number}"
        suffix = f" ({note})" if note else ""

        def post(kind: str, value: Decimal, memo: str, *, on_claim: bool = True) -> LedgerEntry:
            return ledger_post(
                organization=organization,
                actor=actor,
                encounter=encounter,
                kind=kind,
                amount=value,
                claim=claim if on_claim else None,
                source_table=SOURCE,
                source_id=resolution.pk,
                memo=memo + suffix,
            )

        if action == Action.WRITE_OFF:
            entries = [post(Kind.WRITE_OFF, -amount, f"Denial written off: {on}")]
        else:
            entries = [
                post(Kind.ADJUSTMENT, -amount, f"Denial moved to the patient: {on}"),
                post(
                    Kind.ADJUSTMENT,
                    amount,
                    f"Patient responsibility: {on}",
                    on_claim=False,
                ),
            ]
        audit(
            organization=organization,
            actor=actor,
            action=f"denial.{action}",
            instance=resolution,
            old_values={"balance": before, "insurance_balance": owed_before},
            new_values={
                "claim": claim.claim_number,
                "claim_payment": locked.pk,
                "line": line.pk if line is not None else None,
                "adjustments": [r.pk for r in rows],
                "codes": codes,
                "amount": amount,
                "note": note,
                "ledger": [{"id": e.pk, "kind": e.kind, "amount": e.amount} for e in entries],
                "balance": money(encounter.balance),
                "insurance_balance": insurance_balance(organization, claim),
            },
        )
    return resolution


def _codes(rows: list[PaymentAdjustment]) -> str:
    totals: dict[str, Decimal] = {}
    for row in rows:
        key = f"{row.group_code}-{row.reason_code}"
        totals[key] = totals.get(key, ZERO) + row.amount
    return ", ".join(f"{code} {amount}" for code, amount in totals.items())
