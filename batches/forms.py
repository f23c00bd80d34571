from __future__ import annotations

from django import forms

from batches.sources import SOURCES


class JobTypeForm(forms.Form):
    """Step 1 of the Batch Operation Wizard."""

    type = forms.ChoiceField(
        label="Job type",
        choices=[(s.job_type, s.label) for s in SOURCES.values()],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose a job type.",
            "invalid_choice": "Choose a job type: %(value)s is not one.",
        },
    )
