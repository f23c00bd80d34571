"""Builders for the payments pages' tests: manual and automatic (ERA) payments written
straight to the database, and the members who may or may not see them."""

from __future__ import annotations

import datetime
import hashlib
import itertools
from decimal import Decimal

from django.utils import timezone

from billing.models import Membership, Role
from payments.models import Era, EraFile, InsurancePayment
from tests import factories

NPI = "1234567890"
_serial = itertools.count(1)


def manual(org, *, paid_date="2026-03-02", paid_amount="150.00", payer_name="Aetna", **fields):
    now = timezone.now()
    values = {
        "npi": NPI,
        "ach_check_number": f"CHK-{next(_serial):05d}",
        "deposit_status": "PENDING",
        "created_at": now,
        "updated_at": now,
        **fields,
    }
    return InsurancePayment.objects.create(
        organization=org,
        source="manual",
        paid_date=datetime.date.fromisoformat(paid_date),
        paid_amount=Decimal(paid_amount),
        payer_name=payer_name,
        **values,
    )


def automatic(
    org,
    *,
    paid_date="2026-03-02",
    paid_amount="410.25",
    payer_name="Blue Cross Blue Shield",
    trace="",
    **fields,
):
    """An ERA (and its file) paying `paid_amount`, and its automatic payment; the payment's
    check/ACH number is the ERA's TRN02 trace number."""
    n = next(_serial)
    trace = trace or f"88{n:08d}"
    content = f"ISA*fake*{n}*{trace}~"
    era_file = EraFile.objects.create(
        organization=org,
        content=content,
        sha256=hashlib.sha256(content.encode()).hexdigest(),
        source="command",
        status="ingested",
    )
    era = Era.objects.create(
        organization=org,
        era_file=era_file,
        era_id=f"87726|{trace}|1234567890",
        payer_identifier="87726",
        payer_name=payer_name,
        payee_name="Demo Family Practice",
        payee_id_qualifier="XX",
        payee_identifier=NPI,
        handling_code="I",
        payment_method="ACH",
        payment_amount=Decimal(paid_amount),
        payment_date=datetime.date.fromisoformat(paid_date),
        trace_number=trace,
    )
    now = timezone.now()
    values = {"npi": NPI, "deposit_status": "PENDING", "created_at": now, "updated_at": now}
    values.update(fields)
    return InsurancePayment.objects.create(
        organization=org,
        source="automatic",
        era=era,
        paid_date=datetime.date.fromisoformat(paid_date),
        paid_amount=Decimal(paid_amount),
        payer_name=payer_name,
        ach_check_number=trace,
        **values,
    )


def member_with(org, username: str, codes: list[str]):
    """A member whose custom role holds exactly `codes`."""
    role = Role.objects.create(organization=org, name=f"Role {username}", codes=codes)
    user = factories.UserFactory(username=username)
    Membership.objects.create(user=user, organization=org, role=role)
    return user
