"""Clearinghouse configurations: the list, a new one, and the page of one (its fields, BAA,
activation and the enrollments that go through it). Reading needs pm.payers.manage; every
write pm.clearinghouse.admin. Credentials are write-only: no page renders them back."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from billing import permissions
from billing.forms.binding import add_service_errors, posted_data, really_changed
from billing.http import OrgRequest, code_required
from clearinghouse import selectors, services, vendor_services
from clearinghouse.forms import BaaForm, ClearinghouseConfigForm
from clearinghouse.models import ClearinghouseConfig, Vendor

NEW_SECRET_HELP = "API key, client secret or password. Stored encrypted and never shown again."


def _get_config(request: OrgRequest, pk: int) -> ClearinghouseConfig:
    config = selectors.clearinghouse_detail(request.organization, pk)
    if config is None:
        raise Http404("No such clearinghouse configuration.")
    return config


def _config_data(form: ClearinghouseConfigForm) -> dict:
    return {k: v for k, v in form.cleaned_data.items() if k != "secret"}


def _config_form(data=None, instance: ClearinghouseConfig | None = None) -> ClearinghouseConfigForm:
    form = ClearinghouseConfigForm(data, instance=instance)
    vendor = form.fields["vendor"]
    assert isinstance(vendor, forms.ChoiceField)
    vendor.choices = [("", "Choose a vendor"), *Vendor.choices]
    return form


def _add_form(data=None) -> ClearinghouseConfigForm:
    form = _config_form(data)
    form.fields["secret"].help_text = NEW_SECRET_HELP
    return form


def _edit_form(config: ClearinghouseConfig, data=None) -> ClearinghouseConfigForm:
    # Activation has its own buttons; the edit form leaves `is_active` alone.
    form = _config_form(data, instance=config)
    del form.fields["is_active"]
    if config.has_credentials:
        form.fields["secret"].widget.attrs["placeholder"] = "Stored, encrypted: type to replace"
    return form


def _baa_form(data=None) -> BaaForm:
    form = BaaForm(data)
    form.fields["baa_signed_on"].widget.attrs["max"] = timezone.localdate().isoformat()
    return form


def _detail_page(
    request: OrgRequest,
    config: ClearinghouseConfig,
    *,
    edit_form: ClearinghouseConfigForm | None = None,
    baa_form: BaaForm | None = None,
) -> HttpResponse:
    can_admin = request.user.has_perm(permissions.CLEARINGHOUSE_ADMIN)
    # A rejected edit wrote its input onto `config`: show what is stored.
    stored = _get_config(request, config.pk) if edit_form is not None else config
    counts = selectors.enrollment_counts(request.organization, stored)
    stored.health = selectors.clearinghouse_health(request.organization, [stored]).get(stored.pk)
    context = {
        "config": stored,
        "counts": counts,
        "live_total": sum(n for _, _, n in counts),
        "can_admin": can_admin,
        "edit_form": (edit_form or _edit_form(stored)) if can_admin else None,
        "baa_form": (baa_form or _baa_form()) if can_admin else None,
        "last_test": vendor_services.last_connection_test(request.organization, stored),
    }
    return render(request, "clearinghouse/clearinghouse_detail.html", context)


@require_safe
@code_required(permissions.PAYERS_MANAGE)
def clearinghouse_list(request: OrgRequest) -> HttpResponse:
    configs = list(selectors.clearinghouse_table(request.organization))
    health = selectors.clearinghouse_health(request.organization, configs)
    for config in configs:
        config.health = health.get(config.pk)
    return render(request, "clearinghouse/clearinghouse_list.html", {"configs": configs})


@sensitive_post_parameters("secret")
@require_http_methods(["GET", "HEAD", "POST"])
@code_required(permissions.PAYERS_MANAGE)
@code_required(permissions.CLEARINGHOUSE_ADMIN)
def clearinghouse_add(request: OrgRequest) -> HttpResponse:
    form = _add_form(posted_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            config = services.clearinghouse_create(
                organization=request.organization,
                actor=request.user,
                data=_config_data(form),
                secret=form.cleaned_data["secret"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Clearinghouse {config} added.")
            return redirect("clearinghouse_detail", pk=config.pk)
    return render(request, "clearinghouse/clearinghouse_form.html", {"form": form})


@sensitive_post_parameters("secret")
@require_http_methods(["GET", "HEAD", "POST"])
@code_required(permissions.PAYERS_MANAGE)
def clearinghouse_detail(request: OrgRequest, pk: int) -> HttpResponse:
    """GET shows the configuration to every reader; POST saves the edit form (admins)."""
    config = _get_config(request, pk)
    if request.method != "POST":
        return _detail_page(request, config)
    if not request.user.has_perm(permissions.CLEARINGHOUSE_ADMIN):
        raise PermissionDenied
    form = _edit_form(config, request.POST)
    if form.is_valid():
        try:
            config = services.clearinghouse_update(
                organization=request.organization,
                actor=request.user,
                config=config,
                data=_config_data(form),
                secret=form.cleaned_data["secret"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if really_changed(form):
                messages.success(request, f"Clearinghouse {config} saved.")
            else:
                messages.info(request, "Nothing changed.")
            return redirect("clearinghouse_detail", pk=config.pk)
    return _detail_page(request, config, edit_form=form)


@require_POST
@code_required(permissions.PAYERS_MANAGE)
@code_required(permissions.CLEARINGHOUSE_ADMIN)
def clearinghouse_baa(request: OrgRequest, pk: int) -> HttpResponse:
    config = _get_config(request, pk)
    form = _baa_form(request.POST)
    if form.is_valid():
        try:
            config = services.clearinghouse_acknowledge_baa(
                organization=request.organization,
                actor=request.user,
                config=config,
                signed_on=form.cleaned_data["baa_signed_on"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"BAA with {config} recorded as on file, signed {config.baa_signed_on:%m/%d/%Y}.",
            )
            return redirect("clearinghouse_detail", pk=config.pk)
    return _detail_page(request, config, baa_form=form)


@require_POST
@code_required(permissions.PAYERS_MANAGE)
@code_required(permissions.CLEARINGHOUSE_ADMIN)
def clearinghouse_set_active(request: OrgRequest, pk: int) -> HttpResponse:
    config = _get_config(request, pk)
    active = request.POST.get("active")
    if active not in ("0", "1"):
        return HttpResponseBadRequest("Send active=1 to activate or active=0 to deactivate.")
    config = services.clearinghouse_set_active(
        organization=request.organization,
        actor=request.user,
        config=config,
        active=active == "1",
    )
    if config.is_active:
        messages.success(request, f"{config} is active: new enrollments can use it.")
    else:
        messages.success(
            request, f"{config} is inactive: it is no longer offered for new enrollments."
        )
    return redirect("clearinghouse_detail", pk=config.pk)


@require_POST
@code_required(permissions.PAYERS_MANAGE)
@code_required(permissions.CLEARINGHOUSE_ADMIN)
def clearinghouse_test_connection(request: OrgRequest, pk: int) -> HttpResponse:
    """Run the vendor's health check now (one short call under the timeout) and show the
    outcome: in place with htmx, else as a message on the page."""
    config = _get_config(request, pk)
    result = vendor_services.clearinghouse_test_connection(
        organization=request.organization, actor=request.user, config=config
    )
    if request.htmx:
        context = {
            "config": config,
            "can_admin": True,
            "last_test": vendor_services.last_connection_test(request.organization, config),
        }
        response = render(
            request, "clearinghouse/clearinghouse_detail.html#connection_test", context
        )
        response["Vary"] = "HX-Request"
        return response
    if result.ok:
        messages.success(request, f"{config}: Healthy · {result.latency_ms:,} ms")
    else:
        messages.error(
            request,
            f"{config}: connection failed after {result.latency_ms:,} ms · {result.detail}",
        )
    return redirect("clearinghouse_detail", pk=config.pk)
