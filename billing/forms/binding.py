"""Binding forms to requests, and a service's ValidationError back onto its form."""

from __future__ import annotations

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpRequest, QueryDict


def posted_data(request: HttpRequest) -> QueryDict | None:
    """The POST data to bind a form to, or None on GET (an empty POST still binds)."""
    return request.POST if request.method == "POST" else None


def add_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """A service's ValidationError onto the form: next to the field it names, or at the
    top of the form for anything else."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, field_errors in error.error_dict.items():
        form.add_error(field if field in form.fields else NON_FIELD_ERRORS, field_errors)


def really_changed(form: forms.BaseForm) -> bool:
    """Whether a saved form changed a value, not only its spelling ("il" for "IL")."""
    return any(form.cleaned_data.get(name) != form.initial.get(name) for name in form.changed_data)
