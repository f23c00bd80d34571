"""The "New Enrollment" wizard's steps and its draft.

The draft lives in the session, one per organization, and holds only the raw strings the
member posted (a list for the transaction types). Every look at it validates the whole
draft again with one `EnrollmentForm`, so a payer removed meanwhile, or an id posted from
another organization, is never taken as valid; each step reads the errors of its own fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.contrib.sessions.backends.base import SessionBase
from django.urls import reverse

from billing.models import Organization
from clearinghouse.forms import EnrollmentForm
from clearinghouse.models import (
    TRANSACTION_FIELDS,
    PayerEnrollment,
    TransactionType,
)
from clearinghouse.selectors import enrollment_setup_missing

# Model fields the service may name in its errors, mapped to the form field of their step.
MODEL_TO_FORM_FIELD = {field: "transaction_types" for field in TRANSACTION_FIELDS.values()}
LIST_FIELDS = {"transaction_types"}


@dataclass(frozen=True)
class Step:
    number: int
    slug: str
    title: str
    fields: tuple[str, ...]

    @property
    def url(self) -> str:
        return reverse("enrollment_wizard_step", args=[self.slug])


STEPS = (
    Step(1, "payer", "Payer", ("payer",)),
    Step(
        2,
        "clearinghouse",
        "Clearinghouse and electronic payer id",
        ("clearinghouse", "electronic_payer_id"),
    ),
    Step(
        3,
        "details",
        "Transaction types and dates",
        (
            "transaction_types",
            "enrollment_status",
            "enrolled_on",
            "effective_from",
            "effective_to",
            "notes",
        ),
    ),
    Step(4, "review", "Review", ()),
)
FIRST, REVIEW = STEPS[0], STEPS[-1]
BY_SLUG = {step.slug: step for step in STEPS}


def step_for_field(name: str) -> Step:
    name = MODEL_TO_FORM_FIELD.get(name, name)
    return next((step for step in STEPS if name in step.fields), REVIEW)


def previous_step(step: Step) -> Step:
    return STEPS[max(step.number - 2, 0)]


def next_step(step: Step) -> Step:
    return STEPS[min(step.number, len(STEPS) - 1)]


def session_key(organization: Organization) -> str:
    return f"enrollment_wizard:{organization.pk}"


@dataclass
class IndicatorItem:
    step: Step
    state: str  # current, done, open (reachable, not done yet) or locked
    clickable: bool


class Wizard:
    def __init__(self, session: SessionBase, organization: Organization):
        self.session = session
        self.organization = organization
        self.draft: dict[str, Any] = dict(session.get(session_key(organization), {}))

    # --- the draft ----------------------------------------------------------------------

    def store(self, step: Step, data) -> None:
        """Keep what was posted for the step's fields, valid or not, as raw strings."""
        for name in step.fields:
            if name in LIST_FIELDS:
                self.draft[name] = [str(v) for v in data.getlist(name)]
            else:
                self.draft[name] = str(data.get(name, ""))
        self.session[session_key(self.organization)] = self.draft
        self.__dict__.pop("form", None)

    def discard(self) -> None:
        self.session.pop(session_key(self.organization), None)
        self.draft = {}
        self.__dict__.pop("form", None)

    @property
    def has_draft(self) -> bool:
        return bool(self.draft)

    # --- validation ---------------------------------------------------------------------

    @cached_property
    def form(self) -> EnrollmentForm:
        """The whole draft in one bound form; steps not visited yet simply fail."""
        return EnrollmentForm(data=self.draft, organization=self.organization)

    def visited(self, step: Step) -> bool:
        return any(name in self.draft for name in step.fields)

    def valid(self, step: Step) -> bool:
        errors = self.form.errors
        return not any(name in errors for name in step.fields)

    def done(self, step: Step) -> bool:
        if step is REVIEW:
            return False
        return self.visited(step) and self.valid(step)

    def first_unfinished_before(self, step: Step) -> Step | None:
        """The first earlier step that is not done: the one to send the member back to."""
        return next((s for s in STEPS[: step.number - 1] if not self.done(s)), None)

    @property
    def chosen(self) -> dict[str, Any]:
        """The valid answers of the first steps, to remind the member of them later on."""
        self.form.is_valid()  # cleaned_data then holds the fields that are valid
        cleaned = self.form.cleaned_data
        return {name: cleaned.get(name) for name in (*STEPS[0].fields, *STEPS[1].fields)}

    def form_for(self, step: Step) -> EnrollmentForm:
        """The bound draft (with its errors) once the step was visited; the form's
        initial values before that."""
        if self.visited(step):
            return self.form
        return EnrollmentForm(organization=self.organization)

    def indicator(self, current: Step) -> list[IndicatorItem]:
        items = []
        reachable = True
        for step in STEPS:
            done = self.done(step)
            if step is current:
                state = "current"
            elif done:
                state = "done"
            elif reachable:
                state = "open"
            else:
                state = "locked"
            items.append(IndicatorItem(step, state, state in ("done", "open")))
            reachable = reachable and done
        return items

    # --- what the form cannot start without ----------------------------------------------

    def blockers(self) -> dict[str, bool]:
        """The seed's "before you start" rules (what the form cannot start without)."""
        return enrollment_setup_missing(self.organization)

    # --- the review ---------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """The cleaned draft, with labels for display (call only when the form is valid)."""
        data = self.form.cleaned_data
        type_labels = dict(TransactionType.choices)
        return {
            **data,
            "transaction_type_labels": [type_labels[t] for t in data["transaction_types"]],
            "status_label": PayerEnrollment.Status(data["enrollment_status"]).label,
        }

    def create_kwargs(self) -> dict[str, Any]:
        return dict(self.form.cleaned_data)

    def live_duplicate(self) -> PayerEnrollment | None:
        """The live enrollment of the drafted payer and clearinghouse, if there is one."""
        if not self.form.is_valid():
            return None
        return (
            PayerEnrollment.objects.live()
            .for_organization(self.organization)
            .filter(
                payer=self.form.cleaned_data["payer"],
                clearinghouse=self.form.cleaned_data["clearinghouse"],
            )
            .first()
        )


def errors_by_step(errors: dict[str, list[str]]) -> list[tuple[Step, str]]:
    """A service's ValidationError (by field) as (step to fix it in, message) pairs."""
    return [
        (step_for_field(name), message) for name, messages in errors.items() for message in messages
    ]
