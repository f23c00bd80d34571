"""Routed traffic: every 837P, 270, 276 and 278 the product sends goes through here.

The audited router (`router.resolve_vendor_route_with_audit`) picks the clearinghouse, the
payload is built for it (its enrollment's electronic payer id), the call runs under the
organization's per-transaction timeout, and its outcome feeds that clearinghouse's health:
a timeout counts as `transaction_timeouts`, a transport error or an HTTP 5xx/429 (or a
refused credential) as `transaction_errors`, an answer resets the count.

Inquiries (270, 276, 278) change nothing at the payer, so when the first vendor fails and
the router, fed that failure, now chooses another vendor, the inquiry is asked once more
there. Claims are never retried here: see `clearinghouse.submission`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from billing.models import Organization, Payer, User
from clearinghouse import health
from clearinghouse.models import ClearinghouseConfig, FailoverSettings
from clearinghouse.router import RouteResult, resolve_vendor_route_with_audit, settings_for
from clearinghouse.vendor_services import adapter_for
from clearinghouse.vendors.base import (
    PermanentFailure,
    TransientFailure,
    VendorAdapter,
    VendorError,
    VendorTimeout,
)

# A 401/403 is the vendor refusing our credentials: for routing, the vendor is unusable.
CREDENTIAL_REFUSED = (401, 403)


@dataclass(frozen=True)
class Routed[T]:
    """What came back, from whom, and how it was routed (`attempts` lists each vendor
    tried, in order, with the failure that sent the inquiry on, if any)."""

    reply: T
    route: RouteResult
    request: str
    attempts: tuple[tuple[str, str], ...]


def record_outcome(
    organization: Organization,
    config: ClearinghouseConfig,
    settings: FailoverSettings,
    error: VendorError | None,
) -> None:
    """Feed one real transaction's outcome to the vendor's health state machine."""
    if error is None:
        health.record_success(organization, config, settings=settings)
    elif isinstance(error, VendorTimeout):
        health.record_failure(
            organization, config, reason=health.TRANSACTION_TIMEOUTS, settings=settings
        )
    elif isinstance(error, TransientFailure) or (
        isinstance(error, PermanentFailure) and error.status_code in CREDENTIAL_REFUSED
    ):
        health.record_failure(
            organization, config, reason=health.TRANSACTION_ERRORS, settings=settings
        )
    else:
        # The vendor answered (a refusal of this request): it is up.
        health.record_success(organization, config, settings=settings)


def routed_inquiry[T](
    *,
    organization: Organization,
    actor: User | None,
    payer: Payer,
    transaction: str,
    build: Callable[[RouteResult], str],
    send: Callable[[VendorAdapter, str], T],
) -> Routed[T]:
    """Route, build the request for the chosen vendor, send it, feed health; when the
    vendor failed and the router now picks another one, ask that one once.

    Raises `router.RouteError` when no vendor may carry it (the message names payer,
    vendor and reason), or the last `VendorError`."""
    settings = settings_for(organization)
    attempts: list[tuple[str, str]] = []
    tried: set[int] = set()
    last_error: VendorError | None = None
    while True:
        route = resolve_vendor_route_with_audit(
            organization=organization,
            payer=payer,
            transaction=transaction,
            settings=settings,
            actor=actor,
        )
        if route.vendor.pk in tried and last_error is not None:
            raise last_error  # still routed to the vendor that just failed
        tried.add(route.vendor.pk)
        request = build(route)
        try:
            adapter = adapter_for(route.vendor, timeout_ms=settings.transaction_timeout_ms)
            reply = send(adapter, request)
        except VendorError as error:
            record_outcome(organization, route.vendor, settings, error)
            attempts.append((route.vendor.display_name, error.message))
            if isinstance(error, PermanentFailure) and error.status_code not in CREDENTIAL_REFUSED:
                raise
            last_error = error
            continue
        record_outcome(organization, route.vendor, settings, None)
        attempts.append((route.vendor.display_name, ""))
        return Routed(reply, route, request, tuple(attempts))
