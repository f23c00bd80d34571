"""A member's own API keys in the active organization. Other members' keys are 404 here;
org admins revoke those from the members page."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_POST, require_safe

from billing.forms.api_keys import ApiKeyCreateForm
from billing.http import OrgRequest, member_required
from billing.models import ApiKey
from billing.selectors import organization as selectors
from billing.services import api_keys as services


def _get_api_key(request: OrgRequest, pk: int) -> ApiKey:
    key = ApiKey.objects.filter(pk=pk, user=request.user, organization=request.organization).first()
    if key is None:
        raise Http404("No such API key.")
    return key


def _page(
    request: OrgRequest, form: ApiKeyCreateForm, *, new_key: ApiKey | None = None, raw_key: str = ""
) -> HttpResponse:
    context = {
        "form": form,
        "keys": selectors.user_api_keys(request.user, request.organization),
        "new_key": new_key,
        "raw_key": raw_key,
    }
    return render(request, "billing/api_key_list.html", context)


@require_safe
@member_required
def api_key_list(request: OrgRequest) -> HttpResponse:
    return _page(request, ApiKeyCreateForm())


@require_POST
@member_required
def api_key_create(request: OrgRequest) -> HttpResponse:
    form = ApiKeyCreateForm(request.POST)
    if not form.is_valid():
        return _page(request, form)
    key, raw_key = services.api_key_create(
        organization=request.organization, actor=request.user, name=form.cleaned_data["name"]
    )
    # The raw key goes out in this response only: no redirect URL, no session message,
    # and no cache may keep the page.
    response = _page(request, ApiKeyCreateForm(), new_key=key, raw_key=raw_key)
    add_never_cache_headers(response)
    return response


@require_POST
@member_required
def api_key_revoke(request: OrgRequest, pk: int) -> HttpResponse:
    key = _get_api_key(request, pk)
    services.api_key_revoke(organization=request.organization, actor=request.user, api_key=key)
    messages.success(request, f"The API key “{key.name}” ({key.prefix}…) was revoked.")
    return redirect("api_key_list")
