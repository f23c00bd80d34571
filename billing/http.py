"""The typed request every view receives, and the guards views put in front of work."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

    from billing.models import Membership, Organization, User


class OrgRequest(HttpRequest):
    user: User
    organization: Organization
    membership: Membership
    memberships: list[Membership]
    htmx: HtmxDetails


def member_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The view needs an active organization; a user with no membership is told so."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if getattr(request, "organization", None) is None:
            return render(request, "billing/no_organization.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper


def outside_request_transaction(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """`OrganizationMiddleware` runs this view outside the request's transaction. For views
    that wait on a clearinghouse over HTTP: no database lock (nor SQLite's write lock) may be
    held while a vendor thinks. The view enters `tenant_context` itself around each piece of
    database work, and its services commit on their own."""
    view.outside_request_transaction = True  # type: ignore[attr-defined]
    return view


def code_required(
    code: str,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Membership in an organization plus one permission code there; 403 without it."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        return member_required(permission_required(code, raise_exception=True)(view))

    return decorator
