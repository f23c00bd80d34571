from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import dateformat, timezone
from django.views.decorators.http import require_http_methods, require_safe

from billing import permissions
from billing.forms.appointments import AppointmentFilterForm, AppointmentForm
from billing.http import OrgRequest, code_required, member_required
from billing.listing import paginate, render_list
from billing.models import Appointment
from billing.selectors import appointments as selectors
from billing.selectors.eligibility import latest_by_appointment
from billing.services import appointments as services

# A service's error on a model field, shown beside the form field that feeds it.
FORM_FIELD = {"patient": "account_number", "scheduled_at": "date"}


def _get_appointment(request: OrgRequest, pk: int) -> Appointment:
    appointment = selectors.appointment_for_edit(request.organization, pk)
    if appointment is None:
        raise Http404("No such appointment.")
    return appointment


def _direction_query(request: OrgRequest, when: str) -> str:
    """The list's query for the other direction: same provider and status, default dates."""
    query = QueryDict(mutable=True)
    for name in ("provider", "status"):
        if request.GET.get(name):
            query[name] = request.GET[name]
    query["when"] = when
    return query.urlencode()


def _add_service_errors(form: AppointmentForm, error: ValidationError) -> None:
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.message_dict.items():
        field = FORM_FIELD.get(name, name)
        form.add_error(field if field in form.fields else None, errors)


def _saved_message(appointment: Appointment) -> str:
    when = dateformat.format(timezone.localtime(appointment.scheduled_at), r"m/d/Y \a\t g:i A")
    return f"{appointment.patient} on {when}"


@require_safe
@member_required
def appointment_list(request: OrgRequest) -> HttpResponse:
    form = AppointmentFilterForm(
        request.GET, organization=request.organization, today=timezone.localdate()
    )
    filters = form.filters()
    rows = selectors.appointment_list_queryset(request.organization, now=timezone.now(), **filters)
    page = paginate(request, rows)
    latest_checks = latest_by_appointment(request.organization, [a.pk for a in page])
    for appointment in page:
        appointment.latest_eligibility = latest_checks.get(appointment.pk)
    context = {
        "form": form,
        "when": filters["when"],
        "upcoming_query": _direction_query(request, selectors.UPCOMING),
        "past_query": _direction_query(request, selectors.PAST),
        "page": page,
    }
    return render_list(
        request, "billing/appointment_list.html", context, partial="rows", target="appointment-rows"
    )


@require_http_methods(["GET", "HEAD", "POST"])
@code_required(permissions.PATIENTS_EDIT)
def appointment_add(request: OrgRequest) -> HttpResponse:
    organization = request.organization
    if request.method == "POST":
        form = AppointmentForm(request.POST, organization=organization)
        if form.is_valid():
            try:
                appointment = services.appointment_create(
                    organization=organization, actor=request.user, **form.appointment_fields()
                )
            except ValidationError as error:
                _add_service_errors(form, error)
            else:
                messages.success(request, f"Appointment booked: {_saved_message(appointment)}.")
                return redirect("appointment_list")
    else:
        initial: dict[str, object] = {"date": timezone.localdate()}
        if request.GET.get("account_number"):
            initial["account_number"] = request.GET["account_number"]
        form = AppointmentForm(initial=initial, organization=organization)
    return render(request, "billing/appointment_form.html", {"form": form, "appointment": None})


@require_http_methods(["GET", "HEAD", "POST"])
@code_required(permissions.PATIENTS_EDIT)
def appointment_edit(request: OrgRequest, pk: int) -> HttpResponse:
    appointment = _get_appointment(request, pk)
    organization = request.organization
    if request.method == "POST":
        form = AppointmentForm(request.POST, organization=organization)
        if form.is_valid():
            try:
                changed = services.appointment_update(
                    organization=organization,
                    actor=request.user,
                    appointment=appointment,
                    **form.appointment_fields(),
                )
            except ValidationError as error:
                _add_service_errors(form, error)
                appointment = _get_appointment(request, pk)
            else:
                if changed:
                    messages.success(request, f"Appointment saved: {_saved_message(appointment)}.")
                else:
                    messages.info(request, "Nothing changed.")
                return redirect("appointment_list")
    else:
        form = AppointmentForm.for_appointment(appointment, organization=organization)
    return render(
        request, "billing/appointment_form.html", {"form": form, "appointment": appointment}
    )
