"""The demo's failover setup: Waystar primary, Availity secondary, payers enrolled with both,
a hard pin and a forced route with fallback, and simulated failures allowed."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from billing.models import Organization, Payer, User
from billing.tenancy import tenant_context
from clearinghouse import failover_services, router
from clearinghouse.models import FailoverSettings, PayerEnrollment, PayerRoute
from tests.cache import empty_cache  # noqa: F401  (autouse)

pytestmark = pytest.mark.django_db


def _active_payers(org, vendor: str, transaction: str) -> set[int]:
    return set(
        PayerEnrollment.objects.for_organization(org)
        .active_for(transaction)
        .filter(clearinghouse__vendor=vendor)
        .values_list("payer_id", flat=True)
    )


def test_the_demo_fails_over_from_waystar_to_availity(settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())
    admin = User.objects.get(username="admin")

    for org in Organization.objects.order_by("slug"):
        with tenant_context(org):
            failover = FailoverSettings.objects.select_related("primary", "secondary").get(
                organization=org
            )
            assert (failover.primary.vendor, failover.secondary.vendor) == ("waystar", "availity")
            assert failover.primary.baa_on_file and failover.secondary.baa_on_file
            assert failover.allow_simulated_failures
            assert failover.primary.base_url.endswith("/waystar")
            routes = list(PayerRoute.objects.for_organization(org).select_related("payer"))
            assert sorted(r.allow_failover for r in routes) == [False, True]
            assert {r.forced_vendor_id for r in routes} == {failover.secondary_id}
            both = {
                t: _active_payers(org, "waystar", t) & _active_payers(org, "availity", t)
                for t in ("837P", "270")
            }
            assert len(both["837P"]) >= 4 and len(both["270"]) >= 4
            routed = {r.payer_id for r in routes}
            payer = (
                Payer.objects.for_organization(org)
                .filter(pk__in=both["837P"] - routed)
                .order_by("name")
                .first()
            )

            before = router.resolve_vendor_route(organization=org, payer=payer, transaction="837P")
            assert (before.vendor, before.failed_over) == (failover.primary, False)

            failover_services.failover_simulate_health_failure(
                organization=org, actor=admin, config=failover.primary
            )
            after = router.resolve_vendor_route(organization=org, payer=payer, transaction="837P")
            assert (after.vendor, after.failed_over) == (failover.secondary, True)
            assert after.electronic_payer_id != before.electronic_payer_id  # Availity's own id
