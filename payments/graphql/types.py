"""The seed's types, enums, inputs and payloads, named exactly as seed 003 writes them
(snake_case fields: the schema turns strawberry's camel-casing off)."""

from __future__ import annotations

import enum
from collections.abc import Callable

import strawberry
import strawberry_django

from payments import models
from payments.graphql.scalars import ISO8601Date, ISO8601DateTime
from payments.selectors import ORDER_KEYS


@strawberry.enum(name="InsurancePaymentsDepositStatusEnum")
class InsurancePaymentsDepositStatusEnum(enum.Enum):
    PENDING = "PENDING"
    DEPOSITED = "DEPOSITED"


@strawberry.enum(name="InsurancePaymentsOrderKeys")
class InsurancePaymentsOrderKeys(enum.Enum):
    """payments.selectors.ORDER_KEYS, in the seed's order."""

    PAID_DATE_DESC = "PAID_DATE_DESC"
    PAID_DATE_ASC = "PAID_DATE_ASC"
    PAID_AMOUNT_DESC = "PAID_AMOUNT_DESC"
    PAID_AMOUNT_ASC = "PAID_AMOUNT_ASC"
    PAYER_NAME_DESC = "PAYER_NAME_DESC"
    PAYER_NAME_ASC = "PAYER_NAME_ASC"
    NPI_DESC = "NPI_DESC"
    NPI_ASC = "NPI_ASC"
    ACH_CHECK_NUMBER_DESC = "ACH_CHECK_NUMBER_DESC"
    ACH_CHECK_NUMBER_ASC = "ACH_CHECK_NUMBER_ASC"
    SOURCE_DESC = "SOURCE_DESC"
    SOURCE_ASC = "SOURCE_ASC"
    CREATED_AT_DESC = "CREATED_AT_DESC"
    CREATED_AT_ASC = "CREATED_AT_ASC"
    UPDATED_AT_DESC = "UPDATED_AT_DESC"
    UPDATED_AT_ASC = "UPDATED_AT_ASC"


assert [key.value for key in InsurancePaymentsOrderKeys] == list(ORDER_KEYS)


def _paid_amount(root: models.InsurancePayment) -> float:
    # Money is Decimal everywhere else; the seed's API gives it out as a Float.
    return float(root.paid_amount)


def _deposit_status(root: models.InsurancePayment) -> InsurancePaymentsDepositStatusEnum:
    return InsurancePaymentsDepositStatusEnum(root.deposit_status)


@strawberry_django.type(models.InsurancePayment, name="InsurancePayment")
class InsurancePayment:
    id: strawberry.ID
    organization_id: strawberry.ID
    paid_date: ISO8601Date
    paid_amount: float = strawberry_django.field(resolver=_paid_amount)
    deposit_status: InsurancePaymentsDepositStatusEnum = strawberry_django.field(
        resolver=_deposit_status
    )
    source: str
    payer_name: str
    npi: str | None
    ach_check_number: str | None
    era_id: strawberry.ID | None  # the Era's id (automatic payments only)
    created_by_id: strawberry.ID | None  # who entered it (manual payments only)
    created_at: ISO8601DateTime
    updated_at: ISO8601DateTime


@strawberry.type(name="PageInfo")
class PageInfo:
    has_next_page: bool
    end_cursor: str | None
    has_previous_page: bool
    start_cursor: str | None


@strawberry.type(name="InsurancePaymentConnection")
class InsurancePaymentConnection:
    nodes: list[InsurancePayment]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], int]]

    @strawberry.field
    def total_count(self) -> int | None:
        # Counted only when the query asks for it.
        return self.count()


@strawberry.type(name="FieldError")
class FieldError:
    field: str | None
    message: str


@strawberry.input(name="createInsurancePaymentInput")
class CreateInsurancePaymentInput:
    # Optional here so that a missing value comes back as a message on its field.
    paid_date: ISO8601Date | None = strawberry.UNSET
    npi: str | None = strawberry.UNSET
    paid_amount: float | None = strawberry.UNSET
    deposit_status: InsurancePaymentsDepositStatusEnum | None = strawberry.UNSET
    payer_name: str | None = strawberry.UNSET
    ach_check_number: str | None = strawberry.UNSET


@strawberry.input(name="updateManualInsurancePaymentInput")
class UpdateManualInsurancePaymentInput:
    payment_id: strawberry.ID
    paid_date: ISO8601Date | None = strawberry.UNSET
    npi: str | None = strawberry.UNSET
    ach_check_number: str | None = strawberry.UNSET
    paid_amount: float | None = strawberry.UNSET
    deposit_status: InsurancePaymentsDepositStatusEnum | None = strawberry.UNSET
    payer_name: str | None = strawberry.UNSET


@strawberry.input(name="updateInsurancePaymentDepositStatusInput")
class UpdateInsurancePaymentDepositStatusInput:
    payment_id: strawberry.ID
    deposit_status: InsurancePaymentsDepositStatusEnum | None = strawberry.UNSET


@strawberry.input(name="deleteManualInsurancePaymentInput")
class DeleteManualInsurancePaymentInput:
    payment_id: strawberry.ID


@strawberry.type(name="InsurancePaymentPayload")
class InsurancePaymentPayload:
    insurance_payment: InsurancePayment | None
    messages: list[FieldError]
