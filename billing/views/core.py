from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from billing import permissions
from billing.forms.core import AuditFilterForm, OrganizationSwitchForm
from billing.http import OrgRequest, code_required, member_required
from billing.listing import paginate, render_list
from billing.selectors import core as selectors
from billing.services import organizations as services
from clearinghouse import followup_selectors


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        # A fresh session starts where the user last worked (their last organization).
        self.request.session.pop("organization_id", None)
        return response


@require_safe
@member_required
def dashboard(request: OrgRequest) -> HttpResponse:
    numbers = selectors.dashboard_numbers(request.organization, timezone.localdate())
    numbers["era_alerts"] = followup_selectors.era_enrollment_alerts(request.organization)
    return render(request, "billing/dashboard.html", numbers)


@require_POST
def organization_switch(request: OrgRequest) -> HttpResponse:
    form = OrganizationSwitchForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Choose an organization.")
    membership = services.organization_switch(
        user=request.user,
        organization_id=form.cleaned_data["organization"],
        session=request.session,
    )
    messages.success(request, f"You are now working in {membership.organization}.")
    return redirect("dashboard")


@require_safe
@code_required(permissions.AUDIT_VIEW)
def audit_log(request: OrgRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    action = form.cleaned_data["action"] if form.is_valid() else ""
    rows = selectors.audit_log_page_queryset(request.organization, action=action)
    context = {
        "page": paginate(request, rows),
        "action": action,
        "actions": selectors.audit_actions(request.organization),
    }
    return render_list(
        request, "billing/audit_log.html", context, partial="rows", target="audit-rows"
    )
