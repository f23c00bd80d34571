from __future__ import annotations

import datetime
import time
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone

from billing.models import AuditLog, Organization, Payer
from clearinghouse import health, router
from clearinghouse.health import Health
from clearinghouse.models import (
    ClearinghouseConfig,
    FailoverSettings,
    PayerEnrollment,
    PayerRoute,
)
from clearinghouse.router import RouteResult


def enrollment_list(organization: Organization, *, q: str = "", status: str = ""):
    """Live enrollments, newest first; `q` matches the electronic payer id."""
    rows = (
        PayerEnrollment.objects.for_organization(organization)
        .live()
        .select_related("payer", "clearinghouse")
        .order_by("-created_at", "-id")
    )
    if q:
        rows = rows.filter(electronic_payer_id__icontains=q)
    if status:
        rows = rows.filter(enrollment_status=status)
    return rows


def enrollment_get(organization: Organization, pk: int) -> PayerEnrollment | None:
    return (
        PayerEnrollment.objects.for_organization(organization)
        .live()
        .select_related("payer", "clearinghouse")
        .filter(pk=pk)
        .first()
    )


def clearinghouse_list(organization: Organization):
    return ClearinghouseConfig.objects.for_organization(organization).order_by(
        "-is_active", "display_name"
    )


def clearinghouse_get(organization: Organization, pk: int) -> ClearinghouseConfig | None:
    return ClearinghouseConfig.objects.for_organization(organization).filter(pk=pk).first()


# --- the clearinghouse configuration pages ---------------------------------------------------


def clearinghouse_table(organization: Organization):
    """The configurations page: each with its number of live enrollments, in one query."""
    live = Count("enrollments", filter=Q(enrollments__deleted_at__isnull=True))
    return clearinghouse_list(organization).annotate(live_enrollments=live)


def clearinghouse_detail(organization: Organization, pk: int) -> ClearinghouseConfig | None:
    return (
        ClearinghouseConfig.objects.for_organization(organization)
        .select_related("baa_acknowledged_by")
        .filter(pk=pk)
        .first()
    )


def enrollment_counts(
    organization: Organization, config: ClearinghouseConfig
) -> list[tuple[str, str, int]]:
    """(status, label, number of live enrollments) for every status, through `config`."""
    counts = dict(
        PayerEnrollment.objects.for_organization(organization)
        .live()
        .filter(clearinghouse=config)
        .order_by()
        .values_list("enrollment_status")
        .annotate(n=Count("pk"))
    )
    return [(value, label, counts.get(value, 0)) for value, label in PayerEnrollment.Status.choices]


def enrollment_setup_missing(organization: Organization) -> dict[str, bool]:
    """The seed's "Before you start": an enrollment needs a payer and an active
    clearinghouse configuration; True marks what is missing."""
    return {
        "payer": not Payer.objects.for_organization(organization).exists(),
        "clearinghouse": not clearinghouse_list(organization).filter(is_active=True).exists(),
    }


def default_claim_clearinghouse(organization: Organization) -> ClearinghouseConfig | None:
    """Which clearinghouse an export is built for when nobody names one: the failover
    settings' primary, else the organization's only active configuration. (Sending never
    asks this: it goes through the audited router.)"""
    settings = (
        FailoverSettings.objects.filter(organization=organization).select_related("primary").first()
    )
    if settings is not None and settings.primary is not None and settings.primary.is_active:
        return settings.primary
    active = list(clearinghouse_list(organization).filter(is_active=True)[:2])
    return active[0] if len(active) == 1 else None


def clearinghouse_health(organization: Organization, configs) -> dict[int, object]:
    """The health of the configurations in the organization's failover pair (the ones the
    scheduled checks watch), by config id; the others are not monitored."""
    settings = FailoverSettings.objects.filter(organization=organization).first()
    if settings is None:
        return {}
    watched = {settings.primary_id, settings.secondary_id} - {None}
    return {
        c.pk: health.vendor_health(organization, c, settings) for c in configs if c.pk in watched
    }


# --- the Failover Settings page's status panel ----------------------------------------------

STATUS_TRANSACTION = "837P"  # the panel shows where claims go now
STATUS_ROUTES = 20  # payer routes resolved on the panel (the router reads 2 rows per payer)
STATUS_EVENTS = 10

REASON_LABELS = {
    "primary": "Primary in use",
    "payer_route": "Payer route",
    "recovered_after_cooldown": "Recovered after cool-down",
    "vendor_inactive": "Vendor inactive",
    "consecutive_health_failures": "Consecutive health failures",
    "transaction_timeouts": "Transaction timeouts",
    "transaction_errors": "Transaction errors",
}


@dataclass(frozen=True)
class VendorStatus:
    role: str  # "Primary" or "Secondary"
    config: ClearinghouseConfig
    health: Health

    @property
    def reason_label(self) -> str:
        return REASON_LABELS.get(self.health.reason, self.health.reason)


@dataclass(frozen=True)
class RouteStatus:
    """Where a scope's traffic goes now: `payer` None is the global route."""

    payer: Payer | None
    route: PayerRoute | None
    result: RouteResult | None
    error: str

    @property
    def reason_label(self) -> str:
        return REASON_LABELS.get(self.result.reason, self.result.reason) if self.result else ""


@dataclass(frozen=True)
class FailoverEvent:
    """One `clearinghouse_route_failover` audit row, readable."""

    at: datetime.datetime
    scope: str
    vendor: str
    failed_over: bool
    reason: str
    reason_label: str


@dataclass(frozen=True)
class FailoverStatus:
    settings: FailoverSettings | None
    vendors: list[VendorStatus]
    routes: list[RouteStatus]
    more_routes: int  # payer routes beyond STATUS_ROUTES, not resolved here
    events: list[FailoverEvent]
    checked_at: datetime.datetime


def _route_status(organization: Organization, payer, route, settings, now: float) -> RouteStatus:
    try:
        result = router.resolve_vendor_route(
            organization=organization,
            payer=payer,
            transaction=STATUS_TRANSACTION,
            settings=settings,
            now=now,
        )
    except router.RouteError as error:
        return RouteStatus(payer, route, None, str(error))
    return RouteStatus(payer, route, result, "")


def global_route_status(
    organization: Organization, *, settings: FailoverSettings | None = None
) -> RouteStatus:
    """Where traffic of payers without a payer route goes now (the pure router: no write)."""
    effective = settings or router.settings_for(organization)
    return _route_status(organization, None, None, effective, time.time())


def failover_events(organization: Organization, limit: int = STATUS_EVENTS) -> list[FailoverEvent]:
    """The organization's latest routing changes (the router's audit rows), newest first:
    two queries, however many rows."""
    rows = list(
        AuditLog.objects.for_organization(organization)
        .filter(action=router.AUDIT_ACTION)
        .order_by("-created_at", "-id")[:limit]
    )
    payer_ids = {(r.new_values or {}).get("payer_id") for r in rows} - {None}
    names = dict(
        Payer.objects.for_organization(organization)
        .filter(pk__in=payer_ids)
        .values_list("pk", "name")
        if payer_ids
        else ()
    )
    events = []
    for row in rows:
        values = row.new_values or {}
        payer_id = values.get("payer_id")
        if payer_id is None:
            scope = "All payers"
        else:
            scope = names.get(payer_id, f"Payer #{payer_id} (removed)")
        reason = values.get("reason", "")
        events.append(
            FailoverEvent(
                at=row.created_at,
                scope=scope,
                vendor=values.get("vendor_name") or f"Clearinghouse #{values.get('vendor')}",
                failed_over=bool(values.get("failed_over")),
                reason=reason,
                reason_label=REASON_LABELS.get(reason, reason),
            )
        )
    return events


def failover_status(
    organization: Organization, *, settings: FailoverSettings | None = None
) -> FailoverStatus:
    """The failover pair's health, where traffic goes now (the global route and each payer
    route, through the pure router: nothing is written), and the latest failovers.

    Pass the stored `settings` (with primary and secondary selected) when the caller has
    them. Queries: the settings, the payer routes, the audit rows and their payers, plus
    the router's two per payer route shown (at most STATUS_ROUTES); health is in the cache.
    """
    if settings is None:
        settings = (
            FailoverSettings.objects.for_organization(organization)
            .select_related("primary", "secondary")
            .first()
        )
    effective = settings or FailoverSettings(organization=organization)
    now = time.time()
    vendors = [
        VendorStatus(role, config, health.vendor_health(organization, config, effective, now=now))
        for role, config in (("Primary", effective.primary), ("Secondary", effective.secondary))
        if config is not None
    ]
    routes = [_route_status(organization, None, None, effective, now)]
    payer_routes = list(
        PayerRoute.objects.for_organization(organization)
        .select_related("payer", "forced_vendor")
        .order_by("payer__name", "pk")[: STATUS_ROUTES + 1]
    )
    more = 0
    if len(payer_routes) > STATUS_ROUTES:
        more = PayerRoute.objects.for_organization(organization).count() - STATUS_ROUTES
        payer_routes = payer_routes[:STATUS_ROUTES]
    routes += [
        _route_status(organization, route.payer, route, effective, now) for route in payer_routes
    ]
    return FailoverStatus(
        settings=settings,
        vendors=vendors,
        routes=routes,
        more_routes=more,
        events=failover_events(organization),
        checked_at=timezone.now(),
    )
