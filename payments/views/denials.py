"""The denials worklist: claim lines ERAs denied or left partly unpaid, grouped by reason
code, with the actions that work them (write off, move to the patient; correct and resubmit
is the claim page's). Viewing needs `can_see_billing`; the actions `pm.charges.edit`."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe

from billing import permissions
from billing.forms.binding import add_service_errors
from billing.http import OrgRequest, code_required
from billing.listing import render_list
from payments import denial_selectors
from payments.denial_forms import DenialActionForm, DenialFilterForm
from payments.denials import denial_to_patient, denial_write_off
from payments.models import ClaimPayment

LIST = "payments/denial_list.html"
ROWS_TARGET = "denial-rows"


def _get_claim_payment(request: OrgRequest, pk: int) -> ClaimPayment:
    claim_payment = (
        ClaimPayment.objects.for_organization(request.organization)
        .select_related("claim")
        .filter(pk=pk, claim__isnull=False)
        .first()
    )
    if claim_payment is None:
        raise Http404("No such claim adjudication.")
    return claim_payment


def _page(request: OrgRequest, *, action_form=None, status: int = 200) -> HttpResponse:
    payers = denial_selectors.denial_payers(request.organization)
    form = DenialFilterForm(request.GET, payers=payers)
    filters = form.filters()
    worklist = denial_selectors.denial_worklist(
        request.organization, group_by=form.group_by, **filters
    )
    context = {
        "form": form,
        "worklist": worklist,
        "group_by": form.group_by,
        "filtered": any(v not in ("", None) for v in filters.values()),
        "action_form": action_form,
        "can_work": request.user.has_perm(permissions.CHARGES_EDIT),
        "here": _back(request) if request.method == "POST" else request.get_full_path(),
    }
    response = render_list(request, LIST, context, partial="rows", target=ROWS_TARGET)
    response.status_code = status
    return response


def _back(request: OrgRequest) -> str:
    """The worklist with the filters the action was taken from."""
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return back
    return reverse("denial_list")


@require_safe
@code_required(permissions.CAN_SEE_BILLING)
def denial_list(request: OrgRequest) -> HttpResponse:
    return _page(request)


def _act(request: OrgRequest, pk: int, service, done: str) -> HttpResponse:
    claim_payment = _get_claim_payment(request, pk)
    form = DenialActionForm(request.POST, claim_payment=claim_payment)
    if form.is_valid():
        try:
            resolution = service(
                organization=request.organization,
                actor=request.user,
                claim_payment=claim_payment,
                line=form.cleaned_data["line"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"Claim {claim_payment.claim.claim_number}: {resolution.amount} "
                f"({resolution.codes}) {done}.",
            )
            return redirect(_back(request))
    return _page(request, action_form=form, status=400)


@require_POST
@code_required(permissions.CHARGES_EDIT)
def denial_write_off_view(request: OrgRequest, pk: int) -> HttpResponse:
    return _act(request, pk, denial_write_off, "written off")


@require_POST
@code_required(permissions.CHARGES_EDIT)
def denial_to_patient_view(request: OrgRequest, pk: int) -> HttpResponse:
    return _act(request, pk, denial_to_patient, "moved to patient responsibility")
