"""Reads of the practice core. Tenant reads take the organization explicitly."""

from __future__ import annotations

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce

from billing.models import ZERO, AuditLog, Charge, Claim, LedgerEntry, Membership, Organization, User


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


def _status_counts(queryset, choices) -> list[tuple[str, str, int]]:
    counts = dict(queryset.values_list("status").annotate(n=Count("pk")).order_by())
    return [(value, label, counts.get(value, 0)) for value, label in choices]


def dashboard_numbers(organization: Organization) -> dict[str, object]:
    """Charges and claims by status and the open balance, straight from the database."""
    balances = (
        LedgerEntry.objects.for_organization(organization)
        .values("encounter")
        .annotate(balance=Sum("amount"))
        .order_by()
    )
    open_balances = balances.filter(balance__gt=0).aggregate(
        total=Coalesce(Sum("balance"), ZERO), count=Count("encounter")
    )
    charge_totals = Charge.objects.for_organization(organization).aggregate(
        billed=Coalesce(Sum("amount", filter=~Q(status=Charge.Status.VOID)), ZERO)
    )
    return {
        "charges_by_status": _status_counts(
            Charge.objects.for_organization(organization), Charge.Status.choices
        ),
        "claims_by_status": _status_counts(
            Claim.objects.for_organization(organization), Claim.Status.choices
        ),
        "open_balance": open_balances["total"],
        "open_encounters": open_balances["count"],
        "charge_total": charge_totals["billed"],
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
