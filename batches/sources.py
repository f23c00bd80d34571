"""Which records a job type works on, found with the same filters (forms and selectors) as
the Charges, Claims and Appointments lists, so "all N matching the filter" on a list, in the
wizard and when the job starts is one and the same set of rows."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.http import QueryDict
from django.utils import timezone

from batches.models import JobType
from billing.forms.appointments import AppointmentFilterForm
from billing.forms.charges import ChargeFilterForm
from billing.forms.claims import ClaimFilterForm
from billing.models import Appointment, Charge, Claim, Organization
from billing.selectors.appointments import appointment_list_queryset
from billing.selectors.charges import charge_list_queryset
from billing.selectors.claims import DATE_OF_SERVICE, claim_list_queryset

# The list pages' query strings can carry these besides the filters.
NOT_FILTERS = frozenset({"page"})


def _charge_form(organization: Organization, data: QueryDict) -> forms.Form:
    return ChargeFilterForm(data, organization=organization)


def _charge_rows(organization: Organization, form: Any) -> QuerySet:
    return charge_list_queryset(organization, **form.filters())


def _claim_form(organization: Organization, data: QueryDict) -> forms.Form:
    return ClaimFilterForm(data, organization=organization)


def _claim_rows(organization: Organization, form: Any) -> QuerySet:
    return claim_list_queryset(organization, **form.filters())


def _appointment_form(organization: Organization, data: QueryDict) -> forms.Form:
    return AppointmentFilterForm(data, organization=organization, today=timezone.localdate())


def _appointment_rows(organization: Organization, form: Any) -> QuerySet:
    return appointment_list_queryset(organization, now=timezone.now(), **form.filters())


@dataclass(frozen=True)
class Source:
    job_type: str
    kind: str  # charge, claim or appointment
    model: type[Model]
    ids_field: str  # the row checkboxes' name on the list and in the wizard
    list_url: str  # the list page's URL name
    list_label: str
    description: str
    default_label: str
    defaults: dict[str, str]
    form_class: type[forms.Form]
    make_form: Callable[[Organization, QueryDict], forms.Form]
    make_rows: Callable[[Organization, Any], QuerySet]
    noun: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "noun", f"{self.kind}s")

    @property
    def label(self) -> str:
        return JobType(self.job_type).label

    def form(self, organization: Organization, data: QueryDict) -> forms.Form:
        """The list's filter form bound to `data` (a list's or the wizard's query)."""
        return self.make_form(organization, data)

    def rows(self, organization: Organization, form: forms.Form) -> QuerySet:
        return self.make_rows(organization, form)


CHARGE_APPROVAL = Source(
    job_type=JobType.CHARGE_APPROVAL,
    kind="charge",
    model=Charge,
    ids_field="charge_ids",
    list_url="charge_list",
    list_label="Charges list",
    description=(
        "Checks each draft charge (CPT/HCPCS and ICD-10 shapes, diagnosis pointers, units, "
        "amount, provider NPI, patient coverage) and approves it, or records why not."
    ),
    default_label="Draft charges",
    defaults={"status": Charge.Status.DRAFT},
    form_class=ChargeFilterForm,
    make_form=_charge_form,
    make_rows=_charge_rows,
)
CLAIM_GENERATION = Source(
    job_type=JobType.CLAIM_GENERATION,
    kind="charge",
    model=Charge,
    ids_field="charge_ids",
    list_url="charge_list",
    list_label="Charges list",
    description=(
        "Groups approved charges per encounter and payer into claims ready to submit; the "
        "charges become billed, and a charge is never billed twice."
    ),
    default_label="Approved charges",
    defaults={"status": Charge.Status.APPROVED},
    form_class=ChargeFilterForm,
    make_form=_charge_form,
    make_rows=_charge_rows,
)
CLAIM_SUBMISSION = Source(
    job_type=JobType.CLAIM_SUBMISSION,
    kind="claim",
    model=Claim,
    ids_field="claim_ids",
    list_url="claim_list",
    list_label="Claims list",
    description=(
        "Sends each ready claim as an 837P to the clearinghouse the payer is routed to; the "
        "acknowledgements (999, 277CA) settle it."
    ),
    default_label="Claims ready to submit",
    defaults={"status": Claim.Status.READY},
    form_class=ClaimFilterForm,
    make_form=_claim_form,
    make_rows=_claim_rows,
)
ELIGIBILITY_CHECK = Source(
    job_type=JobType.ELIGIBILITY_CHECK,
    kind="appointment",
    model=Appointment,
    ids_field="appointment_ids",
    list_url="appointment_list",
    list_label="Appointments list",
    description=(
        "Asks each patient's payer (270/271) whether the coverage is active, with plan, copay "
        "and deductible; the result shows on the appointment and the patient."
    ),
    default_label="Upcoming scheduled appointments",
    defaults={"when": "upcoming", "status": Appointment.Status.SCHEDULED},
    form_class=AppointmentFilterForm,
    make_form=_appointment_form,
    make_rows=_appointment_rows,
)

# In the order a biller works: approve, generate, submit; eligibility before the visits.
SOURCES: dict[str, Source] = {
    s.job_type: s for s in (CHARGE_APPROVAL, CLAIM_GENERATION, CLAIM_SUBMISSION, ELIGIBILITY_CHECK)
}


def source_for(job_type: str | None) -> Source | None:
    return SOURCES.get(job_type or "")


def filter_data(query: QueryDict | str, *, source: Source, defaults: bool) -> QueryDict:
    """The filter part of a query (`page` and anything else dropped); with `defaults`, the
    job type's default filter when the query names none of the filters."""
    if isinstance(query, str):
        query = QueryDict(query)
    names = set(source.form_class.base_fields)
    data = QueryDict(mutable=True)
    for name in names:
        if name in query:
            data.setlist(name, query.getlist(name))
    if defaults and not any(name in query for name in names):
        data.update(source.defaults)
    return data


def filter_query(form: forms.Form) -> str:
    """The bound form's filters as a query string (an appointment form's default dates
    included), to carry the selection to the next step and to the job."""
    bound = cast(QueryDict, form.data)
    data = QueryDict(mutable=True)
    for name in form.fields:
        if name in bound:
            data.setlist(name, bound.getlist(name))
    return data.urlencode()


def filter_summary(form: forms.Form) -> dict[str, str]:
    """The filters in force, as a person reads them (label -> value), for the job's
    parameters. Invalid filters are ignored by the lists, so they are left out here too."""
    form.is_valid()
    summary: dict[str, str] = {}
    data = form.cleaned_data
    for name, bound in form.fields.items():
        value = data.get(name)
        if value in (None, "", []):
            continue
        if name == "date_basis" and (value == DATE_OF_SERVICE or not _has_dates(data)):
            continue
        label = str(bound.label or name.replace("_", " ").capitalize())
        if isinstance(bound, forms.ModelChoiceField):
            text = str(value)
        elif isinstance(bound, forms.ChoiceField):
            text = str(dict(cast(Any, bound.choices)).get(value, value))
        elif isinstance(value, datetime.date):
            text = value.strftime("%m/%d/%Y")
        else:
            text = str(value)
        summary[label] = text
    return summary


def _has_dates(data: dict) -> bool:
    return bool(data.get("date_from") or data.get("date_to"))


@dataclass
class Selection:
    """The records a batch is about to run on, and how they were chosen."""

    source: Source
    all_matching: bool
    count: int
    ids: list[int]  # empty when only counted
    filters: dict[str, str]
    query: str  # the filter query string ("" for rows picked by hand)

    def parameters(self, started_from: str) -> dict[str, Any]:
        parameters: dict[str, Any] = {
            "source": started_from,
            "selection": "All matching the filter" if self.all_matching else "Selected rows",
        }
        if self.all_matching:
            parameters["filters"] = self.filters
        return parameters


def selection_from(
    organization: Organization, source: Source, data: QueryDict, *, count_only: bool = False
) -> Selection:
    """The records posted (or carried in a query) by a list or the wizard: the ticked rows
    (`<kind>_ids`), or, with `all_matching=1`, every row the filter in `filter_query`
    matches, resolved here by the list's own selector (`count_only`: counted, not loaded).
    Raises ValidationError with a
    message for the user when the selection is empty or not ids."""
    if data.get("all_matching") == "1":
        query = filter_data(data.get("filter_query", ""), source=source, defaults=False)
        form = source.form(organization, query)
        rows = source.rows(organization, form).order_by()
        count = rows.count()
        if count > settings.BATCH_MAX_RECORDS:
            raise ValidationError(
                f"A batch takes at most {settings.BATCH_MAX_RECORDS:,} records; "
                f"{count:,} match the filter. Narrow the filter."
            )
        if not count:
            raise ValidationError(f"No {source.noun} match the filter.")
        ids = [] if count_only else list(rows.values_list("pk", flat=True))
        return Selection(source, True, count, ids, filter_summary(form), filter_query(form))
    raw = data.getlist(source.ids_field)
    if not raw:
        raise ValidationError(
            f"Select at least one {source.kind}, or all {source.noun} matching the filter."
        )
    try:
        ids = sorted({int(value) for value in raw})
    except ValueError:
        raise ValidationError(
            f"The selection is not a list of {source.noun}. Reload the list and select again."
        ) from None
    return Selection(source, False, len(ids), ids, {}, "")


def existing_count(organization: Organization, source: Source, ids: list[int]) -> int:
    """How many of `ids` are records of the organization (the others: another
    organization's, or deleted since the list was shown)."""
    return source.model.objects.for_organization(organization).filter(pk__in=ids).count()  # type: ignore[attr-defined]
