"""ERA 835 ingestion: an ERA file in, its ERAs, payments and claim postings out.

An ERA file is stored first (`EraFile`, identified by the SHA-256 of its content, unique per
organization) and then ingested in one transaction: read with `edi.x835.read_835`, one `Era`
per ST/SE, one automatic `InsurancePayment` per paying ERA, the claim adjudications kept
with their service lines and adjustments, and each matched claim posted
(`payments.era_posting`). A file that cannot be read as an 835 (no ISA/GS envelope, a bad
trailer) or whose ERAs do not balance (BPR02 = sum CLP04 - sum PLB) is refused: its
`EraFile` row says why, and nothing else is written.

The same file again is a no-op reported as already ingested, even when several workers get
it at once: the insert of the second `EraFile` waits on the unique index until the first
transaction ends, and the stored row is then locked (`select_for_update`) while it is
ingested. An ERA (its `era_id`) already ingested from another file is skipped with a note.

Three ways in use these functions: `manage.py ingest_era` (`era_file_ingest`), the upload
page (`era_file_store`, then `era_file_process` on a worker) and the clearinghouse fetch
(`payments.era_fetch`).
"""

from __future__ import annotations

import datetime
import hashlib
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from billing.audit import audit
from billing.models import ZERO, Claim, Organization, Payer, Provider, User
from billing.tenancy import tenant_context
from clearinghouse.models import PayerEnrollment, TransactionType
from edi import models as x12
from edi.errors import X12Error
from edi.x835 import balance_difference, read_835
from payments import era_posting
from payments.models import (
    ClaimPayment,
    Era,
    EraFile,
    InsurancePayment,
    PaymentAdjustment,
    ServiceLinePayment,
)

INGESTED = "ingested"
ALREADY_INGESTED = "already_ingested"
REFUSED = "refused"
F = EraFile.Status


@dataclass
class IngestResult:
    """What one ERA file came to. `status`: ingested, already_ingested or refused."""

    era_file: EraFile
    status: str
    message: str = ""
    eras: list[Era] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # ERAs already ingested elsewhere
    payments: int = 0
    paid_total: Decimal = ZERO
    postings: int = 0  # ledger entries
    claims_matched: int = 0
    claims_unmatched: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def already_ingested(self) -> bool:
        return self.status == ALREADY_INGESTED

    @property
    def refused(self) -> bool:
        return self.status == REFUSED


def content_sha256(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def era_file_ingest(
    *,
    organization: Organization,
    actor: User | None,
    content: str,
    source: str,
    file_name: str = "",
    clearinghouse_config_id: int | None = None,
    vendor_report_id: str = "",
    received_at: datetime.datetime | None = None,
) -> IngestResult:
    """Store and ingest one ERA file in one transaction (see the module docstring).
    `received_at` (default now) dates the file and its postings."""
    with tenant_context(organization):
        era_file, _ = _store(
            organization,
            actor,
            content=content,
            source=source,
            file_name=file_name,
            clearinghouse_config_id=clearinghouse_config_id,
            vendor_report_id=vendor_report_id,
            received_at=received_at,
        )
        return _process(organization, actor, era_file.pk)


def era_file_store(
    *,
    organization: Organization,
    actor: User | None,
    content: str,
    source: str,
    file_name: str = "",
    clearinghouse_config_id: int | None = None,
    vendor_report_id: str = "",
) -> tuple[EraFile, bool]:
    """Keep the file (pending) for a worker to ingest, unless the organization has it
    already: (the file, whether it is new). Commits on its own (nested: a savepoint)."""
    with tenant_context(organization):
        return _store(
            organization,
            actor,
            content=content,
            source=source,
            file_name=file_name,
            clearinghouse_config_id=clearinghouse_config_id,
            vendor_report_id=vendor_report_id,
        )


def era_file_process(
    *, organization: Organization, actor: User | None, era_file_id: int
) -> IngestResult:
    """Ingest a stored file in one transaction; a file ingested before is left alone (a
    refused one is read again: nothing of it was kept)."""
    with tenant_context(organization):
        return _process(organization, actor, era_file_id)


# --- storing ---------------------------------------------------------------------------------


def _store(
    organization: Organization,
    actor: User | None,
    *,
    content: str,
    source: str,
    file_name: str,
    clearinghouse_config_id: int | None,
    vendor_report_id: str,
    received_at: datetime.datetime | None = None,
) -> tuple[EraFile, bool]:
    if source not in EraFile.Source.values:
        raise ValidationError({"source": f"Unknown ERA file source {source!r}."})
    sha256 = content_sha256(content)
    existing = EraFile.objects.for_organization(organization).filter(sha256=sha256).first()
    if existing is not None:
        return existing, False
    era_file = EraFile(
        organization=organization,
        content=content,
        sha256=sha256,
        file_name=file_name[:255],
        source=source,
        clearinghouse_config_id=clearinghouse_config_id,
        vendor_report_id=vendor_report_id[:120],
        received_at=received_at or timezone.now(),
        uploaded_by=actor if actor is not None and actor.is_authenticated else None,
    )
    try:
        with transaction.atomic():
            era_file.save()
    except IntegrityError:
        # Another worker stored the same content first (its insert held the unique index
        # until it committed): that row is the file.
        return EraFile.objects.for_organization(organization).get(sha256=sha256), False
    return era_file, True


# --- ingesting -------------------------------------------------------------------------------


def _process(organization: Organization, actor: User | None, era_file_id: int) -> IngestResult:
    era_file = (
        EraFile.objects.for_organization(organization).select_for_update().get(pk=era_file_id)
    )
    if era_file.status in (F.INGESTED, F.DUPLICATE):
        when = timezone.localtime(era_file.ingested_at or era_file.received_at)
        return IngestResult(
            era_file,
            ALREADY_INGESTED,
            f"Already ingested on {when:%m/%d/%Y %H:%M} (ERA file #{era_file.pk}): "
            "nothing was posted again.",
        )
    try:
        with transaction.atomic():
            result = _ingest(organization, actor, era_file)
    except X12Error as error:
        result = IngestResult(
            era_file, REFUSED, f"Refused: {_sentence(str(error))} Nothing was posted."
        )
    except ValidationError as error:  # a posting the ledger or a claim refused
        result = IngestResult(
            era_file,
            REFUSED,
            f"Refused: it could not be posted ({'; '.join(error.messages)}). Nothing was posted.",
        )
    era_file.status = (
        F.REFUSED
        if result.refused
        else F.DUPLICATE
        if result.skipped and not result.eras
        else F.INGESTED
    )
    era_file.message = result.message
    era_file.ingested_at = None if result.refused else timezone.now()
    era_file.save(update_fields=["status", "message", "ingested_at"])
    return result


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


class _Context:
    """What every ERA of a file is matched against, read once per file."""

    def __init__(self, organization: Organization):
        self.organization = organization
        payers = list(Payer.objects.for_organization(organization))
        self.payers_by_id = {p.payer_id.strip().upper(): p for p in payers}
        self.payers_by_name = {p.name.strip().casefold(): p for p in payers}
        self.payers_by_routing_id = {
            e.electronic_payer_id.strip().upper(): e.payer
            for e in PayerEnrollment.objects.for_organization(organization)
            .live()
            .select_related("payer")
        }
        self.npis = {organization.billing_npi} | set(
            Provider.objects.for_organization(organization).values_list("npi", flat=True)
        )
        self.npis.discard("")
        self.tax_id = _digits(organization.tax_id)

    def payer(self, remittance: x12.Remittance) -> Payer | None:
        key = remittance.payer_id.strip().upper()
        return (
            self.payers_by_id.get(key)
            or self.payers_by_name.get(remittance.payer_name.strip().casefold())
            or self.payers_by_routing_id.get(key)
        )

    def payee_is_ours(self, remittance: x12.Remittance) -> bool:
        payee = remittance.payee_id.strip()
        if remittance.payee_id_qualifier == "XX":
            return payee in self.npis
        if remittance.payee_id_qualifier == "FI":
            return bool(self.tax_id) and _digits(payee) == self.tax_id
        return payee in self.npis or (bool(self.tax_id) and _digits(payee) == self.tax_id)


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value or "")


def _ingest(organization: Organization, actor: User | None, era_file: EraFile) -> IngestResult:
    parsed = read_835(era_file.content.lstrip("\ufeff"))
    for remittance in parsed.transactions:  # read_835 refuses these; a second look is cheap
        if balance_difference(remittance):
            raise X12Error(f"ERA {remittance.trace_number} does not balance")
    result = IngestResult(era_file, INGESTED)
    own = {w for r in parsed.transactions for w in r.warnings}
    result.warnings += [w for w in parsed.warnings if w not in own]  # envelope warnings
    context = _Context(organization)
    seen: set[str] = set()
    for remittance in parsed.transactions:
        era_id = "|".join(remittance.era_id)[:200]
        if era_id in seen:
            result.skipped.append(
                f"ERA {remittance.trace_number} from {remittance.payer_name} appears twice in "
                "this file: the second one was skipped."
            )
            continue
        seen.add(era_id)
        _ingest_era(organization, actor, era_file, remittance, era_id, context, result)
    result.message = _summary(result)
    return result


def _ingest_era(
    organization: Organization,
    actor: User | None,
    era_file: EraFile,
    remittance: x12.Remittance,
    era_id: str,
    context: _Context,
    result: IngestResult,
) -> None:
    at = era_file.received_at
    warnings = list(remittance.warnings)
    payer = context.payer(remittance)
    if payer is None:
        warnings.append(
            f"The payer {remittance.payer_name} (id {remittance.payer_id}) is not one of this "
            "organization's payers."
        )
    ours = context.payee_is_ours(remittance)
    if not ours:
        kind = {"XX": "NPI", "FI": "tax id"}.get(remittance.payee_id_qualifier, "id")
        warnings.append(
            f"The payee {remittance.payee_name} ({kind} {remittance.payee_id}) matches neither "
            "this organization's billing NPI or tax id nor one of its providers: check that "
            "this payment is ours."
        )
    payment_date = remittance.payment_date
    if payment_date is None:
        payment_date = timezone.localdate(at)
        warnings.append(
            f"The ERA has no payment date: the day it was received ({payment_date}) is used."
        )
    era = Era(
        organization=organization,
        era_file=era_file,
        era_id=era_id,
        payer=payer,
        payer_identifier=remittance.payer_id[:80],
        payer_name=remittance.payer_name[:120],
        payee_name=remittance.payee_name[:120],
        payee_id_qualifier=remittance.payee_id_qualifier[:3],
        payee_identifier=remittance.payee_id[:80],
        handling_code=remittance.handling_code[:2],
        payment_method=remittance.payment_method[:3],
        payment_amount=era_posting.money(remittance.payment_amount),
        payment_date=payment_date,
        trace_number=remittance.trace_number[:80],
        provider_adjustments=[
            {
                "provider_id": p.provider_id,
                "fiscal_period_end": p.fiscal_period_end.isoformat(),
                "reason_code": p.reason_code,
                "reference": p.reference,
                "amount": str(era_posting.money(p.amount)),
            }
            for p in remittance.provider_adjustments
        ],
        needs_review=not ours,
        created_at=at,
    )
    try:
        with transaction.atomic():
            era.save()
    except IntegrityError:
        other = (
            Era.objects.for_organization(organization)
            .select_related("era_file")
            .filter(era_id=era_id)
            .first()
        )
        source = f" from {other.era_file}" if other is not None else ""
        result.skipped.append(
            f"ERA {remittance.trace_number} from {remittance.payer_name} was already ingested"
            f"{source}: skipped."
        )
        return

    payment = _payment(organization, era, remittance, warnings, at)
    posted_entries: list[dict] = []
    claims_audit: list[dict] = []
    numbers = {c.patient_control_number for c in remittance.claims}
    claims = {
        c.claim_number: c
        for c in Claim.objects.for_organization(organization)
        .filter(claim_number__in=numbers)
        .select_related("encounter", "coverage", "payer")
    }
    unmatched: list[str] = []
    for adjudication in remittance.claims:
        claim = claims.get(adjudication.patient_control_number)
        claim_payment = _claim_payment(organization, era, adjudication, claim)
        entry = {
            "claim_payment": claim_payment.pk,
            "patient_control_number": adjudication.patient_control_number,
            "status_code": adjudication.status_code,
            "paid": era_posting.money(adjudication.paid),
        }
        if claim is None:
            unmatched.append(adjudication.patient_control_number)
            claim_payment.posting_note = "No claim with this number here: kept for follow-up."
            claim_payment.save(update_fields=["posting_note"])
            result.claims_unmatched += 1
            claims_audit.append(entry | {"claim": None})
            continue
        posted = era_posting.claim_payment_post(
            organization=organization,
            actor=actor,
            claim_payment=claim_payment,
            adjudication=adjudication,
            era=era,
            posted_at=at,
        )
        claim_payment.posted_at = at
        claim_payment.posting_note = posted.note[:300]
        claim_payment.save(update_fields=["posted_at", "posting_note"])
        warnings += posted.warnings
        result.claims_matched += 1
        result.postings += len(posted.entries)
        ledger = [
            {"id": e.pk, "kind": e.kind, "amount": e.amount, "encounter": e.encounter_id}
            for e in posted.entries
        ]
        posted_entries += ledger
        claims_audit.append(
            entry | {"claim": claim.pk, "claim_status": posted.status, "ledger": ledger}
        )
    if unmatched:
        distinct = list(dict.fromkeys(unmatched))
        shown = ", ".join(distinct[:5]) + (
            f" and {len(distinct) - 5} more" if len(distinct) > 5 else ""
        )
        warnings.append(
            f"{len(unmatched)} claim{'s' if len(unmatched) != 1 else ''} not found in this "
            f"organization ({shown}): kept for follow-up."
        )
    enrollments = _touch_enrollments(organization, era, era_file, at)
    era.warnings = warnings
    era.save(update_fields=["warnings"])
    audit(
        organization=organization,
        actor=actor,
        action="era.ingest",
        instance=era,
        new_values={
            "era_id": era.era_id,
            "era_file": era_file.pk,
            "payer": era.payer_name,
            "amount": era.payment_amount,
            "payment": {"id": payment.pk, "paid_amount": payment.paid_amount} if payment else None,
            "claims": claims_audit,
            "ledger_entries": len(posted_entries),
            "enrollments_last_era": enrollments,
            "needs_review": era.needs_review,
        },
    )
    result.eras.append(era)
    result.warnings += warnings
    if payment is not None:
        result.payments += 1
        result.paid_total += payment.paid_amount


def _payment(
    organization: Organization,
    era: Era,
    remittance: x12.Remittance,
    warnings: list[str],
    at: datetime.datetime,
) -> InsurancePayment | None:
    """The ERA's one automatic payment; none for a notification or a debit."""
    amount = era.payment_amount
    if remittance.is_notification or amount <= 0:
        return None
    if remittance.credit_debit == "D":
        warnings.append(
            f"BPR03 is D (a debit of {amount} from the payee): no payment was recorded."
        )
        return None
    npi = remittance.payee_npi or None
    if npi is not None and not re.fullmatch(r"\d{10}", npi):
        warnings.append(f"The payee NPI {npi!r} is not 10 digits: the payment has no NPI.")
        npi = None
    return InsurancePayment.objects.create(
        organization=organization,
        paid_date=era.payment_date,
        paid_amount=amount,
        source=InsurancePayment.Source.AUTOMATIC,
        deposit_status=InsurancePayment.DepositStatus.PENDING,
        payer_name=era.payer_name,
        npi=npi,
        ach_check_number=era.trace_number or None,
        era=era,
        created_at=at,
        updated_at=at,
    )


def _claim_payment(
    organization: Organization, era: Era, adjudication: x12.ClaimPayment, claim: Claim | None
) -> ClaimPayment:
    patient = adjudication.patient
    name = ", ".join(p for p in (patient.last_name, patient.first_name) if p)
    claim_payment = ClaimPayment.objects.create(
        organization=organization,
        era=era,
        claim=claim,
        patient_control_number=adjudication.patient_control_number[:38],
        status_code=adjudication.status_code[:2],
        charge_amount=era_posting.money(adjudication.charge),
        paid_amount=era_posting.money(adjudication.paid),
        patient_responsibility=(
            era_posting.money(adjudication.patient_responsibility)
            if adjudication.patient_responsibility is not None
            else None
        ),
        payer_claim_control_number=adjudication.payer_claim_control_number[:50],
        patient_name=name[:120],
    )
    lines = ServiceLinePayment.objects.bulk_create(
        [
            ServiceLinePayment(
                organization=organization,
                claim_payment=claim_payment,
                procedure_code=service.procedure_code[:48],
                modifiers=list(service.modifiers),
                charge_amount=era_posting.money(service.charge),
                paid_amount=era_posting.money(service.paid),
                units=service.units,
                service_date=service.service_date,
                allowed_amount=(
                    era_posting.money(service.allowed_amount)
                    if service.allowed_amount is not None
                    else None
                ),
                remark_codes=list(service.remark_codes),
            )
            for service in adjudication.services
        ]
    )
    PaymentAdjustment.objects.bulk_create(
        [_adjustment(organization, claim_payment, None, a) for a in adjudication.adjustments]
        + [
            _adjustment(organization, claim_payment, line, a)
            for line, service in zip(lines, adjudication.services, strict=True)
            for a in service.adjustments
        ]
    )
    return claim_payment


def _adjustment(organization, claim_payment, line, adjustment: x12.Adjustment) -> PaymentAdjustment:
    return PaymentAdjustment(
        organization=organization,
        claim_payment=claim_payment,
        service_line=line,
        group_code=adjustment.group[:2],
        reason_code=adjustment.reason[:5],
        amount=era_posting.money(adjustment.amount),
        quantity=adjustment.quantity,
    )


def _touch_enrollments(
    organization: Organization, era: Era, era_file: EraFile, at: datetime.datetime
) -> list[int]:
    """The payer's active 835 enrollments (with the clearinghouse the file came from, when
    it came from one) received an ERA: their last-ERA date moves forward."""
    if era.payer_id is None:
        return []
    enrollments = (
        PayerEnrollment.objects.for_organization(organization)
        .active_for(TransactionType.ERA_835)
        .filter(payer_id=era.payer_id)
    )
    if era_file.clearinghouse_config_id is not None:
        enrollments = enrollments.filter(clearinghouse_id=era_file.clearinghouse_config_id)
    enrollments = enrollments.filter(
        Q(last_era_received_at__isnull=True) | Q(last_era_received_at__lt=at)
    )
    ids = list(enrollments.values_list("pk", flat=True))
    if ids:
        PayerEnrollment.objects.filter(pk__in=ids).update(last_era_received_at=at)
    return ids


def _summary(result: IngestResult) -> str:
    def count(n: int, noun: str) -> str:
        return f"{n} {noun}{'' if n == 1 else 's'}"

    if result.skipped and not result.eras:
        return "Every ERA in it was already ingested: nothing was posted. " + " ".join(
            result.skipped
        )
    parts = [count(len(result.eras), "ERA")]
    if result.payments:
        parts.append(f"{count(result.payments, 'payment')} (${result.paid_total:,.2f})")
    else:
        parts.append("no payment")
    claims = result.claims_matched + result.claims_unmatched
    matched, unmatched = result.claims_matched, result.claims_unmatched
    text = f"{count(claims, 'claim')} ({matched} matched, {unmatched} unmatched)"
    parts.append(text)
    parts.append(count(result.postings, "ledger posting"))
    message = ", ".join(parts)
    review = sum(1 for era in result.eras if era.needs_review)
    if result.warnings or review:
        notes = [count(len(result.warnings), "warning")] if result.warnings else []
        if review:
            notes.append(f"{review} ERA{'' if review == 1 else 's'} to review")
        message += "; " + ", ".join(notes)
    message += "."
    if result.skipped:
        message += " " + " ".join(result.skipped)
    return message
