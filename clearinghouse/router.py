"""The vendor router (seed 001, DESIGN.md "The vendor router").

`resolve_vendor_route` is a pure decision (it reads, never writes) over, in this order:

1. a payer route with `allow_failover = False` (hard pin): the forced vendor, or a
   `RouteError` naming payer, vendor and reason when it is not available;
2. a payer route with `allow_failover = True`: the forced vendor, else the other vendor of
   the global pair (the secondary, or the primary when the forced vendor is the secondary);
3. the global primary, else the secondary when the primary is not available.

Failover is enrollment-aware: the chosen vendor must hold an active enrollment of the payer
for the transaction type, or the router refuses with a `RouteError` (never a blind
fallback). ERA 835 retrieval is never routed.

`resolve_vendor_route_with_audit` also persists the decision per (organization, payer)
scope in `RouteDecision` and writes one `clearinghouse_route_failover` audit row per change.
"""

from __future__ import annotations

import dataclasses
import datetime
import time
from dataclasses import dataclass

from django.db import transaction as db_transaction
from django.utils import timezone

from billing.audit import audit
from billing.models import Organization, Payer, User
from billing.tenancy import tenant_context
from clearinghouse import health
from clearinghouse.models import (
    ClearinghouseConfig,
    FailoverSettings,
    PayerEnrollment,
    PayerRoute,
    RouteDecision,
    TransactionType,
)

ROUTED_TRANSACTIONS = ("837P", "270", "276", "278")
AUDIT_ACTION = "clearinghouse_route_failover"

REASON_PRIMARY = "primary"
REASON_PAYER_ROUTE = "payer_route"
REASON_RECOVERED = "recovered_after_cooldown"
REASON_INACTIVE = "vendor_inactive"


class RouteError(Exception):
    """No vendor may carry this transaction; the message says why, for a person to read."""


@dataclass(frozen=True)
class RouteResult:
    vendor: ClearinghouseConfig
    failed_over: bool
    reason: str
    electronic_payer_id: str


def _timestamp(now: float | datetime.datetime | None) -> float:
    if now is None:
        return time.time()
    if isinstance(now, datetime.datetime):
        return now.timestamp()
    return float(now)


def settings_for(organization: Organization) -> FailoverSettings:
    found = (
        FailoverSettings.objects.for_organization(organization)
        .select_related("primary", "secondary")
        .first()
    )
    return found or FailoverSettings(organization=organization)


def _unavailable_reason(organization, vendor, settings, now: float) -> str | None:
    """None when the vendor can take traffic, else why not (a failure reason)."""
    if not vendor.is_active:
        return REASON_INACTIVE
    state = health.vendor_health(organization, vendor, settings, now=now)
    if state.available:
        return None
    return state.reason or health.HEALTH_CHECK_FAILURES


def _describe(organization, vendor, settings, now: float) -> str:
    if not vendor.is_active:
        return "inactive"
    state = health.vendor_health(organization, vendor, settings, now=now)
    if state.state == health.RECOVERING:
        return f"recovering ({state.cooldown_remaining_s} s of cool-down left, {state.reason})"
    return f"{state.state} ({state.reason or 'no failures'})"


def _electronic_payer_id(
    payer: Payer | None, vendor: ClearinghouseConfig, transaction: str, *, failed_over: bool
) -> str:
    if payer is None:
        return ""
    enrollment = (
        PayerEnrollment.objects.for_organization(vendor.organization_id)
        .active_for(transaction)
        .filter(payer=payer, clearinghouse=vendor)
        .order_by("-created_at", "-id")
        .first()
    )
    if enrollment is None:
        action = "fail over" if failed_over else "route"
        raise RouteError(
            f"Cannot {action} {transaction} for payer {payer.name} to {vendor.display_name}: "
            f"the payer has no active {transaction} enrollment with {vendor.display_name}."
        )
    return enrollment.electronic_payer_id


def resolve_vendor_route(
    *,
    organization: Organization,
    payer: Payer | None,
    transaction: str,
    settings: FailoverSettings | None = None,
    now: float | datetime.datetime | None = None,
) -> RouteResult:
    """Which clearinghouse carries this transaction now. `payer=None` is the global route
    (no enrollment check, empty electronic payer id). Raises RouteError or ValueError."""
    if transaction == TransactionType.ERA_835:
        raise ValueError(
            "ERA 835 retrieval is never routed: it stays with the clearinghouse the payer is "
            "ERA-enrolled with."
        )
    if transaction not in ROUTED_TRANSACTIONS:
        raise ValueError(
            f"Unknown transaction type {transaction!r}; routed: {ROUTED_TRANSACTIONS}."
        )
    if payer is not None and payer.organization_id != organization.pk:
        raise ValueError("The payer belongs to another organization.")
    settings = settings if settings is not None else settings_for(organization)
    at = _timestamp(now)
    route = (
        PayerRoute.objects.for_organization(organization)
        .select_related("forced_vendor")
        .filter(payer=payer)
        .first()
        if payer is not None
        else None
    )

    def choose(vendor, *, failed_over: bool, reason: str) -> RouteResult:
        epid = _electronic_payer_id(payer, vendor, transaction, failed_over=failed_over)
        return RouteResult(vendor, failed_over, reason, epid)

    if route is not None:
        forced = route.forced_vendor
        why = _unavailable_reason(organization, forced, settings, at)
        if why is None:
            return choose(forced, failed_over=False, reason=REASON_PAYER_ROUTE)
        state = _describe(organization, forced, settings, at)
        if not route.allow_failover:
            raise RouteError(
                f"Payer {payer.name} is pinned to {forced.display_name}, which is {state} "
                f"(reason: {why}); failover is off for this payer, so nothing was sent. "
                "Wait for the vendor to recover, or edit or remove the payer route."
            )
        other = settings.primary if forced.pk == settings.secondary_id else settings.secondary
        if other is None or other.pk == forced.pk:
            raise RouteError(
                f"Payer {payer.name} is routed to {forced.display_name}, which is {state} "
                f"(reason: {why}), and there is no other vendor in the failover settings."
            )
        if _unavailable_reason(organization, other, settings, at) is not None:
            raise RouteError(
                f"Payer {payer.name}: both {forced.display_name} ({state}) and "
                f"{other.display_name} ({_describe(organization, other, settings, at)}) are "
                "unavailable."
            )
        return choose(other, failed_over=True, reason=why)

    primary, secondary = settings.primary, settings.secondary
    if primary is None:
        raise RouteError(
            "No primary clearinghouse is set: choose one in Clearinghouse > Failover Settings."
        )
    why = _unavailable_reason(organization, primary, settings, at)
    if why is None:
        return choose(primary, failed_over=False, reason=REASON_PRIMARY)
    state = _describe(organization, primary, settings, at)
    if secondary is None:
        raise RouteError(
            f"The primary clearinghouse {primary.display_name} is {state} and no secondary "
            "is set in the failover settings."
        )
    if _unavailable_reason(organization, secondary, settings, at) is not None:
        raise RouteError(
            f"Both clearinghouses are unavailable: {primary.display_name} is {state} and "
            f"{secondary.display_name} is {_describe(organization, secondary, settings, at)}."
        )
    return choose(secondary, failed_over=True, reason=why)


def resolve_vendor_route_with_audit(
    *,
    organization: Organization,
    payer: Payer | None,
    transaction: str,
    settings: FailoverSettings | None = None,
    now: float | datetime.datetime | None = None,
    actor: User | None = None,
) -> RouteResult:
    """`resolve_vendor_route`, plus one audit row when the decision of this (organization,
    payer) scope changes against the persisted `RouteDecision`.

    The first decision of a scope is stored as the baseline: the row is first created (by
    whoever gets there, `ignore_conflicts`) as a plain "no failover" decision for the
    chosen vendor, so a first decision that is already a failover differs from it and is
    audited, and one that is not is silent. The row is then locked (`select_for_update`),
    so of racing workers exactly one sees the change and writes the audit row; the next
    sees its own decision already stored. Persisted, so a restart writes no duplicate.
    """
    result = resolve_vendor_route(
        organization=organization, payer=payer, transaction=transaction, settings=settings, now=now
    )
    with tenant_context(organization), db_transaction.atomic():
        RouteDecision.objects.bulk_create(
            [
                RouteDecision(
                    organization=organization,
                    payer=payer,
                    vendor=result.vendor,
                    failed_over=False,
                    reason="",
                    decided_at=timezone.now(),
                )
            ],
            ignore_conflicts=True,
        )
        decision = (
            RouteDecision.objects.select_for_update()
            .for_organization(organization)
            .get(payer=payer)
        )
        if (decision.vendor_id, decision.failed_over) == (result.vendor.pk, result.failed_over):
            return result
        reason = result.reason
        if decision.failed_over and not result.failed_over:
            reason = REASON_RECOVERED  # back to the preferred vendor after its cool-down
        old = {
            "vendor": decision.vendor_id,
            "failed_over": decision.failed_over,
            "reason": decision.reason,
        }
        decision.vendor = result.vendor
        decision.failed_over = result.failed_over
        decision.reason = reason
        decision.decided_at = timezone.now()
        decision.save(update_fields=["vendor", "failed_over", "reason", "decided_at"])
        audit(
            organization=organization,
            actor=actor,
            action=AUDIT_ACTION,
            instance=decision,
            old_values=old if old["reason"] else None,
            new_values={
                "vendor": result.vendor.pk,
                "vendor_name": result.vendor.display_name,
                "failed_over": result.failed_over,
                "reason": reason,
                "payer_id": payer.pk if payer is not None else None,
            },
        )
    return dataclasses.replace(result, reason=reason)
