"""Reads of insurance payments: the list of seed 003's `insurancePayments` query, with its
filters, 16 sort keys and keyset pagination. The GraphQL API and the payments pages both
read through `insurance_payments_page`.

Keyset pagination: a cursor holds the sort value and the id of a row; the next page is the
rows after that (value, id) pair in the chosen order, found with a row comparison
`(key, id) > (value, id)` that PostgreSQL answers from the partial index on
`(organization, key, id)`, so page 5,000 costs what page 1 does. The id breaks ties in the
key's direction. Nulls (only `npi` and `ach_check_number` have them) come last in both
directions: the order is the non-null rows, then the null rows by id, and each part is read
with its own index-friendly query.

Text keys compare by Unicode code point on PostgreSQL and SQLite alike (payments/
expressions.py); payer names compare ignoring ASCII case ("aetna" sorts with "Aetna"),
check/ACH numbers and NPIs exactly.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import F, Q, QuerySet
from django.db.models.expressions import Expression
from django.db.models.fields.tuple_lookups import (
    Tuple,
    TupleGreaterThan,
    TupleGreaterThanOrEqual,
    TupleLessThan,
    TupleLessThanOrEqual,
)
from django.db.models.functions import Lower

from billing.models import Organization
from payments.expressions import CodePointText
from payments.models import InsurancePayment

DEFAULT_ORDER = "PAID_DATE_DESC"
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_KEYWORDS_LENGTH = 200

# The seed's 16 order keys, in its order: key -> (field, direction).
ORDER_KEYS: dict[str, tuple[str, str]] = {
    "PAID_DATE_DESC": ("paid_date", "desc"),
    "PAID_DATE_ASC": ("paid_date", "asc"),
    "PAID_AMOUNT_DESC": ("paid_amount", "desc"),
    "PAID_AMOUNT_ASC": ("paid_amount", "asc"),
    "PAYER_NAME_DESC": ("payer_name", "desc"),
    "PAYER_NAME_ASC": ("payer_name", "asc"),
    "NPI_DESC": ("npi", "desc"),
    "NPI_ASC": ("npi", "asc"),
    "ACH_CHECK_NUMBER_DESC": ("ach_check_number", "desc"),
    "ACH_CHECK_NUMBER_ASC": ("ach_check_number", "asc"),
    "SOURCE_DESC": ("source", "desc"),
    "SOURCE_ASC": ("source", "asc"),
    "CREATED_AT_DESC": ("created_at", "desc"),
    "CREATED_AT_ASC": ("created_at", "asc"),
    "UPDATED_AT_DESC": ("updated_at", "desc"),
    "UPDATED_AT_ASC": ("updated_at", "asc"),
}

NULLABLE_KEYS = frozenset({"npi", "ach_check_number"})


def sort_expression(field: str) -> Expression | F:
    """The SQL value rows are ordered by for `field` (the same one the indexes hold)."""
    if field == "payer_name":
        return CodePointText(Lower(CodePointText("payer_name")))
    if field in ("npi", "ach_check_number"):
        return CodePointText(field)
    return F(field)


class PageRequestError(ValueError):
    """A list request that cannot be answered: a message for the user on one argument."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class Page:
    nodes: list[InsurancePayment]
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None
    total_count: int | None


# --- filters ----------------------------------------------------------------------------


def _as_date(name: str, value: datetime.date | str | None) -> datetime.date | None:
    if value is None or isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value).strip())
    except ValueError:
        raise PageRequestError(name, f"{name} must be a date (YYYY-MM-DD)") from None


def insurance_payments_filtered(
    organization: Organization,
    *,
    start_paid_date: datetime.date | str | None = None,
    end_paid_date: datetime.date | str | None = None,
    keywords: str | None = None,
    deposit_status: str | None = None,
    payer: str | None = None,
) -> QuerySet[InsurancePayment]:
    """The organization's live payments matching the filters, unordered.

    Dates are inclusive. Each word of `keywords` must occur, ignoring case, in the NPI,
    the check/ACH number or the payer name. `payer` is the exact payer name.
    """
    payments = InsurancePayment.objects.for_organization(organization).live()
    start = _as_date("start_paid_date", start_paid_date)
    end = _as_date("end_paid_date", end_paid_date)
    if start is not None:
        payments = payments.filter(paid_date__gte=start)
    if end is not None:
        payments = payments.filter(paid_date__lte=end)
    if deposit_status is not None:
        status = str(getattr(deposit_status, "value", deposit_status))
        if status not in InsurancePayment.DepositStatus.values:
            raise PageRequestError("deposit_status", "deposit_status must be PENDING or DEPOSITED")
        payments = payments.filter(deposit_status=status)
    if payer is not None:
        payments = payments.filter(payer_name=payer)
    if keywords:
        if len(keywords) > MAX_KEYWORDS_LENGTH:
            raise PageRequestError(
                "keywords", f"keywords must be at most {MAX_KEYWORDS_LENGTH} characters"
            )
        for word in keywords.split():
            payments = payments.filter(
                Q(npi__icontains=word)
                | Q(ach_check_number__icontains=word)
                | Q(payer_name__icontains=word)
            )
    return payments


# --- cursors ----------------------------------------------------------------------------


def _decode_date(value: Any) -> datetime.date:
    return datetime.date.fromisoformat(value)


def _decode_decimal(value: Any) -> Decimal:
    amount = Decimal(value)
    if not amount.is_finite():
        raise ValueError(value)
    return amount


def _decode_datetime(value: Any) -> datetime.datetime:
    moment = datetime.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(value)
    return moment


def _decode_text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(value)
    return value


DECODERS: dict[str, Callable[[Any], Any]] = {
    "paid_date": _decode_date,
    "paid_amount": _decode_decimal,
    "payer_name": _decode_text,
    "npi": _decode_text,
    "ach_check_number": _decode_text,
    "source": _decode_text,
    "created_at": _decode_datetime,
    "updated_at": _decode_datetime,
}


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat()
    if isinstance(value, datetime.date | Decimal):
        return str(value)
    return value


def encode_cursor(order_by: str, value: Any, pk: int) -> str:
    payload = {"order_by": order_by, "value": _encode_value(value), "id": pk}
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


@dataclass(frozen=True)
class _Position:
    value: Any  # None: among the null rows
    pk: int


def _decode_cursor(name: str, cursor: str, order_by: str, organization: Organization) -> _Position:
    invalid = PageRequestError(
        name, f"{name} is not a valid cursor: pass back a cursor from page_info"
    )
    try:
        text = cursor.strip()
        payload = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise invalid from None
    if not isinstance(payload, dict):
        raise invalid
    pk = payload.get("id")
    if not isinstance(pk, int) or isinstance(pk, bool) or not 0 < pk < 2**63:
        raise invalid
    field = ORDER_KEYS[order_by][0]
    if set(payload) == {"id"}:
        # A bare {"id": n} (the seed's example cursor): the position of that payment.
        found = (
            InsurancePayment.objects.for_organization(organization)
            .filter(pk=pk)
            .annotate(sort_key=sort_expression(field))
            .values_list("sort_key", flat=True)
        )
        if not found:
            raise invalid
        return _Position(found[0], pk)
    if set(payload) != {"order_by", "value", "id"}:
        raise invalid
    if payload["order_by"] != order_by:
        raise PageRequestError(
            name,
            f"{name} is a cursor for order_by {payload['order_by']}, not {order_by}: "
            "start again from the first page",
        )
    value = payload["value"]
    if value is None:
        if field not in NULLABLE_KEYS:
            raise invalid
        return _Position(None, pk)
    try:
        return _Position(DECODERS[field](value), pk)
    except (ValueError, TypeError, InvalidOperation):
        raise invalid from None


# --- pages ------------------------------------------------------------------------------


def _page_request(
    first: int | None, last: int | None, after: str | None, before: str | None
) -> tuple[int, bool]:
    """(page size, backward?) from Relay-style arguments."""
    if first is not None and last is not None:
        raise PageRequestError("last", "Pass first (with after) or last (with before), not both")
    if after is not None and before is not None:
        raise PageRequestError("before", "Pass after or before, not both")
    backward = last is not None or (first is None and before is not None)
    if backward and after is not None:
        raise PageRequestError("after", "after goes with first; use before with last")
    if not backward and before is not None:
        raise PageRequestError("before", "before goes with last; use after with first")
    name, size = ("last", last) if backward else ("first", first)
    if size is None:
        return DEFAULT_PAGE_SIZE, backward
    if size < 0:
        raise PageRequestError(name, f"{name} cannot be negative")
    if size > MAX_PAGE_SIZE:
        raise PageRequestError(name, f"{name} cannot be greater than {MAX_PAGE_SIZE}")
    return size, backward


_VALUES, _NULLS = "values", "nulls"


def _walk(
    payments: QuerySet[InsurancePayment],
    field: str,
    *,
    descending: bool,
    natural: bool,
    position: _Position | None,
    limit: int,
    inclusive: bool = False,
) -> list[InsurancePayment]:
    """Up to `limit` rows after `position` (at or after it when `inclusive`), walking the
    order in `descending` direction. `natural` says whether that is the listed direction,
    where the null rows come last; walking back, they come first."""
    segments = [_VALUES, _NULLS] if field in NULLABLE_KEYS else [_VALUES]
    if not natural:
        segments.reverse()
    if position is not None:
        segments = segments[segments.index(_NULLS if position.value is None else _VALUES) :]
    rows: list[InsurancePayment] = []
    for segment in segments:
        queryset = payments.annotate(sort_key=sort_expression(field))
        if segment == _VALUES:
            if field in NULLABLE_KEYS:
                queryset = queryset.filter(sort_key__isnull=False)
            if position is not None and position.value is not None:
                lookup = (
                    (TupleLessThanOrEqual if inclusive else TupleLessThan)
                    if descending
                    else (TupleGreaterThanOrEqual if inclusive else TupleGreaterThan)
                )
                queryset = queryset.filter(
                    lookup(Tuple(sort_expression(field), F("id")), (position.value, position.pk))
                )
        else:
            queryset = queryset.filter(sort_key__isnull=True)
            if position is not None and position.value is None:
                op = (
                    ("lte" if inclusive else "lt") if descending else ("gte" if inclusive else "gt")
                )
                queryset = queryset.filter(**{f"id__{op}": position.pk})
        # Ordering the null rows by the (null) key too lets PostgreSQL read them in index
        # order from the same (organization, key, id) index.
        if descending:
            queryset = queryset.order_by(F("sort_key").desc(), F("id").desc())
        else:
            queryset = queryset.order_by(F("sort_key").asc(), F("id").asc())
        rows.extend(queryset[: limit - len(rows)])
        if len(rows) >= limit:
            break
    return rows


def insurance_payments_page(
    organization: Organization,
    *,
    start_paid_date: datetime.date | str | None = None,
    end_paid_date: datetime.date | str | None = None,
    order_by: str | None = DEFAULT_ORDER,
    keywords: str | None = None,
    deposit_status: str | None = None,
    payer: str | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    with_total: bool = True,
) -> Page:
    """One page of the organization's live insurance payments (seed 003's
    `insurancePayments`). `first` (default 20, at most 100) rows after the `after` cursor,
    or `last` rows before the `before` cursor. Raises PageRequestError for arguments it
    cannot answer (a page size over 100, a cursor it did not make, ...)."""
    order_by = order_by or DEFAULT_ORDER
    if order_by not in ORDER_KEYS:
        raise PageRequestError("order_by", f"order_by must be one of {', '.join(ORDER_KEYS)}")
    size, backward = _page_request(first, last, after, before)
    payments = insurance_payments_filtered(
        organization,
        start_paid_date=start_paid_date,
        end_paid_date=end_paid_date,
        keywords=keywords,
        deposit_status=deposit_status,
        payer=payer,
    )
    field, direction = ORDER_KEYS[order_by]
    descending = direction == "desc"
    cursor_name, cursor = ("before", before) if backward else ("after", after)
    position = _decode_cursor(cursor_name, cursor, order_by, organization) if cursor else None

    rows = _walk(
        payments,
        field,
        descending=descending != backward,
        natural=not backward,
        position=position,
        limit=size + 1,
    )
    more = len(rows) > size
    rows = rows[:size]
    # Rows on the cursor's other side: the cursor row itself counts (it was on the page
    # the client came from).
    behind = position is not None and bool(
        _walk(
            payments,
            field,
            descending=descending == backward,
            natural=backward,
            position=position,
            limit=1,
            inclusive=True,
        )
    )
    if backward:
        rows.reverse()
    cursors = [encode_cursor(order_by, row.sort_key, row.pk) for row in rows]  # type: ignore[attr-defined]
    return Page(
        nodes=rows,
        has_next_page=behind if backward else more,
        has_previous_page=more if backward else behind,
        start_cursor=cursors[0] if cursors else None,
        end_cursor=cursors[-1] if cursors else None,
        total_count=payments.count() if with_total else None,
    )
