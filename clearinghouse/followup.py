"""Working what comes back about a claim: a rejected claim resubmitted, an accepted or
adjudicated claim replaced (frequency code 7) or voided (8).

Each service prepares the version to send in its own audited transaction; the caller then
sends it with `clearinghouse.submission.claim_submit` (outside any transaction). The
idempotency key holds the claim's version, so a new version is never sent with an old key,
and a version whose outcome is still open (recorded, or unknown after a timeout) is never
replaced by a new one: it is settled first, with the same clearinghouse and key.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from billing.audit import audit
from billing.models import Claim, Organization, User
from billing.services.claims import claim_content_changed
from clearinghouse.models import X12_DELIMITERS, ClaimSubmission
from clearinghouse.submission import idempotency_key

S = Claim.Status
CS = ClaimSubmission.Status
RESUBMITTABLE = frozenset({S.REJECTED})
# A claim the payer took (and perhaps adjudicated) is corrected, never resubmitted.
CORRECTABLE = frozenset({S.ACCEPTED, S.PAID, S.PARTIALLY_PAID, S.DENIED})
CORRECTIONS = {
    Claim.Frequency.REPLACEMENT: "claim.replace",
    Claim.Frequency.VOID: "claim.void",
}
# The current version went out (or may have): sending again needs a new version.
SETTLED = (CS.SENT, CS.ACCEPTED, CS.REJECTED)
OPEN = (CS.RECORDED, CS.UNKNOWN)


def _lock(organization: Organization, claim: Claim) -> Claim:
    if claim.organization_id != organization.pk:
        raise ValidationError("That claim belongs to another organization.")
    return Claim.objects.select_for_update().get(organization=organization, pk=claim.pk)


def _current_submission(organization: Organization, claim: Claim) -> ClaimSubmission | None:
    return (
        ClaimSubmission.objects.for_organization(organization)
        .select_related("clearinghouse")
        .filter(claim=claim, claim_version=claim.version)
        .order_by("-created_at", "-id")
        .first()
    )


def _open_outcome_error(claim: Claim, submission: ClaimSubmission) -> ValidationError:
    return ValidationError(
        f"Version {claim.version} of claim {claim.claim_number} went to "
        f"{submission.clearinghouse} and its outcome is not known yet: send it again to "
        "settle it there before changing the claim."
    )


def claim_resubmission_prepare(
    *, organization: Organization, actor: User | None, claim: Claim
) -> Claim:
    """Make a rejected claim ready to go out again, as a new version when the current one
    was sent (so the new file gets a new idempotency key). A version that never reached
    its clearinghouse (failed) or whose outcome is open is sent again as it is, whatever
    the claim's status (a replacement that timed out, say): the submission settles it with
    the same key. Audited ("claim.resubmission")."""
    with transaction.atomic():
        locked = _lock(organization, claim)
        old_version = locked.version
        current = _current_submission(organization, locked)
        unsettled = current is not None and current.status not in SETTLED
        if locked.status not in RESUBMITTABLE and not unsettled:
            raise ValidationError(
                f"Claim {locked.claim_number} is {locked.get_status_display().lower()}: "
                "only a rejected claim is resubmitted."
            )
        if current is not None and current.status in SETTLED:
            claim_content_changed(locked)
        audit(
            organization=organization,
            actor=actor,
            action="claim.resubmission",
            instance=locked,
            old_values={"version": old_version},
            new_values={"version": locked.version, "idempotency_key": idempotency_key(locked)},
        )
    claim.version = locked.version
    return locked


def clean_payer_claim_control_number(value: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError(
            {
                "payer_claim_control_number": "Enter the payer's claim control number (from "
                "the ERA or the payer's portal): a replacement or void refers to it."
            }
        )
    if len(value) > 50:
        raise ValidationError(
            {
                "payer_claim_control_number": "A payer claim control number has at most "
                "50 characters."
            }
        )
    if any(ch in X12_DELIMITERS or not (" " <= ch <= "~") for ch in value):
        raise ValidationError(
            {
                "payer_claim_control_number": "Use letters, digits and plain punctuation only "
                "(not ~ * : ^)."
            }
        )
    return value


def claim_correction_prepare(
    *,
    organization: Organization,
    actor: User | None,
    claim: Claim,
    frequency_code: str,
    payer_claim_control_number: str,
) -> Claim:
    """Turn an accepted, paid, partially paid or denied claim into a replacement (7) or a
    void (8) of the payer's claim `payer_claim_control_number`, as a new version (the 837P
    then carries CLM05-3 and REF*F8). Audited ("claim.replace" or "claim.void") with the old
    and new frequency, control number and version."""
    if frequency_code not in CORRECTIONS:
        raise ValidationError({"frequency_code": "Choose a replacement (7) or a void (8)."})
    number = clean_payer_claim_control_number(payer_claim_control_number)
    with transaction.atomic():
        locked = _lock(organization, claim)
        if locked.status not in CORRECTABLE:
            raise ValidationError(
                f"Claim {locked.claim_number} is {locked.get_status_display().lower()}: only "
                "an accepted, paid, partially paid or denied claim can be replaced or voided."
            )
        current = _current_submission(organization, locked)
        if current is not None and current.status in OPEN:
            raise _open_outcome_error(locked, current)
        old = {
            "frequency_code": locked.frequency_code,
            "payer_claim_control_number": locked.payer_claim_control_number,
            "version": locked.version,
        }
        locked.frequency_code = frequency_code
        locked.payer_claim_control_number = number
        locked.save(update_fields=["frequency_code", "payer_claim_control_number"])
        claim_content_changed(locked)
        audit(
            organization=organization,
            actor=actor,
            action=CORRECTIONS[frequency_code],
            instance=locked,
            old_values=old,
            new_values={
                "frequency_code": frequency_code,
                "payer_claim_control_number": number,
                "version": locked.version,
                "idempotency_key": idempotency_key(locked),
            },
        )
    return locked
