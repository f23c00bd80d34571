"""Statements, Pre-Collections and In Collections (seed 004). Viewing needs can_see_billing;
working the lists pm.collections.manage; spreadsheets pm.collections.export (403 without)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from billing import permissions
from billing.http import OrgRequest, code_required
from billing.models import Encounter, Patient
from employer_collections import selectors, services
from employer_collections.forms import PreCollectionsFilterForm, SetActionForm
from employer_collections.models import (
    ASK_SUPPORT,
    EMPLOYER_COLLECTIONS_OFF,
    BalanceFor,
    CollectionEntry,
    CollectionExport,
    PreCollectionEntry,
    PreCollectionList,
)

APPLY_WARNING = (
    "Warning: If you have several Actions Set, all will be Applied when Run is selected. "
    "The checkboxes on the Set Action line items do not work when using Apply Actions."
)


def _text(error: ValidationError) -> str:
    return " ".join(error.messages)


def _balance_for(request: OrgRequest, data: QueryDict) -> str:
    value = data.get("balance_for") or selectors.default_balance_for(request.organization)
    if value not in dict(selectors.kinds_offered(request.organization)):
        value = selectors.default_balance_for(request.organization)
    return value


def _precollections_url(balance_for: str) -> str:
    return f"{reverse('precollections')}?balance_for={balance_for}"


def _get_list(request: OrgRequest, balance_for: str) -> PreCollectionList:
    plist = selectors.precollection_list(request.organization, balance_for)
    if plist is None:
        raise Http404("No such pre-collections list.")
    return plist


def _entry_ids(request: OrgRequest, plist: PreCollectionList) -> list[int]:
    """The posted row ids; one that is not on this list (another organization's) is a 404."""
    try:
        ids = sorted({int(v) for v in request.POST.getlist("entry")})
    except ValueError:
        raise Http404("No such row.") from None
    found = PreCollectionEntry.objects.for_organization(request.organization).filter(
        list=plist, pk__in=ids
    )
    if found.count() != len(ids):
        raise Http404("No such row.")
    return ids


def _get_encounter(request: OrgRequest, pk: int) -> Encounter:
    encounter = (
        Encounter.objects.for_organization(request.organization)
        .select_related("patient", "guarantor_employer")
        .filter(pk=pk)
        .first()
    )
    if encounter is None:
        raise Http404("No such encounter.")
    return encounter


def _get_export(request: OrgRequest, pk: int) -> CollectionExport:
    export = selectors.export_get(request.organization, pk)
    if export is None:
        raise Http404("No such spreadsheet.")
    return export


# --- statements -------------------------------------------------------------------------


@require_safe
@code_required(permissions.CAN_SEE_BILLING)
def statements(request: OrgRequest) -> HttpResponse:
    kind = request.GET.get("kind", "")
    if kind not in BalanceFor.values:
        kind = ""
    today = timezone.localdate()
    context = {
        "kind": kind,
        "kinds": BalanceFor.choices,
        "today": today,
        **selectors.statements(request.organization, today, kind=kind),
    }
    return render(request, "employer_collections/statements.html", context)


# --- pre-collections --------------------------------------------------------------------


def _precollections_page(
    request: OrgRequest,
    *,
    balance_for: str,
    form: PreCollectionsFilterForm | None = None,
    confirm: str = "",
    status: int = 200,
) -> HttpResponse:
    org = request.organization
    plist = selectors.precollection_list(org, balance_for)
    if form is None:
        initial = {"balance_for": balance_for}
        if plist and plist.filters:
            initial.update(
                {
                    "employers": plist.filters.get("employers", []),
                    "guarantor": plist.filters.get("guarantor", ""),
                    "min_balance": plist.filters.get("min_balance") or None,
                    "min_age_days": plist.filters.get("min_age_days"),
                }
            )
        form = PreCollectionsFilterForm(initial=initial, organization=org)
    entries = selectors.precollection_entries(plist)
    today = timezone.localdate()
    for row in entries:
        row.age_days = (today - row.encounter.date_of_service).days
    context = {
        "form": form,
        "balance_for": balance_for,
        "balance_for_label": BalanceFor(balance_for).label,
        "kinds": selectors.kinds_offered(org),
        "plist": plist,
        "entries": entries,
        "set_count": sum(1 for e in entries if e.action),
        "selected_count": sum(1 for e in entries if e.selected),
        "action_form": SetActionForm(),
        "confirm": confirm,
        "apply_warning": APPLY_WARNING,
        "employer_off": not org.employer_collections_enabled,
        "employer_off_text": EMPLOYER_COLLECTIONS_OFF,
        "ask_support": ASK_SUPPORT,
        "can_manage": request.user.has_perm(permissions.COLLECTIONS_MANAGE),
        "unapplied": selectors.unapplied_action_count(plist),
    }
    return render(request, "employer_collections/precollections.html", context, status=status)


@require_safe
@code_required(permissions.CAN_SEE_BILLING)
def precollections(request: OrgRequest) -> HttpResponse:
    return _precollections_page(request, balance_for=_balance_for(request, request.GET))


@require_POST
@code_required(permissions.COLLECTIONS_MANAGE)
def precollections_make(request: OrgRequest) -> HttpResponse:
    org = request.organization
    form = PreCollectionsFilterForm(request.POST, organization=org)
    balance_for = _balance_for(request, request.POST)
    if not form.is_valid():
        return _precollections_page(request, balance_for=balance_for, form=form)
    data = form.cleaned_data
    balance_for = data["balance_for"]
    plist = selectors.precollection_list(org, balance_for)
    unapplied = selectors.unapplied_action_count(plist)
    if data["clear_current"] and unapplied and request.POST.get("confirm") != "clear":
        return _precollections_page(request, balance_for=balance_for, form=form, confirm="clear")
    try:
        added, cleared = services.precollections_make_list(
            organization=org,
            actor=request.user,
            balance_for=balance_for,
            today=timezone.localdate(),
            employers=list(data["employers"]),
            guarantor=data["guarantor"],
            min_balance=data["min_balance"],
            min_age_days=data["min_age_days"],
            clear_current=data["clear_current"],
        )
    except ValidationError as error:
        form.add_error(None, error)
        return _precollections_page(request, balance_for=balance_for, form=form)
    text = f"{added} encounter{'s' if added != 1 else ''} added to the list."
    if cleared:
        text = f"The current list ({cleared} rows) was cleared. " + text
    if not added:
        text += " No other encounter matches the filters."
    messages.success(request, text)
    return redirect(_precollections_url(balance_for))


@require_POST
@code_required(permissions.COLLECTIONS_MANAGE)
def precollections_select(request: OrgRequest) -> HttpResponse:
    balance_for = _balance_for(request, request.POST)
    plist = _get_list(request, balance_for)
    op = request.POST.get("op")
    if op not in ("all", "none"):
        messages.error(request, "Choose Select All or Unselect All.")
    else:
        services.precollections_select(
            organization=request.organization,
            plist=plist,
            entry_ids=None if op == "all" else [],
        )
    return redirect(_precollections_url(balance_for))


@require_POST
@code_required(permissions.COLLECTIONS_MANAGE)
def precollections_set_action(request: OrgRequest) -> HttpResponse:
    balance_for = _balance_for(request, request.POST)
    plist = _get_list(request, balance_for)
    ids = _entry_ids(request, plist)
    form = SetActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the actions.")
        return redirect(_precollections_url(balance_for))
    try:
        count = services.precollections_set_action(
            organization=request.organization,
            actor=request.user,
            plist=plist,
            entry_ids=ids,
            action=form.cleaned_data["action"],
        )
    except ValidationError as error:
        messages.error(request, _text(error))
    else:
        label = dict(form.fields["action"].choices)[form.cleaned_data["action"]]
        messages.success(
            request, f"Set Action “{label}” on {count} row{'s' if count != 1 else ''}."
        )
    return redirect(_precollections_url(balance_for))


@require_POST
@code_required(permissions.COLLECTIONS_MANAGE)
def precollections_apply(request: OrgRequest) -> HttpResponse:
    balance_for = _balance_for(request, request.POST)
    plist = _get_list(request, balance_for)
    if not selectors.unapplied_action_count(plist):
        messages.error(request, services.NO_SET_ACTIONS)
        return redirect(_precollections_url(balance_for))
    if request.POST.get("confirm") != "run":
        return _precollections_page(request, balance_for=balance_for, confirm="apply")
    try:
        result = services.precollections_apply(
            organization=request.organization, actor=request.user, plist=plist
        )
    except ValidationError as error:
        messages.error(request, _text(error))
    else:
        level = messages.WARNING if result.skipped else messages.SUCCESS
        messages.add_message(request, level, result.summary())
    return redirect(_precollections_url(balance_for))


@require_POST
@code_required(permissions.COLLECTIONS_MANAGE)
def encounter_to_collections(request: OrgRequest, pk: int) -> HttpResponse:
    encounter = _get_encounter(request, pk)
    _add_one(request, encounter, source="encounter_page")
    return redirect("encounter_detail", pk=encounter.pk)


def _add_one(request: OrgRequest, encounter: Encounter, *, source: str) -> bool:
    try:
        entry = services.precollections_add_encounter(
            organization=request.organization,
            actor=request.user,
            encounter=encounter,
            source=source,
        )
    except ValidationError as error:
        messages.error(request, _text(error))
        return False
    messages.success(
        request,
        f"Encounter of {encounter.date_of_service:%m/%d/%Y} was added to the {entry.list} list.",
    )
    return True


@require_http_methods(["GET", "HEAD", "POST"])
@code_required(permissions.COLLECTIONS_MANAGE)
def patient_send_to_collections(request: OrgRequest, pk: int) -> HttpResponse:
    patient = Patient.objects.for_organization(request.organization).filter(pk=pk).first()
    if patient is None:
        raise Http404("No such patient.")
    if request.method == "POST":
        try:
            encounter_pk = int(request.POST.get("encounter", ""))
        except ValueError:
            raise Http404("No such encounter.") from None
        encounter = _get_encounter(request, encounter_pk)
        if encounter.patient_id != patient.pk:
            raise Http404("No such encounter.")
        _add_one(request, encounter, source="patient_page")
        return redirect("collections_patient_send", pk=patient.pk)
    rows = list(
        selectors.encounters_with_money(request.organization)
        .filter(patient=patient, ledger_balance__gt=0)
        .order_by("date_of_service", "pk")
    )
    today = timezone.localdate()
    for row in rows:
        row.days_outstanding = (today - row.date_of_service).days
    listed = set(
        PreCollectionEntry.objects.for_organization(request.organization)
        .filter(encounter__patient=patient)
        .values_list("encounter_id", flat=True)
    )
    in_collections = set(
        CollectionEntry.objects.for_organization(request.organization)
        .filter(encounter__patient=patient, removed_at__isnull=True)
        .values_list("encounter_id", flat=True)
    )
    context = {
        "patient": patient,
        "rows": rows,
        "listed": listed,
        "in_collections": in_collections,
        "employer_off": not request.organization.employer_collections_enabled,
        "employer_off_text": EMPLOYER_COLLECTIONS_OFF,
    }
    return render(request, "employer_collections/patient_send.html", context)


# --- in collections ---------------------------------------------------------------------


def _collections_page(
    request: OrgRequest, *, confirm_rows: list | None = None, status: int = 200
) -> HttpResponse:
    org = request.organization
    kind = request.GET.get("kind", "")
    if kind not in BalanceFor.values:
        kind = ""
    entries = selectors.collection_entries(org, balance_for=kind)
    today = timezone.localdate()
    for row in entries:
        row.days_outstanding = (today - row.encounter.date_of_service).days
    context = {
        "kind": kind,
        "kinds": BalanceFor.choices,
        "entries": entries,
        "total_original": sum((e.original_balance for e in entries), 0),
        "total_current": sum((e.current_balance for e in entries), 0),
        "recalls": selectors.pending_recalls(org),
        "unsent": sum(1 for e in entries if not e.sent_export_id),
        "exports": selectors.exports(org)[:20],
        "can_manage": request.user.has_perm(permissions.COLLECTIONS_MANAGE),
        "can_export": request.user.has_perm(permissions.COLLECTIONS_EXPORT),
        "confirm_rows": confirm_rows or [],
        "posted_ids": request.POST.getlist("entry") if confirm_rows else [],
        "employer_off": not org.employer_collections_enabled,
        "employer_off_text": EMPLOYER_COLLECTIONS_OFF,
        "ask_support": ASK_SUPPORT,
        "today": today,
    }
    return render(request, "employer_collections/in_collections.html", context, status=status)


@require_safe
@code_required(permissions.CAN_SEE_BILLING)
def collections_list(request: OrgRequest) -> HttpResponse:
    return _collections_page(request)


@require_POST
@code_required(permissions.COLLECTIONS_MANAGE)
def collections_remove(request: OrgRequest) -> HttpResponse:
    try:
        ids = sorted({int(v) for v in request.POST.getlist("entry")})
    except ValueError:
        raise Http404("No such encounter.") from None
    entries = list(
        CollectionEntry.objects.for_organization(request.organization)
        .filter(pk__in=ids)
        .select_related("encounter__patient", "guarantor_employer", "sent_export")
    )
    if len(entries) != len(ids):
        raise Http404("No such encounter.")
    sent = [e for e in entries if e.sent_export_id and e.removed_at is None]
    if sent and request.POST.get("confirm") != "remove":
        return _collections_page(request, confirm_rows=sent)
    try:
        removed, recalls = services.collections_remove(
            organization=request.organization, actor=request.user, entries=entries
        )
    except ValidationError as error:
        messages.error(request, _text(error))
    else:
        text = f"{removed} encounter{'s' if removed != 1 else ''} removed from In Collections."
        if recalls:
            text += (
                f" {recalls} of them the agency already has: they go out as recalls in the "
                "next spreadsheet."
            )
        messages.success(request, text)
    return redirect("collections_list")


@require_POST
@code_required(permissions.COLLECTIONS_EXPORT)
def export_create(request: OrgRequest) -> HttpResponse:
    try:
        export = services.collections_export_create(
            organization=request.organization, actor=request.user
        )
    except ValidationError as error:
        messages.error(request, _text(error))
    else:
        recalls = len(export.recall_encounter_ids)
        messages.success(
            request,
            f"Spreadsheet created: {len(export.encounter_ids)} encounters sent to the agency"
            + (f", {recalls} recalls." if recalls else "."),
        )
    return redirect("collections_list")


CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


@require_safe
@code_required(permissions.COLLECTIONS_EXPORT)
def export_download(request: OrgRequest, pk: int, file_format: str) -> HttpResponse:
    export = _get_export(request, pk)
    if file_format not in CONTENT_TYPES:
        raise Http404("No such file.")
    body = services.collections_export_download(
        organization=request.organization,
        actor=request.user,
        export=export,
        file_format=file_format,
    )
    response = HttpResponse(body, content_type=CONTENT_TYPES[file_format])
    response["Content-Disposition"] = f'attachment; filename="{export.filename}.{file_format}"'
    response["Cache-Control"] = "private, no-store"
    return response
