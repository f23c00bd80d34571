from __future__ import annotations

from django import forms


class OrganizationSwitchForm(forms.Form):
    organization = forms.IntegerField(min_value=1)


class AuditFilterForm(forms.Form):
    action = forms.CharField(required=False, max_length=80)
