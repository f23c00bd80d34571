"""Sending one claim to one clearinghouse, exactly once.

The submission is recorded, with its idempotency key and the interchange, in a committed
transaction before the HTTP call; the outcome is recorded in another one after it. So a
crash or a timeout leaves a row that says what may have happened, and a retry goes to the
same clearinghouse with the same key and the same file (the vendor de-duplicates on the
key). A claim version that has a submission is never sent to another clearinghouse.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from billing.audit import audit
from billing.models import Claim, Organization, User
from billing.services.claims import claim_set_status
from billing.tenancy import tenant_context
from clearinghouse.claim_files import build_837p
from clearinghouse.models import ClaimSubmission, ClearinghouseConfig
from clearinghouse.vendor_services import adapter_for
from clearinghouse.vendors.base import PermanentFailure, TransientFailure

Status = ClaimSubmission.Status
SETTLED = (Status.SENT, Status.ACCEPTED, Status.REJECTED)


def idempotency_key(claim: Claim) -> str:
    """One key per claim content: the claim id and its version (a corrected claim gets a
    new version, so a new key)."""
    return f"claim-{claim.organization_id}-{claim.pk}-v{claim.version}"


def claim_submit(
    *,
    organization: Organization,
    actor: User | None,
    claim: Claim,
    clearinghouse: ClearinghouseConfig,
    timeout_ms: int | None = None,
) -> ClaimSubmission:
    """Send `claim` (its current version) to `clearinghouse` unless that already happened.

    Returns the submission: sent (the vendor took it), rejected (the vendor refused it, with
    its words; the claim moves to rejected), unknown (timeout or dropped connection after
    sending: call again later, it goes to the same clearinghouse with the same key) or
    failed (nothing reached the vendor). Raises ValidationError when the claim cannot go
    there (no active 837P enrollment, data an 837P cannot carry) or when this version
    already went to another clearinghouse.

    Must run outside any transaction: the record has to be committed before the call.
    """
    if connection.in_atomic_block:
        raise RuntimeError("claim_submit must run outside a transaction: it commits before sending")
    with tenant_context(organization):
        submission = _record(organization, actor, claim, clearinghouse)
    if submission.status in SETTLED:
        return submission

    try:
        result = adapter_for(clearinghouse, timeout_ms=timeout_ms).submit_claims(
            submission.x12, idempotency_key=submission.idempotency_key
        )
    except PermanentFailure as error:
        outcome, message, reference = Status.REJECTED, error.message, ""
    except TransientFailure as error:
        outcome = Status.UNKNOWN if error.outcome_unknown else Status.FAILED
        message, reference = error.message, ""
    else:
        outcome, message, reference = Status.SENT, result.message, result.reference

    with tenant_context(organization):
        return _settle(organization, actor, submission, outcome, message, reference)


def _record(
    organization: Organization, actor: User | None, claim: Claim, clearinghouse: ClearinghouseConfig
) -> ClaimSubmission:
    key = idempotency_key(claim)
    existing = (
        ClaimSubmission.objects.select_for_update()
        .select_related("clearinghouse")
        .filter(organization=organization, idempotency_key=key)
        .first()
    )
    if existing is not None:
        if existing.clearinghouse_id != clearinghouse.pk:
            raise ValidationError(
                f"Claim {claim.claim_number} version {claim.version} was already sent to "
                f"{existing.clearinghouse} ({existing.get_status_display().lower()}); it is "
                "settled there, never sent to a second clearinghouse."
            )
        return existing
    claim = (
        Claim.objects.select_related(
            "encounter__patient", "encounter__provider", "payer", "coverage"
        )
        .prefetch_related("charges")
        .get(pk=claim.pk, organization=organization)
    )
    claim_file = build_837p(organization=organization, clearinghouse=clearinghouse, claims=[claim])
    if claim_file.skipped:
        raise ValidationError(f"Claim {claim.claim_number}: {claim_file.skipped[0][1]}.")
    submission = ClaimSubmission.objects.create(
        organization=organization,
        claim=claim,
        claim_version=claim.version,
        clearinghouse=clearinghouse,
        idempotency_key=key,
        control_number=claim_file.control_number,
        x12=claim_file.text,
    )
    audit(
        organization=organization,
        actor=actor,
        action="claim.submission_recorded",
        instance=submission,
        new_values={
            "claim_id": claim.pk,
            "claim_version": claim.version,
            "clearinghouse_id": clearinghouse.pk,
            "idempotency_key": key,
            "control_number": claim_file.control_number,
        },
    )
    return submission


def _settle(
    organization: Organization,
    actor: User | None,
    submission: ClaimSubmission,
    outcome: str,
    message: str,
    reference: str,
) -> ClaimSubmission:
    submission = ClaimSubmission.objects.select_for_update().get(pk=submission.pk)
    old = {"status": submission.status}
    submission.status = outcome
    submission.message = message[:500]
    submission.vendor_reference = reference or submission.vendor_reference
    now = timezone.now()
    if outcome in SETTLED:
        submission.sent_at = submission.sent_at or now
    if outcome == Status.REJECTED:
        submission.settled_at = now
    submission.save()
    audit(
        organization=organization,
        actor=actor,
        action="claim.submission",
        instance=submission,
        old_values=old,
        new_values={"status": outcome, "message": submission.message, "reference": reference},
    )
    claim = submission.claim
    target = {Status.SENT: Claim.Status.SUBMITTED, Status.REJECTED: Claim.Status.REJECTED}.get(
        outcome
    )
    if target and claim.status != target and claim.version == submission.claim_version:
        claim_set_status(
            organization=organization,
            actor=actor,
            claim=claim,
            to_status=target,
            note=f"{submission.clearinghouse}: {message}"[:200] if message else "",
        )
    return submission
