"""Writes of clearinghouse configurations and payer enrollments. Every one is atomic and
audited in its own transaction."""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.audit import audit, model_values
from billing.models import Organization, Payer, User
from clearinghouse.models import (
    TRANSACTION_FIELDS,
    ClearinghouseConfig,
    PayerEnrollment,
    TransactionType,
)

CONFIG_FIELDS = ["vendor", "display_name", "base_url", "submitter_id", "account_id", "is_active"]
ENROLLMENT_FIELDS = [
    "payer_id",
    "clearinghouse_id",
    "electronic_payer_id",
    "enrollment_status",
    *TRANSACTION_FIELDS.values(),
    "enrolled_on",
    "effective_from",
    "effective_to",
    "notes",
]


def _changed(old: dict[str, Any], new: dict[str, Any]) -> tuple[dict, dict]:
    keys = [k for k in new if old.get(k) != new[k]]
    return {k: old.get(k) for k in keys}, {k: new[k] for k in keys}


# --- clearinghouse configurations ----------------------------------------------------------


def _name_taken(config: ClearinghouseConfig) -> ValidationError:
    return ValidationError(
        {
            "display_name": f"A clearinghouse named “{config.display_name}” already exists "
            "in this organization. Choose another name."
        }
    )


def _save_config(config: ClearinghouseConfig) -> None:
    """full_clean, then save; a display name used twice in the organization becomes a
    message on the field whether the check or the database constraint (a race) catches it."""
    clash = (
        ClearinghouseConfig.objects.for_organization(config.organization_id)
        .filter(display_name__iexact=config.display_name)
        .exclude(pk=config.pk)
    )
    if config.display_name and clash.exists():
        raise _name_taken(config)
    config.full_clean()
    try:
        with transaction.atomic():
            config.save()
    except IntegrityError as error:
        if "clearinghouse_unique_display_name" in str(error) or "display_name" in str(error):
            raise _name_taken(config) from None
        raise


def clearinghouse_create(
    *, organization: Organization, actor: User, data: dict[str, Any], secret: str = ""
) -> ClearinghouseConfig:
    config = ClearinghouseConfig(organization=organization)
    for field in CONFIG_FIELDS:
        if field in data:
            setattr(config, field, data[field])
    if secret:
        config.set_credentials({"secret": secret})
    with transaction.atomic():
        _save_config(config)
        audit(
            organization=organization,
            actor=actor,
            action="clearinghouse.create",
            instance=config,
            new_values={**model_values(config, CONFIG_FIELDS), "credentials_set": bool(secret)},
        )
    return config


def clearinghouse_update(
    *,
    organization: Organization,
    actor: User,
    config: ClearinghouseConfig,
    data: dict[str, Any],
    secret: str = "",
) -> ClearinghouseConfig:
    """Change a configuration. An empty `secret` keeps the stored credentials: forms never
    show them, so a blank field means "unchanged"."""
    with transaction.atomic():
        config = ClearinghouseConfig.objects.select_for_update().get(
            pk=config.pk, organization=organization
        )
        old = model_values(config, CONFIG_FIELDS)
        for field in CONFIG_FIELDS:
            if field in data:
                setattr(config, field, data[field])
        if secret:
            config.set_credentials({"secret": secret})
        config.updated_at = timezone.now()
        _save_config(config)
        before, after = _changed(old, model_values(config, CONFIG_FIELDS))
        if secret:
            after["credentials_replaced"] = True  # never the credentials themselves
        if after:
            action = "clearinghouse.update"
            if after.keys() == {"is_active"}:
                action = (
                    "clearinghouse.activate" if config.is_active else "clearinghouse.deactivate"
                )
            audit(
                organization=organization,
                actor=actor,
                action=action,
                instance=config,
                old_values=before,
                new_values=after,
            )
    return config


def clearinghouse_set_active(
    *, organization: Organization, actor: User, config: ClearinghouseConfig, active: bool
) -> ClearinghouseConfig:
    return clearinghouse_update(
        organization=organization, actor=actor, config=config, data={"is_active": active}
    )


def clearinghouse_acknowledge_baa(
    *,
    organization: Organization,
    actor: User,
    config: ClearinghouseConfig,
    signed_on: datetime.date,
) -> ClearinghouseConfig:
    """Record that a signed Business Associate Agreement is on file: when it was signed,
    who acknowledged it and when. Routing to this vendor needs it (seed 001)."""
    if signed_on > timezone.localdate():
        raise ValidationError({"baa_signed_on": "The BAA cannot be signed in the future."})
    with transaction.atomic():
        config = ClearinghouseConfig.objects.select_for_update().get(
            pk=config.pk, organization=organization
        )
        old = model_values(config, ["baa_on_file", "baa_signed_on", "baa_acknowledged_by_id"])
        config.baa_on_file = True
        config.baa_signed_on = signed_on
        config.baa_acknowledged_by = actor
        config.baa_acknowledged_at = timezone.now()
        config.updated_at = timezone.now()
        config.full_clean()
        config.save()
        audit(
            organization=organization,
            actor=actor,
            action="clearinghouse.baa_acknowledged",
            instance=config,
            old_values=old,
            new_values=model_values(
                config, ["baa_on_file", "baa_signed_on", "baa_acknowledged_by_id"]
            ),
        )
    return config


# --- payer enrollments ----------------------------------------------------------------------


def _duplicate_message(payer: Payer, clearinghouse: ClearinghouseConfig) -> str:
    return f"{payer} already has an enrollment with {clearinghouse}. Edit that one instead."


def _save_enrollment(enrollment: PayerEnrollment) -> None:
    """full_clean, then save; the one-live-enrollment rule becomes a message on the payer
    field whether the check or the database constraint (a concurrent insert) catches it."""
    duplicate = (
        PayerEnrollment.objects.live()
        .filter(payer_id=enrollment.payer_id, clearinghouse_id=enrollment.clearinghouse_id)
        .exclude(pk=enrollment.pk)
    )
    if enrollment.deleted_at is None and duplicate.exists():
        raise ValidationError(
            {"payer": _duplicate_message(enrollment.payer, enrollment.clearinghouse)}
        )
    enrollment.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            enrollment.save()
    except IntegrityError as error:
        # PostgreSQL names the index in the message, SQLite only the columns: ask again.
        if "enrollment_one_live" in str(error) or (
            enrollment.deleted_at is None and duplicate.exists()
        ):
            raise ValidationError(
                {"payer": _duplicate_message(enrollment.payer, enrollment.clearinghouse)}
            ) from None
        raise


def enrollment_create(
    *,
    organization: Organization,
    actor: User,
    payer: Payer,
    clearinghouse: ClearinghouseConfig,
    electronic_payer_id: str,
    transaction_types: list[str],
    enrollment_status: str = PayerEnrollment.Status.PENDING,
    enrolled_on: datetime.date | None = None,
    effective_from: datetime.date | None = None,
    effective_to: datetime.date | None = None,
    notes: str = "",
) -> PayerEnrollment:
    enrollment = PayerEnrollment(
        organization=organization,
        payer=payer,
        clearinghouse=clearinghouse,
        electronic_payer_id=electronic_payer_id.strip(),
        enrollment_status=enrollment_status,
        enrolled_on=enrolled_on,
        effective_from=effective_from,
        effective_to=effective_to,
        notes=notes,
        created_by=actor,
    )
    _set_transaction_types(enrollment, transaction_types)
    with transaction.atomic():
        _save_enrollment(enrollment)
        audit(
            organization=organization,
            actor=actor,
            action="enrollment.create",
            instance=enrollment,
            new_values=model_values(enrollment, ENROLLMENT_FIELDS),
        )
    return enrollment


def _set_transaction_types(enrollment: PayerEnrollment, transaction_types: list[str]) -> None:
    chosen = {TransactionType(t) for t in transaction_types}
    for transaction_type, field in TRANSACTION_FIELDS.items():
        setattr(enrollment, field, transaction_type in chosen)


def enrollment_update(
    *,
    organization: Organization,
    actor: User,
    enrollment: PayerEnrollment,
    data: dict[str, Any],
) -> PayerEnrollment:
    """Change an enrollment's fields (`transaction_types` as a list of codes). A status
    change made here is audited as one, like `enrollment_set_status`."""
    with transaction.atomic():
        enrollment = (
            PayerEnrollment.objects.live()
            .select_for_update()
            .get(pk=enrollment.pk, organization=organization)
        )
        old = model_values(enrollment, ENROLLMENT_FIELDS)
        for field, value in data.items():
            if field == "transaction_types":
                _set_transaction_types(enrollment, value)
            elif field == "electronic_payer_id":
                enrollment.electronic_payer_id = value.strip()
            else:
                setattr(enrollment, field, value)
        enrollment.updated_at = timezone.now()
        _save_enrollment(enrollment)
        before, after = _changed(old, model_values(enrollment, ENROLLMENT_FIELDS))
        if after:
            audit(
                organization=organization,
                actor=actor,
                action="enrollment.status"
                if after.keys() == {"enrollment_status"}
                else "enrollment.update",
                instance=enrollment,
                old_values=before,
                new_values=after,
            )
    return enrollment


def enrollment_set_status(
    *, organization: Organization, actor: User | None, enrollment: PayerEnrollment, status: str
) -> PayerEnrollment:
    if status not in PayerEnrollment.Status.values:
        raise ValidationError({"enrollment_status": "Choose a known enrollment status."})
    return enrollment_update(
        organization=organization,
        actor=actor,
        enrollment=enrollment,
        data={"enrollment_status": status},
    )


# What a clearinghouse said about an enrollment sent to it (clearinghouse.vendor_services).
SUBMISSION_FIELDS = [
    "enrollment_status",
    "vendor_reference",
    "submitted_at",
    "status_reason",
    "enrolled_on",
]
VENDOR_ANSWERS = (
    PayerEnrollment.Status.PENDING,
    PayerEnrollment.Status.ACTIVE,
    PayerEnrollment.Status.REJECTED,
)


def _apply_vendor_answer(enrollment: PayerEnrollment, status: str, reason: str) -> None:
    if status not in VENDOR_ANSWERS:
        raise ValidationError({"enrollment_status": f"Unknown clearinghouse answer {status!r}."})
    enrollment.enrollment_status = status
    rejected = status == PayerEnrollment.Status.REJECTED
    enrollment.status_reason = reason.strip()[:300] if rejected else ""
    if status == PayerEnrollment.Status.ACTIVE and enrollment.enrolled_on is None:
        zone = zoneinfo.ZoneInfo(enrollment.organization.time_zone)
        enrollment.enrolled_on = timezone.now().astimezone(zone).date()


def enrollment_record_submission(
    *,
    organization: Organization,
    actor: User,
    enrollment: PayerEnrollment,
    status: str,
    vendor_reference: str = "",
    reason: str = "",
) -> PayerEnrollment:
    """Record that `enrollment` was sent to its clearinghouse and what it answered at once:
    pending with the vendor's reference (the usual answer), active (an approval on the
    spot; the enrolled date is set if empty), or rejected with the vendor's reason. Audited
    "enrollment.submit" with the values before and after."""
    with transaction.atomic():
        enrollment = (
            PayerEnrollment.objects.live()
            .select_for_update()
            .select_related("organization")
            .get(pk=enrollment.pk, organization=organization)
        )
        old = model_values(enrollment, SUBMISSION_FIELDS)
        enrollment.submitted_at = timezone.now()
        enrollment.vendor_reference = vendor_reference
        _apply_vendor_answer(enrollment, status, reason)
        enrollment.updated_at = enrollment.submitted_at
        _save_enrollment(enrollment)
        audit(
            organization=organization,
            actor=actor,
            action="enrollment.submit",
            instance=enrollment,
            old_values=old,
            new_values=model_values(enrollment, SUBMISSION_FIELDS),
        )
    return enrollment


def enrollment_record_vendor_status(
    *, organization: Organization, enrollment: PayerEnrollment, status: str, reason: str = ""
) -> PayerEnrollment | None:
    """The clearinghouse's later answer about a submitted, pending enrollment: active or
    rejected (with its reason). Written by the system (no actor), audited "enrollment.status".

    Nothing is written, and None returned, when the enrollment is no longer pending on that
    same submission: someone changed or resubmitted it while the answer was on its way.
    """
    with transaction.atomic():
        locked = (
            PayerEnrollment.objects.live()
            .select_for_update()
            .select_related("organization")
            .filter(
                pk=enrollment.pk,
                organization=organization,
                enrollment_status=PayerEnrollment.Status.PENDING,
                vendor_reference=enrollment.vendor_reference,
            )
            .exclude(vendor_reference="")
            .first()
        )
        if locked is None or status == PayerEnrollment.Status.PENDING:
            return None
        old = model_values(locked, SUBMISSION_FIELDS)
        _apply_vendor_answer(locked, status, reason)
        locked.updated_at = timezone.now()
        _save_enrollment(locked)
        before, after = _changed(old, model_values(locked, SUBMISSION_FIELDS))
        audit(
            organization=organization,
            actor=None,
            action="enrollment.status",
            instance=locked,
            old_values=before,
            new_values={**after, "vendor_reference": locked.vendor_reference},
        )
    return locked


def enrollment_remove(
    *, organization: Organization, actor: User, enrollment: PayerEnrollment
) -> PayerEnrollment:
    """Soft delete: the row stays for the claims and files that went through it."""
    with transaction.atomic():
        enrollment = (
            PayerEnrollment.objects.live()
            .select_for_update()
            .get(pk=enrollment.pk, organization=organization)
        )
        enrollment.deleted_at = timezone.now()
        enrollment.updated_at = enrollment.deleted_at
        enrollment.save(update_fields=["deleted_at", "updated_at"])
        audit(
            organization=organization,
            actor=actor,
            action="enrollment.remove",
            instance=enrollment,
            old_values={"deleted_at": None},
            new_values={"deleted_at": enrollment.deleted_at},
        )
    return enrollment


def enrollments_expire(*, organization: Organization, today: datetime.date) -> list[int]:
    """Move live enrollments whose end date has passed to expired; one audit row lists
    them all. Returns their ids."""
    with transaction.atomic():
        due = (
            PayerEnrollment.objects.for_organization(organization)
            .live()
            .filter(effective_to__lt=today)
            .exclude(enrollment_status=PayerEnrollment.Status.EXPIRED)
            .select_for_update()
        )
        rows = list(due.values_list("pk", "enrollment_status"))
        if not rows:
            return []
        ids = [pk for pk, _ in rows]
        PayerEnrollment.objects.filter(pk__in=ids).update(
            enrollment_status=PayerEnrollment.Status.EXPIRED, updated_at=timezone.now()
        )
        audit(
            organization=organization,
            actor=None,
            action="enrollment.expire",
            table_name=PayerEnrollment._meta.db_table,
            record_id="",
            old_values={str(pk): status for pk, status in rows},
            new_values={"enrollment_status": "expired", "ids": ids, "end_before": today},
        )
    return ids
