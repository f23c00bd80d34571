"""Reads of claims: the filtered list with its totals, and what one claim's page shows."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from billing.models import (
    ZERO,
    Charge,
    Claim,
    ClaimStatusChange,
    LedgerEntry,
    Organization,
    Payer,
    Provider,
)

DATE_OF_SERVICE = "service"
CREATED = "created"

PAYMENT_KINDS = (
    LedgerEntry.Kind.INSURANCE_PAYMENT,
    LedgerEntry.Kind.ADJUSTMENT,
    LedgerEntry.Kind.WRITE_OFF,
    LedgerEntry.Kind.REVERSAL,
)


def _start_of(day: datetime.date) -> datetime.datetime:
    """Midnight of `day` in the current (the organization's) time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def claim_list_queryset(
    organization: Organization,
    *,
    status: str = "",
    payer: Payer | None = None,
    provider: Provider | None = None,
    date_basis: str = DATE_OF_SERVICE,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> QuerySet[Claim]:
    """The organization's claims, newest first, with what a list row shows joined in.

    The date range is inclusive and applies to the encounter's date of service, or to the
    day (in the organization's time zone) the claim was created.
    """
    claims = Claim.objects.for_organization(organization).select_related(
        "encounter__patient", "encounter__provider", "payer"
    )
    if status:
        claims = claims.filter(status=status)
    if payer is not None:
        claims = claims.filter(payer=payer)
    if provider is not None:
        claims = claims.filter(encounter__provider=provider)
    if date_basis == CREATED:
        if date_from:
            claims = claims.filter(created_at__gte=_start_of(date_from))
        if date_to:
            claims = claims.filter(created_at__lt=_start_of(date_to + datetime.timedelta(days=1)))
    else:
        if date_from:
            claims = claims.filter(encounter__date_of_service__gte=date_from)
        if date_to:
            claims = claims.filter(encounter__date_of_service__lte=date_to)
    return claims.order_by("-created_at", "-id")


def claim_totals(claims: QuerySet[Claim]) -> dict[str, int | Decimal]:
    """How many claims the (filtered) queryset holds and the sum of their totals."""
    return claims.order_by().aggregate(count=Count("pk"), total=Coalesce(Sum("total"), ZERO))


def claim_payers(organization: Organization) -> QuerySet[Payer]:
    return Payer.objects.for_organization(organization).order_by("name")


def claim_providers(organization: Organization) -> QuerySet[Provider]:
    return Provider.objects.for_organization(organization).order_by("last_name", "first_name")


def claim_for_page(organization: Organization, pk: int) -> Claim | None:
    # A primary claim's secondary (at most one), in the same query.
    secondary = Claim.objects.filter(primary_claim=OuterRef("pk"))
    return (
        Claim.objects.for_organization(organization)
        .select_related(
            "encounter__patient", "encounter__provider", "payer", "coverage__payer", "primary_claim"
        )
        .annotate(
            secondary_pk=Subquery(secondary.values("pk")[:1]),
            secondary_number=Subquery(secondary.values("claim_number")[:1]),
            secondary_payer=Subquery(secondary.values("payer__name")[:1]),
        )
        .filter(pk=pk)
        .first()
    )


@dataclass(frozen=True)
class ClaimLine:
    charge: Charge
    diagnosis_codes: list[str]


def claim_lines(claim: Claim) -> list[ClaimLine]:
    """The claim's charges, each with the encounter's diagnosis codes its pointers name."""
    codes = claim.encounter.diagnosis_codes or []
    lines = []
    for charge in claim.charges.order_by("id"):
        pointed = [
            codes[p - 1]
            for p in charge.diagnosis_pointers or []
            if isinstance(p, int) and 1 <= p <= len(codes)
        ]
        lines.append(ClaimLine(charge=charge, diagnosis_codes=pointed))
    return lines


def claim_status_history(claim: Claim) -> QuerySet[ClaimStatusChange]:
    return (
        ClaimStatusChange.objects.for_organization(claim.organization_id)
        .filter(claim=claim)
        .select_related("actor")
        .order_by("changed_at", "id")
    )


def claim_payments(claim: Claim) -> QuerySet[LedgerEntry]:
    """Ledger lines the payer's answer posted against the claim (charges excluded)."""
    return (
        LedgerEntry.objects.for_organization(claim.organization_id)
        .filter(claim=claim, kind__in=PAYMENT_KINDS)
        .order_by("posted_at", "id")
    )
