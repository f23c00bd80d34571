"""Reads for charge capture: the filtered charge list and what its filters offer."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from billing.models import ZERO, Charge, Coverage, Organization, Payer, Provider


def plain_units(units: Decimal) -> Decimal:
    """1.000 -> 1, 1.500 -> 1.5: units as a person writes them."""
    if units == units.to_integral_value():
        return units.quantize(Decimal(1))
    return units.normalize()


def _primary_coverages(organization: Organization) -> QuerySet[Coverage]:
    """The primary coverages of the charge's patient in force on its date of service."""
    dos = OuterRef("encounter__date_of_service")
    return Coverage.objects.filter(
        organization=organization,
        patient=OuterRef("encounter__patient"),
        order=Coverage.Order.PRIMARY,
        effective_from__lte=dos,
    ).filter(Q(effective_to__isnull=True) | Q(effective_to__gte=dos))


def charge_list_queryset(
    organization: Organization,
    *,
    status: str = "",
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    provider: Provider | None = None,
    payer: Payer | None = None,
) -> QuerySet:
    """Charges with patient, provider and the primary payer on the date of service
    (`primary_payer_name`), newest date of service first."""
    primary = _primary_coverages(organization)
    rows = (
        Charge.objects.for_organization(organization)
        .select_related("encounter__patient", "encounter__provider")
        .annotate(
            primary_payer_name=Subquery(
                primary.order_by("-effective_from", "-id").values("payer__name")[:1]
            )
        )
    )
    if status:
        rows = rows.filter(status=status)
    if date_from:
        rows = rows.filter(encounter__date_of_service__gte=date_from)
    if date_to:
        rows = rows.filter(encounter__date_of_service__lte=date_to)
    if provider is not None:
        rows = rows.filter(encounter__provider=provider)
    if payer is not None:
        rows = rows.filter(Exists(primary.filter(payer=payer)))
    return rows.order_by("-encounter__date_of_service", "-encounter_id", "id")


def charge_totals(rows: QuerySet[Charge]) -> dict[str, Decimal | int]:
    """Count and amount of the filtered charges, and the amount without void ones."""
    return rows.order_by().aggregate(
        count=Count("pk"),
        total=Coalesce(Sum("amount"), ZERO),
        live_total=Coalesce(Sum("amount", filter=~Q(status=Charge.Status.VOID)), ZERO),
    )


def payers(organization: Organization) -> QuerySet[Payer]:
    return Payer.objects.for_organization(organization).order_by("name")


def providers(organization: Organization) -> QuerySet[Provider]:
    return Provider.objects.for_organization(organization).order_by("last_name", "first_name")


def charge_get(organization: Organization, pk: int) -> Charge | None:
    return (
        Charge.objects.for_organization(organization)
        .select_related("encounter__patient", "encounter__provider")
        .filter(pk=pk)
        .first()
    )
