"""Batch History (seed 002): the organization's batch jobs newest first, the detail sheet of
one (an htmx side panel, polled every 2 s while the job runs), Cancel and Retry failed
items; the Batch Operation Wizard (job type -> filter and select records -> confirm); and
the batch actions of the Charges, Claims and Appointments lists, which post here. Every
view needs pm.batch.claim_generate."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from batches import selectors, services, sources
from batches.forms import JobTypeForm
from batches.models import BatchJob
from batches.sources import Selection, Source
from billing import permissions
from billing.http import OrgRequest, code_required
from billing.listing import paginate, render_list

TEMPLATE = "batches/batch_history.html"
WIZARD = "batches/batch_wizard.html"
SHEET_TARGET = "batch-sheet"
RECORDS_TARGET = "wizard-records"
WIZARD_STEPS = (("type", "Job type"), ("select", "Select records"), ("confirm", "Confirm"))


def _get_job(request: OrgRequest, pk: int) -> BatchJob:
    job = selectors.job_get(request.organization, pk)
    if job is None:
        raise Http404("No such batch job.")
    return job


def _list_query(request: OrgRequest) -> str:
    """`?page=N` of the history list, kept on links that open or close the sheet."""
    page = request.GET.get("page", "")
    return f"?page={page}" if page.isdigit() and page != "1" else ""


def _render(request: OrgRequest, template: str, context: dict) -> HttpResponse:
    response = render(request, template, {"list_query": _list_query(request), **context})
    response["Vary"] = "HX-Request"
    return response


def _sheet_context(request: OrgRequest, job: BatchJob) -> dict:
    items = request.GET.get("items", "")
    sheet_query = _list_query(request)
    if items.isdigit() and items != "1":
        sheet_query += ("&" if sheet_query else "?") + f"items={items}"
    return {
        "job": job,
        "counts": selectors.item_counts(job),
        "failed": selectors.failed_items_page(job, items),
        "reasons": selectors.failure_reasons(job) if job.error_count else [],
        "retries": selectors.job_retries(job),
        "parameters": selectors.parameter_rows(job),
        "sheet_query": sheet_query,
    }


def _history(request: OrgRequest, open_job: BatchJob | None = None) -> HttpResponse:
    context = {
        "page": paginate(request, selectors.job_list(request.organization)),
        "open_job": open_job,
        **(_sheet_context(request, open_job) if open_job else {"job": None}),
    }
    return _render(request, TEMPLATE, context)


@require_safe
@code_required(permissions.BATCH_CLAIM_GENERATE)
def batch_history(request: OrgRequest) -> HttpResponse:
    if request.htmx and request.htmx.target == SHEET_TARGET:  # the sheet was closed
        return _render(request, f"{TEMPLATE}#sheet", {"job": None})
    return _history(request)


@require_safe
@code_required(permissions.BATCH_CLAIM_GENERATE)
def batch_job_detail(request: OrgRequest, pk: int) -> HttpResponse:
    """The history with the job's sheet open; to htmx, only the sheet, or only the job's
    row (the polling of a running row)."""
    job = _get_job(request, pk)
    target = request.htmx.target if request.htmx else None
    if target == f"job-{job.pk}":
        return _render(request, f"{TEMPLATE}#job_row", {"job": job})
    if target == SHEET_TARGET:
        return _render(request, f"{TEMPLATE}#sheet", _sheet_context(request, job))
    return _history(request, open_job=job)


@require_POST
@code_required(permissions.BATCH_CLAIM_GENERATE)
def batch_job_cancel(request: OrgRequest, pk: int) -> HttpResponse:
    job = _get_job(request, pk)
    try:
        job = services.batch_cancel(organization=request.organization, actor=request.user, job=job)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if job.finished_at is not None:
            messages.success(
                request,
                f"{job} cancelled before it started; it ended {job.get_status_display()}.",
            )
        else:
            messages.success(
                request,
                f"Cancelling {job}: the records in hand finish, the remaining ones are skipped "
                "as “cancelled”.",
            )
    return redirect("batch_job_detail", pk=job.pk)


@require_POST
@code_required(permissions.BATCH_CLAIM_GENERATE)
def batch_job_retry(request: OrgRequest, pk: int) -> HttpResponse:
    job = _get_job(request, pk)
    try:
        retry = services.batch_retry_failed(
            organization=request.organization, actor=request.user, job=job
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("batch_job_detail", pk=job.pk)
    noun = "record" if retry.total_count == 1 else "records"
    messages.success(
        request, f"{retry} started for the {retry.total_count:,} failed {noun} of {job}."
    )
    return redirect("batch_job_detail", pk=retry.pk)


# --- starting jobs: list batch actions and the wizard ----------------------------------------


def _records(count: int, source: Source) -> str:
    return f"{count:,} {source.kind if count == 1 else source.noun}"


def _start(request: OrgRequest, source: Source, selection: Selection, parameters: dict):
    """Start the job (ValidationError when the records are not all this organization's)."""
    return services.batch_start(
        organization=request.organization,
        actor=request.user,
        job_type=source.job_type,
        record_ids=selection.ids,
        parameters=parameters,
    )


def _started(request: OrgRequest, job: BatchJob, source: Source) -> HttpResponse:
    messages.success(
        request,
        f"{job} started for {_records(job.total_count, source)}. It runs in the background; "
        "this page follows it.",
    )
    return redirect("batch_job_detail", pk=job.pk)


def _list_back(request: OrgRequest, source: Source | None) -> str:
    """The list the action came from, with its filters."""
    if source is None:
        referer = request.headers.get("referer", "")
        if referer and url_has_allowed_host_and_scheme(
            referer, {request.get_host()}, require_https=request.is_secure()
        ):
            parts = urlsplit(referer)
            return f"{parts.path}?{parts.query}" if parts.query else parts.path
        return reverse("batch_history")
    query = sources.filter_data(request.POST.get("filter_query", ""), source=source, defaults=False)
    url = reverse(source.list_url)
    return f"{url}?{query.urlencode()}" if query else url


@require_POST
@code_required(permissions.BATCH_CLAIM_GENERATE)
def batch_list_start(request: OrgRequest) -> HttpResponse:
    """A list's batch action: the ticked rows, or every row matching the list's filter."""
    source = sources.source_for(request.POST.get("job_type"))
    if source is None:
        messages.error(
            request, "Choose a job type: that batch action is not one. Nothing was started."
        )
        return redirect(_list_back(request, None))
    try:
        selection = sources.selection_from(request.organization, source, request.POST)
        job = _start(request, source, selection, selection.parameters(source.list_label))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(_list_back(request, source))
    return _started(request, job, source)


def _step_query(source: Source, step: str, extra: QueryDict | None = None) -> str:
    query = QueryDict(mutable=True)
    query["type"] = source.job_type
    query["step"] = step
    if extra:
        for name in extra:
            query.setlist(name, extra.getlist(name))
    return query.urlencode()


def _wizard_url(source: Source | None = None, step: str = "type", extra=None) -> str:
    url = reverse("batch_wizard")
    if source is None:
        return url
    return f"{url}?{_step_query(source, step, extra)}"


def _indicator(current: str, source: Source | None, select_url: str = "") -> list[dict]:
    numbers = {slug: n for n, (slug, _) in enumerate(WIZARD_STEPS, start=1)}
    items = []
    for slug, title in WIZARD_STEPS:
        if slug == current:
            state = "current"
        elif numbers[slug] < numbers[current]:
            state = "done"
        else:
            state = "locked"
        url = ""
        if state == "done":
            url = _wizard_url(source, "type") if slug == "type" else select_url
        items.append({"number": numbers[slug], "title": title, "state": state, "url": url})
    return items


@require_http_methods(["GET", "HEAD", "POST"])
@code_required(permissions.BATCH_CLAIM_GENERATE)
def batch_wizard(request: OrgRequest) -> HttpResponse:
    """The Batch Operation Wizard. Its state travels in the URL (job type, filters, the
    selection); only the last step's POST starts a job, and it redirects (a reload of the
    page it lands on starts nothing, and the confirmation's one-time token makes a second
    submission of the same form open the job it already started)."""
    if request.method == "POST":
        return _wizard_start(request)
    step = request.GET.get("step") or "type"
    if step == "type":
        form = JobTypeForm(initial={"type": request.GET.get("type")})
        return _wizard_type(request, form)
    form = JobTypeForm(request.GET)
    if not form.is_valid():
        return _wizard_type(request, form)
    source = sources.SOURCES[form.cleaned_data["type"]]
    if step == "confirm":
        return _wizard_confirm(request, source)
    return _wizard_select(request, source)


def _wizard_type(request: OrgRequest, form: JobTypeForm) -> HttpResponse:
    context = {
        "step": "type",
        "indicator": _indicator("type", None),
        "type_form": form,
        "sources": list(sources.SOURCES.values()),
        "chosen": form.data.get("type") if form.is_bound else form.initial.get("type"),
    }
    return _render(request, WIZARD, context)


def _wizard_select(request: OrgRequest, source: Source) -> HttpResponse:
    data = sources.filter_data(request.GET, source=source, defaults=True)
    form = source.form(request.organization, data)
    page = paginate(request, source.rows(request.organization, form))
    context = {
        "step": "select",
        "indicator": _indicator("select", source),
        "source": source,
        "form": form,
        "page": page,
        "filter_query": sources.filter_query(form),
    }
    return render_list(request, WIZARD, context, partial="records", target=RECORDS_TARGET)


def _wizard_confirm(request: OrgRequest, source: Source) -> HttpResponse:
    back_filters = sources.filter_data(
        request.GET.get("filter_query", ""), source=source, defaults=False
    )
    select_url = _wizard_url(source, "select", back_filters)
    error = ""
    selection = None
    missing = 0
    try:
        selection = sources.selection_from(
            request.organization, source, request.GET, count_only=True
        )
    except ValidationError as problem:
        error = " ".join(problem.messages)
    else:
        if not selection.all_matching:
            found = sources.existing_count(request.organization, source, selection.ids)
            missing = selection.count - found
    context = {
        "step": "confirm",
        "indicator": _indicator("confirm", source, select_url),
        "source": source,
        "selection": selection,
        "records_label": _records(selection.count, source) if selection else "",
        "missing": missing,
        "error": error,
        "select_url": select_url,
        "token": uuid.uuid4().hex,
        "ids_field": source.ids_field,
    }
    return _render(request, WIZARD, context)


def _wizard_start(request: OrgRequest) -> HttpResponse:
    source = sources.source_for(request.POST.get("job_type"))
    if source is None:
        messages.error(request, "Choose a job type. Nothing was started.")
        return redirect("batch_wizard")
    token = request.POST.get("token", "")[:64]
    already = selectors.job_by_token(request.organization, token)
    if already is not None:
        messages.info(request, f"{already} was already started from this confirmation.")
        return redirect("batch_job_detail", pk=already.pk)
    try:
        selection = sources.selection_from(request.organization, source, request.POST)
        parameters = selection.parameters("Batch Operation Wizard")
        if token:
            parameters["token"] = token
        job = _start(request, source, selection, parameters)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        back = QueryDict(mutable=True)
        for name in ("all_matching", "filter_query", source.ids_field):
            if name in request.POST:
                back.setlist(name, request.POST.getlist(name))
        return redirect(_wizard_url(source, "confirm", back))
    return _started(request, job, source)
