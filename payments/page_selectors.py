"""Reads the payments pages need beside `payments.selectors.insurance_payments_page`: one
payment for a page, the totals of a filter, and the payer names to filter by."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from billing.models import ZERO, Organization
from payments.models import InsurancePayment

PENDING = InsurancePayment.DepositStatus.PENDING


def payment_get(organization: Organization, pk: int) -> InsurancePayment | None:
    """A live payment of the organization (either source), or None."""
    return (
        InsurancePayment.objects.for_organization(organization)
        .live()
        .select_related("created_by", "era")
        .filter(pk=pk)
        .first()
    )


def payments_totals(payments: QuerySet[InsurancePayment]) -> dict[str, Decimal | int]:
    """Count and sum of the payments, and of the pending ones among them."""
    return payments.order_by().aggregate(
        count=Count("pk"),
        total=Coalesce(Sum("paid_amount"), ZERO),
        pending_count=Count("pk", filter=Q(deposit_status=PENDING)),
        pending_total=Coalesce(Sum("paid_amount", filter=Q(deposit_status=PENDING)), ZERO),
    )


def pending_by_payer(payments: QuerySet[InsurancePayment], limit: int = 12) -> list[dict[str, Any]]:
    """The payers with the most pending money among the payments: payer_name, count, total."""
    return [
        dict(row)
        for row in payments.filter(deposit_status=PENDING)
        .order_by()
        .values("payer_name")
        .annotate(count=Count("pk"), total=Sum("paid_amount"))
        .order_by("-total", "payer_name")[:limit]
    ]


def payer_names(organization: Organization) -> list[str]:
    """The payer names of the organization's live payments, A-Z, for the payer filter."""
    names = (
        InsurancePayment.objects.for_organization(organization)
        .live()
        .order_by()
        .values_list("payer_name", flat=True)
        .distinct()
    )
    return sorted(names, key=str.casefold)


def foreign_payment_ids(organization: Organization, ids: Iterable[int]) -> set[int]:
    """The ids that are no payment of the organization at all (deleted ones are its own)."""
    wanted = set(ids)
    own = set(
        InsurancePayment.objects.for_organization(organization)
        .filter(pk__in=wanted)
        .values_list("pk", flat=True)
    )
    return wanted - own
