"""Unmatched ERA claims (a CLP whose patient control number named no claim of ours when the
file was ingested) matched to a claim by hand, then posted exactly as ingestion posts a
matched one (`payments.era_posting.claim_payment_post`, from the adjudication as the ERA
file holds it)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from billing.audit import audit
from billing.models import Claim, Organization, User
from edi import models as x12
from edi.errors import X12Error
from edi.x835 import read_835
from payments import era_posting
from payments.models import ClaimPayment

MATCHABLE_CLAIMS = 20  # candidates shown for a search


def unmatched_claim_payments(organization: Organization) -> QuerySet[ClaimPayment]:
    """ERA claim adjudications matched to no claim, newest ERA first."""
    return (
        ClaimPayment.objects.for_organization(organization)
        .filter(claim__isnull=True)
        .select_related("era")
        .order_by("-era__created_at", "-era_id", "id")
    )


def unmatched_claim_payment_get(organization: Organization, pk: int) -> ClaimPayment | None:
    return unmatched_claim_payments(organization).filter(pk=pk).first()


def claim_candidates(organization: Organization, q: str) -> QuerySet[Claim]:
    """Claims whose number, or whose patient's name or account number, contains `q`."""
    q = q.strip()
    claims = Claim.objects.for_organization(organization).select_related(
        "encounter__patient", "payer"
    )
    if not q:
        return claims.none()
    words = q.replace(",", " ").split()
    match = Q(claim_number__icontains=q) | Q(encounter__patient__account_number__iexact=q)
    names = Q()
    for word in words:
        names &= Q(encounter__patient__last_name__icontains=word) | Q(
            encounter__patient__first_name__icontains=word
        )
    return claims.filter(match | names).order_by("-created_at", "-id")[:MATCHABLE_CLAIMS]


def _adjudication(claim_payment: ClaimPayment) -> x12.ClaimPayment:
    """The CLP this row was made from, read again from the ERA file: the rows of one ERA
    were created in the order of its CLPs."""
    era = claim_payment.era
    try:
        parsed = read_835(era.era_file.content.lstrip("\ufeff"))
    except X12Error as error:
        raise ValidationError(f"The ERA file can no longer be read ({error}).") from error
    remittance = next(
        (r for r in parsed.transactions if "|".join(r.era_id)[:200] == era.era_id), None
    )
    order = list(ClaimPayment.objects.filter(era=era).order_by("id").values_list("pk", flat=True))
    if remittance is None or len(order) != len(remittance.claims):
        raise ValidationError("The ERA file does not hold this adjudication as it was ingested.")
    adjudication = remittance.claims[order.index(claim_payment.pk)]
    if adjudication.patient_control_number[:38] != claim_payment.patient_control_number:
        raise ValidationError("The ERA file does not hold this adjudication as it was ingested.")
    return adjudication


def claim_payment_match(
    *, organization: Organization, actor: User | None, claim_payment: ClaimPayment, claim: Claim
) -> era_posting.Posted:
    """Match an unmatched ERA claim adjudication to `claim` and post it to the claim's
    ledger and status now, as ingestion would have; one "era.claim_matched" audit row
    with what was posted. Refused when the row was matched meanwhile (row lock) or the
    claim is another organization's."""
    if claim.organization_id != organization.pk:
        raise ValidationError("That claim belongs to another organization.")
    with transaction.atomic():
        locked = (
            ClaimPayment.objects.for_organization(organization)
            .select_for_update()
            .select_related("era__era_file")
            .get(pk=claim_payment.pk)
        )
        if locked.claim_id is not None:
            raise ValidationError(
                "This ERA claim was matched to a claim already: nothing was posted again."
            )
        adjudication = _adjudication(locked)
        claim = Claim.objects.select_related("encounter").get(
            organization=organization, pk=claim.pk
        )
        now = timezone.now()
        locked.claim = claim
        # Saved before posting, as ingestion creates it: the claim's balance counts what the
        # patient owes per the adjudications on record for it, this one included.
        locked.save(update_fields=["claim"])
        posted = era_posting.claim_payment_post(
            organization=organization,
            actor=actor,
            claim_payment=locked,
            adjudication=adjudication,
            era=locked.era,
            posted_at=now,
        )
        locked.posted_at = now
        locked.posting_note = f"Matched by hand to {claim.claim_number}. {posted.note}"[:300]
        locked.save(update_fields=["posted_at", "posting_note"])
        audit(
            organization=organization,
            actor=actor,
            action="era.claim_matched",
            instance=locked,
            old_values={"claim": None},
            new_values={
                "claim": claim.pk,
                "claim_number": claim.claim_number,
                "era": locked.era_id,
                "patient_control_number": locked.patient_control_number,
                "paid": locked.paid_amount,
                "claim_status": posted.status,
                "ledger": [
                    {"id": e.pk, "kind": e.kind, "amount": e.amount} for e in posted.entries
                ],
                "warnings": posted.warnings,
            },
        )
    return posted
