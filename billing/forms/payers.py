"""Forms of the payers page. A payer id used twice in the organization is refused by
billing.services.payers (it needs the database); these check the input."""

from __future__ import annotations

from django import forms

from billing.forms.patients import US_STATES
from billing.models import Payer


class PayerSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, strip=True)


class PayerForm(forms.ModelForm):
    # Longer than the model's 2 characters, so "Illinois" gets the message of clean_state.
    state = forms.CharField(
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"size": 2, "autocapitalize": "characters"}),
    )
    # The model keeps 9 digits; people type ZIP+4 with its dash.
    zip_code = forms.CharField(
        label="ZIP", max_length=10, required=False, widget=forms.TextInput(attrs={"size": 10})
    )

    class Meta:
        model = Payer
        fields = [
            "name",
            "payer_id",
            "claim_filing_indicator",
            "address_line1",
            "address_line2",
            "city",
            "state",
            "zip_code",
            "phone",
        ]
        widgets = {
            "phone": forms.TextInput(attrs={"type": "tel"}),
        }
        labels = {"payer_id": "Payer id", "address_line1": "Address"}
        help_texts = {"payer_id": "The payer's own id (the electronic id is on each enrollment)."}
        error_messages = {
            "name": {"required": "Enter the payer's name."},
            "payer_id": {"required": "Enter the payer id."},
        }

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())

    def clean_payer_id(self) -> str:
        return self.cleaned_data["payer_id"].strip()

    def clean_state(self) -> str:
        state = self.cleaned_data["state"].strip().upper()
        if state and state not in US_STATES:
            raise forms.ValidationError("Use the two-letter state code (as IL).")
        return state

    def clean_zip_code(self) -> str:
        zip_code = self.cleaned_data["zip_code"].replace("-", "").replace(" ", "")
        if zip_code and not (zip_code.isdigit() and len(zip_code) in (5, 9)):
            raise forms.ValidationError("A ZIP code is 5 digits, or ZIP+4 (as 62701-1234).")
        return zip_code
