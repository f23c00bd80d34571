from __future__ import annotations

import re
from decimal import Decimal
from typing import cast

from django import forms
from django.core.exceptions import ValidationError

from billing.forms.encounters import DateInput
from billing.models import Charge, Encounter, Organization, Payer, Provider
from billing.selectors.charges import plain_units

POINTER_FIELDS = ("pointer_1", "pointer_2", "pointer_3", "pointer_4")


class ChargeForm(forms.Form):
    procedure_code = forms.CharField(
        label="CPT/HCPCS",
        max_length=5,
        widget=forms.TextInput(attrs={"size": 7, "autocomplete": "off", "spellcheck": "false"}),
    )
    modifiers = forms.CharField(
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"size": 14, "autocomplete": "off"}),
        help_text="Up to 4, separated by spaces or commas (25 59).",
    )
    units = forms.DecimalField(
        max_digits=7,
        decimal_places=3,
        initial=Decimal("1"),
        widget=forms.NumberInput(attrs={"step": "1", "min": "1", "size": 6}),
    )
    amount = forms.DecimalField(
        label="Amount",
        max_digits=12,
        decimal_places=2,
        help_text="For all units.",
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0.01", "inputmode": "decimal"}),
    )

    def __init__(self, *args, encounter: Encounter, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "—")] + [
            (str(i), f"{i}. {code}")
            for i, code in enumerate(encounter.diagnosis_codes or [], start=1)
        ]
        for n, name in enumerate(POINTER_FIELDS, start=1):
            self.fields[name] = forms.TypedChoiceField(
                label="Primary diagnosis" if n == 1 else f"Diagnosis {n}",
                choices=choices,
                coerce=int,
                empty_value=None,
                required=n == 1,
                error_messages={
                    "required": "Point at the diagnosis this charge treats.",
                    "invalid_choice": "Point at one of the encounter's diagnosis codes.",
                },
            )

    @property
    def pointer_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in POINTER_FIELDS]

    @property
    def pointer_errors(self) -> list[str]:
        return [str(message) for name in POINTER_FIELDS for message in self.errors.get(name, [])]

    @classmethod
    def initial_for(cls, charge: Charge) -> dict:
        initial = {
            "procedure_code": charge.procedure_code,
            "modifiers": " ".join(charge.modifiers or []),
            "units": plain_units(charge.units),
            "amount": charge.amount,
        }
        for name, pointer in zip(POINTER_FIELDS, charge.diagnosis_pointers or [], strict=False):
            initial[name] = pointer
        return initial

    def clean_procedure_code(self) -> str:
        code = self.cleaned_data["procedure_code"].strip().upper()
        # The model's own validators, so every shape error shows in one round.
        for validator in Charge._meta.get_field("procedure_code").validators:
            validator(code)
        return code

    def clean_modifiers(self) -> list[str]:
        mods = [m.upper() for m in re.split(r"[\s,;]+", self.cleaned_data["modifiers"]) if m]
        if len(mods) > 4 or not all(re.fullmatch(r"[0-9A-Z]{2}", m) for m in mods):
            raise ValidationError("Up to 4 modifiers of two letters or digits.")
        return mods

    def clean_units(self) -> Decimal:
        units = self.cleaned_data["units"]
        if units < 1:
            raise ValidationError("Units must be at least 1.")
        return units

    def clean_amount(self) -> Decimal:
        amount = self.cleaned_data["amount"]
        if amount <= 0:
            raise ValidationError("Enter an amount greater than $0.00.")
        return amount

    def clean(self):
        cleaned = super().clean()
        pointers = [cleaned.get(name) for name in POINTER_FIELDS]
        chosen = [p for p in pointers if p is not None]
        if len(chosen) != len(set(chosen)):
            self.add_error("pointer_1", "Point at each diagnosis only once.")
        cleaned["diagnosis_pointers"] = chosen
        return cleaned

    def service_values(self) -> dict:
        data = self.cleaned_data
        return {
            "procedure_code": data["procedure_code"],
            "modifiers": data["modifiers"],
            "diagnosis_pointers": data["diagnosis_pointers"],
            "units": data["units"],
            "amount": data["amount"],
        }


# Service errors on the pointers are shown with the pointer selects.
CHARGE_ERROR_ALIASES = {"diagnosis_pointers": "pointer_1"}


class ChargeFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", "Any status"), *Charge.Status.choices], required=False)
    date_from = forms.DateField(label="Service from", required=False, widget=DateInput)
    date_to = forms.DateField(label="to", required=False, widget=DateInput)
    provider = forms.ModelChoiceField(
        queryset=Provider.objects.none(), required=False, empty_label="Any provider"
    )
    payer = forms.ModelChoiceField(
        label="Primary payer",
        queryset=Payer.objects.none(),
        required=False,
        empty_label="Any primary payer",
    )

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        provider = cast(forms.ModelChoiceField, self.fields["provider"])
        provider.queryset = Provider.objects.for_organization(organization)
        payer = cast(forms.ModelChoiceField, self.fields["payer"])
        payer.queryset = Payer.objects.for_organization(organization)

    def filters(self) -> dict:
        """The valid filters; a junk value is ignored rather than failing the page."""
        if self.is_valid():
            data = self.cleaned_data
        else:
            data = {k: v for k, v in self.cleaned_data.items() if k not in self.errors}
        return {
            "status": data.get("status") or "",
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
            "provider": data.get("provider"),
            "payer": data.get("payer"),
        }
