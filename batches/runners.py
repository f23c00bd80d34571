"""One runner per job type (seed 002): what happens to one record, and what the item
says when it cannot happen."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from batches.engine import Outcome, Runner, register
from batches.models import BatchItem, JobType
from billing.models import Appointment, Claim, Organization, User
from billing.services.billing_run import charges_approve, claims_generate
from billing.tenancy import tenant_context
from clearinghouse.models import ClaimSubmission
from clearinghouse.router import RouteError


def _messages(error: ValidationError) -> str:
    return " ".join(error.messages)


# --- Charge Approval and Claim Generation: in the database, a chunk per transaction ---------


def approve_charges(organization: Organization, actor: User | None, items: list[BatchItem]):
    outcomes = charges_approve(
        organization=organization, actor=actor, charge_ids=[i.record_id for i in items]
    )
    return {i.pk: Outcome(outcomes[i.record_id].ok, outcomes[i.record_id].error) for i in items}


def generate_claims(organization: Organization, actor: User | None, items: list[BatchItem]):
    outcomes = claims_generate(
        organization=organization, actor=actor, charge_ids=[i.record_id for i in items]
    )
    result = {}
    for item in items:
        outcome = outcomes[item.record_id]
        extra = {"claim_id": outcome.claim_id} if outcome.claim_id else {}
        result[item.pk] = Outcome(outcome.ok, outcome.error, extra)
    return result


# --- Claim Submission and Eligibility Check: one clearinghouse call per record -------------

SUBMITTABLE = (Claim.Status.READY, Claim.Status.SUBMITTED)


def submit_claim(organization: Organization, actor: User | None, items: list[BatchItem]):
    from clearinghouse.submission import claim_submit

    (item,) = items
    with tenant_context(organization):
        claim = Claim.objects.for_organization(organization).filter(pk=item.record_id).first()
        sent_before = (
            claim is not None
            and ClaimSubmission.objects.filter(
                organization=organization, claim=claim, claim_version=claim.version
            ).exists()
        )
    if claim is None:
        return {item.pk: Outcome(False, "The claim no longer exists.")}
    if claim.status not in SUBMITTABLE and not sent_before:
        return {
            item.pk: Outcome(
                False, f"The claim is {claim.get_status_display()}; only Ready claims are sent."
            )
        }
    try:
        submission = claim_submit(organization=organization, actor=actor, claim=claim)
    except (RouteError, ValidationError) as error:
        message = str(error) if isinstance(error, RouteError) else _messages(error)
        return {item.pk: Outcome(False, f"Not sent: {message}")}
    vendor = submission.clearinghouse.display_name
    result = {"submission_id": submission.pk, "clearinghouse": vendor}
    S = ClaimSubmission.Status
    if submission.status in (S.SENT, S.ACCEPTED):
        return {item.pk: Outcome(True, result=result)}
    if submission.status == S.REJECTED:
        return {item.pk: Outcome(False, f"Rejected by {vendor}: {submission.message}", result)}
    if submission.status == S.UNKNOWN:
        return {
            item.pk: Outcome(
                False,
                f"Outcome unknown at {vendor} ({submission.message}). It will be settled with "
                f"{vendor} under the same idempotency key, never sent elsewhere: retry later.",
                result,
            )
        }
    return {item.pk: Outcome(False, f"Not sent to {vendor}: {submission.message}", result)}


def check_eligibility(organization: Organization, actor: User | None, items: list[BatchItem]):
    from clearinghouse.eligibility import eligibility_check

    (item,) = items
    with tenant_context(organization):
        appointment = (
            Appointment.objects.for_organization(organization)
            .select_related("patient", "provider")
            .filter(pk=item.record_id)
            .first()
        )
    if appointment is None:
        return {item.pk: Outcome(False, "The appointment no longer exists.")}
    try:
        # The coverage in force on the appointment's day is the service's choice.
        check = eligibility_check(organization=organization, actor=actor, appointment=appointment)
    except ValidationError as error:
        return {item.pk: Outcome(False, f"Not sent: {_messages(error)}")}
    result = {"eligibility_check_id": check.pk, "status": check.status}
    if check.status in ("active", "inactive"):
        return {item.pk: Outcome(True, result=result)}
    return {item.pk: Outcome(False, check.message or check.get_status_display(), result)}


register(JobType.CHARGE_APPROVAL, Runner(approve_charges, transactional=True, chunk_groups=200))
register(JobType.CLAIM_GENERATION, Runner(generate_claims, transactional=True, chunk_groups=200))
register(JobType.CLAIM_SUBMISSION, Runner(submit_claim, transactional=False, chunk_groups=20))
register(JobType.ELIGIBILITY_CHECK, Runner(check_eligibility, transactional=False, chunk_groups=20))
