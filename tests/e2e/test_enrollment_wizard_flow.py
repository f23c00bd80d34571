from __future__ import annotations

import pytest

from billing.models import AuditLog
from clearinghouse.models import PayerEnrollment
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_biller_runs_the_new_enrollment_wizard_end_to_end(page, admin_user, org):
    payer = factories.PayerFactory(organization=org, name="Cigna", payer_id="62308")
    factories.ClearinghouseConfigFactory(organization=org, display_name="Availity")

    page.goto("/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "demo")
    page.click("button[type=submit]")
    page.wait_for_selector("h1:has-text('Dashboard')")
    page.goto("/pm/clearinghouse/enrollments")
    page.click("text=New Enrollment")

    page.select_option("#id_payer", label="Cigna")
    page.click("button[value=next]")
    page.select_option("#id_clearinghouse", label="Availity")
    page.fill("#id_electronic_payer_id", "  CIGNA  ")
    page.click("button[value=next]")
    page.check("input[name=transaction_types][value='835']")
    page.click("button[value=back]")
    assert page.input_value("#id_electronic_payer_id").strip() == "CIGNA"
    page.click("button[value=next]")
    assert page.is_checked("input[name=transaction_types][value='835']")
    page.click("button[value=next]")
    page.wait_for_selector("button[value=create]")

    page.reload()  # the draft survives a reload
    review = page.inner_text("main")
    assert "Cigna" in review and "Availity" in review and "CIGNA" in review
    page.click("button[value=create]")
    page.wait_for_selector("text=Cigna")
    page.wait_for_url("**/pm/clearinghouse/enrollments*")

    enrollment = PayerEnrollment.objects.get(payer=payer)
    assert enrollment.electronic_payer_id == "CIGNA"
    assert enrollment.transaction_types == ["837P", "835"]
    assert enrollment.enrollment_status == "pending"
    assert AuditLog.objects.filter(
        action="enrollment.create", record_id=str(enrollment.pk)
    ).exists()
