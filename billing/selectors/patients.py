"""Reads for the patient pages: the search, the list's annotations and the patient page."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    DecimalField,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce

from billing.models import (
    MONEY,
    ZERO,
    Charge,
    Claim,
    Coverage,
    Encounter,
    LedgerEntry,
    Organization,
    Patient,
    Payer,
)
from billing.selectors.eligibility import latest_by_coverage

DATE_FORMATS = ("%m/%d/%Y", "%Y-%m-%d")
CENT = Decimal("0.01")


def parse_birth_date(text: str) -> datetime.date | None:
    """A date typed as MM/DD/YYYY (or M/D/YYYY) or YYYY-MM-DD; None for anything else."""
    for fmt in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _name_query(text: str) -> Q:
    """Names in either order: "smith jo" and "jo smith" both find John Smith; a comma
    fixes the order to "Last, First". Every word is a prefix."""
    if "," in text:
        last, _, first = (part.strip() for part in text.partition(","))
        query = Q(last_name__istartswith=last) if last else Q()
        if first:
            query &= Q(first_name__istartswith=first)
        return query
    words = text.split()
    query = Q(last_name__istartswith=text) | Q(first_name__istartswith=text)
    for cut in range(1, len(words)):
        head, tail = " ".join(words[:cut]), " ".join(words[cut:])
        query |= Q(last_name__istartswith=head, first_name__istartswith=tail)
        query |= Q(first_name__istartswith=head, last_name__istartswith=tail)
    return query


def patient_search_filter(organization: Organization, text: str) -> Q:
    """What the search box matches: a birth date, else a name, an account number or the
    member id of any of the patient's coverages."""
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        return Q()
    birth_date = parse_birth_date(text)
    if birth_date is not None:
        return Q(birth_date=birth_date)
    member = Coverage.objects.filter(
        organization=organization, patient=OuterRef("pk"), member_id__iexact=text
    )
    return _name_query(text) | Q(account_number__istartswith=text) | Q(Exists(member))


def open_balance_expression() -> Coalesce:
    """The sum of a patient's positive encounter balances, each balance summed from the
    ledger (credit balances are not netted against what is owed elsewhere)."""
    positive_balances = (
        Encounter.objects.filter(patient=OuterRef("pk"))
        .with_balance()
        # At least a cent, not > 0: SQLite sums decimals as floats, and a settled
        # encounter can come back as 1.4e-14.
        .filter(ledger_balance__gte=CENT)
        .order_by()
        .values("patient")
        .annotate(total=Sum("ledger_balance"))
        .values("total")
    )
    money = DecimalField(**MONEY)
    return Coalesce(Subquery(positive_balances, output_field=money), ZERO, output_field=money)


def current_primary_prefetch(today: datetime.date) -> Prefetch:
    """The primary coverage in force today, as `patient.current_primary` (a list of at
    most one in practice: the DB allows one open coverage per order)."""
    in_force = (
        Coverage.objects.filter(order=Coverage.Order.PRIMARY, effective_from__lte=today)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=today))
        .select_related("payer")
        .order_by("-effective_from", "-id")
    )
    return Prefetch("coverages", queryset=in_force, to_attr="current_primary")


def patient_list_queryset(
    organization: Organization, *, search: str = "", today: datetime.date
) -> QuerySet:
    return (
        Patient.objects.for_organization(organization)
        .filter(patient_search_filter(organization, search))
        .annotate(open_balance=open_balance_expression())
        .prefetch_related(current_primary_prefetch(today))
        .order_by("last_name", "first_name", "pk")
    )


def patient_get(organization: Organization, pk: int) -> Patient | None:
    return Patient.objects.for_organization(organization).filter(pk=pk).first()


def coverage_get(organization: Organization, pk: int) -> Coverage | None:
    return (
        Coverage.objects.for_organization(organization)
        .select_related("patient", "payer")
        .filter(pk=pk)
        .first()
    )


def payers_for(organization: Organization) -> QuerySet[Payer]:
    return Payer.objects.for_organization(organization).order_by("name", "pk")


def age_on(birth_date: datetime.date, day: datetime.date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


@dataclass(frozen=True)
class PatientPage:
    coverages: list[Coverage]
    encounters: list[Encounter]
    claims: list[Claim]
    payments: list[LedgerEntry]
    open_balance: Decimal


def patient_page(organization: Organization, patient: Patient) -> PatientPage:
    """Everything the patient page shows, in a fixed number of queries."""
    charges_total = (
        Charge.objects.filter(encounter=OuterRef("pk"))
        .exclude(status=Charge.Status.VOID)
        .order_by()
        .values("encounter")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    money = DecimalField(**MONEY)
    encounters = list(
        Encounter.objects.with_balance()
        .filter(organization=organization, patient=patient)
        .annotate(
            charges_total=Coalesce(
                Subquery(charges_total, output_field=money), ZERO, output_field=money
            )
        )
        .select_related("provider", "guarantor_employer")
        .order_by("-date_of_service", "-id")
    )
    coverages = list(
        Coverage.objects.for_organization(organization)
        .filter(patient=patient)
        .select_related("payer")
        .order_by("order", "-effective_from", "-id")
    )
    latest_checks = latest_by_coverage(organization, [c.pk for c in coverages])
    for coverage in coverages:
        coverage.latest_eligibility = latest_checks.get(coverage.pk)
    claims = list(
        Claim.objects.for_organization(organization)
        .filter(encounter__patient=patient)
        .select_related("payer", "encounter")
        .order_by("-created_at", "-id")
    )
    payments = list(
        LedgerEntry.objects.for_organization(organization)
        .filter(encounter__patient=patient, kind=LedgerEntry.Kind.PATIENT_PAYMENT)
        .select_related("encounter")
        .order_by("-posted_at", "-id")
    )
    for entry in payments:
        entry.paid = -entry.amount
    for encounter in encounters:
        # SQLite sums as floats (see open_balance_expression): back to cents.
        encounter.ledger_balance = encounter.ledger_balance.quantize(CENT)
        encounter.balance_abs = abs(encounter.ledger_balance)
    open_balance = sum((e.ledger_balance for e in encounters if e.ledger_balance > 0), ZERO)
    return PatientPage(coverages, encounters, claims, payments, open_balance)
