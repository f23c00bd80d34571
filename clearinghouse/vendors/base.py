"""The one interface every clearinghouse vendor adapter implements.

Adapters are plain Python over httpx: they take a `VendorSettings` (base URL, ids, the
decrypted secret, the per-transaction timeout) and an `AdapterState` (where tokens and
cursors live between calls), speak the vendor's HTTP API, and hand back raw X12 and small
result objects. They never log credentials or PHI, and never put either in an exception.

Failures are typed so callers can decide without parsing messages:
- `TransientFailure` (and its `VendorTimeout`): timeout, connection error, HTTP 5xx or 429.
  Safe to retry later; for a claim submission the outcome may be unknown (see
  `TransientFailure.outcome_unknown`), which must be settled with the same vendor.
- `PermanentFailure`: the vendor refused the request (4xx, or a rejection in the body),
  with the vendor's message. Retrying the same request will not help.
"""

from __future__ import annotations

import abc
import datetime
from dataclasses import dataclass, field
from typing import Protocol


class VendorError(Exception):
    def __init__(self, vendor: str, message: str, *, status_code: int | None = None):
        super().__init__(f"{vendor}: {message}")
        self.vendor = vendor
        self.message = message
        self.status_code = status_code


class TransientFailure(VendorError):
    """Worth retrying. `outcome_unknown` is True when the request may have reached the
    vendor (a timeout or dropped connection after sending), so a claim may be accepted.
    `retry_after_s` is the vendor's Retry-After on an HTTP 429, else None."""

    def __init__(
        self,
        vendor: str,
        message: str,
        *,
        status_code=None,
        outcome_unknown=False,
        retry_after_s: float | None = None,
    ):
        super().__init__(vendor, message, status_code=status_code)
        self.outcome_unknown = outcome_unknown
        self.retry_after_s = retry_after_s


class VendorTimeout(TransientFailure):
    """No answer within the per-transaction timeout."""


class PermanentFailure(VendorError):
    """Refused by the vendor; the message is the vendor's reason."""


@dataclass(frozen=True)
class VendorSettings:
    vendor: str  # clearinghouse.models.Vendor value
    base_url: str
    account_id: str = ""  # account, user name or OAuth client id
    submitter_id: str = ""
    secret: str = ""  # API key, client secret or password (decrypted; never log it)
    timeout_s: float = 15.0  # the failover settings' transaction_timeout_ms / 1000
    options: dict[str, str] = field(default_factory=dict)  # vendor-specific, configurable


class AdapterState(Protocol):
    """Where an adapter keeps what must outlive one call: OAuth tokens (with their expiry)
    and cursors such as Claim.MD's last response and ERA ids. Shared by every process."""

    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str, *, ttl_s: int | None = None) -> None: ...


@dataclass(frozen=True)
class EnrollmentRequest:
    payer_name: str
    payer_id: str  # the payer's own id
    electronic_payer_id: str
    transaction_types: tuple[str, ...]  # "837P", "835", "270", "276", "278"
    provider_name: str
    provider_npi: str
    provider_tax_id: str
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""


@dataclass(frozen=True)
class EnrollmentResult:
    reference: str  # the vendor's id for the enrollment request
    status: str  # "pending", "active" or "rejected" (PayerEnrollment.Status values)
    reason: str = ""  # why it was rejected, in the vendor's words


@dataclass(frozen=True)
class SubmissionResult:
    """The vendor took the interchange. `reference` is its id for the batch;
    `acknowledgements` holds any X12 it answered with at once (999, 277CA)."""

    reference: str
    acknowledgements: tuple[str, ...] = ()
    message: str = ""


@dataclass(frozen=True)
class Report:
    """A file the vendor made available later: a 999, 277CA, 277 or 835."""

    report_id: str
    kind: str  # "999", "277CA", "277", "835"
    text: str
    received_at: datetime.datetime | None = None


@dataclass(frozen=True)
class ClaimStatusReport(Report):
    """A vendor's verdict on one claim given as data instead of X12 (Claim.MD's response
    API answers XML claim statuses, not 277CAs): kind "status"; `text` is the vendor's own
    record of it, kept raw like any report."""

    claim_id: str = ""  # our CLM01 (patient control number) as the vendor echoes it
    status: str = ""  # "accepted", "rejected", or "" when the vendor's code is neither
    vendor_status: str = ""  # the vendor's own code (Claim.MD: A, R)
    messages: tuple[str, ...] = ()  # the vendor's reasons, in its words
    vendor_claim_id: str = ""  # the vendor's id for the claim


@dataclass(frozen=True)
class HealthResult:
    ok: bool
    latency_ms: int
    detail: str = ""


class VendorAdapter(abc.ABC):
    vendor: str

    def __init__(self, settings: VendorSettings, state: AdapterState):
        self.settings = settings
        self.state = state

    @abc.abstractmethod
    def submit_enrollment(self, request: EnrollmentRequest) -> EnrollmentResult: ...

    @abc.abstractmethod
    def enrollment_status(self, reference: str) -> EnrollmentResult: ...

    @abc.abstractmethod
    def submit_claims(self, x12: str, *, idempotency_key: str) -> SubmissionResult:
        """Send one 837P interchange. The same key sent again must not create a second
        submission at the vendor (the sandbox returns the original answer)."""

    @abc.abstractmethod
    def fetch_reports(self) -> list[Report]:
        """Acknowledgements and reports that arrived since the last call (999, 277CA, 277,
        statuses). 835 ERAs stay in the mailbox for `fetch_eras`, even where the vendor
        delivers them through the same one. What is returned is gone at the vendor: store
        it before anything else."""

    @abc.abstractmethod
    def eligibility(self, x12_270: str) -> str:
        """Send a 270; return the 271."""

    @abc.abstractmethod
    def claim_status(self, x12_276: str) -> str:
        """Send a 276; return the 277."""

    @abc.abstractmethod
    def prior_auth(self, x12_278: str) -> str:
        """Send a 278 request; return the 278 response."""

    @abc.abstractmethod
    def fetch_eras(self) -> list[Report]:
        """New 835 files since the last call (kind "835")."""

    @abc.abstractmethod
    def health_check(self) -> HealthResult: ...
