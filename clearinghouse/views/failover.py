"""Failover Settings (seed 001): the Settings tab (primary, secondary, BAA, thresholds) and
the Payer Routes tab. Reading needs pm.payers.manage; every write pm.clearinghouse.admin
(other members see both tabs read-only and their POSTs get 403)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from billing import permissions
from billing.forms.binding import add_service_errors
from billing.http import OrgRequest, code_required
from clearinghouse import failover_services
from clearinghouse.failover_forms import FailoverSettingsForm, PayerRouteForm
from clearinghouse.models import ClearinghouseConfig, FailoverSettings, PayerRoute, Vendor

TABS = ("settings", "routes")


def _get_route(request: OrgRequest, pk: int) -> PayerRoute:
    route = (
        PayerRoute.objects.for_organization(request.organization)
        .select_related("payer", "forced_vendor")
        .filter(pk=pk)
        .first()
    )
    if route is None:
        raise Http404("No such payer route.")
    return route


def _stored_settings(request: OrgRequest) -> FailoverSettings | None:
    return (
        FailoverSettings.objects.for_organization(request.organization)
        .select_related("primary", "secondary", "updated_by")
        .first()
    )


def _settings_initial(request: OrgRequest, stored: FailoverSettings | None) -> dict:
    if stored is not None:
        return {
            "primary": stored.primary_id,
            "secondary": stored.secondary_id,
            "health_check_interval_s": stored.health_check_interval_s,
            "failure_threshold": stored.failure_threshold,
            "recovery_cooldown_s": stored.recovery_cooldown_s,
            "transaction_timeout_ms": stored.transaction_timeout_ms,
        }
    defaults = FailoverSettings()
    waystar = (
        ClearinghouseConfig.objects.for_organization(request.organization)
        .filter(vendor=Vendor.WAYSTAR, is_active=True)
        .order_by("display_name")
        .first()
    )
    return {
        "primary": waystar.pk if waystar else None,
        "health_check_interval_s": defaults.health_check_interval_s,
        "failure_threshold": defaults.failure_threshold,
        "recovery_cooldown_s": defaults.recovery_cooldown_s,
        "transaction_timeout_ms": defaults.transaction_timeout_ms,
    }


def _settings_form(request: OrgRequest, stored, data=None) -> FailoverSettingsForm:
    form = FailoverSettingsForm(
        data, organization=request.organization, initial=_settings_initial(request, stored)
    )
    if not request.user.has_perm(permissions.CLEARINGHOUSE_ADMIN):
        for field in form.fields.values():
            field.disabled = True
    return form


def _page(
    request: OrgRequest,
    *,
    tab: str,
    settings_form: FailoverSettingsForm | None = None,
    route_form: PayerRouteForm | None = None,
    edit_route: PayerRoute | None = None,
    edit_form: PayerRouteForm | None = None,
) -> HttpResponse:
    can_admin = request.user.has_perm(permissions.CLEARINGHOUSE_ADMIN)
    stored = _stored_settings(request)
    context = {
        "tab": tab,
        "can_admin": can_admin,
        "stored": stored,
        "settings_form": settings_form or _settings_form(request, stored),
        "routes": PayerRoute.objects.for_organization(request.organization)
        .select_related("payer", "forced_vendor")
        .order_by("payer__name"),
        "route_form": (route_form or PayerRouteForm(organization=request.organization))
        if can_admin
        else None,
        "edit_route": edit_route if can_admin else None,
        "edit_form": edit_form if can_admin else None,
    }
    return render(request, "clearinghouse/failover_settings.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@code_required(permissions.PAYERS_MANAGE)
def failover_settings(request: OrgRequest) -> HttpResponse:
    """GET shows both tabs to every reader; POST saves the Settings tab (admins)."""
    if request.method != "POST":
        tab = request.GET.get("tab", "settings")
        tab = tab if tab in TABS else "settings"
        edit_route = edit_form = None
        if tab == "routes" and request.GET.get("edit", "").isdigit():
            edit_route = _get_route(request, int(request.GET["edit"]))
            edit_form = PayerRouteForm(organization=request.organization, route=edit_route)
        return _page(request, tab=tab, edit_route=edit_route, edit_form=edit_form)
    if not request.user.has_perm(permissions.CLEARINGHOUSE_ADMIN):
        raise PermissionDenied
    form = _settings_form(request, _stored_settings(request), request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            failover_services.failover_settings_save(
                organization=request.organization,
                actor=request.user,
                primary=data["primary"],
                secondary=data["secondary"],
                health_check_interval_s=data["health_check_interval_s"],
                failure_threshold=data["failure_threshold"],
                recovery_cooldown_s=data["recovery_cooldown_s"],
                transaction_timeout_ms=data["transaction_timeout_ms"],
                baa_acknowledged=data["baa_on_file"],
                baa_signed_on=data["baa_signed_on"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Failover settings saved.")
            return redirect(reverse("failover_settings") + "?tab=settings")
    return _page(request, tab="settings", settings_form=form)


@require_POST
@code_required(permissions.PAYERS_MANAGE)
@code_required(permissions.CLEARINGHOUSE_ADMIN)
def payer_route_add(request: OrgRequest) -> HttpResponse:
    form = PayerRouteForm(request.POST, organization=request.organization)
    if form.is_valid():
        try:
            route = failover_services.payer_route_create(
                organization=request.organization, actor=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Payer route for {route.payer} added.")
            return redirect(reverse("failover_settings") + "?tab=routes")
    return _page(request, tab="routes", route_form=form)


@require_POST
@code_required(permissions.PAYERS_MANAGE)
@code_required(permissions.CLEARINGHOUSE_ADMIN)
def payer_route_edit(request: OrgRequest, pk: int) -> HttpResponse:
    route = _get_route(request, pk)
    form = PayerRouteForm(request.POST, organization=request.organization, route=route)
    if form.is_valid():
        try:
            route = failover_services.payer_route_update(
                organization=request.organization,
                actor=request.user,
                route=route,
                **form.cleaned_data,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Payer route for {route.payer} saved.")
            return redirect(reverse("failover_settings") + "?tab=routes")
    return _page(request, tab="routes", edit_route=route, edit_form=form)


@require_POST
@code_required(permissions.PAYERS_MANAGE)
@code_required(permissions.CLEARINGHOUSE_ADMIN)
def payer_route_delete(request: OrgRequest, pk: int) -> HttpResponse:
    route = _get_route(request, pk)
    payer = route.payer
    failover_services.payer_route_delete(
        organization=request.organization, actor=request.user, route=route
    )
    messages.success(request, f"Payer route for {payer} removed.")
    return redirect(reverse("failover_settings") + "?tab=routes")
