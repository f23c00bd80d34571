"""Writes of failover settings and payer routes (seed 001). Every one is atomic, validated
with full_clean() and audited in the same transaction."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.audit import audit, model_values
from billing.models import Organization, Payer, User
from clearinghouse import health
from clearinghouse.models import ClearinghouseConfig, FailoverSettings, PayerRoute
from clearinghouse.services import clearinghouse_acknowledge_baa

SETTINGS_FIELDS = [
    "primary_id",
    "secondary_id",
    "health_check_interval_s",
    "failure_threshold",
    "recovery_cooldown_s",
    "transaction_timeout_ms",
    "allow_simulated_failures",
]
ROUTE_FIELDS = ["payer_id", "forced_vendor_id", "allow_failover"]
SIMULATED_FAILURE_ACTION = "clearinghouse.simulated_health_failure"
SIMULATION_OFF = (
    "Simulated health failures are off for this organization: an admin can allow them in "
    "the failover settings."
)


def _changed(old: dict[str, Any], new: dict[str, Any]) -> tuple[dict, dict]:
    keys = [k for k in new if old.get(k) != new[k]]
    return {k: old.get(k) for k in keys}, {k: new[k] for k in keys}


def baa_required_message(config: ClearinghouseConfig) -> str:
    return f"Confirm the BAA is on file for {config} before saving."


def duplicate_route_message(payer: Payer) -> str:
    return f"{payer} already has a payer route. Edit that one instead."


def _check_config(organization: Organization, config: ClearinghouseConfig | None, field: str):
    if config is not None and config.organization_id != organization.pk:
        raise ValidationError({field: "That clearinghouse belongs to another organization."})


def failover_settings_save(
    *,
    organization: Organization,
    actor: User,
    primary: ClearinghouseConfig | None,
    secondary: ClearinghouseConfig | None,
    health_check_interval_s: int,
    failure_threshold: int,
    recovery_cooldown_s: int,
    transaction_timeout_ms: int,
    allow_simulated_failures: bool | None = None,
    baa_acknowledged: bool = False,
    baa_signed_on: datetime.date | None = None,
) -> FailoverSettings:
    """Write the organization's failover settings (one row per organization). A secondary
    without a signed BAA is refused unless `baa_acknowledged`, which records the BAA on
    that clearinghouse config (date, who) in the same transaction."""
    _check_config(organization, primary, "primary")
    _check_config(organization, secondary, "secondary")
    if primary is not None and secondary is not None and primary.pk == secondary.pk:
        raise ValidationError({"secondary": "The secondary must be a different clearinghouse."})
    with transaction.atomic():
        if secondary is not None:
            secondary = ClearinghouseConfig.objects.select_for_update().get(
                pk=secondary.pk, organization=organization
            )
            if not secondary.baa_on_file:
                if not baa_acknowledged:
                    raise ValidationError({"baa_on_file": baa_required_message(secondary)})
                if baa_signed_on is None:
                    raise ValidationError({"baa_signed_on": "Enter the date the BAA was signed."})
                secondary = clearinghouse_acknowledge_baa(
                    organization=organization,
                    actor=actor,
                    config=secondary,
                    signed_on=baa_signed_on,
                )
        settings, created = FailoverSettings.objects.select_for_update().get_or_create(
            organization=organization
        )
        old = {} if created else model_values(settings, SETTINGS_FIELDS)
        settings.primary = primary
        settings.secondary = secondary
        settings.health_check_interval_s = health_check_interval_s
        settings.failure_threshold = failure_threshold
        settings.recovery_cooldown_s = recovery_cooldown_s
        settings.transaction_timeout_ms = transaction_timeout_ms
        if allow_simulated_failures is not None:
            settings.allow_simulated_failures = allow_simulated_failures
        settings.updated_by = actor
        settings.updated_at = timezone.now()
        settings.full_clean()
        settings.save()
        new = model_values(settings, SETTINGS_FIELDS)
        old_values, new_values = (old, new) if created else _changed(old, new)
        if created or new_values:
            audit(
                organization=organization,
                actor=actor,
                action="failover.settings",
                instance=settings,
                old_values=old_values,
                new_values=new_values,
            )
    return settings


def _check_route(organization: Organization, payer: Payer, vendor: ClearinghouseConfig) -> None:
    errors = {}
    if payer.organization_id != organization.pk:
        errors["payer"] = "That payer belongs to another organization."
    if vendor.organization_id != organization.pk:
        errors["forced_vendor"] = "That clearinghouse belongs to another organization."
    elif not vendor.baa_on_file:
        errors["forced_vendor"] = f"{vendor} has no signed BAA on file; record it first."
    if errors:
        raise ValidationError(errors)


def _save_route(route: PayerRoute) -> None:
    route.full_clean(validate_unique=False, validate_constraints=False)
    duplicate = (
        PayerRoute.objects.filter(organization_id=route.organization_id, payer_id=route.payer_id)
        .exclude(pk=route.pk)
        .exists()
    )
    if duplicate:
        raise ValidationError({"payer": duplicate_route_message(route.payer)})
    try:
        with transaction.atomic():
            route.save()
    except IntegrityError as error:  # a racing insert of the same payer
        raise ValidationError({"payer": duplicate_route_message(route.payer)}) from error


def payer_route_create(
    *,
    organization: Organization,
    actor: User,
    payer: Payer,
    forced_vendor: ClearinghouseConfig,
    allow_failover: bool,
) -> PayerRoute:
    _check_route(organization, payer, forced_vendor)
    with transaction.atomic():
        route = PayerRoute(
            organization=organization,
            payer=payer,
            forced_vendor=forced_vendor,
            allow_failover=allow_failover,
            created_by=actor,
        )
        _save_route(route)
        audit(
            organization=organization,
            actor=actor,
            action="failover.route_create",
            instance=route,
            old_values={},
            new_values=model_values(route, ROUTE_FIELDS),
        )
    return route


def payer_route_update(
    *,
    organization: Organization,
    actor: User,
    route: PayerRoute,
    payer: Payer,
    forced_vendor: ClearinghouseConfig,
    allow_failover: bool,
) -> PayerRoute:
    _check_route(organization, payer, forced_vendor)
    with transaction.atomic():
        route = PayerRoute.objects.select_for_update().get(pk=route.pk, organization=organization)
        old = model_values(route, ROUTE_FIELDS)
        route.payer = payer
        route.forced_vendor = forced_vendor
        route.allow_failover = allow_failover
        route.updated_at = timezone.now()
        _save_route(route)
        old_values, new_values = _changed(old, model_values(route, ROUTE_FIELDS))
        if new_values:
            audit(
                organization=organization,
                actor=actor,
                action="failover.route_update",
                instance=route,
                old_values=old_values,
                new_values=new_values,
            )
    return route


def payer_route_delete(*, organization: Organization, actor: User, route: PayerRoute) -> None:
    with transaction.atomic():
        route = PayerRoute.objects.select_for_update().get(pk=route.pk, organization=organization)
        old = model_values(route, ROUTE_FIELDS)
        record_id = route.pk
        audit(
            organization=organization,
            actor=actor,
            action="failover.route_delete",
            instance=route,
            record_id=record_id,
            old_values=old,
            new_values={},
        )
        route.delete()


def _health_values(state: health.Health) -> dict[str, Any]:
    return {
        "state": state.state,
        "failures": state.failures,
        "reason": state.reason,
        "cooldown_remaining_s": state.cooldown_remaining_s,
    }


def failover_simulate_health_failure(
    *, organization: Organization, actor: User, config: ClearinghouseConfig
) -> health.Health:
    """A drill: record failed health checks (reason `consecutive_health_failures`) for one
    vendor of the failover pair until it is degraded, `failure_threshold` of them from a
    clean state, at least one, so the next routing decision fails over at once instead of
    after `failure_threshold * health_check_interval_s` seconds. Only where the settings
    allow simulated failures. Real health checks heal it like any outage: the vendor must
    then stay healthy for the recovery cool-down.

    The health state lives in the cache, outside the database transaction; it is written
    first and the audit row (with the resulting state) in the same atomic block after it,
    under the settings row's lock so two clicks are recorded one after the other."""
    with transaction.atomic():
        settings = (
            FailoverSettings.objects.select_for_update().filter(organization=organization).first()
        )
        if settings is None or not settings.allow_simulated_failures:
            raise PermissionDenied(SIMULATION_OFF)
        if config.organization_id != organization.pk or config.pk not in (
            settings.primary_id,
            settings.secondary_id,
        ):
            raise ValidationError(
                f"{config} is not the primary or secondary vendor of the failover settings."
            )
        before = health.vendor_health(organization, config, settings)
        state, recorded = before, 0
        while recorded < max(1, settings.failure_threshold):
            state = health.record_failure(
                organization, config, reason=health.HEALTH_CHECK_FAILURES, settings=settings
            )
            recorded += 1
            if state.state == health.DEGRADED:
                break
        audit(
            organization=organization,
            actor=actor,
            action=SIMULATED_FAILURE_ACTION,
            instance=config,
            old_values=_health_values(before),
            new_values={
                "config_id": config.pk,
                "simulated_failures": recorded,
                **_health_values(state),
            },
        )
    return state
