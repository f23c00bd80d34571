"""Manual payment writes and deposit status: validation messages on their fields, "Payment
not found" for what may not be touched, nothing saved on error, an audit row per change."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import NON_FIELD_ERRORS
from django.utils import timezone

from billing.models import AuditLog
from payments import services
from payments.models import InsurancePayment
from payments.services import PaymentError
from tests.payments.graphql_helpers import automatic, payment

pytestmark = pytest.mark.django_db

GOOD = {
    "paid_date": datetime.date(2024, 1, 20),
    "npi": "1234567890",  # the seed's example: 10 digits, though its check digit is wrong
    "paid_amount": 150.00,
    "deposit_status": "PENDING",
    "payer_name": "Blue Cross Blue Shield",
    "ach_check_number": "CHK-789012",
}
NOT_FOUND = [(None, "Payment not found")]


def _snapshot():
    return (
        list(InsurancePayment.objects.order_by("pk").values()),
        AuditLog.objects.count(),
    )


# --- create ---------------------------------------------------------------------------------


def test_it_creates_a_manual_payment_and_audits_it(org, manager):
    created = services.payment_create_manual(organization=org, actor=manager, **GOOD)

    saved = InsurancePayment.objects.get()
    assert saved == created
    assert (saved.source, saved.created_by, saved.era) == ("manual", manager, None)
    assert saved.paid_amount == Decimal("150.00")
    assert (saved.npi, saved.ach_check_number, saved.deposit_status) == (
        "1234567890",
        "CHK-789012",
        "PENDING",
    )
    assert saved.deleted_at is None
    row = AuditLog.objects.get()
    assert (row.action, row.actor, row.record_id) == (
        "insurance_payment.create",
        manager,
        str(saved.pk),
    )
    assert row.new_values["paid_amount"] == "150.00"
    assert row.new_values["payer_name"] == "Blue Cross Blue Shield"


@pytest.mark.parametrize(
    ("given", "stored"),
    [(0.1, "0.10"), (150.1, "150.10"), ("1,234.5", "1234.50"), (Decimal("7"), "7.00"), (3, "3.00")],
)
def test_amounts_become_exact_cents(org, manager, given, stored):
    created = services.payment_create_manual(
        organization=org, actor=manager, **{**GOOD, "paid_amount": given}
    )

    created.refresh_from_db()
    assert created.paid_amount == Decimal(stored)


def test_blank_check_number_is_stored_as_none_and_text_is_trimmed(org, manager):
    created = services.payment_create_manual(
        organization=org,
        actor=manager,
        **{
            **GOOD,
            "ach_check_number": "  ",
            "payer_name": "  Aetna   Better  ",
            "npi": " 1234567890 ",
        },
    )

    assert (created.ach_check_number, created.payer_name, created.npi) == (
        None,
        "Aetna Better",
        "1234567890",
    )


@pytest.mark.parametrize(
    ("changes", "messages"),
    [
        ({"paid_date": None}, [("paid_date", "Paid date is required")]),
        ({"npi": ""}, [("npi", "NPI is required")]),
        ({"paid_amount": None}, [("paid_amount", "Paid amount is required")]),
        ({"deposit_status": None}, [("deposit_status", "Deposit status is required")]),
        ({"payer_name": "   "}, [("payer_name", "Payer name is required")]),
        ({"npi": "123456789"}, [("npi", "NPI must be exactly 10 digits")]),
        ({"npi": "12345678901"}, [("npi", "NPI must be exactly 10 digits")]),
        ({"npi": "12345abcde"}, [("npi", "NPI must be exactly 10 digits")]),
        (
            {"npi": "\uff11" * 10},  # fullwidth digits
            [("npi", "NPI must be exactly 10 digits")],
        ),
        ({"paid_amount": 0}, [("paid_amount", "Paid amount must be greater than 0")]),
        ({"paid_amount": -5.0}, [("paid_amount", "Paid amount must be greater than 0")]),
        (
            {"paid_amount": 1.001},
            [("paid_amount", "Paid amount can have at most two decimal places")],
        ),
        (
            {"paid_amount": "10.005"},
            [("paid_amount", "Paid amount can have at most two decimal places")],
        ),
        ({"paid_amount": "ten"}, [("paid_amount", "Paid amount must be a number")]),
        ({"paid_amount": float("nan")}, [("paid_amount", "Paid amount must be a number")]),
        ({"paid_amount": float("inf")}, [("paid_amount", "Paid amount must be a number")]),
        ({"paid_amount": True}, [("paid_amount", "Paid amount must be a number")]),
        (
            {"paid_amount": 1e12},
            [("paid_amount", "Paid amount must be at most 9,999,999,999.99")],
        ),
        (
            {"deposit_status": "LOST"},
            [("deposit_status", "Deposit status must be PENDING or DEPOSITED")],
        ),
        ({"paid_date": "2024-02-30"}, [("paid_date", "Paid date must be a date (YYYY-MM-DD)")]),
        (
            {"payer_name": "x" * 121},
            [("payer_name", "Payer name must be at most 120 characters")],
        ),
        (
            {"ach_check_number": "9" * 81},
            [("ach_check_number", "Check/ACH number must be at most 80 characters")],
        ),
        (
            {"npi": "12", "paid_amount": 0, "payer_name": ""},
            [
                ("npi", "NPI must be exactly 10 digits"),
                ("paid_amount", "Paid amount must be greater than 0"),
                ("payer_name", "Payer name is required"),
            ],
        ),
    ],
)
def test_each_bad_value_is_a_message_on_its_field_and_nothing_is_saved(
    org, manager, changes, messages
):
    before = _snapshot()

    with pytest.raises(PaymentError) as raised:
        services.payment_create_manual(organization=org, actor=manager, **{**GOOD, **changes})

    assert raised.value.messages == messages
    assert _snapshot() == before


def test_payment_error_reads_as_a_validation_error_for_forms():
    error = PaymentError([("npi", "NPI must be exactly 10 digits"), (None, "Payment not found")])

    assert error.as_validation_error().message_dict == {
        "npi": ["NPI must be exactly 10 digits"],
        NON_FIELD_ERRORS: ["Payment not found"],
    }


# --- update ---------------------------------------------------------------------------------


def test_it_updates_only_the_fields_given_and_audits_old_and_new(org, manager):
    row = payment(org, paid_amount=Decimal("150.00"), ach_check_number="CHK-1")
    created_at, updated_at = row.created_at, row.updated_at

    updated = services.payment_update_manual(
        organization=org, actor=manager, payment_id=str(row.pk), paid_amount=175.5, npi="1234567890"
    )

    row.refresh_from_db()
    assert updated == row
    assert row.paid_amount == Decimal("175.50")
    assert row.ach_check_number == "CHK-1"
    assert row.created_at == created_at
    assert row.updated_at > updated_at
    audit = AuditLog.objects.get()
    assert audit.action == "insurance_payment.update"
    assert (audit.old_values, audit.new_values) == (
        {"paid_amount": "150.00"},
        {"paid_amount": "175.50"},
    )


def test_an_update_that_changes_nothing_writes_nothing(org, manager):
    row = payment(org, paid_amount=Decimal("150.00"))
    before = _snapshot()

    services.payment_update_manual(
        organization=org, actor=manager, payment_id=row.pk, paid_amount=150.0
    )

    assert _snapshot() == before


def test_a_blank_check_number_clears_it_but_a_blank_required_field_is_a_message(org, manager):
    row = payment(org, ach_check_number="CHK-1")

    services.payment_update_manual(
        organization=org, actor=manager, payment_id=row.pk, ach_check_number=None
    )
    with pytest.raises(PaymentError) as raised:
        services.payment_update_manual(organization=org, actor=manager, payment_id=row.pk, npi=None)

    row.refresh_from_db()
    assert row.ach_check_number is None
    assert raised.value.messages == [("npi", "NPI is required")]


def test_an_invalid_update_saves_nothing(org, manager):
    row = payment(org)
    before = _snapshot()

    with pytest.raises(PaymentError) as raised:
        services.payment_update_manual(
            organization=org, actor=manager, payment_id=row.pk, payer_name="New", paid_amount=0
        )

    assert raised.value.messages == [("paid_amount", "Paid amount must be greater than 0")]
    assert _snapshot() == before


@pytest.fixture
def untouchable(org, other_org):
    """Payments no manual write may reach, by kind."""
    return {
        "automatic": automatic(org).pk,
        "deleted": payment(org, deleted_at=timezone.now()).pk,
        "another organization's": payment(other_org).pk,
        "missing": 987654,
        "not an id": "abc",
        "negative": "-1",
    }


@pytest.mark.parametrize(
    "kind",
    ["automatic", "deleted", "another organization's", "missing", "not an id", "negative"],
)
def test_updating_or_deleting_what_is_not_a_live_manual_payment_here_is_not_found(
    org, manager, untouchable, kind
):
    before = _snapshot()

    with pytest.raises(PaymentError) as updating:
        services.payment_update_manual(
            organization=org, actor=manager, payment_id=untouchable[kind], payer_name="Changed"
        )
    with pytest.raises(PaymentError) as deleting:
        services.payment_delete_manual(
            organization=org, actor=manager, payment_id=untouchable[kind]
        )

    assert updating.value.messages == NOT_FOUND
    assert deleting.value.messages == NOT_FOUND
    assert _snapshot() == before


def test_not_found_comes_before_validation(org, manager, untouchable):
    with pytest.raises(PaymentError) as raised:
        services.payment_update_manual(
            organization=org, actor=manager, payment_id=untouchable["automatic"], npi="1"
        )

    assert raised.value.messages == NOT_FOUND


def test_update_refuses_fields_it_does_not_know(org, manager):
    row = payment(org)
    with pytest.raises(TypeError):
        services.payment_update_manual(
            organization=org, actor=manager, payment_id=row.pk, source="automatic"
        )


# --- delete ---------------------------------------------------------------------------------


def test_delete_is_soft_and_audited_and_only_once(org, manager):
    row = payment(org)

    deleted = services.payment_delete_manual(organization=org, actor=manager, payment_id=row.pk)

    row.refresh_from_db()
    assert row.deleted_at is not None
    assert deleted.deleted_at == row.deleted_at
    assert not InsurancePayment.objects.live().exists()
    audit = AuditLog.objects.get()
    assert audit.action == "insurance_payment.delete"
    assert audit.old_values == {"deleted_at": None}
    with pytest.raises(PaymentError) as again:
        services.payment_delete_manual(organization=org, actor=manager, payment_id=row.pk)
    assert again.value.messages == NOT_FOUND


# --- deposit status -------------------------------------------------------------------------


def test_deposit_status_changes_on_any_live_payment_automatic_included(org, manager):
    row = automatic(org)

    services.payment_set_deposit_status(
        organization=org, actor=manager, payment_id=row.pk, deposit_status="DEPOSITED"
    )

    row.refresh_from_db()
    assert row.deposit_status == "DEPOSITED"
    audit = AuditLog.objects.get()
    assert (audit.action, audit.old_values, audit.new_values) == (
        "insurance_payment.deposit_status",
        {"deposit_status": "PENDING"},
        {"deposit_status": "DEPOSITED"},
    )


@pytest.mark.parametrize("kind", ["deleted", "another organization's", "missing", "not an id"])
def test_deposit_status_of_a_payment_not_here_is_not_found(org, manager, untouchable, kind):
    before = _snapshot()
    with pytest.raises(PaymentError) as raised:
        services.payment_set_deposit_status(
            organization=org,
            actor=manager,
            payment_id=untouchable[kind],
            deposit_status="DEPOSITED",
        )

    assert raised.value.messages == NOT_FOUND
    assert _snapshot() == before


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (None, "Deposit status is required"),
        ("LOST", "Deposit status must be PENDING or DEPOSITED"),
        ("deposited", "Deposit status must be PENDING or DEPOSITED"),
    ],
)
def test_a_bad_deposit_status_is_a_message(org, manager, status, message):
    row = payment(org)
    with pytest.raises(PaymentError) as raised:
        services.payment_set_deposit_status(
            organization=org, actor=manager, payment_id=row.pk, deposit_status=status
        )

    assert raised.value.messages == [("deposit_status", message)]


def test_mark_deposited_changes_only_this_organizations_live_pending_payments(
    org, other_org, manager
):
    pending = [payment(org), automatic(org)]
    already = payment(org, deposit_status="DEPOSITED")
    deleted = payment(org, deleted_at=timezone.now())
    theirs = payment(other_org)
    ids = [p.pk for p in [*pending, already, deleted, theirs]] + ["junk", 999999]

    changed = services.payments_mark_deposited(organization=org, actor=manager, payment_ids=ids)

    assert changed == 2
    statuses = dict(InsurancePayment.objects.values_list("pk", "deposit_status"))
    assert [statuses[p.pk] for p in pending] == ["DEPOSITED", "DEPOSITED"]
    assert statuses[deleted.pk] == statuses[theirs.pk] == "PENDING"
    audit = AuditLog.objects.get()
    assert audit.action == "insurance_payment.mark_deposited"
    assert audit.new_values["payment_ids"] == sorted(p.pk for p in pending)
    assert services.payments_mark_deposited(organization=org, actor=manager, payment_ids=ids) == 0
    assert AuditLog.objects.count() == 1
