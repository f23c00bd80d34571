"""271 eligibility response (005010X279A1): the payer's answer to a 270, on the same levels.

Each answered inquiry echoes the 270's trace as TRN*2, may carry AAA errors (the subscriber
was not found, the id is invalid ...), the eligibility dates (DTP*346/347) and the benefits
(EB, with MSG lines). See `edi.x270` for the hierarchy.
"""

from __future__ import annotations

from collections.abc import Sequence

from edi.envelope import Kind, read_interchanges, write_interchange
from edi.models import Eligibility, Envelope, Parsed
from edi.tokenizer import DEFAULT_SEPARATORS, Separators
from edi.x270 import eligibility_body, read_eligibility

KIND = Kind("271", "HB", "005010X279A1", accepted_versions=("005010X279",))


def write_271(
    envelope: Envelope,
    responses: Sequence[Eligibility],
    *,
    separators: Separators = DEFAULT_SEPARATORS,
    line_break: str = "\n",
) -> str:
    bodies = [eligibility_body(r, response=True) for r in responses]
    return write_interchange(envelope, KIND, bodies, separators=separators, line_break=line_break)


def read_271(text: str) -> Parsed[Eligibility]:
    warnings: list[str] = []
    transaction_sets, envelopes = read_interchanges(text, KIND, warnings)
    responses = [read_eligibility(ts, warnings, response=True) for ts in transaction_sets]
    return Parsed(responses, envelopes, warnings)
