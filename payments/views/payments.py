"""Insurance payment pages (seed 003): the list with the API's filters, 16 sorts and keyset
pages; manual payments entered, edited and deleted by hand (automatic ones, from ERAs, only
change their deposit status); "Mark deposited" for ticked rows; and deposit reconciliation
with a bank CSV import. Every page needs both `can_see_billing` and `sees_all_billing`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from billing import permissions
from billing.forms.binding import add_service_errors, posted_data
from billing.http import OrgRequest, member_required
from billing.listing import render_list
from payments import page_selectors, services
from payments.models import InsurancePayment
from payments.payment_forms import (
    ORDER_LABELS,
    BankCsvForm,
    DepositStatusForm,
    PaymentFilterForm,
    PaymentForm,
    ReconciliationRangeForm,
)
from payments.reconciliation import BankCsvError, match_deposits, read_bank_csv
from payments.selectors import (
    Page,
    PageRequestError,
    insurance_payments_filtered,
    insurance_payments_page,
)
from payments.services import PaymentError

PAGE_SIZE = 50
ROWS_TARGET = "payment-rows"
AUTOMATIC = InsurancePayment.Source.AUTOMATIC
PENDING = InsurancePayment.DepositStatus.PENDING
READ_ONLY = "Automatic payments come from an ERA: only their deposit status can change."
CANNOT_DELETE = "Automatic payments come from an ERA and cannot be deleted."

# Sortable columns: (the key a first click sorts by, the other direction).
SORT_COLUMNS = {
    "paid_date": ("PAID_DATE_DESC", "PAID_DATE_ASC"),
    "payer_name": ("PAYER_NAME_ASC", "PAYER_NAME_DESC"),
    "paid_amount": ("PAID_AMOUNT_DESC", "PAID_AMOUNT_ASC"),
    "npi": ("NPI_ASC", "NPI_DESC"),
    "ach_check_number": ("ACH_CHECK_NUMBER_ASC", "ACH_CHECK_NUMBER_DESC"),
    "source": ("SOURCE_ASC", "SOURCE_DESC"),
}


def payments_access(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Membership plus both billing codes (seed 003's authorization); 403 without either."""
    codes = (permissions.CAN_SEE_BILLING, permissions.SEES_ALL_BILLING)
    return member_required(permission_required(codes, raise_exception=True)(view))


def _get_payment(request: OrgRequest, pk: int) -> InsurancePayment:
    payment = page_selectors.payment_get(request.organization, pk)
    if payment is None:
        raise Http404("No such payment.")
    return payment


def _era_links() -> bool:
    """Whether the ERA page exists (the ERA part of the app adds it)."""
    try:
        reverse("era_detail", args=[1])
    except NoReverseMatch:
        return False
    return True


def _era_list_url() -> str | None:
    try:
        return reverse("era_list")
    except NoReverseMatch:
        return None


def _safe_next(request: OrgRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _query(request: OrgRequest, **changes: Any) -> str:
    """The request's query string without page cursors, with `changes` (None drops one)."""
    params = request.GET.copy()
    for name in ("after", "before", "next"):
        params.pop(name, None)
    for name, value in changes.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
    return params.urlencode()


def _keyset_page(
    request: OrgRequest, filters: dict[str, Any], order_by: str
) -> tuple[Page, str | None]:
    """The page the cursors in the query string ask for, or the first page with a message
    when a cursor is stale or foreign (say, from another sort)."""
    after, before = request.GET.get("after") or None, request.GET.get("before") or None
    ask = {"order_by": order_by, "with_total": False, **filters}
    try:
        if before:
            return insurance_payments_page(
                request.organization, last=PAGE_SIZE, before=before, **ask
            ), None
        return insurance_payments_page(
            request.organization, first=PAGE_SIZE, after=after, **ask
        ), None
    except PageRequestError as error:
        page = insurance_payments_page(request.organization, first=PAGE_SIZE, **ask)
        return page, f"{error.message} Showing the first page."


def _pager(request: OrgRequest, page: Page) -> dict[str, str | None]:
    return {
        "first": f"?{_query(request)}" if page.has_previous_page else None,
        "previous": f"?{_query(request, before=page.start_cursor)}"
        if page.has_previous_page
        else None,
        "next": f"?{_query(request, after=page.end_cursor)}" if page.has_next_page else None,
    }


def _sort_links(request: OrgRequest, order_by: str) -> dict[str, dict[str, str]]:
    links = {}
    for column, (first, other) in SORT_COLUMNS.items():
        target = other if order_by == first else first
        arrow = ""
        if order_by in (first, other):
            arrow = "▼" if order_by.endswith("_DESC") else "▲"
        links[column] = {
            "url": f"?{_query(request, order_by=target)}",
            "arrow": arrow,
            "title": f"Sort by {ORDER_LABELS[target].lower()}",
        }
    return links


# --- list and bulk action ---------------------------------------------------------------


@require_safe
@payments_access
def payment_list(request: OrgRequest) -> HttpResponse:
    organization = request.organization
    form = PaymentFilterForm(request.GET, payers=page_selectors.payer_names(organization))
    filters = form.filters()
    order_by = form.sort_key()
    page, page_error = _keyset_page(request, filters, order_by)
    totals = page_selectors.payments_totals(insurance_payments_filtered(organization, **filters))
    context = {
        "form": form,
        "page": page,
        "page_error": page_error,
        "pager": _pager(request, page),
        "totals": totals,
        "page_total": sum(p.paid_amount for p in page.nodes),
        "filtered": any(value is not None for value in filters.values()),
        "order_by": order_by,
        "sort": _sort_links(request, order_by),
        "era_links": _era_links(),
        "era_list_url": _era_list_url(),
        "next": request.get_full_path(),
    }
    return render_list(
        request, "payments/payment_list.html", context, partial="rows", target=ROWS_TARGET
    )


def _posted_ids(request: OrgRequest) -> set[int]:
    ids = set()
    for value in request.POST.getlist("payment_ids"):
        value = value.strip()
        if not value.isascii() or not value.isdigit() or len(value) > 18:
            raise Http404("No such payment.")
        ids.add(int(value))
    return ids


@require_POST
@payments_access
def mark_deposited(request: OrgRequest) -> HttpResponse:
    """ "Mark deposited" for the ticked payments (of the list, or reconciliation's proposals)."""
    back = _safe_next(request, reverse("payment_list"))
    ids = _posted_ids(request)
    if not ids:
        messages.warning(request, "Tick the payments to mark deposited first.")
        return redirect(back)
    if page_selectors.foreign_payment_ids(request.organization, ids):
        raise Http404("No such payment.")
    count = services.payments_mark_deposited(
        organization=request.organization, actor=request.user, payment_ids=sorted(ids)
    )
    text = f"{count} payment{'s' if count != 1 else ''} marked deposited."
    skipped = len(ids) - count
    if skipped:
        text += f" {skipped} {'was' if skipped == 1 else 'were'} already deposited or deleted."
    (messages.success if count else messages.warning)(request, text)
    return redirect(back)


# --- one payment ------------------------------------------------------------------------


def _payment_label(payment: InsurancePayment) -> str:
    return f"${payment.paid_amount:,} from {payment.payer_name} paid {payment.paid_date:%m/%d/%Y}"


def _automatic_page(
    request: OrgRequest, payment: InsurancePayment, *, refusal: str | None = None
) -> HttpResponse:
    """An automatic payment, read-only but for its deposit status; with `refusal`, the
    answer (409) to an attempt to change or delete it."""
    form = DepositStatusForm(initial={"deposit_status": payment.deposit_status})
    return render(
        request,
        "payments/payment_detail.html",
        {
            "payment": payment,
            "form": form,
            "era_links": _era_links(),
            "read_only": READ_ONLY,
            "refusal": refusal,
            "next": _safe_next(request, ""),
            "back": _safe_next(request, reverse("payment_list")),
        },
        status=409 if refusal else 200,
    )


def _form_page(
    request: OrgRequest, form: PaymentForm, payment: InsurancePayment | None
) -> HttpResponse:
    return render(
        request,
        "payments/payment_form.html",
        {
            "form": form,
            "payment": payment,
            "payer_names": page_selectors.payer_names(request.organization),
            "next": _safe_next(request, ""),
            "back": _safe_next(request, reverse("payment_list")),
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
@payments_access
def payment_add(request: OrgRequest) -> HttpResponse:
    form = PaymentForm(posted_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            payment = services.payment_create_manual(
                organization=request.organization, actor=request.user, **form.service_values()
            )
        except PaymentError as error:
            add_service_errors(form, error.as_validation_error())
        else:
            messages.success(request, f"Manual payment of {_payment_label(payment)} saved.")
            if "add_another" in request.POST:
                return redirect("payment_add")
            return redirect(_safe_next(request, reverse("payment_list")))
    return _form_page(request, form, None)


@require_http_methods(["GET", "HEAD", "POST"])
@payments_access
def payment_edit(request: OrgRequest, pk: int) -> HttpResponse:
    """A manual payment's form; an automatic payment's read-only page (409 to a POST)."""
    payment = _get_payment(request, pk)
    if payment.source == AUTOMATIC:
        refusal = READ_ONLY if request.method == "POST" else None
        return _automatic_page(request, payment, refusal=refusal)
    form = PaymentForm(posted_data(request), initial=PaymentForm.initial_for(payment))
    if request.method == "POST" and form.is_valid():
        try:
            payment = services.payment_update_manual(
                organization=request.organization,
                actor=request.user,
                payment_id=payment.pk,
                **form.service_values(),
            )
        except PaymentError as error:
            add_service_errors(form, error.as_validation_error())
        else:
            if form.has_changed():
                messages.success(request, f"Payment of {_payment_label(payment)} saved.")
            else:
                messages.info(request, "Nothing changed.")
            return redirect(_safe_next(request, reverse("payment_list")))
    return _form_page(request, form, payment)


@require_http_methods(["GET", "HEAD", "POST"])
@payments_access
def payment_delete(request: OrgRequest, pk: int) -> HttpResponse:
    """Asks, then soft-deletes a manual payment; automatic ones cannot be deleted (409)."""
    payment = _get_payment(request, pk)
    if payment.source == AUTOMATIC:
        return _automatic_page(request, payment, refusal=CANNOT_DELETE)
    if request.method == "POST":
        try:
            services.payment_delete_manual(
                organization=request.organization, actor=request.user, payment_id=payment.pk
            )
        except PaymentError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"Manual payment of {_payment_label(payment)} deleted.")
        return redirect(_safe_next(request, reverse("payment_list")))
    return render(
        request,
        "payments/payment_delete.html",
        {
            "payment": payment,
            "next": _safe_next(request, ""),
            "back": _safe_next(request, reverse("payment_list")),
        },
    )


@require_POST
@payments_access
def payment_deposit_status(request: OrgRequest, pk: int) -> HttpResponse:
    """Sets the deposit status of any payment, automatic ones included."""
    payment = _get_payment(request, pk)
    back = _safe_next(request, reverse("payment_edit", args=[payment.pk]))
    form = DepositStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose Pending or Deposited.")
        return redirect(back)
    try:
        payment = services.payment_set_deposit_status(
            organization=request.organization,
            actor=request.user,
            payment_id=payment.pk,
            deposit_status=form.cleaned_data["deposit_status"],
        )
    except PaymentError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            f"Payment of {_payment_label(payment)} is "
            f"{payment.get_deposit_status_display().lower()}.",
        )
    return redirect(back)


# --- reconciliation ---------------------------------------------------------------------


def _reconciliation_page(
    request: OrgRequest,
    range_form: ReconciliationRangeForm,
    *,
    csv_form: BankCsvForm | None = None,
    result=None,
) -> HttpResponse:
    organization = request.organization
    start, end = range_form.range()
    filters: dict[str, Any] = {
        "start_paid_date": start,
        "end_paid_date": end,
        "deposit_status": PENDING,
    }
    page, page_error = _keyset_page(request, filters, "PAID_DATE_ASC")
    pending = insurance_payments_filtered(organization, **filters)
    range_query = urlencode(
        {k: v.isoformat() for k, v in (("start_paid_date", start), ("end_paid_date", end)) if v}
    )
    here = reverse("payments_reconciliation") + (f"?{range_query}" if range_query else "")
    context = {
        "range_form": range_form,
        "csv_form": csv_form or BankCsvForm(),
        "result": result,
        "page": page,
        "page_error": page_error,
        "pager": _pager(request, page) if request.method != "POST" else {},
        "totals": page_selectors.payments_totals(pending),
        "by_payer": page_selectors.pending_by_payer(pending),
        "start": start,
        "end": end,
        "era_links": _era_links(),
        "next": here,
    }
    return render(request, "payments/payment_reconciliation.html", context)


@require_safe
@payments_access
def reconciliation(request: OrgRequest) -> HttpResponse:
    """Pending payments of a paid-date range with their totals, and the bank CSV import."""
    return _reconciliation_page(request, ReconciliationRangeForm(request.GET))


@require_POST
@payments_access
def reconciliation_import(request: OrgRequest) -> HttpResponse:
    """Reads a bank deposit CSV and shows the proposed matches; changes nothing (the ticked
    proposals go to `mark_deposited`). The file is read in memory and not kept."""
    form = BankCsvForm(request.POST, request.FILES)
    result = None
    if form.is_valid():
        try:
            lines = read_bank_csv(form.cleaned_data["deposits"].read())
        except BankCsvError as error:
            for message in error.messages:
                form.add_error("deposits", message)
        else:
            result = match_deposits(request.organization, lines)
    return _reconciliation_page(
        request, ReconciliationRangeForm(request.POST), csv_form=form, result=result
    )
