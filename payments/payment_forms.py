"""Forms of the payments pages. The manual payment form leaves validation to the services
(`payments.services`): their `(field, message)` pairs are the seed's messages, shown on the
fields, so the page and the API say the same thing."""

from __future__ import annotations

import datetime
from typing import Any, cast

from django import forms

from billing.forms.encounters import DateInput
from payments.models import InsurancePayment
from payments.reconciliation import MAX_BYTES
from payments.selectors import MAX_KEYWORDS_LENGTH

# The 16 sort keys of seed 003 as the sort select shows them.
ORDER_LABELS = {
    "PAID_DATE_DESC": "Paid date, newest first",
    "PAID_DATE_ASC": "Paid date, oldest first",
    "PAID_AMOUNT_DESC": "Amount, highest first",
    "PAID_AMOUNT_ASC": "Amount, lowest first",
    "PAYER_NAME_DESC": "Payer, Z-A",
    "PAYER_NAME_ASC": "Payer, A-Z",
    "NPI_DESC": "NPI, descending",
    "NPI_ASC": "NPI, ascending",
    "ACH_CHECK_NUMBER_DESC": "Check/ACH number, descending",
    "ACH_CHECK_NUMBER_ASC": "Check/ACH number, ascending",
    "SOURCE_DESC": "Source, descending",
    "SOURCE_ASC": "Source, ascending",
    "CREATED_AT_DESC": "Created, newest first",
    "CREATED_AT_ASC": "Created, oldest first",
    "UPDATED_AT_DESC": "Updated, newest first",
    "UPDATED_AT_ASC": "Updated, oldest first",
}

DEPOSIT_CHOICES = InsurancePayment.DepositStatus.choices


class PaymentFilterForm(forms.Form):
    start_paid_date = forms.DateField(label="Paid from", required=False, widget=DateInput)
    end_paid_date = forms.DateField(label="to", required=False, widget=DateInput)
    keywords = forms.CharField(
        label="Search",
        required=False,
        max_length=MAX_KEYWORDS_LENGTH,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": "NPI, check/ACH no. or payer",
                "aria-label": "Search NPI, check/ACH number or payer",
                "size": 24,
            }
        ),
    )
    deposit_status = forms.ChoiceField(
        label="Deposit status",
        required=False,
        choices=[("", "Any deposit status"), *DEPOSIT_CHOICES],
        widget=forms.Select(attrs={"aria-label": "Deposit status"}),
    )
    payer = forms.ChoiceField(
        label="Payer", required=False, widget=forms.Select(attrs={"aria-label": "Payer"})
    )
    order_by = forms.ChoiceField(label="Sort", required=False, choices=list(ORDER_LABELS.items()))

    def __init__(self, *args: Any, payers: list[str], **kwargs: Any):
        super().__init__(*args, **kwargs)
        payer = cast(forms.ChoiceField, self.fields["payer"])
        payer.choices = [("", "All payers"), *((name, name) for name in payers)]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start, end = data.get("start_paid_date"), data.get("end_paid_date")
        if start and end and end < start:
            self.add_error("end_paid_date", "The end date is before the start date.")
        return data

    def filters(self) -> dict[str, Any]:
        """The valid filters, as `insurance_payments_page` takes them; a bad value is shown
        on its field and left out rather than failing the page."""
        self.is_valid()
        data = {k: v for k, v in self.cleaned_data.items() if k not in self.errors}
        return {
            "start_paid_date": data.get("start_paid_date"),
            "end_paid_date": data.get("end_paid_date"),
            "keywords": data.get("keywords") or None,
            "deposit_status": data.get("deposit_status") or None,
            "payer": data.get("payer") or None,
        }

    def sort_key(self) -> str:
        self.is_valid()
        return self.cleaned_data.get("order_by") or "PAID_DATE_DESC"


class PaymentForm(forms.Form):
    """A manual payment as typed; the service checks it (required fields, NPI of 10 digits,
    an amount over 0 with at most two decimals, ...)."""

    paid_date = forms.CharField(label="Paid date", required=False, widget=DateInput)
    payer_name = forms.CharField(
        label="Payer name",
        required=False,
        widget=forms.TextInput(attrs={"size": 30, "autocomplete": "off", "list": "payer-names"}),
    )
    paid_amount = forms.CharField(
        label="Paid amount",
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 12, "autocomplete": "off"}),
    )
    npi = forms.CharField(
        label="NPI",
        required=False,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "size": 12, "autocomplete": "off", "maxlength": 10}
        ),
        help_text="10 digits: the NPI the payer paid.",
    )
    ach_check_number = forms.CharField(
        label="Check/ACH number",
        required=False,
        widget=forms.TextInput(attrs={"size": 20, "autocomplete": "off"}),
        help_text="Optional. Reconciliation finds it in the bank's deposit description.",
    )
    deposit_status = forms.CharField(
        label="Deposit status",
        required=False,
        initial=InsurancePayment.DepositStatus.PENDING,
        widget=forms.Select(choices=DEPOSIT_CHOICES),
    )

    REQUIRED = ("paid_date", "payer_name", "paid_amount", "npi", "deposit_status")

    @staticmethod
    def initial_for(payment: InsurancePayment) -> dict[str, Any]:
        return {
            "paid_date": payment.paid_date.isoformat(),
            "payer_name": payment.payer_name,
            "paid_amount": f"{payment.paid_amount:.2f}",
            "npi": payment.npi or "",
            "ach_check_number": payment.ach_check_number or "",
            "deposit_status": payment.deposit_status,
        }

    def service_values(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name, "") for name in self.fields}


class DepositStatusForm(forms.Form):
    deposit_status = forms.ChoiceField(label="Deposit status", choices=DEPOSIT_CHOICES)


class ReconciliationRangeForm(forms.Form):
    start_paid_date = forms.DateField(label="Paid from", required=False, widget=DateInput)
    end_paid_date = forms.DateField(label="to", required=False, widget=DateInput)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start, end = data.get("start_paid_date"), data.get("end_paid_date")
        if start and end and end < start:
            self.add_error("end_paid_date", "The end date is before the start date.")
        return data

    def range(self) -> tuple[datetime.date | None, datetime.date | None]:
        self.is_valid()
        data = {k: v for k, v in self.cleaned_data.items() if k not in self.errors}
        return data.get("start_paid_date"), data.get("end_paid_date")


class BankCsvForm(forms.Form):
    deposits = forms.FileField(
        label="Bank deposit CSV",
        error_messages={
            "required": "Choose the bank's deposit CSV file.",
            "empty": "The file is empty.",
        },
        widget=forms.FileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_deposits(self):
        upload = self.cleaned_data["deposits"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.", code="too_big"
            )
        return upload
