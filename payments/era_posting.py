"""Posting one claim adjudication of an ERA (a CLP) to the claim it pays: ledger entries on
the claim's encounter and the claim's new status.

The rules, in the order they apply:

- CLP02 22 (reversal): every earlier adjudication of the claim that we posted and that is
  not reversed yet has its ledger entries posted back (kind "reversal", opposite amounts)
  and points at this reversal; when there is none (the claim was paid before ERAs reached
  this system), the amounts the payer states are reversed instead. Status: reversed.
- Denied (CLP02 4, or nothing paid and nothing owed by the patient): nothing is posted, so
  the balance stays on the encounter for follow-up. Status: denied.
- Otherwise the paid amount posts as an insurance payment (negative), and the CO and PI
  adjustments (contractual obligations and payer-initiated reductions: the practice may not
  bill the patient for them) post as one adjustment; those of a service line that was
  denied (paid nothing, patient owes nothing) do not, so the line stays open. PR (patient
  responsibility) stays on the balance for the patient; OA and CR are kept on the ERA only.
  Status: paid when nothing is left for the payer to pay (the claim's total, less what ERAs
  and other insurance postings took off its ledger, less what the patient owes), partially
  paid otherwise.
- Then the secondary claim follows (`payments.secondary_claims`): created after a primary
  adjudication that left the patient something to pay when a secondary coverage is in
  force, refreshed by a later one, held back to Draft by a reversal.

Amounts go through `ledger_post` (the only ledger writer, which audits each entry) and the
status through `claim_set_status`.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Sum

from billing.models import ZERO, Claim, LedgerEntry, Organization, User
from billing.services.claims import claim_set_status
from billing.services.ledger import CHARGE_SOURCE, ledger_post
from edi import models as x12
from payments.models import ClaimPayment, Era, PaymentAdjustment
from payments.secondary_claims import secondary_claim_follow

SOURCE = "payments_claimpayment"  # LedgerEntry.source_table of ERA postings
REVERSAL = "22"
DENIED = "4"
WRITTEN_OFF_GROUPS = frozenset({"CO", "PI"})
CENT = Decimal("0.01")
Kind = LedgerEntry.Kind
S = Claim.Status
# Claims a payer is not expected to pay: posting to them is done, but flagged.
UNBILLED = {S.DRAFT, S.READY, S.VOIDED, S.REJECTED}


@dataclass
class Posted:
    entries: list[LedgerEntry] = field(default_factory=list)
    status: str = ""  # the claim's status after posting
    note: str = ""  # for the ERA page and the audit row
    warnings: list[str] = field(default_factory=list)


def money(value: Decimal | None) -> Decimal:
    return (value or ZERO).quantize(CENT)


def line_denied(service: x12.ServicePayment) -> bool:
    """A service line the payer paid nothing on and the patient owes nothing for."""
    return service.paid == 0 and not any(a.group == "PR" and a.amount for a in service.adjustments)


def is_denial(adjudication: x12.ClaimPayment) -> bool:
    if adjudication.status_code == DENIED:
        return True
    if adjudication.paid != 0 or adjudication.status_code == REVERSAL:
        return False
    owed = adjudication.patient_responsibility or any(
        a.group == "PR" and a.amount for a in _all_adjustments(adjudication)
    )
    return not owed


def written_off(adjudication: x12.ClaimPayment) -> Decimal:
    """The CO and PI adjustments that post: the claim's own, and those of lines not denied."""
    total = sum((a.amount for a in adjudication.adjustments if a.group in WRITTEN_OFF_GROUPS), ZERO)
    for service in adjudication.services:
        if not line_denied(service):
            total += sum(
                (a.amount for a in service.adjustments if a.group in WRITTEN_OFF_GROUPS), ZERO
            )
    return money(total)


def patient_owes(adjudication: x12.ClaimPayment) -> Decimal:
    """PR adjustments of the claim and its lines, or CLP05 when the payer sent no PR CAS."""
    pr = [a.amount for a in _all_adjustments(adjudication) if a.group == "PR"]
    return money(sum(pr, ZERO) if pr else adjudication.patient_responsibility)


def _all_adjustments(adjudication: x12.ClaimPayment) -> list[x12.Adjustment]:
    return [*adjudication.adjustments, *(a for s in adjudication.services for a in s.adjustments)]


def _codes(adjudication: x12.ClaimPayment, groups: frozenset[str]) -> str:
    totals: dict[str, Decimal] = {}
    for a in adjudication.adjustments:
        if a.group in groups:
            totals[f"{a.group}-{a.reason}"] = totals.get(f"{a.group}-{a.reason}", ZERO) + a.amount
    for service in adjudication.services:
        if line_denied(service):
            continue
        for a in service.adjustments:
            if a.group in groups:
                key = f"{a.group}-{a.reason}"
                totals[key] = totals.get(key, ZERO) + a.amount
    return ", ".join(f"{code} {money(amount)}" for code, amount in totals.items() if amount)


def claim_payment_post(
    *,
    organization: Organization,
    actor: User | None,
    claim_payment: ClaimPayment,
    adjudication: x12.ClaimPayment,
    era: Era,
    posted_at: datetime.datetime,
) -> Posted:
    """Post `adjudication` (the CLP `claim_payment` was made from) to its matched claim."""
    claim = claim_payment.claim
    assert claim is not None, "only matched claim payments post"
    posted = Posted()
    if claim.status in UNBILLED:
        posted.warnings.append(
            f"Claim {claim.claim_number} is {claim.get_status_display().lower()}, yet "
            f"{era.payer_name} adjudicated it: posted anyway, check it."
        )
    prefix = f"ERA {era.trace_number}"

    def post(kind: str, amount: Decimal, memo: str) -> None:
        posted.entries.append(
            ledger_post(
                organization=organization,
                actor=actor,
                encounter=claim.encounter,
                kind=kind,
                amount=amount,
                claim=claim,
                source_table=SOURCE,
                source_id=claim_payment.pk,
                memo=f"{prefix}: {memo}",
                posted_at=posted_at,
            )
        )

    if adjudication.status_code == REVERSAL:
        _reverse(organization, claim, claim_payment, adjudication, posted, post)
        target, note = S.REVERSED, posted.note
    elif is_denial(adjudication):
        reasons = ", ".join(
            dict.fromkeys(
                f"{a.group}-{a.reason}" for a in _all_adjustments(adjudication) if a.group != "PR"
            )
        )
        target = S.DENIED
        note = posted.note = (
            f"Denied{f' ({reasons})' if reasons else ''}: nothing posted; the balance stays "
            "for follow-up."
        )
    else:
        paid = money(adjudication.paid)
        if paid > 0:
            post(Kind.INSURANCE_PAYMENT, -paid, f"{era.payer_name} paid claim {claim.claim_number}")
        elif paid < 0:
            post(
                Kind.REVERSAL, -paid, f"{era.payer_name} took back {-paid} on {claim.claim_number}"
            )
        adjusted = written_off(adjudication)
        if adjusted:
            post(Kind.ADJUSTMENT, -adjusted, _codes(adjudication, WRITTEN_OFF_GROUPS))
        left = insurance_balance(organization, claim)
        target = S.PARTIALLY_PAID if left > 0 else S.PAID
        owes = patient_owes(adjudication)
        parts = [f"paid {paid}"]
        if adjusted:
            parts.append(f"adjusted {adjusted}")
        if owes:
            parts.append(f"patient owes {owes}")
        if left > 0:
            parts.append(f"{left} still open with the payer")
        elif left < 0:
            parts.append(f"credit balance {-left}")
            posted.warnings.append(
                f"Claim {claim.claim_number}: the payer paid {-left} more than was open on it "
                "(credit balance): check for an overpayment."
            )
        note = posted.note = f"{target.label}: " + ", ".join(parts) + "."
    posted.status = target
    if claim.status != target:
        claim_set_status(
            organization=organization,
            actor=actor,
            claim=claim,
            to_status=target,
            note=f"835 {era.trace_number} from {era.payer_name}: {note}"[:200],
        )
    secondary_claim_follow(
        organization=organization,
        actor=actor,
        claim=claim,
        claim_payment=claim_payment,
        adjudication=adjudication,
        era=era,
        status=target,
        patient_owes=ZERO if target in (S.DENIED, S.REVERSED) else patient_owes(adjudication),
        warnings=posted.warnings,
    )
    return posted


def _reverse(organization, claim, claim_payment, adjudication, posted: Posted, post) -> None:
    earlier = list(
        ClaimPayment.objects.for_organization(organization)
        .filter(claim=claim, posted_at__isnull=False, reversed_by__isnull=True)
        .exclude(status_code=REVERSAL)
        .exclude(pk=claim_payment.pk)
        .order_by("pk")
    )
    if earlier:
        originals = list(
            LedgerEntry.objects.for_organization(organization)
            .filter(claim=claim, source_table=SOURCE, source_id__in=[str(e.pk) for e in earlier])
            .order_by("pk")
        )
        for entry in originals:
            memo = entry.memo.split(": ", 1)[-1]
            post(Kind.REVERSAL, -entry.amount, f"reversal of {memo}")
        ClaimPayment.objects.filter(pk__in=[e.pk for e in earlier]).update(
            reversed_by=claim_payment
        )
        taken = -sum((e.amount for e in originals if e.kind == Kind.INSURANCE_PAYMENT), ZERO)
        posted.note = f"Reversed: {len(originals)} earlier posting(s) taken back (paid {taken})."
        if money(-adjudication.paid) != taken:
            posted.warnings.append(
                f"Claim {claim.claim_number}: the reversal takes back {money(-adjudication.paid)} "
                f"but {taken} was posted from earlier ERAs; the earlier postings were reversed."
            )
        return
    paid = money(adjudication.paid)
    if paid:
        post(Kind.REVERSAL, -paid, f"reversal of the payment on claim {claim.claim_number}")
    adjusted = written_off(adjudication)
    if adjusted:
        post(Kind.REVERSAL, -adjusted, f"reversal of {_codes(adjudication, WRITTEN_OFF_GROUPS)}")
    posted.note = (
        f"Reversed: no earlier ERA posting for this claim, so the payer's amounts were "
        f"reversed (paid {paid})."
    )


def insurance_balance(organization: Organization, claim: Claim) -> Decimal:
    """What the payer still owes on `claim`: its total, less the insurance payments,
    adjustments, write-offs and reversals on its ledger, less what the patient owes per
    its adjudications that stand (saved, not reversed, not reversals). A secondary claim's
    ledger includes its primary claim's: the secondary payer owes what the primary left."""
    claims = [claim.pk] + ([claim.primary_claim_id] if claim.primary_claim_id else [])
    ledger = (
        (
            LedgerEntry.objects.for_organization(organization)
            .filter(claim__in=claims)
            .exclude(source_table=CHARGE_SOURCE)
            .exclude(kind__in=[Kind.CHARGE, Kind.PATIENT_PAYMENT])
            .aggregate(total=Sum("amount"))["total"]
        )
        or ZERO
    )
    standing = (
        ClaimPayment.objects.for_organization(organization)
        .filter(claim=claim, reversed_by__isnull=True)
        .exclude(status_code=REVERSAL)
    )
    pr_rows = dict(
        PaymentAdjustment.objects.filter(claim_payment__in=standing, group_code="PR")
        .values("claim_payment")
        .annotate(total=Sum("amount"))
        .values_list("claim_payment", "total")
    )
    owed = ZERO
    for pk, responsibility in standing.values_list("pk", "patient_responsibility"):
        owed += pr_rows.get(pk) or responsibility or ZERO
    return money(claim.total + ledger - owed)
