"""Availity: OAuth2 client credentials (5-minute tokens), asynchronous coverages, raw X12.

Documented shapes (paths relative to the config's base URL):
- token: POST /availity/v1/token (form grant_type, client_id, client_secret, scope=hipaa);
- eligibility: POST /availity/v1/coverages (form payerId, memberId, patientLastName,
  patientFirstName, patientBirthDate, serviceType, providerNpi) -> 202 `{"id", "statusCode":
  "0"}`; poll GET /availity/v1/coverages/{id} until statusCode "4" (complete: `plans`, and the
  raw 271 in `x12` where offered) or "7"/"19" (error with `statusMessage`). HTTP 429 is waited
  out per its Retry-After, all within the config's timeout.
Configurable (Availity's public material on raw X12 is thin), with the sandbox's defaults:
options `claims_path` (POST text/plain 837P -> `{"batchId", "status"}`), `status_path`
(276 -> 277 text), `auth_path` (278), `reports_path` (GET -> `{"reports": [{"id", "kind"}]}`,
GET/DELETE .../{id} -> the X12 text), `enrollment_path` (JSON as Change Healthcare's) and
`health_path`; `scope` for the token (default "hipaa").
"""

from __future__ import annotations

import datetime
import logging
from urllib.parse import quote

from clearinghouse.vendors import oauth
from clearinghouse.vendors.base import (
    AdapterState,
    EnrollmentRequest,
    EnrollmentResult,
    HealthResult,
    PermanentFailure,
    Report,
    SubmissionResult,
    TransientFailure,
    VendorAdapter,
    VendorError,
    VendorSettings,
    VendorTimeout,
)
from clearinghouse.vendors.change_healthcare import (
    enrollment_body,
    enrollment_result,
)
from clearinghouse.vendors.reports import report_kind
from edi.errors import X12Error
from edi.models import Benefit, Eligibility, EligibilityInquiry, Envelope, RequestError
from edi.x270 import read_270
from edi.x271 import write_271

logger = logging.getLogger(__name__)

TOKEN_PATH = "/availity/v1/token"
COVERAGES_PATH = "/availity/v1/coverages"
DEFAULT_PATHS = {
    "claims_path": "/availity/v1/edi/claims",
    "status_path": "/availity/v1/edi/claim-status",
    "auth_path": "/availity/v1/edi/authorizations",
    "reports_path": "/availity/v1/edi/reports",
    "enrollment_path": "/availity/v1/enrollments",
    "health_path": "/availity/v1/health",
}
POLL_FIRST_S = 0.2
POLL_GROWTH = 1.5
POLL_MAX_S = 2.0
COMPLETE = "4"
COMMUNICATION_ERROR = "7"
REQUEST_ERROR = "19"
REFUSED_STATUSES = {"REJECTED", "ERROR", "FAILED"}
X12_TEXT = {"Content-Type": "text/plain"}


class AvailityAdapter(VendorAdapter):
    vendor = "availity"

    def __init__(self, settings: VendorSettings, state: AdapterState):
        super().__init__(settings, state)
        self.oauth = oauth.OAuthSession(
            settings,
            state,
            vendor=self.vendor,
            token_path=TOKEN_PATH,
            default_lifetime_s=300,
            extra_form={"scope": settings.options.get("scope") or "hipaa"},
        )
        self.paths = {
            name: settings.options.get(name) or path for name, path in DEFAULT_PATHS.items()
        }

    # --- eligibility: coverages ------------------------------------------------------------

    def eligibility(self, x12_270: str) -> str:
        request, inquiry, envelope = self._read_270(x12_270)
        with self.oauth.transaction() as call:
            body = oauth.json_body(
                self.vendor, call.send("POST", COVERAGES_PATH, data=coverage_form(request, inquiry))
            )
            coverage_id = str(body.get("id") or "")
            interval = POLL_FIRST_S
            while (code := str(body.get("statusCode", ""))) != COMPLETE:
                message = str(body.get("statusMessage") or f"statusCode {code}")
                if code == COMMUNICATION_ERROR:
                    raise TransientFailure(self.vendor, f"coverages: {message}")
                if code == REQUEST_ERROR:
                    raise PermanentFailure(self.vendor, f"coverages: {message}")
                if not coverage_id:
                    raise TransientFailure(self.vendor, "coverages: the answer has no id")
                call.deadline.wait(
                    interval,
                    error=VendorTimeout(
                        self.vendor,
                        f"coverages: not complete within {self.settings.timeout_s:g} s",
                    ),
                )
                interval = min(interval * POLL_GROWTH, POLL_MAX_S)
                path = f"{COVERAGES_PATH}/{quote(coverage_id, safe='')}"
                body = oauth.json_body(self.vendor, call.send("GET", path))
        x12 = body.get("x12")
        if isinstance(x12, str) and x12.strip():
            return x12
        return build_271(request, inquiry, envelope, body.get("plans") or [])

    def _read_270(self, text: str) -> tuple[Eligibility, EligibilityInquiry, Envelope]:
        try:
            parsed = read_270(text)
        except X12Error as error:
            # the reader's message may quote member data; say only where
            raise PermanentFailure(
                self.vendor, f"the 270 cannot be read (line {error.line or '?'})"
            ) from None
        inquiries = [(r, i) for r in parsed.transactions for i in r.inquiries]
        if len(inquiries) != 1:
            raise PermanentFailure(
                self.vendor, f"coverages take one inquiry per 270; this one has {len(inquiries)}"
            )
        request, inquiry = inquiries[0]
        return request, inquiry, parsed.envelopes[0]

    # --- raw X12 ---------------------------------------------------------------------------

    def submit_claims(self, x12: str, *, idempotency_key: str) -> SubmissionResult:
        with self.oauth.transaction() as call:
            response = call.send(
                "POST",
                self.paths["claims_path"],
                content=x12.encode(),
                headers={**X12_TEXT, "Idempotency-Key": idempotency_key},
            )
        body = oauth.json_body(self.vendor, response, outcome_unknown=True)
        status = str(body.get("status") or "")
        if status.upper() in REFUSED_STATUSES:
            message = body.get("message") or body.get("statusMessage") or f"batch status {status}"
            raise PermanentFailure(self.vendor, str(message)[:300])
        return SubmissionResult(reference=str(body.get("batchId") or ""), message=status)

    def claim_status(self, x12_276: str) -> str:
        return self._exchange(self.paths["status_path"], x12_276)

    def prior_auth(self, x12_278: str) -> str:
        return self._exchange(self.paths["auth_path"], x12_278)

    def _exchange(self, path: str, x12: str) -> str:
        with self.oauth.transaction() as call:
            response = call.send("POST", path, content=x12.encode(), headers=X12_TEXT)
        if not response.text.strip():
            raise TransientFailure(self.vendor, f"POST {path}: the answer carries no X12")
        return response.text

    # --- reports ---------------------------------------------------------------------------

    def fetch_reports(self) -> list[Report]:
        return self._reports(eras_only=False)

    def fetch_eras(self) -> list[Report]:
        return self._reports(eras_only=True)

    def _reports(self, *, eras_only: bool) -> list[Report]:
        """Read the listed reports (each with its own time budget), the kind from the X12
        itself, and delete each one returned; a failure after some were taken returns those."""
        base = self.paths["reports_path"].rstrip("/")
        reports: list[Report] = []
        with self.oauth.transaction() as call:
            listing = oauth.json_body(self.vendor, call.send("GET", base))
            for item in listing.get("reports") or []:
                report_id = str(item.get("id", "")) if isinstance(item, dict) else str(item)
                listed_kind = str(item.get("kind", "")) if isinstance(item, dict) else ""
                if not report_id or (listed_kind and (listed_kind == "835") != eras_only):
                    continue
                path = f"{base}/{quote(report_id, safe='')}"
                call.fresh_budget()
                try:
                    text = call.send("GET", path).text
                    kind = report_kind(text, listed_kind or "unknown")
                    if (kind == "835") != eras_only:  # ERAs are fetch_eras' alone
                        continue
                    reports.append(Report(report_id=report_id, kind=kind, text=text))
                    call.fresh_budget()
                    call.send("DELETE", path)
                except VendorError as error:
                    if not reports:
                        raise
                    logger.warning("%s: report read stopped: %s", self.vendor, error.message)
                    break
        return reports

    # --- enrollment and health ---------------------------------------------------------------

    def submit_enrollment(self, request: EnrollmentRequest) -> EnrollmentResult:
        with self.oauth.transaction() as call:
            response = call.send(
                "POST", self.paths["enrollment_path"], json=enrollment_body(request)
            )
        return enrollment_result(self.vendor, oauth.json_body(self.vendor, response))

    def enrollment_status(self, reference: str) -> EnrollmentResult:
        path = f"{self.paths['enrollment_path'].rstrip('/')}/{quote(reference, safe='')}"
        with self.oauth.transaction() as call:
            response = call.send("GET", path)
        return enrollment_result(self.vendor, oauth.json_body(self.vendor, response))

    def health_check(self) -> HealthResult:
        started = oauth.clock.monotonic()
        try:
            with self.oauth.transaction() as call:
                response = call.send("GET", self.paths["health_path"])
        except VendorError as error:
            return HealthResult(ok=False, latency_ms=_ms_since(started), detail=error.message)
        return HealthResult(
            ok=True, latency_ms=_ms_since(started), detail=f"HTTP {response.status_code}"
        )


def coverage_form(request: Eligibility, inquiry: EligibilityInquiry) -> dict[str, str]:
    """The coverages form from a 270 inquiry: the patient is the dependent when there is
    one. Empty values are left out."""
    patient = inquiry.dependent or inquiry.subscriber
    form = {
        "payerId": request.payer.identifier,
        "memberId": inquiry.subscriber.identifier,
        "patientLastName": patient.last_name,
        "patientFirstName": patient.first_name,
        "patientBirthDate": patient.birth_date.isoformat() if patient.birth_date else "",
        "serviceType": inquiry.service_types[0] if inquiry.service_types else "30",
        "providerNpi": request.provider.identifier,
    }
    return {name: value for name, value in form.items() if value}


# --- a 271 from `plans`, when the answer carries no raw X12 -------------------------------------

ACTIVE, INACTIVE = "1", "6"


def build_271(
    request: Eligibility, inquiry: EligibilityInquiry, envelope: Envelope, plans: list
) -> str:
    """A small 271 answering the inquiry from the coverage's plans: per plan an EB*1
    (active) or EB*6 (inactive) with its name, and the first plan's coverage dates; no plan
    at all answers AAA 75 (subscriber not found)."""
    benefits: list[Benefit] = []
    begin = end = None
    for plan in (p for p in plans if isinstance(p, dict)):
        code = str(plan.get("statusCode") or "")
        if code not in (ACTIVE, INACTIVE):
            status = str(plan.get("status", "")).lower()
            code = ACTIVE if "active" in status and "inactive" not in status else INACTIVE
        name = plan.get("planName") or plan.get("groupName") or plan.get("description") or ""
        benefits.append(
            Benefit(code=code, service_types=inquiry.service_types[:1], plan_description=str(name))
        )
        begin = begin or _date(plan.get("coverageStartDate"))
        end = end or _date(plan.get("coverageEndDate"))
    answer = Eligibility(
        reference=request.reference,
        created=datetime.datetime.now().replace(microsecond=0),
        payer=request.payer,
        provider=request.provider,
        inquiries=[
            EligibilityInquiry(
                subscriber=inquiry.subscriber,
                dependent=inquiry.dependent,
                trace_number=inquiry.trace_number,
                trace_originator=inquiry.trace_originator,
                service_types=(),
                eligibility_begin=begin,
                eligibility_end=end,
                benefits=benefits,
                errors=[] if benefits else [RequestError(reason="75", follow_up="C")],
            )
        ],
    )
    reply = Envelope(
        sender_id=envelope.receiver_id,
        sender_qualifier=envelope.receiver_qualifier,
        receiver_id=envelope.sender_id,
        receiver_qualifier=envelope.sender_qualifier,
        control_number=envelope.control_number,
        group_control_number=envelope.group_control_number,
        created=answer.created,
        usage=envelope.usage,
    )
    return write_271(reply, [answer])


def _date(value: object) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _ms_since(started: float) -> int:
    return max(0, round((oauth.clock.monotonic() - started) * 1000))
