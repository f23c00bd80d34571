"""The payers page: the organization's payer master, with search; new and edit pages.
Reading needs pm.payers.manage, writing pm.payers.edit as well."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from billing import permissions
from billing.forms.binding import add_service_errors, posted_data, really_changed
from billing.forms.payers import PayerForm, PayerSearchForm
from billing.http import OrgRequest, code_required
from billing.listing import paginate, render_list
from billing.models import Payer
from billing.selectors import payers as selectors
from billing.services import payers as services


def _get_payer(request: OrgRequest, pk: int) -> Payer:
    payer = selectors.payer_get(request.organization, pk)
    if payer is None:
        raise Http404("No such payer.")
    return payer


@require_safe
@code_required(permissions.PAYERS_MANAGE)
def payer_list(request: OrgRequest) -> HttpResponse:
    form = PayerSearchForm(request.GET)
    q = form.cleaned_data["q"] if form.is_valid() else ""
    rows = selectors.payer_list_queryset(request.organization, search=q)
    return render_list(
        request,
        "billing/payer_list.html",
        {
            "page": paginate(request, rows),
            "q": q,
            "can_edit": request.user.has_perm(permissions.PAYERS_EDIT),
        },
        partial="rows",
        target="payer-rows",
    )


@require_http_methods(["GET", "HEAD", "POST"])
@code_required(permissions.PAYERS_MANAGE)
@code_required(permissions.PAYERS_EDIT)
def payer_add(request: OrgRequest) -> HttpResponse:
    form = PayerForm(posted_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            payer = services.payer_create(
                organization=request.organization, actor=request.user, data=form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Payer {payer.name} added (payer id {payer.payer_id}).")
            return redirect("payer_list")
    return render(request, "billing/payer_form.html", {"form": form, "payer": None})


@require_http_methods(["GET", "HEAD", "POST"])
@code_required(permissions.PAYERS_MANAGE)
@code_required(permissions.PAYERS_EDIT)
def payer_edit(request: OrgRequest, pk: int) -> HttpResponse:
    payer = _get_payer(request, pk)
    form = PayerForm(posted_data(request), instance=payer)
    if request.method == "POST" and form.is_valid():
        try:
            payer = services.payer_update(
                organization=request.organization,
                actor=request.user,
                payer=payer,
                data=form.cleaned_data,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if really_changed(form):
                messages.success(request, f"Payer {payer.name} saved.")
            else:
                messages.info(request, "Nothing changed.")
            return redirect("payer_list")
    payer = _get_payer(request, pk)  # the form wrote the rejected input onto its copy
    return render(request, "billing/payer_form.html", {"form": form, "payer": payer})
