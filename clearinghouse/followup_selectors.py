"""Reads for claim follow-up: the rejections worklist with each claim's reason in words,
what a claim's page shows of its submissions, and the ERA enrollments that went quiet or
end soon."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import BooleanField, ExpressionWrapper, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from billing.models import Claim, ClaimStatusChange, Organization, Payer
from clearinghouse.models import (
    ClaimAcknowledgement,
    ClaimSubmission,
    PayerEnrollment,
)
from clearinghouse.vendor_services import vendor_words

CS = ClaimSubmission.Status
ENDING_WITHIN_DAYS = 30


@dataclass(frozen=True)
class Reason:
    source: str  # "999", "277CA", "277", "status" or "Clearinghouse" (a refusal of the file)
    message: str
    at: datetime.datetime | None


def rejected_claims(organization: Organization, *, payer: Payer | None = None) -> QuerySet[Claim]:
    """Rejected claims, longest waiting first, each with `rejected_at` (when it last became
    rejected)."""
    became_rejected = (
        ClaimStatusChange.objects.filter(
            organization=organization, claim=OuterRef("pk"), to_status=Claim.Status.REJECTED
        )
        .order_by("-changed_at", "-id")
        .values("changed_at")[:1]
    )
    claims = (
        Claim.objects.for_organization(organization)
        .filter(status=Claim.Status.REJECTED)
        .select_related("encounter__patient", "encounter__provider", "payer", "coverage")
        .annotate(rejected_at=Coalesce(Subquery(became_rejected), F("submitted_at")))
    )
    if payer is not None:
        claims = claims.filter(payer=payer)
    return claims.order_by(F("rejected_at").asc(nulls_first=True), "id")


def rejection_reasons(organization: Organization, claims: list[Claim]) -> dict[int, Reason]:
    """Why each claim was last rejected: the latest rejecting acknowledgement (999, 277CA)
    or the clearinghouse's refusal of the submission, whichever came last. Two queries."""
    ids = [claim.pk for claim in claims]
    reasons: dict[int, Reason] = {}
    acks = (
        ClaimAcknowledgement.objects.for_organization(organization)
        .filter(claim_id__in=ids, accepted=False)
        .order_by("received_at", "id")
        .values_list("claim_id", "kind", "message", "received_at", "submission_id")
    )
    acked_submissions = set()
    for claim_id, kind, message, at, submission_id in acks:
        reasons[claim_id] = Reason(kind, message, at)
        acked_submissions.add(submission_id)
    refusals = (
        ClaimSubmission.objects.for_organization(organization)
        .filter(claim_id__in=ids, status=CS.REJECTED)
        .exclude(pk__in=acked_submissions - {None})
        .order_by("created_at", "id")
        .values_list("claim_id", "message", "settled_at", "clearinghouse__display_name")
    )
    for claim_id, message, at, clearinghouse in refusals:
        known = reasons.get(claim_id)
        if known is None or (at and known.at and at >= known.at):
            reasons[claim_id] = Reason(
                "Clearinghouse", f"{clearinghouse} refused it: {vendor_words(message)}", at
            )
    return reasons


def claim_submissions(organization: Organization, claim: Claim) -> QuerySet[ClaimSubmission]:
    return (
        ClaimSubmission.objects.for_organization(organization)
        .filter(claim=claim)
        .select_related("clearinghouse")
        .order_by("-created_at", "-id")
    )


def claim_acknowledgements(
    organization: Organization, claim: Claim
) -> QuerySet[ClaimAcknowledgement]:
    return (
        ClaimAcknowledgement.objects.for_organization(organization)
        .filter(claim=claim)
        .select_related("clearinghouse", "submission")
        .order_by("-received_at", "-id")
    )


def unsettled_submission(
    claim: Claim, submissions: list[ClaimSubmission]
) -> ClaimSubmission | None:
    """Of the claim's submissions (`claim_submissions`), the current version's when it has
    not settled (recorded, unknown or failed): "Send again" settles it with the same key."""
    return next(
        (
            s
            for s in submissions
            if s.claim_version == claim.version
            and s.status not in (CS.SENT, CS.ACCEPTED, CS.REJECTED)
        ),
        None,
    )


def payer_claim_control_number(organization: Organization, claim: Claim) -> str:
    """The payer's number for the claim: CLP07 of its latest ERA adjudication, else what
    the claim holds."""
    from_era = (
        claim.era_payments.filter(organization=organization)
        .exclude(payer_claim_control_number="")
        .order_by("-era__created_at", "-id")
        .values_list("payer_claim_control_number", flat=True)
        .first()
    )
    return from_era or claim.payer_claim_control_number


# --- silent payers ----------------------------------------------------------------------------


ALERTS_SHOWN = 25  # per kind; the rest are counted


@dataclass
class EraAlerts:
    days: int  # an ERA enrollment without an ERA for longer than this is silent
    silent: list[PayerEnrollment] = field(default_factory=list)
    ending: list[PayerEnrollment] = field(default_factory=list)
    more_silent: int = 0  # beyond those listed
    more_ending: int = 0

    def __bool__(self) -> bool:
        return bool(self.silent or self.ending)


def silent_after_days() -> int:
    return max(1, int(getattr(settings, "ERA_SILENT_AFTER_DAYS", 30)))


def era_enrollment_alerts(
    organization: Organization, now: datetime.datetime | None = None
) -> EraAlerts:
    """Active 835 enrollments whose last ERA is older than `ERA_SILENT_AFTER_DAYS` (or that
    never had one though active that long: counted from the effective date, else the
    enrollment date, else when it was added), quietest first; and active enrollments (any
    transaction type) whose end date falls within the next 30 days, soonest first. One
    query."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    days = silent_after_days()
    cutoff = now - datetime.timedelta(days=days)
    cutoff_day = timezone.localdate(cutoff)
    silent = (
        Q(covers_835=True)
        & (Q(effective_to__isnull=True) | Q(effective_to__gte=today))
        & (
            Q(last_era_received_at__lt=cutoff)
            | Q(last_era_received_at__isnull=True)
            & (
                Q(effective_from__lte=cutoff_day)
                | Q(effective_from__isnull=True, enrolled_on__lte=cutoff_day)
                | Q(effective_from__isnull=True, enrolled_on__isnull=True, created_at__lt=cutoff)
            )
        )
    )
    ending = Q(
        effective_to__gte=today,
        effective_to__lte=today + datetime.timedelta(days=ENDING_WITHIN_DAYS),
    )
    rows = (
        PayerEnrollment.objects.for_organization(organization)
        .live()
        .filter(enrollment_status=PayerEnrollment.Status.ACTIVE)
        .filter(silent | ending)
        .select_related("payer", "clearinghouse")
        .annotate(
            is_silent=ExpressionWrapper(silent, output_field=BooleanField()),
            is_ending=ExpressionWrapper(ending, output_field=BooleanField()),
        )
        .order_by(F("last_era_received_at").asc(nulls_first=True), "effective_to", "id")
    )
    alerts = EraAlerts(days=days)
    for enrollment in rows:
        if enrollment.is_silent:
            if len(alerts.silent) < ALERTS_SHOWN:
                last = enrollment.last_era_received_at
                enrollment.silent_days = (now - last).days if last else None
                alerts.silent.append(enrollment)
            else:
                alerts.more_silent += 1
        if enrollment.is_ending:
            if len(alerts.ending) < ALERTS_SHOWN:
                enrollment.ends_in_days = (enrollment.effective_to - today).days
                alerts.ending.append(enrollment)
            else:
                alerts.more_ending += 1
    alerts.ending.sort(key=lambda e: (e.effective_to, e.payer.name, e.pk))
    return alerts
