"""Check eligibility: one 270 now for a coverage or an appointment, then its result page.

The two POSTs need pm.eligibility.check and run outside the request's transaction (they
wait on a clearinghouse); the result page is for every member, like the patient page that
links to it.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe

from billing import permissions
from billing.http import OrgRequest, code_required, member_required, outside_request_transaction
from billing.models import Appointment, Coverage, EligibilityCheck
from billing.selectors import appointments as appointment_selectors
from billing.selectors import eligibility as selectors
from billing.selectors import patients as patient_selectors
from billing.tenancy import tenant_context
from clearinghouse import eligibility
from edi.errors import X12Error
from edi.x270 import read_270

# RouteResult.reason, for people.
ROUTE_REASONS = {
    "primary": "the primary clearinghouse",
    "payer_route": "the payer's route",
    "recovered_after_cooldown": "back on the primary after its recovery cool-down",
    "consecutive_health_failures": "the preferred clearinghouse failed its health checks",
    "transaction_timeouts": "the preferred clearinghouse timed out",
    "transaction_errors": "the preferred clearinghouse failed transactions",
    "vendor_inactive": "the preferred clearinghouse is inactive",
}


def _get_coverage(request: OrgRequest, pk: int) -> Coverage:
    coverage = patient_selectors.coverage_get(request.organization, pk)
    if coverage is None:
        raise Http404("No such coverage.")
    return coverage


def _get_appointment(request: OrgRequest, pk: int) -> Appointment:
    appointment = appointment_selectors.appointment_for_edit(request.organization, pk)
    if appointment is None:
        raise Http404("No such appointment.")
    return appointment


def _get_check(request: OrgRequest, pk: int) -> EligibilityCheck:
    check = selectors.eligibility_check_get(request.organization, pk)
    if check is None:
        raise Http404("No such eligibility check.")
    return check


def _asked_member_id(check: EligibilityCheck) -> str:
    """The member id the 270 carried (the coverage's may have been corrected since)."""
    try:
        requests = read_270(check.request_270).transactions if check.request_270 else []
    except X12Error:
        requests = []
    inquiries = [inquiry for request in requests for inquiry in request.inquiries]
    return inquiries[0].subscriber.identifier if inquiries else check.coverage.member_id


def _next(request: OrgRequest, default: str) -> str:
    candidate = request.POST.get("next", "")
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def _check(request: OrgRequest, back: str, **about) -> HttpResponse:
    """Run the check; its result page, or back with the reason nothing was sent."""
    try:
        check = eligibility.eligibility_check(
            organization=request.organization, actor=request.user, **about
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(back)
    return redirect("patient_eligibility", pk=check.pk)


@outside_request_transaction
@require_POST
@code_required(permissions.ELIGIBILITY_CHECK)
def coverage_eligibility(request: OrgRequest, pk: int) -> HttpResponse:
    with tenant_context(request.organization):
        coverage = _get_coverage(request, pk)
    back = _next(request, reverse("patient_detail", args=[coverage.patient_id]))
    return _check(request, back, coverage=coverage)


@outside_request_transaction
@require_POST
@code_required(permissions.ELIGIBILITY_CHECK)
def appointment_eligibility(request: OrgRequest, pk: int) -> HttpResponse:
    with tenant_context(request.organization):
        appointment = _get_appointment(request, pk)
    return _check(request, _next(request, reverse("appointment_list")), appointment=appointment)


@require_safe
@member_required
def eligibility_detail(request: OrgRequest, pk: int) -> HttpResponse:
    check = _get_check(request, pk)
    context = {
        "check": check,
        "route_reason": ROUTE_REASONS.get(check.route_reason, check.route_reason),
        "member_id": _asked_member_id(check),
        "can_check": request.user.has_perm(permissions.ELIGIBILITY_CHECK),
        "recheck_url": reverse("appointment_eligibility", args=[check.appointment_id])
        if check.appointment_id
        else reverse("coverage_eligibility", args=[check.coverage_id]),
    }
    return render(request, "clearinghouse/eligibility_check.html", context)
