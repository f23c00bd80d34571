"""Forms of the Failover Settings page (seed 001): the settings tab and a payer route."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from billing.models import Organization, Payer
from clearinghouse.models import ClearinghouseConfig, PayerRoute

BAA_REQUIRED = "BAA required"


def _bounded(label: str, minimum: int, maximum: int, unit: str, help_text: str):
    between = f"Enter a whole number of {unit} from {minimum:,} to {maximum:,}."
    return forms.IntegerField(
        label=label,
        min_value=minimum,
        max_value=maximum,
        help_text=help_text,
        error_messages={
            "required": between,
            "invalid": between,
            "min_value": between,
            "max_value": between,
        },
        widget=forms.NumberInput(attrs={"min": minimum, "max": maximum, "step": 1}),
    )


class ConfigChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: ClearinghouseConfig) -> str:
        vendor = obj.get_vendor_display()
        label = obj.display_name
        if vendor.lower() not in label.lower():
            label = f"{label} ({vendor})"
        return label if obj.baa_on_file else f"{label} — {BAA_REQUIRED}"


class SecondarySelect(forms.Select):
    """Options of configs without a signed BAA are disabled and marked (the page's script
    enables them once "BAA on file" is checked)."""

    def __init__(self, *args, no_baa: frozenset[str] = frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        self.no_baa = no_baa

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if str(value) in self.no_baa:
            option["attrs"]["disabled"] = True
            option["attrs"]["data-baa"] = "0"
        return option


class FailoverSettingsForm(forms.Form):
    primary = ConfigChoiceField(queryset=ClearinghouseConfig.objects.none(), label="Primary vendor")
    secondary = ConfigChoiceField(
        queryset=ClearinghouseConfig.objects.none(),
        label="Secondary vendor",
        required=False,
        empty_label="No secondary",
    )
    baa_on_file = forms.BooleanField(label="BAA on file for the secondary vendor", required=False)
    baa_signed_on = forms.DateField(
        label="BAA signed on",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    health_check_interval_s = _bounded(
        "Health check interval (seconds)", 1, 3600, "seconds", "How often vendor health is polled."
    )
    failure_threshold = _bounded(
        "Consecutive failures before failover",
        1,
        100,
        "failures",
        "Failed checks or transactions that flip routing to the secondary.",
    )
    recovery_cooldown_s = _bounded(
        "Recovery cool-down (seconds)",
        1,
        86400,
        "seconds",
        "How long the primary must stay healthy before traffic flips back.",
    )
    transaction_timeout_ms = _bounded(
        "Per-transaction timeout (ms)",
        100,
        120000,
        "milliseconds",
        "A single 837/270/276/278 call slower than this counts as failed.",
    )
    allow_simulated_failures = forms.BooleanField(
        label="Allow simulated health failures",
        required=False,
        help_text='Shows "Simulate health failure" to admins in the status panel (demos and '
        "failover drills).",
    )

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        configs = ClearinghouseConfig.objects.for_organization(organization).filter(is_active=True)
        self.fields["primary"].queryset = configs
        self.fields["primary"].empty_label = "Choose the primary vendor"
        no_baa = frozenset(
            str(pk) for pk in configs.filter(baa_on_file=False).values_list("pk", flat=True)
        )
        secondary = self.fields["secondary"]
        secondary.queryset = configs
        secondary.widget = SecondarySelect(no_baa=no_baa)
        secondary.widget.choices = secondary.choices
        self.fields["baa_signed_on"].widget.attrs["max"] = timezone.localdate().isoformat()
        self.fields["baa_signed_on"].initial = timezone.localdate()
        self.no_baa = no_baa

    def clean(self):
        data = super().clean()
        primary, secondary = data.get("primary"), data.get("secondary")
        if primary is not None and secondary is not None and primary.pk == secondary.pk:
            self.add_error("secondary", "The secondary must be a different clearinghouse.")
        if secondary is not None and not secondary.baa_on_file:
            if not data.get("baa_on_file"):
                self.add_error(
                    "baa_on_file", f"Confirm the BAA is on file for {secondary} before saving."
                )
            elif not data.get("baa_signed_on"):
                self.add_error("baa_signed_on", "Enter the date the BAA was signed.")
            elif data["baa_signed_on"] > timezone.localdate():
                self.add_error("baa_signed_on", "The BAA cannot be signed in the future.")
        return data


class PayerRouteForm(forms.Form):
    payer = forms.ModelChoiceField(
        queryset=Payer.objects.none(),
        label="Payer",
        empty_label="Choose a payer",
        error_messages={
            "required": "Choose the payer.",
            "invalid_choice": "Choose a payer of this organization.",
        },
    )
    forced_vendor = ConfigChoiceField(
        queryset=ClearinghouseConfig.objects.none(),
        label="Forced vendor",
        empty_label="Choose a vendor",
        error_messages={
            "required": "Choose the forced vendor.",
            "invalid_choice": "Choose a clearinghouse with a signed BAA on file.",
        },
    )
    allow_failover = forms.BooleanField(label="Allow failover for this payer", required=False)

    def __init__(
        self, *args, organization: Organization, route: PayerRoute | None = None, **kwargs
    ):
        if route is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "payer": route.payer_id,
                "forced_vendor": route.forced_vendor_id,
                "allow_failover": route.allow_failover,
            }
        super().__init__(*args, **kwargs)
        self.fields["payer"].queryset = Payer.objects.for_organization(organization).order_by(
            "name"
        )
        self.fields["forced_vendor"].queryset = ClearinghouseConfig.objects.for_organization(
            organization
        ).filter(baa_on_file=True, is_active=True)
