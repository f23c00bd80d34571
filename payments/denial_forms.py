"""Forms of the denials worklist: its filters, and the write-off / patient actions."""

from __future__ import annotations

from django import forms
from django.core.validators import RegexValidator

from payments.models import ClaimPayment, ServiceLinePayment

GROUP_BY = [("carc", "Reason code (CARC)"), ("rarc", "Remark code (RARC)")]


class DenialFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=80, label="Search")
    code = forms.CharField(
        required=False,
        max_length=8,
        label="CARC",
        validators=[RegexValidator(r"^([A-Za-z]{2}-)?[A-Za-z0-9]{1,5}$", "A CARC as 50 or CO-50.")],
    )
    rarc = forms.CharField(
        required=False,
        max_length=8,
        label="RARC",
        validators=[RegexValidator(r"^[A-Za-z0-9]{1,8}$", "A RARC as N130 or M51.")],
    )
    payer = forms.ChoiceField(required=False, choices=())
    min_age = forms.IntegerField(
        required=False, min_value=0, max_value=3650, label="Older than (days)"
    )
    group = forms.ChoiceField(required=False, choices=GROUP_BY, label="Group by")

    def __init__(self, data, *, payers: list[str]):
        super().__init__(data)
        self.fields["payer"].choices = [("", "All payers"), *((p, p) for p in payers)]

    def filters(self) -> dict:
        """The valid filters; an invalid one is left out (and its error shown)."""
        self.is_valid()
        data = self.cleaned_data
        return {
            "search": data.get("q") or "",
            "code": (data.get("code") or "").upper(),
            "rarc": (data.get("rarc") or "").upper(),
            "payer": data.get("payer") or "",
            "min_age": data.get("min_age"),
        }

    @property
    def group_by(self) -> str:
        return (self.cleaned_data.get("group") if hasattr(self, "cleaned_data") else "") or "carc"


class DenialActionForm(forms.Form):
    """One action on a claim adjudication's open denials, or on one of its lines."""

    line = forms.IntegerField(required=False, widget=forms.HiddenInput)
    note = forms.CharField(required=False, max_length=200)

    def __init__(self, data, *, claim_payment: ClaimPayment):
        super().__init__(data)
        self.claim_payment = claim_payment

    def clean_line(self) -> ServiceLinePayment | None:
        pk = self.cleaned_data.get("line")
        if pk is None:
            return None
        line = ServiceLinePayment.objects.filter(pk=pk, claim_payment=self.claim_payment).first()
        if line is None:
            raise forms.ValidationError("That line is not on this claim's adjudication.")
        return line
