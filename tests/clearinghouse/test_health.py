"""The vendor health state machine (seed 001): failures, degradation, the recovery cool-down."""

from __future__ import annotations

import threading

import pytest
import time_machine

from clearinghouse import health
from clearinghouse.models import FailoverSettings
from tests import factories
from tests.cache import empty_cache  # noqa: F401  (autouse)

T0 = 1_800_000_000.0


@pytest.fixture
def vendor(org):
    return factories.ClearinghouseConfigFactory(organization=org, display_name="Waystar")


def _settings(org, **kw):
    values = {"failure_threshold": 3, "recovery_cooldown_s": 300, "health_check_interval_s": 60}
    return FailoverSettings(organization=org, **{**values, **kw})


def test_it_starts_healthy(org, vendor):
    state = health.vendor_health(org, vendor, _settings(org))
    assert state == health.Health("healthy", 0, 0, "")
    assert health.is_available(org, vendor, _settings(org))


@pytest.mark.parametrize(
    ("threshold", "failures", "expected"),
    [(3, 1, "healthy"), (3, 2, "healthy"), (3, 3, "degraded"), (1, 1, "degraded")],
)
def test_it_degrades_at_the_failure_threshold(org, vendor, threshold, failures, expected):
    settings = _settings(org, failure_threshold=threshold)
    for _ in range(failures):
        state = health.record_failure(
            org, vendor, reason=health.HEALTH_CHECK_FAILURES, settings=settings
        )
    assert state.state == expected
    assert state.failures == failures
    assert state.reason == "consecutive_health_failures"


@pytest.mark.parametrize("reason", ["transaction_timeouts", "transaction_errors"])
def test_it_counts_transaction_failures_like_health_check_failures(org, vendor, reason):
    settings = _settings(org, failure_threshold=2)
    health.record_failure(org, vendor, reason=health.HEALTH_CHECK_FAILURES, settings=settings)
    state = health.record_failure(org, vendor, reason=reason, settings=settings)
    assert (state.state, state.reason) == ("degraded", reason)


def test_it_resets_the_count_on_success(org, vendor):
    settings = _settings(org)
    for _ in range(2):
        health.record_failure(org, vendor, reason=health.HEALTH_CHECK_FAILURES, settings=settings)
    health.record_success(org, vendor, settings=settings)
    state = health.record_failure(
        org, vendor, reason=health.HEALTH_CHECK_FAILURES, settings=settings
    )
    assert (state.state, state.failures) == ("healthy", 1)


def test_it_refuses_an_unknown_reason(org, vendor):
    with pytest.raises(ValueError, match="Unknown failure reason"):
        health.record_failure(org, vendor, reason="bad_luck", settings=_settings(org))


@pytest.mark.parametrize(
    ("healthy_for_s", "expected", "remaining"),
    [(0, "recovering", 300), (299, "recovering", 1), (300, "healthy", 0), (1000, "healthy", 0)],
)
def test_it_recovers_only_after_the_cool_down(org, vendor, healthy_for_s, expected, remaining):
    settings = _settings(org, failure_threshold=1)
    with time_machine.travel(T0, tick=False) as clock:
        health.record_failure(org, vendor, reason=health.HEALTH_CHECK_FAILURES, settings=settings)
        clock.shift(10)
        health.record_success(org, vendor, settings=settings)
        clock.shift(healthy_for_s)
        state = health.vendor_health(org, vendor, settings)
    assert (state.state, state.cooldown_remaining_s) == (expected, remaining)
    assert state.available is (expected == "healthy")


def test_it_keeps_the_cool_down_running_through_more_successes(org, vendor):
    settings = _settings(org, failure_threshold=1, recovery_cooldown_s=100)
    with time_machine.travel(T0, tick=False) as clock:
        health.record_failure(org, vendor, reason=health.HEALTH_CHECK_FAILURES, settings=settings)
        health.record_success(org, vendor, settings=settings)
        for _ in range(3):
            clock.shift(30)
            health.record_success(org, vendor, settings=settings)
        assert health.vendor_health(org, vendor, settings).cooldown_remaining_s == 10
        clock.shift(10)
        assert health.record_success(org, vendor, settings=settings).state == "healthy"


def test_a_failure_during_the_cool_down_restarts_it(org, vendor):
    settings = _settings(org, failure_threshold=3, recovery_cooldown_s=300)
    with time_machine.travel(T0, tick=False) as clock:
        for _ in range(3):
            health.record_failure(
                org, vendor, reason=health.HEALTH_CHECK_FAILURES, settings=settings
            )
        health.record_success(org, vendor, settings=settings)
        clock.shift(250)
        # one failure (below the threshold) while recovering: degraded again
        state = health.record_failure(
            org, vendor, reason=health.TRANSACTION_TIMEOUTS, settings=settings
        )
        assert (state.state, state.reason) == ("degraded", "transaction_timeouts")
        health.record_success(org, vendor, settings=settings)
        clock.shift(299)
        assert health.vendor_health(org, vendor, settings).state == "recovering"
        clock.shift(1)
        assert health.vendor_health(org, vendor, settings).state == "healthy"


def test_it_keeps_state_per_configuration_and_organization(org, other_org, vendor):
    settings = _settings(org, failure_threshold=1)
    second = factories.ClearinghouseConfigFactory(organization=org)
    health.record_failure(org, vendor, reason=health.HEALTH_CHECK_FAILURES, settings=settings)
    assert health.vendor_health(org, vendor, settings).state == "degraded"
    assert health.vendor_health(org, second, settings).state == "healthy"
    with pytest.raises(ValueError, match="another organization"):
        health.vendor_health(other_org, vendor, settings)


def test_concurrent_failures_are_all_counted(org, vendor):
    settings = _settings(org, failure_threshold=1000)
    start = threading.Barrier(8)

    def fail():
        start.wait()
        for _ in range(10):
            health.record_failure(
                org, vendor, reason=health.HEALTH_CHECK_FAILURES, settings=settings
            )

    threads = [threading.Thread(target=fail) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert health.vendor_health(org, vendor, settings).failures == 80
