"""Patient search, demographics, the patient page and coverages."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from billing import permissions
from billing.forms.binding import add_service_errors, posted_data
from billing.forms.patients import CoverageEndForm, CoverageForm, PatientForm, PatientSearchForm
from billing.http import OrgRequest, code_required, member_required
from billing.listing import paginate, render_list
from billing.models import Coverage, Patient
from billing.selectors import patients as selectors
from billing.services import patients as services


def _get_patient(request: OrgRequest, pk: int) -> Patient:
    patient = selectors.patient_get(request.organization, pk)
    if patient is None:
        raise Http404("No such patient.")
    return patient


def _get_coverage(request: OrgRequest, pk: int) -> Coverage:
    coverage = selectors.coverage_get(request.organization, pk)
    if coverage is None:
        raise Http404("No such coverage.")
    return coverage


# --- patients ---------------------------------------------------------------------------


@require_safe
@member_required
def patient_list(request: OrgRequest) -> HttpResponse:
    form = PatientSearchForm(request.GET)
    q = form.cleaned_data["q"] if form.is_valid() else ""
    rows = selectors.patient_list_queryset(
        request.organization, search=q, today=timezone.localdate()
    )
    return render_list(
        request,
        "billing/patient_list.html",
        {"page": paginate(request, rows), "q": q},
        partial="rows",
        target="patient-rows",
    )


@require_http_methods(["GET", "HEAD", "POST"])
@code_required(permissions.PATIENTS_EDIT)
def patient_add(request: OrgRequest) -> HttpResponse:
    form = PatientForm(posted_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            patient = services.patient_create(
                organization=request.organization, actor=request.user, data=form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, f"Patient {patient} added (account {patient.account_number})."
            )
            return redirect("patient_detail", pk=patient.pk)
    return render(request, "billing/patient_form.html", {"form": form, "patient": None})


@require_safe
@member_required
def patient_detail(request: OrgRequest, pk: int) -> HttpResponse:
    patient = _get_patient(request, pk)
    today = timezone.localdate()
    context = {
        "patient": patient,
        "page": selectors.patient_page(request.organization, patient),
        "today": today,
        "age": selectors.age_on(patient.birth_date, today),
        "can_edit": request.user.has_perm(permissions.PATIENTS_EDIT),
        "can_check": request.user.has_perm(permissions.ELIGIBILITY_CHECK),
    }
    return render(request, "billing/patient_detail.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@code_required(permissions.PATIENTS_EDIT)
def patient_edit(request: OrgRequest, pk: int) -> HttpResponse:
    patient = _get_patient(request, pk)
    form = PatientForm(posted_data(request), instance=patient)
    if request.method == "POST" and form.is_valid():
        try:
            patient = services.patient_update(
                organization=request.organization,
                actor=request.user,
                patient=patient,
                data=form.cleaned_data,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Demographics of {patient} saved.")
            return redirect("patient_detail", pk=patient.pk)
    patient.refresh_from_db()  # the form wrote the rejected input onto the instance
    return render(request, "billing/patient_form.html", {"form": form, "patient": patient})


# --- coverages --------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@code_required(permissions.PATIENTS_EDIT)
def coverage_add(request: OrgRequest, pk: int) -> HttpResponse:
    patient = _get_patient(request, pk)
    instance = Coverage(
        organization=request.organization,
        patient=patient,
        effective_from=timezone.localdate(),
    )
    form = CoverageForm(posted_data(request), instance=instance, organization=request.organization)
    if request.method == "POST" and form.is_valid():
        try:
            coverage = services.coverage_create(
                organization=request.organization,
                actor=request.user,
                patient=patient,
                data=form.cleaned_data,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{coverage.get_order_display()} coverage {coverage} added.")
            return redirect("patient_detail", pk=patient.pk)
    return render(
        request,
        "billing/coverage_form.html",
        {"form": form, "patient": patient, "coverage": None},
    )


@require_http_methods(["GET", "HEAD", "POST"])
@code_required(permissions.PATIENTS_EDIT)
def coverage_edit(request: OrgRequest, pk: int) -> HttpResponse:
    coverage = _get_coverage(request, pk)
    form = CoverageForm(posted_data(request), instance=coverage, organization=request.organization)
    if request.method == "POST" and form.is_valid():
        try:
            coverage = services.coverage_update(
                organization=request.organization,
                actor=request.user,
                coverage=coverage,
                data=form.cleaned_data,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Coverage {coverage} saved.")
            return redirect("patient_detail", pk=coverage.patient_id)
    coverage = _get_coverage(request, pk)  # the form wrote the rejected input onto its copy
    return render(
        request,
        "billing/coverage_form.html",
        {"form": form, "patient": coverage.patient, "coverage": coverage},
    )


@require_http_methods(["GET", "HEAD", "POST"])
@code_required(permissions.PATIENTS_EDIT)
def coverage_end(request: OrgRequest, pk: int) -> HttpResponse:
    """POST ends the coverage (the date defaults to today); GET shows the same form on a
    page of its own, which is also where an error is shown."""
    coverage = _get_coverage(request, pk)
    form = CoverageEndForm(posted_data(request), initial={"end_date": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            coverage = services.coverage_end(
                organization=request.organization,
                actor=request.user,
                coverage=coverage,
                end_date=form.cleaned_data["end_date"] or timezone.localdate(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, f"Coverage {coverage} ended on {coverage.effective_to:%m/%d/%Y}."
            )
            return redirect("patient_detail", pk=coverage.patient_id)
    return render(
        request,
        "billing/coverage_form.html",
        {"end_form": form, "patient": coverage.patient, "coverage": coverage},
    )
