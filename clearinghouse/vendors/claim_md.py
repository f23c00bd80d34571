"""Claim.MD: form posts carrying the account key, XML answers.

Every call is a POST with the form field `AccountKey` (the config's secret):
- /services/upload/ (multipart, `File` = the 837P named claims.837, and our
  `idempotency_key`, a field the real service ignores) -> `<result><claim claimid=".."
  status="A|R" messages=".."/>...<fileid>..</fileid></result>`;
- /services/response/ `ResponseID` (the last one seen, "0" at first) -> `<result
  last_responseid="N"><claim .../></result>`;
- /services/eralist/ `ERAID` (the last one seen, "0" at first) -> `<result><era eraid="N"
  .../></result>`, and /services/era835/ `eraid` -> the 835;
- /services/enroll/ (payerid, enroll_type, prov_*, contact*) -> `<result><enroll
  status=".." reason=".." enrollid=".."/></result>`; the same path with `enrollid` reads it;
- eligibility, claim status and 278: options eligibility_path / status_path / auth_path
  (defaults below) with the form field `x12` -> the X12 answer.
An answer holding `<error>` is Claim.MD refusing the call: a `PermanentFailure` with its
message. Claim.MD's XML is parsed with the standard library's ElementTree: it comes from the
vendor over TLS and never from users, and Python's expat refuses external entities and
guards against entity expansion, so defusedxml (not a dependency) is not needed.

Submissions: when the upload answer rejects every claim, the upload is a `PermanentFailure`
naming each claim and Claim.MD's messages. When only some are rejected, the upload succeeds
and its `message` says which were rejected and why (Claim.MD answers XML, not X12, so
`acknowledgements` stays empty); the per-claim verdicts also come later through
`fetch_reports`.

Reports: Claim.MD's response API gives claim statuses as XML, not 277CAs, so
`fetch_reports` returns one `ClaimStatusReport` (kind "status") per claim in it; only X12
that Claim.MD actually sends (none in its documented answers) becomes a plain `Report` of
the kind its content says.

The last ResponseID and ERAID are kept in the `AdapterState` per account (keys
"claim_md:<account>:..."), and moved only after everything they cover was read.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
import time
import xml.etree.ElementTree as ET

import httpx

from clearinghouse.vendors import http
from clearinghouse.vendors.base import (
    ClaimStatusReport,
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
from clearinghouse.vendors.waystar import enrollment_status, redact

logger = logging.getLogger(__name__)

UPLOAD_PATH = "/services/upload/"
RESPONSE_PATH = "/services/response/"
ERA_LIST_PATH = "/services/eralist/"
ERA_835_PATH = "/services/era835/"
ENROLL_PATH = "/services/enroll/"
DEFAULT_PATHS = {
    "eligibility_path": "/services/elig/",
    "status_path": "/services/claimstatus/",
    "auth_path": "/services/auth/",
}
# Our transaction types -> Claim.MD's enroll_type. 276 and 278 ride on the claims
# enrollment; a request with neither of the others is sent as a claims enrollment.
ENROLL_TYPES = {"837P": "1500", "835": "era", "270": "elig"}
CLAIM_STATUSES = {"A": "accepted", "R": "rejected"}
REASON_LIMIT = 300


class ClaimMdAdapter(VendorAdapter):
    vendor = "claim_md"

    # --- HTTP ------------------------------------------------------------------------------

    def url(self, path: str) -> str:
        return self.settings.base_url.rstrip("/") + "/" + path.lstrip("/")

    def post(self, client: httpx.Client, path: str, form: dict[str, str], **kwargs):
        data = {"AccountKey": self.settings.secret, **form}
        try:
            return http.send(self.vendor, client, "POST", self.url(path), data=data, **kwargs)
        except PermanentFailure as error:
            raise redact(readable_refusal(error), self.settings.secret) from None
        except VendorError as error:
            raise redact(error, self.settings.secret) from None

    def post_xml(
        self,
        client: httpx.Client,
        path: str,
        form: dict[str, str],
        *,
        outcome_unknown: bool = False,
        **kwargs,
    ) -> ET.Element:
        response = self.post(client, path, form, **kwargs)
        return self.xml(response, outcome_unknown=outcome_unknown)

    def xml(self, response: httpx.Response, *, outcome_unknown: bool = False) -> ET.Element:
        """The answer's root element; a Claim.MD `<error>` is a permanent failure."""
        where = f"POST {response.request.url.path}"
        try:
            root = ET.fromstring(response.content)
        except ET.ParseError:
            raise TransientFailure(
                self.vendor, f"{where}: the answer is not XML", outcome_unknown=outcome_unknown
            ) from None
        error = xml_error(root)
        if error is not None:
            failure = PermanentFailure(self.vendor, f"{where}: {error}")
            raise redact(failure, self.settings.secret)
        return root

    def exchange_x12(self, path_name: str, x12: str) -> str:
        path = self.settings.options.get(path_name) or DEFAULT_PATHS[path_name]
        with http.client(self.settings.timeout_s) as client:
            response = self.post(client, path, {"x12": x12})
        return self.x12_text(response)

    def x12_text(self, response: httpx.Response) -> str:
        """X12 answered as text, or inside an XML answer; an XML error is permanent."""
        text = response.text
        stripped = text.lstrip("\ufeff \t\r\n")
        if stripped.startswith("ISA"):
            return text
        if stripped.startswith("<"):
            found = x12_in(self.xml(response))
            if found:
                return found[0]
        raise TransientFailure(
            self.vendor, f"POST {response.request.url.path}: the answer is not X12"
        )

    # --- cursors ------------------------------------------------------------------------------

    def cursor_key(self, name: str) -> str:
        """Per account: the account id, else a digest of the key (never the key itself)."""
        account = self.settings.account_id or (
            "key-" + hashlib.sha256(self.settings.secret.encode()).hexdigest()[:16]
        )
        return f"{self.vendor}:{account}:{name}"

    @property
    def response_key(self) -> str:
        return self.cursor_key("last_responseid")

    @property
    def era_key(self) -> str:
        return self.cursor_key("last_eraid")

    # --- claims --------------------------------------------------------------------------------

    def submit_claims(self, x12: str, *, idempotency_key: str) -> SubmissionResult:
        with http.client(self.settings.timeout_s) as client:
            root = self.post_xml(
                client,
                UPLOAD_PATH,
                {"idempotency_key": idempotency_key},
                files={"File": ("claims.837", x12.encode(), "text/plain")},
                outcome_unknown=True,
            )
        claims = [claim_verdict(element) for element in root.iter("claim")]
        rejected = [c for c in claims if c["status"] == "rejected"]
        reasons = "; ".join(
            f"claim {c['claim_id']} rejected"
            + (f": {' '.join(c['messages'])}" if c["messages"] else "")
            for c in rejected
        )
        if claims and len(rejected) == len(claims):
            raise redact(
                PermanentFailure(self.vendor, reasons[:REASON_LIMIT]), self.settings.secret
            )
        reference = (
            (root.findtext("fileid") or "").strip()
            or root.get("fileid", "")
            or next((c["file_id"] for c in claims if c["file_id"]), "")
        )
        if not reference and not claims:
            raise TransientFailure(
                self.vendor,
                "the upload answer has neither claims nor a file id",
                outcome_unknown=True,
            )
        accepted = len(claims) - len(rejected)
        message = f"{accepted} of {len(claims)} claims accepted"
        if reasons:
            message = f"{message}; {reasons}"
        logger.info("%s: upload answered, %s", self.vendor, f"{accepted} of {len(claims)} accepted")
        return SubmissionResult(reference=reference, message=message[:REASON_LIMIT])

    # --- reports ----------------------------------------------------------------------------

    def fetch_reports(self) -> list[Report]:
        since = self.state.get(self.response_key) or "0"
        with http.client(self.settings.timeout_s) as client:
            root = self.post_xml(client, RESPONSE_PATH, {"ResponseID": since})
        last = root.get("last_responseid", "").strip()
        batch = last or since
        reports: list[Report] = []
        for index, element in enumerate(root.iter("claim"), start=1):
            verdict = claim_verdict(element)
            response_id = element.get("responseid") or f"{batch}.{index}"
            for position, text in enumerate(x12_in(element), start=1):
                reports.append(
                    Report(
                        report_id=f"{response_id}.x12.{position}",
                        kind=report_kind(text, "277CA"),
                        text=text,
                    )
                )
            reports.append(
                ClaimStatusReport(
                    report_id=f"{response_id}:{verdict['claim_id']}",
                    kind="status",
                    text=ET.tostring(element, encoding="unicode"),
                    claim_id=verdict["claim_id"],
                    status=verdict["status"],
                    vendor_status=verdict["vendor_status"],
                    messages=verdict["messages"],
                    vendor_claim_id=verdict["vendor_claim_id"],
                )
            )
        if last and last != since:
            self.state.set(self.response_key, last)
        return reports

    def fetch_eras(self) -> list[Report]:
        since = self.state.get(self.era_key) or "0"
        eras: list[Report] = []
        with http.client(self.settings.timeout_s) as client:
            listing = self.post_xml(client, ERA_LIST_PATH, {"ERAID": since})
            era_ids = sorted(
                {e.get("eraid", "").strip() for e in listing.iter("era")} - {""}, key=_id_order
            )
            for era_id in era_ids:
                if _id_order(era_id) <= _id_order(since):
                    continue
                response = self.post(client, ERA_835_PATH, {"eraid": era_id})
                eras.append(Report(report_id=era_id, kind="835", text=self.x12_text(response)))
        if eras:
            self.state.set(self.era_key, eras[-1].report_id)
        return eras

    # --- request / response transactions ----------------------------------------------------

    def eligibility(self, x12_270: str) -> str:
        return self.exchange_x12("eligibility_path", x12_270)

    def claim_status(self, x12_276: str) -> str:
        return self.exchange_x12("status_path", x12_276)

    def prior_auth(self, x12_278: str) -> str:
        return self.exchange_x12("auth_path", x12_278)

    # --- enrollment -----------------------------------------------------------------------------

    def submit_enrollment(self, request: EnrollmentRequest) -> EnrollmentResult:
        """One Claim.MD enrollment per enroll_type the transaction types need; the
        reference lists their enrollids, comma-separated."""
        types = list(
            dict.fromkeys(ENROLL_TYPES[t] for t in request.transaction_types if t in ENROLL_TYPES)
        )
        results = []
        with http.client(self.settings.timeout_s) as client:
            for enroll_type in types or ["1500"]:
                form = {
                    "payerid": request.electronic_payer_id,
                    "enroll_type": enroll_type,
                    "prov_npi": request.provider_npi,
                    "prov_taxid": request.provider_tax_id,
                    "prov_name": request.provider_name,
                    "contact": request.contact_name,
                    "contact_phone": request.contact_phone,
                    "contact_email": request.contact_email,
                }
                results.append(self._enrollment(self.post_xml(client, ENROLL_PATH, form)))
        return combine_enrollments(results)

    def enrollment_status(self, reference: str) -> EnrollmentResult:
        results = []
        with http.client(self.settings.timeout_s) as client:
            for enroll_id in [r.strip() for r in reference.split(",") if r.strip()]:
                root = self.post_xml(client, ENROLL_PATH, {"enrollid": enroll_id})
                results.append(self._enrollment(root, enroll_id))
        if not results:
            raise PermanentFailure(self.vendor, "no Claim.MD enrollment id to look up")
        return combine_enrollments(results)

    def _enrollment(self, root: ET.Element, enroll_id: str = "") -> EnrollmentResult:
        element = root if root.tag == "enroll" else root.find(".//enroll")
        if element is None:
            raise TransientFailure(self.vendor, "the enrollment answer has no <enroll>")
        reference = element.get("enrollid", "").strip() or enroll_id
        if not reference:
            raise TransientFailure(self.vendor, "the enrollment answer has no enrollid")
        status = enrollment_status(element.get("status", ""))
        reason = element.get("reason", "")[:REASON_LIMIT] if status == "rejected" else ""
        return EnrollmentResult(reference=reference, status=status, reason=reason)

    # --- health ---------------------------------------------------------------------------------

    def health_check(self) -> HealthResult:
        """The response API with the remembered ResponseID: a 200 XML answer is healthy.
        The cursor does not move (what it returns is read again by `fetch_reports`)."""
        started = time.monotonic()
        try:
            with http.client(self.settings.timeout_s) as client:
                root = self.post_xml(
                    client, RESPONSE_PATH, {"ResponseID": self.state.get(self.response_key) or "0"}
                )
        except VendorError as error:
            return HealthResult(False, _ms_since(started), error.message)
        return HealthResult(True, _ms_since(started), f"<{root.tag}> answered")


# --- reading Claim.MD's XML --------------------------------------------------------------------


def xml_error(root: ET.Element) -> str | None:
    """Claim.MD's refusal: `<error error_mesg=".."/>` (or a message attribute or text),
    anywhere in the answer; None when there is none."""
    for element in root.iter():
        if element.tag.lower() != "error":
            continue
        for name in ("error_mesg", "error_message", "message", "mesg"):
            if element.get(name):
                code = element.get("error_code") or element.get("code")
                return f"{element.get(name)}" + (f" (code {code})" if code else "")
        return (element.text or "").strip() or "Claim.MD refused the request"
    return None


def readable_refusal(error: PermanentFailure) -> PermanentFailure:
    """A 4xx whose body is Claim.MD's XML error, with its error_mesg instead of the XML."""
    message = re.search(r'error_mesg="([^"]*)"', error.message)
    if message:
        code = re.search(r'error_code="([^"]*)"', error.message)
        head = error.message.split(": <", 1)[0]
        error.message = f"{head}: {html.unescape(message.group(1))}" + (
            f" (code {code.group(1)})" if code else ""
        )
        error.args = (f"{error.vendor}: {error.message}",)
    return error


def claim_verdict(element: ET.Element) -> dict:
    """A `<claim>` of an upload or response answer, tolerant of Claim.MD's two ways of
    giving messages: a `messages` attribute, or `<messages message=".."/>` children."""
    messages = [element.get("messages", "").strip()] if element.get("messages") else []
    for child in element.iter("messages"):
        text = child.get("message") or child.get("mesg") or (child.text or "")
        if text.strip():
            messages.append(text.strip())
    code = element.get("status", "").strip().upper()
    return {
        "claim_id": element.get("claimid") or element.get("pcn") or "",
        "status": CLAIM_STATUSES.get(code, ""),
        "vendor_status": code,
        "messages": tuple(messages),
        "vendor_claim_id": element.get("claimmd_id", ""),
        "file_id": element.get("fileid", ""),
    }


def x12_in(root: ET.Element) -> list[str]:
    """X12 interchanges carried as element text."""
    return [
        element.text
        for element in root.iter()
        if element.text and element.text.lstrip("\ufeff \t\r\n").startswith("ISA")
    ]


def combine_enrollments(results: list[EnrollmentResult]) -> EnrollmentResult:
    """Several Claim.MD enrollments seen as one: rejected when any is, active when all are."""
    reference = ",".join(r.reference for r in results)
    rejected = [r for r in results if r.status == "rejected"]
    if rejected:
        reason = "; ".join(r.reason for r in rejected if r.reason)
        return EnrollmentResult(reference, "rejected", reason[:REASON_LIMIT])
    if all(r.status == "active" for r in results):
        return EnrollmentResult(reference, "active")
    return EnrollmentResult(reference, "pending")


def _id_order(value: str) -> tuple[int, int | str]:
    """Numeric ids in numeric order (Claim.MD's are numbers), others after, as text."""
    return (0, int(value)) if value.isdigit() else (1, value)


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
