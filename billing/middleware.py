from __future__ import annotations

import zoneinfo

from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils import timezone

from billing.selectors.core import active_membership
from billing.tenancy import tenant_context


class OrganizationMiddleware:
    """Sets `request.organization` from the member's active organization and runs the rest
    of the request inside `tenant_context` for it, in the organization's time zone.

    A response of 400 or more rolls the transaction back: a view that fails part-way
    (an exception turned into a 500, a PermissionDenied after a write) leaves nothing.
    A view marked `billing.http.outside_request_transaction` runs outside it (it calls a
    clearinghouse and manages its own transactions).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.organization = None
        request.membership = None
        request.memberships = []
        if request.user.is_authenticated:
            memberships, membership = active_membership(
                request.user, request.session.get("organization_id")
            )
            request.memberships = memberships
            if membership is not None:
                request.membership = membership
                request.organization = membership.organization
                request.user.active_membership = membership
        if request.organization is None:
            return self.get_response(request)
        zone = zoneinfo.ZoneInfo(request.organization.time_zone)
        if _outside_request_transaction(request):
            with timezone.override(zone):
                return self.get_response(request)
        from django.db import transaction

        with (
            tenant_context(request.organization),
            timezone.override(zone),
        ):
            response = self.get_response(request)
            if response.status_code >= 400:
                transaction.set_rollback(True)
        return response


def _outside_request_transaction(request: HttpRequest) -> bool:
    try:
        match = resolve(request.path_info, getattr(request, "urlconf", None))
    except Resolver404:
        return False
    return getattr(match.func, "outside_request_transaction", False)
