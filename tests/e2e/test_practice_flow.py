from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from billing.models import AuditLog, Charge, Coverage, LedgerEntry
from tests import factories
from tests.browser import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_biller_finds_a_patient_adds_a_coverage_and_two_charges_and_sees_them_listed(
    page, admin_user, org
):
    patient = factories.PatientFactory(organization=org, first_name="Rosa", last_name="Delgado")
    factories.PatientFactory(organization=org, first_name="Other", last_name="Person")
    payer = factories.PayerFactory(organization=org, name="Aetna", payer_id="60054")
    encounter = factories.EncounterFactory(
        organization=org, patient=patient, diagnosis_codes=["E11.9", "I10"]
    )

    page.goto("/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "demo")
    page.click("button[type=submit]")
    page.wait_for_selector("h1:has-text('Dashboard')")

    page.click("nav >> text=Patients")
    page.fill("#patient-q", "delgado")
    page.wait_for_selector("#patient-rows >> text=Person", state="detached")
    page.click("#patient-rows >> text=Delgado, Rosa")
    page.wait_for_selector("h1:has-text('Delgado, Rosa')")

    page.click("text=Add coverage")
    page.select_option("#id_payer", str(payer.pk))
    page.fill("#id_member_id", "W123456789")
    page.fill("#id_effective_from", "2026-01-01")
    page.click("button:has-text('Add coverage')")
    page.wait_for_selector("td:has-text('W123456789')")
    coverage = Coverage.objects.get(patient=patient)
    assert (coverage.payer, coverage.member_id) == (payer, "W123456789")

    page.click(f"a[href='/pm/encounters/{encounter.pk}']")
    for code, amount, pointer in [("99214", "185.00", "1"), ("36415", "15.00", "2")]:
        page.click("a.enc-button:has-text('Add charge')")
        page.fill("#id_procedure_code", code)
        page.fill("#id_amount", amount)
        page.select_option("#id_pointer_1", pointer)
        page.click("button:has-text('Add charge')")
        page.wait_for_selector(f"td:has-text('{code}')")
    screenshot(page, "encounter-with-two-charges")

    page.click("nav >> text=Charges")
    rows = page.locator("table.grid tbody tr")
    text = " ".join(rows.all_inner_texts())
    assert "99214" in text and "36415" in text and "Delgado" in text
    screenshot(page, "charges-list")

    charges = Charge.objects.filter(encounter=encounter).order_by("procedure_code")
    assert [(c.procedure_code, c.amount, c.status) for c in charges] == [
        ("36415", Decimal("15.00"), "draft"),
        ("99214", Decimal("185.00"), "draft"),
    ]
    assert encounter.balance == Decimal("200.00")
    assert LedgerEntry.objects.filter(encounter=encounter, kind="charge").count() == 2
    assert AuditLog.objects.filter(organization=org, action="charge.create").count() == 2
    assert AuditLog.objects.filter(organization=org, action="coverage.create").count() == 1
    assert encounter.date_of_service <= datetime.date.today()
