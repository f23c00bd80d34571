"""Reads of appointments: the schedule list and the lookups its form needs."""

from __future__ import annotations

import datetime

from django.db.models import QuerySet
from django.utils import timezone

from billing.models import Appointment, Organization, Patient, Provider

UPCOMING = "upcoming"
PAST = "past"
DEFAULT_DAYS = 14


def default_range(when: str, today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """Two weeks ahead for upcoming visits, two weeks back for past ones."""
    span = datetime.timedelta(days=DEFAULT_DAYS)
    return (today - span, today) if when == PAST else (today, today + span)


def _start_of(day: datetime.date) -> datetime.datetime:
    """Midnight of `day` in the current (the organization's) time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def appointment_list_queryset(
    organization: Organization,
    *,
    when: str = UPCOMING,
    now: datetime.datetime,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    provider: Provider | None = None,
    status: str = "",
) -> QuerySet[Appointment]:
    """Upcoming visits (from `now` on, soonest first) or past ones (before `now`, latest
    first), within the inclusive range of days in the organization's time zone."""
    rows = Appointment.objects.for_organization(organization).select_related("patient", "provider")
    if when == PAST:
        rows = rows.filter(scheduled_at__lt=now).order_by("-scheduled_at", "-id")
    else:
        rows = rows.filter(scheduled_at__gte=now).order_by("scheduled_at", "id")
    if date_from:
        rows = rows.filter(scheduled_at__gte=_start_of(date_from))
    if date_to:
        rows = rows.filter(scheduled_at__lt=_start_of(date_to + datetime.timedelta(days=1)))
    if provider is not None:
        rows = rows.filter(provider=provider)
    if status:
        rows = rows.filter(status=status)
    return rows


def appointment_providers(organization: Organization) -> QuerySet[Provider]:
    return Provider.objects.for_organization(organization).order_by("last_name", "first_name")


def patient_by_account_number(organization: Organization, account_number: str) -> Patient | None:
    return (
        Patient.objects.for_organization(organization).filter(account_number=account_number).first()
    )


def appointment_for_edit(organization: Organization, pk: int) -> Appointment | None:
    return (
        Appointment.objects.for_organization(organization)
        .select_related("patient", "provider")
        .filter(pk=pk)
        .first()
    )
