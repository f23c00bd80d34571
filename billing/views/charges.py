"""Charge capture: the charge list, adding and editing draft charges, voiding."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from billing import permissions
from billing.forms.charges import CHARGE_ERROR_ALIASES, ChargeFilterForm, ChargeForm
from billing.forms.encounters import add_service_errors
from billing.http import OrgRequest, code_required, member_required
from billing.listing import paginate, render_list
from billing.models import Charge, Encounter
from billing.selectors import charges as selectors
from billing.selectors import encounters as encounter_selectors
from billing.services import charges as services


def _get_encounter(request: OrgRequest, pk: int) -> Encounter:
    return encounter_selectors.encounter_get_or_404(request.organization, pk)


def _get_charge(request: OrgRequest, pk: int) -> Charge:
    charge = selectors.charge_get(request.organization, pk)
    if charge is None:
        raise Http404("No such charge.")
    return charge


@require_safe
@member_required
def charge_list(request: OrgRequest) -> HttpResponse:
    form = ChargeFilterForm(request.GET, organization=request.organization)
    filters = form.filters()
    rows = selectors.charge_list_queryset(request.organization, **filters)
    context = {
        "form": form,
        "page": paginate(request, rows),
        "totals": selectors.charge_totals(rows),
        "filtered": any(filters.values()),
    }
    return render_list(
        request, "billing/charge_list.html", context, partial="rows", target="charge-rows"
    )


@require_http_methods(["GET", "HEAD", "POST"])
@code_required(permissions.CHARGES_EDIT)
def charge_add(request: OrgRequest, pk: int) -> HttpResponse:
    encounter = _get_encounter(request, pk)
    if request.method == "POST":
        form = ChargeForm(request.POST, encounter=encounter)
        if form.is_valid():
            try:
                charge = services.charge_create(
                    organization=request.organization,
                    actor=request.user,
                    encounter=encounter,
                    **form.service_values(),
                )
            except ValidationError as error:
                add_service_errors(form, error, CHARGE_ERROR_ALIASES)
            else:
                messages.success(request, f"Charge {charge.procedure_code} added as a draft.")
                return redirect("encounter_detail", pk=encounter.pk)
    else:
        form = ChargeForm(encounter=encounter)
    return render(
        request,
        "billing/charge_form.html",
        {"form": form, "encounter": encounter, "charge": None, "editable": True},
    )


@require_http_methods(["GET", "HEAD", "POST"])
@code_required(permissions.CHARGES_EDIT)
def charge_edit(request: OrgRequest, pk: int) -> HttpResponse:
    charge = _get_charge(request, pk)
    encounter = charge.encounter
    editable = charge.status == Charge.Status.DRAFT
    status = 200
    if request.method == "POST" and editable:
        form = ChargeForm(request.POST, encounter=encounter)
        if form.is_valid():
            try:
                services.charge_update(
                    organization=request.organization,
                    actor=request.user,
                    charge=charge,
                    **form.service_values(),
                )
            except ValidationError as error:
                add_service_errors(form, error, CHARGE_ERROR_ALIASES)
            else:
                messages.success(request, f"Charge {form.cleaned_data['procedure_code']} saved.")
                return redirect("encounter_detail", pk=encounter.pk)
    else:
        form = ChargeForm(initial=ChargeForm.initial_for(charge), encounter=encounter)
        if request.method == "POST":
            status = 409
    return render(
        request,
        "billing/charge_form.html",
        {"form": form, "encounter": encounter, "charge": charge, "editable": editable},
        status=status,
    )


@require_POST
@code_required(permissions.CHARGES_EDIT)
def charge_void(request: OrgRequest, pk: int) -> HttpResponse:
    charge = _get_charge(request, pk)
    try:
        services.charge_void(
            organization=request.organization,
            actor=request.user,
            charge=charge,
            reason=request.POST.get("reason", "")[:200],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Charge {charge.procedure_code} voided and its amount reversed.")
    return redirect("encounter_detail", pk=charge.encounter_id)
