"""Reads of the practice core. Tenant reads take the organization explicitly."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db.models import Count, Max, Q
from django.db.models.functions import Coalesce

from billing.models import (
    ZERO,
    AuditLog,
    Charge,
    Claim,
    LedgerEntry,
    Membership,
    Organization,
    User,
    money_sum,
)


def active_membership(
    user: User, organization_id: int | None
) -> tuple[list[Membership], Membership | None]:
    """All the user's memberships and the active one: the session's choice, else the
    organization they last worked in, else their first membership."""
    memberships = list(
        Membership.objects.filter(user=user)
        .select_related("organization", "role")
        .order_by("organization__name")
    )
    by_org = {m.organization_id: m for m in memberships}
    for candidate in (organization_id, user.last_organization_id):
        if candidate in by_org:
            return memberships, by_org[candidate]
    if not memberships:
        return memberships, None
    return memberships, min(memberships, key=lambda m: (m.created_at, m.pk))


AGING_BUCKETS = (("0-30", 0, 30), ("31-60", 31, 60), ("61-90", 61, 90), ("90+", 91, None))


def _by_status(queryset, choices, amount_field: str) -> list[tuple[str, str, int, Decimal]]:
    rows = {
        status: (count, total)
        for status, count, total in queryset.values_list("status")
        .annotate(n=Count("pk"), total=Coalesce(money_sum(amount_field), ZERO))
        .order_by()
    }
    return [(value, label, *rows.get(value, (0, ZERO))) for value, label in choices]


def open_balance_aging(organization: Organization, today: datetime.date) -> dict[str, object]:
    """Encounters whose ledger sums to more than zero, aged by date of service."""
    open_encounters = (
        LedgerEntry.objects.for_organization(organization)
        .values("encounter")
        .annotate(balance=money_sum("amount"), date_of_service=Max("encounter__date_of_service"))
        .filter(balance__gt=0)
        .order_by()
    )
    buckets = {}
    for name, low, high in AGING_BUCKETS:
        window = Q(date_of_service__lte=today - datetime.timedelta(days=low))
        if high is not None:
            window &= Q(date_of_service__gte=today - datetime.timedelta(days=high))
        buckets[name] = Coalesce(money_sum("balance", filter=window), ZERO)
    totals = open_encounters.aggregate(
        total=Coalesce(money_sum("balance"), ZERO), count=Count("encounter"), **buckets
    )
    return {
        "open_balance": totals["total"],
        "open_encounters": totals["count"],
        "aging": [(name, totals[name]) for name, _low, _high in AGING_BUCKETS],
    }


def dashboard_numbers(organization: Organization, today: datetime.date) -> dict[str, object]:
    """Charges and claims by status and the open balance, straight from the database."""
    return {
        "charges_by_status": _by_status(
            Charge.objects.for_organization(organization), Charge.Status.choices, "amount"
        ),
        "claims_by_status": _by_status(
            Claim.objects.for_organization(organization), Claim.Status.choices, "total"
        ),
        **open_balance_aging(organization, today),
    }


def audit_log_page_queryset(organization: Organization, *, action: str = ""):
    rows = AuditLog.objects.for_organization(organization).select_related("actor")
    if action:
        rows = rows.filter(action=action)
    return rows.order_by("-created_at", "-id")


def audit_actions(organization: Organization) -> list[str]:
    return list(
        AuditLog.objects.for_organization(organization)
        .order_by("action")
        .values_list("action", flat=True)
        .distinct()
    )
