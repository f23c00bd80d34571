"""Eligibility checks: one 270 through the audited router now, its 271 read into an
`EligibilityCheck` row.

The 270 is built after routing, for the chosen clearinghouse (the payer's electronic payer
id there, that clearinghouse's interchange ids and control numbers); `routed.routed_inquiry`
sends it, feeds the vendor's health and asks the other vendor once when the first fails.
The HTTP runs outside any database transaction (no lock is held while a vendor thinks);
the result and its audit row are written together afterwards, in `tenant_context`.

A routing error or an unreachable clearinghouse is stored as "not sent", a payer's AAA
rejection or a vendor's refusal as "error", each with words for people: callers get a row,
never an exception, for anything that happened at or after routing. What makes a question
impossible (an ended coverage, no NPI) raises ValidationError before anything is sent.
"""

from __future__ import annotations

import datetime
import re
import uuid
import zoneinfo
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from billing.audit import audit
from billing.models import Appointment, Coverage, EligibilityCheck, Organization, User
from billing.tenancy import tenant_context
from clearinghouse.claim_files import receiver_id, sender_id
from clearinghouse.control_numbers import next_control_number
from clearinghouse.models import TransactionType
from clearinghouse.routed import CREDENTIAL_REFUSED, routed_inquiry
from clearinghouse.router import RouteError, RouteResult
from clearinghouse.vendor_services import vendor_words
from clearinghouse.vendors.base import PermanentFailure, VendorAdapter, VendorError
from edi import models as x12
from edi.errors import X12Error
from edi.x270 import write_270
from edi.x271 import read_271

Status = EligibilityCheck.Status
AUDIT_ACTION = "eligibility.check"
HEALTH_BENEFIT_PLAN_COVERAGE = "30"  # EQ01: the general question

# EB01 coverage status codes.
ACTIVE_CODES = frozenset("12345")  # active (2-4 capitated, 5 pending investigation)
INACTIVE_CODES = frozenset("678")  # inactive (7 pending update, 8 pending investigation)
COPAY, DEDUCTIBLE, COINSURANCE = "B", "C", "A"
REMAINING = "29"  # EB06 time period: remaining

# AAA03 reject reasons of a 271 (005010X279A1), in words a billing clerk can act on.
REJECT_REASONS = {
    "04": "authorized quantity exceeded",
    "15": "required application data missing",
    "33": "input errors",
    "35": "out of network",
    "41": "authorization or access restrictions",
    "42": "the payer is unable to respond right now",
    "43": "invalid or missing provider identification (NPI)",
    "44": "invalid or missing provider name",
    "45": "invalid or missing provider specialty",
    "47": "invalid or missing provider state",
    "48": "invalid or missing referring provider identification",
    "49": "the provider is not the primary care physician",
    "50": "the provider is ineligible for inquiries",
    "51": "the provider is not on file with the payer",
    "52": "the service date is not within the provider's plan enrollment",
    "53": "the inquired benefit is inconsistent with the provider type",
    "56": "inappropriate date",
    "57": "invalid or missing date of service",
    "58": "invalid or missing date of birth",
    "60": "the date of birth follows the date of service",
    "61": "the date of death precedes the date of service",
    "62": "the date of service is not within the allowable inquiry period",
    "63": "the date of service is in the future",
    "64": "invalid or missing patient id",
    "65": "invalid or missing patient name",
    "66": "invalid or missing patient gender",
    "67": "patient not found",
    "68": "duplicate patient id number",
    "69": "inconsistent with the patient's age",
    "70": "inconsistent with the patient's gender",
    "71": "the birth date does not match the payer's record",
    "72": "invalid or missing member id",
    "73": "invalid or missing subscriber name",
    "74": "invalid or missing subscriber gender",
    "75": "subscriber not found",
    "76": "duplicate subscriber id number",
    "77": "subscriber found, patient not found",
    "78": "the subscriber is not in the group or plan identified",
    "79": "invalid participant identification",
    "80": "no response received: transaction terminated",
    "97": "invalid or missing provider address",
    "T4": "payer name or identifier missing",
}
# AAA04 follow-up action.
FOLLOW_UPS = {
    "C": "correct and resubmit",
    "N": "resubmission not allowed",
    "P": "resubmit the original inquiry",
    "R": "resubmission allowed",
    "S": "do not resubmit: the payer asked a third party",
    "W": "wait 30 days and resubmit",
    "X": "wait 10 days and resubmit",
    "Y": "do not resubmit: the payer will answer later",
}
WHERE = {"payer": "Payer", "provider": "Provider", "member": "Member"}


# --- reading a 271 ---------------------------------------------------------------------------


@dataclass
class Answer:
    """What a 271 says about our one inquiry."""

    status: str
    message: str = ""
    plan_description: str = ""
    copay: Decimal | None = None
    deductible: Decimal | None = None
    deductible_remaining: Decimal | None = None
    coinsurance_percent: Decimal | None = None
    eligibility_begin: datetime.date | None = None
    eligibility_end: datetime.date | None = None
    warnings: list[str] = field(default_factory=list)


def reject_reason_words(error: x12.RequestError) -> str:
    """ "Invalid or missing member id (AAA 72): correct and resubmit"."""
    words = REJECT_REASONS.get(error.reason, "rejected")
    text = f"{words[:1].upper()}{words[1:]} (AAA {error.reason or '?'})"
    follow_up = FOLLOW_UPS.get(error.follow_up)
    return f"{text}: {follow_up}" if follow_up else text


def read_answer(text: str, trace_number: str) -> Answer:
    """The 271's answer to the inquiry traced `trace_number` (or its only inquiry)."""
    try:
        parsed = read_271(text)
    except X12Error as error:
        return Answer(Status.ERROR, f"The clearinghouse's answer is not a readable 271: {error}")
    responses = parsed.transactions
    inquiries = [(r, i) for r in responses for i in r.inquiries]
    mine = [(r, i) for r, i in inquiries if i.trace_number == trace_number] or inquiries[:1]
    response = mine[0][0] if mine else (responses[0] if responses else None)
    inquiry = mine[0][1] if mine else None
    errors: list[tuple[str, x12.RequestError]] = []
    if response is not None:
        errors += [("payer", e) for e in response.payer_errors]
        errors += [("provider", e) for e in response.provider_errors]
    if inquiry is not None:
        errors += [("member", e) for e in inquiry.errors]
    if errors:
        message = "; ".join(f"{WHERE[where]}: {reject_reason_words(e)}" for where, e in errors)
        return Answer(Status.ERROR, message, warnings=parsed.warnings)
    if inquiry is None:
        return Answer(Status.ERROR, "The 271 answers no inquiry.", warnings=parsed.warnings)
    benefits = inquiry.benefits
    codes = {b.code for b in benefits}
    if codes & ACTIVE_CODES:
        status = Status.ACTIVE
    elif codes & INACTIVE_CODES:
        status = Status.INACTIVE
    else:
        return Answer(
            Status.ERROR,
            "The payer's answer says neither active nor inactive coverage.",
            warnings=parsed.warnings,
        )
    status_codes = ACTIVE_CODES | INACTIVE_CODES
    plans = [b.plan_description for b in benefits if b.code in status_codes]
    plans += [b.plan_description for b in benefits]
    copay = _pick(benefits, COPAY, lambda b: b.amount is not None)
    deductible = _pick(
        benefits, DEDUCTIBLE, lambda b: b.amount is not None and b.time_period != REMAINING
    )
    remaining = _pick(
        benefits, DEDUCTIBLE, lambda b: b.amount is not None and b.time_period == REMAINING
    )
    coinsurance = _pick(benefits, COINSURANCE, lambda b: b.percent is not None)
    return Answer(
        status=status,
        message=("The payer reports this coverage inactive." if status == Status.INACTIVE else ""),
        plan_description=next((p for p in plans if p), "")[:120],
        copay=copay.amount if copay else None,
        deductible=deductible.amount if deductible else None,
        deductible_remaining=remaining.amount if remaining else None,
        coinsurance_percent=_percent(coinsurance.percent) if coinsurance else None,
        eligibility_begin=inquiry.eligibility_begin,
        eligibility_end=inquiry.eligibility_end,
        warnings=parsed.warnings,
    )


def _percent(fraction: Decimal | None) -> Decimal | None:
    """EB08 is a fraction (0.2) and people read 20 %; a payer that sends 20 already meant
    percent. Anything else is not a coinsurance we can show."""
    if fraction is None or fraction < 0:
        return None
    percent = fraction * 100 if fraction <= 1 else fraction
    return percent.quantize(Decimal("0.01")) if percent <= 100 else None


def _pick(benefits: list[x12.Benefit], code: str, wanted) -> x12.Benefit | None:
    """The benefit of `code` that applies to this visit: in network before out of network,
    the individual before the family."""
    candidates = [b for b in benefits if b.code == code and wanted(b)]
    candidates.sort(key=lambda b: (b.in_network == "N", b.coverage_level not in ("", "IND")))
    return candidates[0] if candidates else None


# --- building a 270 --------------------------------------------------------------------------


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value or "")


def _org_zone(organization: Organization) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(organization.time_zone)


def coverage_in_force(
    organization: Organization, patient_id: int, day: datetime.date
) -> Coverage | None:
    """The patient's coverage to ask about for a visit on `day`: the lowest order (primary
    first) in force that day."""
    return (
        Coverage.objects.for_organization(organization)
        .filter(patient_id=patient_id, effective_from__lte=day)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=day))
        .select_related("patient", "payer")
        .order_by("order", "-effective_from", "-id")
        .first()
    )


def _provider_party(organization: Organization, appointment: Appointment | None) -> x12.Party:
    """2100B: the appointment's rendering provider, else the billing entity."""
    if appointment is not None and appointment.provider.npi:
        provider = appointment.provider
        return x12.Party(
            name=provider.last_name[:60],
            first_name=provider.first_name[:35],
            is_person=True,
            id_qualifier="XX",
            identifier=provider.npi,
        )
    if not organization.billing_npi:
        raise ValidationError(
            f"{organization} has no billing NPI, which a 270 needs to name the provider: add "
            "it in Organization Settings. Nothing was sent."
        )
    return x12.Party(
        name=organization.name[:60], id_qualifier="XX", identifier=organization.billing_npi
    )


def _inquiry(
    organization: Organization, coverage: Coverage, trace_number: str, service_date: datetime.date
) -> x12.EligibilityInquiry:
    patient = coverage.patient
    is_self = coverage.relationship == Coverage.Relationship.SELF
    if is_self:
        subscriber = x12.Member(
            last_name=patient.last_name,
            first_name=patient.first_name,
            id_qualifier="MI",
            identifier=coverage.member_id,
            birth_date=patient.birth_date,
            gender=patient.sex,
        )
        dependent = None
    else:
        if not coverage.subscriber_last_name:
            raise ValidationError(
                f"Coverage {coverage} is for a {coverage.get_relationship_display().lower()} "
                "but names no subscriber: add the subscriber's name from the insurance card. "
                "Nothing was sent."
            )
        subscriber = x12.Member(
            last_name=coverage.subscriber_last_name,
            first_name=coverage.subscriber_first_name,
            id_qualifier="MI",
            identifier=coverage.member_id,
            birth_date=coverage.subscriber_birth_date,
        )
        dependent = x12.Member(
            last_name=patient.last_name,
            first_name=patient.first_name,
            birth_date=patient.birth_date,
            gender=patient.sex,
        )
    # TRN03 is ten characters: "1" and the EIN, else "9" and an id of our choice.
    tax_id = _digits(organization.tax_id)
    own_id = (organization.billing_npi or str(organization.pk)).rjust(9, "0")[-9:]
    originator = f"1{tax_id}" if len(tax_id) == 9 else f"9{own_id}"
    return x12.EligibilityInquiry(
        subscriber=subscriber,
        dependent=dependent,
        trace_number=trace_number,
        trace_originator=originator,
        service_date=service_date,
        service_types=(HEALTH_BENEFIT_PLAN_COVERAGE,),
    )


@dataclass
class _Question:
    """Everything of the 270 but what the routed clearinghouse decides."""

    organization: Organization
    coverage: Coverage
    provider: x12.Party
    inquiry: x12.EligibilityInquiry

    def request(self, electronic_payer_id: str, created: datetime.datetime) -> x12.Eligibility:
        return x12.Eligibility(
            reference=self.inquiry.trace_number,
            created=created,
            payer=x12.Party(
                name=self.coverage.payer.name[:60],
                id_qualifier="PI",
                identifier=electronic_payer_id,
            ),
            provider=self.provider,
            inquiries=[self.inquiry],
        )

    def write(self, *, sender: str, receiver: str, control_number: int, payer_id: str) -> str:
        created = timezone.now().replace(microsecond=0, tzinfo=None)
        envelope = x12.Envelope(
            sender_id=sender,
            receiver_id=receiver,
            control_number=control_number,
            group_control_number=control_number,
            created=created,
        )
        return write_270(envelope, [self.request(payer_id, created)])


# --- the service -----------------------------------------------------------------------------


@dataclass
class _Sent:
    """What happened on the wire, as the closures given to `routed_inquiry` saw it."""

    routes: list[RouteResult] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)


def eligibility_check(
    *,
    organization: Organization,
    actor: User | None,
    coverage: Coverage | None = None,
    appointment: Appointment | None = None,
    service_date: datetime.date | None = None,
) -> EligibilityCheck:
    """Ask the payer now whether `coverage` (or, without one, the coverage in force for
    `appointment`) is active on `service_date` (default: the appointment's day, else today
    in the organization's time zone), and store the answer.

    Returns the stored check, whatever the vendors did: active or inactive with the
    benefits, "error" with the payer's rejection or the vendor's refusal in words, or "not
    sent" with the routing error or why the clearinghouse could not be reached. Raises
    ValidationError, sending nothing, when the question cannot be asked (the coverage is
    not in force that day, the appointment is another patient's, no NPI ...).

    Must run outside any transaction (a view marked `outside_request_transaction`, a Celery
    task before it enters `tenant_context`): the vendor is called with no database lock
    held, and the route decisions commit on their own.
    """
    if connection.in_atomic_block:
        raise RuntimeError(
            "eligibility_check must run outside a transaction: it calls the clearinghouse "
            "and then commits the result on its own"
        )
    with tenant_context(organization):
        coverage, appointment = _load(organization, coverage, appointment)
        zone = _org_zone(organization)
        if service_date is None:
            service_date = (
                timezone.localtime(appointment.scheduled_at, zone).date()
                if appointment is not None
                else timezone.localdate(timezone=zone)
            )
        if coverage is None:
            assert appointment is not None
            coverage = coverage_in_force(organization, appointment.patient_id, service_date)
            if coverage is None:
                raise ValidationError(
                    f"{appointment.patient} has no coverage in force on "
                    f"{service_date:%m/%d/%Y}: nothing was sent (self-pay, or add the "
                    "coverage from the insurance card)."
                )
        _check_in_force(coverage, service_date)
        question = _Question(
            organization,
            coverage,
            _provider_party(organization, appointment),
            _inquiry(organization, coverage, f"E{uuid.uuid4().hex[:15].upper()}", service_date),
        )
        try:  # a throwaway file: data the writer refuses stops here, before routing
            question.write(sender="CHECK", receiver="CHECK", control_number=1, payer_id="CHECK")
        except X12Error as error:
            raise ValidationError(f"Cannot ask about coverage {coverage}: {error}") from None

    sent = _Sent()

    def build(route: RouteResult) -> str:
        with tenant_context(organization):
            number = next_control_number(organization=organization, clearinghouse=route.vendor)
        text = question.write(
            sender=sender_id(organization, route.vendor),
            receiver=receiver_id(route.vendor),
            control_number=number,
            payer_id=route.electronic_payer_id,
        )
        sent.routes.append(route)
        sent.requests.append(text)
        return text

    def send(adapter: VendorAdapter, text: str) -> str:
        try:
            return adapter.eligibility(text)
        except VendorError as error:
            sent.failures.append(
                {"vendor": sent.routes[-1].vendor.display_name, "error": error.message}
            )
            raise

    fields: dict = {"attempts": sent.failures}
    try:
        routed = routed_inquiry(
            organization=organization,
            actor=actor,
            payer=coverage.payer,
            transaction=TransactionType.ELIGIBILITY_270,
            build=build,
            send=send,
        )
    except RouteError as error:
        fields |= {"status": Status.NOT_SENT, "message": _after_failures(sent, str(error))}
    except VendorError as error:
        refused = (
            isinstance(error, PermanentFailure) and error.status_code not in CREDENTIAL_REFUSED
        )
        vendor = sent.routes[-1].vendor.display_name if sent.routes else error.vendor
        if refused:
            message = f"{vendor} refused the 270: {vendor_words(error.message)}"
        else:
            message = f"{vendor} could not be reached: {error.message}. Try again later."
        fields |= {
            "status": Status.ERROR if refused else Status.NOT_SENT,
            "message": _after_failures(sent, message, last_is_this=True),
            "attempts": sent.failures[:-1],  # the last one is this outcome
        }
    except ValidationError as error:  # credentials FIELD_ENCRYPTION_KEY cannot decrypt
        vendor = sent.routes[-1].vendor.display_name if sent.routes else "The clearinghouse"
        fields |= {"status": Status.NOT_SENT, "message": f"{vendor}: {' '.join(error.messages)}"}
    else:
        answer = read_answer(routed.reply, question.inquiry.trace_number)
        fields |= {
            "status": answer.status,
            "message": answer.message,
            "plan_description": answer.plan_description,
            "copay": answer.copay,
            "deductible": answer.deductible,
            "deductible_remaining": answer.deductible_remaining,
            "coinsurance_percent": answer.coinsurance_percent,
            "eligibility_begin": answer.eligibility_begin,
            "eligibility_end": answer.eligibility_end,
            "response_271": routed.reply,
        }
    route = sent.routes[-1] if sent.routes else None
    # A vendor that never answered did not "answer": name it only when it did, or refused.
    answered = route is not None and fields["status"] != Status.NOT_SENT
    with tenant_context(organization):
        check = EligibilityCheck(
            organization=organization,
            patient=coverage.patient,
            coverage=coverage,
            appointment=appointment,
            payer=coverage.payer,
            service_date=service_date,
            clearinghouse_config_id=route.vendor.pk if answered else None,
            vendor_display=route.vendor.display_name if answered else "",
            failed_over=route.failed_over if answered else False,
            route_reason=route.reason if answered else "",
            trace_number=question.inquiry.trace_number,
            request_270=sent.requests[-1] if sent.requests else "",
            created_by=actor if actor is not None and actor.is_authenticated else None,
            **fields,
        )
        check.full_clean()
        check.save()
        audit(
            organization=organization,
            actor=actor,
            action=AUDIT_ACTION,
            instance=check,
            new_values={
                "status": check.status,
                "coverage_id": coverage.pk,
                "appointment_id": appointment.pk if appointment is not None else None,
                "payer_id": coverage.payer_id,
                "service_date": service_date,
                "clearinghouse_id": check.clearinghouse_config_id,
                "vendor": check.vendor_display,
                "failed_over": check.failed_over,
                "trace_number": check.trace_number,
                "message": check.message[:300],
            },
        )
    return check


def _load(
    organization: Organization, coverage: Coverage | None, appointment: Appointment | None
) -> tuple[Coverage | None, Appointment | None]:
    """Fresh copies, from this organization only."""
    if coverage is None and appointment is None:
        raise ValueError("eligibility_check needs a coverage or an appointment")
    if appointment is not None:
        appointment = (
            Appointment.objects.for_organization(organization)
            .select_related("patient", "provider")
            .filter(pk=appointment.pk)
            .first()
        )
        if appointment is None:
            raise ValidationError("That appointment belongs to another organization.")
    if coverage is not None:
        coverage = (
            Coverage.objects.for_organization(organization)
            .select_related("patient", "payer")
            .filter(pk=coverage.pk)
            .first()
        )
        if coverage is None:
            raise ValidationError("That coverage belongs to another organization.")
        if appointment is not None and appointment.patient_id != coverage.patient_id:
            raise ValidationError(
                f"The appointment is {appointment.patient}'s, the coverage {coverage.patient}'s."
            )
    return coverage, appointment


def _check_in_force(coverage: Coverage, day: datetime.date) -> None:
    if coverage.is_active_on(day):
        return
    if coverage.effective_to is not None and coverage.effective_to < day:
        when = f"ended on {coverage.effective_to:%m/%d/%Y}"
    else:
        when = f"starts on {coverage.effective_from:%m/%d/%Y}"
    raise ValidationError(
        f"Coverage {coverage} {when}, so it is not in force on {day:%m/%d/%Y}: nothing was "
        "sent. Check the patient's current coverage."
    )


def _after_failures(sent: _Sent, message: str, *, last_is_this: bool = False) -> str:
    """The final message, after what failed on the way (the inquiry may have been tried at
    one vendor and then refused a route to the other)."""
    earlier = sent.failures[:-1] if last_is_this else sent.failures
    if not earlier:
        return message
    tried = "; ".join(f"{f['vendor']}: {f['error']}" for f in earlier)
    return f"{message} (tried first: {tried})"
