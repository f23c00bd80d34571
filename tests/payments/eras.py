"""Builders for ERA tests: our claims (with their charges on the ledger) and real 835 files
paying them, written with `edi.x835.write_835`."""

from __future__ import annotations

import datetime
from decimal import Decimal

from billing.models import Claim, LedgerEntry
from billing.services.ledger import CHARGE_SOURCE, ledger_post
from edi import models as x12
from edi.x835 import write_835
from tests import factories

FIXTURES = "tests/fixtures/x12/835"
PAY_DAY = datetime.date(2026, 11, 20)


def claim(
    org, payer, *, number: str, lines=(("99213", "150.00"), ("87880", "35.00")), status="accepted"
):
    """An accepted claim whose charges are on its encounter's ledger (balance = total)."""
    patient = factories.PatientFactory(organization=org, last_name="Rivera", first_name="Ana")
    coverage = factories.CoverageFactory(organization=org, patient=patient, payer=payer)
    encounter = factories.EncounterFactory(organization=org, patient=patient)
    charges = [
        factories.ChargeFactory(
            encounter=encounter, procedure_code=code, amount=Decimal(amount), status="billed"
        )
        for code, amount in lines
    ]
    for charge in charges:
        ledger_post(
            organization=org,
            actor=None,
            encounter=encounter,
            kind=LedgerEntry.Kind.CHARGE,
            amount=charge.amount,
            charge=charge,
            source_table=CHARGE_SOURCE,
            source_id=charge.pk,
            memo=f"{charge.procedure_code} charge",
        )
    made = factories.ClaimFactory(
        organization=org,
        encounter=encounter,
        coverage=coverage,
        payer=payer,
        claim_number=number,
        status=status,
        total=sum(c.amount for c in charges),
    )
    made.charges.set(charges)
    made.lines = list(lines)
    return made


def line(code: str, charge: str, paid: str, *adjustments: tuple[str, str, str], remarks=()):
    return x12.ServicePayment(
        procedure_code=code,
        charge=Decimal(charge),
        paid=Decimal(paid),
        units=Decimal(1),
        service_date=PAY_DAY - datetime.timedelta(days=20),
        adjustments=[
            x12.Adjustment(group=g, reason=r, amount=Decimal(a)) for g, r, a in adjustments
        ],
        remark_codes=tuple(remarks),
    )


def paid_claim(made: Claim, *, status_code="1", services=None, adjustments=()) -> x12.ClaimPayment:
    """The usual adjudication of a claim made by `claim`: 80% allowed, 20% coinsurance on
    the first line; or `services` as given."""
    if services is None:
        services = []
        for number, (code, amount) in enumerate(made.lines):
            charge = Decimal(amount)
            allowed = (charge * Decimal("0.8")).quantize(Decimal("0.01"))
            coins = (allowed * Decimal("0.2")).quantize(Decimal("0.01")) if number == 0 else 0
            services.append(
                line(
                    code,
                    amount,
                    str(allowed - coins),
                    ("CO", "45", str(charge - allowed)),
                    *((("PR", "2", str(coins)),) if coins else ()),
                )
            )
    paid = sum((s.paid for s in services), Decimal(0))
    pr = sum((a.amount for s in services for a in s.adjustments if a.group == "PR"), Decimal(0))
    return x12.ClaimPayment(
        patient_control_number=made.claim_number,
        status_code=status_code,
        charge=made.total,
        paid=paid,
        patient_responsibility=pr,
        filing_indicator="12",
        payer_claim_control_number=f"PCN{made.claim_number}",
        patient=x12.Person(
            last_name="RIVERA", first_name="ANA", id_qualifier="MI", identifier="W1"
        ),
        adjustments=[
            x12.Adjustment(group=g, reason=r, amount=Decimal(a)) for g, r, a in adjustments
        ],
        services=services,
    )


def remittance(
    org,
    claims: list[x12.ClaimPayment],
    *,
    payer_name="ACME HEALTH PLAN",
    payer_id="1999999999",
    trace="EFT0001",
    payee_npi=None,
    amount=None,
    day=PAY_DAY,
    provider_adjustments=(),
) -> x12.Remittance:
    total = sum((c.paid for c in claims), Decimal(0)) - sum(
        (p.amount for p in provider_adjustments), Decimal(0)
    )
    amount = total if amount is None else Decimal(amount)
    paying = amount > 0
    return x12.Remittance(
        handling_code="I" if paying else "H",
        payment_amount=amount,
        payment_method="ACH" if paying else "NON",
        payment_format="CCP" if paying else "",
        payment_date=day,
        production_date=day,
        trace_number=trace,
        payer_id=payer_id,
        payer_name=payer_name,
        payer_address=x12.Address(
            line1="PO BOX 1000", city="NASHVILLE", state="TN", postal_code="37201"
        ),
        payer_contact=x12.Contact(name="EDI SUPPORT", phone="8005550199"),
        payee_name=org.name.upper(),
        payee_id_qualifier="XX",
        payee_id=payee_npi or org.billing_npi,
        claims=claims,
        provider_adjustments=list(provider_adjustments),
    )


def file_835(*remittances: x12.Remittance, control_number: int = 1) -> str:
    envelope = x12.Envelope(
        sender_id="ACMEPAYER",
        receiver_id="PRACTICE",
        control_number=control_number,
        group_control_number=control_number,
        created=datetime.datetime(2026, 11, 20, 8, 30),
    )
    return write_835(envelope, list(remittances))


def fixture(name: str) -> str:
    with open(f"{FIXTURES}/{name}", encoding="utf-8") as handle:
        return handle.read()
