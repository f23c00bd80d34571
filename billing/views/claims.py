from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from billing import permissions
from billing.forms.claims import ClaimFilterForm
from billing.http import OrgRequest, member_required
from billing.listing import paginate, render_list
from billing.models import ZERO, Claim
from billing.selectors import claims as selectors
from clearinghouse import followup, followup_selectors


def _get_claim(request: OrgRequest, pk: int) -> Claim:
    claim = selectors.claim_for_page(request.organization, pk)
    if claim is None:
        raise Http404("No such claim.")
    return claim


@require_safe
@member_required
def claim_list(request: OrgRequest) -> HttpResponse:
    form = ClaimFilterForm(request.GET, organization=request.organization)
    filters = form.filters()
    claims = selectors.claim_list_queryset(request.organization, **filters)
    context = {
        "form": form,
        "filtered": any(value for name, value in filters.items() if name != "date_basis"),
        "page": paginate(request, claims),
        "totals": selectors.claim_totals(claims),
    }
    return render_list(
        request, "billing/claim_list.html", context, partial="rows", target="claim-rows"
    )


@require_safe
@member_required
def claim_detail(request: OrgRequest, pk: int) -> HttpResponse:
    claim = _get_claim(request, pk)
    lines = selectors.claim_lines(claim)
    payments = list(selectors.claim_payments(claim))
    payments_total = sum((p.amount for p in payments), start=ZERO)
    context = {
        "claim": claim,
        "lines": lines,
        "lines_total": sum((line.charge.amount for line in lines), start=ZERO),
        "history": selectors.claim_status_history(claim),
        "payments": payments,
        "payments_total": payments_total,
        **_followup(request, claim),
    }
    return render(request, "billing/claim_detail.html", context)


def _followup(request: OrgRequest, claim: Claim) -> dict:
    """What the claim's page shows of its submissions and acknowledgements, and the
    follow-up it offers: Resubmit (rejected), Send again (an unsettled version), Replace and
    Void (accepted or adjudicated)."""
    organization = request.organization
    submissions = list(followup_selectors.claim_submissions(organization, claim))
    rejected = claim.status == Claim.Status.REJECTED
    return {
        "submissions": submissions,
        # Acknowledgements answer our submissions: none sent, none to look for.
        "acknowledgements": list(followup_selectors.claim_acknowledgements(organization, claim))
        if submissions
        else [],
        "rejection": followup_selectors.rejection_reasons(organization, [claim]).get(claim.pk)
        if rejected
        else None,
        "unsettled": followup_selectors.unsettled_submission(claim, submissions),
        "correctable": claim.status in followup.CORRECTABLE,
        "can_edit_claims": request.user.has_perm(permissions.CHARGES_EDIT),
        "can_edit_patients": request.user.has_perm(permissions.PATIENTS_EDIT),
    }
