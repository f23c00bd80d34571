from __future__ import annotations

from django import forms
from django.utils import timezone

from billing.models import Organization, Payer
from clearinghouse.models import (
    TRANSACTION_FIELDS,
    ClearinghouseConfig,
    PayerEnrollment,
    TransactionType,
    validate_electronic_payer_id,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class EnrollmentForm(forms.Form):
    """One form for Quick Add, edit and the wizard's steps (which use subsets of it)."""

    payer = forms.ModelChoiceField(
        queryset=Payer.objects.none(),
        empty_label="Choose a payer",
        error_messages={"required": "Choose a payer."},
    )
    clearinghouse = forms.ModelChoiceField(
        queryset=ClearinghouseConfig.objects.none(),
        empty_label="Choose a clearinghouse",
        error_messages={"required": "Choose a clearinghouse."},
    )
    electronic_payer_id = forms.CharField(
        label="Electronic payer id",
        max_length=80,
        strip=True,
        validators=[validate_electronic_payer_id],
        help_text="The clearinghouse's id for this payer, as on its payer list.",
        error_messages={"required": "Enter the electronic payer id the clearinghouse uses."},
    )
    transaction_types = forms.MultipleChoiceField(
        choices=TransactionType.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[TransactionType.CLAIM_837P],
        error_messages={"required": "Choose at least one transaction type."},
    )
    enrollment_status = forms.ChoiceField(
        label="Status",
        choices=PayerEnrollment.Status.choices,
        initial=PayerEnrollment.Status.PENDING,
    )
    enrolled_on = forms.DateField(label="Enrolled date", required=False, widget=DATE)
    effective_from = forms.DateField(label="Effective", required=False, widget=DATE)
    effective_to = forms.DateField(label="Ends", required=False, widget=DATE)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["payer"].queryset = Payer.objects.for_organization(organization)
        self.fields["clearinghouse"].queryset = ClearinghouseConfig.objects.for_organization(
            organization
        ).filter(is_active=True)

    def clean_enrolled_on(self):
        enrolled_on = self.cleaned_data.get("enrolled_on")
        if enrolled_on and enrolled_on > timezone.localdate():
            raise forms.ValidationError("The enrolled date cannot be in the future.")
        return enrolled_on

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("effective_from"), cleaned.get("effective_to")
        if start and end and end < start:
            self.add_error("effective_to", "The end date cannot be before the effective date.")
        return cleaned

    @classmethod
    def initial_for(cls, enrollment: PayerEnrollment) -> dict:
        return {
            "payer": enrollment.payer_id,
            "clearinghouse": enrollment.clearinghouse_id,
            "electronic_payer_id": enrollment.electronic_payer_id,
            "transaction_types": enrollment.transaction_types,
            "enrollment_status": enrollment.enrollment_status,
            "enrolled_on": enrollment.enrolled_on,
            "effective_from": enrollment.effective_from,
            "effective_to": enrollment.effective_to,
            "notes": enrollment.notes,
        }


class EnrollmentFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=80, strip=True)
    status = forms.ChoiceField(
        choices=[("", "All statuses"), *PayerEnrollment.Status.choices], required=False
    )


class ClearinghouseConfigForm(forms.ModelForm):
    secret = forms.CharField(
        label="Secret",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="API key, client secret or password. Stored encrypted and never shown again; "
        "leave empty to keep the stored one.",
    )

    class Meta:
        model = ClearinghouseConfig
        fields = ["vendor", "display_name", "base_url", "submitter_id", "account_id", "is_active"]


class BaaForm(forms.Form):
    baa_signed_on = forms.DateField(label="BAA signed on", widget=DATE)
    confirm = forms.BooleanField(
        label="A Business Associate Agreement signed by this vendor is on file.",
        error_messages={"required": "Confirm that the signed BAA is on file."},
    )


assert set(TRANSACTION_FIELDS) == set(TransactionType)
