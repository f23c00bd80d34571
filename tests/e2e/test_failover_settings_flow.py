"""Failover Settings in a browser: the BAA-gated Save, a payer route, and the clerk's
read-only view of both tabs."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from billing.models import AuditLog
from clearinghouse.models import ClearinghouseConfig, FailoverSettings, PayerRoute
from tests import factories
from tests.browser import screenshot
from tests.cache import empty_cache  # noqa: F401  (autouse)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page, username: str) -> None:
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "demo")
    page.click("button[type=submit]")
    page.wait_for_selector("h1:has-text('Dashboard')")


def test_an_admin_sets_up_failover_and_a_clerk_only_reads_it(page, org, admin_user, clerk):
    signed = {
        "baa_on_file": True,
        "baa_signed_on": datetime.date(2026, 1, 5),
        "baa_acknowledged_at": timezone.now(),
    }
    waystar = factories.ClearinghouseConfigFactory(
        organization=org, display_name="Waystar", vendor="waystar", **signed
    )
    change = factories.ClearinghouseConfigFactory(
        organization=org, display_name="Change Healthcare", vendor="change_healthcare"
    )
    factories.PayerFactory(organization=org, name="State Medicaid")

    _log_in(page, "admin")
    page.goto("/pm/clearinghouse/failover")
    save = page.locator("#fo-save")
    secondary = page.locator("#id_secondary")
    box = page.locator("#id_baa_on_file")
    assert page.input_value("#id_primary") == str(waystar.pk)
    assert page.locator(f"#id_secondary option[value='{change.pk}']").is_disabled()

    # the option opens with the box; unchecking it again disables Save
    box.check()
    secondary.select_option(str(change.pk))
    assert save.is_enabled()
    box.uncheck()
    assert save.is_disabled()
    assert save.get_attribute("title") == (
        "Confirm the BAA is on file for the secondary vendor first."
    )
    box.check()
    assert save.is_enabled()
    page.fill("#id_failure_threshold", "2")
    save.click()
    page.wait_for_selector("text=Failover settings saved.")

    settings = FailoverSettings.objects.get(organization=org)
    assert (settings.primary_id, settings.secondary_id) == (waystar.pk, change.pk)
    assert settings.failure_threshold == 2
    assert ClearinghouseConfig.objects.get(pk=change.pk).baa_on_file
    assert page.locator("#fo-status").inner_text().count("Healthy") == 2

    page.click("nav.org-tabs >> text=Payer Routes")
    page.select_option("#id_payer", label="State Medicaid")
    page.select_option("#id_forced_vendor", label="Change Healthcare")
    page.check("#id_allow_failover")
    page.click("button:has-text('Add Payer Route')")
    page.wait_for_selector("text=Payer route for State Medicaid added.")
    row = page.locator("table.fo-routes tbody tr", has_text="State Medicaid")
    assert "Forced with fallback" in row.inner_text()
    route = PayerRoute.objects.get(organization=org)
    assert (route.forced_vendor_id, route.allow_failover) == (change.pk, True)
    assert AuditLog.objects.filter(action="failover.route_create").count() == 1
    screenshot(page, "failover-routes-admin")

    page.click("text=Log out")
    _log_in(page, "clerk")
    page.goto("/pm/clearinghouse/failover")
    assert page.locator("[data-testid=read-only]").is_visible()
    assert page.locator("#fo-save").count() == 0
    assert page.locator("#id_baa_on_file").count() == 0
    assert page.locator("#id_primary").is_disabled()
    assert page.locator("#id_failure_threshold").is_disabled()
    assert page.locator("button.fo-simulate").count() == 0
    panel = page.locator("#fo-status").inner_text()
    assert "State Medicaid" in panel and "Forced to Change Healthcare, with fallback" in panel
    screenshot(page, "failover-settings-clerk")

    page.click("nav.org-tabs >> text=Payer Routes")
    page.wait_for_selector("table.fo-routes")
    main = page.locator("main")
    assert "State Medicaid" in main.inner_text()
    assert main.locator("form").count() == 0
    assert main.locator("button").count() == 0
    assert page.locator("text=Add Payer Route").count() == 0
