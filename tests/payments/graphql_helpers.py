"""Builders for the insurance payment API tests: payments straight into the database
(manual, or automatic with the ERA they came from) and a GraphQL client call."""

from __future__ import annotations

import datetime
import itertools
import json
from decimal import Decimal
from typing import Any

from django.utils import timezone

from payments.models import Era, EraFile, InsurancePayment

GRAPHQL = "/graphql"
_numbers = itertools.count(1)


def payment(org, **fields: Any) -> InsurancePayment:
    """A live manual payment; any field can be given."""
    now = timezone.now()
    values: dict[str, Any] = {
        "paid_date": datetime.date(2024, 1, 20),
        "paid_amount": Decimal("150.00"),
        "deposit_status": InsurancePayment.DepositStatus.PENDING,
        "source": InsurancePayment.Source.MANUAL,
        "payer_name": "Blue Cross Blue Shield",
        "npi": "1234567890",
        "ach_check_number": None,
        "created_at": now,
        "updated_at": now,
    }
    values.update(fields)
    if values["source"] == InsurancePayment.Source.AUTOMATIC and "era" not in values:
        values["era"] = era(org, payer_name=values["payer_name"])
    return InsurancePayment.objects.create(organization=org, **values)


def automatic(org, **fields: Any) -> InsurancePayment:
    return payment(org, source=InsurancePayment.Source.AUTOMATIC, **fields)


def era(org, *, payer_name: str = "Blue Cross Blue Shield") -> Era:
    number = next(_numbers)
    era_file = EraFile.objects.create(
        organization=org,
        content=f"ISA*{number}~",
        sha256=f"{number:064x}",
        source=EraFile.Source.UPLOAD,
        status=EraFile.Status.INGESTED,
    )
    return Era.objects.create(
        organization=org,
        era_file=era_file,
        era_id=f"87726|TRACE{number}|1234567890",
        payer_identifier="87726",
        payer_name=payer_name,
        payee_name="Demo Family Practice",
        payee_id_qualifier="XX",
        payee_identifier="1234567890",
        handling_code="I",
        payment_method="ACH",
        payment_amount=Decimal("150.00"),
        payment_date=datetime.date(2024, 1, 20),
        trace_number=f"TRACE{number}",
    )


def gql(client, query: str, variables: dict | None = None, **headers: str) -> dict:
    """POST one operation to /graphql as JSON and return the decoded answer."""
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    response = client.post(
        GRAPHQL, json.dumps(body), content_type="application/json", headers=headers
    )
    assert response.status_code == 200, response.content
    return response.json()


def bearer(raw_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw_key}"}
