"""/graphql: who is asking, for which organization, and the transaction it all runs in.

Two ways in:
- `Authorization: Bearer <key>`: an API key (billing.services.api_keys). It acts for the
  organization it was created in, as its user. No cookies are involved, so no CSRF check.
  A header that names no live key answers Unauthorized, even next to a session cookie.
- The browser session of a signed-in member, for their active organization. A session
  carries ambient authority, so Django's CSRF check applies (GraphiQL sends the token).
A request with neither gets the seed's Unauthorized error from every field.

The whole operation runs inside `tenant_context(organization)`; OrganizationMiddleware
leaves this view alone (`outside_request_transaction`), since an API key's organization
is only known here. GraphiQL is served only when DEBUG is on, and introspection with it.
"""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from strawberry.django.views import GraphQLView

from billing.http import outside_request_transaction
from billing.models import Organization, User
from billing.services.api_keys import api_key_authenticate
from billing.tenancy import tenant_context
from payments.graphql.schema import Context, build_schema


class PaymentsGraphQLView(GraphQLView):
    def get_context(self, request: HttpRequest, response: HttpResponse) -> Context:  # type: ignore[override]
        return Context(
            request=request,
            response=response,
            user=request.graphql_user,  # type: ignore[attr-defined]
            organization=request.graphql_organization,  # type: ignore[attr-defined]
        )


@cache
def _view(debug: bool):
    return PaymentsGraphQLView.as_view(
        schema=build_schema(introspection=debug),
        graphql_ide="graphiql" if debug else None,
        # Reads go by POST too: one way in, under one CSRF rule.
        allow_queries_via_get=False,
    )


def _run(request: HttpRequest, *, user: User | None, organization: Organization | None):
    request.graphql_user = user  # type: ignore[attr-defined]
    request.graphql_organization = organization if user is not None else None  # type: ignore[attr-defined]
    view = _view(settings.DEBUG)
    if request.graphql_organization is None:  # type: ignore[attr-defined]
        return view(request)
    with tenant_context(request.graphql_organization):  # type: ignore[attr-defined]
        return view(request)


@csrf_protect
def _run_for_session(request: HttpRequest) -> HttpResponse:
    return _run(request, user=request.user, organization=request.organization)  # type: ignore[arg-type,attr-defined]


def _run_for_api_key(request: HttpRequest, authorization: str) -> HttpResponse:
    scheme, _, raw_key = authorization.strip().partition(" ")
    key = api_key_authenticate(raw_key.strip()) if scheme.lower() == "bearer" else None
    if key is None:
        return _run(request, user=None, organization=None)
    return _run(request, user=key.user, organization=key.organization)


@csrf_exempt
@login_not_required
@outside_request_transaction
def graphql(request: HttpRequest) -> HttpResponse:
    authorization = request.headers.get("Authorization")
    if authorization is not None:
        return _run_for_api_key(request, authorization)
    if request.user.is_authenticated:
        return _run_for_session(request)
    return _run(request, user=None, organization=None)
