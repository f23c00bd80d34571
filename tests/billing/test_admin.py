from __future__ import annotations

import pytest
from django.urls import reverse

from billing.models import AuditLog, Payer
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_admin(admin_user):
    admin_user.is_staff = True
    admin_user.save()
    return admin_user


def test_it_shows_a_staff_org_admin_only_the_active_organizations_rows(
    login, staff_admin, org, other_org
):
    factories.PayerFactory(organization=org, name="Ours Health")
    factories.PayerFactory(organization=other_org, name="Theirs Health")
    html = login(staff_admin).get(reverse("admin:billing_payer_changelist")).content.decode()
    assert "Ours Health" in html
    assert "Theirs Health" not in html


def test_it_answers_404_for_another_organizations_row(login, staff_admin, other_org):
    theirs = factories.PayerFactory(organization=other_org)
    client = login(staff_admin)
    response = client.get(reverse("admin:billing_payer_change", args=[theirs.pk]))
    # The admin redirects a missing object to its index with a message: it does not exist here.
    assert response.status_code in (302, 404)
    assert "Theirs" not in client.get(reverse("admin:index")).content.decode()


def test_it_refuses_staff_without_the_org_admin_code(login, clerk, org):
    clerk.is_staff = True
    clerk.save()
    response = login(clerk).get(reverse("admin:billing_payer_changelist"))
    assert response.status_code == 403


def test_it_audits_a_change_made_in_the_admin(login, staff_admin, org):
    payer = factories.PayerFactory(organization=org, name="Old Name", payer_id="11111")
    response = login(staff_admin).post(
        reverse("admin:billing_payer_change", args=[payer.pk]),
        {
            "name": "New Name",
            "payer_id": "11111",
            "claim_filing_indicator": "CI",
            "address_line1": "",
            "address_line2": "",
            "city": "",
            "state": "",
            "zip_code": "",
            "phone": "",
        },
    )
    assert response.status_code == 302
    assert Payer.objects.get(pk=payer.pk).name == "New Name"
    row = AuditLog.objects.get(action="admin.change", record_id=str(payer.pk))
    assert (row.organization, row.actor) == (org, staff_admin)
    assert row.old_values["name"] == "Old Name" and row.new_values["name"] == "New Name"


def test_it_never_lets_anyone_edit_the_ledger_or_the_audit_log_by_hand(login, staff_admin, org):
    entry = factories.LedgerEntryFactory(organization=org, encounter__patient__organization=org)
    client = login(staff_admin)
    response = client.post(
        reverse("admin:billing_ledgerentry_change", args=[entry.pk]), {"amount": "1.00"}
    )
    assert response.status_code == 403
    assert client.post(reverse("admin:billing_ledgerentry_add"), {}).status_code == 403
