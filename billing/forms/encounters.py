from __future__ import annotations

import re
from typing import cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from billing.models import ICD10, Employer, Organization, Patient, PlaceOfService, Provider
from billing.services.encounters import PAYMENT_METHODS

MAX_DIAGNOSES = 12


class DateInput(forms.DateInput):
    input_type = "date"


def add_service_errors(
    form: forms.Form, error: ValidationError, aliases: dict[str, str] | None = None
) -> None:
    """Show a service's ValidationError on the form: next to the field it names (or the
    form field `aliases` maps it to), else at the top of the form."""
    aliases = aliases or {}
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field, messages in error.message_dict.items():
        name = aliases.get(field, field)
        form.add_error(name if name in form.fields else None, messages)


def parse_diagnosis_codes(text: str) -> list[str]:
    """Codes entered one per line or separated by commas: upper case, with the dot after
    the category (J069 -> J06.9) so the same code is written one way."""
    codes = []
    for raw in re.split(r"[\s,;]+", text or ""):
        code = raw.strip().upper()
        if not code:
            continue
        if "." not in code and len(code) > 3 and re.fullmatch(ICD10.regex, code):
            code = f"{code[:3]}.{code[3:]}"
        codes.append(code)
    return codes


class EncounterForm(forms.Form):
    provider = forms.ModelChoiceField(queryset=Provider.objects.none(), empty_label="Choose…")
    date_of_service = forms.DateField(widget=DateInput)
    place_of_service = forms.ChoiceField(
        choices=PlaceOfService.choices, initial=PlaceOfService.OFFICE
    )
    guarantor_employer = forms.ModelChoiceField(
        label="Responsible guarantor",
        queryset=Employer.objects.none(),
        required=False,
    )
    diagnosis_codes = forms.CharField(
        label="Diagnosis codes (ICD-10-CM)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 16, "spellcheck": "false"}),
        help_text="One per line or separated by commas, in claim order; up to 12.",
    )

    def __init__(self, *args, organization: Organization, patient: Patient, **kwargs):
        super().__init__(*args, **kwargs)
        provider = cast(forms.ModelChoiceField, self.fields["provider"])
        provider.queryset = Provider.objects.for_organization(organization)
        guarantor = cast(forms.ModelChoiceField, self.fields["guarantor_employer"])
        guarantor.queryset = Employer.objects.for_organization(organization)
        guarantor.empty_label = f"The patient ({patient})"

    def clean_date_of_service(self):
        day = self.cleaned_data["date_of_service"]
        if day > timezone.localdate():
            raise ValidationError("The date of service cannot be in the future.")
        return day

    def clean_diagnosis_codes(self) -> list[str]:
        codes = parse_diagnosis_codes(self.cleaned_data["diagnosis_codes"])
        errors = []
        if len(codes) > MAX_DIAGNOSES:
            errors.append(f"Up to {MAX_DIAGNOSES} diagnosis codes; you entered {len(codes)}.")
        for code in codes:
            try:
                ICD10(code)
            except ValidationError:
                errors.append(f"{code} is not an ICD-10-CM code (they look like J06.9).")
        repeated = sorted({c for c in codes if codes.count(c) > 1})
        if repeated:
            errors.append(f"Listed more than once: {', '.join(repeated)}.")
        if errors:
            raise ValidationError(errors)
        return codes


class PatientPaymentForm(forms.Form):
    amount = forms.DecimalField(
        label="Amount received",
        max_digits=12,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0.01", "inputmode": "decimal"}),
    )
    method = forms.ChoiceField(
        choices=[(k, v.capitalize()) for k, v in PAYMENT_METHODS.items()],
        widget=forms.RadioSelect,
        initial="card",
    )
    reference = forms.CharField(
        required=False,
        max_length=60,
        help_text="Check number or the last four digits of the card.",
    )
    paid_on = forms.DateField(label="Date received", widget=DateInput)

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount <= 0:
            raise ValidationError("Enter the amount received, more than $0.00.")
        return amount

    def clean_paid_on(self):
        day = self.cleaned_data["paid_on"]
        if day > timezone.localdate():
            raise ValidationError("The payment date cannot be in the future.")
        return day
