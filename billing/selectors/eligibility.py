"""Reads of eligibility checks: one result, and the latest check per coverage or
appointment for the patient page and the appointment list."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import OuterRef, Subquery

from billing.models import EligibilityCheck, Organization


def eligibility_check_get(organization: Organization, pk: int) -> EligibilityCheck | None:
    return (
        EligibilityCheck.objects.for_organization(organization)
        .select_related("patient", "coverage", "payer", "appointment__provider", "created_by")
        .filter(pk=pk)
        .first()
    )


def _latest_by(
    organization: Organization, field: str, ids: Iterable[int]
) -> dict[int, EligibilityCheck]:
    ids = [pk for pk in ids if pk is not None]
    if not ids:
        return {}
    newest = (
        EligibilityCheck.objects.filter(organization=organization, **{field: OuterRef(field)})
        .order_by("-created_at", "-id")
        .values("pk")[:1]
    )
    rows = EligibilityCheck.objects.for_organization(organization).filter(
        **{f"{field}__in": ids}, pk=Subquery(newest)
    )
    return {getattr(row, f"{field}_id"): row for row in rows}


def latest_by_coverage(
    organization: Organization, coverage_ids: Iterable[int]
) -> dict[int, EligibilityCheck]:
    """Each coverage's most recent check (coverages never checked are left out)."""
    return _latest_by(organization, "coverage", coverage_ids)


def latest_by_appointment(
    organization: Organization, appointment_ids: Iterable[int]
) -> dict[int, EligibilityCheck]:
    """Each appointment's most recent check (appointments never checked are left out)."""
    return _latest_by(organization, "appointment", appointment_ids)
