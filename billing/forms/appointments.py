from __future__ import annotations

import datetime
from typing import cast

from django import forms
from django.utils import timezone

from billing.forms.claims import DateInput
from billing.models import Appointment, Organization, Provider
from billing.selectors import appointments as selectors

MAX_DURATION = 480


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%H:%M")


class AppointmentFilterForm(forms.Form):
    when = forms.ChoiceField(
        choices=[(selectors.UPCOMING, "Upcoming"), (selectors.PAST, "Past")],
        required=False,
        widget=forms.HiddenInput,
    )
    provider = forms.ModelChoiceField(
        queryset=Provider.objects.none(), required=False, empty_label="All providers"
    )
    status = forms.ChoiceField(
        choices=[("", "All statuses"), *Appointment.Status.choices], required=False
    )
    date_from = forms.DateField(label="From", required=False, widget=DateInput)
    date_to = forms.DateField(label="To", required=False, widget=DateInput)

    def __init__(self, data, *, organization: Organization, today: datetime.date):
        """Without dates in the query, the range is the default for the chosen direction
        (an explicitly emptied date means no limit on that side)."""
        data = data.copy()
        if "date_from" not in data and "date_to" not in data:
            start, end = selectors.default_range(data.get("when") or selectors.UPCOMING, today)
            data["date_from"], data["date_to"] = start.isoformat(), end.isoformat()
        super().__init__(data)
        provider = cast(forms.ModelChoiceField, self.fields["provider"])
        provider.queryset = selectors.appointment_providers(organization)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned

    def filters(self) -> dict:
        """The valid filters, as keyword arguments for `appointment_list_queryset`."""
        self.is_valid()
        data = self.cleaned_data
        return {
            "when": data.get("when") or selectors.UPCOMING,
            "provider": data.get("provider"),
            "status": data.get("status") or "",
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
        }


class AppointmentForm(forms.Form):
    account_number = forms.CharField(
        label="Patient account number",
        max_length=20,
        help_text="The patient's account number, as on the patient's page.",
    )
    provider = forms.ModelChoiceField(
        queryset=Provider.objects.none(), empty_label="Choose a provider"
    )
    date = forms.DateField(
        widget=DateInput, help_text="A past date records a visit that already happened."
    )
    time = forms.TimeField(widget=TimeInput)
    duration_minutes = forms.IntegerField(
        label="Duration (minutes)", min_value=1, max_value=MAX_DURATION, initial=20
    )
    reason = forms.CharField(max_length=120, required=False)
    status = forms.ChoiceField(choices=Appointment.Status.choices, initial="scheduled")

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        provider = cast(forms.ModelChoiceField, self.fields["provider"])
        provider.queryset = selectors.appointment_providers(organization)
        provider.error_messages["invalid_choice"] = "Choose one of this organization's providers."

    @classmethod
    def for_appointment(cls, appointment: Appointment, **kwargs) -> AppointmentForm:
        local = timezone.localtime(appointment.scheduled_at)
        initial = {
            "account_number": appointment.patient.account_number,
            "provider": appointment.provider_id,
            "date": local.date(),
            "time": local.time().replace(second=0, microsecond=0),
            "duration_minutes": appointment.duration_minutes,
            "reason": appointment.reason,
            "status": appointment.status,
        }
        return cls(initial=initial, **kwargs)

    def clean_account_number(self) -> str:
        number = self.cleaned_data["account_number"].strip()
        self.patient = selectors.patient_by_account_number(self.organization, number)
        if self.patient is None:
            raise forms.ValidationError(
                f"No patient with account number {number} in {self.organization.name}."
            )
        return number

    def appointment_fields(self) -> dict:
        """The cleaned form as the keyword arguments of the appointment services; the date
        and time are read in the organization's time zone."""
        data = self.cleaned_data
        scheduled_at = timezone.make_aware(datetime.datetime.combine(data["date"], data["time"]))
        return {
            "patient": self.patient,
            "provider": data["provider"],
            "scheduled_at": scheduled_at,
            "duration_minutes": data["duration_minutes"],
            "reason": data["reason"],
            "status": data["status"],
        }
