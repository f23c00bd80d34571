"""Writes of insurance payments (seed 003): manual payments entered by hand, and the deposit
status of any payment.

Every service is atomic and writes its audit row in the same transaction. Bad input raises
`PaymentError` with one `(field, message)` pair per problem and saves nothing. A payment the
caller may not touch this way (automatic, deleted, another organization's, or none at all)
answers "Payment not found" on no field, as the seed's error example does: the caller
cannot tell an automatic payment from a missing one.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import timezone

from billing.audit import audit, model_values
from billing.models import Organization, User
from payments.models import InsurancePayment

NOT_FOUND = "Payment not found"
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("9999999999.99")  # MONEY: 12 digits, 2 of them decimals
EDITABLE_FIELDS = (
    "paid_date",
    "npi",
    "paid_amount",
    "deposit_status",
    "payer_name",
    "ach_check_number",
)
REQUIRED_FIELDS = ("paid_date", "npi", "paid_amount", "deposit_status", "payer_name")
LABELS = {
    "paid_date": "Paid date",
    "npi": "NPI",
    "paid_amount": "Paid amount",
    "deposit_status": "Deposit status",
    "payer_name": "Payer name",
    "ach_check_number": "Check/ACH number",
}


class PaymentError(Exception):
    """What was wrong with a payment write: `(field, message)` pairs, field None for the
    payment as a whole ("Payment not found")."""

    def __init__(self, messages: list[tuple[str | None, str]]) -> None:
        self.messages = messages
        super().__init__("; ".join(message for _field, message in messages))

    def as_validation_error(self) -> ValidationError:
        """The same messages as a Django ValidationError keyed by field, for forms
        (`billing.forms.binding.add_service_errors`)."""
        by_field: dict[str, list[str]] = {}
        for field, message in self.messages:
            by_field.setdefault(field or NON_FIELD_ERRORS, []).append(message)
        return ValidationError(by_field)


# --- validation -------------------------------------------------------------------------


def _clean_paid_date(value: Any) -> datetime.date:
    if isinstance(value, datetime.datetime):
        raise ValueError("Paid date must be a date (YYYY-MM-DD)")
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError("Paid date must be a date (YYYY-MM-DD)")


def _clean_npi(value: Any) -> str:
    text = str(value).strip()
    if len(text) != 10 or not text.isascii() or not text.isdigit():
        raise ValueError("NPI must be exactly 10 digits")
    return text


def _clean_paid_amount(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("Paid amount must be a number")
    try:
        if isinstance(value, float):
            if not math.isfinite(value):
                raise InvalidOperation
            # repr is the shortest text that reads back as the same float: 150.1, not
            # 150.099999999999994315658113919198513031005859375.
            amount = Decimal(repr(value))
        else:
            amount = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError("Paid amount must be a number") from None
    if not amount.is_finite():
        raise ValueError("Paid amount must be a number")
    if amount <= 0:
        raise ValueError("Paid amount must be greater than 0")
    if amount > MAX_AMOUNT:
        raise ValueError("Paid amount must be at most 9,999,999,999.99")
    if amount != amount.quantize(CENT, rounding="ROUND_DOWN"):
        raise ValueError("Paid amount can have at most two decimal places")
    return amount.quantize(CENT)


def _clean_deposit_status(value: Any) -> str:
    text = str(getattr(value, "value", value)).strip()
    if text not in InsurancePayment.DepositStatus.values:
        raise ValueError("Deposit status must be PENDING or DEPOSITED")
    return text


def _clean_text(field: str, max_length: int):
    def clean(value: Any) -> str:
        text = " ".join(str(value).split())
        if len(text) > max_length:
            raise ValueError(f"{LABELS[field]} must be at most {max_length} characters")
        return text

    return clean


CLEANERS = {
    "paid_date": _clean_paid_date,
    "npi": _clean_npi,
    "paid_amount": _clean_paid_amount,
    "deposit_status": _clean_deposit_status,
    "payer_name": _clean_text("payer_name", 120),
    "ach_check_number": _clean_text("ach_check_number", 80),
}


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def clean_payment_fields(values: dict[str, Any]) -> dict[str, Any]:
    """The given fields, cleaned; raises PaymentError with a message per bad field.

    Required fields may not be blank; an optional field given blank becomes None.
    """
    cleaned: dict[str, Any] = {}
    messages: list[tuple[str | None, str]] = []
    for field in EDITABLE_FIELDS:
        if field not in values:
            continue
        value = values[field]
        if _blank(value):
            if field in REQUIRED_FIELDS:
                messages.append((field, f"{LABELS[field]} is required"))
            else:
                cleaned[field] = None
            continue
        try:
            cleaned[field] = CLEANERS[field](value)
        except ValueError as error:
            messages.append((field, str(error)))
    if messages:
        raise PaymentError(messages)
    return cleaned


def _payment_pk(payment_id: object) -> int | None:
    text = str(payment_id).strip()
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        return None
    return int(text)


def _locked_payment(organization: Organization, payment_id: object, *, manual: bool):
    pk = _payment_pk(payment_id)
    payments = InsurancePayment.objects.for_organization(organization).live()
    if manual:
        payments = payments.filter(source=InsurancePayment.Source.MANUAL)
    payment = payments.select_for_update().filter(pk=pk).first() if pk is not None else None
    if payment is None:
        raise PaymentError([(None, NOT_FOUND)])
    return payment


def _full_clean(payment: InsurancePayment) -> None:
    try:
        payment.full_clean()
    except ValidationError as error:
        raise PaymentError(
            [
                (None if field == NON_FIELD_ERRORS else field, message)
                for field, messages in error.message_dict.items()
                for message in messages
            ]
        ) from error


# --- services ---------------------------------------------------------------------------


def payment_create_manual(
    *,
    organization: Organization,
    actor: User,
    paid_date: datetime.date | str | None,
    npi: str | None,
    paid_amount: Decimal | float | str | None,
    deposit_status: str | None,
    payer_name: str | None,
    ach_check_number: str | None = None,
) -> InsurancePayment:
    """A payment entered by hand (source manual, created by the actor)."""
    cleaned = clean_payment_fields(
        {
            "paid_date": paid_date,
            "npi": npi,
            "paid_amount": paid_amount,
            "deposit_status": deposit_status,
            "payer_name": payer_name,
            "ach_check_number": ach_check_number,
        }
    )
    now = timezone.now()
    payment = InsurancePayment(
        organization=organization,
        source=InsurancePayment.Source.MANUAL,
        created_by=actor,
        created_at=now,
        updated_at=now,
        **cleaned,
    )
    _full_clean(payment)
    with transaction.atomic():
        payment.save()
        audit(
            organization=organization,
            actor=actor,
            action="insurance_payment.create",
            instance=payment,
            new_values=model_values(payment),
        )
    return payment


def payment_update_manual(
    *, organization: Organization, actor: User, payment_id: int | str, **changes: Any
) -> InsurancePayment:
    """Change fields of a live manual payment. Only the fields passed change; passing a
    required field blank (or None) is an error, an optional one blank clears it."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"payment_update_manual() got unknown fields: {sorted(unknown)}")
    with transaction.atomic():
        payment = _locked_payment(organization, payment_id, manual=True)
        cleaned = clean_payment_fields(changes)
        changed = {f: v for f, v in cleaned.items() if getattr(payment, f) != v}
        if not changed:
            return payment
        old_values = model_values(payment, list(changed))
        for field, value in changed.items():
            setattr(payment, field, value)
        payment.updated_at = timezone.now()
        _full_clean(payment)
        payment.save(update_fields=[*changed, "updated_at"])
        audit(
            organization=organization,
            actor=actor,
            action="insurance_payment.update",
            instance=payment,
            old_values=old_values,
            new_values=model_values(payment, list(changed)),
        )
    return payment


def payment_delete_manual(
    *, organization: Organization, actor: User, payment_id: int | str
) -> InsurancePayment:
    """Soft-delete a live manual payment: it leaves every list and the API."""
    with transaction.atomic():
        payment = _locked_payment(organization, payment_id, manual=True)
        payment.deleted_at = payment.updated_at = timezone.now()
        payment.save(update_fields=["deleted_at", "updated_at"])
        audit(
            organization=organization,
            actor=actor,
            action="insurance_payment.delete",
            instance=payment,
            old_values={"deleted_at": None},
            new_values={**model_values(payment), "deleted_at": payment.deleted_at},
        )
    return payment


def payment_set_deposit_status(
    *, organization: Organization, actor: User, payment_id: int | str, deposit_status: str | None
) -> InsurancePayment:
    """Set the deposit status of any live payment, automatic ones included."""
    with transaction.atomic():
        payment = _locked_payment(organization, payment_id, manual=False)
        status = clean_payment_fields({"deposit_status": deposit_status})["deposit_status"]
        if payment.deposit_status == status:
            return payment
        old_status = payment.deposit_status
        payment.deposit_status = status
        payment.updated_at = timezone.now()
        payment.save(update_fields=["deposit_status", "updated_at"])
        audit(
            organization=organization,
            actor=actor,
            action="insurance_payment.deposit_status",
            instance=payment,
            old_values={"deposit_status": old_status},
            new_values={"deposit_status": status},
        )
    return payment


def payments_mark_deposited(
    *, organization: Organization, actor: User, payment_ids: Iterable[int | str]
) -> int:
    """Mark the organization's live pending payments among `payment_ids` deposited (any
    source). Ids of other organizations, deleted or already deposited payments are skipped.
    One audit row lists the payments changed. Returns how many changed."""
    pks = sorted({pk for pk in map(_payment_pk, payment_ids) if pk is not None})
    with transaction.atomic():
        changed = list(
            InsurancePayment.objects.for_organization(organization)
            .live()
            .filter(pk__in=pks, deposit_status=InsurancePayment.DepositStatus.PENDING)
            .select_for_update()
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not changed:
            return 0
        InsurancePayment.objects.filter(pk__in=changed).update(
            deposit_status=InsurancePayment.DepositStatus.DEPOSITED, updated_at=timezone.now()
        )
        audit(
            organization=organization,
            actor=actor,
            action="insurance_payment.mark_deposited",
            table_name=InsurancePayment._meta.db_table,
            old_values={"deposit_status": InsurancePayment.DepositStatus.PENDING},
            new_values={
                "deposit_status": InsurancePayment.DepositStatus.DEPOSITED,
                "payment_ids": changed,
            },
        )
    return len(changed)
