"""Waystar: a configurable REST endpoint with service-account credentials.

Waystar's public material does not pin its raw-X12 API down, so every path comes from the
config's options (with these defaults) and the shapes are the plain ones our sandbox also
serves: Basic auth (account id : secret) on every call; X12 posted as text; JSON answers for
the claim submission, the reports list and enrollments.

- claims_path (POST 837P text, header Idempotency-Key) -> `{"submissionId", "status"}`, and
  any X12 acknowledgements (999, 277CA) the vendor answers with at once, wherever they sit
  in the JSON;
- eligibility_path / status_path / auth_path: POST 270 / 276 / 278 text -> 271 / 277 / 278;
- reports_path: GET -> `{"reports": [{"id", "kind"}]}`, GET /{id} -> X12 text, DELETE /{id};
- enrollment_path: POST JSON -> `{"id", "status"}`, GET /{id} -> `{"id", "status", "reason"}`;
- health_path: GET -> 2xx.

A submission whose acknowledgements reject the whole file (999 AK9 R) or every claim
(277CA STC A3/A4/A6/A7/A8) is a `PermanentFailure` with the reasons; when only some claims
are rejected the submission is returned and its `message` names the rejected claims (the
acknowledgements, in `acknowledgements`, are the record). A report is deleted from the
mailbox as soon as it is read, so a caller must store what `fetch_reports` returns (each
is identified by `report_id`; one whose DELETE failed comes again).
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Iterable
from urllib.parse import quote

import httpx

from clearinghouse.vendors import http
from clearinghouse.vendors.base import (
    EnrollmentRequest,
    EnrollmentResult,
    HealthResult,
    PermanentFailure,
    Report,
    SubmissionResult,
    TransientFailure,
    VendorAdapter,
    VendorError,
)
from clearinghouse.vendors.reports import report_kind
from edi.errors import X12Error
from edi.x277 import read_277ca
from edi.x999 import read_999

logger = logging.getLogger(__name__)

DEFAULT_PATHS = {
    "claims_path": "/api/v1/claims",
    "eligibility_path": "/api/v1/eligibility",
    "status_path": "/api/v1/claim-status",
    "auth_path": "/api/v1/authorizations",
    "reports_path": "/api/v1/reports",
    "enrollment_path": "/api/v1/enrollments",
    "health_path": "/api/v1/health",
}
X12_HEADERS = {"Content-Type": "text/plain; charset=utf-8"}
REJECTED_STATUSES = {"REJECTED", "REJECT", "DENIED", "ERROR", "FAILED"}
# 277CA STC01-1 categories that refuse a claim (A1/A2/A5 take it).
REJECTING_CATEGORIES = {"A3", "A4", "A6", "A7", "A8"}
ENROLLMENT_STATUSES = {
    "APPROVED": "active",
    "ACTIVE": "active",
    "ACCEPTED": "active",
    "COMPLETE": "active",
    "COMPLETED": "active",
    "ENROLLED": "active",
    "REJECTED": "rejected",
    "DENIED": "rejected",
    "FAILED": "rejected",
}
REDACTED = "[redacted]"
REASON_LIMIT = 300


class WaystarAdapter(VendorAdapter):
    vendor = "waystar"

    # --- HTTP ------------------------------------------------------------------------------

    def path(self, name: str) -> str:
        return self.settings.options.get(name) or DEFAULT_PATHS[name]

    def url(self, path: str) -> str:
        return self.settings.base_url.rstrip("/") + "/" + path.lstrip("/")

    def auth(self) -> httpx.Auth | None:
        return httpx.BasicAuth(self.settings.account_id, self.settings.secret)

    def send(self, client: httpx.Client, method: str, path: str, **kwargs) -> httpx.Response:
        auth = self.auth()
        if auth is not None:
            kwargs["auth"] = auth
        try:
            return http.send(self.vendor, client, method, self.url(path), **kwargs)
        except VendorError as error:
            raise redact(error, *self.secrets()) from None

    def secrets(self) -> tuple[str, ...]:
        """What must never show in an error: the secret and the Basic credential."""
        pair = f"{self.settings.account_id}:{self.settings.secret}".encode()
        return (self.settings.secret, base64.b64encode(pair).decode())

    def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        with http.client(self.settings.timeout_s) as client:
            return self.send(client, method, path, **kwargs)

    def exchange_x12(self, path_name: str, x12: str) -> str:
        response = self.request("POST", self.path(path_name), content=x12, headers=X12_HEADERS)
        return x12_answer(self.vendor, response)

    # --- claims --------------------------------------------------------------------------------

    def submit_claims(self, x12: str, *, idempotency_key: str) -> SubmissionResult:
        response = self.request(
            "POST",
            self.path("claims_path"),
            content=x12,
            headers={
                **X12_HEADERS,
                "Accept": "application/json",
                "Idempotency-Key": idempotency_key,
            },
        )
        body = json_object(self.vendor, response, outcome_unknown=True)
        acknowledgements = tuple(x12_strings(body))
        status = str(body.get("status") or "")
        all_rejected, summary = acknowledgement_verdict(acknowledgements)
        if status.upper() in REJECTED_STATUSES:
            reason = _reason(body) or summary or f"the submission was {status.lower()}"
            raise redact(PermanentFailure(self.vendor, reason), *self.secrets())
        if all_rejected:
            raise redact(PermanentFailure(self.vendor, summary), *self.secrets())
        reference = str(body.get("submissionId") or "")
        if not reference:
            raise TransientFailure(
                self.vendor, "the submission answer has no submissionId", outcome_unknown=True
            )
        message = "; ".join(part for part in (status, summary) if part)
        return SubmissionResult(reference, acknowledgements, message[:REASON_LIMIT])

    # --- reports ---------------------------------------------------------------------------

    def fetch_reports(self) -> list[Report]:
        return self._take_reports(eras=False)

    def fetch_eras(self) -> list[Report]:
        """ERAs come through the reports mailbox: take its 835s, leave the rest there."""
        return self._take_reports(eras=True)

    def _take_reports(self, *, eras: bool) -> list[Report]:
        """Read each listed report and delete it once read. A failure after some reports
        were taken returns those (already deleted at the vendor) and leaves the rest for
        the next call; a report read but not deleted comes again (same `report_id`)."""
        base = self.path("reports_path").rstrip("/")
        taken: list[Report] = []
        with http.client(self.settings.timeout_s) as client:
            listing = json_object(self.vendor, self.send(client, "GET", base))
            entries = listing.get("reports") or []
            if not isinstance(entries, list):
                raise TransientFailure(self.vendor, f"GET {base}: `reports` is not a list")
            for entry in entries:
                if not isinstance(entry, dict) or not str(entry.get("id") or ""):
                    continue
                report_id = str(entry["id"])
                listed_kind = normal_kind(str(entry.get("kind") or ""))
                if listed_kind and (listed_kind == "835") != eras:
                    continue
                path = f"{base}/{quote(report_id, safe='')}"
                try:
                    text = self.send(client, "GET", path).text
                    kind = report_kind(text, listed_kind or "unknown")
                    if (kind == "835") != eras:  # ERAs are fetch_eras' alone
                        continue
                    taken.append(Report(report_id=report_id, kind=kind, text=text))
                    self.send(client, "DELETE", path)
                except VendorError as error:
                    if not taken:
                        raise
                    logger.warning("%s: mailbox read stopped: %s", self.vendor, error.message)
                    break
        return taken

    # --- request / response transactions ----------------------------------------------------

    def eligibility(self, x12_270: str) -> str:
        return self.exchange_x12("eligibility_path", x12_270)

    def claim_status(self, x12_276: str) -> str:
        return self.exchange_x12("status_path", x12_276)

    def prior_auth(self, x12_278: str) -> str:
        return self.exchange_x12("auth_path", x12_278)

    # --- enrollment -----------------------------------------------------------------------------

    def submit_enrollment(self, request: EnrollmentRequest) -> EnrollmentResult:
        body = {
            "payerId": request.electronic_payer_id,
            "npi": request.provider_npi,
            "taxId": request.provider_tax_id,
            "providerName": request.provider_name,
            "transactions": list(request.transaction_types),
            "contact": {
                "name": request.contact_name,
                "phone": request.contact_phone,
                "email": request.contact_email,
            },
        }
        response = self.request("POST", self.path("enrollment_path"), json=body)
        return self._enrollment(json_object(self.vendor, response))

    def enrollment_status(self, reference: str) -> EnrollmentResult:
        path = f"{self.path('enrollment_path').rstrip('/')}/{quote(reference, safe='')}"
        return self._enrollment(json_object(self.vendor, self.request("GET", path)), reference)

    def _enrollment(self, body: dict, reference: str = "") -> EnrollmentResult:
        reference = str(body.get("id") or reference)
        if not reference:
            raise TransientFailure(self.vendor, "the enrollment answer has no id")
        status = enrollment_status(str(body.get("status") or ""))
        reason = str(body.get("reason") or "")[:REASON_LIMIT] if status == "rejected" else ""
        return EnrollmentResult(reference=reference, status=status, reason=reason)

    # --- health ---------------------------------------------------------------------------------

    def health_check(self) -> HealthResult:
        started = time.monotonic()
        try:
            response = self.request("GET", self.path("health_path"))
        except VendorError as error:
            return HealthResult(False, _ms_since(started), error.message)
        latency = _ms_since(started)
        try:
            body = response.json()
        except ValueError:
            body = None
        status = str(body.get("status") or "") if isinstance(body, dict) else ""
        if status.upper() in {"DOWN", "ERROR", "FAILING", "UNHEALTHY"}:
            return HealthResult(False, latency, f"the vendor reports {status}")
        return HealthResult(True, latency, status or f"HTTP {response.status_code}")


# --- shared helpers (also used by the Claim.MD adapter) ------------------------------------------


def redact(error: VendorError, *secrets: str) -> VendorError:
    """`error` with any of `secrets` taken out of its message (a vendor may echo them)."""
    message = error.message
    for secret in secrets:
        if secret and len(secret) >= 4:
            message = message.replace(secret, REDACTED)
    if message != error.message:
        error.message = message
        error.args = (f"{error.vendor}: {message}",)
    return error


def json_object(vendor: str, response: httpx.Response, *, outcome_unknown: bool = False) -> dict:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        where = f"{response.request.method} {response.request.url.path}"
        raise TransientFailure(
            vendor, f"{where}: the answer is not a JSON object", outcome_unknown=outcome_unknown
        )
    return body


def x12_answer(vendor: str, response: httpx.Response) -> str:
    """The X12 text of a request/response answer; anything else is the vendor misbehaving."""
    text = response.text
    if not text.lstrip("\ufeff \t\r\n").startswith("ISA"):
        where = f"{response.request.method} {response.request.url.path}"
        raise TransientFailure(vendor, f"{where}: the answer is not an X12 interchange")
    return text


def x12_strings(value: object) -> Iterable[str]:
    """Every string in a JSON value that is an X12 interchange, in document order."""
    if isinstance(value, str):
        if value.lstrip("\ufeff \t\r\n").startswith("ISA"):
            yield value
    elif isinstance(value, list):
        for item in value:
            yield from x12_strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from x12_strings(item)


def normal_kind(kind: str) -> str:
    kind = kind.strip().upper()
    return {"277 CA": "277CA", "277-CA": "277CA"}.get(kind, kind)


def acknowledgement_verdict(acknowledgements: Iterable[str]) -> tuple[bool, str]:
    """(everything was refused, a short summary of what was refused) from 999s and 277CAs."""
    reasons: list[str] = []
    file_rejected = False
    claims_seen = 0
    claims_rejected = 0
    for text in acknowledgements:
        kind = report_kind(text)
        try:
            if kind == "999":
                for ack in read_999(text).transactions:
                    if ack.status == "R" or (
                        ack.transactions and all(t.status == "R" for t in ack.transactions)
                    ):
                        file_rejected = True
                        reasons.append(_999_reason(ack))
            elif kind == "277CA":
                for ack in read_277ca(text).transactions:
                    for provider in ack.providers:
                        for claim in provider.claims:
                            claims_seen += 1
                            refusing = [
                                s for s in claim.statuses if s.category in REJECTING_CATEGORIES
                            ]
                            if refusing:
                                claims_rejected += 1
                                reasons.append(
                                    f"claim {claim.patient_control_number} rejected: "
                                    + "; ".join(_status_text(s) for s in refusing)
                                )
        except X12Error as error:
            reasons.append(f"an unreadable {kind or 'X12'} acknowledgement ({error})")
    all_rejected = file_rejected or (claims_seen > 0 and claims_rejected == claims_seen)
    return all_rejected, "; ".join(reasons)[:REASON_LIMIT]


def _999_reason(ack) -> str:
    notes = []
    for t in ack.transactions:
        for s in t.segment_errors:
            elements = ", ".join(
                f"{s.segment_id}{e.position:02d} error {e.error_code}" for e in s.elements
            )
            notes.append(
                f"{s.segment_id} at position {s.position}"
                + (f" error {s.error_code}" if s.error_code else "")
                + (f" ({elements})" if elements else "")
            )
        if t.error_codes and not t.segment_errors:
            notes.append(f"transaction {t.control_number} error {', '.join(t.error_codes)}")
    detail = f": {'; '.join(notes)}" if notes else ""
    return f"999 rejected group {ack.group_control_number}{detail}"


def _status_text(status) -> str:
    text = f"{status.category}:{status.code}"
    return f"{text} {status.message}" if status.message else text


def _reason(body: dict) -> str:
    for key in ("message", "reason", "error", "errors", "detail"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return value[:REASON_LIMIT]
        if isinstance(value, list):
            words = [
                item
                if isinstance(item, str)
                else str(item.get("description") or item.get("message") or "")
                for item in value
                if isinstance(item, str | dict)
            ]
            if any(words):
                return "; ".join(w for w in words if w)[:REASON_LIMIT]
    return ""


def enrollment_status(vendor_status: str) -> str:
    """A vendor's enrollment status as a PayerEnrollment.Status value; anything not known
    to be final is still pending."""
    return ENROLLMENT_STATUSES.get(vendor_status.strip().upper().replace(" ", "_"), "pending")


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
