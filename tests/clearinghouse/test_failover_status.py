"""The Failover Settings page's status panel (the pair's health, where traffic goes now, the
latest failovers) and its "Simulate health failure" button."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from billing.models import AuditLog
from clearinghouse import health, router
from clearinghouse.failover_services import SIMULATED_FAILURE_ACTION
from clearinghouse.models import FailoverSettings, PayerRoute
from tests import factories
from tests.cache import empty_cache  # noqa: F401  (autouse)

pytestmark = pytest.mark.django_db

URL = reverse("failover_settings")
PANEL_HEADERS = {"HX-Request": "true", "HX-Target": "fo-status"}


def _config(org, name, vendor):
    return factories.ClearinghouseConfigFactory(
        organization=org,
        display_name=name,
        vendor=vendor,
        baa_on_file=True,
        baa_signed_on=datetime.date(2026, 1, 5),
        baa_acknowledged_at=timezone.now(),
    )


@pytest.fixture
def pair(org):
    waystar = _config(org, "Waystar", "waystar")
    availity = _config(org, "Availity", "availity")
    settings = FailoverSettings.objects.create(
        organization=org,
        primary=waystar,
        secondary=availity,
        failure_threshold=3,
        recovery_cooldown_s=300,
        allow_simulated_failures=True,
    )
    return waystar, availity, settings


def _enrolled(org, name, *vendors):
    payer = factories.PayerFactory(organization=org, name=name)
    for vendor in vendors:
        factories.PayerEnrollmentFactory(
            organization=org,
            payer=payer,
            clearinghouse=vendor,
            enrollment_status="active",
            covers_837p=True,
            covers_270=True,
        )
    return payer


def _simulate(client, config):
    return client.post(reverse("failover_simulate", args=[config.pk]))


def _text(html: str) -> str:
    """The page's visible text, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _panel(body: str) -> str:
    start = body.index('id="fo-status"')
    return _text(body[start : body.index("</section>", start)])


# --- the status panel ----------------------------------------------------------------------


def test_it_shows_each_vendors_health_and_where_traffic_goes(admin_user, login, org, pair):
    waystar, availity, settings = pair
    acme = _enrolled(org, "Acme Health", waystar, availity)
    medicaid = _enrolled(org, "State Medicaid", availity)
    PayerRoute.objects.create(
        organization=org, payer=acme, forced_vendor=availity, allow_failover=True
    )
    PayerRoute.objects.create(organization=org, payer=medicaid, forced_vendor=availity)
    health.record_failure(org, waystar, reason=health.TRANSACTION_TIMEOUTS, settings=settings)

    panel = _panel(login(admin_user).get(URL).content.decode())

    assert "Primary Waystar Healthy 1 Transaction timeouts" in panel
    assert "Secondary Availity Healthy 0 none" in panel
    assert "All payers Primary → secondary Waystar Primary in use" in panel
    assert "Acme Health Forced to Availity, with fallback Availity Payer route" in panel
    assert "State Medicaid Hard pin to Availity Availity Payer route" in panel
    assert "No failovers recorded yet." in panel


def test_it_shows_a_degraded_primary_the_failover_and_a_hard_pins_error(
    admin_user, login, org, pair
):
    waystar, availity, settings = pair
    acme = _enrolled(org, "Acme Health", waystar, availity)
    PayerRoute.objects.create(organization=org, payer=acme, forced_vendor=availity)
    for vendor in (waystar, availity):
        for _ in range(3):
            health.record_failure(
                org, vendor, reason=health.HEALTH_CHECK_FAILURES, settings=settings
            )

    panel = _panel(login(admin_user).get(URL).content.decode())

    assert "Primary Waystar Degraded 3 Consecutive health failures 300 s once healthy" in panel
    assert "Both clearinghouses are unavailable: Waystar is degraded" in panel
    assert (
        "Payer Acme Health is pinned to Availity, which is degraded "
        "(consecutive_health_failures) (reason: consecutive_health_failures); failover is off "
        "for this payer, so nothing was sent." in panel
    )


def test_it_counts_down_the_cool_down_of_a_recovering_vendor(admin_user, login, org, pair):
    waystar, _, settings = pair
    with time_machine.travel("2026-11-25 12:00:00Z", tick=False) as clock:
        for _ in range(3):
            health.record_failure(
                org, waystar, reason=health.HEALTH_CHECK_FAILURES, settings=settings
            )
        health.record_success(org, waystar, settings=settings)
        clock.shift(120)
        panel = _panel(login(admin_user).get(URL).content.decode())
    assert "Primary Waystar Recovering 0 Consecutive health failures 180 s" in panel
    assert "All payers Primary → secondary Availity Failed over" in panel


def test_it_lists_the_latest_ten_failovers_of_this_organization(
    admin_user, login, org, other_org, pair
):
    waystar, availity, settings = pair
    acme = _enrolled(org, "Acme Health", waystar, availity)
    for _ in range(3):
        health.record_failure(org, waystar, reason=health.HEALTH_CHECK_FAILURES, settings=settings)
    for payer in (None, acme):
        router.resolve_vendor_route_with_audit(organization=org, payer=payer, transaction="270")
    theirs = _config(other_org, "Their Waystar", "waystar")
    AuditLog.objects.create(
        organization=other_org,
        action=router.AUDIT_ACTION,
        table_name="clearinghouse_routedecision",
        new_values={"vendor": theirs.pk, "vendor_name": "Their Waystar", "failed_over": True},
    )
    for minute in range(12):
        AuditLog.objects.create(
            organization=org,
            action=router.AUDIT_ACTION,
            table_name="clearinghouse_routedecision",
            created_at=timezone.now() - datetime.timedelta(days=1, minutes=minute),
            new_values={"vendor": availity.pk, "vendor_name": "Old", "failed_over": False},
        )

    panel = _panel(login(admin_user).get(URL).content.decode())

    events = panel[panel.index("Recent failovers") :]
    assert "Acme Health Availity Yes Consecutive health failures" in events
    assert "All payers Availity Yes Consecutive health failures" in events
    assert events.count(" Old No ") == 8  # ten rows in all
    assert "Their Waystar" not in panel


def test_it_reads_a_constant_number_of_rows_however_long_the_history(admin_user, login, org, pair):
    waystar, availity, settings = pair
    acme = _enrolled(org, "Acme Health", waystar, availity)
    PayerRoute.objects.create(organization=org, payer=acme, forced_vendor=availity)
    client = login(admin_user)

    def outage_and_recovery(payer) -> None:
        router.resolve_vendor_route_with_audit(organization=org, payer=payer, transaction="837P")
        for _ in range(3):
            health.record_failure(
                org, waystar, reason=health.HEALTH_CHECK_FAILURES, settings=settings
            )
        router.resolve_vendor_route_with_audit(organization=org, payer=payer, transaction="837P")
        health.reset_health(org, waystar)

    def page_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL).status_code == 200
        return len(queries)

    outage_and_recovery(_enrolled(org, "First", waystar, availity))
    before = page_queries()
    for i in range(15):
        outage_and_recovery(_enrolled(org, f"Payer {i:02}", waystar, availity))
    assert AuditLog.objects.filter(action=router.AUDIT_ACTION).count() == 16
    assert page_queries() == before


def test_the_page_stays_within_its_query_budget(
    admin_user, login, org, pair, django_assert_max_num_queries
):
    waystar, availity, settings = pair
    for i in range(3):
        payer = _enrolled(org, f"Routed {i}", waystar, availity)
        PayerRoute.objects.create(
            organization=org, payer=payer, forced_vendor=waystar, allow_failover=True
        )
    for _ in range(3):
        health.record_failure(org, waystar, reason=health.HEALTH_CHECK_FAILURES, settings=settings)
    for route in PayerRoute.objects.all():
        router.resolve_vendor_route_with_audit(
            organization=org, payer=route.payer, transaction="837P"
        )
    client = login(admin_user)
    # The request's own reads (session, user, membership, the settings, the form's choices,
    # the payer routes, the audit rows and their payers) stay fixed; the pure router reads
    # two rows (the route, the enrollment) for each payer route it resolves. On PostgreSQL
    # the tenant context also sets and clears app.organization_id.
    tenant = 2 if connection.vendor == "postgresql" else 0
    with django_assert_max_num_queries(12 + tenant + 2 * 3):
        body = client.get(URL).content.decode()
    assert _panel(body).count("Availity Failed over") == 4  # all payers and the three routes
    with django_assert_max_num_queries(9 + tenant + 2 * 3):
        client.get(URL, headers=PANEL_HEADERS)


def test_htmx_refreshes_only_the_panel(clerk, login, pair):
    response = login(clerk).get(URL + "?tab=settings", headers=PANEL_HEADERS)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<section class="card fo-status" id="fo-status"')
    assert "<h1>" not in body and 'id="fo-settings"' not in body
    assert "Primary Waystar Healthy" in _text(body)
    assert "HX-Request" in response["Vary"]


def test_the_panel_needs_the_pages_read_code(org, login, pair):
    from billing.models import Membership, Role

    role = Role.objects.create(organization=org, name="No payers", codes=["can_see_billing"])
    user = factories.UserFactory(username="nopayers")
    Membership.objects.create(user=user, organization=org, role=role)
    assert login(user).get(URL, headers=PANEL_HEADERS).status_code == 403


def test_it_says_so_when_no_pair_is_saved(admin_user, login, org):
    panel = _panel(login(admin_user).get(URL).content.decode())
    assert "No failover pair saved yet" in panel
    assert "No primary clearinghouse is set" in panel


def test_the_clerk_sees_the_panel_without_the_simulate_button(clerk, login, pair):
    body = login(clerk).get(URL).content.decode()
    assert "Primary Waystar Healthy" in _panel(body)
    assert "Simulate health failure</button>" not in body
    assert 'name="allow_simulated_failures"' in body  # shown, disabled
    assert re.search(r'name="allow_simulated_failures"[^>]*disabled', body)


# --- Simulate health failure ---------------------------------------------------------------


def test_the_admin_sees_one_simulate_button_per_vendor_when_allowed(admin_user, login, pair):
    waystar, availity, settings = pair
    body = login(admin_user).get(URL).content.decode()
    assert body.count("Simulate health failure</button>") == 2
    assert f'data-testid="simulate-{waystar.pk}"' in body
    assert f'data-testid="simulate-{availity.pk}"' in body
    assert "records up to 3 failed health checks in a row" in body  # the button's title

    settings.allow_simulated_failures = False
    settings.save()
    body = login(admin_user).get(URL).content.decode()
    assert "Simulate health failure</button>" not in body
    assert "check “Allow simulated health failures” below and save" in body


def test_simulating_degrades_the_vendor_at_once_and_audits(admin_user, login, org, pair):
    waystar, availity, settings = pair
    acme = _enrolled(org, "Acme Health", waystar, availity)
    client = login(admin_user)

    response = _simulate(client, waystar)

    assert response.status_code == 302
    state = health.vendor_health(org, waystar, settings)
    assert (state.state, state.failures, state.reason) == (
        "degraded",
        3,
        "consecutive_health_failures",
    )
    row = AuditLog.objects.get(organization=org, action=SIMULATED_FAILURE_ACTION)
    assert row.actor == admin_user
    assert row.record_id == str(waystar.pk)
    assert row.old_values["state"] == "healthy"
    assert row.new_values == {
        "config_id": waystar.pk,
        "simulated_failures": 3,
        "state": "degraded",
        "failures": 3,
        "reason": "consecutive_health_failures",
        "cooldown_remaining_s": 300,
    }
    page = client.get(response["Location"]).content.decode()
    assert (
        "Simulated health failure: Waystar is degraded (3 failed health checks in a row). "
        "The next routing decision fails over to Availity (payers on the global route). "
        "Real health checks heal it once Waystar is actually healthy and stays so for the "
        "300 s cool-down." in _text(page)
    )
    assert "All payers Primary → secondary Availity Failed over" in _panel(page)

    # the next (audited) routing decision fails over and says why
    result = router.resolve_vendor_route_with_audit(organization=org, payer=acme, transaction="270")
    assert (result.vendor, result.failed_over) == (availity, True)
    audited = AuditLog.objects.get(organization=org, action=router.AUDIT_ACTION)
    assert audited.new_values["reason"] == "consecutive_health_failures"


def test_simulating_the_secondary_keeps_the_global_route(admin_user, login, org, pair):
    _, availity, settings = pair
    client = login(admin_user)
    response = _simulate(client, availity)
    assert health.vendor_health(org, availity, settings).state == "degraded"
    page = _text(client.get(response["Location"]).content.decode())
    assert (
        "The global route stays on Waystar; payers routed to Availity fail over "
        "(hard pins refuse)." in page
    )


def test_a_second_click_on_a_degraded_vendor_records_one_more_failure(admin_user, login, org, pair):
    waystar, _, settings = pair
    client = login(admin_user)
    _simulate(client, waystar)
    _simulate(client, waystar)
    assert health.vendor_health(org, waystar, settings).failures == 4
    rows = AuditLog.objects.filter(action=SIMULATED_FAILURE_ACTION).order_by("pk")
    assert [r.new_values["simulated_failures"] for r in rows] == [3, 1]


def test_real_health_checks_heal_a_simulated_failure_after_the_cool_down(
    admin_user, login, org, pair
):
    waystar, _, settings = pair
    with time_machine.travel("2026-11-25 12:00:00Z", tick=False) as clock:
        _simulate(login(admin_user), waystar)
        health.record_success(org, waystar, settings=settings)
        clock.shift(299)
        assert health.vendor_health(org, waystar, settings).state == "recovering"
        clock.shift(2)
        assert health.vendor_health(org, waystar, settings).state == "healthy"


def test_simulating_is_refused_when_the_settings_do_not_allow_it(admin_user, login, org, pair):
    waystar, _, settings = pair
    settings.allow_simulated_failures = False
    settings.save()
    response = _simulate(login(admin_user), waystar)
    assert response.status_code == 403
    assert health.vendor_health(org, waystar, settings).failures == 0
    assert not AuditLog.objects.filter(action=SIMULATED_FAILURE_ACTION).exists()


def test_simulating_is_refused_without_saved_settings(admin_user, login, org):
    config = _config(org, "Waystar", "waystar")
    assert _simulate(login(admin_user), config).status_code == 403
    assert not AuditLog.objects.filter(action=SIMULATED_FAILURE_ACTION).exists()


def test_simulating_needs_the_admin_code(clerk, manager, login, org, pair):
    waystar, _, settings = pair
    for user in (clerk, manager):
        assert _simulate(login(user), waystar).status_code == 403
    assert health.vendor_health(org, waystar, settings).failures == 0
    assert not AuditLog.objects.filter(action=SIMULATED_FAILURE_ACTION).exists()


def test_simulating_another_organizations_vendor_is_a_404(
    admin_user, other, login, org, other_org, pair
):
    waystar, _, settings = pair
    theirs = _config(other_org, "Their Waystar", "waystar")
    FailoverSettings.objects.create(
        organization=other_org, primary=theirs, allow_simulated_failures=True
    )
    assert _simulate(login(other), waystar).status_code == 404
    assert _simulate(login(admin_user), theirs).status_code == 404
    assert health.vendor_health(org, waystar, settings).failures == 0
    assert health.vendor_health(other_org, theirs, settings).failures == 0
    assert not AuditLog.objects.filter(action=SIMULATED_FAILURE_ACTION).exists()


def test_simulating_a_vendor_outside_the_pair_is_refused_with_a_message(
    admin_user, login, org, pair
):
    _, _, settings = pair
    claim_md = _config(org, "Claim.MD", "claim_md")
    client = login(admin_user)
    response = _simulate(client, claim_md)
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Claim.MD is not the primary or secondary vendor of the failover settings." in page
    assert health.vendor_health(org, claim_md, settings).failures == 0
    assert not AuditLog.objects.filter(action=SIMULATED_FAILURE_ACTION).exists()


def test_simulating_is_post_only(admin_user, login, pair):
    waystar, _, _ = pair
    response = login(admin_user).get(reverse("failover_simulate", args=[waystar.pk]))
    assert response.status_code == 405


# --- the setting that allows it --------------------------------------------------------------


def test_the_admin_turns_simulated_failures_on_and_it_is_audited(admin_user, login, org, pair):
    waystar, availity, settings = pair
    settings.allow_simulated_failures = False
    settings.save()
    data = {
        "primary": waystar.pk,
        "secondary": availity.pk,
        "health_check_interval_s": 60,
        "failure_threshold": 3,
        "recovery_cooldown_s": 300,
        "transaction_timeout_ms": 15000,
        "allow_simulated_failures": "on",
    }
    assert login(admin_user).post(URL, data).status_code == 302
    settings.refresh_from_db()
    assert settings.allow_simulated_failures
    row = AuditLog.objects.get(action="failover.settings")
    assert row.old_values == {"allow_simulated_failures": False}
    assert row.new_values == {"allow_simulated_failures": True}
    body = login(admin_user).get(URL).content.decode()
    assert re.search(r'name="allow_simulated_failures"[^>]*checked', body)
