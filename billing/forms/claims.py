from __future__ import annotations

from typing import cast

from django import forms

from billing.models import Claim, Organization, Payer, Provider
from billing.selectors import claims as selectors


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class ClaimFilterForm(forms.Form):
    """The claim list's filters. Each is optional; an invalid one (a junk date, another
    organization's payer) is left out of the query and its error shown above the rows."""

    status = forms.ChoiceField(
        choices=[("", "All statuses"), *Claim.Status.choices], required=False
    )
    payer = forms.ModelChoiceField(
        queryset=Payer.objects.none(), required=False, empty_label="All payers"
    )
    provider = forms.ModelChoiceField(
        queryset=Provider.objects.none(), required=False, empty_label="All providers"
    )
    date_basis = forms.ChoiceField(
        label="Dates by",
        choices=[
            (selectors.DATE_OF_SERVICE, "Date of service"),
            (selectors.CREATED, "Created date"),
        ],
        required=False,
    )
    date_from = forms.DateField(label="From", required=False, widget=DateInput)
    date_to = forms.DateField(label="To", required=False, widget=DateInput)

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        choices = {
            "payer": selectors.claim_payers(organization),
            "provider": selectors.claim_providers(organization),
        }
        for name, queryset in choices.items():
            cast(forms.ModelChoiceField, self.fields[name]).queryset = queryset

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned

    def filters(self) -> dict:
        """The valid filters, as keyword arguments for `claim_list_queryset`."""
        self.is_valid()
        data = self.cleaned_data
        return {
            "status": data.get("status") or "",
            "payer": data.get("payer"),
            "provider": data.get("provider"),
            "date_basis": data.get("date_basis") or selectors.DATE_OF_SERVICE,
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
        }
