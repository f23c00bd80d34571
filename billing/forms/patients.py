"""Forms of the patient pages. Rules that need the database (a unique account number, one
open coverage per order) live in billing.services.patients; these check the input."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils import timezone

from billing.models import Coverage, Organization, Patient
from billing.selectors import patients as selectors

DATE_INPUT = {"type": "date"}
# USPS codes: the states, DC, territories and the military "states".
_STATE_CODES = (
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV "
    "NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY "
    "AS GU MP PR VI AA AE AP"
)
US_STATES = frozenset(_STATE_CODES.split())


class PatientSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, strip=True)


class PatientForm(forms.ModelForm):
    # The model keeps 9 digits; people type ZIP+4 with its dash.
    zip_code = forms.CharField(
        label="ZIP", max_length=10, required=False, widget=forms.TextInput(attrs={"size": 10})
    )

    class Meta:
        model = Patient
        fields = [
            "account_number",
            "last_name",
            "first_name",
            "birth_date",
            "sex",
            "address_line1",
            "address_line2",
            "city",
            "state",
            "zip_code",
            "phone",
            "email",
        ]
        widgets = {
            "birth_date": forms.DateInput(attrs=DATE_INPUT, format="%Y-%m-%d"),
            "state": forms.TextInput(attrs={"size": 2, "autocapitalize": "characters"}),
            "phone": forms.TextInput(attrs={"type": "tel"}),
        }
        labels = {"account_number": "Account #"}

    def clean_account_number(self) -> str:
        return self.cleaned_data["account_number"].strip().upper()

    def clean_state(self) -> str:
        state = self.cleaned_data["state"].strip().upper()
        if state and state not in US_STATES:
            raise forms.ValidationError("Use the two-letter state code (as IL).")
        return state

    def clean_zip_code(self) -> str:
        return self.cleaned_data["zip_code"].replace("-", "").replace(" ", "")

    def clean_birth_date(self) -> datetime.date | None:
        birth_date = self.cleaned_data["birth_date"]
        if birth_date and birth_date > timezone.localdate():
            raise forms.ValidationError("The birth date cannot be in the future.")
        return birth_date


class CoverageForm(forms.ModelForm):
    class Meta:
        model = Coverage
        fields = [
            "order",
            "payer",
            "member_id",
            "group_number",
            "relationship",
            "subscriber_last_name",
            "subscriber_first_name",
            "subscriber_birth_date",
            "effective_from",
            "effective_to",
        ]
        widgets = {
            "subscriber_birth_date": forms.DateInput(attrs=DATE_INPUT, format="%Y-%m-%d"),
            "effective_from": forms.DateInput(attrs=DATE_INPUT, format="%Y-%m-%d"),
            "effective_to": forms.DateInput(attrs=DATE_INPUT, format="%Y-%m-%d"),
        }
        labels = {"member_id": "Member id", "group_number": "Group #", "effective_to": "Ends"}
        help_texts = {"effective_to": "Leave empty while the coverage is open."}
        error_messages = {
            "member_id": {"required": "Enter the member id from the card."},
            "payer": {"required": "Choose the payer."},
        }

    def __init__(self, *args, organization: Organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        payer = self.fields["payer"]
        assert isinstance(payer, forms.ModelChoiceField)
        payer.queryset = selectors.payers_for(organization)
        payer.empty_label = "Choose a payer"
        self.fields["effective_from"].label = "Effective from"

    def clean_member_id(self) -> str:
        return self.cleaned_data["member_id"].strip()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("effective_from"), cleaned.get("effective_to")
        if start and end and end < start:
            self.add_error("effective_to", "The end date cannot be before the effective date.")
        return cleaned


class CoverageEndForm(forms.Form):
    end_date = forms.DateField(
        label="Last day covered",
        required=False,
        help_text="Today when left empty.",
        widget=forms.DateInput(attrs=DATE_INPUT, format="%Y-%m-%d"),
    )
