"""Writes of appointments, each audited in its own transaction."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from billing.audit import audit, model_values
from billing.models import Appointment, Organization, Patient, Provider, User

AUDITED_FIELDS = [
    "patient_id",
    "provider_id",
    "scheduled_at",
    "duration_minutes",
    "reason",
    "status",
]


def _validate(appointment: Appointment) -> None:
    appointment.full_clean()
    if appointment.duration_minutes < 1:
        raise ValidationError({"duration_minutes": "An appointment lasts at least a minute."})


def appointment_create(
    *,
    organization: Organization,
    actor: User,
    patient: Patient,
    provider: Provider,
    scheduled_at: datetime.datetime,
    duration_minutes: int,
    reason: str = "",
    status: str = Appointment.Status.SCHEDULED,
) -> Appointment:
    """Book (or record, for a past visit) an appointment. The patient and the provider
    must be the organization's own."""
    with transaction.atomic():
        appointment = Appointment(
            organization=organization,
            patient=patient,
            provider=provider,
            scheduled_at=scheduled_at,
            duration_minutes=duration_minutes,
            reason=reason,
            status=status,
        )
        _validate(appointment)
        appointment.save()
        audit(
            organization=organization,
            actor=actor,
            action="appointment.create",
            instance=appointment,
            new_values=model_values(appointment, AUDITED_FIELDS),
        )
    return appointment


def appointment_update(
    *,
    organization: Organization,
    actor: User,
    appointment: Appointment,
    patient: Patient,
    provider: Provider,
    scheduled_at: datetime.datetime,
    duration_minutes: int,
    reason: str,
    status: str,
) -> bool:
    """Change an appointment, including its status (cancelled, no show, completed).
    The audit row holds only the fields that changed; a save that changes nothing writes
    nothing. Returns whether anything changed."""
    if appointment.organization_id != organization.pk:
        raise ValidationError("That appointment belongs to another organization.")
    with transaction.atomic():
        before = {name: getattr(appointment, name) for name in AUDITED_FIELDS}
        appointment.patient = patient
        appointment.provider = provider
        appointment.scheduled_at = scheduled_at
        appointment.duration_minutes = duration_minutes
        appointment.reason = reason
        appointment.status = status
        _validate(appointment)
        after = {name: getattr(appointment, name) for name in AUDITED_FIELDS}
        changed = [name for name in AUDITED_FIELDS if before[name] != after[name]]
        if not changed:
            return False
        appointment.save(update_fields=[name.removesuffix("_id") for name in changed])
        audit(
            organization=organization,
            actor=actor,
            action="appointment.update",
            instance=appointment,
            old_values={name: before[name] for name in changed},
            new_values={name: after[name] for name in changed},
        )
    return True
