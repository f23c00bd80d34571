"""Sending one claim to one clearinghouse, exactly once.

The submission is recorded, with its idempotency key and the interchange, in a committed
transaction before the HTTP call; the outcome is recorded in another one after it. So a
crash or a timeout leaves a row that says what may have happened, and a retry goes to the
same clearinghouse with the same key and the same file (the vendor de-duplicates on the
key). The clearinghouse is the audited router's choice, made once per claim version: a
version whose outcome is unknown or accepted is never sent to another clearinghouse.
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
from clearinghouse.models import ClaimSubmission, FailoverSettings, TransactionType
from clearinghouse.routed import CREDENTIAL_REFUSED, record_outcome
from clearinghouse.router import resolve_vendor_route_with_audit, settings_for
from clearinghouse.vendor_services import adapter_for
from clearinghouse.vendors.base import PermanentFailure, TransientFailure, VendorError

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
    timeout_ms: int | None = None,
) -> ClaimSubmission:
    """Send `claim` (its current version) through the audited router, unless that already
    happened.

    The first time, the router picks the clearinghouse and the file is built for it (the
    payer's electronic payer id there). After that the version stays where it went: a
    submission whose outcome is unknown (timeout or dropped connection after sending) is
    settled with the same clearinghouse, the same key and the same file, whatever the router
    now says; only one that never reached its clearinghouse (failed) is routed afresh.

    Returns the submission: sent (the vendor took it), rejected (the vendor refused it, with
    its words; the claim moves to rejected), unknown (call again later) or failed (nothing
    reached the vendor). Raises `RouteError` when no clearinghouse may carry it now (hard
    pin to a degraded vendor, no enrollment where failover would go) and ValidationError
    when the claim cannot make an 837P there. Every outcome feeds the vendor's health.

    Must run outside any transaction: the record has to be committed before the call.
    """
    if connection.in_atomic_block:
        raise RuntimeError("claim_submit must run outside a transaction: it commits before sending")
    settings = settings_for(organization)
    with tenant_context(organization):
        submission = _record(organization, actor, claim, settings)
    if submission.status in SETTLED:
        return submission

    clearinghouse = submission.clearinghouse
    timeout_ms = timeout_ms or settings.transaction_timeout_ms
    failure: VendorError | None = None
    try:
        result = adapter_for(clearinghouse, timeout_ms=timeout_ms).submit_claims(
            submission.x12, idempotency_key=submission.idempotency_key
        )
    except PermanentFailure as error:
        failure = error
        if error.status_code in CREDENTIAL_REFUSED:  # the vendor refused us, not the claim
            outcome, message, reference = Status.FAILED, error.message, ""
        else:
            outcome, message, reference = Status.REJECTED, error.message, ""
    except TransientFailure as error:
        failure = error
        outcome = Status.UNKNOWN if error.outcome_unknown else Status.FAILED
        message, reference = error.message, ""
    else:
        outcome, message, reference = Status.SENT, result.message, result.reference
    record_outcome(organization, clearinghouse, settings, failure)

    with tenant_context(organization):
        return _settle(organization, actor, submission, outcome, message, reference)


def _record(
    organization: Organization, actor: User | None, claim: Claim, settings: FailoverSettings
) -> ClaimSubmission:
    key = idempotency_key(claim)
    existing = (
        ClaimSubmission.objects.select_for_update()
        .select_related("clearinghouse")
        .filter(organization=organization, idempotency_key=key)
        .first()
    )
    if existing is not None and existing.status != Status.FAILED:
        return existing  # settled, or unknown: it stays with its clearinghouse
    claim = (
        Claim.objects.select_related(
            "encounter__patient", "encounter__provider", "payer", "coverage"
        )
        .prefetch_related("charges")
        .get(pk=claim.pk, organization=organization)
    )
    route = resolve_vendor_route_with_audit(
        organization=organization,
        payer=claim.payer,
        transaction=TransactionType.CLAIM_837P,
        settings=settings,
        actor=actor,
    )
    if existing is not None and existing.clearinghouse_id == route.vendor.pk:
        return existing  # it never got there: try the same file again
    clearinghouse = route.vendor
    claim_file = build_837p(organization=organization, clearinghouse=clearinghouse, claims=[claim])
    if claim_file.skipped:
        raise ValidationError(f"Claim {claim.claim_number}: {claim_file.skipped[0][1]}.")
    routing = {
        "clearinghouse_id": clearinghouse.pk,
        "failed_over": route.failed_over,
        "control_number": claim_file.control_number,
    }
    if existing is not None:
        # Nothing reached the first clearinghouse, so the version may go where the router
        # now sends it: same key, a file built for the new clearinghouse.
        old = {"clearinghouse_id": existing.clearinghouse_id, "status": existing.status}
        existing.clearinghouse = clearinghouse
        existing.control_number = claim_file.control_number
        existing.x12 = claim_file.text
        existing.save(update_fields=["clearinghouse", "control_number", "x12"])
        audit(
            organization=organization,
            actor=actor,
            action="claim.submission_rerouted",
            instance=existing,
            old_values=old,
            new_values=routing,
        )
        return existing
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
            "idempotency_key": key,
            **routing,
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
