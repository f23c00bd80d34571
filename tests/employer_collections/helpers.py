from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from billing.models import LedgerEntry
from tests import factories


def owed(org, amount="100.00", *, employer=None, days=60, patient=None):
    """An encounter `days` old owing `amount`, by the employer when one is given."""
    fields = {"organization": org, "guarantor_employer": employer}
    if patient is not None:
        fields["patient"] = patient
    else:
        fields["patient"] = factories.PatientFactory(organization=org)
    encounter = factories.EncounterFactory(
        date_of_service=timezone.localdate() - datetime.timedelta(days=days), **fields
    )
    factories.LedgerEntryFactory(encounter=encounter, amount=Decimal(amount))
    return encounter


def pay(encounter, amount, *, days_ago=1):
    return factories.LedgerEntryFactory(
        encounter=encounter,
        kind=LedgerEntry.Kind.PATIENT_PAYMENT,
        amount=-Decimal(amount),
        posted_at=timezone.now() - datetime.timedelta(days=days_ago),
    )
