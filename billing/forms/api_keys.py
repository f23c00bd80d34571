from __future__ import annotations

from django import forms


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(
        max_length=80,
        help_text="What the key is for, as “Nightly export” — you will see it in this list.",
    )
