"""Scheduled health checks of the failover pair, and the health badge they feed."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from clearinghouse import health
from clearinghouse.models import FailoverSettings
from clearinghouse.vendor_tasks import run_health_checks
from clearinghouse.vendors.base import HealthResult, TransientFailure
from tests import factories
from tests.cache import clear_cache

pytestmark = pytest.mark.django_db


class ScriptedAdapter:
    """A stand-in vendor whose health checks answer from a script."""

    answers: list[object] = []
    calls = 0

    def __init__(self, *args, **kwargs):
        pass

    def health_check(self):
        type(self).calls += 1
        answer = type(self).answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
def pair(org, monkeypatch):
    clear_cache()
    primary = factories.ClearinghouseConfigFactory(organization=org, display_name="Waystar")
    secondary = factories.ClearinghouseConfigFactory(organization=org, display_name="Availity")
    settings = FailoverSettings.objects.create(
        organization=org,
        primary=primary,
        secondary=secondary,
        health_check_interval_s=60,
        failure_threshold=2,
        recovery_cooldown_s=300,
    )
    monkeypatch.setattr("clearinghouse.vendors.adapter_class", lambda vendor: ScriptedAdapter)
    ScriptedAdapter.calls = 0
    return primary, secondary, settings


def test_it_checks_the_pair_once_per_interval_and_marks_a_failing_vendor_degraded(org, pair):
    primary, secondary, settings = pair
    down = TransientFailure("sandbox", "cannot connect")
    ScriptedAdapter.answers = [down, HealthResult(True, 5), down, HealthResult(True, 5)]
    with time_machine.travel("2026-11-25 12:00:00Z") as clock:
        assert run_health_checks() == {org.slug: 2}
        assert run_health_checks() == {}  # not again within the interval
        assert ScriptedAdapter.calls == 2
        clock.shift(61)
        run_health_checks()
        assert ScriptedAdapter.calls == 4
        assert health.vendor_health(org, primary, settings).state == "degraded"
        assert health.vendor_health(org, secondary, settings).state == "healthy"


def test_the_clearinghouse_pages_show_each_watched_vendors_health(login, admin_user, org, pair):
    primary, secondary, settings = pair
    for _ in range(2):
        health.record_failure(org, primary, reason="consecutive_health_failures", settings=settings)
    unwatched = factories.ClearinghouseConfigFactory(organization=org, display_name="Claim.MD")

    html = login(admin_user).get(reverse("clearinghouse_list")).content.decode()

    assert f'data-testid="health-{primary.pk}">Degraded<' in html
    assert f'data-testid="health-{secondary.pk}">Healthy<' in html
    assert f'data-testid="health-{unwatched.pk}">—<' in html
    detail = login(admin_user).get(reverse("clearinghouse_detail", args=[primary.pk]))
    assert "Degraded" in detail.content.decode()
