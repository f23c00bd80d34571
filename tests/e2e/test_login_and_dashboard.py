from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import Charge, Claim
from billing.permissions import BILLING_MANAGER_ROLE
from billing.selectors.core import dashboard_numbers
from tests import factories
from tests.browser import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _practice_data(org, *, charges: dict[str, int], claims: dict[str, int], owed: str):
    encounter = factories.EncounterFactory(organization=org, patient__organization=org)
    for status, count in charges.items():
        factories.ChargeFactory.create_batch(count, encounter=encounter, status=status)
    coverage = factories.CoverageFactory(patient=encounter.patient)
    for status, count in claims.items():
        factories.ClaimFactory.create_batch(
            count, encounter=encounter, coverage=coverage, status=status
        )
    factories.LedgerEntryFactory(encounter=encounter, amount=Decimal(owed))


def test_admin_logs_in_switches_organization_and_sees_each_dashboards_numbers(
    page, admin_user, org, other_org
):
    factories.MembershipFactory(
        user=admin_user, organization=other_org, role=factories.role(BILLING_MANAGER_ROLE)
    )
    _practice_data(
        org, charges={"draft": 3, "approved": 2, "billed": 4}, claims={"paid": 2}, owed="1234.50"
    )
    _practice_data(other_org, charges={"draft": 1}, claims={"denied": 3}, owed="20.00")

    page.goto("/")
    assert "/login/" in page.url
    page.fill("#id_username", "admin")
    page.fill("#id_password", "wrong")
    page.click("button[type=submit]")
    assert "Please enter a correct username and password" in page.inner_text("[role=alert]")

    page.fill("#id_username", "admin")
    page.fill("#id_password", "demo")
    page.click("button[type=submit]")
    page.wait_for_selector("h1:has-text('Dashboard')")
    assert page.input_value("#org-select") == str(org.pk)

    numbers = dashboard_numbers(org, timezone.localdate())
    for value, _label, count, _amount in numbers["charges_by_status"]:
        assert page.inner_text(f"[data-testid=charges-{value}]") == str(count)
    for value, _label, count, _amount in numbers["claims_by_status"]:
        assert page.inner_text(f"[data-testid=claims-{value}]") == str(count)
    assert page.inner_text("[data-testid=open-balance]") == "$1,234.50"
    assert Charge.objects.filter(organization=org, status="draft").count() == 3
    screenshot(page, "dashboard-demo-family-practice")

    page.select_option("#org-select", str(other_org.pk))
    page.wait_for_selector(f"text=You are now working in {other_org.name}")
    assert page.inner_text("[data-testid=claims-denied]") == "3"
    assert page.inner_text("[data-testid=charges-draft]") == "1"
    assert page.inner_text("[data-testid=open-balance]") == "$20.00"
    assert Claim.objects.filter(organization=other_org, status="denied").count() == 3
    screenshot(page, "dashboard-northside")
