"""Scheduled health checks of each organization's failover pair (seed 001, step 1)."""

from __future__ import annotations

import logging
import time

from django.core.cache import cache

from billing.models import Organization
from clearinghouse import health
from clearinghouse.models import ClearinghouseConfig, FailoverSettings
from clearinghouse.vendor_services import adapter_for
from clearinghouse.vendors.base import VendorError

logger = logging.getLogger(__name__)

HEALTH_CHECK_REASON = "consecutive_health_failures"


def health_checks_due(organization: Organization, settings: FailoverSettings) -> bool:
    """True at most once per `health_check_interval_s` for the organization, whichever
    process asks first. Times come from `time.time()` and are compared here rather than
    left to the cache's expiry, so every backend (and a test's clock) agrees; the atomic
    `add` of a per-interval slot lets only one process claim a slot."""
    interval = settings.health_check_interval_s
    now = time.time()
    key = f"health-check-due:{organization.pk}"
    next_due = cache.get(key)
    if next_due is not None and now < next_due:
        return False
    if not cache.add(f"{key}:{int(now // interval)}", 1, timeout=interval * 2):
        return False
    cache.set(key, now + interval, timeout=interval * 2)
    return True


def health_checks_run(
    *, organization: Organization, settings: FailoverSettings
) -> dict[int, health.Health]:
    """Check the primary and the secondary now, each under the transaction timeout, and
    feed the results to their health state machines."""
    results = {}
    configs = {c.pk: c for c in (settings.primary, settings.secondary) if c is not None}
    for config in configs.values():
        results[config.pk] = health_check_one(
            organization=organization, settings=settings, config=config
        )
    return results


def health_check_one(
    *, organization: Organization, settings: FailoverSettings, config: ClearinghouseConfig
) -> health.Health:
    try:
        adapter = adapter_for(config, timeout_ms=settings.transaction_timeout_ms)
        result = adapter.health_check()
        ok, detail = result.ok, result.detail
    except VendorError as error:
        ok, detail = False, error.message
    if ok:
        return health.record_success(organization, config, settings=settings)
    logger.warning("Health check failed for clearinghouse %s: %s", config.pk, detail)
    return health.record_failure(
        organization, config, reason=HEALTH_CHECK_REASON, settings=settings
    )
