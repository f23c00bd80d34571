"""Writes of patients and their coverages. Each one is atomic, validated with
`full_clean()` and audited in the same transaction.

The database holds the invariants (a unique account number per organization, one open
coverage per order and patient); these services check them first so people get a clear
message, and turn the `IntegrityError` of a lost race into the same message.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.audit import audit, model_values
from billing.models import Coverage, Organization, Patient, User

PATIENT_FIELDS = (
    "account_number",
    "first_name",
    "last_name",
    "birth_date",
    "sex",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "zip_code",
    "phone",
    "email",
)
COVERAGE_FIELDS = (
    "payer",
    "order",
    "member_id",
    "group_number",
    "relationship",
    "subscriber_first_name",
    "subscriber_last_name",
    "subscriber_birth_date",
    "effective_from",
    "effective_to",
)
# Audit rows name foreign keys by id.
COVERAGE_AUDIT_FIELDS = [f if f != "payer" else "payer_id" for f in COVERAGE_FIELDS]


def _apply(instance, data: Mapping[str, Any], fields: tuple[str, ...]) -> None:
    for name in fields:
        if name in data:
            setattr(instance, name, data[name])


def _changes(old: dict[str, Any], new: dict[str, Any]) -> tuple[dict, dict]:
    changed = [name for name in new if old.get(name) != new[name]]
    return {n: old.get(n) for n in changed}, {n: new[n] for n in changed}


# --- patients ---------------------------------------------------------------------------


def _account_number_taken(patient: Patient) -> ValidationError | None:
    clash = (
        Patient.objects.for_organization(patient.organization_id)
        .filter(account_number__iexact=patient.account_number)
        .exclude(pk=patient.pk)
        .first()
    )
    if clash is None:
        return None
    return ValidationError(
        {
            "account_number": (
                f"Account number {patient.account_number} is already used by {clash} "
                f"(born {clash.birth_date:%m/%d/%Y})."
            )
        }
    )


def _check_patient(patient: Patient) -> None:
    errors: dict[str, list[str]] = {}
    if patient.birth_date and patient.birth_date > timezone.localdate():
        errors["birth_date"] = ["The birth date cannot be in the future."]
    taken = _account_number_taken(patient)
    if taken is not None:
        errors.update(taken.message_dict)
    if errors:
        raise ValidationError(errors)
    patient.full_clean()


def _save_patient(patient: Patient) -> None:
    try:
        with transaction.atomic():
            patient.save()
    except IntegrityError as exc:
        taken = _account_number_taken(patient)
        raise taken or ValidationError("The patient could not be saved; try again.") from exc


def patient_create(
    *, organization: Organization, actor: User | None, data: Mapping[str, Any]
) -> Patient:
    with transaction.atomic():
        patient = Patient(organization=organization)
        _apply(patient, data, PATIENT_FIELDS)
        _check_patient(patient)
        _save_patient(patient)
        audit(
            organization=organization,
            actor=actor,
            action="patient.create",
            instance=patient,
            new_values=model_values(patient, list(PATIENT_FIELDS)),
        )
    return patient


def patient_update(
    *, organization: Organization, actor: User | None, patient: Patient, data: Mapping[str, Any]
) -> Patient:
    """Change demographics; the audit row holds the changed fields only (no row when
    nothing changed)."""
    with transaction.atomic():
        patient = (
            Patient.objects.for_organization(organization).select_for_update().get(pk=patient.pk)
        )
        old = model_values(patient, list(PATIENT_FIELDS))
        _apply(patient, data, PATIENT_FIELDS)
        old_values, new_values = _changes(old, model_values(patient, list(PATIENT_FIELDS)))
        if not new_values:
            return patient
        _check_patient(patient)
        _save_patient(patient)
        audit(
            organization=organization,
            actor=actor,
            action="patient.update",
            instance=patient,
            old_values=old_values,
            new_values=new_values,
        )
    return patient


# --- coverages --------------------------------------------------------------------------


def _open_clash(coverage: Coverage) -> ValidationError | None:
    """The clear message for the partial unique constraint coverage_one_open_per_order."""
    if coverage.effective_to is not None:
        return None
    clash = (
        Coverage.objects.filter(
            patient_id=coverage.patient_id, order=coverage.order, effective_to__isnull=True
        )
        .exclude(pk=coverage.pk)
        .exists()
    )
    if not clash:
        return None
    order = coverage.get_order_display().lower()
    return ValidationError(
        {"order": f"This patient already has an open {order} coverage; end it first."}
    )


def _check_coverage(coverage: Coverage) -> None:
    errors: dict[str, list[str]] = {}
    if not (coverage.member_id or "").strip():
        errors["member_id"] = ["Enter the member id from the card."]
    start, end = coverage.effective_from, coverage.effective_to
    if start and end and end < start:
        errors["effective_to"] = ["The end date cannot be before the effective date."]
    if coverage.relationship != Coverage.Relationship.SELF and not (
        coverage.subscriber_first_name and coverage.subscriber_last_name
    ):
        errors["subscriber_last_name"] = [
            "Enter the subscriber's name: the patient is not the policy holder."
        ]
    clash = _open_clash(coverage)
    if clash is not None:
        errors.update(clash.message_dict)
    if errors:
        raise ValidationError(errors)
    coverage.full_clean()


def _save_coverage(coverage: Coverage) -> None:
    try:
        with transaction.atomic():
            coverage.save()
    except IntegrityError as exc:
        clash = _open_clash(coverage)
        raise clash or ValidationError("The coverage could not be saved; try again.") from exc


def _lock_patient(organization: Organization, patient: Patient) -> Patient:
    # Serializes coverage writes of one patient, so the open-coverage check holds.
    return Patient.objects.for_organization(organization).select_for_update().get(pk=patient.pk)


def coverage_create(
    *, organization: Organization, actor: User | None, patient: Patient, data: Mapping[str, Any]
) -> Coverage:
    with transaction.atomic():
        patient = _lock_patient(organization, patient)
        coverage = Coverage(organization=organization, patient=patient)
        _apply(coverage, data, COVERAGE_FIELDS)
        _check_coverage(coverage)
        _save_coverage(coverage)
        audit(
            organization=organization,
            actor=actor,
            action="coverage.create",
            instance=coverage,
            new_values={"patient_id": patient.pk, **model_values(coverage, COVERAGE_AUDIT_FIELDS)},
        )
    return coverage


def coverage_update(
    *,
    organization: Organization,
    actor: User | None,
    coverage: Coverage,
    data: Mapping[str, Any],
) -> Coverage:
    with transaction.atomic():
        _lock_patient(organization, coverage.patient)
        coverage = (
            Coverage.objects.for_organization(organization)
            .select_related("patient", "payer")
            .get(pk=coverage.pk)
        )
        old = model_values(coverage, COVERAGE_AUDIT_FIELDS)
        _apply(coverage, data, COVERAGE_FIELDS)
        old_values, new_values = _changes(old, model_values(coverage, COVERAGE_AUDIT_FIELDS))
        if not new_values:
            return coverage
        _check_coverage(coverage)
        _save_coverage(coverage)
        audit(
            organization=organization,
            actor=actor,
            action="coverage.update",
            instance=coverage,
            old_values=old_values,
            new_values=new_values,
        )
    return coverage


def coverage_end(
    *,
    organization: Organization,
    actor: User | None,
    coverage: Coverage,
    end_date: datetime.date,
) -> Coverage:
    """Close an open coverage on `end_date`, its last covered day."""
    with transaction.atomic():
        _lock_patient(organization, coverage.patient)
        coverage = (
            Coverage.objects.for_organization(organization)
            .select_related("patient", "payer")
            .get(pk=coverage.pk)
        )
        if coverage.effective_to is not None:
            raise ValidationError(
                {"end_date": f"This coverage already ends on {coverage.effective_to:%m/%d/%Y}."}
            )
        if end_date < coverage.effective_from:
            raise ValidationError(
                {
                    "end_date": (
                        "The end date cannot be before the effective date "
                        f"({coverage.effective_from:%m/%d/%Y})."
                    )
                }
            )
        coverage.effective_to = end_date
        coverage.full_clean()
        coverage.save(update_fields=["effective_to"])
        audit(
            organization=organization,
            actor=actor,
            action="coverage.end",
            instance=coverage,
            old_values={"effective_to": None},
            new_values={"effective_to": end_date},
        )
    return coverage
