"""Manual payments entered, edited and deleted by hand, with the seed's validation messages on
their fields; automatic payments read-only but for their deposit status."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.models import AuditLog
from payments.models import InsurancePayment
from tests.payments.pages import automatic, manual

pytestmark = pytest.mark.django_db

ADD = reverse("payment_add")
LIST = reverse("payment_list")

SEED_EXAMPLE = {
    "paid_date": "2024-01-20",
    "npi": "1234567890",
    "paid_amount": "150.00",
    "deposit_status": "PENDING",
    "payer_name": "Blue Cross Blue Shield",
    "ach_check_number": "CHK-789012",
}


@pytest.fixture
def client(login, manager):
    return login(manager)


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- create -----------------------------------------------------------------------------


def test_the_new_payment_form_starts_pending(client):
    body = client.get(ADD).content.decode()
    assert '<option value="PENDING" selected>Pending</option>' in body
    for label in ("Paid date", "Payer name", "Paid amount", "NPI", "Check/ACH number"):
        assert label in body


def test_it_saves_the_seeds_example_as_a_manual_payment(client, org, manager):
    response = client.post(ADD, SEED_EXAMPLE, follow=True)
    assert response.redirect_chain == [(LIST, 302)]
    payment = InsurancePayment.objects.get(organization=org)
    assert payment.source == "manual"
    assert payment.created_by == manager
    assert payment.paid_date == datetime.date(2024, 1, 20)
    assert payment.paid_amount == Decimal("150.00")
    assert (payment.npi, payment.ach_check_number) == ("1234567890", "CHK-789012")
    assert payment.era is None
    assert _messages(response) == [
        "Manual payment of $150.00 from Blue Cross Blue Shield paid 01/20/2024 saved."
    ]
    assert "CHK-789012" in response.content.decode()
    row = AuditLog.objects.get(action="insurance_payment.create")
    assert row.actor == manager and row.record_id == str(payment.pk)


def test_save_and_add_another_comes_back_to_an_empty_form(client, org):
    response = client.post(ADD, {**SEED_EXAMPLE, "add_another": "1"})
    assert response["Location"] == ADD
    assert InsurancePayment.objects.filter(organization=org).count() == 1


def test_a_blank_check_number_is_saved_as_none(client, org):
    client.post(ADD, {**SEED_EXAMPLE, "ach_check_number": "  "})
    assert InsurancePayment.objects.get(organization=org).ach_check_number is None


INVALID = [
    ("paid_date", "", "Paid date is required"),
    ("paid_date", "2024-02-30", "Paid date must be a date (YYYY-MM-DD)"),
    ("paid_date", "01/20/2024", "Paid date must be a date (YYYY-MM-DD)"),
    ("npi", "", "NPI is required"),
    ("npi", "12345", "NPI must be exactly 10 digits"),
    ("npi", "12345abcde", "NPI must be exactly 10 digits"),
    ("npi", "12345678901", "NPI must be exactly 10 digits"),
    ("paid_amount", "", "Paid amount is required"),
    ("paid_amount", "0", "Paid amount must be greater than 0"),
    ("paid_amount", "-12.50", "Paid amount must be greater than 0"),
    ("paid_amount", "12.345", "Paid amount can have at most two decimal places"),
    ("paid_amount", "twelve", "Paid amount must be a number"),
    ("paid_amount", "99999999999", "Paid amount must be at most 9,999,999,999.99"),
    ("deposit_status", "", "Deposit status is required"),
    ("deposit_status", "BOUNCED", "Deposit status must be PENDING or DEPOSITED"),
    ("payer_name", "", "Payer name is required"),
    ("payer_name", "P" * 121, "Payer name must be at most 120 characters"),
    ("ach_check_number", "9" * 81, "Check/ACH number must be at most 80 characters"),
]


@pytest.mark.parametrize(("field", "value", "message"), INVALID)
def test_a_bad_value_shows_the_seeds_message_on_its_field_and_saves_nothing(
    client, org, field, value, message
):
    response = client.post(ADD, {**SEED_EXAMPLE, field: value})
    assert response.status_code == 200
    body = response.content.decode()
    assert f'<div class="field-error" data-testid="error-{field}">{message}</div>' in body
    assert response.context["form"].errors == {field: [message]}
    assert not InsurancePayment.objects.exists()
    assert not AuditLog.objects.filter(action__startswith="insurance_payment").exists()
    # what was typed stays in the form
    if field != "deposit_status" and value:
        assert f'value="{value}"' in body


def test_several_bad_values_show_all_their_messages(client):
    response = client.post(ADD, {"npi": "1", "paid_amount": "0"})
    assert response.context["form"].errors == {
        "paid_date": ["Paid date is required"],
        "npi": ["NPI must be exactly 10 digits"],
        "paid_amount": ["Paid amount must be greater than 0"],
        "deposit_status": ["Deposit status is required"],
        "payer_name": ["Payer name is required"],
    }
    assert not InsurancePayment.objects.exists()


# --- edit -------------------------------------------------------------------------------


def _edit(payment):
    return reverse("payment_edit", args=[payment.pk])


def _values(payment, **changes):
    values = {
        "paid_date": payment.paid_date.isoformat(),
        "npi": payment.npi,
        "paid_amount": str(payment.paid_amount),
        "deposit_status": payment.deposit_status,
        "payer_name": payment.payer_name,
        "ach_check_number": payment.ach_check_number or "",
    }
    values.update(changes)
    return values


def test_the_edit_form_shows_the_payment(client, org):
    payment = manual(org, paid_amount="1234.50", payer_name="Cigna", ach_check_number="CHK-5")
    body = client.get(_edit(payment)).content.decode()
    for text in ('value="2026-03-02"', 'value="Cigna"', 'value="1234.50"', 'value="CHK-5"'):
        assert text in body
    assert reverse("payment_delete", args=[payment.pk]) in body


def test_it_saves_changes_and_audits_the_old_and_new_values(client, org, manager):
    payment = manual(org, paid_amount="100.00", payer_name="Cigna")
    back = LIST + "?payer=Cigna"
    response = client.post(
        _edit(payment),
        {**_values(payment, paid_amount="125.40", deposit_status="DEPOSITED"), "next": back},
    )
    assert response["Location"] == back
    payment.refresh_from_db()
    assert payment.paid_amount == Decimal("125.40")
    assert payment.deposit_status == "DEPOSITED"
    row = AuditLog.objects.get(action="insurance_payment.update")
    assert row.old_values == {"paid_amount": "100.00", "deposit_status": "PENDING"}
    assert row.new_values == {"paid_amount": "125.40", "deposit_status": "DEPOSITED"}
    assert (
        "Payment of $125.40 from Cigna paid 03/02/2026 saved." in client.get(back).content.decode()
    )


def test_saving_without_a_change_says_so_and_audits_nothing(client, org):
    payment = manual(org)
    response = client.post(_edit(payment), _values(payment), follow=True)
    assert _messages(response) == ["Nothing changed."]
    assert not AuditLog.objects.filter(action="insurance_payment.update").exists()


@pytest.mark.parametrize(("field", "value", "message"), INVALID)
def test_a_bad_edit_shows_the_message_and_changes_nothing(client, org, field, value, message):
    payment = manual(org, ach_check_number="CHK-1")
    before = InsurancePayment.objects.filter(pk=payment.pk).values().get()
    response = client.post(_edit(payment), _values(payment, **{field: value}))
    assert response.status_code == 200
    assert response.context["form"].errors == {field: [message]}
    assert InsurancePayment.objects.filter(pk=payment.pk).values().get() == before
    assert not AuditLog.objects.filter(action__startswith="insurance_payment").exists()


def test_an_automatic_payment_is_read_only_but_for_its_deposit_status(client, org):
    payment = automatic(org, trace="0012345678", paid_amount="410.25")
    response = client.get(_edit(payment))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Automatic payments come from an ERA: only their deposit status can change." in body
    assert 'name="paid_amount"' not in body
    assert reverse("payment_delete", args=[payment.pk]) not in body
    assert reverse("payment_deposit_status", args=[payment.pk]) in body
    assert "0012345678" in body and "$410.25" in body


def test_an_automatic_payment_cannot_be_edited(client, org):
    payment = automatic(org, paid_amount="410.25")
    before = InsurancePayment.objects.filter(pk=payment.pk).values().get()
    response = client.post(_edit(payment), _values(payment, paid_amount="1.00"))
    assert response.status_code == 409
    assert "only their deposit status can change" in response.content.decode()
    assert InsurancePayment.objects.filter(pk=payment.pk).values().get() == before
    assert not AuditLog.objects.exists()


def test_a_deleted_payment_is_not_found(client, org):
    payment = manual(org)
    client.post(reverse("payment_delete", args=[payment.pk]))
    assert client.get(_edit(payment)).status_code == 404
    assert client.post(_edit(payment), _values(payment)).status_code == 404


# --- delete -----------------------------------------------------------------------------


def test_delete_asks_first_then_soft_deletes(client, org, manager):
    payment = manual(org, payer_name="Cigna", paid_amount="88.00")
    url = reverse("payment_delete", args=[payment.pk])
    body = client.get(url).content.decode()
    assert "Delete this manual payment?" in body
    assert "$88.00" in body
    payment.refresh_from_db()
    assert payment.deleted_at is None
    response = client.post(url, follow=True)
    assert response.redirect_chain == [(LIST, 302)]
    assert _messages(response) == ["Manual payment of $88.00 from Cigna paid 03/02/2026 deleted."]
    payment.refresh_from_db()
    assert payment.deleted_at is not None
    assert f"/pm/payments/{payment.pk}?next=" not in response.content.decode()
    assert "No insurance payments yet." in response.content.decode()
    assert AuditLog.objects.get(action="insurance_payment.delete").actor == manager


def test_an_automatic_payment_cannot_be_deleted(client, org):
    payment = automatic(org)
    url = reverse("payment_delete", args=[payment.pk])
    for response in (client.get(url), client.post(url)):
        assert response.status_code == 409
        assert "Automatic payments come from an ERA and cannot be deleted." in (
            response.content.decode()
        )
    payment.refresh_from_db()
    assert payment.deleted_at is None
    assert not AuditLog.objects.exists()


# --- deposit status ---------------------------------------------------------------------


@pytest.mark.parametrize("source", ["automatic", "manual"])
def test_the_deposit_status_of_any_payment_can_change(client, org, manager, source):
    payment = (automatic if source == "automatic" else manual)(org)
    url = reverse("payment_deposit_status", args=[payment.pk])
    response = client.post(url, {"deposit_status": "DEPOSITED"}, follow=True)
    assert response.redirect_chain == [(_edit(payment), 302)]
    payment.refresh_from_db()
    assert payment.deposit_status == "DEPOSITED"
    assert any(m.endswith("is deposited.") for m in _messages(response))
    row = AuditLog.objects.get(action="insurance_payment.deposit_status")
    assert (row.old_values, row.new_values, row.actor) == (
        {"deposit_status": "PENDING"},
        {"deposit_status": "DEPOSITED"},
        manager,
    )


def test_a_bad_deposit_status_says_so_and_changes_nothing(client, org):
    payment = automatic(org)
    url = reverse("payment_deposit_status", args=[payment.pk])
    response = client.post(url, {"deposit_status": "BOUNCED"}, follow=True)
    assert _messages(response) == ["Choose Pending or Deposited."]
    payment.refresh_from_db()
    assert payment.deposit_status == "PENDING"
    assert not AuditLog.objects.exists()
