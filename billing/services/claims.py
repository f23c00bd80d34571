"""Writes of claims: the one way a claim changes status, and the version bump."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from billing.audit import audit
from billing.models import Claim, ClaimStatusChange, Organization, User


def claim_set_status(
    *,
    organization: Organization,
    actor: User | None,
    claim: Claim,
    to_status: str,
    note: str = "",
) -> ClaimStatusChange:
    """Move `claim` to `to_status`, recording a `ClaimStatusChange` and a "claim.status"
    audit row in the same transaction.

    Every status change goes through here: submission, acknowledgements, ERA posting and
    voiding call it (with `actor=None` for the system). The claim row is locked, so two
    callers racing on one claim see each other's change. Moving into "submitted" or
    "accepted" stamps `submitted_at`/`accepted_at` with now: they tell the latest
    submission and acceptance. A change to the status the claim already has is refused
    (ValidationError), as is an unknown status; nothing is written then.

    `claim` is updated in place and the history row returned.
    """
    if claim.organization_id != organization.pk:
        raise ValidationError("That claim belongs to another organization.")
    if to_status not in Claim.Status.values:
        raise ValidationError({"to_status": f"Unknown claim status {to_status!r}."})
    with transaction.atomic():
        locked = Claim.objects.select_for_update().get(organization=organization, pk=claim.pk)
        from_status = locked.status
        if to_status == from_status:
            raise ValidationError(
                {"to_status": f"The claim is already {locked.get_status_display()}."}
            )
        now = timezone.now()
        locked.status = to_status
        fields = ["status"]
        if to_status == Claim.Status.SUBMITTED:
            locked.submitted_at = now
            fields.append("submitted_at")
        elif to_status == Claim.Status.ACCEPTED:
            locked.accepted_at = now
            fields.append("accepted_at")
        # No full_clean(): only the status (checked above) and its stamps change, and a
        # full clean re-validates every foreign key and unique constraint (queries each).
        locked.save(update_fields=fields)
        change = ClaimStatusChange(
            organization=organization,
            claim=locked,
            from_status=from_status,
            to_status=to_status,
            changed_at=now,
            actor=actor if actor is not None and actor.is_authenticated else None,
            note=note[:200],
        )
        change.save()
        audit(
            organization=organization,
            actor=actor,
            action="claim.status",
            instance=locked,
            old_values={"status": from_status},
            new_values={
                "status": to_status,
                **{f: getattr(locked, f) for f in fields if f != "status"},
                **({"note": note} if note else {}),
            },
        )
    for name in fields:
        setattr(claim, name, getattr(locked, name))
    return change


def claim_content_changed(claim: Claim) -> int:
    """Bump the claim's `version` and return the new number.

    Call it inside the transaction of any change to what the claim would send to the payer
    (its charges, their codes, units or amounts, the diagnoses, payer, coverage or
    frequency code). Files built for submission record the version they were built from,
    so a later change shows the payer's copy is stale and a replacement is needed.
    Status changes are not content changes and do not bump it. It writes no audit row:
    the change that calls it audits itself.
    """
    Claim.objects.filter(pk=claim.pk, organization_id=claim.organization_id).update(
        version=F("version") + 1
    )
    claim.refresh_from_db(fields=["version"])
    return claim.version
