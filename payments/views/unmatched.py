"""Unmatched ERA claims: the adjudications ingestion could not match to a claim of ours,
and a page to match one by hand (search by claim number or patient), which posts it as
ingestion would. Both need `can_see_billing` and `sees_all_billing`."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from billing.forms.binding import add_service_errors
from billing.http import OrgRequest
from billing.listing import paginate, render_list
from billing.models import Claim
from payments import era_matching
from payments.models import ClaimPayment
from payments.views.eras import eras_access

LIST = "payments/era_unmatched.html"
MATCH = "payments/era_unmatched_match.html"


def _get_unmatched(request: OrgRequest, pk: int) -> ClaimPayment:
    row = era_matching.unmatched_claim_payment_get(request.organization, pk)
    if row is None:
        raise Http404("No such unmatched ERA claim.")
    return row


class MatchForm(forms.Form):
    claim = forms.ModelChoiceField(
        queryset=Claim.objects.none(),
        error_messages={"required": "Choose the claim this payment is for."},
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["claim"].queryset = Claim.objects.for_organization(organization)  # type: ignore[attr-defined]
        self.fields["claim"].error_messages["invalid_choice"] = "Choose one of your claims."


@require_safe
@eras_access
def era_unmatched(request: OrgRequest) -> HttpResponse:
    rows = era_matching.unmatched_claim_payments(request.organization)
    context = {"page": paginate(request, rows)}
    return render_list(request, LIST, context, partial="rows", target="unmatched-rows")


@require_http_methods(["GET", "HEAD", "POST"])
@eras_access
def era_unmatched_match(request: OrgRequest, pk: int) -> HttpResponse:
    row = _get_unmatched(request, pk)
    q = (request.GET.get("q") or request.POST.get("q") or row.patient_control_number).strip()[:80]
    form = MatchForm(
        request.POST if request.method == "POST" else None, organization=request.organization
    )
    if request.method == "POST" and form.is_valid():
        claim = form.cleaned_data["claim"]
        try:
            posted = era_matching.claim_payment_match(
                organization=request.organization,
                actor=request.user,
                claim_payment=row,
                claim=claim,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"ERA claim {row.patient_control_number} matched to claim "
                f"{claim.claim_number} and posted. {posted.note}",
            )
            for warning in posted.warnings:
                messages.warning(request, warning)
            return redirect("era_unmatched")
    context = {
        "row": row,
        "form": form,
        "q": q,
        "candidates": list(era_matching.claim_candidates(request.organization, q)),
    }
    return render(request, MATCH, context)
