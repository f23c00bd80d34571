"""What the clearinghouse does with a request, whichever vendor face it came through.

The faces turn HTTP into calls here and the results back into each vendor's shapes; this
module numbers things, keeps the files and claims in the store, schedules ERAs and
enrollment decisions, writes the log, and answers a repeated idempotency key with the
answer it gave the first time.

An *account* is who the vendor knows the caller as: the OAuth client id (Change Healthcare,
Availity), the Basic-auth user (Waystar, and the sandbox face when one is sent), or a digest
of Claim.MD's account key (the key itself is a secret and is never stored). Mailboxes,
claims, ERAs and enrollments belong to one account of one face, as they would at a vendor.
"""

from __future__ import annotations

import datetime
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from clearinghouse.sandbox import answers
from clearinghouse.sandbox.store import Store
from clearinghouse.sandbox.web import Response
from edi import models as x12

TOKEN_TTL_S = {"change_healthcare": 3600, "availity": 300}

# Report names per face: Change Healthcare's mailbox names look like X3000001.XX.
REPORT_NAMES = {
    "change_healthcare": {"999": "X3{id:06d}.XX", "277CA": "R5{id:06d}.XY", "835": "E8{id:06d}.XZ"},
}
DEFAULT_REPORT_NAME = "{kind}-{id:06d}"


@dataclass
class Submission:
    submission_id: str
    answer: answers.ClaimsAnswer


@dataclass
class Enrollment:
    id: str
    status: str  # SUBMITTED, APPROVED, REJECTED
    reason: str = ""


class Engine:
    def __init__(self, store: Store, clock: Callable[[], float] = time.time):
        self.store = store
        self.clock = clock

    def now(self) -> datetime.datetime:
        """Local wall time without microseconds, as X12 dates and times are written."""
        return datetime.datetime.fromtimestamp(self.clock()).replace(microsecond=0)

    def _isa(self) -> int:
        return self.store.next_number("interchange")

    # --- idempotency and tokens ---------------------------------------------------------------

    def once(self, vendor: str, key: str, produce: Callable[[], Response]) -> Response:
        """The answer to a request carrying an idempotency key: the remembered one when the
        key was seen, else `produce()`'s, remembered when it settled a transaction
        (`Response.remember`). The store's lock makes a concurrent repeat wait for the first."""
        if not key:
            return produce()
        with self.store.transaction():
            remembered = self.store.remembered_answer(vendor, key)
            if remembered is not None:
                return Response.from_record(remembered)
            response = produce()
            if response.remember:
                self.store.remember_answer(vendor, key, response.to_record())
            return response

    def issue_token(self, vendor: str, account: str) -> tuple[str, int]:
        """A bearer token and its expires_in (whole seconds; the token itself honours a
        fractional `token_ttl_s`, so tests can watch one expire quickly)."""
        ttl = self.store.setting("token_ttl_s")
        lifetime = float(ttl) if ttl is not None else float(TOKEN_TTL_S.get(vendor, 3600))
        token = secrets.token_urlsafe(32)
        self.store.add_token(token, vendor, account, self.clock() + lifetime)
        return token, int(lifetime)

    def token_account(self, vendor: str, token: str) -> str | None:
        return self.store.token_account(vendor, token) if token else None

    # --- claims -------------------------------------------------------------------------------

    def submit_claims(self, vendor: str, account: str, text: str, key: str = "") -> Submission:
        """Acknowledge an 837P (999, 277CA into the mailbox), record its claims, and schedule
        the ERAs of the accepted ones. Raises `answers.NotX12` for a body that is not X12."""
        with self.store.transaction():
            submission_id = f"SBX{self.store.next_number('submission'):08d}"
            now = self.now()
            answer = answers.answer_837p(
                text,
                submission_id=submission_id,
                numbers=self._isa,
                claim_number=lambda: f"SBXC{self.store.next_number('payer_claim'):08d}",
                now=now,
            )
            received = self.clock()
            if vendor != "claim_md":  # Claim.MD answers through /services/response/ instead
                self._add_report(vendor, account, "999", answer.ack_999, received)
                if answer.ack_277ca:
                    self._add_report(vendor, account, "277CA", answer.ack_277ca, received)
            rows = {}
            for verdict in answer.verdicts:
                start, end = answers.service_period(verdict.claim)
                rows[verdict.claim_id] = self.store.add_claim(
                    vendor=vendor,
                    account=account,
                    claim_id=verdict.claim_id,
                    submission_id=submission_id,
                    received_at=received,
                    status="accepted" if verdict.accepted else "rejected",
                    reason=verdict.reason,
                    status_code=_status_code(verdict.status),
                    charge=str(verdict.claim.total_charge),
                    payer_claim_number=verdict.payer_claim_number,
                    service_date=start.isoformat(),
                    service_date_end=end.isoformat(),
                )
                if vendor == "claim_md":
                    self.store.add_claim_response(
                        vendor=vendor,
                        account=account,
                        claim_id=verdict.claim_id,
                        status="A" if verdict.accepted else "R",
                        messages=verdict.reason or "Accepted for processing",
                        fileid=submission_id,
                    )
            self._schedule_eras(vendor, account, answer, rows, received, now)
            self.store.add_log(
                vendor=vendor,
                account=account,
                kind="837P",
                idempotency_key=key,
                claim_ids=[v.claim_id for v in answer.verdicts],
                outcome=answer.outcome,
                detail=_claims_detail(submission_id, answer),
            )
        return Submission(submission_id, answer)

    def _schedule_eras(
        self,
        vendor: str,
        account: str,
        answer: answers.ClaimsAnswer,
        rows: dict[str, int],
        received: float,
        now: datetime.datetime,
    ) -> None:
        groups: dict[tuple[str, str], list[answers.Verdict]] = {}
        for verdict in answer.accepted:
            claim = verdict.claim
            groups.setdefault((claim.payer.payer_id, claim.billing_provider.npi), []).append(
                verdict
            )
        available_at = received + float(self.store.setting("era_delay_s") or 0)
        for (payer_id, npi), verdicts in groups.items():
            era = answers.build_era(
                verdicts,
                trace_number=f"SBXEFT{self.store.next_number('era_trace'):08d}",
                control_number=self._isa(),
                request_envelope=answer.envelope,
                now=now,
            )
            remittance = era.remittance
            report = self._add_report(
                vendor,
                account,
                "835",
                era.text,
                available_at,
                meta={
                    "payer_id": payer_id,
                    "payer_name": remittance.payer_name,
                    "paid_amount": str(remittance.payment_amount),
                    "check_number": remittance.trace_number,
                    "paid_date": now.date().isoformat(),
                    "prov_npi": npi,
                    "prov_name": remittance.payee_name,
                    "claim_count": len(verdicts),
                },
            )
            for verdict in verdicts:
                self.store.set_claim_result(
                    rows[verdict.claim_id],
                    result="denied" if verdict.claim_id in era.denied else "paid",
                    paid=str(era.paid[verdict.claim_id]),
                    era_report_id=report["id"],
                    era_at=available_at,
                )

    def _add_report(
        self,
        vendor: str,
        account: str,
        kind: str,
        text: str,
        available_at: float,
        meta: dict | None = None,
    ):
        template = REPORT_NAMES.get(vendor, {}).get(kind, DEFAULT_REPORT_NAME)
        return self.store.add_report(
            vendor=vendor,
            account=account,
            kind=kind,
            text=text,
            available_at=available_at,
            name_format=template.replace("{kind}", kind),
            meta=meta,
        )

    def known_claim(self, vendor: str, account: str, claim_id: str) -> answers.KnownClaim | None:
        row = self.store.latest_claim(vendor, account, claim_id)
        if row is None:
            return None
        received_on = datetime.date.fromtimestamp(row["received_at"])
        common = {"charge": Decimal(row["charge"]), "payer_claim_number": row["payer_claim_number"]}
        if row["status"] == "rejected":
            return answers.KnownClaim(
                state="rejected",
                reason=row["reason"],
                status_code=row["status_code"],
                decided_on=received_on,
                **common,
            )
        if row["era_at"] is not None and row["era_at"] <= self.clock():
            return answers.KnownClaim(
                state=row["result"],
                paid=Decimal(row["paid"]),
                decided_on=datetime.date.fromtimestamp(row["era_at"]),
                **common,
            )
        return answers.KnownClaim(state="accepted", decided_on=received_on, **common)

    # --- eligibility, claim status, prior auth ------------------------------------------------

    def eligibility(self, vendor: str, account: str, text: str, key: str = "") -> str:
        """A 271 for a 270. Raises `answers.NotX12` or `edi.errors.X12Error`."""
        with self.store.transaction():
            answer = answers.answer_270(text, numbers=self._isa, now=self.now())
            self._log_eligibility(vendor, account, answer, key)
        return answer.text

    def eligibility_for(
        self, vendor: str, account: str, request: x12.Eligibility, key: str = ""
    ) -> answers.EligibilityAnswer:
        """A 271 for a question asked without X12 (Availity's coverages form)."""
        envelope = x12.Envelope(
            sender_id=account[:15] or "SUBMITTER",
            receiver_id=vendor.upper().replace("_", "")[:15],
            control_number=1,
            group_control_number=1,
            created=self.now(),
        )
        with self.store.transaction():
            answer = answers.answer_eligibility(
                [request], envelope, numbers=self._isa, now=self.now()
            )
            self._log_eligibility(vendor, account, answer, key)
        return answer

    def _log_eligibility(
        self, vendor: str, account: str, answer: answers.EligibilityAnswer, key: str
    ) -> None:
        inquiries = sum(len(r.inquiries) for r in answer.responses)
        invalid = answer.invalid_members
        self.store.add_log(
            vendor=vendor,
            account=account,
            kind="270",
            idempotency_key=key,
            claim_ids=[],
            outcome="invalid_member_id" if invalid else "active",
            detail=f"{inquiries} {'inquiry' if inquiries == 1 else 'inquiries'}, "
            f"{invalid} with an invalid member id",
        )

    def claim_status(self, vendor: str, account: str, text: str, key: str = "") -> str:
        with self.store.transaction():
            answer = answers.answer_276(
                text,
                lookup=lambda claim_id: self.known_claim(vendor, account, claim_id),
                numbers=self._isa,
                now=self.now(),
            )
            self.store.add_log(
                vendor=vendor,
                account=account,
                kind="276",
                idempotency_key=key,
                claim_ids=answer.claim_ids,
                outcome="answered",
                detail=", ".join(
                    f"{c} {s}" for c, s in zip(answer.claim_ids, answer.states, strict=True)
                ),
            )
        return answer.text

    def prior_auth(self, vendor: str, account: str, text: str, key: str = "") -> str:
        with self.store.transaction():
            answer = answers.answer_278(
                text,
                certification=lambda: f"SBXAUTH{self.store.next_number('auth'):06d}",
                numbers=self._isa,
                now=self.now(),
            )
            self.store.add_log(
                vendor=vendor,
                account=account,
                kind="278",
                idempotency_key=key,
                claim_ids=[],
                outcome="approved",
                detail="certification " + ", ".join(answer.certifications),
            )
        return answer.text

    # --- enrollments --------------------------------------------------------------------------

    def submit_enrollment(
        self, vendor: str, account: str, request: dict, key: str = ""
    ) -> Enrollment:
        """Pending now; approved after `enrollment_delay_s`, or rejected when the payer id
        starts with REJ."""
        payer_id = str(request["payer_id"])
        rejected = payer_id.upper().startswith("REJ")
        with self.store.transaction():
            enrollment_id = f"SBXENR{self.store.next_number('enrollment'):06d}"
            created = self.clock()
            self.store.add_enrollment(
                id=enrollment_id,
                vendor=vendor,
                account=account,
                payer_id=payer_id,
                request=_json(request),
                created_at=created,
                decide_at=created + float(self.store.setting("enrollment_delay_s") or 0),
                outcome="REJECTED" if rejected else "APPROVED",
                reason=f"Payer {payer_id} does not accept electronic enrollment for this "
                "provider (provider not credentialed with the payer)"
                if rejected
                else "",
            )
            self.store.add_log(
                vendor=vendor,
                account=account,
                kind="enrollment",
                idempotency_key=key,
                claim_ids=[],
                outcome="submitted",
                detail=f"{enrollment_id}: payer {payer_id}, NPI {request.get('npi', '')}",
            )
        return Enrollment(enrollment_id, "SUBMITTED")

    def enrollment(self, vendor: str, account: str, enrollment_id: str) -> Enrollment | None:
        row = self.store.enrollment(vendor, account, enrollment_id)
        if row is None:
            return None
        if self.clock() < row["decide_at"]:
            return Enrollment(row["id"], "SUBMITTED")
        return Enrollment(row["id"], row["outcome"], row["reason"])


def _claims_detail(submission_id: str, answer: answers.ClaimsAnswer) -> str:
    if answer.file_error:
        return f"{submission_id}: {answer.reason}"
    parts = []
    if answer.accepted:
        parts.append("accepted " + ", ".join(v.claim_id for v in answer.accepted))
    if answer.rejected:
        parts.append("rejected " + ", ".join(f"{v.claim_id} ({v.reason})" for v in answer.rejected))
    return f"{submission_id}: " + "; ".join(parts)


def _status_code(status: x12.Status) -> str:
    return ":".join(part for part in (status.category, status.code, status.entity) if part)


def _json(value: dict) -> str:
    return json.dumps(value, default=str)
