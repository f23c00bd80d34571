"""Encounter pages: create and edit, the encounter's charges, claims and ledger, and
patient payments posted to it."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from billing import permissions
from billing.forms.encounters import EncounterForm, PatientPaymentForm, add_service_errors
from billing.http import OrgRequest, code_required, member_required
from billing.models import Encounter, Patient
from billing.selectors import encounters as selectors
from billing.services import encounters as services


def _get_patient(request: OrgRequest, pk: int) -> Patient:
    patient = selectors.patient_get(request.organization, pk)
    if patient is None:
        raise Http404("No such patient.")
    return patient


def _get_encounter(request: OrgRequest, pk: int) -> Encounter:
    return selectors.encounter_get_or_404(request.organization, pk)


@require_http_methods(["GET", "HEAD", "POST"])
@code_required(permissions.PATIENTS_EDIT)
def encounter_add(request: OrgRequest, pk: int) -> HttpResponse:
    patient = _get_patient(request, pk)
    org = request.organization
    if request.method == "POST":
        form = EncounterForm(request.POST, organization=org, patient=patient)
        if form.is_valid():
            try:
                encounter = services.encounter_create(
                    organization=request.organization,
                    actor=request.user,
                    patient=patient,
                    **form.cleaned_data,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request, f"Encounter of {encounter.date_of_service:%m/%d/%Y} added."
                )
                return redirect("encounter_detail", pk=encounter.pk)
    else:
        form = EncounterForm(
            initial={"date_of_service": timezone.localdate()}, organization=org, patient=patient
        )
    return render(
        request,
        "billing/encounter_form.html",
        {"form": form, "patient": patient, "encounter": None},
    )


@require_http_methods(["GET", "HEAD", "POST"])
@code_required(permissions.PATIENTS_EDIT)
def encounter_edit(request: OrgRequest, pk: int) -> HttpResponse:
    encounter = _get_encounter(request, pk)
    org, patient = request.organization, encounter.patient
    if request.method == "POST":
        form = EncounterForm(request.POST, organization=org, patient=patient)
        if form.is_valid():
            try:
                services.encounter_update(
                    organization=request.organization,
                    actor=request.user,
                    encounter=encounter,
                    **form.cleaned_data,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Encounter saved.")
                return redirect("encounter_detail", pk=encounter.pk)
    else:
        form = EncounterForm(
            initial={
                "provider": encounter.provider_id,
                "date_of_service": encounter.date_of_service,
                "place_of_service": encounter.place_of_service,
                "guarantor_employer": encounter.guarantor_employer_id,
                "diagnosis_codes": "\n".join(encounter.diagnosis_codes or []),
            },
            organization=org,
            patient=patient,
        )
    return render(
        request,
        "billing/encounter_form.html",
        {"form": form, "patient": patient, "encounter": encounter},
    )


@require_safe
@member_required
def encounter_detail(request: OrgRequest, pk: int) -> HttpResponse:
    encounter = _get_encounter(request, pk)
    ledger = selectors.encounter_ledger(encounter)
    return render(
        request,
        "billing/encounter_detail.html",
        {
            "encounter": encounter,
            "patient": encounter.patient,
            "diagnoses": list(enumerate(encounter.diagnosis_codes or [], start=1)),
            "charges": selectors.encounter_charges(encounter),
            "claims": selectors.encounter_claims(encounter),
            "ledger": ledger,
            "balance": ledger[-1].balance if ledger else encounter.balance,
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
@code_required(permissions.CHARGES_EDIT)
def patient_payment_add(request: OrgRequest, pk: int) -> HttpResponse:
    encounter = _get_encounter(request, pk)
    if request.method == "POST":
        form = PatientPaymentForm(request.POST)
        if form.is_valid():
            try:
                services.patient_payment_post(
                    organization=request.organization,
                    actor=request.user,
                    encounter=encounter,
                    **form.cleaned_data,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                amount = form.cleaned_data["amount"]
                messages.success(request, f"Payment of ${amount:,.2f} recorded.")
                return redirect("encounter_detail", pk=encounter.pk)
    else:
        form = PatientPaymentForm(initial={"paid_on": timezone.localdate(), "method": "card"})
    return render(
        request,
        "billing/patient_payment_form.html",
        {"form": form, "encounter": encounter, "patient": encounter.patient},
    )
