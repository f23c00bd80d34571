"""Clearinghouse connections and the payer enrollments that let claims flow through them."""

from __future__ import annotations

import json

from cryptography.fernet import InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from billing.models import Payer, TenantModel, TenantQuerySet, User

# X12 delimiters a routing id must never contain (element, component, repetition, segment).
X12_DELIMITERS = "~*:^"


def validate_electronic_payer_id(value: str) -> None:
    """1-80 visible ASCII characters (inner spaces allowed), none of the X12 delimiters:
    the id goes verbatim into NM109 of the payer loop."""
    if not value or value != value.strip():
        raise ValidationError("Enter the electronic payer id without leading or trailing spaces.")
    if len(value) > 80:
        raise ValidationError("An electronic payer id has at most 80 characters.")
    if any(not (" " <= ch <= "~") for ch in value):
        raise ValidationError("Use visible characters only (letters, digits, punctuation).")
    found = sorted({ch for ch in value if ch in X12_DELIMITERS})
    if found:
        raise ValidationError(
            "An electronic payer id cannot contain the X12 delimiters ~ * : ^ "
            f"(found {' '.join(found)})."
        )


def _fernet() -> MultiFernet:
    """FIELD_ENCRYPTION_KEY may list several comma-separated keys: the first encrypts, all
    decrypt, so a key can be rotated without losing stored credentials."""
    from cryptography.fernet import Fernet

    keys = [k.strip() for k in settings.FIELD_ENCRYPTION_KEY.split(",") if k.strip()]
    return MultiFernet([Fernet(k.encode()) for k in keys])


class Vendor(models.TextChoices):
    WAYSTAR = "waystar", "Waystar"
    AVAILITY = "availity", "Availity"
    CHANGE_HEALTHCARE = "change_healthcare", "Change Healthcare"
    CLAIM_MD = "claim_md", "Claim.MD"
    SANDBOX = "sandbox", "Sandbox"


class ClearinghouseConfig(TenantModel):
    vendor = models.CharField(max_length=20, choices=Vendor.choices)
    display_name = models.CharField(max_length=80)
    base_url = models.URLField("base URL", max_length=200)
    submitter_id = models.CharField(
        "submitter id", max_length=15, blank=True, help_text="ISA06/GS02 sender id."
    )
    account_id = models.CharField(
        "account id",
        max_length=80,
        blank=True,
        help_text="The vendor account, user name or OAuth client id.",
    )
    credentials_encrypted = models.TextField(blank=True, editable=False)
    baa_on_file = models.BooleanField("BAA on file", default=False)
    baa_signed_on = models.DateField("BAA signed on", null=True, blank=True)
    baa_acknowledged_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    baa_acknowledged_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField("active", default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["display_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "display_name"], name="clearinghouse_unique_display_name"
            ),
            models.CheckConstraint(
                condition=Q(baa_on_file=False)
                | Q(baa_signed_on__isnull=False, baa_acknowledged_at__isnull=False),
                name="clearinghouse_baa_has_date_and_acknowledgement",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    # Credentials are a small JSON object (secret, password, ...) kept only as ciphertext;
    # forms never render them back and nothing logs them.
    def set_credentials(self, values: dict[str, str]) -> None:
        cleaned = {k: v for k, v in values.items() if v}
        self.credentials_encrypted = (
            _fernet().encrypt(json.dumps(cleaned).encode()).decode() if cleaned else ""
        )

    def get_credentials(self) -> dict[str, str]:
        if not self.credentials_encrypted:
            return {}
        try:
            return json.loads(_fernet().decrypt(self.credentials_encrypted.encode()))
        except InvalidToken:
            raise ValidationError(
                "The stored credentials cannot be decrypted with FIELD_ENCRYPTION_KEY."
            ) from None

    @property
    def has_credentials(self) -> bool:
        return bool(self.credentials_encrypted)


class TransactionType(models.TextChoices):
    CLAIM_837P = "837P", "837P claims"
    ERA_835 = "835", "835 remittance (ERA)"
    ELIGIBILITY_270 = "270", "270/271 eligibility"
    STATUS_276 = "276", "276/277 claim status"
    AUTH_278 = "278", "278 prior authorization"


# TransactionType -> the PayerEnrollment boolean field that holds it
TRANSACTION_FIELDS = {
    TransactionType.CLAIM_837P: "covers_837p",
    TransactionType.ERA_835: "covers_835",
    TransactionType.ELIGIBILITY_270: "covers_270",
    TransactionType.STATUS_276: "covers_276",
    TransactionType.AUTH_278: "covers_278",
}


class EnrollmentQuerySet(TenantQuerySet):
    def live(self) -> EnrollmentQuerySet:
        """Not removed (removal is a soft delete)."""
        return self.filter(deleted_at__isnull=True)

    def active_for(self, transaction_type: str) -> EnrollmentQuerySet:
        """Live, active, and covering the transaction type."""
        return self.live().filter(
            enrollment_status=PayerEnrollment.Status.ACTIVE,
            **{TRANSACTION_FIELDS[TransactionType(transaction_type)]: True},
        )


class PayerEnrollment(TenantModel):
    """The seed's pm_payer_enrollments: a payer reachable through one clearinghouse."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"  # submitted, awaiting the clearinghouse's answer
        ACTIVE = "active", "Active"  # approved and usable for claim routing
        INACTIVE = "inactive", "Inactive"  # deactivated
        REJECTED = "rejected", "Rejected"  # denied by the clearinghouse or the payer
        EXPIRED = "expired", "Expired"  # the enrollment period ended

    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="enrollments")
    clearinghouse = models.ForeignKey(
        ClearinghouseConfig, on_delete=models.PROTECT, related_name="enrollments"
    )
    electronic_payer_id = models.CharField(
        "electronic payer id",
        max_length=80,
        validators=[validate_electronic_payer_id],
        help_text="The clearinghouse's routing id for this payer (not the payer's own id).",
    )
    enrollment_status = models.CharField(
        "status", max_length=10, choices=Status.choices, default=Status.PENDING
    )
    covers_837p = models.BooleanField("837P", default=True)
    covers_835 = models.BooleanField("835", default=False)
    covers_270 = models.BooleanField("270/271", default=False)
    covers_276 = models.BooleanField("276/277", default=False)
    covers_278 = models.BooleanField("278", default=False)
    enrolled_on = models.DateField("enrolled date", null=True, blank=True)
    effective_from = models.DateField("effective", null=True, blank=True)
    effective_to = models.DateField("ends", null=True, blank=True)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)
    last_era_received_at = models.DateTimeField(null=True, blank=True)
    # Set when the enrollment is submitted to its clearinghouse (issue: vendors over HTTP).
    vendor_reference = models.CharField(max_length=80, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    status_reason = models.CharField(
        max_length=300, blank=True, help_text="Why the clearinghouse or payer rejected it."
    )

    objects = EnrollmentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["payer", "clearinghouse"],
                condition=Q(deleted_at__isnull=True),
                name="enrollment_one_live_per_payer_and_clearinghouse",
            ),
            models.CheckConstraint(
                condition=Q(covers_837p=True)
                | Q(covers_835=True)
                | Q(covers_270=True)
                | Q(covers_276=True)
                | Q(covers_278=True),
                name="enrollment_covers_a_transaction_type",
            ),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True)
                | Q(effective_from__isnull=True)
                | Q(effective_to__gte=models.F("effective_from")),
                name="enrollment_dates_in_order",
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "-created_at", "-id"],
                condition=Q(deleted_at__isnull=True),
                name="enrollment_live_newest",
            ),
            models.Index(fields=["organization", "electronic_payer_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.payer} via {self.clearinghouse} ({self.electronic_payer_id})"

    @property
    def transaction_types(self) -> list[str]:
        return [t.value for t, field in TRANSACTION_FIELDS.items() if getattr(self, field)]

    def clean(self) -> None:
        super().clean()
        errors = {}
        if not any(getattr(self, field) for field in TRANSACTION_FIELDS.values()):
            errors["covers_837p"] = "Choose at least one transaction type."
        if self.effective_from and self.effective_to and self.effective_to < self.effective_from:
            errors["effective_to"] = "The end date cannot be before the effective date."
        if errors:
            raise ValidationError(errors)


class ControlNumberSequence(TenantModel):
    """The last X12 control number (ISA13, also used as GS06) sent to one clearinghouse.
    Taken with a row lock (`clearinghouse.control_numbers.next_control_number`), so
    concurrent workers never send two files with one number."""

    clearinghouse = models.OneToOneField(
        ClearinghouseConfig, on_delete=models.CASCADE, related_name="control_numbers"
    )
    last_value = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(last_value__lte=999_999_999), name="control_number_fits_isa13"
            )
        ]

    def __str__(self) -> str:
        return f"{self.clearinghouse}: {self.last_value}"


class ClaimSubmission(TenantModel):
    """One claim sent (or about to be sent) in one interchange to one clearinghouse.

    Recorded before the HTTP call with its idempotency key, so a crash or timeout leaves a
    row that says the outcome is unknown and must be settled with the same clearinghouse.
    """

    class Status(models.TextChoices):
        RECORDED = "recorded", "Recorded"  # about to be sent
        SENT = "sent", "Sent"  # the clearinghouse took the file
        UNKNOWN = "unknown", "Outcome unknown"  # timeout or dropped connection after sending
        ACCEPTED = "accepted", "Accepted"  # 999/277CA accepted the claim
        REJECTED = "rejected", "Rejected"  # refused by the clearinghouse or the payer
        FAILED = "failed", "Failed"  # never reached the clearinghouse

    claim = models.ForeignKey("billing.Claim", on_delete=models.PROTECT, related_name="submissions")
    claim_version = models.PositiveIntegerField()
    clearinghouse = models.ForeignKey(
        ClearinghouseConfig, on_delete=models.PROTECT, related_name="claim_submissions"
    )
    idempotency_key = models.CharField(max_length=80)
    control_number = models.PositiveBigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECORDED)
    vendor_reference = models.CharField(max_length=120, blank=True)
    message = models.CharField(max_length=500, blank=True)
    x12 = models.TextField(blank=True, help_text="The interchange as sent.")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"], name="claim_submission_unique_key"
            )
        ]
        indexes = [models.Index(fields=["organization", "status"])]

    def __str__(self) -> str:
        return f"{self.claim} v{self.claim_version} to {self.clearinghouse}: {self.status}"


class ClaimAcknowledgement(TenantModel):
    """A 999, 277CA or 277 that came back about a claim, kept raw with what it said."""

    claim = models.ForeignKey(
        "billing.Claim", on_delete=models.CASCADE, related_name="acknowledgements"
    )
    submission = models.ForeignKey(
        ClaimSubmission,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="acknowledgements",
    )
    clearinghouse = models.ForeignKey(
        ClearinghouseConfig, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=6)  # "999", "277CA", "277"
    report_id = models.CharField(max_length=120, blank=True)
    accepted = models.BooleanField()
    message = models.CharField(max_length=500, blank=True)
    x12 = models.TextField()
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["received_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "clearinghouse", "report_id", "claim", "kind"],
                condition=~Q(report_id=""),
                name="acknowledgement_once_per_report_and_claim",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.claim}: {'accepted' if self.accepted else 'rejected'}"


class VendorCursor(TenantModel):
    """What a vendor adapter must remember between calls and across restarts (Claim.MD's
    last response and ERA ids, ...); tokens live in the cache instead."""

    clearinghouse = models.ForeignKey(
        ClearinghouseConfig, on_delete=models.CASCADE, related_name="cursors"
    )
    key = models.CharField(max_length=120)
    value = models.CharField(max_length=500)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["clearinghouse", "key"], name="vendor_cursor_unique_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.clearinghouse} {self.key}={self.value}"


class FailoverSettings(TenantModel):
    """Seed 001: the organization's primary and secondary clearinghouse and the thresholds
    the router reads on every decision (no restart needed)."""

    primary = models.ForeignKey(
        ClearinghouseConfig, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    secondary = models.ForeignKey(
        ClearinghouseConfig, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    health_check_interval_s = models.PositiveIntegerField(
        "health check interval (seconds)",
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(3600)],
    )
    failure_threshold = models.PositiveIntegerField(
        "consecutive failures before failover",
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )
    recovery_cooldown_s = models.PositiveIntegerField(
        "recovery cool-down (seconds)",
        default=300,
        validators=[MinValueValidator(1), MaxValueValidator(86400)],
    )
    transaction_timeout_ms = models.PositiveIntegerField(
        "per-transaction timeout (ms)",
        default=15000,
        validators=[MinValueValidator(100), MaxValueValidator(120000)],
    )
    allow_simulated_failures = models.BooleanField(
        default=False, help_text='Shows "Simulate health failure" to admins (demos and drills).'
    )
    updated_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "failover settings"
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="failover_settings_one_per_org"),
            models.CheckConstraint(
                condition=Q(primary__isnull=True)
                | Q(secondary__isnull=True)
                | ~Q(primary=models.F("secondary")),
                name="failover_primary_is_not_secondary",
            ),
        ]

    def __str__(self) -> str:
        return f"Failover settings of {self.organization_id}"


class PayerRoute(TenantModel):
    """A payer pinned to one clearinghouse: a hard pin (no failover) or forced with
    fallback to the other vendor of the global pair."""

    payer = models.ForeignKey(Payer, on_delete=models.CASCADE, related_name="routes")
    forced_vendor = models.ForeignKey(
        ClearinghouseConfig, on_delete=models.PROTECT, related_name="payer_routes"
    )
    allow_failover = models.BooleanField("allow failover for this payer", default=False)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["payer__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "payer"], name="payer_route_one_per_payer"
            )
        ]

    def __str__(self) -> str:
        kind = "with fallback" if self.allow_failover else "hard pin"
        return f"{self.payer} -> {self.forced_vendor} ({kind})"


class RouteDecision(TenantModel):
    """The last routing decision per (organization, payer) scope, persisted so a restart
    or a second worker does not write a duplicate failover audit row. `payer` empty is the
    global route."""

    payer = models.ForeignKey(
        Payer, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    vendor = models.ForeignKey(ClearinghouseConfig, on_delete=models.CASCADE, related_name="+")
    failed_over = models.BooleanField(default=False)
    reason = models.CharField(max_length=80, blank=True)
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "payer"], name="route_decision_one_per_payer_scope"
            ),
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(payer__isnull=True),
                name="route_decision_one_global_scope",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.payer or 'global'} -> {self.vendor} ({self.reason or 'baseline'})"
