from __future__ import annotations

import pytest

from billing.models import EligibilityCheck
from tests import factories
from tests.cache import empty_cache  # noqa: F401  (autouse)
from tests.clearinghouse import test_eligibility
from tests.clearinghouse.test_eligibility import _coverage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The sandbox as primary, its Waystar face as secondary, a payer enrolled for 270 with both.
eligibility_setup = test_eligibility.setup


def test_a_clerk_checks_eligibility_from_the_patient_page_and_the_schedule(
    eligibility_setup, page, clerk
):
    org, _sandbox, _secondary, payer, _server = eligibility_setup
    coverage = _coverage(org, payer)
    factories.AppointmentFactory(organization=org, patient=coverage.patient, reason="Knee pain")

    page.goto("/login/")
    page.fill("#id_username", "clerk")
    page.fill("#id_password", "demo")
    page.click("button[type=submit]")
    page.goto(f"/pm/patients/{coverage.patient_id}")
    page.click("[data-testid=coverage-eligibility] >> text=Check eligibility")

    page.wait_for_selector("[data-testid=eligibility-status]:has-text('Active')")
    benefits = page.inner_text("[data-testid=eligibility-benefits]")
    assert "SANDBOX GOLD PPO" in benefits and "$25.00" in benefits and "20%" in benefits
    assert not page.is_visible("text=271 response")  # the raw X12 is collapsed
    page.click("text=Raw X12")
    assert page.is_visible("text=271 response")

    page.goto("/pm/appointments")
    page.click("[data-testid=appointment-eligibility] >> text=Check eligibility")
    page.wait_for_selector("[data-testid=eligibility-status]:has-text('Active')")
    assert "Knee pain" not in page.inner_text("h1")
    checks = EligibilityCheck.objects.order_by("id")
    assert [c.appointment_id is not None for c in checks] == [False, True]
    page.goto("/pm/appointments")
    assert "copay $25.00" in page.inner_text("[data-testid=appointment-eligibility]")
