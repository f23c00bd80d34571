"""Insurance payments (seed 003) and the ERA 835 files they come from.

Vocabulary (DESIGN.md): an *ERA file* is what arrives, kept raw and identified by its hash;
an *ERA* is one ST/SE transaction in it, one remittance from one payer to one payee,
identified by `era_id` = (payer id, TRN02 trace number, payee id). A paying ERA creates
exactly one automatic `InsurancePayment`; a zero-pay notification (BPR01 H, method NON)
creates the ERA and its claim adjudications but no payment.
"""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone

from billing.models import MONEY, Claim, Payer, TenantModel, TenantQuerySet, User
from payments.expressions import CodePointText

NPI_DIGITS = RegexValidator(r"^\d{10}$", "NPI must be exactly 10 digits")


class EraFile(TenantModel):
    """One 835 file as it arrived (upload, command or a clearinghouse), kept verbatim."""

    class Source(models.TextChoices):
        UPLOAD = "upload", "Upload"
        COMMAND = "command", "Command line"
        CLEARINGHOUSE = "clearinghouse", "Clearinghouse"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"  # stored, waiting for a worker
        INGESTED = "ingested", "Ingested"
        DUPLICATE = "duplicate", "Already ingested"
        REFUSED = "refused", "Refused"  # unreadable or unbalanced: nothing written

    content = models.TextField()
    sha256 = models.CharField(max_length=64)
    file_name = models.CharField(max_length=255, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    message = models.TextField(blank=True, help_text="Why it was refused, or a summary.")
    # The clearinghouse it came from (source clearinghouse): an id, so payments does not
    # depend on the clearinghouse app's models.
    clearinghouse_config_id = models.BigIntegerField(null=True, blank=True)
    vendor_report_id = models.CharField(max_length=120, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    ingested_at = models.DateTimeField(null=True, blank=True)
    uploaded_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "sha256"], name="era_file_unique_content"
            ),
        ]

    def __str__(self) -> str:
        return self.file_name or f"ERA file {self.sha256[:12]}"


class Era(TenantModel):
    """One remittance (one ST/SE of an 835)."""

    era_file = models.ForeignKey(EraFile, on_delete=models.PROTECT, related_name="eras")
    # (payer id, TRN02, payee id), joined with "|": unique per organization.
    era_id = models.CharField(max_length=200)
    payer = models.ForeignKey(
        Payer, null=True, blank=True, on_delete=models.PROTECT, related_name="eras"
    )
    payer_identifier = models.CharField(max_length=80)  # TRN03 / N1*PR REF
    payer_name = models.CharField(max_length=120)
    payee_name = models.CharField(max_length=120)
    payee_id_qualifier = models.CharField(max_length=3, blank=True)  # XX NPI, FI tax id
    payee_identifier = models.CharField(max_length=80)
    handling_code = models.CharField(max_length=2)  # BPR01: I payment + remittance, H notice
    payment_method = models.CharField(max_length=3)  # BPR04: ACH, CHK, NON, BOP, FWT
    payment_amount = models.DecimalField(**MONEY)  # BPR02
    payment_date = models.DateField(null=True, blank=True)  # BPR16
    trace_number = models.CharField(max_length=80)  # TRN02: check or EFT trace number
    warnings = models.JSONField(default=list, blank=True)
    # PLB provider-level adjustments as sent: [{"provider_id", "fiscal_period_end",
    # "reason_code", "reference", "amount"}]; a positive amount reduced the payment.
    provider_adjustments = models.JSONField(default=list, blank=True)
    # The payee matched neither the organization nor one of its providers: listed for review.
    needs_review = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-payment_date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "era_id"], name="era_unique_era_id"),
        ]

    def __str__(self) -> str:
        return f"ERA {self.trace_number} from {self.payer_name}"


class InsurancePaymentQuerySet(TenantQuerySet):
    def live(self) -> InsurancePaymentQuerySet:
        """Not soft-deleted."""
        return self.filter(deleted_at__isnull=True)


class InsurancePayment(TenantModel):
    """Seed 003's InsurancePayment: automatic (from an ERA; read-only but for its deposit
    status) or manual (entered by hand; full CRUD, deleted softly)."""

    class Source(models.TextChoices):
        AUTOMATIC = "automatic", "Automatic"
        MANUAL = "manual", "Manual"

    class DepositStatus(models.TextChoices):
        PENDING = "PENDING", "Pending"
        DEPOSITED = "DEPOSITED", "Deposited"

    paid_date = models.DateField()
    paid_amount = models.DecimalField(**MONEY)
    deposit_status = models.CharField(
        max_length=10, choices=DepositStatus.choices, default=DepositStatus.PENDING
    )
    source = models.CharField(max_length=10, choices=Source.choices)
    payer_name = models.CharField(max_length=120)
    npi = models.CharField(max_length=10, null=True, blank=True, validators=[NPI_DIGITS])
    ach_check_number = models.CharField(max_length=80, null=True, blank=True)
    era = models.OneToOneField(
        Era, null=True, blank=True, on_delete=models.PROTECT, related_name="payment"
    )
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = InsurancePaymentQuerySet.as_manager()

    class Meta:
        ordering = ["-paid_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(paid_amount__gt=0), name="insurance_payment_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(source="automatic", era__isnull=False)
                | Q(source="manual", era__isnull=True),
                name="insurance_payment_era_iff_automatic",
            ),
        ]
        # Keyset pagination: each sort key with the id as tie-breaker, per organization,
        # live rows only (the API never shows deleted ones).
        indexes = [
            models.Index(
                fields=["organization", key, "id"],
                name=f"ip_{key[:12]}_idx",
                condition=Q(deleted_at__isnull=True),
            )
            for key in (
                "paid_date",
                "paid_amount",
                "payer_name",
                "npi",
                "ach_check_number",
                "source",
                "created_at",
                "updated_at",
            )
        ] + [
            # The API's text orders compare by code point on PostgreSQL as on SQLite
            # (payments/expressions.py); an index serves only the expression it holds.
            models.Index(
                F("organization"),
                expression,
                F("id"),
                name=f"ip_{name}_cp_idx",
                condition=Q(deleted_at__isnull=True),
            )
            for name, expression in (
                ("payer_name", CodePointText(Lower(CodePointText("payer_name")))),
                ("npi", CodePointText("npi")),
                ("ach_check", CodePointText("ach_check_number")),
            )
        ]

    def __str__(self) -> str:
        return f"{self.payer_name} {self.paid_amount} on {self.paid_date}"


class ClaimPayment(TenantModel):
    """One claim adjudication of an ERA (CLP), matched to our claim by its number when
    possible; unmatched ones stay for follow-up (`claim` empty)."""

    era = models.ForeignKey(Era, on_delete=models.CASCADE, related_name="claim_payments")
    claim = models.ForeignKey(
        Claim, null=True, blank=True, on_delete=models.PROTECT, related_name="era_payments"
    )
    patient_control_number = models.CharField(max_length=38)  # CLP01 = our claim number
    status_code = models.CharField(max_length=2)  # CLP02: 1/2/3 processed, 4 denied, 22 reversal
    charge_amount = models.DecimalField(**MONEY)
    paid_amount = models.DecimalField(**MONEY)
    patient_responsibility = models.DecimalField(**MONEY, null=True, blank=True)
    payer_claim_control_number = models.CharField(max_length=50, blank=True)  # CLP07
    patient_name = models.CharField(max_length=120, blank=True)
    remark_codes = models.JSONField(default=list, blank=True)  # MOA/LQ RARCs of the claim
    posted_at = models.DateTimeField(null=True, blank=True)  # to the claim's ledger
    # What posting did (or why it did not), for the ERA page: "Paid: ...", "Unmatched ...".
    posting_note = models.CharField(max_length=300, blank=True)
    # The reversal (CLP02 22) that took this adjudication's postings back off the ledger.
    reversed_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reverses"
    )

    class Meta:
        ordering = ["era", "id"]
        indexes = [models.Index(fields=["organization", "patient_control_number"])]

    def __str__(self) -> str:
        return f"{self.patient_control_number}: {self.paid_amount}"


class ServiceLinePayment(TenantModel):
    """One service line of a claim adjudication (SVC)."""

    claim_payment = models.ForeignKey(
        ClaimPayment, on_delete=models.CASCADE, related_name="service_lines"
    )
    procedure_code = models.CharField(max_length=48)
    modifiers = models.JSONField(default=list, blank=True)
    charge_amount = models.DecimalField(**MONEY)
    paid_amount = models.DecimalField(**MONEY)
    units = models.DecimalField(max_digits=9, decimal_places=3, null=True, blank=True)
    service_date = models.DateField(null=True, blank=True)
    allowed_amount = models.DecimalField(**MONEY, null=True, blank=True)
    remark_codes = models.JSONField(default=list, blank=True)  # LQ*HE RARCs

    class Meta:
        ordering = ["claim_payment", "id"]


class PaymentAdjustment(TenantModel):
    """One CAS adjustment, on a claim or on one of its service lines: group (CO, PR, OA,
    PI, CR) and CARC reason code kept as sent."""

    claim_payment = models.ForeignKey(
        ClaimPayment, on_delete=models.CASCADE, related_name="adjustments"
    )
    service_line = models.ForeignKey(
        ServiceLinePayment,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="adjustments",
    )
    group_code = models.CharField(max_length=2)
    reason_code = models.CharField(max_length=5)
    amount = models.DecimalField(**MONEY)
    quantity = models.DecimalField(max_digits=9, decimal_places=3, null=True, blank=True)
    # A denial worked from the denials worklist (written off or moved to the patient).
    resolution = models.ForeignKey(
        "DenialResolution",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="adjustments",
    )

    class Meta:
        ordering = ["claim_payment", "id"]


class DenialResolution(TenantModel):
    """What was done with the open (denied) adjustments of one claim adjudication, or of one
    of its lines, from the denials worklist; its ledger entries carry this row as source."""

    class Action(models.TextChoices):
        WRITE_OFF = "write_off", "Written off"
        PATIENT = "patient_responsibility", "Moved to patient responsibility"

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="+")
    claim_payment = models.ForeignKey(
        ClaimPayment, on_delete=models.PROTECT, related_name="resolutions"
    )
    service_line = models.ForeignKey(
        ServiceLinePayment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="resolutions",
    )
    action = models.CharField(max_length=24, choices=Action.choices)
    amount = models.DecimalField(**MONEY)
    codes = models.CharField(max_length=200, help_text="The adjustments it closed: CO-50 80.00")
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="denial_resolution_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.amount}"
