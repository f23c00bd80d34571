"""Requests the sandbox tests send, built with edi from the edi tests' realistic examples."""

from __future__ import annotations

import dataclasses
import itertools

from clearinghouse.sandbox.answers import is_denied
from edi import models as x12
from edi.x270 import write_270
from edi.x276 import write_276
from edi.x278 import write_278_request
from edi.x837p import write_837p
from tests.edi import examples


def claim(pcn: str, *, member_id: str = "XYZ123456789", payer_id: str = "ACME1") -> x12.Claim:
    visit = examples.office_visit(pcn)
    visit.subscriber = dataclasses.replace(visit.subscriber, member_id=member_id)
    visit.payer = dataclasses.replace(visit.payer, payer_id=payer_id)
    return visit


def claims_837(*claims: x12.Claim, control_number: int = 905) -> str:
    batch = dataclasses.replace(examples.claims_batch(), claims=list(claims))
    return write_837p(examples.envelope(control_number), [batch])


def with_total(text: str, pcn: str, total: str) -> str:
    """The file with CLM02 of claim `pcn` changed (the edi writer refuses a wrong total)."""
    before = f"CLM*{pcn}*185*"
    assert before in text
    return text.replace(before, f"CLM*{pcn}*{total}*")


def paid_claim_id(prefix: str = "PCN-P") -> str:
    return next(f"{prefix}{n}" for n in itertools.count(1) if not is_denied(f"{prefix}{n}"))


def denied_claim_id(prefix: str = "PCN-D") -> str:
    return next(f"{prefix}{n}" for n in itertools.count(1) if is_denied(f"{prefix}{n}"))


def eligibility_270(member_id: str = "XYZ123456789") -> str:
    request = examples.eligibility_request()
    request.inquiries = request.inquiries[:1]
    subscriber = dataclasses.replace(request.inquiries[0].subscriber, identifier=member_id)
    request.inquiries[0] = dataclasses.replace(request.inquiries[0], subscriber=subscriber)
    return write_270(examples.envelope(), [request])


def status_276(*claim_ids: str) -> str:
    request = examples.status_request()
    template = request.providers[0].claims[0]
    request.providers[0].claims = [
        dataclasses.replace(
            template,
            trace_number=f"TRACE-{n}",
            patient_control_number=claim_id,
            payer_claim_control_number="",
        )
        for n, claim_id in enumerate(claim_ids, 1)
    ]
    return write_276(examples.envelope(), [request])


def review_278() -> str:
    return write_278_request(examples.envelope(), [examples.review_request()])
