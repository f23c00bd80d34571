"""Each vendor's HTTP shapes over the one engine (the contract is issue 6's "HTTP shapes").

A face is served under `/<vendor>`; its paths are the vendor's own, relative to the
configuration's base URL:

- change_healthcare: OAuth2 client credentials at /apip/auth/v2/token, bearer on every
  other call, JSON `{"x12": ...}` bodies, the reports mailbox at /medicalnetwork/reports/v2;
- availity: OAuth2 at /availity/v1/token (5-minute tokens), asynchronous coverages polled
  by id (429 with Retry-After when throttled), raw X12 under /availity/v1/edi/;
- claim_md: form posts with `AccountKey` to /services/..., XML answers;
- waystar: Basic auth, raw X12 bodies under /api/v1/;
- sandbox: Waystar's paths without authentication (an account is the Basic-auth user when
  one is sent, else "default").

A POST carrying an idempotency key (header `Idempotency-Key`, or the form field
`idempotency_key` for Claim.MD) is answered once; a repeat gets the first answer.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from clearinghouse.sandbox import answers
from clearinghouse.sandbox.engine import Engine, Enrollment, Submission
from clearinghouse.sandbox.web import (
    BadRequest,
    Request,
    Response,
    json_response,
    text_response,
    xml_element,
    xml_response,
)
from edi import models as x12
from edi.errors import X12Error

Handler = Callable[..., Response]


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    authenticated: bool = True


class Face:
    vendor: str = ""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.routes: list[Route] = []

    def route(self, method: str, path: str, handler: Handler, *, authenticated=True) -> None:
        """`path` may hold `{name}` parts (one path segment each) and end in an optional /."""
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path.rstrip("/")))
        self.routes.append(Route(method, re.compile(f"^{regex}/?$"), handler, authenticated))

    # What each vendor says when it refuses.
    def error(self, status: int, message: str) -> Response:
        return json_response(status, {"message": message})

    def authenticate(self, request: Request) -> str | Response:
        """The caller's account, or the vendor's refusal."""
        return "default"

    def idempotency_key(self, request: Request) -> str:
        return request.header("idempotency-key").strip()

    def dispatch(self, request: Request) -> Response:
        path_matched = False
        for route in self.routes:
            match = route.pattern.match(request.path)
            if match is None:
                continue
            path_matched = True
            if route.method != request.method:
                continue
            return self._answer(route, match, request)
        if path_matched:
            return self.error(405, f"{request.method} is not allowed on {request.path}")
        return self.error(404, f"{self.vendor} has no endpoint {request.path}")

    def _answer(self, route: Route, match: re.Match[str], request: Request) -> Response:
        account = "" if not route.authenticated else self.authenticate(request)
        if isinstance(account, Response):
            return account
        key = ""
        if request.method == "POST" and route.authenticated:
            key = self.idempotency_key(request)
        try:
            return self.engine.once(
                self.vendor, key, lambda: route.handler(request, account, key, **match.groupdict())
            )
        except BadRequest as error:
            return self.error(400, str(error))

    # --- shared steps -------------------------------------------------------------------------

    def x12_or_error(self, produce: Callable[[], str]) -> str | Response:
        try:
            return produce()
        except answers.NotX12 as error:
            return self.error(400, f"the request is not an X12 interchange: {error}")
        except X12Error as error:
            return self.error(400, f"the X12 request cannot be read: {error}")

    def issue_token(self, request: Request) -> Response:
        """OAuth2 client credentials (form or JSON body, or HTTP Basic for the client)."""
        fields = request.json() if request.content_type == "application/json" else request.form
        client_id, client_secret = fields.get("client_id", ""), fields.get("client_secret", "")
        basic = request.basic_auth()
        if basic and not client_id:
            client_id, client_secret = basic
        if fields.get("grant_type", "") != "client_credentials":
            return json_response(
                400,
                {
                    "error": "unsupported_grant_type",
                    "error_description": "grant_type must be client_credentials",
                },
            )
        if not client_id or not client_secret:
            return json_response(
                401,
                {
                    "error": "invalid_client",
                    "error_description": "client_id and client_secret are required",
                },
            )
        token, lifetime = self.engine.issue_token(self.vendor, client_id)
        body = {"access_token": token, "token_type": "bearer", "expires_in": lifetime}
        if fields.get("scope"):
            body["scope"] = fields["scope"]
        return json_response(200, body, {"Cache-Control": "no-store"})

    def bearer_account(self, request: Request) -> str | Response:
        account = self.engine.token_account(self.vendor, request.bearer_token())
        if account is None:
            return json_response(
                401,
                {
                    "error": "invalid_token",
                    "error_description": "the access token is missing, invalid or expired",
                },
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return account

    def enrollment_json(self, request: Request) -> dict:
        body = request.json()
        missing = [name for name in ("payerId", "npi") if not str(body.get(name) or "").strip()]
        if missing:
            raise BadRequest(f"the enrollment needs {' and '.join(missing)}")
        return {
            "payer_id": str(body["payerId"]).strip(),
            "npi": str(body["npi"]).strip(),
            "tax_id": str(body.get("taxId") or ""),
            "provider_name": str(body.get("providerName") or ""),
            "transactions": list(body.get("transactions") or []),
            "contact": body.get("contact") or {},
        }

    def submit_enrollment(self, request: Request, account: str, key: str) -> Response:
        enrollment = self.engine.submit_enrollment(
            self.vendor, account, self.enrollment_json(request), key
        )
        response = json_response(201, {"id": enrollment.id, "status": enrollment.status})
        response.remember = True
        return response

    def enrollment_status(
        self, request: Request, account: str, key: str, enrollment_id: str
    ) -> Response:
        enrollment = self.engine.enrollment(self.vendor, account, enrollment_id)
        if enrollment is None:
            return self.error(404, f"there is no enrollment {enrollment_id}")
        return json_response(200, _enrollment_json(enrollment))

    def raw_x12(self, engine_call: Callable[..., str]) -> Handler:
        """A handler taking X12 as the raw body and answering X12 text."""

        def handler(request: Request, account: str, key: str) -> Response:
            text = self.x12_or_error(lambda: engine_call(self.vendor, account, request.text, key))
            if isinstance(text, Response):
                return text
            response = text_response(200, text)
            response.remember = True
            return response

        return handler

    def report_list(self, account: str) -> list[dict]:
        return [
            {"id": row["name"], "kind": row["kind"]}
            for row in self.engine.store.mailbox(self.vendor, account)
        ]

    def report_text(self, request: Request, account: str, key: str, report_id: str) -> Response:
        row = self.engine.store.report(self.vendor, account, report_id)
        if row is None:
            return self.error(404, f"there is no report {report_id}")
        return text_response(200, row["text"])

    def report_delete(self, request: Request, account: str, key: str, report_id: str) -> Response:
        row = self.engine.store.report(self.vendor, account, report_id)
        if row is None:
            return self.error(404, f"there is no report {report_id}")
        self.engine.store.delete_report(row["id"])
        return json_response(200, {"id": report_id, "status": "DELETED"})


def _enrollment_json(enrollment: Enrollment) -> dict:
    return {"id": enrollment.id, "status": enrollment.status, "reason": enrollment.reason}


# --- Change Healthcare (Optum) ----------------------------------------------------------------


class ChangeHealthcare(Face):
    vendor = "change_healthcare"

    def __init__(self, engine: Engine):
        super().__init__(engine)
        self.route("POST", "/apip/auth/v2/token", self.token, authenticated=False)
        self.route("GET", "/medicalnetwork/eligibility/v3/healthcheck", self.health)
        self.route("POST", "/medicalnetwork/eligibility/v3/raw-x12", self.x12(engine.eligibility))
        self.route("POST", "/medicalnetwork/professionalclaims/v3/raw-x12-submission", self.claims)
        self.route("POST", "/medicalnetwork/claimstatus/v2/raw-x12", self.x12(engine.claim_status))
        self.route(
            "POST", "/medicalnetwork/priorauthorization/v1/raw-x12", self.x12(engine.prior_auth)
        )
        self.route("GET", "/medicalnetwork/reports/v2", self.reports)
        self.route("GET", "/medicalnetwork/reports/v2/{report_id}", self.report)
        self.route("DELETE", "/medicalnetwork/reports/v2/{report_id}", self.report_delete)
        self.route("POST", "/enrollment/v1/enrollments", self.submit_enrollment)
        self.route("GET", "/enrollment/v1/enrollments/{enrollment_id}", self.enrollment_status)

    def error(self, status: int, message: str) -> Response:
        return json_response(status, {"errors": [{"description": message}]})

    def authenticate(self, request: Request) -> str | Response:
        return self.bearer_account(request)

    def token(self, request: Request, account: str, key: str) -> Response:
        return self.issue_token(request)

    def health(self, request: Request, account: str, key: str) -> Response:
        return json_response(200, {"status": "UP"})

    def _x12_field(self, request: Request) -> str:
        text = request.json().get("x12")
        if not isinstance(text, str) or not text.strip():
            raise BadRequest('the body needs "x12": the raw X12 request')
        return text

    def x12(self, engine_call: Callable[..., str]) -> Handler:
        def handler(request: Request, account: str, key: str) -> Response:
            text = self._x12_field(request)
            answer = self.x12_or_error(lambda: engine_call(self.vendor, account, text, key))
            if isinstance(answer, Response):
                return answer
            response = json_response(200, {"x12": answer})
            response.remember = True
            return response

        return handler

    def claims(self, request: Request, account: str, key: str) -> Response:
        text = self._x12_field(request)
        submission = _submit(self, account, text, key)
        if isinstance(submission, Response):
            return submission
        answer = submission.answer
        if answer.outcome == "rejected":
            response = self.error(400, answer.reason)
        else:
            response = json_response(
                200,
                {
                    "status": "SUCCESS",
                    "controlNumber": answer.control_number,
                    "claimReference": {"correlationId": submission.submission_id},
                },
            )
        response.remember = True
        return response

    def reports(self, request: Request, account: str, key: str) -> Response:
        return json_response(200, {"reportNames": [r["id"] for r in self.report_list(account)]})

    def report(self, request: Request, account: str, key: str, report_id: str) -> Response:
        row = self.engine.store.report(self.vendor, account, report_id)
        if row is None:
            return self.error(404, f"there is no report {report_id}")
        return json_response(200, {"reportContent": row["text"]})


# --- Availity ---------------------------------------------------------------------------------

AVAILITY_COVERAGE_FIELDS = ("payerId", "memberId", "providerNpi")


class Availity(Face):
    vendor = "availity"

    def __init__(self, engine: Engine):
        super().__init__(engine)
        self.route("POST", "/availity/v1/token", self.token, authenticated=False)
        self.route("POST", "/availity/v1/coverages", self.coverage)
        self.route("GET", "/availity/v1/coverages/{coverage_id}", self.coverage_poll)
        self.route("POST", "/availity/v1/edi/claims", self.claims)
        self.route("POST", "/availity/v1/edi/claim-status", self.raw_x12(engine.claim_status))
        self.route("POST", "/availity/v1/edi/authorizations", self.raw_x12(engine.prior_auth))
        self.route("GET", "/availity/v1/edi/reports", self.reports)
        self.route("GET", "/availity/v1/edi/reports/{report_id}", self.report_text)
        self.route("DELETE", "/availity/v1/edi/reports/{report_id}", self.report_delete)
        self.route("POST", "/availity/v1/enrollments", self.submit_enrollment)
        self.route("GET", "/availity/v1/enrollments/{enrollment_id}", self.enrollment_status)
        self.route("GET", "/availity/v1/health", self.health)

    def error(self, status: int, message: str) -> Response:
        return json_response(status, {"statusCode": status, "message": message})

    def authenticate(self, request: Request) -> str | Response:
        return self.bearer_account(request)

    def token(self, request: Request, account: str, key: str) -> Response:
        return self.issue_token(request)

    def health(self, request: Request, account: str, key: str) -> Response:
        return json_response(200, {"status": "UP"})

    def coverage(self, request: Request, account: str, key: str) -> Response:
        fields = request.json() if request.content_type == "application/json" else request.form
        fields = {name: str(value).strip() for name, value in fields.items()}
        missing = [name for name in AVAILITY_COVERAGE_FIELDS if not fields.get(name)]
        if missing:
            return self.error(400, f"the coverage request needs {', '.join(missing)}")
        birth_date = None
        if fields.get("patientBirthDate"):
            try:
                birth_date = datetime.date.fromisoformat(fields["patientBirthDate"])
            except ValueError:
                return self.error(400, "patientBirthDate must be a date as YYYY-MM-DD")
        coverage_id = f"SBXCOV{self.engine.store.next_number('coverage'):08d}"
        member_id = fields["memberId"]
        if member_id.upper().startswith("ERR"):
            answer: dict = {
                "statusCode": "19",
                "status": "Request Error",
                "statusMessage": "The payer could not process the request (sandbox rule: "
                "member ids starting with ERR)",
            }
            self.engine.store.add_log(
                vendor=self.vendor,
                account=account,
                kind="270",
                idempotency_key=key,
                claim_ids=[],
                outcome="error",
                detail=f"{coverage_id}: request error",
            )
        else:
            request_270 = _coverage_request(fields, coverage_id, birth_date, self.engine.now())
            eligibility = self.engine.eligibility_for(self.vendor, account, request_270, key)
            inquiry = eligibility.responses[0].inquiries[0]
            answer = {
                "statusCode": "4",
                "status": "Complete",
                "plans": _plans(inquiry),
                "x12": eligibility.text,
            }
            if inquiry.errors:
                answer["validationMessages"] = [
                    {"field": "memberId", "code": "72", "errorMessage": "Invalid member id"}
                ]
        self.engine.store.add_coverage(coverage_id, account, answer)
        response = json_response(
            202,
            {"id": coverage_id, "statusCode": "0", "status": "In Progress"},
            {"Location": f"/availity/v1/coverages/{coverage_id}"},
        )
        response.remember = True
        return response

    def coverage_poll(self, request: Request, account: str, key: str, coverage_id: str):
        store = self.engine.store
        if store.take_throttle():
            retry_after = store.setting("retry_after_s") or 0
            return json_response(
                429,
                {"statusCode": 429, "message": "Too many requests: retry later"},
                {"Retry-After": f"{retry_after:g}"},
            )
        polled = store.poll_coverage(coverage_id, account)
        if polled is None:
            return self.error(404, f"there is no coverage {coverage_id}")
        polls_before, answer = polled
        if polls_before < int(store.setting("coverage_pending_polls") or 0):
            return json_response(
                200, {"id": coverage_id, "statusCode": "0", "status": "In Progress"}
            )
        return json_response(200, {"id": coverage_id, **answer})

    def claims(self, request: Request, account: str, key: str) -> Response:
        submission = _submit(self, account, request.text, key)
        if isinstance(submission, Response):
            return submission
        response = json_response(200, {"batchId": submission.submission_id, "status": "RECEIVED"})
        response.remember = True
        return response

    def reports(self, request: Request, account: str, key: str) -> Response:
        return json_response(200, {"reports": self.report_list(account)})


def _coverage_request(
    fields: dict[str, str], coverage_id: str, birth_date, now: datetime.datetime
) -> x12.Eligibility:
    service_type = fields.get("serviceType") or "30"
    return x12.Eligibility(
        reference=coverage_id,
        created=now,
        payer=x12.Party(
            name=f"PAYER {fields['payerId']}", id_qualifier="PI", identifier=fields["payerId"]
        ),
        provider=x12.Party(name="PROVIDER", id_qualifier="XX", identifier=fields["providerNpi"]),
        inquiries=[
            x12.EligibilityInquiry(
                subscriber=x12.Member(
                    last_name=fields.get("patientLastName") or "UNKNOWN",
                    first_name=fields.get("patientFirstName", ""),
                    id_qualifier="MI",
                    identifier=fields["memberId"],
                    birth_date=birth_date,
                ),
                trace_number=coverage_id,
                trace_originator="9SANDBOXAV",
                service_types=(service_type,),
            )
        ],
    )


BENEFIT_NAMES = {
    "1": "Active Coverage",
    "A": "Co-Insurance",
    "B": "Co-Payment",
    "C": "Deductible",
}


def _plans(inquiry: x12.EligibilityInquiry) -> list[dict]:
    if inquiry.errors:
        return []
    active = inquiry.benefits[0]
    return [
        {
            "status": "Active Coverage",
            "statusCode": "1",
            "description": active.plan_description,
            "coverageStartDate": inquiry.eligibility_begin.isoformat()
            if inquiry.eligibility_begin
            else None,
            "benefits": [
                {
                    "code": b.code,
                    "name": BENEFIT_NAMES.get(b.code, b.code),
                    "coverageLevel": b.coverage_level,
                    "serviceTypes": list(b.service_types),
                    "timePeriod": b.time_period,
                    "amount": str(b.amount) if b.amount is not None else None,
                    "percent": str(b.percent) if b.percent is not None else None,
                    "inNetwork": b.in_network,
                }
                for b in inquiry.benefits[1:]
            ],
        }
    ]


# --- Claim.MD ---------------------------------------------------------------------------------

ENROLL_TYPES = {"1500": "837P", "era": "835", "elig": "270"}


class ClaimMd(Face):
    vendor = "claim_md"

    def __init__(self, engine: Engine):
        super().__init__(engine)
        self.route("POST", "/services/upload/", self.upload)
        self.route("POST", "/services/response/", self.responses)
        self.route("POST", "/services/eralist/", self.era_list)
        self.route("POST", "/services/era835/", self.era_835)
        self.route("POST", "/services/enroll/", self.enroll)
        self.route("POST", "/services/elig/", self.form_x12(engine.eligibility))
        self.route("POST", "/services/claimstatus/", self.form_x12(engine.claim_status))
        self.route("POST", "/services/auth/", self.form_x12(engine.prior_auth))

    def error(self, status: int, message: str) -> Response:
        code = {400: "BAD_REQUEST", 401: "AUTH", 404: "NOT_FOUND", 405: "METHOD"}.get(
            status, str(status)
        )
        return xml_response(
            status,
            "<result>"
            + xml_element("error", {"error_code": code, "error_mesg": message})
            + "</result>\n",
        )

    def authenticate(self, request: Request) -> str | Response:
        key = request.form.get("AccountKey", "").strip()
        if not key:
            return self.error(401, "AccountKey is missing or not valid")
        # The key is the account's secret: keep only a digest as the account's name.
        return "key-" + hashlib.sha256(key.encode()).hexdigest()[:12]

    def idempotency_key(self, request: Request) -> str:
        return (request.form.get("idempotency_key") or request.header("idempotency-key")).strip()

    def upload(self, request: Request, account: str, key: str) -> Response:
        file = request.files.get("File")
        text = file[1].decode("utf-8", errors="replace") if file else request.form.get("File", "")
        if not text.strip():
            return self.error(400, "File is missing: upload the claims as the multipart field File")
        submission = _submit(self, account, text, key)
        if isinstance(submission, Response):
            return submission
        answer = submission.answer
        if answer.file_error:
            response = self.error(400, answer.reason)
        else:
            claims = "".join(
                xml_element(
                    "claim",
                    {
                        "claimid": v.claim_id,
                        "status": "A" if v.accepted else "R",
                        "messages": v.reason or "Accepted for processing",
                    },
                )
                + "\n"
                for v in answer.verdicts
            )
            response = xml_response(
                200, f"<result>\n{claims}<fileid>{submission.submission_id}</fileid>\n</result>\n"
            )
        response.remember = True
        return response

    def _cursor(self, request: Request, field: str) -> int:
        value = request.form.get(field, "0").strip() or "0"
        if not value.isdigit():
            raise BadRequest(f"{field} must be a number (0 for the first call)")
        return int(value)

    def responses(self, request: Request, account: str, key: str) -> Response:
        after = self._cursor(request, "ResponseID")
        rows = self.engine.store.claim_responses(self.vendor, account, after)
        last = max([after, *(row["id"] for row in rows)])
        claims = "".join(
            xml_element(
                "claim",
                {
                    "claimid": row["claim_id"],
                    "status": row["status"],
                    "messages": row["messages"],
                    "fileid": row["fileid"],
                    "responseid": row["id"],
                },
            )
            + "\n"
            for row in rows
        )
        return xml_response(200, f'<result last_responseid="{last}">\n{claims}</result>\n')

    def era_list(self, request: Request, account: str, key: str) -> Response:
        after = self._cursor(request, "ERAID")
        rows = self.engine.store.mailbox(self.vendor, account, kind="835", after_id=after)
        eras = ""
        for row in rows:
            meta = _meta(row)
            eras += (
                xml_element(
                    "era",
                    {
                        "eraid": row["id"],
                        "payerid": meta.get("payer_id", ""),
                        "payer_name": meta.get("payer_name", ""),
                        "paid_amount": meta.get("paid_amount", ""),
                        "paid_date": meta.get("paid_date", ""),
                        "check_number": meta.get("check_number", ""),
                        "prov_npi": meta.get("prov_npi", ""),
                        "claimcount": meta.get("claim_count", ""),
                    },
                )
                + "\n"
            )
        return xml_response(200, f"<result>\n{eras}</result>\n")

    def era_835(self, request: Request, account: str, key: str) -> Response:
        era_id = request.form.get("eraid", "").strip()
        rows = (
            self.engine.store.mailbox(self.vendor, account, kind="835", after_id=int(era_id) - 1)
            if era_id.isdigit() and int(era_id) > 0
            else []
        )
        row = next((r for r in rows if str(r["id"]) == era_id), None)
        if row is None:
            return self.error(404, f"there is no ERA {era_id or '(eraid is missing)'}")
        return text_response(200, row["text"])

    def enroll(self, request: Request, account: str, key: str) -> Response:
        form = request.form
        enroll_id = form.get("enrollid", "").strip()
        if enroll_id:
            enrollment = self.engine.enrollment(self.vendor, account, enroll_id)
            if enrollment is None:
                return self.error(404, f"there is no enrollment {enroll_id}")
            return self._enroll_xml(enrollment)
        missing = [name for name in ("payerid", "prov_npi") if not form.get(name, "").strip()]
        if missing:
            return self.error(400, f"the enrollment needs {' and '.join(missing)}")
        enroll_type = form.get("enroll_type", "1500").strip()
        enrollment = self.engine.submit_enrollment(
            self.vendor,
            account,
            {
                "payer_id": form["payerid"].strip(),
                "npi": form["prov_npi"].strip(),
                "tax_id": form.get("prov_taxid", ""),
                "provider_name": form.get("prov_name", ""),
                "transactions": [ENROLL_TYPES.get(enroll_type, enroll_type)],
                "contact": {
                    "name": form.get("contact", ""),
                    "phone": form.get("contact_phone", ""),
                    "email": form.get("contact_email", ""),
                },
            },
            key,
        )
        response = self._enroll_xml(enrollment)
        response.remember = True
        return response

    def _enroll_xml(self, enrollment: Enrollment) -> Response:
        element = xml_element(
            "enroll",
            {"status": enrollment.status, "reason": enrollment.reason, "enrollid": enrollment.id},
        )
        return xml_response(200, f"<result>{element}</result>\n")

    def form_x12(self, engine_call: Callable[..., str]) -> Handler:
        def handler(request: Request, account: str, key: str) -> Response:
            text = request.form.get("x12", "")
            if not text.strip():
                return self.error(400, "x12 is missing: post the raw X12 request as the field x12")
            answer = self.x12_or_error(lambda: engine_call(self.vendor, account, text, key))
            if isinstance(answer, Response):
                return answer
            response = text_response(200, answer)
            response.remember = True
            return response

        return handler


def _meta(row) -> dict:
    return json.loads(row["meta"] or "{}")


# --- Waystar and the sandbox's own face -------------------------------------------------------


class Waystar(Face):
    vendor = "waystar"
    requires_auth = True

    def __init__(self, engine: Engine):
        super().__init__(engine)
        self.route("POST", "/api/v1/claims", self.claims)
        self.route("POST", "/api/v1/eligibility", self.raw_x12(engine.eligibility))
        self.route("POST", "/api/v1/claim-status", self.raw_x12(engine.claim_status))
        self.route("POST", "/api/v1/authorizations", self.raw_x12(engine.prior_auth))
        self.route("GET", "/api/v1/reports", self.reports)
        self.route("GET", "/api/v1/reports/{report_id}", self.report_text)
        self.route("DELETE", "/api/v1/reports/{report_id}", self.report_delete)
        self.route("POST", "/api/v1/enrollments", self.submit_enrollment)
        self.route("GET", "/api/v1/enrollments/{enrollment_id}", self.enrollment_status)
        self.route("GET", "/api/v1/health", self.health)

    def authenticate(self, request: Request) -> str | Response:
        credentials = request.basic_auth()
        if credentials and credentials[0] and credentials[1]:
            return credentials[0]
        if not self.requires_auth:
            return credentials[0] if credentials and credentials[0] else "default"
        return json_response(
            401,
            {"message": "Basic authentication with the service account is required"},
            {"WWW-Authenticate": f'Basic realm="{self.vendor}"'},
        )

    def health(self, request: Request, account: str, key: str) -> Response:
        return json_response(200, {"status": "UP"})

    def claims(self, request: Request, account: str, key: str) -> Response:
        submission = _submit(self, account, request.text, key)
        if isinstance(submission, Response):
            return submission
        answer = submission.answer
        rejected = answer.outcome == "rejected"
        body = {
            "submissionId": submission.submission_id,
            "status": "REJECTED" if rejected else "ACCEPTED",
            "controlNumber": answer.control_number,
            "claims": [
                {
                    "claimId": v.claim_id,
                    "status": "ACCEPTED" if v.accepted else "REJECTED",
                    "message": v.reason,
                }
                for v in answer.verdicts
            ],
            "acknowledgements": [a for a in (answer.ack_999, answer.ack_277ca) if a],
        }
        if rejected:
            body = {"message": answer.reason, **body}
        response = json_response(400 if rejected else 200, body)
        response.remember = True
        return response

    def reports(self, request: Request, account: str, key: str) -> Response:
        return json_response(200, {"reports": self.report_list(account)})


class Sandbox(Waystar):
    vendor = "sandbox"
    requires_auth = False


def _submit(face: Face, account: str, text: str, key: str) -> Submission | Response:
    if not text.strip():
        return face.error(400, "the body is empty: send the 837P interchange")
    try:
        return face.engine.submit_claims(face.vendor, account, text, key)
    except answers.NotX12 as error:
        return face.error(400, f"the body is not an X12 interchange: {error}")


FACES: tuple[type[Face], ...] = (ChangeHealthcare, Availity, ClaimMd, Waystar, Sandbox)


def build_faces(engine: Engine) -> dict[str, Face]:
    return {face.vendor: face(engine) for face in FACES}
