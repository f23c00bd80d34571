from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from billing.forms.claims import ClaimFilterForm
from billing.http import OrgRequest, member_required
from billing.listing import paginate, render_list
from billing.models import ZERO, Claim
from billing.selectors import claims as selectors


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
    }
    return render(request, "billing/claim_detail.html", context)
