"""Demo insurance payments, called by `manage.py seed_demo` per organization (inside its
`tenant_context`), after the billing history and the clearinghouses are there.

Automatic payments: the claims the demo left submitted or accepted are paid the way the
sandbox clearinghouse pays (85% allowed, CO-45 for the rest, 10% coinsurance and a copay
as patient responsibility, some denials and partly denied claims), one ERA per payer and
week, written with `edi.x835.write_835` and ingested through `payments.ingestion` as
files fetched from the sandbox clearinghouse or uploaded by the poster, so the claims,
their ledgers and statuses follow. The most recent claims and a few old ones stay unpaid
(accounts receivable). A few ERAs show what the pages handle: a reversal with its
correction, a zero-pay notification, a claim that is not ours, a payee that needs review,
a file delivered twice and an upload refused because it does not balance.

Manual payments: paper checks entered by hand over the past year (`payment_create_manual`).

Everything comes from a fixed seed and dates relative to today; an organization that
already has ERA files is left as it is.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from billing.models import AuditLog, Claim, ClaimStatusChange, Organization, Payer, Provider, User
from clearinghouse.models import ClearinghouseConfig, Vendor
from edi import models as x12
from edi.x835 import write_835
from payments import services
from payments.ingestion import era_file_ingest
from payments.models import EraFile, InsurancePayment

CENT = Decimal("0.01")
ALLOWED_SHARE = Decimal("0.85")
COINSURANCE = Decimal("0.10")
COPAY = Decimal("10.00")
YEAR = 365
S = Claim.Status
DENIALS = (  # (reason, remark) of a denied claim
    ("50", "N115"),
    ("197", "N54"),
    ("16", "M51"),
    ("29", ""),
    ("27", "N30"),
)
LINE_DENIALS = (("97", "M15"), ("151", "N362"), ("234", "M80"))


def money(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def seed_organization(organization: Organization, actor: User) -> str:
    if EraFile.objects.for_organization(organization).exists():
        return ""
    seeder = _Seeder(organization, actor)
    automatic = seeder.eras()
    manual = seeder.manual_payments()
    seeder.deposits()
    return (
        f"{seeder.files} ERA files ({seeder.refused} refused, {seeder.duplicates} delivered "
        f"twice), {automatic} automatic and {manual} manual insurance payments, "
        f"{seeder.claims_paid} claims posted from ERAs"
    )


class _Seeder:
    def __init__(self, organization: Organization, actor: User):
        self.org = organization
        self.actor = actor
        self.rng = random.Random(f"payments-{organization.slug}")
        self.zone = ZoneInfo(organization.time_zone)
        self.today = timezone.localdate(timezone=self.zone)
        self.sandbox = (
            ClearinghouseConfig.objects.for_organization(organization)
            .filter(vendor=Vendor.SANDBOX)
            .first()
        )
        self.files = self.refused = self.duplicates = self.claims_paid = 0
        self.report_number = 0
        self.control_number = 0

    # --- automatic payments --------------------------------------------------------------

    def eras(self) -> int:
        rng = self.rng
        claims = list(
            Claim.objects.for_organization(self.org)
            .filter(status__in=[S.SUBMITTED, S.ACCEPTED])
            .select_related("encounter__patient", "coverage", "payer")
            .prefetch_related("charges")
            .order_by("pk")
        )
        groups: dict[tuple[int, dt.date], list[tuple[Claim, dt.date]]] = defaultdict(list)
        for claim in claims:
            sent = timezone.localtime(
                claim.accepted_at or claim.submitted_at or claim.created_at, self.zone
            )
            paid_on = sent.date() + dt.timedelta(days=rng.randint(9, 21))
            age = (self.today - paid_on).days
            # not paid yet: too recent, older than a year, or stuck (aging receivables)
            if age < 2 or age > YEAR or (age > 60 and rng.random() < 0.3):
                continue
            week = paid_on - dt.timedelta(days=paid_on.weekday())
            groups[(claim.payer_id, week)].append((claim, paid_on))
        payers = {p.pk: p for p in Payer.objects.for_organization(self.org)}
        keys = sorted(groups, key=lambda k: (k[1], payers[k[0]].name))
        paid_count = 0
        reversal_done = review_done = stranger_done = False
        first_paid: tuple[Claim, x12.ClaimPayment, int] | None = None
        for index, key in enumerate(keys):
            payer = payers[key[0]]
            members = groups[key]
            day = min(max(paid_on for _, paid_on in members), self.today - dt.timedelta(days=1))
            adjudications = [self.adjudication(claim) for claim, _ in members]
            if first_paid is None:
                for (claim, _), adjudication in zip(members, adjudications, strict=True):
                    if adjudication.status_code == "1" and len(adjudication.services) == 1:
                        first_paid = (claim, adjudication, index)
                        break
            if (
                not reversal_done
                and first_paid is not None
                and first_paid[0].payer_id == payer.pk
                and index > first_paid[2]
            ):
                adjudications += self.reversal_and_correction(*first_paid[:2])
                reversal_done = True
            if not stranger_done and index >= len(keys) // 3:
                adjudications.append(self.stranger())
                stranger_done = True
            payee_npi = None
            if not review_done and index >= len(keys) // 2:
                payee_npi = "1093817460"  # another practice's NPI: listed for review
                review_done = True
            remittance = self.remittance(payer, adjudications, day, payee_npi=payee_npi)
            source = EraFile.Source.CLEARINGHOUSE if index % 5 else EraFile.Source.UPLOAD
            result = self.ingest(remittance, day, source=source, payer=payer)
            paid_count += result.payments
            self.claims_paid += result.claims_matched
            if index == 2:  # the clearinghouse delivered one file twice (a new envelope)
                self.ingest(
                    remittance,
                    day + dt.timedelta(days=1),
                    source=EraFile.Source.CLEARINGHOUSE,
                    payer=payer,
                )
                self.duplicates += 1
            if index == len(keys) - 3:  # a hand-keyed amount that does not balance
                broken = self.remittance(payer, adjudications[:1], day)
                self.ingest(broken, day, source=EraFile.Source.UPLOAD, payer=payer, typo=True)
                self.refused += 1
        return paid_count

    def adjudication(self, claim: Claim) -> x12.ClaimPayment:
        rng = self.rng
        charges = sorted(
            (c for c in claim.charges.all() if c.status == "billed"), key=lambda c: c.pk
        )
        roll = rng.random()
        patient = claim.encounter.patient
        payment = x12.ClaimPayment(
            patient_control_number=claim.claim_number,
            status_code="1",
            charge=claim.total,
            paid=Decimal("0.00"),
            patient_responsibility=Decimal("0.00"),
            filing_indicator=_filing(claim.payer.claim_filing_indicator),
            payer_claim_control_number=claim.payer_claim_control_number
            or f"{rng.randint(10**11, 10**12 - 1)}",
            patient=x12.Person(
                last_name=patient.last_name.upper(),
                first_name=patient.first_name.upper(),
                id_qualifier="MI",
                identifier=claim.coverage.member_id,
            ),
            facility_type=claim.encounter.place_of_service,
            frequency_code="1",
        )
        service_date = claim.encounter.date_of_service
        if roll < 0.09 or not charges:
            reason, remark = rng.choice(DENIALS)
            payment.status_code = "4"
            payment.patient_responsibility = None
            for charge in charges:
                payment.services.append(
                    x12.ServicePayment(
                        procedure_code=charge.procedure_code,
                        modifiers=tuple(charge.modifiers),
                        charge=charge.amount,
                        paid=Decimal("0.00"),
                        units=charge.units,
                        service_date=service_date,
                        adjustments=[
                            x12.Adjustment(group="CO", reason=reason, amount=charge.amount)
                        ],
                        remark_codes=(remark,) if remark else (),
                    )
                )
            return payment
        deny_line = roll < 0.18 and len(charges) > 1
        deductible = rng.random() < 0.08
        for number, charge in enumerate(charges):
            if deny_line and number == len(charges) - 1:
                reason, remark = rng.choice(LINE_DENIALS)
                payment.services.append(
                    x12.ServicePayment(
                        procedure_code=charge.procedure_code,
                        modifiers=tuple(charge.modifiers),
                        charge=charge.amount,
                        paid=Decimal("0.00"),
                        units=charge.units,
                        service_date=service_date,
                        adjustments=[
                            x12.Adjustment(group="CO", reason=reason, amount=charge.amount)
                        ],
                        remark_codes=(remark,),
                    )
                )
                continue
            allowed = money(charge.amount * ALLOWED_SHARE)
            coinsurance = money(allowed * COINSURANCE)
            copay = min(COPAY if number == 0 else Decimal(0), allowed - coinsurance)
            ded = (
                min(money(allowed * Decimal("0.5")), allowed - coinsurance - copay)
                if deductible and number == 0
                else Decimal(0)
            )
            paid = allowed - coinsurance - copay - ded
            adjustments = [
                x12.Adjustment(group=group, reason=reason, amount=amount)
                for group, reason, amount in (
                    ("CO", "45", charge.amount - allowed),
                    ("PR", "1", ded),
                    ("PR", "2", coinsurance),
                    ("PR", "3", copay),
                )
                if amount
            ]
            payment.services.append(
                x12.ServicePayment(
                    procedure_code=charge.procedure_code,
                    modifiers=tuple(charge.modifiers),
                    charge=charge.amount,
                    paid=paid,
                    units=charge.units,
                    service_date=service_date,
                    adjustments=adjustments,
                    allowed_amount=allowed,
                )
            )
            payment.paid += paid
            payment.patient_responsibility = (
                (payment.patient_responsibility or Decimal(0)) + coinsurance + copay + ded
            )
        return payment

    def reversal_and_correction(
        self, claim: Claim, original: x12.ClaimPayment
    ) -> list[x12.ClaimPayment]:
        """The payer takes an earlier payment back (CLP02 22, amounts negated) and pays the
        claim again at a corrected rate."""
        reversal = x12.ClaimPayment(
            patient_control_number=original.patient_control_number,
            status_code="22",
            charge=-original.charge,
            paid=-original.paid,
            patient_responsibility=-(original.patient_responsibility or Decimal(0)),
            filing_indicator=original.filing_indicator,
            payer_claim_control_number=original.payer_claim_control_number,
            patient=original.patient,
            services=[
                x12.ServicePayment(
                    procedure_code=s.procedure_code,
                    modifiers=s.modifiers,
                    charge=-s.charge,
                    paid=-s.paid,
                    units=s.units,
                    service_date=s.service_date,
                    adjustments=[
                        x12.Adjustment(group=a.group, reason=a.reason, amount=-a.amount)
                        for a in s.adjustments
                    ],
                )
                for s in original.services
            ],
        )
        service = original.services[0]
        allowed = money(service.charge * Decimal("0.90"))
        owed = sum((a.amount for a in service.adjustments if a.group == "PR"), Decimal(0))
        owed = min(owed, allowed)
        correction = x12.ClaimPayment(
            patient_control_number=original.patient_control_number,
            status_code="1",
            charge=original.charge,
            paid=allowed - owed,
            patient_responsibility=owed,
            filing_indicator=original.filing_indicator,
            payer_claim_control_number=original.payer_claim_control_number + "R",
            patient=original.patient,
            services=[
                x12.ServicePayment(
                    procedure_code=service.procedure_code,
                    modifiers=service.modifiers,
                    charge=service.charge,
                    paid=allowed - owed,
                    units=service.units,
                    service_date=service.service_date,
                    adjustments=[
                        x12.Adjustment(group="CO", reason="45", amount=service.charge - allowed),
                        *(a for a in service.adjustments if a.group == "PR"),
                    ],
                    allowed_amount=allowed,
                    remark_codes=("N381",),
                )
            ],
        )
        return [reversal, correction]

    def stranger(self) -> x12.ClaimPayment:
        """A claim of another practice the payer sent us by mistake: kept unmatched."""
        return x12.ClaimPayment(
            patient_control_number=f"XTR-{self.rng.randint(100000, 999999)}",
            status_code="1",
            charge=Decimal("120.00"),
            paid=Decimal("81.60"),
            patient_responsibility=Decimal("20.40"),
            filing_indicator="12",
            payer_claim_control_number=f"{self.rng.randint(10**11, 10**12 - 1)}",
            patient=x12.Person(
                last_name="OKAFOR", first_name="GRACE", id_qualifier="MI", identifier="Z99120044"
            ),
            services=[
                x12.ServicePayment(
                    procedure_code="99213",
                    charge=Decimal("120.00"),
                    paid=Decimal("81.60"),
                    units=Decimal(1),
                    adjustments=[
                        x12.Adjustment(group="CO", reason="45", amount=Decimal("18.00")),
                        x12.Adjustment(group="PR", reason="2", amount=Decimal("20.40")),
                    ],
                )
            ],
        )

    def remittance(
        self, payer: Payer, adjudications: list[x12.ClaimPayment], day: dt.date, *, payee_npi=None
    ) -> x12.Remittance:
        total = sum((a.paid for a in adjudications), Decimal(0))
        paying = total > 0
        digest = int(hashlib.sha256(payer.payer_id.encode()).hexdigest(), 16)
        tin = "1" + str(digest)[-9:]
        self.report_number += 1
        return x12.Remittance(
            handling_code="I" if paying else "H",
            payment_amount=total if paying else Decimal("0.00"),
            payment_method="ACH" if paying else "NON",
            payment_format="CCP" if paying else "",
            bank=x12.BankTransfer(
                sender_routing="091000019",
                sender_account=str(digest)[-10:],
                originating_company_id=tin,
                receiver_routing="031000053",
                receiver_account="7770002222",
            )
            if paying
            else None,
            payment_date=day,
            production_date=day - dt.timedelta(days=1),
            trace_number=f"{tin[-4:]}{day:%y%m%d}{self.report_number:04d}",
            payer_id=tin,
            payer_name=payer.name.upper(),
            payer_address=x12.Address(
                line1=payer.address_line1 or "PO BOX 1000",
                city=payer.city or "NASHVILLE",
                state=payer.state or "TN",
                postal_code=payer.zip_code or "37201",
            ),
            payer_contact=x12.Contact(name="EDI SUPPORT", phone="8005550199"),
            payee_name=self.org.name.upper(),
            payee_id_qualifier="XX",
            payee_id=payee_npi or self.org.billing_npi,
            payee_address=x12.Address(
                line1=self.org.address_line1 or "1 MAIN ST",
                city=self.org.city or "SPRINGFIELD",
                state=self.org.state or "IL",
                postal_code=self.org.zip_code or "62701",
            ),
            claims=adjudications,
        )

    def ingest(
        self, remittance: x12.Remittance, day: dt.date, *, source: str, payer: Payer, typo=False
    ):
        self.control_number += 1
        envelope = x12.Envelope(
            sender_id=remittance.payer_id[:15],
            receiver_id=(self.org.slug[:6].upper() + "01"),
            control_number=self.control_number,
            group_control_number=self.control_number,
            created=dt.datetime.combine(day, dt.time(5, 30)),
        )
        text = write_835(envelope, [remittance])
        if typo:  # BPR02 keyed in ten dollars high: the file no longer balances
            bpr = f"BPR*{remittance.handling_code}*{_amount(remittance.payment_amount)}*"
            wrong = f"BPR*{remittance.handling_code}*{_amount(remittance.payment_amount + 10)}*"
            text = text.replace(bpr, wrong, 1)
        at = dt.time(self.rng.randint(5, 17), self.rng.randint(0, 59))
        received = dt.datetime.combine(day + dt.timedelta(days=1), at, tzinfo=self.zone)
        received = min(received, timezone.now())
        clearinghouse = source == EraFile.Source.CLEARINGHOUSE and self.sandbox is not None
        if clearinghouse:
            name = f"835-{self.control_number:06d}"
        else:
            source = EraFile.Source.UPLOAD
            suffix = "-rekeyed" if typo else ""
            name = f"{payer.name.split()[0].lower()}-era-{day:%Y-%m-%d}{suffix}.835"
        last_audit = AuditLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        last_change = (
            ClaimStatusChange.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        )
        result = era_file_ingest(
            organization=self.org,
            actor=None if clearinghouse else self.actor,
            content=text,
            source=source,
            file_name=name,
            clearinghouse_config_id=self.sandbox.pk if clearinghouse and self.sandbox else None,
            vendor_report_id=name if clearinghouse else "",
            received_at=received,
        )
        # What the ingestion stamped "now" happened when the file arrived.
        AuditLog.objects.filter(organization=self.org, pk__gt=last_audit).update(
            created_at=received
        )
        ClaimStatusChange.objects.filter(organization=self.org, pk__gt=last_change).update(
            changed_at=received
        )
        EraFile.objects.filter(pk=result.era_file.pk).update(
            ingested_at=received + dt.timedelta(minutes=2)
        )
        self.files += 1
        return result

    # --- manual payments ----------------------------------------------------------------

    def manual_payments(self) -> int:
        """Paper checks entered by hand: a few a month over the past year."""
        rng = self.rng
        payers = list(Payer.objects.for_organization(self.org).order_by("name"))
        npis = [
            self.org.billing_npi,
            *Provider.objects.for_organization(self.org).values_list("npi", flat=True),
        ]
        count = 0
        day = self.today - dt.timedelta(days=YEAR)
        while day < self.today:
            day += dt.timedelta(days=rng.randint(4, 12))
            if day >= self.today:
                break
            payer = rng.choice(payers)
            amount = money(Decimal(rng.randint(2500, 95000)) / 100)
            check = f"{rng.randint(100000, 9999999)}" if rng.random() < 0.9 else None
            payment = services.payment_create_manual(
                organization=self.org,
                actor=self.actor,
                paid_date=day,
                npi=rng.choice(npis),
                paid_amount=amount,
                deposit_status=InsurancePayment.DepositStatus.PENDING,
                payer_name=payer.name,
                ach_check_number=check,
            )
            entered = dt.datetime.combine(
                day + dt.timedelta(days=rng.randint(0, 3)),
                dt.time(rng.randint(9, 16), rng.randint(0, 59)),
                tzinfo=self.zone,
            )
            entered = min(entered, timezone.now())
            InsurancePayment.objects.filter(pk=payment.pk).update(
                created_at=entered, updated_at=entered
            )
            AuditLog.objects.filter(
                organization=self.org, action="insurance_payment.create", record_id=str(payment.pk)
            ).update(created_at=entered)
            count += 1
        return count

    def deposits(self) -> None:
        """Payments more than a week old reached the bank; the rest wait for reconciliation."""
        cutoff = self.today - dt.timedelta(days=7)
        ids = list(
            InsurancePayment.objects.for_organization(self.org)
            .live()
            .filter(paid_date__lt=cutoff, deposit_status=InsurancePayment.DepositStatus.PENDING)
            .exclude(pk__in=self._left_pending(cutoff))
            .values_list("pk", flat=True)
        )
        if ids:
            services.payments_mark_deposited(
                organization=self.org, actor=self.actor, payment_ids=ids
            )

    def _left_pending(self, cutoff: dt.date) -> list[int]:
        """A few older payments never showed up on a bank statement: reconciliation work."""
        older = list(
            InsurancePayment.objects.for_organization(self.org)
            .filter(paid_date__lt=cutoff, paid_date__gte=cutoff - dt.timedelta(days=45))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        return older[::6]


def _amount(value: Decimal) -> str:
    """An amount as the edi writer spells it (no trailing zeros)."""
    text = format(Decimal(value).normalize(), "f")
    return text


def _filing(code: str) -> str:
    return {"CI": "12", "BL": "12", "HM": "HM", "MB": "MB", "MC": "MC", "CH": "CH"}.get(code, "ZZ")
