"""Writes of payers. Each one is atomic, validated with `full_clean()` and audited in the
same transaction. The payer id is unique in the organization (a database constraint);
the check here gives people a clear message, and the IntegrityError of a lost race
becomes the same message."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from billing.audit import audit, model_values
from billing.models import Organization, Payer, User
from billing.selectors.payers import payer_id_clash

PAYER_FIELDS = [
    "name",
    "payer_id",
    "claim_filing_indicator",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "zip_code",
    "phone",
]


def _payer_id_taken(payer: Payer) -> ValidationError | None:
    clash = payer_id_clash(payer)
    if clash is None:
        return None
    return ValidationError(
        {"payer_id": f"Payer id {payer.payer_id} is already used by {clash.name}."}
    )


def _save(payer: Payer) -> None:
    taken = _payer_id_taken(payer)
    if taken is not None:
        raise taken
    payer.full_clean()
    try:
        with transaction.atomic():
            payer.save()
    except IntegrityError as error:
        taken = _payer_id_taken(payer)
        raise taken or ValidationError("The payer could not be saved; try again.") from error


def payer_create(*, organization: Organization, actor: User, data: Mapping[str, Any]) -> Payer:
    payer = Payer(organization=organization)
    for field in PAYER_FIELDS:
        if field in data:
            setattr(payer, field, data[field])
    with transaction.atomic():
        _save(payer)
        audit(
            organization=organization,
            actor=actor,
            action="payer.create",
            instance=payer,
            new_values=model_values(payer, PAYER_FIELDS),
        )
    return payer


def payer_update(
    *, organization: Organization, actor: User, payer: Payer, data: Mapping[str, Any]
) -> Payer:
    """Change a payer; the audit row holds the changed fields only (none: no row)."""
    with transaction.atomic():
        payer = Payer.objects.select_for_update().get(pk=payer.pk, organization=organization)
        old = model_values(payer, PAYER_FIELDS)
        for field in PAYER_FIELDS:
            if field in data:
                setattr(payer, field, data[field])
        _save(payer)
        new = model_values(payer, PAYER_FIELDS)
        changed = [name for name in PAYER_FIELDS if old[name] != new[name]]
        if changed:
            audit(
                organization=organization,
                actor=actor,
                action="payer.update",
                instance=payer,
                old_values={name: old[name] for name in changed},
                new_values={name: new[name] for name in changed},
            )
    return payer
