"""The Clearinghouse Enrollments page (seed 000): cards, filters, Quick Add, edit, status
change and removal."""

from __future__ import annotations

from typing import cast
from urllib.parse import urlencode, urlsplit

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from billing import permissions
from billing.forms.binding import add_service_errors, posted_data
from billing.http import OrgRequest, code_required
from billing.listing import paginate, render_list
from clearinghouse import selectors, services, vendor_services
from clearinghouse.followup_selectors import era_enrollment_alerts
from clearinghouse.forms import EnrollmentFilterForm, EnrollmentForm
from clearinghouse.models import TRANSACTION_FIELDS, PayerEnrollment

LIST_TEMPLATE = "clearinghouse/enrollment_list.html"
FORM_TEMPLATE = "clearinghouse/enrollment_form.html"

# Card tags: the short name of each transaction type ("270/271"), its long label as a title.
TAGS = {
    t.value: (str(getattr(PayerEnrollment._meta.get_field(field), "verbose_name", t)), t.label)
    for t, field in TRANSACTION_FIELDS.items()
}

can_create = permission_required(permissions.PAYER_ENROLLMENTS_CREATE, raise_exception=True)
can_edit = permission_required(permissions.PAYER_ENROLLMENTS_EDIT, raise_exception=True)


def _get_enrollment(request: OrgRequest, pk: int) -> PayerEnrollment:
    enrollment = selectors.enrollment_get(request.organization, pk)
    if enrollment is None:
        raise Http404("No such enrollment.")
    return enrollment


def _list_query(request: OrgRequest) -> QueryDict:
    """The filters of the list in the browser's address bar (HX-Current-URL), for an htmx
    post made from that list."""
    current = urlsplit(request.htmx.current_url or "")
    if current.path == reverse("enrollment_list"):
        return QueryDict(current.query)
    return QueryDict()


def _return_url(request: OrgRequest) -> str:
    """Where to go after a change: the list with the filters it came from (a posted or
    linked `next`), never another page or site."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if urlsplit(candidate).path == reverse("enrollment_list") and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}
    ):
        return candidate
    return reverse("enrollment_list")


def _cards_context(request: OrgRequest, query: QueryDict) -> dict:
    filters = EnrollmentFilterForm(query)
    q, status = "", ""
    if filters.is_valid():
        q, status = filters.cleaned_data["q"], filters.cleaned_data["status"]
    page = paginate(request, selectors.enrollment_list(request.organization, q=q, status=status))
    for enrollment in page:
        enrollment.tags = [TAGS[t] for t in enrollment.transaction_types]
        enrollment.can_submit = vendor_services.can_submit(enrollment)
    list_url = reverse("enrollment_list")
    filters_query = urlencode({k: v for k, v in (("q", q), ("status", status)) if v})
    return {
        "page": page,
        "q": q,
        "status": status,
        "filtered": bool(q or status),
        "statuses": PayerEnrollment.Status.choices,
        "list_url": f"{list_url}?{filters_query}" if filters_query else list_url,
        "filters_query": filters_query,
        "list_path": list_url,
        "can_edit": request.user.has_perm(permissions.PAYER_ENROLLMENTS_EDIT),
    }


@require_safe
@code_required(permissions.PAYERS_MANAGE)
def enrollment_list(request: OrgRequest) -> HttpResponse:
    context = _cards_context(request, request.GET)
    context["list_url"] = request.get_full_path()
    context["can_create"] = request.user.has_perm(permissions.PAYER_ENROLLMENTS_CREATE)
    context["era_alerts"] = era_enrollment_alerts(request.organization)
    if context["can_create"]:
        context["setup_missing"] = selectors.enrollment_setup_missing(request.organization)
    return render_list(request, LIST_TEMPLATE, context, partial="cards", target="enrollment-cards")


@require_http_methods(["GET", "HEAD", "POST"])
@code_required(permissions.PAYERS_MANAGE)
@can_create
def enrollment_quick_add(request: OrgRequest) -> HttpResponse:
    """The Quick Add dialog (htmx) or, without JavaScript, a page with the same form."""
    setup_missing = selectors.enrollment_setup_missing(request.organization)
    form = EnrollmentForm(posted_data(request), organization=request.organization)
    if request.method == "POST" and not any(setup_missing.values()) and form.is_valid():
        try:
            enrollment = services.enrollment_create(
                organization=request.organization, actor=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            notice = f"Enrollment added: {enrollment}."
            if request.htmx:
                return _cards_after_quick_add(request, notice)
            messages.success(request, notice)
            return redirect(_return_url(request))
    context = {
        "form": form,
        "setup_missing": setup_missing,
        "action": reverse("enrollment_quick_add"),
        "next": _return_url(request),
        "title": "Quick Add enrollment",
        "submit_label": "Add enrollment",
    }
    if request.htmx:
        context["in_dialog"] = True
        if request.method == "POST":
            # Errors go back into the open dialog; 422 so nothing counts as a success.
            response = render(request, f"{FORM_TEMPLATE}#form", context, status=422)
        else:
            context["dialog"] = "quick_add"
            response = render(request, f"{LIST_TEMPLATE}#dialog", context)
        response["Vary"] = "HX-Request"
        return response
    return render(request, FORM_TEMPLATE, context)


def _cards_after_quick_add(request: OrgRequest, notice: str) -> HttpResponse:
    """The card list as the user filtered it, with the new enrollment and the dialog
    closed (an out-of-band swap empties its slot)."""
    context = _cards_context(request, _list_query(request))
    context["notice"] = notice
    context["close_dialog"] = True
    response = render(request, f"{LIST_TEMPLATE}#cards", context)
    response["HX-Retarget"] = "#enrollment-cards"
    response["HX-Reswap"] = "outerHTML"
    response["Vary"] = "HX-Request"
    return response


@require_http_methods(["GET", "HEAD", "POST"])
@code_required(permissions.PAYERS_MANAGE)
@can_edit
def enrollment_edit(request: OrgRequest, pk: int) -> HttpResponse:
    enrollment = _get_enrollment(request, pk)
    form = EnrollmentForm(
        posted_data(request),
        organization=request.organization,
        initial=EnrollmentForm.initial_for(enrollment),
    )
    # An enrollment keeps its clearinghouse even after that configuration is deactivated.
    clearinghouse = cast(forms.ModelChoiceField, form.fields["clearinghouse"])
    clearinghouse.queryset = selectors.clearinghouse_list(request.organization).filter(
        Q(is_active=True) | Q(pk=enrollment.clearinghouse_id)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.enrollment_update(
                organization=request.organization,
                actor=request.user,
                enrollment=enrollment,
                data=form.cleaned_data,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if form.has_changed():
                messages.success(request, f"Enrollment saved: {enrollment.payer}.")
            else:
                messages.info(request, "Nothing changed.")
            return redirect(_return_url(request))
    context = {
        "form": form,
        "enrollment": enrollment,
        "action": reverse("enrollment_edit", args=[enrollment.pk]),
        "next": _return_url(request),
        "title": f"Edit enrollment: {enrollment.payer}",
        "submit_label": "Save",
    }
    return render(request, FORM_TEMPLATE, context)


@require_POST
@code_required(permissions.PAYERS_MANAGE)
@can_edit
def enrollment_status(request: OrgRequest, pk: int) -> HttpResponse:
    enrollment = _get_enrollment(request, pk)
    status = request.POST.get("status", "")
    before = enrollment.get_enrollment_status_display()
    try:
        enrollment = services.enrollment_set_status(
            organization=request.organization,
            actor=request.user,
            enrollment=enrollment,
            status=status,
        )
    except ValidationError:
        messages.error(request, "Choose one of the statuses in the list.")
    else:
        after = enrollment.get_enrollment_status_display()
        if after == before:
            messages.info(request, f"{enrollment.payer} is already {after}.")
        else:
            messages.success(
                request,
                f"{enrollment.payer} via {enrollment.clearinghouse}: status {before} → {after}.",
            )
    return redirect(_return_url(request))


@require_http_methods(["GET", "HEAD", "POST"])
@code_required(permissions.PAYERS_MANAGE)
@can_edit
def enrollment_remove(request: OrgRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation (a dialog with htmx, a page without); POST removes."""
    enrollment = _get_enrollment(request, pk)
    if request.method == "POST":
        services.enrollment_remove(
            organization=request.organization, actor=request.user, enrollment=enrollment
        )
        messages.success(
            request,
            f"Enrollment removed: {enrollment}. Claims already sent through it are not affected.",
        )
        return redirect(_return_url(request))
    context = {
        "enrollment": enrollment,
        "tags": [TAGS[t] for t in enrollment.transaction_types],
        "next": _return_url(request),
        "title": "Remove enrollment",
        "confirm_remove": True,
    }
    if request.htmx:
        context.update(dialog="remove", in_dialog=True)
        response = render(request, f"{LIST_TEMPLATE}#dialog", context)
        response["Vary"] = "HX-Request"
        return response
    return render(request, FORM_TEMPLATE, context)


@require_POST
@code_required(permissions.PAYERS_MANAGE)
@can_edit
def enrollment_submit(request: OrgRequest, pk: int) -> HttpResponse:
    """Send the enrollment to its clearinghouse now (one call under the timeout)."""
    enrollment = _get_enrollment(request, pk)
    try:
        enrollment = vendor_services.enrollment_submit(
            organization=request.organization, actor=request.user, enrollment=enrollment
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except vendor_services.VendorUnavailable as error:
        messages.error(request, str(error))
    else:
        where = f"{enrollment.payer} via {enrollment.clearinghouse}"
        if enrollment.enrollment_status == PayerEnrollment.Status.REJECTED:
            messages.error(
                request,
                f"{enrollment.clearinghouse} rejected the enrollment of {where}: "
                f"{enrollment.status_reason or 'no reason given'}",
            )
        elif enrollment.enrollment_status == PayerEnrollment.Status.ACTIVE:
            messages.success(request, f"{where} was approved at once: the enrollment is active.")
        else:
            messages.success(
                request,
                f"{where} submitted: pending, reference {enrollment.vendor_reference}. "
                f"The status changes when {enrollment.clearinghouse} answers.",
            )
    return redirect(_return_url(request))
