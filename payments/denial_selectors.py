"""Reads for the denials worklist: what ERAs left open with the payer, line by line.

An adjustment (CAS) is an open denial when ERA posting left its amount on the balance for
follow-up and nobody has worked it yet (`resolution` empty):

- every adjustment but PR of a denied adjudication (CLP02 4, or nothing paid and nothing
  owed by the patient) or of a denied service line (paid nothing, patient owes nothing):
  posting writes none of them off;
- OA and CR adjustments of any line (posting keeps them on the ERA only), except OA-23
  (the impact of a prior payer's adjudication: the primary's part of a secondary's claim,
  already on the ledger).

Only the adjudication that stands for its claim counts: matched to a claim, posted, not a
reversal, not reversed, and no later standing adjudication of the same claim (a corrected
claim paid again takes the earlier denial off the list). Voided claims are left out.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from billing.models import ZERO, Claim, Organization
from payments import era_codes
from payments.era_posting import DENIED, REVERSAL
from payments.models import ClaimPayment, PaymentAdjustment, ServiceLinePayment

MAX_ROWS = 500


def open_denial_adjustments(organization: Organization) -> QuerySet[PaymentAdjustment]:
    """The open denial adjustments of the organization (see the module docstring)."""
    patient_owes_claim = PaymentAdjustment.objects.filter(
        claim_payment=OuterRef("claim_payment"), group_code="PR"
    ).exclude(amount=0)
    patient_owes_line = PaymentAdjustment.objects.filter(
        service_line=OuterRef("service_line"), group_code="PR"
    ).exclude(amount=0)
    later = ClaimPayment.objects.filter(
        claim=OuterRef("claim_payment__claim"),
        pk__gt=OuterRef("claim_payment"),
        reversed_by__isnull=True,
    ).exclude(status_code=REVERSAL)
    claim_denied = Q(claim_payment__status_code=DENIED) | (
        Q(claim_payment__paid_amount=0)
        & ~Exists(patient_owes_claim)
        & (
            Q(claim_payment__patient_responsibility__isnull=True)
            | Q(claim_payment__patient_responsibility=0)
        )
    )
    line_denied = Q(service_line__isnull=False, service_line__paid_amount=0) & ~Exists(
        patient_owes_line
    )
    return (
        PaymentAdjustment.objects.for_organization(organization)
        .filter(
            resolution__isnull=True,
            amount__gt=0,
            claim_payment__claim__isnull=False,
            claim_payment__posted_at__isnull=False,
            claim_payment__reversed_by__isnull=True,
        )
        .exclude(claim_payment__status_code=REVERSAL)
        .exclude(claim_payment__claim__status=Claim.Status.VOIDED)
        .exclude(group_code="PR")
        .exclude(group_code="OA", reason_code="23")
        .exclude(Exists(later))
        .filter(claim_denied | line_denied | Q(group_code__in=["OA", "CR"]))
    )


@dataclass
class Code:
    code: str  # "CO-50", or a RARC "N130"
    description: str
    amount: Decimal = ZERO


@dataclass
class DenialRow:
    """One claim line (or a claim adjudicated without lines) with what is open on it."""

    claim: Claim
    claim_payment: ClaimPayment
    line: ServiceLinePayment | None
    adjudicated: datetime.date
    age: int
    payer: str
    codes: list[Code] = field(default_factory=list)
    remarks: list[Code] = field(default_factory=list)
    at_stake: Decimal = ZERO

    @property
    def procedure(self) -> str:
        if self.line is None:
            return ""
        return " ".join([self.line.procedure_code, *self.line.modifiers])


@dataclass
class DenialGroup:
    code: str
    description: str
    rows: list[tuple[DenialRow, Decimal]] = field(default_factory=list)  # row, this code's part
    amount: Decimal = ZERO


@dataclass
class Worklist:
    groups: list[DenialGroup]
    rows: int
    total: Decimal
    truncated: bool


def denial_rows(
    organization: Organization,
    *,
    code: str = "",
    rarc: str = "",
    payer: str = "",
    min_age: int | None = None,
    search: str = "",
    today: datetime.date | None = None,
) -> tuple[list[DenialRow], bool]:
    """The worklist's rows, newest adjudication first, filtered, and whether the list was
    cut at MAX_ROWS."""
    today = today or timezone.localdate()
    adjustments = open_denial_adjustments(organization).select_related(
        "claim_payment__era",
        "claim_payment__claim__payer",
        "claim_payment__claim__encounter__patient",
        "service_line",
    )
    if code:
        # the rows that have this code open, with every open code of theirs
        group, _, reason = code.upper().rpartition("-")
        wanted = open_denial_adjustments(organization).filter(reason_code=reason)
        if group:
            wanted = wanted.filter(group_code=group)
        same_line = wanted.filter(
            claim_payment=OuterRef("claim_payment"), service_line=OuterRef("service_line")
        )
        same_claim = wanted.filter(
            claim_payment=OuterRef("claim_payment"), service_line__isnull=True
        )
        adjustments = adjustments.filter(
            Exists(same_line) | (Q(service_line__isnull=True) & Exists(same_claim))
        )
    if payer:
        adjustments = adjustments.filter(claim_payment__claim__payer__name=payer)
    if min_age is not None:
        adjustments = adjustments.filter(
            claim_payment__era__payment_date__lte=today - datetime.timedelta(days=min_age)
        )
    if search:
        adjustments = adjustments.filter(
            Q(claim_payment__claim__claim_number__icontains=search)
            | Q(claim_payment__claim__encounter__patient__last_name__icontains=search)
            | Q(claim_payment__claim__encounter__patient__account_number__iexact=search)
        )
    rows: dict[tuple[int, int | None], DenialRow] = {}
    truncated = False
    for adjustment in adjustments.order_by(
        "-claim_payment__era__payment_date", "claim_payment_id", "service_line_id", "id"
    ):
        key = (adjustment.claim_payment_id, adjustment.service_line_id)
        row = rows.get(key)
        if row is None:
            if len(rows) >= MAX_ROWS:
                truncated = True
                break
            cp = adjustment.claim_payment
            adjudicated = cp.era.payment_date or timezone.localdate(cp.era.created_at)
            line = adjustment.service_line
            remarks = list(line.remark_codes) if line is not None else []
            remarks += [c for c in cp.remark_codes if c not in remarks]
            row = rows[key] = DenialRow(
                claim=cp.claim,
                claim_payment=cp,
                line=line,
                adjudicated=adjudicated,
                age=(today - adjudicated).days,
                payer=cp.claim.payer.name,
                remarks=[Code(r, era_codes.rarc(r)) for r in remarks],
            )
        name = f"{adjustment.group_code}-{adjustment.reason_code}"
        found = next((c for c in row.codes if c.code == name), None)
        if found is None:
            found = Code(name, era_codes.carc(adjustment.reason_code))
            row.codes.append(found)
        found.amount += adjustment.amount
        row.at_stake += adjustment.amount
    result = list(rows.values())
    if rarc:
        result = [r for r in result if any(m.code == rarc.upper() for m in r.remarks)]
    return result, truncated


def denial_worklist(organization: Organization, *, group_by: str = "carc", **filters) -> Worklist:
    """The rows grouped by CARC (group and reason, as CO-50) or by RARC, the groups with
    the most at stake first. A row with two codes shows under both, with each code's part."""
    rows, truncated = denial_rows(organization, **filters)
    groups: dict[str, DenialGroup] = {}
    by_code: dict[str, list[tuple[DenialRow, Decimal]]] = defaultdict(list)
    for row in rows:
        if group_by == "rarc":
            for remark in row.remarks or [Code("", "No remark code")]:
                groups.setdefault(remark.code, DenialGroup(remark.code, remark.description))
                by_code[remark.code].append((row, row.at_stake))
        else:
            for code in row.codes:
                groups.setdefault(code.code, DenialGroup(code.code, code.description))
                by_code[code.code].append((row, code.amount))
    for key, group in groups.items():
        group.rows = by_code[key]
        group.amount = sum((amount for _, amount in group.rows), ZERO)
    ordered = sorted(groups.values(), key=lambda g: (-g.amount, g.code))
    return Worklist(
        groups=ordered,
        rows=len(rows),
        total=sum((r.at_stake for r in rows), ZERO),
        truncated=truncated,
    )


def denial_payers(organization: Organization) -> list[str]:
    """The payers of the claims with open denials, for the filter."""
    return sorted(
        set(
            open_denial_adjustments(organization)
            .values_list("claim_payment__claim__payer__name", flat=True)
            .distinct()
        )
    )
