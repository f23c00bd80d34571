from __future__ import annotations

from django import forms

from billing.models import Employer, Organization
from employer_collections import selectors
from employer_collections.models import EMPLOYER_COLLECTIONS_OFF, SeparateBy, SetAction

SEPARATE_BY_ENCOUNTER = "Encounter must be selected to perform the Collections process."


class EmployerChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Employer) -> str:
        return f"{obj.guarantor_id} — {obj.name}{' (TPA)' if obj.is_tpa else ''}"


class PreCollectionsFilterForm(forms.Form):
    """The seed's Pre-Collections Filter Criteria, plus minimum balance and age."""

    balance_for = forms.ChoiceField(
        label="Collections Balance For",
        error_messages={"invalid_choice": EMPLOYER_COLLECTIONS_OFF},
    )
    separate_by = forms.ChoiceField(
        label="Separate By",
        choices=SeparateBy.choices,
        initial=SeparateBy.ENCOUNTER,
        help_text="Encounter is the default and must be selected to perform the Collections "
        "process.",
    )
    employers = EmployerChoiceField(
        label="Employer/Guarantor ID/Name",
        queryset=Employer.objects.none(),
        required=False,
        help_text="Select specific Employers/TPAs; none selected means all.",
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )
    guarantor = forms.CharField(
        label="Guarantor ID or name", max_length=60, required=False, strip=True
    )
    min_balance = forms.DecimalField(
        label="Minimum balance", min_value=0, max_digits=12, decimal_places=2, required=False
    )
    min_age_days = forms.IntegerField(
        label="Minimum age (days)",
        min_value=0,
        max_value=3650,
        required=False,
        help_text="Days since the date of service.",
    )
    clear_current = forms.BooleanField(label="Clear the current list", required=False)

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.fields["balance_for"].choices = selectors.kinds_offered(organization)
        self.fields["balance_for"].initial = selectors.default_balance_for(organization)
        self.fields["employers"].queryset = Employer.objects.for_organization(
            organization
        ).order_by("name")

    def clean_separate_by(self) -> str:
        value = self.cleaned_data["separate_by"]
        if value != SeparateBy.ENCOUNTER:
            raise forms.ValidationError(SEPARATE_BY_ENCOUNTER)
        return value

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("balance_for") == "patient" and cleaned.get("employers"):
            self.add_error("employers", "Employers apply to Employer balances only.")
        return cleaned


class SetActionForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("", "No action (clear)"), *SetAction.choices],
        required=False,
        error_messages={"invalid_choice": "Choose one of the actions."},
    )
