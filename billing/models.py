"""The practice core every feature app builds on.

Directory tables (users, organizations, roles, memberships) are not tenant-scoped; every
other table carries `organization` and is only ever queried through it.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q, Sum
from django.db.models.functions import Coalesce, Round
from django.utils import timezone

from billing import permissions
from billing.validators import validate_npi, validate_tax_id, validate_time_zone

MONEY = {"max_digits": 12, "decimal_places": 2}
ZERO = Decimal("0.00")


def money_sum(expression: str, **extra) -> Round:
    """SUM of a money column, rounded to cents. SQLite adds decimals as floating point, so
    a settled ledger could sum to 1.4e-14 and look unpaid; PostgreSQL's numeric is exact
    and the rounding changes nothing there."""
    return Round(Sum(expression, **extra), 2, output_field=models.DecimalField(**MONEY))


US_STATE = RegexValidator(r"^[A-Z]{2}$", "Use the two-letter state code.")
ZIP_CODE = RegexValidator(r"^\d{5}(\d{4})?$", "A ZIP code is 5 or 9 digits.")


class Address(models.Model):
    address_line1 = models.CharField("address", max_length=55, blank=True)
    address_line2 = models.CharField("address line 2", max_length=55, blank=True)
    city = models.CharField(max_length=30, blank=True)
    state = models.CharField(max_length=2, blank=True, validators=[US_STATE])
    zip_code = models.CharField("ZIP", max_length=9, blank=True, validators=[ZIP_CODE])

    class Meta:
        abstract = True

    @property
    def address_oneline(self) -> str:
        street = ", ".join(p for p in (self.address_line1, self.address_line2) if p)
        place = " ".join(p for p in (self.state, self.zip_code) if p)
        return ", ".join(p for p in (street, self.city, place) if p)


# --- directory ----------------------------------------------------------------------------


class Organization(Address):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    time_zone = models.CharField(
        max_length=64, default="America/New_York", validators=[validate_time_zone]
    )
    billing_npi = models.CharField(
        "billing NPI", max_length=10, blank=True, validators=[validate_npi]
    )
    tax_id = models.CharField("tax id", max_length=10, blank=True, validators=[validate_tax_id])
    phone = models.CharField(max_length=20, blank=True)
    employer_collections_enabled = models.BooleanField(
        "Employer Collections",
        default=False,
        help_text="Lets employer and TPA balances go to pre-collections and collections.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    last_organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Where the user lands after login: the organization they last worked in.",
    )


class Role(models.Model):
    """A named set of permission codes. Built-in roles have no organization."""

    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="roles"
    )
    name = models.CharField(max_length=60)
    codes = models.JSONField(default=list)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="role_unique_name_per_organization"
            ),
            models.UniqueConstraint(
                fields=["name"],
                condition=Q(organization__isnull=True),
                name="role_unique_builtin_name",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_builtin(self) -> bool:
        return self.organization_id is None

    def clean(self) -> None:
        unknown = sorted(set(self.codes) - set(permissions.CODES))
        if unknown:
            raise ValidationError({"codes": f"Unknown permission codes: {', '.join(unknown)}"})


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="memberships")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["organization__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization"], name="membership_unique_user_organization"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} as {self.role}"

    def clean(self) -> None:
        if self.role_id and self.role.organization_id not in (None, self.organization_id):
            raise ValidationError({"role": "That role belongs to another organization."})


# --- tenant-owned ---------------------------------------------------------------------------


class TenantQuerySet(models.QuerySet):
    def for_organization(self, organization: Organization | int) -> TenantQuerySet:
        return self.filter(organization=organization)


class TenantModel(models.Model):
    """A row owned by one organization. Related rows must belong to the same one."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True

    def clean(self) -> None:
        super().clean()
        errors = {}
        for field in self._meta.concrete_fields:
            if not field.is_relation or field.name == "organization":
                continue
            if not issubclass(field.related_model, TenantModel):
                continue
            related = getattr(self, field.name, None)
            if related is not None and related.organization_id != self.organization_id:
                errors[field.name] = "That record belongs to another organization."
        if errors:
            raise ValidationError(errors)


class Payer(TenantModel, Address):
    class FilingIndicator(models.TextChoices):
        # SBR09 claim filing indicator codes (the common ones)
        COMMERCIAL = "CI", "CI Commercial insurance"
        BLUE_CROSS = "BL", "BL Blue Cross/Blue Shield"
        HMO = "HM", "HM Health maintenance organization"
        MEDICARE_B = "MB", "MB Medicare Part B"
        MEDICAID = "MC", "MC Medicaid"
        TRICARE = "CH", "CH TRICARE"
        WORKERS_COMP = "WC", "WC Workers' compensation"
        OTHER = "ZZ", "ZZ Mutually defined"

    name = models.CharField(max_length=120)
    payer_id = models.CharField(
        "payer id",
        max_length=80,
        help_text="The payer's own identifier (the electronic payer id lives on enrollments).",
    )
    claim_filing_indicator = models.CharField(
        max_length=2,
        choices=FilingIndicator.choices,
        default=FilingIndicator.COMMERCIAL,
        help_text="What kind of plan this payer's claims are filed under (837P SBR09).",
    )
    phone = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "payer_id"], name="payer_unique_payer_id"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Provider(TenantModel):
    first_name = models.CharField(max_length=35)
    last_name = models.CharField(max_length=60)
    credential = models.CharField(max_length=20, blank=True, help_text="MD, DO, NP, PA-C…")
    npi = models.CharField("NPI", max_length=10, validators=[validate_npi])
    taxonomy_code = models.CharField(
        max_length=10,
        blank=True,
        validators=[RegexValidator(r"^[0-9A-Z]{9}X$", "A taxonomy code is 10 characters.")],
    )

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "npi"], name="provider_unique_npi")
        ]

    def __str__(self) -> str:
        suffix = f", {self.credential}" if self.credential else ""
        return f"{self.first_name} {self.last_name}{suffix}"


class Sex(models.TextChoices):
    FEMALE = "F", "Female"
    MALE = "M", "Male"
    UNKNOWN = "U", "Unknown"


class Patient(TenantModel, Address):
    account_number = models.CharField(max_length=20)
    first_name = models.CharField(max_length=35)
    last_name = models.CharField(max_length=60)
    birth_date = models.DateField()
    sex = models.CharField(max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    phone = models.CharField(max_length=20, blank=True)
    email = models.EmailField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "account_number"], name="patient_unique_account_number"
            )
        ]
        indexes = [models.Index(fields=["organization", "last_name", "first_name"])]

    def __str__(self) -> str:
        return f"{self.last_name}, {self.first_name}"


class Coverage(TenantModel):
    class Order(models.IntegerChoices):
        PRIMARY = 1, "Primary"
        SECONDARY = 2, "Secondary"
        TERTIARY = 3, "Tertiary"

    class Relationship(models.TextChoices):
        # X12 individual relationship codes (2000B/2000C INS02 / PAT01)
        SELF = "18", "Self"
        SPOUSE = "01", "Spouse"
        CHILD = "19", "Child"
        OTHER = "G8", "Other"

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="coverages")
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="coverages")
    member_id = models.CharField("member id", max_length=80)
    group_number = models.CharField("group", max_length=50, blank=True)
    relationship = models.CharField(
        max_length=2, choices=Relationship.choices, default=Relationship.SELF
    )
    subscriber_first_name = models.CharField(max_length=35, blank=True)
    subscriber_last_name = models.CharField(max_length=60, blank=True)
    subscriber_birth_date = models.DateField(null=True, blank=True)
    order = models.PositiveSmallIntegerField(choices=Order.choices, default=Order.PRIMARY)
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["patient", "order", "-effective_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True)
                | Q(effective_to__gte=models.F("effective_from")),
                name="coverage_dates_in_order",
            ),
            models.UniqueConstraint(
                fields=["patient", "order"],
                condition=Q(effective_to__isnull=True),
                name="coverage_one_open_per_order",
            ),
        ]
        indexes = [models.Index(fields=["organization", "member_id"])]

    def __str__(self) -> str:
        return f"{self.payer} {self.member_id} ({self.get_order_display()})"

    def is_active_on(self, day) -> bool:
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )


class Employer(TenantModel, Address):
    guarantor_id = models.CharField("guarantor id", max_length=30)
    name = models.CharField(max_length=120)
    is_tpa = models.BooleanField("TPA", default=False, help_text="A third-party administrator.")
    contact_name = models.CharField(max_length=80, blank=True)
    phone = models.CharField(max_length=20, blank=True)
    email = models.EmailField(blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "guarantor_id"], name="employer_unique_guarantor_id"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Appointment(TenantModel):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        CHECKED_IN = "checked_in", "Checked in"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        NO_SHOW = "no_show", "No show"

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="appointments")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="appointments")
    scheduled_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField(default=20)
    reason = models.CharField(max_length=120, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED)

    class Meta:
        ordering = ["-scheduled_at"]
        indexes = [models.Index(fields=["organization", "scheduled_at"])]

    def __str__(self) -> str:
        return f"{self.patient} at {self.scheduled_at:%Y-%m-%d %H:%M}"


class PlaceOfService(models.TextChoices):
    TELEHEALTH = "02", "02 Telehealth (not in home)"
    OFFICE = "11", "11 Office"
    HOME = "12", "12 Home"
    URGENT_CARE = "20", "20 Urgent care facility"
    INPATIENT = "21", "21 Inpatient hospital"
    OUTPATIENT = "22", "22 On-campus outpatient hospital"
    EMERGENCY = "23", "23 Emergency room"
    ASC = "24", "24 Ambulatory surgical center"
    SNF = "31", "31 Skilled nursing facility"


ICD10 = RegexValidator(
    r"^[A-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?$", "Not an ICD-10-CM code shape (as J06.9)."
)


class EncounterQuerySet(TenantQuerySet):
    def with_balance(self) -> EncounterQuerySet:
        """Annotate the ledger sum, so `encounter.balance` costs no query per row."""
        ledger = (
            LedgerEntry.objects.filter(encounter=models.OuterRef("pk"))
            .values("encounter")
            .annotate(total=money_sum("amount"))
            .values("total")
        )
        return self.annotate(
            ledger_balance=Coalesce(
                models.Subquery(ledger, output_field=models.DecimalField(**MONEY)),
                ZERO,
                output_field=models.DecimalField(**MONEY),
            )
        )


class Encounter(TenantModel):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="encounters")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="encounters")
    appointment = models.OneToOneField(
        Appointment, null=True, blank=True, on_delete=models.SET_NULL, related_name="encounter"
    )
    date_of_service = models.DateField()
    place_of_service = models.CharField(
        max_length=2, choices=PlaceOfService.choices, default=PlaceOfService.OFFICE
    )
    guarantor_employer = models.ForeignKey(
        Employer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="encounters",
        help_text="The responsible employer or TPA; empty means the patient is the guarantor.",
    )
    diagnosis_codes = models.JSONField(
        default=list,
        blank=True,
        help_text="ICD-10-CM codes in claim order; charges point at them (1-12).",
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = EncounterQuerySet.as_manager()

    class Meta:
        ordering = ["-date_of_service", "-id"]
        indexes = [models.Index(fields=["organization", "date_of_service"])]

    def __str__(self) -> str:
        return f"{self.patient} on {self.date_of_service:%m/%d/%Y}"

    @property
    def guarantor_label(self) -> str:
        return str(self.guarantor_employer) if self.guarantor_employer_id else str(self.patient)

    @property
    def balance(self) -> Decimal:
        """The sum of the ledger: charges minus payments and adjustments."""
        if "ledger_balance" in self.__dict__:
            return self.ledger_balance
        total = self.ledger_entries.aggregate(total=money_sum("amount"))["total"]
        return total if total is not None else ZERO

    def clean(self) -> None:
        super().clean()
        codes = self.diagnosis_codes or []
        if not isinstance(codes, list) or len(codes) > 12:
            raise ValidationError({"diagnosis_codes": "Up to 12 ICD-10 codes."})
        for code in codes:
            ICD10(code)


class Charge(TenantModel):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        APPROVED = "approved", "Approved"
        BILLED = "billed", "Billed"
        VOID = "void", "Void"

    encounter = models.ForeignKey(Encounter, on_delete=models.CASCADE, related_name="charges")
    procedure_code = models.CharField(
        "CPT/HCPCS",
        max_length=5,
        validators=[RegexValidator(r"^([0-9]{4}[0-9FTU]|[A-V][0-9]{4})$", "Not a CPT/HCPCS code.")],
    )
    modifiers = models.JSONField(
        default=list, blank=True, help_text="Up to 4 two-character modifiers."
    )
    diagnosis_pointers = models.JSONField(
        default=list, help_text="1 to 4 positions in the encounter's diagnosis codes, in order."
    )
    units = models.DecimalField(
        max_digits=7,
        decimal_places=3,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0.001"))],
    )
    amount = models.DecimalField(**MONEY, help_text="Billed amount for all units.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["encounter", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="charge_amount_not_negative"),
            models.CheckConstraint(condition=Q(units__gt=0), name="charge_units_positive"),
        ]
        indexes = [models.Index(fields=["organization", "status"])]

    def __str__(self) -> str:
        return f"{self.procedure_code} ${self.amount}"

    def clean(self) -> None:
        super().clean()
        errors = {}
        mods = self.modifiers or []
        if (
            not isinstance(mods, list)
            or len(mods) > 4
            or not all(isinstance(m, str) and re.fullmatch(r"[0-9A-Z]{2}", m) for m in mods)
        ):
            errors["modifiers"] = "Up to 4 modifiers of two letters or digits."
        pointers = self.diagnosis_pointers or []
        diagnoses = self.encounter.diagnosis_codes if self.encounter_id else []
        if (
            not isinstance(pointers, list)
            or not 1 <= len(pointers) <= 4
            or not all(isinstance(p, int) and 1 <= p <= len(diagnoses) for p in pointers)
            or len(set(pointers)) != len(pointers)
        ):
            errors["diagnosis_pointers"] = (
                "Point at 1 to 4 different diagnoses of the encounter (1 is the first)."
            )
        if errors:
            raise ValidationError(errors)


class Claim(TenantModel):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        READY = "ready", "Ready"
        SUBMITTED = "submitted", "Submitted"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"
        PAID = "paid", "Paid"
        PARTIALLY_PAID = "partially_paid", "Partially paid"
        DENIED = "denied", "Denied"
        REVERSED = "reversed", "Reversed"
        VOIDED = "voided", "Voided"

    class Frequency(models.TextChoices):
        # CLM05-3 claim frequency type codes
        ORIGINAL = "1", "1 Original"
        REPLACEMENT = "7", "7 Replacement"
        VOID = "8", "8 Void"

    encounter = models.ForeignKey(Encounter, on_delete=models.PROTECT, related_name="claims")
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="claims")
    coverage = models.ForeignKey(Coverage, on_delete=models.PROTECT, related_name="claims")
    charges = models.ManyToManyField(Charge, related_name="claims", blank=True)
    claim_number = models.CharField(max_length=20, help_text="Our patient control number (CLM01).")
    frequency_code = models.CharField(
        max_length=1, choices=Frequency.choices, default=Frequency.ORIGINAL
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    payer_claim_control_number = models.CharField(max_length=50, blank=True)
    total = models.DecimalField(**MONEY, default=ZERO)
    version = models.PositiveIntegerField(
        default=1, help_text="Goes up each time the claim's content changes."
    )
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    # A secondary claim: the primary claim it follows, and what the primary payer decided
    # (its ERA adjudication), written by payments.secondary_claims for the 837P's other-payer
    # loops (2320/2330A/2330B, and 2430 per line). A snapshot, because it is what the
    # secondary payer is told; billing does not depend on payments' models.
    primary_claim = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="secondary_claims",
    )
    other_payers = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "claim_number"], name="claim_unique_claim_number"
            ),
            models.UniqueConstraint(
                fields=["primary_claim"],
                condition=Q(primary_claim__isnull=False),
                name="claim_one_secondary_per_primary",
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="claim_total_not_negative"),
        ]
        indexes = [models.Index(fields=["organization", "status"])]

    def __str__(self) -> str:
        return f"Claim {self.claim_number}"


class LedgerEntry(TenantModel):
    """One line of an encounter's ledger; the encounter's balance is the sum of amounts.

    Signs: charges are positive; payments and write-offs negative; adjustments and
    reversals either way.
    """

    class Kind(models.TextChoices):
        CHARGE = "charge", "Charge"
        INSURANCE_PAYMENT = "insurance_payment", "Insurance payment"
        PATIENT_PAYMENT = "patient_payment", "Patient payment"
        ADJUSTMENT = "adjustment", "Adjustment"
        WRITE_OFF = "write_off", "Write-off"
        REVERSAL = "reversal", "Reversal"

    encounter = models.ForeignKey(
        Encounter, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    claim = models.ForeignKey(
        Claim, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    charge = models.ForeignKey(
        Charge, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    amount = models.DecimalField(**MONEY)
    posted_at = models.DateTimeField(default=timezone.now)
    source_table = models.CharField(max_length=60, blank=True)
    source_id = models.CharField(max_length=40, blank=True)
    memo = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["posted_at", "id"]
        verbose_name_plural = "ledger entries"
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="charge", amount__gt=0)
                    | Q(
                        kind__in=["insurance_payment", "patient_payment", "write_off"], amount__lt=0
                    )
                    | (Q(kind__in=["adjustment", "reversal"]) & ~Q(amount=0))
                ),
                name="ledger_entry_sign_matches_kind",
            )
        ]
        indexes = [models.Index(fields=["organization", "encounter"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"


class AuditLog(TenantModel):
    """Who changed what, when; written by `billing.audit.audit` in the change's transaction."""

    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=80)
    table_name = models.CharField(max_length=80)
    record_id = models.CharField(max_length=40, blank=True)
    old_values = models.JSONField(null=True, blank=True)
    new_values = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-created_at"]),
            models.Index(fields=["organization", "action", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.table_name}#{self.record_id}"


class ClaimStatusChange(TenantModel):
    """One step of a claim's status history, written by the service that moves it."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=16, choices=Claim.Status.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=Claim.Status.choices)
    changed_at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["changed_at", "id"]
        indexes = [models.Index(fields=["organization", "claim", "changed_at"])]

    def __str__(self) -> str:
        return f"{self.claim} {self.from_status or '—'} → {self.to_status}"


class EligibilityCheck(TenantModel):
    """One 270 eligibility inquiry about a coverage and the payer's 271 answer, or why it
    was not sent. Written by `clearinghouse.eligibility.eligibility_check`; the
    clearinghouse is kept by id and name only (billing does not depend on clearinghouse)."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive"
        ERROR = "error", "Error"  # the payer's AAA rejection, or the vendor refused the 270
        NOT_SENT = "not_sent", "Not sent"  # no route, or the vendor could not be reached

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    coverage = models.ForeignKey(
        Coverage, on_delete=models.PROTECT, related_name="eligibility_checks"
    )
    appointment = models.ForeignKey(
        Appointment,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="eligibility_checks",
    )
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="+")
    service_date = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices)
    clearinghouse_config_id = models.PositiveIntegerField(null=True, blank=True)
    vendor_display = models.CharField(
        "clearinghouse", max_length=80, blank=True, help_text="The clearinghouse that answered."
    )
    failed_over = models.BooleanField(default=False)
    route_reason = models.CharField(max_length=80, blank=True)
    attempts = models.JSONField(
        default=list, blank=True, help_text="Clearinghouses tried before the answer: vendor, error."
    )
    plan_description = models.CharField(max_length=120, blank=True)
    copay = models.DecimalField(**MONEY, null=True, blank=True)
    deductible = models.DecimalField(**MONEY, null=True, blank=True)
    deductible_remaining = models.DecimalField(**MONEY, null=True, blank=True)
    coinsurance_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    eligibility_begin = models.DateField(null=True, blank=True)
    eligibility_end = models.DateField(null=True, blank=True)
    message = models.TextField(blank=True, help_text="The payer's error or the routing error.")
    trace_number = models.CharField(max_length=50, blank=True)
    request_270 = models.TextField(blank=True)
    response_271 = models.TextField(blank=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="not_sent") | ~Q(vendor_display=""),
                name="eligibility_check_answer_names_its_clearinghouse",
            ),
            models.CheckConstraint(
                condition=Q(coinsurance_percent__isnull=True)
                | Q(coinsurance_percent__gte=0, coinsurance_percent__lte=100),
                name="eligibility_check_coinsurance_is_a_percent",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "coverage", "-created_at"]),
            models.Index(fields=["organization", "appointment", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"Eligibility of {self.coverage} on {self.service_date}: {self.status}"

    @property
    def is_answered(self) -> bool:
        return self.status in (self.Status.ACTIVE, self.Status.INACTIVE)


class ApiKey(models.Model):
    """A user's key for one organization's API. Only a hash is stored; the key is shown
    once, when it is created. A directory table, like memberships."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=12, unique=True, help_text="Shown to tell keys apart.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class NumberSequence(TenantModel):
    """A gap-free counter per organization (claim numbers of generated claims). Taken with
    an `UPDATE ... SET last_value = last_value + n`, which locks the row until commit."""

    name = models.CharField(max_length=40)
    last_value = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="number_sequence_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name}: {self.last_value}"
