"""Failover Settings (seed 001): the Settings tab (primary, secondary, BAA, thresholds, and
a status panel: the pair's health, where traffic goes now, the latest failovers) and the
Payer Routes tab. Reading needs pm.payers.manage; every write pm.clearinghouse.admin
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
from clearinghouse import failover_services, selectors
from clearinghouse.failover_forms import FailoverSettingsForm, PayerRouteForm
from clearinghouse.health import Health
from clearinghouse.models import ClearinghouseConfig, FailoverSettings, PayerRoute, Vendor

TABS = ("settings", "routes")
STATUS_TARGET = "fo-status"


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


def _get_config(request: OrgRequest, pk: int) -> ClearinghouseConfig:
    config = selectors.clearinghouse_get(request.organization, pk)
    if config is None:
        raise Http404("No such clearinghouse configuration.")
    return config


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
            "allow_simulated_failures": stored.allow_simulated_failures,
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
        "status": selectors.failover_status(request.organization, settings=stored)
        if tab == "settings"
        else None,
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
        if request.htmx and request.htmx.target == STATUS_TARGET:
            return _status_panel(request)
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
                allow_simulated_failures=data["allow_simulated_failures"],
                baa_acknowledged=data["baa_on_file"],
                baa_signed_on=data["baa_signed_on"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Failover settings saved.")
            return redirect(reverse("failover_settings") + "?tab=settings")
    return _page(request, tab="settings", settings_form=form)


def _status_panel(request: OrgRequest) -> HttpResponse:
    """The status panel alone, for its periodic htmx refresh."""
    stored = _stored_settings(request)
    context = {
        "can_admin": request.user.has_perm(permissions.CLEARINGHOUSE_ADMIN),
        "status": selectors.failover_status(request.organization, settings=stored),
    }
    response = render(request, "clearinghouse/failover_settings.html#status_panel", context)
    response["Vary"] = "HX-Request"
    return response


def _after_simulation(request: OrgRequest, config: ClearinghouseConfig, state: Health) -> str:
    settings = _stored_settings(request) or FailoverSettings(organization=request.organization)
    route = selectors.global_route_status(request.organization, settings=settings)
    if route.result is None:
        next_route = f"The next routing decision finds no vendor: {route.error}"
    elif route.result.failed_over:
        next_route = (
            f"The next routing decision fails over to {route.result.vendor.display_name} "
            "(payers on the global route)."
        )
    else:
        next_route = (
            f"The global route stays on {route.result.vendor.display_name}; payers routed to "
            f"{config.display_name} fail over (hard pins refuse)."
        )
    return (
        f"Simulated health failure: {config.display_name} is {state.state} "
        f"({state.failures} failed health check{'s' if state.failures != 1 else ''} in a row). "
        f"{next_route} Real health checks heal it once {config.display_name} is actually "
        f"healthy and stays so for the {settings.recovery_cooldown_s} s cool-down."
    )


@require_POST
@code_required(permissions.PAYERS_MANAGE)
@code_required(permissions.CLEARINGHOUSE_ADMIN)
def failover_simulate(request: OrgRequest, pk: int) -> HttpResponse:
    """The status panel's "Simulate health failure" (a drill, where the settings allow it):
    the vendor is degraded at once and the next routing decision fails over."""
    config = _get_config(request, pk)
    try:
        state = failover_services.failover_simulate_health_failure(
            organization=request.organization, actor=request.user, config=config
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.warning(request, _after_simulation(request, config, state))
    return redirect(reverse("failover_settings") + "?tab=settings")


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
