"""Change Healthcare (Optum) Medical Network APIs: OAuth2 client credentials and raw X12.

Documented shapes (paths relative to the config's base URL):
- token: POST /apip/auth/v2/token (form client_id, client_secret, grant_type), bearer on
  every call (see `oauth`);
- eligibility, claim status: POST .../raw-x12 `{"x12": "<270|276>"}` -> `{"x12": "<271|277>"}`;
- claims: POST /medicalnetwork/professionalclaims/v3/raw-x12-submission `{"x12": "<837P>"}`
  with our `Idempotency-Key` header -> `{"status": "SUCCESS", "controlNumber",
  "claimReference": {"correlationId"}}`, or 400 `{"errors": [{"description"}]}`;
- reports mailbox: GET /medicalnetwork/reports/v2 -> `{"reportNames": [...]}`, GET .../{name}
  -> `{"reportContent": "<X12>"}`, DELETE .../{name} once read;
- health: GET /medicalnetwork/eligibility/v3/healthcheck -> `{"status": "UP"}`.
Configurable because public material is thin: options `prior_auth_path` (278) and
`enrollment_path` (enrollment requests, JSON).
"""

from __future__ import annotations

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
)
from clearinghouse.vendors.reports import report_kind

logger = logging.getLogger(__name__)

TOKEN_PATH = "/apip/auth/v2/token"
ELIGIBILITY_PATH = "/medicalnetwork/eligibility/v3/raw-x12"
CLAIMS_PATH = "/medicalnetwork/professionalclaims/v3/raw-x12-submission"
CLAIM_STATUS_PATH = "/medicalnetwork/claimstatus/v2/raw-x12"
PRIOR_AUTH_PATH = "/medicalnetwork/priorauthorization/v1/raw-x12"
REPORTS_PATH = "/medicalnetwork/reports/v2"
HEALTH_PATH = "/medicalnetwork/eligibility/v3/healthcheck"
ENROLLMENT_PATH = "/enrollment/v1/enrollments"

REFUSED_STATUSES = {"ERROR", "FAILURE", "REJECTED"}


class ChangeHealthcareAdapter(VendorAdapter):
    vendor = "change_healthcare"

    def __init__(self, settings: VendorSettings, state: AdapterState):
        super().__init__(settings, state)
        self.oauth = oauth.OAuthSession(
            settings, state, vendor=self.vendor, token_path=TOKEN_PATH, default_lifetime_s=3600
        )
        self.prior_auth_path = settings.options.get("prior_auth_path") or PRIOR_AUTH_PATH
        self.enrollment_path = settings.options.get("enrollment_path") or ENROLLMENT_PATH

    # --- raw X12 exchanges -----------------------------------------------------------------

    def eligibility(self, x12_270: str) -> str:
        return self._exchange(ELIGIBILITY_PATH, x12_270)

    def claim_status(self, x12_276: str) -> str:
        return self._exchange(CLAIM_STATUS_PATH, x12_276)

    def prior_auth(self, x12_278: str) -> str:
        return self._exchange(self.prior_auth_path, x12_278)

    def _exchange(self, path: str, x12: str) -> str:
        with self.oauth.transaction() as call:
            response = call.send("POST", path, json={"x12": x12})
        return x12_field(self.vendor, oauth.json_body(self.vendor, response))

    def submit_claims(self, x12: str, *, idempotency_key: str) -> SubmissionResult:
        with self.oauth.transaction() as call:
            response = call.send(
                "POST", CLAIMS_PATH, json={"x12": x12}, headers={"Idempotency-Key": idempotency_key}
            )
        body = oauth.json_body(self.vendor, response, outcome_unknown=True)
        status = str(body.get("status") or "")
        if body.get("errors") or status.upper() in REFUSED_STATUSES:
            raise PermanentFailure(
                self.vendor, errors_message(body.get("errors")) or f"claim file status {status}"
            )
        reference = (body.get("claimReference") or {}).get("correlationId") or body.get(
            "controlNumber", ""
        )
        return SubmissionResult(
            reference=str(reference),
            acknowledgements=acknowledgements(body),
            message=status,
        )

    # --- the reports mailbox ---------------------------------------------------------------

    def fetch_reports(self) -> list[Report]:
        return self._mailbox(eras_only=False)

    def fetch_eras(self) -> list[Report]:
        return self._mailbox(eras_only=True)

    def _mailbox(self, *, eras_only: bool) -> list[Report]:
        """Read every listed report (each with its own time budget) and delete the ones
        returned. A failure after some reports were taken returns those (they are already
        deleted at the vendor) and leaves the rest for the next call."""
        reports: list[Report] = []
        with self.oauth.transaction() as call:
            listing = oauth.json_body(self.vendor, call.send("GET", REPORTS_PATH))
            names = [str(n) for n in listing.get("reportNames") or []]
            for name in names:
                path = f"{REPORTS_PATH}/{quote(name, safe='')}"
                call.fresh_budget()
                try:
                    body = oauth.json_body(self.vendor, call.send("GET", path))
                    content = body.get("reportContent")
                    if not isinstance(content, str):
                        raise TransientFailure(self.vendor, f"GET {path}: no reportContent")
                    kind = report_kind(content)
                    if (kind == "835") != eras_only:  # ERAs are fetch_eras' alone
                        continue
                    reports.append(Report(report_id=name, kind=kind, text=content))
                    call.fresh_budget()
                    call.send("DELETE", path)
                except VendorError as error:
                    if not reports:
                        raise
                    logger.warning("%s: mailbox read stopped: %s", self.vendor, error.message)
                    break
        return reports

    # --- enrollment and health ---------------------------------------------------------------

    def submit_enrollment(self, request: EnrollmentRequest) -> EnrollmentResult:
        with self.oauth.transaction() as call:
            response = call.send("POST", self.enrollment_path, json=enrollment_body(request))
        return enrollment_result(self.vendor, oauth.json_body(self.vendor, response))

    def enrollment_status(self, reference: str) -> EnrollmentResult:
        path = f"{self.enrollment_path.rstrip('/')}/{quote(reference, safe='')}"
        with self.oauth.transaction() as call:
            response = call.send("GET", path)
        return enrollment_result(self.vendor, oauth.json_body(self.vendor, response))

    def health_check(self) -> HealthResult:
        started = oauth.clock.monotonic()
        try:
            with self.oauth.transaction() as call:
                response = call.send("GET", HEALTH_PATH)
            status = str(oauth.json_body(self.vendor, response).get("status", ""))
        except VendorError as error:
            return HealthResult(ok=False, latency_ms=_ms_since(started), detail=error.message)
        return HealthResult(
            ok=status.upper() == "UP", latency_ms=_ms_since(started), detail=f"status {status}"
        )


# --- shared by the JSON vendors (Availity's enrollment API is shaped like this one) ----------


def x12_field(vendor: str, body: dict) -> str:
    x12 = body.get("x12")
    if isinstance(x12, str) and x12.strip():
        return x12
    if body.get("errors"):
        raise PermanentFailure(vendor, errors_message(body["errors"]))
    raise TransientFailure(vendor, "the answer carries no X12")


def errors_message(errors: object) -> str:
    """A vendor's `errors` list ([{"description": ...}] or strings) as one line."""
    if not isinstance(errors, list):
        return str(errors or "")
    words = []
    for item in errors:
        if isinstance(item, dict):
            words.append(str(item.get("description") or item.get("message") or item))
        else:
            words.append(str(item))
    return "; ".join(words)[:300]


def acknowledgements(body: dict) -> tuple[str, ...]:
    """X12 acknowledgements answered together with a submission, when the vendor adds any."""
    found = body.get("acknowledgements") or []
    return tuple(a for a in found if isinstance(a, str) and a.strip())


ENROLLMENT_STATUSES = {
    "APPROVED": "active",
    "ACTIVE": "active",
    "COMPLETED": "active",
    "REJECTED": "rejected",
    "DENIED": "rejected",
}


def enrollment_body(request: EnrollmentRequest) -> dict:
    return {
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


def enrollment_result(vendor: str, body: dict) -> EnrollmentResult:
    """SUBMITTED (or anything still in progress) is pending; APPROVED active; REJECTED
    rejected with the vendor's reason."""
    reference = body.get("id")
    if reference in (None, ""):
        raise TransientFailure(vendor, "the enrollment answer has no id")
    status = ENROLLMENT_STATUSES.get(str(body.get("status", "")).upper(), "pending")
    reason = str(body.get("reason") or "") if status == "rejected" else ""
    return EnrollmentResult(reference=str(reference), status=status, reason=reason)


def _ms_since(started: float) -> int:
    return max(0, round((oauth.clock.monotonic() - started) * 1000))
