"""Insurance payments in a browser: a biller enters a check by hand (fixing a bad NPI the page
points out), then reconciles it and an ERA payment against the bank's deposit file."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.models import AuditLog
from payments.models import InsurancePayment
from tests.browser import screenshot
from tests.payments.pages import automatic

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_biller_enters_a_check_and_reconciles_it_with_the_bank_file(page, org, manager):
    era_payment = automatic(org, paid_date="2026-03-03", paid_amount="410.25", trace="0012345678")

    page.goto("/login/")
    page.fill("#id_username", "manager")
    page.fill("#id_password", "demo")
    page.click("button[type=submit]")
    page.wait_for_selector("h1:has-text('Dashboard')")

    page.click("nav >> text=Payments")
    page.wait_for_selector("h1:has-text('Insurance Payments')")
    page.click("[data-testid=new-payment]")
    page.fill("#id_paid_date", "2026-03-02")
    page.fill("#id_payer_name", "Blue Cross Blue Shield")
    page.fill("#id_paid_amount", "150.00")
    page.fill("#id_npi", "12345")
    page.fill("#id_ach_check_number", "CHK-789012")
    page.click("[data-testid=save-payment]")
    page.wait_for_selector("[data-testid=error-npi]:has-text('NPI must be exactly 10 digits')")
    assert not InsurancePayment.objects.filter(source="manual").exists()
    screenshot(page, "payment-form-error")

    page.fill("#id_npi", "1234567890")
    page.click("[data-testid=save-payment]")
    page.wait_for_selector(
        "text=Manual payment of $150.00 from Blue Cross Blue Shield paid 03/02/2026 saved."
    )
    payment = InsurancePayment.objects.get(source="manual")
    assert (payment.paid_amount, payment.created_by) == (Decimal("150.00"), manager)
    rows = page.locator("[data-testid=payment-row]")
    assert rows.count() == 2
    assert "CHK-789012" in rows.all_inner_texts()[1]
    assert page.inner_text("[data-testid=payment-total]") == "$560.25"

    page.click("text=Reconciliation")
    page.wait_for_selector("h1:has-text('Deposit Reconciliation')")
    assert page.inner_text("[data-testid=pending-count]") == "2"
    page.set_input_files(
        "#id_deposits",
        files=[
            {
                "name": "march.csv",
                "mimeType": "text/csv",
                "buffer": (
                    b"date,amount,description\n"
                    b'2026-03-05,410.25,"HCCLAIMPMT BCBS TRN*1*0012345678*1512345678\\"\n'
                    b"2026-03-05,150.00,MOBILE DEPOSIT CHK-789012\n"
                    b"2026-03-06,-12.00,MONTHLY SERVICE FEE\n"
                ),
            }
        ],
    )
    page.click("[data-testid=match-deposits]")
    page.wait_for_selector("[data-testid=proposals]")
    assert page.locator("[data-testid=proposal]").count() == 2
    assert "Not a deposit" in page.inner_text("[data-testid=unmatched]")
    apply = page.locator("[data-testid=apply-matches]")
    assert apply.inner_text() == "Mark 2 deposited"
    screenshot(page, "payment-reconciliation-proposals")

    # untick the ERA payment: only the check is marked
    page.locator(f"[data-testid=proposal] input[value='{era_payment.pk}']").uncheck()
    assert apply.inner_text() == "Mark 1 deposited"
    apply.click()
    page.wait_for_selector("text=1 payment marked deposited.")
    payment.refresh_from_db()
    era_payment.refresh_from_db()
    assert payment.deposit_status == "DEPOSITED"
    assert era_payment.deposit_status == "PENDING"
    assert page.inner_text("[data-testid=pending-count]") == "1"
    row = AuditLog.objects.get(action="insurance_payment.mark_deposited")
    assert row.new_values["payment_ids"] == [payment.pk]
