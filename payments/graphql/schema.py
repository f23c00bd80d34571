"""The schema: `insurancePayments` and the four mutations of seed 003.

Every field needs both `can_see_billing` and `sees_all_billing` in the caller's
organization; without them the answer is the seed's Unauthorized error and no data (the
root fields are non-null, so the error empties `data`). The view runs the whole operation
inside `tenant_context(organization)` (payments/graphql/views.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated, Any

import strawberry
from django.http import HttpRequest, HttpResponse
from graphql import GraphQLError
from strawberry import UNSET
from strawberry.extensions import (
    DisableIntrospection,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
)
from strawberry.permission import BasePermission
from strawberry.schema.config import StrawberryConfig

from billing import permissions
from billing.models import Organization, User
from payments import selectors, services
from payments.graphql.scalars import SCALARS, ISO8601Date
from payments.graphql.types import (
    CreateInsurancePaymentInput,
    DeleteManualInsurancePaymentInput,
    FieldError,
    InsurancePaymentConnection,
    InsurancePaymentPayload,
    InsurancePaymentsDepositStatusEnum,
    InsurancePaymentsOrderKeys,
    PageInfo,
    UpdateInsurancePaymentDepositStatusInput,
    UpdateManualInsurancePaymentInput,
)

logger = logging.getLogger(__name__)

MAX_DEPTH = 6
MAX_ALIASES = 15
MAX_TOKENS = 2000


@dataclass
class Context:
    """Who is asking: a session's member or an API key's user, in one organization."""

    request: HttpRequest
    response: HttpResponse
    user: User | None
    organization: Organization | None

    def __getitem__(self, key: str) -> Any:  # strawberry's helpers read context["request"]
        return getattr(self, key)


class BillingAccess(BasePermission):
    message = "Unauthorized"
    error_extensions = {"code": "UNAUTHORIZED"}

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        context: Context = info.context
        user = context.user
        return (
            context.organization is not None
            and user is not None
            and user.has_perm(permissions.CAN_SEE_BILLING)
            and user.has_perm(permissions.SEES_ALL_BILLING)
        )


def _unset_to_none(value: Any) -> Any:
    return None if value is UNSET else value


def _enum_value(value: Any) -> Any:
    return value.value if isinstance(value, InsurancePaymentsDepositStatusEnum) else value


def _payload(call: Any, **kwargs: Any) -> InsurancePaymentPayload:
    try:
        payment = call(**kwargs)
    except services.PaymentError as error:
        messages = [FieldError(field=field, message=message) for field, message in error.messages]
        return InsurancePaymentPayload(insurance_payment=None, messages=messages)
    return InsurancePaymentPayload(insurance_payment=payment, messages=[])


def _actor(info: strawberry.Info) -> dict[str, Any]:
    return {"organization": info.context.organization, "actor": info.context.user}


@strawberry.type
class Query:
    @strawberry.field(name="insurancePayments", permission_classes=[BillingAccess])
    def insurance_payments(
        self,
        info: strawberry.Info,
        start_paid_date: Annotated[
            ISO8601Date | None, strawberry.argument(description="On or after this date.")
        ] = UNSET,
        end_paid_date: Annotated[
            ISO8601Date | None, strawberry.argument(description="On or before this date.")
        ] = UNSET,
        order_by: Annotated[
            InsurancePaymentsOrderKeys | None,
            strawberry.argument(description="Sort order (default: PAID_DATE_DESC)."),
        ] = UNSET,
        keywords: Annotated[
            str | None,
            strawberry.argument(description="Words to find in the NPI, check/ACH number or payer."),
        ] = UNSET,
        deposit_status: InsurancePaymentsDepositStatusEnum | None = UNSET,
        payer: Annotated[
            str | None, strawberry.argument(description="The exact payer name.")
        ] = UNSET,
        first: Annotated[
            int | None,
            strawberry.argument(
                description="Page size going forward: 20 unless given, 100 at most."
            ),
        ] = UNSET,
        after: Annotated[
            str | None, strawberry.argument(description="A page_info.end_cursor.")
        ] = UNSET,
        last: Annotated[
            int | None, strawberry.argument(description="Page size going backward, 100 at most.")
        ] = UNSET,
        before: Annotated[
            str | None, strawberry.argument(description="A page_info.start_cursor.")
        ] = UNSET,
    ) -> InsurancePaymentConnection:
        filters = {
            "start_paid_date": _unset_to_none(start_paid_date),
            "end_paid_date": _unset_to_none(end_paid_date),
            "keywords": _unset_to_none(keywords),
            "deposit_status": _enum_value(_unset_to_none(deposit_status)),
            "payer": _unset_to_none(payer),
        }
        organization = info.context.organization
        order_by = _unset_to_none(order_by)
        try:
            page = selectors.insurance_payments_page(
                organization,
                order_by=order_by.value if order_by is not None else None,
                first=_unset_to_none(first),
                after=_unset_to_none(after),
                last=_unset_to_none(last),
                before=_unset_to_none(before),
                with_total=False,
                **filters,
            )
        except selectors.PageRequestError as error:
            raise GraphQLError(
                error.message, extensions={"code": "BAD_USER_INPUT", "argument": error.field}
            ) from None
        return InsurancePaymentConnection(
            nodes=page.nodes,  # type: ignore[arg-type]
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                end_cursor=page.end_cursor,
                has_previous_page=page.has_previous_page,
                start_cursor=page.start_cursor,
            ),
            count=lambda: selectors.insurance_payments_filtered(organization, **filters).count(),
        )


@strawberry.type
class Mutation:
    @strawberry.mutation(name="createInsurancePayment", permission_classes=[BillingAccess])
    def create_insurance_payment(
        self, info: strawberry.Info, input: CreateInsurancePaymentInput
    ) -> InsurancePaymentPayload:
        return _payload(
            services.payment_create_manual,
            **_actor(info),
            paid_date=_unset_to_none(input.paid_date),
            npi=_unset_to_none(input.npi),
            paid_amount=_unset_to_none(input.paid_amount),
            deposit_status=_enum_value(_unset_to_none(input.deposit_status)),
            payer_name=_unset_to_none(input.payer_name),
            ach_check_number=_unset_to_none(input.ach_check_number),
        )

    @strawberry.mutation(name="updateManualInsurancePayment", permission_classes=[BillingAccess])
    def update_manual_insurance_payment(
        self, info: strawberry.Info, input: UpdateManualInsurancePaymentInput
    ) -> InsurancePaymentPayload:
        # Only the fields the client sent change; an explicit null clears an optional one
        # (and is a "required" message on a required one).
        changes = {
            name: _enum_value(getattr(input, name))
            for name in services.EDITABLE_FIELDS
            if getattr(input, name) is not UNSET
        }
        return _payload(
            services.payment_update_manual,
            **_actor(info),
            payment_id=input.payment_id,
            **changes,
        )

    @strawberry.mutation(
        name="updateInsurancePaymentDepositStatus", permission_classes=[BillingAccess]
    )
    def update_insurance_payment_deposit_status(
        self, info: strawberry.Info, input: UpdateInsurancePaymentDepositStatusInput
    ) -> InsurancePaymentPayload:
        return _payload(
            services.payment_set_deposit_status,
            **_actor(info),
            payment_id=input.payment_id,
            deposit_status=_enum_value(_unset_to_none(input.deposit_status)),
        )

    @strawberry.mutation(name="deleteManualInsurancePayment", permission_classes=[BillingAccess])
    def delete_manual_insurance_payment(
        self, info: strawberry.Info, input: DeleteManualInsurancePaymentInput
    ) -> InsurancePaymentPayload:
        return _payload(services.payment_delete_manual, **_actor(info), payment_id=input.payment_id)


def _should_mask(error: GraphQLError) -> bool:
    """Hide what an unexpected exception says (it is logged); keep our own messages and
    GraphQL's validation errors."""
    original = error.original_error
    if error.path is None or original is None or isinstance(original, GraphQLError):
        return False  # parsing and validation errors have no path: they speak of the query
    logger.error("GraphQL resolver failed", exc_info=original)
    return True


def build_schema(*, introspection: bool) -> strawberry.Schema:
    extensions: list[Any] = [
        lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: MaskErrors(should_mask_error=_should_mask),
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        config=StrawberryConfig(auto_camel_case=False, scalar_map=SCALARS),
        extensions=extensions,
    )
