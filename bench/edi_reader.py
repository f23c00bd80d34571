"""Reader benchmark: segments per second for `edi.x835.read_835` and for pyx12's validator,
on one generated 835 with 10,000 claims (the issue's target: at least 10x pyx12's rate).

    .venv/bin/python bench/edi_reader.py [--claims 10000] [--repeat 3] [--skip-pyx12]
"""

from __future__ import annotations

import argparse
import datetime
import gc
import io
import logging
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from edi.models import (
    Address,
    Adjustment,
    ClaimPayment,
    Contact,
    Envelope,
    Person,
    ProviderAdjustment,
    Remittance,
    ServicePayment,
)
from edi.tokenizer import tokenize
from edi.x835 import read_835, write_835


def generate_835(claims: int) -> str:
    """One ERA paying `claims` claims of one or two service lines each, with adjustments."""
    day = datetime.date(2026, 11, 3)
    paid_claims = []
    for n in range(claims):
        lines = 1 + n % 2
        services = [
            ServicePayment(
                procedure_code=("99213", "87880")[line],
                modifiers=("25",) if line == 0 else (),
                charge=Decimal("150.00") - 100 * line,
                paid=Decimal("100.00") - 80 * line,
                units=Decimal(1),
                service_date=day,
                adjustments=[
                    Adjustment(group="CO", reason="45", amount=Decimal("30.00") - 20 * line),
                    Adjustment(group="PR", reason="2", amount=Decimal("20.00")),
                ],
                control_number=f"PCN{n:06d}-{line + 1}",
                allowed_amount=Decimal("120.00") - 80 * line,
            )
            for line in range(lines)
        ]
        paid_claims.append(
            ClaimPayment(
                patient_control_number=f"PCN{n:06d}",
                status_code="1",
                charge=sum((s.charge for s in services), Decimal(0)),
                paid=sum((s.paid for s in services), Decimal(0)),
                patient_responsibility=Decimal("20.00") * lines,
                filing_indicator="12",
                payer_claim_control_number=f"ACME{n:09d}",
                patient=Person(
                    last_name=f"PATIENT{n}",
                    first_name="ALEX",
                    id_qualifier="MI",
                    identifier=f"M{n:08d}",
                ),
                statement_from=day,
                statement_to=day,
                services=services,
            )
        )
    interest = ProviderAdjustment(
        provider_id="1234567893",
        fiscal_period_end=datetime.date(2026, 12, 31),
        reason_code="L6",
        amount=Decimal("-12.34"),
    )
    era = Remittance(
        payment_amount=sum((c.paid for c in paid_claims), Decimal(0)) - interest.amount,
        payment_method="ACH",
        payment_format="CCP",
        payment_date=datetime.date(2026, 11, 24),
        trace_number="EFT-BENCH-1",
        payer_id="1123456789",
        payer_name="ACME HEALTH PLAN",
        payer_address=Address(line1="PO BOX 2291", city="DURHAM", state="NC", postal_code="27702"),
        payer_contact=Contact(name="EDI SUPPORT", phone="8005551212"),
        payee_name="DEMO FAMILY PRACTICE",
        payee_id_qualifier="XX",
        payee_id="1234567893",
        claims=paid_claims,
        provider_adjustments=[interest],
    )
    envelope = Envelope(
        sender_id="ACME",
        receiver_id="DEMOFAMILY",
        control_number=1,
        group_control_number=1,
        created=datetime.datetime(2026, 11, 24, 6, 0),
    )
    return write_835(envelope, [era])


def best_of(repeat: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def pyx12_seconds(text: str) -> float:
    import pyx12.params
    import pyx12.x12n_document

    logging.getLogger("pyx12").setLevel(logging.CRITICAL + 1)
    start = time.perf_counter()
    pyx12.x12n_document.x12n_document(pyx12.params.params(), io.StringIO(text), None, None)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of our reader (best kept)")
    parser.add_argument("--skip-pyx12", action="store_true", help="pyx12 takes about a minute")
    args = parser.parse_args()

    text = generate_835(args.claims)
    segments = len(tokenize(text))
    assert len(read_835(text).transactions[0].claims) == args.claims
    gc.collect()  # time on a clean heap: nothing from the checks above is kept alive
    print(f"835 with {args.claims:,} claims: {segments:,} segments, {len(text) / 1e6:.1f} MB")

    tokenize_s = best_of(args.repeat, lambda: tokenize(text))
    read_s = best_of(args.repeat, lambda: read_835(text))
    print(f"edi tokenize      {segments / tokenize_s:>12,.0f} segments/s  ({tokenize_s:.2f} s)")
    print(f"edi read_835      {segments / read_s:>12,.0f} segments/s  ({read_s:.2f} s)")
    if args.skip_pyx12:
        return
    pyx12_s = pyx12_seconds(text)
    print(f"pyx12 validate    {segments / pyx12_s:>12,.0f} segments/s  ({pyx12_s:.2f} s)")
    print(f"read_835 / pyx12  {pyx12_s / read_s:>12.1f}x  (target: at least 10x)")


if __name__ == "__main__":
    main()
