"""The "New Enrollment" wizard (/pm/enrollment/new): four steps over a session draft, one
enrollment created at the end. The step logic is in clearinghouse/wizard.py."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from billing import permissions
from billing.http import OrgRequest, code_required
from clearinghouse import services
from clearinghouse.models import PayerEnrollment
from clearinghouse.wizard import (
    BY_SLUG,
    FIRST,
    REVIEW,
    Step,
    Wizard,
    errors_by_step,
    next_step,
    previous_step,
)

TEMPLATE = "clearinghouse/enrollment_wizard.html"
TARGET = "wizard-body"


@require_http_methods(["GET", "HEAD", "POST"])
@code_required(permissions.PAYERS_MANAGE)
@code_required(permissions.PAYER_ENROLLMENTS_CREATE)
def enrollment_wizard(request: OrgRequest, step: str = FIRST.slug) -> HttpResponse:
    current = BY_SLUG.get(step)
    if current is None:
        raise Http404("No such step.")
    wizard = Wizard(request.session, request.organization)
    blockers = wizard.blockers()
    if any(blockers.values()):
        return _render(request, wizard, current, blockers=blockers)

    if request.method == "POST":
        wizard.store(current, request.POST)
        if request.POST.get("action") == "back":
            return _go(request, wizard, previous_step(current))

    unfinished = wizard.first_unfinished_before(current)
    if unfinished is not None:
        return _go(request, wizard, unfinished)
    if request.method != "POST":
        return _render(request, wizard, current)
    if current is REVIEW:
        return _create(request, wizard)
    if not wizard.valid(current):
        return _render(request, wizard, current, status=422 if request.htmx else 200)
    return _go(request, wizard, next_step(current))


@require_POST
@code_required(permissions.PAYERS_MANAGE)
@code_required(permissions.PAYER_ENROLLMENTS_CREATE)
def enrollment_wizard_discard(request: OrgRequest) -> HttpResponse:
    Wizard(request.session, request.organization).discard()
    messages.success(request, "The enrollment draft was discarded.")
    return redirect("enrollment_wizard")


def _create(request: OrgRequest, wizard: Wizard) -> HttpResponse:
    try:
        enrollment = services.enrollment_create(
            organization=request.organization, actor=request.user, **wizard.create_kwargs()
        )
    except ValidationError as error:
        errors = error.message_dict if hasattr(error, "error_dict") else {"": error.messages}
        return _render(
            request,
            wizard,
            REVIEW,
            create_errors=errors_by_step(errors),
            duplicate=wizard.live_duplicate() if "payer" in errors else None,
            status=422 if request.htmx else 200,
        )
    wizard.discard()
    messages.success(
        request,
        f"Created the enrollment of {enrollment.payer} with {enrollment.clearinghouse} "
        f"(electronic payer id {enrollment.electronic_payer_id}).",
    )
    if request.htmx:
        return HttpResponseClientRedirect(reverse("enrollment_list"))
    return redirect("enrollment_list")


def _go(request: OrgRequest, wizard: Wizard, step: Step) -> HttpResponse:
    """Move to a step: a redirect to its URL, or for htmx its body with the URL pushed."""
    if request.htmx:
        response = _render(request, wizard, step)
        response["HX-Push-Url"] = step.url
        return response
    return redirect(step.url)


def _render(
    request: OrgRequest,
    wizard: Wizard,
    step: Step,
    *,
    blockers: dict[str, bool] | None = None,
    create_errors: list[tuple[Step, str]] | None = None,
    duplicate: PayerEnrollment | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "step": step,
        "wizard": wizard,
        "blockers": blockers,
        "create_errors": create_errors,
        "duplicate": duplicate,
    }
    if not blockers:
        context["indicator"] = wizard.indicator(step)
        if step.fields:
            context["form"] = wizard.form_for(step)
        elif wizard.form.is_valid():
            context["summary"] = wizard.summary()
    template = TEMPLATE
    if request.htmx and request.htmx.target == TARGET:
        template = f"{TEMPLATE}#body"
    response = render(request, template, context, status=status)
    response["Vary"] = "HX-Request"
    return response
