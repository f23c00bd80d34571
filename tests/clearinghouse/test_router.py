"""The vendor router (seed 001): precedence, failover timing, cool-down, enrollment
awareness, and one audit row per change of decision."""

from __future__ import annotations

import threading
import time

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection

from billing.models import AuditLog
from clearinghouse import health, router
from clearinghouse.models import FailoverSettings, PayerRoute, RouteDecision
from clearinghouse.router import (
    RouteError,
    resolve_vendor_route,
    resolve_vendor_route_with_audit,
)
from tests import factories
from tests.cache import clear_cache, empty_cache  # noqa: F401  (autouse)

T0 = 1_800_000_000.0
ALL_TYPES = {"covers_837p": True, "covers_270": True, "covers_276": True, "covers_278": True}


@pytest.fixture
def pair(org):
    """Primary Waystar and secondary Availity, thresholds small enough for drills."""
    primary = factories.ClearinghouseConfigFactory(organization=org, display_name="Waystar")
    secondary = factories.ClearinghouseConfigFactory(organization=org, display_name="Availity")
    settings = FailoverSettings.objects.create(
        organization=org,
        primary=primary,
        secondary=secondary,
        health_check_interval_s=60,
        failure_threshold=3,
        recovery_cooldown_s=300,
    )
    return primary, secondary, settings


@pytest.fixture
def payer(org, pair):
    primary, secondary, _ = pair
    payer = factories.PayerFactory(organization=org, name="Acme Health")
    for vendor, epid in ((primary, "WS111"), (secondary, "AV222")):
        factories.PayerEnrollmentFactory(
            organization=org,
            payer=payer,
            clearinghouse=vendor,
            electronic_payer_id=epid,
            enrollment_status="active",
            **ALL_TYPES,
        )
    return payer


def _degrade(org, vendor, settings, reason=health.HEALTH_CHECK_FAILURES):
    for _ in range(settings.failure_threshold):
        health.record_failure(org, vendor, reason=reason, settings=settings)


def _rows(org):
    return list(
        AuditLog.objects.filter(organization=org, action="clearinghouse_route_failover").order_by(
            "id"
        )
    )


# --- precedence ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "degraded", "expected", "failed_over", "reason", "epid"),
    [
        # 3. global: primary, else the secondary
        (None, [], "primary", False, "primary", "WS111"),
        (None, ["primary"], "secondary", True, "consecutive_health_failures", "AV222"),
        # 2. forced with fallback: the forced vendor, else the other vendor of the pair
        (("secondary", True), [], "secondary", False, "payer_route", "AV222"),
        (
            ("secondary", True),
            ["secondary"],
            "primary",
            True,
            "consecutive_health_failures",
            "WS111",
        ),
        (("primary", True), ["primary"], "secondary", True, "consecutive_health_failures", "AV222"),
        # the payer route wins over the global pair even when the primary is healthy
        (("secondary", True), ["primary"], "secondary", False, "payer_route", "AV222"),
        # 1. hard pin: the forced vendor (even when the global primary is degraded)
        (("secondary", False), ["primary"], "secondary", False, "payer_route", "AV222"),
    ],
)
def test_it_follows_the_seed_precedence(
    org, pair, payer, route, degraded, expected, failed_over, reason, epid
):
    primary, secondary, settings = pair
    vendors = {"primary": primary, "secondary": secondary}
    if route:
        PayerRoute.objects.create(
            organization=org, payer=payer, forced_vendor=vendors[route[0]], allow_failover=route[1]
        )
    for name in degraded:
        _degrade(org, vendors[name], settings)
    result = resolve_vendor_route(organization=org, payer=payer, transaction="270")
    assert result.vendor == vendors[expected]
    assert (result.failed_over, result.reason, result.electronic_payer_id) == (
        failed_over,
        reason,
        epid,
    )


def test_a_hard_pin_to_a_degraded_vendor_is_a_clear_error(org, pair, payer):
    _, secondary, settings = pair
    PayerRoute.objects.create(
        organization=org, payer=payer, forced_vendor=secondary, allow_failover=False
    )
    _degrade(org, secondary, settings, reason=health.TRANSACTION_TIMEOUTS)
    with pytest.raises(RouteError) as error:
        resolve_vendor_route_with_audit(organization=org, payer=payer, transaction="837P")
    message = str(error.value)
    assert "Acme Health" in message and "Availity" in message
    assert "transaction_timeouts" in message and "failover is off" in message
    assert _rows(org) == []


def test_it_reads_the_settings_on_every_decision(org, pair, payer):
    primary, secondary, settings = pair
    with time_machine.travel(T0, tick=False) as clock:
        _degrade(org, primary, settings)
        health.record_success(org, primary, settings=settings)
        clock.shift(100)
        assert resolve_vendor_route(organization=org, payer=payer, transaction="270").vendor == (
            secondary
        )
        FailoverSettings.objects.filter(pk=settings.pk).update(recovery_cooldown_s=60)
        assert resolve_vendor_route(organization=org, payer=payer, transaction="270").vendor == (
            primary
        )


# --- enrollment awareness and transaction types ------------------------------------------


def test_it_refuses_to_fail_over_to_a_vendor_without_an_enrollment(org, pair):
    primary, secondary, settings = pair
    payer = factories.PayerFactory(organization=org, name="Only Waystar Mutual")
    factories.PayerEnrollmentFactory(
        organization=org,
        payer=payer,
        clearinghouse=primary,
        enrollment_status="active",
        **ALL_TYPES,
    )
    # an enrollment with the secondary that does not cover 270 does not count
    factories.PayerEnrollmentFactory(
        organization=org, payer=payer, clearinghouse=secondary, enrollment_status="active"
    )
    _degrade(org, primary, settings)
    with pytest.raises(RouteError) as error:
        resolve_vendor_route(organization=org, payer=payer, transaction="270")
    assert "Only Waystar Mutual" in str(error.value) and "Availity" in str(error.value)
    assert "no active 270 enrollment" in str(error.value)
    # 837P is covered there: it fails over
    result = resolve_vendor_route(organization=org, payer=payer, transaction="837P")
    assert (result.vendor, result.failed_over) == (secondary, True)


@pytest.mark.parametrize("status", ["pending", "inactive", "rejected", "expired"])
def test_it_refuses_a_vendor_whose_enrollment_is_not_active(org, pair, status):
    primary, _, _ = pair
    payer = factories.PayerFactory(organization=org)
    factories.PayerEnrollmentFactory(
        organization=org, payer=payer, clearinghouse=primary, enrollment_status=status
    )
    with pytest.raises(RouteError, match="no active 837P enrollment"):
        resolve_vendor_route(organization=org, payer=payer, transaction="837P")


def test_it_never_routes_era_835(org, pair, payer):
    with pytest.raises(ValueError, match="never routed"):
        resolve_vendor_route(organization=org, payer=payer, transaction="835")
    with pytest.raises(ValueError, match="never routed"):
        resolve_vendor_route_with_audit(organization=org, payer=payer, transaction="835")


# --- timing with a controlled clock ------------------------------------------------------


@pytest.mark.parametrize(
    ("threshold", "interval", "reason"),
    [
        (3, 60, "consecutive_health_failures"),
        (2, 5, "consecutive_health_failures"),
        (1, 1, "consecutive_health_failures"),
        (3, 60, "transaction_timeouts"),
    ],
)
def test_it_fails_over_within_threshold_times_interval(
    org, pair, payer, threshold, interval, reason
):
    primary, secondary, settings = pair
    settings.failure_threshold, settings.health_check_interval_s = threshold, interval
    settings.save()
    with time_machine.travel(T0, tick=False) as clock:
        assert resolve_vendor_route_with_audit(
            organization=org, payer=payer, transaction="270"
        ).vendor == (primary)
        for _ in range(threshold):
            clock.shift(interval)
            health.record_failure(org, primary, reason=reason, settings=settings)
        result = resolve_vendor_route_with_audit(organization=org, payer=payer, transaction="270")
    assert (result.vendor, result.failed_over, result.reason) == (secondary, True, reason)
    [row] = _rows(org)
    assert row.table_name == "clearinghouse_routedecision"
    assert row.new_values == {
        "vendor": secondary.pk,
        "vendor_name": "Availity",
        "failed_over": True,
        "reason": reason,
        "payer_id": payer.pk,
    }


@pytest.mark.parametrize(
    ("healthy_for_s", "vendor", "rows"),
    [(0, "secondary", 1), (299, "secondary", 1), (300, "primary", 2), (900, "primary", 2)],
)
def test_it_flips_back_only_after_the_cool_down(org, pair, payer, healthy_for_s, vendor, rows):
    primary, secondary, settings = pair
    with time_machine.travel(T0, tick=False) as clock:
        _degrade(org, primary, settings)
        resolve_vendor_route_with_audit(organization=org, payer=payer, transaction="270")
        clock.shift(60)
        health.record_success(org, primary, settings=settings)
        clock.shift(healthy_for_s)
        result = resolve_vendor_route_with_audit(organization=org, payer=payer, transaction="270")
    assert result.vendor == {"primary": primary, "secondary": secondary}[vendor]
    audit_rows = _rows(org)
    assert len(audit_rows) == rows
    if rows == 2:
        assert result.reason == "recovered_after_cooldown"
        assert audit_rows[1].new_values == {
            "vendor": primary.pk,
            "vendor_name": "Waystar",
            "failed_over": False,
            "reason": "recovered_after_cooldown",
            "payer_id": payer.pk,
        }


def test_a_failure_during_the_cool_down_restarts_it(org, pair, payer):
    primary, secondary, settings = pair
    with time_machine.travel(T0, tick=False) as clock:
        _degrade(org, primary, settings)
        health.record_success(org, primary, settings=settings)
        clock.shift(200)
        health.record_failure(org, primary, reason=health.HEALTH_CHECK_FAILURES, settings=settings)
        health.record_success(org, primary, settings=settings)
        clock.shift(200)  # 400 s after the first success, 200 s after the restart
        assert resolve_vendor_route(organization=org, payer=payer, transaction="270").vendor == (
            secondary
        )
        clock.shift(100)
        assert resolve_vendor_route(organization=org, payer=payer, transaction="270").vendor == (
            primary
        )


# --- the audit trail ---------------------------------------------------------------------


def test_the_first_decision_is_a_silent_baseline_unless_it_is_a_failover(org, pair, payer):
    primary, secondary, settings = pair
    resolve_vendor_route_with_audit(organization=org, payer=payer, transaction="270")
    assert _rows(org) == []
    decision = RouteDecision.objects.get(organization=org, payer=payer)
    assert (decision.vendor, decision.failed_over) == (primary, False)
    # the global scope (payer None) starts with a failover: audited at once
    _degrade(org, primary, settings)
    result = resolve_vendor_route_with_audit(organization=org, payer=None, transaction="270")
    assert (result.vendor, result.failed_over, result.electronic_payer_id) == (secondary, True, "")
    [row] = _rows(org)
    assert row.new_values["payer_id"] is None


def test_repeated_decisions_write_one_row(org, pair, payer):
    primary, _, settings = pair
    _degrade(org, primary, settings)
    for _ in range(5):
        resolve_vendor_route_with_audit(organization=org, payer=payer, transaction="270")
        resolve_vendor_route_with_audit(organization=org, payer=payer, transaction="837P")
    assert len(_rows(org)) == 1, [(r.old_values, r.new_values) for r in _rows(org)]


@pytest.mark.parametrize("failed_over", [False, True])
def test_a_restart_writes_no_duplicate(org, pair, payer, failed_over):
    primary, _, settings = pair
    if failed_over:
        _degrade(org, primary, settings)
    resolve_vendor_route_with_audit(organization=org, payer=payer, transaction="270")
    # a restart forgets nothing persisted; the degraded state is still in the shared cache
    # (a cleared cache would mean the primary is healthy again, a real change of decision)
    before = cache.get(f"clearinghouse:health:{org.pk}:{primary.pk}")
    clear_cache()
    cache.set(f"clearinghouse:health:{org.pk}:{primary.pk}", before, timeout=None)
    result = resolve_vendor_route_with_audit(organization=org, payer=payer, transaction="270")
    assert result.failed_over is failed_over
    assert len(_rows(org)) == (1 if failed_over else 0)


def test_scopes_are_audited_separately(org, pair, payer):
    primary, _, settings = pair
    other_payer = factories.PayerFactory(organization=org)
    factories.PayerEnrollmentFactory(
        organization=org,
        payer=other_payer,
        clearinghouse=pair[1],
        enrollment_status="active",
        **ALL_TYPES,
    )
    _degrade(org, primary, settings)
    resolve_vendor_route_with_audit(organization=org, payer=payer, transaction="270")
    resolve_vendor_route_with_audit(organization=org, payer=other_payer, transaction="270")
    assert sorted(r.new_values["payer_id"] for r in _rows(org)) == sorted(
        [payer.pk, other_payer.pk]
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_workers_write_one_row(org, pair, payer, monkeypatch):
    primary, _, settings = pair
    resolve_vendor_route_with_audit(organization=org, payer=payer, transaction="270")  # baseline
    _degrade(org, primary, settings)
    real_audit = router.audit

    def slow_audit(**kwargs):  # hold the transaction open: the race window, made wide
        time.sleep(0.3)
        return real_audit(**kwargs)

    monkeypatch.setattr(router, "audit", slow_audit)
    start = threading.Barrier(4)
    errors = []

    def worker():
        try:
            start.wait()
            resolve_vendor_route_with_audit(organization=org, payer=payer, transaction="270")
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(_rows(org)) == 1
    assert RouteDecision.objects.filter(organization=org).count() == 1
