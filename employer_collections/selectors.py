"""Reads for statements, pre-collections and collections. Every read takes the organization."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import DateTimeField, Max, OuterRef, Q, QuerySet, Subquery

from billing.models import ZERO, Employer, Encounter, LedgerEntry, Organization
from billing.selectors.core import AGING_BUCKETS
from employer_collections.models import (
    BalanceFor,
    CollectionEntry,
    CollectionExport,
    PreCollectionEntry,
    PreCollectionList,
)

PAYMENT_KINDS = (LedgerEntry.Kind.INSURANCE_PAYMENT, LedgerEntry.Kind.PATIENT_PAYMENT)


def balance_for_of(encounter: Encounter) -> str:
    return BalanceFor.EMPLOYER if encounter.guarantor_employer_id else BalanceFor.PATIENT


def kinds_offered(organization: Organization) -> list[tuple[str, str]]:
    """While Employer Collections is off, "Collections Balance For" offers only patients."""
    if organization.employer_collections_enabled:
        return list(BalanceFor.choices)
    return [(BalanceFor.PATIENT.value, BalanceFor.PATIENT.label)]


def default_balance_for(organization: Organization) -> str:
    return kinds_offered(organization)[0][0]


def encounters_with_money(organization: Organization) -> QuerySet[Encounter]:
    """Encounters with their ledger balance and the date of their last payment."""
    last_payment = (
        LedgerEntry.objects.filter(encounter=OuterRef("pk"), kind__in=PAYMENT_KINDS)
        .values("encounter")
        .annotate(last=Max("posted_at"))
        .values("last")
    )
    return (
        Encounter.objects.for_organization(organization)
        .with_balance()
        .annotate(last_payment_at=Subquery(last_payment, output_field=DateTimeField()))
        .select_related("patient", "guarantor_employer")
    )


def aging_bucket(date_of_service: datetime.date, today: datetime.date) -> str:
    """The dashboard's bucket (billing.selectors.core.AGING_BUCKETS) of an encounter."""
    age = (today - date_of_service).days
    for name, low, high in AGING_BUCKETS:
        if age >= low and (high is None or age <= high):
            return name
    return AGING_BUCKETS[0][0]


# --- statements dashboard ---------------------------------------------------------------


@dataclass
class GuarantorBalance:
    kind: str
    key: int
    guarantor_id: str
    name: str
    is_tpa: bool = False
    encounters: int = 0
    total: Decimal = ZERO
    buckets: dict[str, Decimal] = field(default_factory=dict)
    last_payment_at: datetime.datetime | None = None

    @property
    def bucket_list(self) -> list[Decimal]:
        return [self.buckets.get(name, ZERO) for name, _low, _high in AGING_BUCKETS]


def statements(
    organization: Organization, today: datetime.date, *, kind: str = ""
) -> dict[str, object]:
    """Open balances by guarantor (employer or patient), aged by date of service."""
    encounters = encounters_with_money(organization).filter(ledger_balance__gt=0)
    if kind == BalanceFor.EMPLOYER:
        encounters = encounters.filter(guarantor_employer__isnull=False)
    elif kind == BalanceFor.PATIENT:
        encounters = encounters.filter(guarantor_employer__isnull=True)
    rows: dict[tuple[str, int], GuarantorBalance] = {}
    totals = {name: ZERO for name, _low, _high in AGING_BUCKETS}
    for e in encounters.order_by():
        if e.guarantor_employer_id:
            emp = e.guarantor_employer
            key = (BalanceFor.EMPLOYER.value, emp.pk)
            make = lambda emp=emp: GuarantorBalance(  # noqa: E731
                "employer", emp.pk, emp.guarantor_id, emp.name, emp.is_tpa
            )
        else:
            pat = e.patient
            key = (BalanceFor.PATIENT.value, pat.pk)
            make = lambda pat=pat: GuarantorBalance(  # noqa: E731
                "patient", pat.pk, pat.account_number, str(pat)
            )
        row = rows.get(key) or rows.setdefault(key, make())
        bucket = aging_bucket(e.date_of_service, today)
        row.encounters += 1
        row.total += e.ledger_balance
        row.buckets[bucket] = row.buckets.get(bucket, ZERO) + e.ledger_balance
        totals[bucket] += e.ledger_balance
        if e.last_payment_at and (
            row.last_payment_at is None or e.last_payment_at > row.last_payment_at
        ):
            row.last_payment_at = e.last_payment_at
    ordered = sorted(rows.values(), key=lambda r: (-r.total, r.name))
    return {
        "rows": ordered,
        "bucket_names": [name for name, _low, _high in AGING_BUCKETS],
        "bucket_totals": [totals[name] for name, _low, _high in AGING_BUCKETS],
        "total": sum((r.total for r in ordered), ZERO),
    }


# --- pre-collections --------------------------------------------------------------------


def precollection_list(organization: Organization, balance_for: str) -> PreCollectionList | None:
    return (
        PreCollectionList.objects.for_organization(organization)
        .filter(balance_for=balance_for)
        .first()
    )


def precollection_entries(plist: PreCollectionList | None) -> list[PreCollectionEntry]:
    """The list's rows, each with `current_balance` from the ledger."""
    if plist is None:
        return []
    rows = list(
        PreCollectionEntry.objects.filter(list=plist)
        .select_related("encounter__patient", "encounter__guarantor_employer")
        .order_by("encounter__date_of_service", "id")
    )
    balances = {
        e.pk: e.ledger_balance
        for e in Encounter.objects.for_organization(plist.organization_id)
        .with_balance()
        .filter(pk__in=[r.encounter_id for r in rows])
    }
    for row in rows:
        row.current_balance = balances.get(row.encounter_id, ZERO)
    return rows


def unapplied_action_count(plist: PreCollectionList | None) -> int:
    if plist is None:
        return 0
    return plist.entries.exclude(action="").count()


def candidates(
    organization: Organization,
    *,
    balance_for: str,
    employers: list[Employer] | None = None,
    guarantor: str = "",
    min_balance: Decimal | None = None,
    min_age_days: int | None = None,
    today: datetime.date,
) -> QuerySet[Encounter]:
    """Encounters the Make List filters match: open balance, of the kind, not already on
    a pre-collections list nor in collections."""
    rows = encounters_with_money(organization).filter(ledger_balance__gt=ZERO)
    if min_balance:
        rows = rows.filter(ledger_balance__gte=min_balance)
    if balance_for == BalanceFor.EMPLOYER:
        rows = rows.filter(guarantor_employer__isnull=False)
        if employers:
            rows = rows.filter(guarantor_employer__in=employers)
        if guarantor:
            rows = rows.filter(
                Q(guarantor_employer__guarantor_id__iexact=guarantor)
                | Q(guarantor_employer__name__icontains=guarantor)
            )
    else:
        rows = rows.filter(guarantor_employer__isnull=True)
        if guarantor:
            rows = rows.filter(
                Q(patient__account_number__iexact=guarantor)
                | Q(patient__last_name__icontains=guarantor)
                | Q(patient__first_name__icontains=guarantor)
            )
    if min_age_days:
        rows = rows.filter(date_of_service__lte=today - datetime.timedelta(days=min_age_days))
    on_lists = PreCollectionEntry.objects.for_organization(organization).values("encounter")
    in_collections = (
        CollectionEntry.objects.for_organization(organization)
        .filter(removed_at__isnull=True)
        .values("encounter")
    )
    return (
        rows.exclude(pk__in=on_lists)
        .exclude(pk__in=in_collections)
        .order_by("date_of_service", "pk")
    )


# --- in collections ---------------------------------------------------------------------


def collection_entries(organization: Organization, *, balance_for: str = "") -> list:
    """Live entries of the In Collections list with current balance and last payment."""
    rows = (
        CollectionEntry.objects.for_organization(organization)
        .filter(removed_at__isnull=True)
        .select_related(
            "encounter__patient", "guarantor_employer", "sent_export", "sent_export__created_by"
        )
    )
    if balance_for:
        rows = rows.filter(balance_for=balance_for)
    return _with_money(organization, list(rows.order_by("in_collections_since", "id")))


def pending_recalls(organization: Organization) -> list[CollectionEntry]:
    rows = (
        CollectionEntry.objects.for_organization(organization)
        .filter(removed_at__isnull=False, sent_export__isnull=False, recall_export__isnull=True)
        .select_related("encounter__patient", "guarantor_employer", "removed_by")
    )
    return _with_money(organization, list(rows.order_by("removed_at", "id")))


def unsent_entries(organization: Organization) -> list[CollectionEntry]:
    rows = (
        CollectionEntry.objects.for_organization(organization)
        .filter(removed_at__isnull=True, sent_export__isnull=True)
        .select_related("encounter__patient", "guarantor_employer")
    )
    return _with_money(organization, list(rows.order_by("in_collections_since", "id")))


def _with_money(organization: Organization, rows: list[CollectionEntry]) -> list:
    money = {
        e.pk: e
        for e in encounters_with_money(organization).filter(pk__in=[r.encounter_id for r in rows])
    }
    for row in rows:
        e = money.get(row.encounter_id)
        row.current_balance = e.ledger_balance if e else ZERO
        row.last_payment_at = e.last_payment_at if e else None
    return rows


def collection_entry_get(organization: Organization, pk: int) -> CollectionEntry | None:
    return CollectionEntry.objects.for_organization(organization).filter(pk=pk).first()


def exports(organization: Organization) -> QuerySet[CollectionExport]:
    return (
        CollectionExport.objects.for_organization(organization)
        .select_related("created_by")
        .defer("xlsx", "csv")
    )


def export_get(organization: Organization, pk: int) -> CollectionExport | None:
    return CollectionExport.objects.for_organization(organization).filter(pk=pk).first()
