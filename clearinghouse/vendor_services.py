"""The Django side of the clearinghouse vendor adapters: an adapter for a configuration,
and the work done through it (enrollment submission and status, the connection test,
late acknowledgements).

Adapters speak HTTP and return plain results (`clearinghouse.vendors.base`); everything
written here goes through services and is audited. A vendor's failure is typed: a
`TransientFailure` changes nothing (try again later), a `PermanentFailure` is the vendor's
answer and is recorded.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import logging
import re
import time

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.audit import audit
from billing.models import AuditLog, Claim, Organization, User
from billing.services.claims import claim_set_status
from clearinghouse import services, vendors
from clearinghouse.adapter_state import DjangoAdapterState
from clearinghouse.models import (
    ClaimAcknowledgement,
    ClaimSubmission,
    ClearinghouseConfig,
    PayerEnrollment,
)
from clearinghouse.vendors.base import (
    ClaimStatusReport,
    EnrollmentRequest,
    HealthResult,
    PermanentFailure,
    Report,
    TransientFailure,
    VendorAdapter,
    VendorError,
    VendorSettings,
)
from clearinghouse.vendors.reports import report_kind
from edi.errors import X12Error
from edi.models import ImplementationAck, Status
from edi.x277 import read_277, read_277ca
from edi.x999 import read_999

logger = logging.getLogger(__name__)

# Until the failover settings supply each configuration's transaction timeout.
DEFAULT_TIMEOUT_MS = 15_000
S = PayerEnrollment.Status


class VendorUnavailable(Exception):
    """The clearinghouse could not be reached or did not answer in time: nothing changed.
    The message is for the user (no credentials, no PHI)."""


def adapter_for(config: ClearinghouseConfig, *, timeout_ms: int | None = None) -> VendorAdapter:
    """The vendor's adapter for `config`, with its decrypted secret and its own state.

    Raises ValidationError when the stored credentials cannot be decrypted.
    """
    vendor_settings = VendorSettings(
        vendor=config.vendor,
        base_url=config.base_url,
        account_id=config.account_id,
        submitter_id=config.submitter_id,
        secret=config.get_credentials().get("secret", ""),
        timeout_s=(timeout_ms or DEFAULT_TIMEOUT_MS) / 1000,
        options={},
    )
    adapter_class = vendors.adapter_class(config.vendor)
    return adapter_class(vendor_settings, DjangoAdapterState(config.organization, config))


# --- enrollments ---------------------------------------------------------------------------


def can_submit(enrollment: PayerEnrollment) -> bool:
    """Whether "Submit to clearinghouse" applies: a pending enrollment not sent yet, or a
    rejected one (sent again). Active, inactive and expired ones are not offered: set one
    back to pending first to enroll it again."""
    if enrollment.deleted_at is not None:
        return False
    if enrollment.enrollment_status == S.REJECTED:
        return True
    return enrollment.enrollment_status == S.PENDING and enrollment.submitted_at is None


def enrollment_request(enrollment: PayerEnrollment, actor: User | None) -> EnrollmentRequest:
    """What the clearinghouse needs to enroll the practice with the payer."""
    organization = enrollment.organization
    missing = [
        label
        for label, value in (
            ("billing NPI", organization.billing_npi),
            ("tax id", organization.tax_id),
        )
        if not value
    ]
    if missing:
        raise ValidationError(
            f"{organization} has no {' and no '.join(missing)}: the clearinghouse needs them to "
            "enroll the practice. Add them in the organization settings first."
        )
    contact_name = (actor.get_full_name() or actor.username) if actor is not None else ""
    return EnrollmentRequest(
        payer_name=enrollment.payer.name,
        payer_id=enrollment.payer.payer_id,
        electronic_payer_id=enrollment.electronic_payer_id,
        transaction_types=tuple(enrollment.transaction_types),
        provider_name=organization.name,
        provider_npi=organization.billing_npi,
        provider_tax_id=re.sub(r"\D", "", organization.tax_id),
        contact_name=contact_name,
        contact_phone=organization.phone,
        contact_email=actor.email if actor is not None else "",
    )


def enrollment_submit(
    *, organization: Organization, actor: User, enrollment: PayerEnrollment
) -> PayerEnrollment:
    """Send `enrollment` through its clearinghouse's adapter and record the answer.

    The clearinghouse usually answers pending with its reference (a beat task reads the
    outcome later, see `enrollment_poll`); a refusal (PermanentFailure) or a rejection in
    the answer makes the enrollment rejected with the vendor's reason. Both are audited
    "enrollment.submit". When the clearinghouse cannot be reached (TransientFailure)
    nothing changes and VendorUnavailable says so. ValidationError: it cannot be sent (not
    submittable, inactive clearinghouse, the practice lacks its NPI or tax id).

    The enrollment row stays locked during the call, so a second click waits and then
    finds it already submitted instead of sending it twice.
    """
    with transaction.atomic():
        enrollment = (
            PayerEnrollment.objects.live()
            .select_for_update()
            .select_related("organization", "payer", "clearinghouse")
            .get(pk=enrollment.pk, organization=organization)
        )
        config = enrollment.clearinghouse
        if not can_submit(enrollment):
            raise ValidationError(
                f"{enrollment.payer} via {config} is {enrollment.get_enrollment_status_display()}"
                + (" and waits for the clearinghouse's answer." if enrollment.submitted_at else ".")
                + " There is nothing to submit."
            )
        if not config.is_active:
            raise ValidationError(
                f"{config} is inactive. Activate it, or move the enrollment to an active "
                "clearinghouse, before submitting."
            )
        request = enrollment_request(enrollment, actor)
        adapter = adapter_for(config)
        try:
            result = adapter.submit_enrollment(request)
        except TransientFailure as error:
            logger.warning("Enrollment %s not submitted: %s", enrollment.pk, error)
            raise VendorUnavailable(
                f"{config} could not take the enrollment now ({error.message}). "
                "Nothing was changed: try again in a few minutes."
            ) from None
        except PermanentFailure as error:
            return services.enrollment_record_submission(
                organization=organization,
                actor=actor,
                enrollment=enrollment,
                status=S.REJECTED,
                reason=vendor_words(error.message),
            )
        status = result.status
        if status not in services.VENDOR_ANSWERS:
            # It was sent and has a reference: wait for a status the poll understands.
            logger.warning(
                "Enrollment %s: unknown status %r from %s; kept pending",
                enrollment.pk,
                status,
                config.vendor,
            )
            status = S.PENDING
        return services.enrollment_record_submission(
            organization=organization,
            actor=actor,
            enrollment=enrollment,
            status=status,
            vendor_reference=result.reference,
            reason=result.reason,
        )


def vendor_words(message: str) -> str:
    """A refusal's reason without our request line ("POST /path: HTTP 400: ")."""
    return re.sub(r"^[A-Z]+ \S*: HTTP \d{3}: ", "", message).strip() or message


def enrollment_poll(*, organization: Organization, enrollment: PayerEnrollment) -> PayerEnrollment:
    """Read the clearinghouse's status of a submitted, pending enrollment and record an
    answer (active, or rejected with the reason; audited "enrollment.status", no actor).
    Still pending, or a status we do not know: nothing changes. Vendor failures propagate
    (the beat task logs them and tries again on its next run)."""
    if enrollment.enrollment_status != S.PENDING or not enrollment.vendor_reference:
        return enrollment
    result = adapter_for(enrollment.clearinghouse).enrollment_status(enrollment.vendor_reference)
    if result.status == S.PENDING:
        return enrollment
    if result.status not in services.VENDOR_ANSWERS:
        logger.warning(
            "Enrollment %s: unknown status %r from %s; kept pending",
            enrollment.pk,
            result.status,
            enrollment.clearinghouse.vendor,
        )
        return enrollment
    changed = services.enrollment_record_vendor_status(
        organization=organization, enrollment=enrollment, status=result.status, reason=result.reason
    )
    return changed or enrollment


# --- connection test -----------------------------------------------------------------------


def clearinghouse_test_connection(
    *, organization: Organization, actor: User, config: ClearinghouseConfig
) -> HealthResult:
    """Run the vendor's health check now; audited "clearinghouse.test_connection" with the
    outcome and latency. A vendor failure is an unhealthy result, never an exception."""
    if config.organization_id != organization.pk:
        raise ValidationError("That clearinghouse configuration belongs to another organization.")
    started = time.monotonic()
    try:
        result = adapter_for(config).health_check()
    except VendorError as error:
        result = HealthResult(ok=False, latency_ms=_elapsed_ms(started), detail=error.message)
    except ValidationError as error:  # credentials that FIELD_ENCRYPTION_KEY cannot decrypt
        result = HealthResult(ok=False, latency_ms=0, detail=" ".join(error.messages))
    with transaction.atomic():
        audit(
            organization=organization,
            actor=actor,
            action="clearinghouse.test_connection",
            instance=config,
            new_values=dataclasses.asdict(result),
        )
    return result


@dataclasses.dataclass(frozen=True)
class ConnectionTest:
    ok: bool
    latency_ms: int
    detail: str
    at: datetime.datetime
    actor: User | None


def last_connection_test(
    organization: Organization, config: ClearinghouseConfig
) -> ConnectionTest | None:
    """The latest "Test connection" of `config`, from its audit row."""
    row = (
        AuditLog.objects.filter(
            organization=organization,
            action="clearinghouse.test_connection",
            table_name=ClearinghouseConfig._meta.db_table,
            record_id=str(config.pk),
        )
        .select_related("actor")
        .order_by("-id")
        .first()
    )
    if row is None or not isinstance(row.new_values, dict):
        return None
    values = row.new_values
    return ConnectionTest(
        ok=bool(values.get("ok")),
        latency_ms=int(values.get("latency_ms") or 0),
        detail=str(values.get("detail") or ""),
        at=row.created_at,
        actor=row.actor,
    )


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


# --- acknowledgements ------------------------------------------------------------------------

STATUS = "status"  # a vendor's verdict on a claim given as data (ClaimStatusReport)
ACK_KINDS = ("999", "277CA", "277", STATUS)
# STC01-1 categories that refuse a claim (277CA and 277): A3 returned as unprocessable,
# A4 not found, A6 rejected for missing information, A7 invalid, A8 relational field error.
REJECTED_CATEGORIES = {"A3", "A4", "A6", "A7", "A8"}
ACCEPTED_CATEGORIES = {"A1", "A2", "A5"}
CS = ClaimSubmission.Status
OPEN_SUBMISSION = (CS.RECORDED, CS.SENT, CS.UNKNOWN)


@dataclasses.dataclass
class FetchSummary:
    reports: int = 0  # files the clearinghouse handed over
    acknowledgements: int = 0  # ClaimAcknowledgement rows stored (0 for a file seen before)
    claims_updated: int = 0  # claim status changes
    skipped: int = 0  # reports of an unexpected kind and unreadable files (logged only)
    unmatched: int = 0  # claims in a file that are not ours


@dataclasses.dataclass(frozen=True)
class _Verdict:
    accepted: bool
    message: str
    # Whether the claim's status follows the verdict (a finalized or pending 277 does not:
    # payment and denial come with the ERA).
    decisive: bool = True


def acknowledgements_fetch(
    *, organization: Organization, config: ClearinghouseConfig
) -> FetchSummary:
    """Fetch the reports waiting at `config`'s clearinghouse and apply the acknowledgements.

    999s are matched to our submissions by their group control number (our ISA13/GS06);
    277CAs and 277s claim by claim through the patient control number (our claim number),
    and the 277CA's batch trace (our 837's BHT03, "<organization>-<control number>") names
    the submission. Each claim gets a `ClaimAcknowledgement` per report; its submission
    and the claim itself become accepted or rejected (the reason as the status note) when
    the submission is the claim's latest. A report seen before stores nothing new.

    A vendor's claim status given as data (`ClaimStatusReport`, Claim.MD) is applied like
    a 277CA about its claim. 835s do not come here (`fetch_reports` leaves them for
    `fetch_eras`); a report of any other kind, or one that cannot be read, is logged (kind
    and id, never the content) and skipped.
    """
    summary = FetchSummary()
    reports = adapter_for(config).fetch_reports()
    summary.reports = len(reports)
    # 999s first: a 277CA about the same claims comes after the file's acceptance.
    order = {"999": 0, "277CA": 1, STATUS: 2, "277": 3}
    for report in sorted(reports, key=lambda r: order.get(_kind(r), 4)):
        kind = _kind(report)
        if kind not in ACK_KINDS:
            logger.warning(
                "%s report %s of unexpected kind %s skipped",
                config.vendor,
                report.report_id,
                kind or "unknown",
            )
            summary.skipped += 1
            continue
        try:
            with transaction.atomic():
                _apply_report(organization, config, report, kind, summary)
        except Exception as error:  # one bad file must not cost the others
            logger.warning(
                "%s report %s (%s) could not be applied (%s); skipped",
                config.vendor,
                report.report_id,
                kind,
                type(error).__name__,
                exc_info=not isinstance(error, X12Error),
            )
            summary.skipped += 1
    return summary


def _kind(report: Report) -> str:
    """The report's kind from its content (`report_kind`), else as the adapter labelled
    it; a vendor's claim status given as data is "status"."""
    if isinstance(report, ClaimStatusReport):
        return STATUS
    return report_kind(report.text, (report.kind or "").strip().upper())


def _report_id(report: Report) -> str:
    """The vendor's id, or a digest of the content when it gives none (so a file seen
    twice is still recognised)."""
    if report.report_id:
        return report.report_id[:120]
    return "sha256:" + hashlib.sha256(report.text.encode()).hexdigest()[:56]


def _apply_report(
    organization: Organization,
    config: ClearinghouseConfig,
    report: Report,
    kind: str,
    summary: FetchSummary,
) -> None:
    if kind == "999":
        for ack in read_999(report.text).transactions:
            verdict = _verdict_999(ack)
            submissions = (
                ClaimSubmission.objects.for_organization(organization)
                .filter(clearinghouse=config, control_number=ack.group_control_number)
                .select_related("claim")
                .order_by("pk")
            )
            if not submissions:
                logger.warning(
                    "%s 999 %s: no submission with control number %s",
                    config.vendor,
                    report.report_id,
                    ack.group_control_number,
                )
                summary.unmatched += 1
            for submission in submissions:
                _record(
                    organization,
                    config,
                    report,
                    kind,
                    submission.claim,
                    submission,
                    verdict,
                    summary,
                )
    elif kind == STATUS:
        assert isinstance(report, ClaimStatusReport)
        _record_claim(
            organization,
            config,
            report,
            kind,
            report.claim_id,
            None,
            _verdict_status_report(report),
            summary,
        )
    elif kind == "277CA":
        for ca in read_277ca(report.text).transactions:
            control_number = _control_number(organization, ca.batch_trace)
            for provider in ca.providers:
                for claim_ack in provider.claims:
                    _record_claim(
                        organization,
                        config,
                        report,
                        kind,
                        claim_ack.patient_control_number,
                        control_number,
                        _verdict_statuses(claim_ack.statuses, decisive_only=False),
                        summary,
                    )
    else:
        for exchange in read_277(report.text).transactions:
            for provider in exchange.providers:
                for inquiry in provider.claims:
                    _record_claim(
                        organization,
                        config,
                        report,
                        kind,
                        inquiry.patient_control_number,
                        None,
                        _verdict_statuses(inquiry.statuses, decisive_only=True),
                        summary,
                    )


def _verdict_999(ack: ImplementationAck) -> _Verdict:
    """AK901 A (accepted) or E (accepted with errors) accepts the group; anything else
    (R, P, M, W, X) refuses it. Our files hold one transaction set per group, so the
    group's verdict is each claim's. The message names the errors, never the bad values
    (IK404 may be a member id)."""
    if ack.status in ("A", "E"):
        return _Verdict(True, "999: accepted" + (" with errors" if ack.status == "E" else ""))
    parts = []
    for t in ack.transactions:
        if t.status in ("A", "E"):
            continue
        part = f"transaction set {t.control_number} rejected"
        if t.error_codes:
            part += f" (IK5 {', '.join(t.error_codes)})"
        for note in t.segment_errors:
            part += f"; segment {note.segment_id} #{note.position} error {note.error_code}"
            for element in note.elements:
                part += (
                    f", element {note.segment_id}{element.position:02d} error {element.error_code}"
                )
        parts.append(part)
    if ack.error_codes:
        parts.append(f"group errors {', '.join(ack.error_codes)}")
    return _Verdict(False, "999: rejected: " + ("; ".join(parts) or f"AK9 {ack.status}"))


def _verdict_status_report(report: ClaimStatusReport) -> _Verdict:
    """Accepted or rejected as the vendor says, with its reasons. A status that is neither
    is stored as accepted and leaves the claim alone (like a 277's pending codes)."""
    code = report.vendor_status or report.status or "?"
    text = f"{code}: " + ("; ".join(report.messages) or report.status or "no message")
    if report.status == "rejected":
        return _Verdict(False, text)
    return _Verdict(True, text, decisive=report.status == "accepted")


def _status_text(status: Status) -> str:
    code = ":".join(p for p in (status.category, status.code, status.entity) if p)
    return f"{code} {status.message}".strip()


def _verdict_statuses(statuses: list[Status], *, decisive_only: bool) -> _Verdict:
    """A claim's STC segments: any rejecting category rejects it; acceptance categories
    (A1/A2/A5) accept it. Other categories (a 277's pending or finalized F/P/R/E codes) are
    stored as accepted but leave the claim's status alone."""
    text = "; ".join(_status_text(s) for s in statuses) or "no status"
    if any(s.category in REJECTED_CATEGORIES or s.action_code == "U" for s in statuses):
        return _Verdict(False, text)
    decisive = any(s.category in ACCEPTED_CATEGORIES for s in statuses) or not decisive_only
    return _Verdict(True, text, decisive=decisive)


def _control_number(organization: Organization, batch_trace: str) -> int | None:
    """Our 837's BHT03 is "<organization id>-<control number>" (clearinghouse.claim_files)."""
    match = re.fullmatch(rf"{organization.pk}-(\d{{1,9}})", batch_trace or "")
    return int(match.group(1)) if match else None


def _record_claim(
    organization: Organization,
    config: ClearinghouseConfig,
    report: Report,
    kind: str,
    claim_number: str,
    control_number: int | None,
    verdict: _Verdict,
    summary: FetchSummary,
) -> None:
    claim = (
        Claim.objects.for_organization(organization).filter(claim_number=claim_number).first()
        if claim_number
        else None
    )
    if claim is None:
        logger.warning("%s %s %s: a claim that is not ours", config.vendor, kind, report.report_id)
        summary.unmatched += 1
        return
    ours = ClaimSubmission.objects.for_organization(organization).filter(
        claim=claim, clearinghouse=config
    )
    submission = None
    if control_number is not None:
        submission = (
            ours.filter(control_number=control_number).order_by("-created_at", "-id").first()
        )
    if submission is None:
        submission = ours.order_by("-created_at", "-id").first()
    _record(organization, config, report, kind, claim, submission, verdict, summary)


def _record(
    organization: Organization,
    config: ClearinghouseConfig,
    report: Report,
    kind: str,
    claim: Claim,
    submission: ClaimSubmission | None,
    verdict: _Verdict,
    summary: FetchSummary,
) -> None:
    """Store one claim's acknowledgement, then move its submission and the claim."""
    report_id = _report_id(report)
    seen = ClaimAcknowledgement.objects.for_organization(organization).filter(
        clearinghouse=config, report_id=report_id, claim=claim, kind=kind
    )
    if seen.exists():
        return
    ack = ClaimAcknowledgement(
        organization=organization,
        claim=claim,
        submission=submission,
        clearinghouse=config,
        kind=kind,
        report_id=report_id,
        accepted=verdict.accepted,
        message=verdict.message[:500],
        x12=report.text,
        received_at=report.received_at or timezone.now(),
    )
    ack.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            ack.save()
    except IntegrityError:
        if seen.exists():  # another worker stored it a moment ago
            return
        raise
    summary.acknowledgements += 1
    submission_status = _settle_submission(submission, kind, verdict)
    claim_status = _move_claim(organization, claim, submission, kind, verdict)
    if claim_status:
        summary.claims_updated += 1
    audit(
        organization=organization,
        actor=None,
        action="claim.acknowledgement",
        instance=ack,
        new_values={
            "claim_id": claim.pk,
            "submission_id": submission.pk if submission else None,
            "kind": kind,
            "report_id": report_id,
            "accepted": verdict.accepted,
            "message": ack.message,
            **({"submission_status": submission_status} if submission_status else {}),
            **({"claim_status": claim_status} if claim_status else {}),
        },
    )


def _settle_submission(submission: ClaimSubmission | None, kind: str, verdict: _Verdict) -> str:
    """The submission's new status, or "" when it keeps its own. An accepting 999 only
    says the file arrived (sent); the 277CA accepts the claim itself."""
    if submission is None:
        return ""
    locked = ClaimSubmission.objects.select_for_update().get(pk=submission.pk)
    if not verdict.accepted:
        new = CS.REJECTED if locked.status != CS.REJECTED else ""
    elif not verdict.decisive:
        new = ""
    elif kind == "999":
        new = CS.SENT if locked.status in (CS.RECORDED, CS.UNKNOWN) else ""
    else:
        new = CS.ACCEPTED if locked.status in OPEN_SUBMISSION else ""
    if not new:
        return ""
    locked.status = new
    fields = ["status"]
    if new in (CS.ACCEPTED, CS.REJECTED):
        locked.settled_at = timezone.now()
        locked.message = verdict.message[:500]
        fields += ["settled_at", "message"]
    locked.save(update_fields=fields)
    submission.status = new
    return new


def _move_claim(
    organization: Organization,
    claim: Claim,
    submission: ClaimSubmission | None,
    kind: str,
    verdict: _Verdict,
) -> str:
    """Accept or reject the claim through `claim_set_status` (no actor), when this
    acknowledgement is about its latest submission. Acceptance moves a submitted claim; a
    rejection also an accepted one (a payer's 277CA may refuse what the clearinghouse
    took). Returns the new status, or ""."""
    if not verdict.decisive or (verdict.accepted and kind == "999"):
        return ""
    if submission is not None:
        newer = (
            ClaimSubmission.objects.for_organization(organization)
            .filter(claim=claim, created_at__gt=submission.created_at)
            .exists()
        )
        if newer or submission.claim_version != claim.version:
            return ""
    claim.refresh_from_db(fields=["status"])
    if verdict.accepted and claim.status == Claim.Status.SUBMITTED:
        to_status = Claim.Status.ACCEPTED
    elif not verdict.accepted and claim.status in (Claim.Status.SUBMITTED, Claim.Status.ACCEPTED):
        to_status = Claim.Status.REJECTED
    else:
        return ""
    claim_set_status(
        organization=organization,
        actor=None,
        claim=claim,
        to_status=to_status,
        note="" if verdict.accepted else f"{kind}: {verdict.message}",
    )
    return to_status
