"""Who may open the payments pages: both `can_see_billing` and `sees_all_billing` (seed 003),
403 without either; another organization's payments are 404 to its members."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from billing.models import AuditLog
from payments.models import InsurancePayment
from tests.payments.pages import NPI, automatic, manual, member_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def payments(org):
    return {"manual": manual(org, ach_check_number="CHK-1"), "automatic": automatic(org)}


def _csv(text: str = "date,amount,description\n2026-03-04,150.00,DEPOSIT CHK-1\n"):
    return SimpleUploadedFile("deposits.csv", text.encode(), content_type="text/csv")


def _requests(payment):
    """(method, url, data) for every page and action; `payment` supplies the ids."""
    pk = payment.pk
    edit = {
        "paid_date": "2026-03-05",
        "payer_name": "Changed",
        "paid_amount": "1.00",
        "npi": NPI,
        "deposit_status": "DEPOSITED",
    }
    return [
        ("get", reverse("payment_list"), None),
        ("get", reverse("payment_add"), None),
        ("post", reverse("payment_add"), edit),
        ("get", reverse("payment_edit", args=[pk]), None),
        ("post", reverse("payment_edit", args=[pk]), edit),
        ("get", reverse("payment_delete", args=[pk]), None),
        ("post", reverse("payment_deposit_status", args=[pk]), {"deposit_status": "DEPOSITED"}),
        ("post", reverse("payments_mark_deposited"), {"payment_ids": [pk]}),
        ("get", reverse("payments_reconciliation"), None),
        ("post", reverse("payments_reconciliation_import"), "csv"),
        ("post", reverse("payment_delete", args=[pk]), {}),
    ]


def _send(client, method, url, data):
    if data == "csv":
        return client.post(url, {"deposits": _csv()})
    return getattr(client, method)(url, data) if data is not None else client.get(url)


def _snapshot(org):
    return list(
        InsurancePayment.objects.filter(organization=org)
        .order_by("pk")
        .values("pk", "payer_name", "paid_amount", "deposit_status", "deleted_at")
    )


@pytest.mark.parametrize(
    "codes",
    [
        pytest.param(["can_see_billing"], id="without-sees_all_billing"),
        pytest.param(["sees_all_billing"], id="without-can_see_billing"),
        pytest.param(["pm.payers.manage", "pm.charges.edit"], id="without-both"),
    ],
)
def test_it_refuses_a_member_missing_a_billing_code(org, login, payments, codes):
    client = login(member_with(org, "partial", codes))
    before = _snapshot(org)
    for payment in payments.values():
        for method, url, data in _requests(payment):
            response = _send(client, method, url, data)
            assert response.status_code == 403, (method, url)
    assert _snapshot(org) == before
    assert not AuditLog.objects.filter(action__startswith="insurance_payment").exists()


def test_the_billing_clerk_lacks_sees_all_billing(org, login, clerk, payments):
    assert login(clerk).get(reverse("payment_list")).status_code == 403


def test_the_menu_shows_payments_only_with_both_codes(org, login, manager):
    body = login(manager).get(reverse("dashboard")).content.decode()
    assert f'href="{reverse("payment_list")}"' in body
    partial = member_with(org, "partial", ["can_see_billing"])
    body = login(partial).get(reverse("dashboard")).content.decode()
    assert f'href="{reverse("payment_list")}"' not in body


def test_a_member_with_both_codes_only_may_use_every_page(org, login, payments):
    client = login(member_with(org, "billing", ["can_see_billing", "sees_all_billing"]))
    for method, url, data in _requests(payments["manual"]):
        response = _send(client, method, url, data)
        assert response.status_code in (200, 302), (method, url, response.status_code)


@pytest.mark.parametrize("source", ["manual", "automatic"])
def test_another_organizations_member_gets_404_for_our_payments(
    org, other, login, payments, source
):
    client = login(other)
    before = _snapshot(org)
    payment = payments[source]
    for method, url, data in _requests(payment):
        if str(payment.pk) not in url and not (data and data != "csv" and "payment_ids" in data):
            continue
        response = _send(client, method, url, data)
        assert response.status_code == 404, (method, url)
    assert _snapshot(org) == before
    assert not AuditLog.objects.filter(action__startswith="insurance_payment").exists()


def test_another_organizations_pages_do_not_show_our_payments(org, other, login, payments):
    client = login(other)
    body = client.get(reverse("payment_list")).content.decode()
    assert "No insurance payments yet" in body
    assert "Aetna" not in body
    body = client.get(reverse("payments_reconciliation")).content.decode()
    assert "Blue Cross" not in body
    response = client.post(reverse("payments_reconciliation_import"), {"deposits": _csv()})
    assert response.context["result"].proposals == []
    assert "No pending payment" in response.content.decode()
