"""insurance_payments_page: filters, the 16 orders, keyset paging both ways over ties and
nulls, cursors and page sizes. Run on SQLite and on PostgreSQL (DATABASE_URL): both must
give the order the Python expectation below gives."""

from __future__ import annotations

import base64
import datetime
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from payments.expressions import ascii_lower
from payments.models import Era, EraFile, InsurancePayment
from payments.selectors import (
    ORDER_KEYS,
    PageRequestError,
    insurance_payments_filtered,
    insurance_payments_page,
)
from tests import factories
from tests.payments.graphql_helpers import automatic, payment

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2024, 1, 1, 12, 0, tzinfo=datetime.UTC)


def expected_ids(payments: list[InsurancePayment], order_by: str) -> list[int]:
    """The order the API promises, computed in Python: values (ties by id, same direction),
    then nulls by id; payer names ignoring ASCII case, text by code point."""
    field, direction = ORDER_KEYS[order_by]
    descending = direction == "desc"

    def value(p: InsurancePayment):
        v = getattr(p, field)
        return ascii_lower(v) if field == "payer_name" else v

    present = sorted(
        (p for p in payments if getattr(p, field) is not None),
        key=lambda p: (value(p), p.pk),
        reverse=descending,
    )
    absent = sorted(
        (p for p in payments if getattr(p, field) is None), key=lambda p: p.pk, reverse=descending
    )
    return [p.pk for p in present + absent]


def page_forward(org, order_by: str, size: int, **filters) -> list[int]:
    ids: list[int] = []
    after = None
    for _ in range(1000):
        page = insurance_payments_page(org, order_by=order_by, first=size, after=after, **filters)
        ids += [p.pk for p in page.nodes]
        assert page.has_previous_page == (after is not None)
        if not page.has_next_page:
            return ids
        assert len(page.nodes) == size
        after = page.end_cursor
    raise AssertionError("paging did not end")


def page_backward(org, order_by: str, size: int, **filters) -> list[int]:
    ids: list[int] = []
    before = None
    for _ in range(1000):
        page = insurance_payments_page(org, order_by=order_by, last=size, before=before, **filters)
        ids = [p.pk for p in page.nodes] + ids
        assert page.has_next_page == (before is not None)
        if not page.has_previous_page:
            return ids
        assert len(page.nodes) == size
        before = page.start_cursor
    raise AssertionError("paging did not end")


# --- a fixed set with ties and nulls on every key --------------------------------------------

PAYER_NAMES = ["Aetna", "aetna", "AETNA", "Blue Cross", "blue cross", "Zeta", "Éclair", "a-b"]
CHECK_NUMBERS = [None, "CHK-1", "chk-1", "10", "9", None, "", "ACH 2"]
NPIS = [None, "1000000000", "0999999999", None, "1000000000", "9999999999", None, "1234567890"]


@pytest.fixture
def tied(org):
    rows = []
    for i in range(24):
        fields = {
            "paid_date": datetime.date(2024, 1, 1 + i % 3),
            "paid_amount": [Decimal("1.00"), Decimal("2.50"), Decimal("10.00")][i % 3],
            "payer_name": PAYER_NAMES[i % len(PAYER_NAMES)],
            "ach_check_number": CHECK_NUMBERS[(i * 3) % len(CHECK_NUMBERS)],
            "npi": NPIS[(i * 5) % len(NPIS)],
            "created_at": T0 + datetime.timedelta(seconds=i % 4),
            "updated_at": T0 + datetime.timedelta(microseconds=(i % 5) * 250_000),
        }
        rows.append(automatic(org, **fields) if i % 4 == 0 else payment(org, **fields))
    return rows


@pytest.mark.parametrize("order_by", list(ORDER_KEYS))
@pytest.mark.parametrize("size", [1, 5, 100])
def test_it_pages_every_order_forward_and_back_without_gaps_or_repeats(tied, org, order_by, size):
    expected = expected_ids(tied, order_by)

    assert page_forward(org, order_by, size) == expected
    assert page_backward(org, order_by, size) == expected


@pytest.mark.parametrize("order_by", list(ORDER_KEYS))
def test_it_turns_around_mid_list(tied, org, order_by):
    expected = expected_ids(tied, order_by)
    first = insurance_payments_page(org, order_by=order_by, first=7)
    second = insurance_payments_page(org, order_by=order_by, first=7, after=first.end_cursor)
    back = insurance_payments_page(org, order_by=order_by, last=7, before=second.start_cursor)

    assert [p.pk for p in second.nodes] == expected[7:14]
    assert [p.pk for p in back.nodes] == expected[:7]
    assert (back.has_previous_page, back.has_next_page) == (False, True)
    assert (second.has_previous_page, second.has_next_page) == (True, True)


def test_text_orders_are_by_code_point_with_payer_names_ignoring_ascii_case(org):
    names = ["Zeta", "aetna", "Éclair", "AETNA", "a-b", "Blue Cross", "a b", "Aetna"]
    rows = [payment(org, payer_name=name) for name in names]
    by_name = {p.pk: p.payer_name for p in rows}

    page = insurance_payments_page(org, order_by="PAYER_NAME_ASC")

    # ' ' < '-' < 'a'..'z' < 'É' by code point; Aetna/aetna/AETNA tie, so by id.
    assert [by_name[p.pk] for p in page.nodes] == [
        "a b",
        "a-b",
        "aetna",
        "AETNA",
        "Aetna",
        "Blue Cross",
        "Zeta",
        "Éclair",
    ]


def test_check_numbers_sort_exactly_by_code_point_with_nulls_last_both_ways(org):
    numbers = ["chk-1", None, "CHK-1", "10", "9", "", None, "ACH 2"]
    rows = [payment(org, ach_check_number=n) for n in numbers]
    by_id = {p.pk: p.ach_check_number for p in rows}

    asc = insurance_payments_page(org, order_by="ACH_CHECK_NUMBER_ASC")
    desc = insurance_payments_page(org, order_by="ACH_CHECK_NUMBER_DESC")

    assert [by_id[p.pk] for p in asc.nodes] == [
        "",
        "10",
        "9",
        "ACH 2",
        "CHK-1",
        "chk-1",
        None,
        None,
    ]
    assert [by_id[p.pk] for p in desc.nodes] == [
        "chk-1",
        "CHK-1",
        "ACH 2",
        "9",
        "10",
        "",
        None,
        None,
    ]
    # Among the nulls the id breaks the tie in the order's direction.
    assert [p.pk for p in asc.nodes][-2:] == sorted(
        p.pk for p in rows if p.ach_check_number is None
    )
    assert [p.pk for p in desc.nodes][-2:] == sorted(
        (p.pk for p in rows if p.ach_check_number is None), reverse=True
    )


# --- property: any rows, any order, any page size ------------------------------------------

row = st.fixed_dictionaries(
    {
        "paid_date": st.sampled_from([datetime.date(2024, 1, d) for d in (1, 2, 31)]),
        "paid_amount": st.sampled_from([Decimal("0.01"), Decimal("2.50"), Decimal("1000.00")]),
        "payer_name": st.sampled_from([*PAYER_NAMES, "ångström", "Z", "z"]),
        "npi": st.sampled_from([None, "0000000001", "1000000000", "9999999999"]),
        "ach_check_number": st.sampled_from([None, "", "A", "a", "B-1", "b 1", "100", "99"]),
        "automatic": st.booleans(),
        "created": st.integers(0, 2),
        "updated": st.integers(0, 2),
    }
)


@settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    max_examples=60,
)
@given(
    rows=st.lists(row, max_size=12),
    order_by=st.sampled_from(list(ORDER_KEYS)),
    size=st.integers(1, 4),
)
def test_property_paging_matches_the_python_order(org, rows, order_by, size):
    InsurancePayment.objects.all().delete()
    Era.objects.all().delete()
    EraFile.objects.all().delete()
    made = []
    for r in rows:
        fields = {k: v for k, v in r.items() if k not in ("automatic", "created", "updated")}
        fields["created_at"] = T0 + datetime.timedelta(seconds=r["created"])
        fields["updated_at"] = T0 + datetime.timedelta(microseconds=r["updated"])
        made.append(automatic(org, **fields) if r["automatic"] else payment(org, **fields))
    expected = expected_ids(made, order_by)

    assert page_forward(org, order_by, size) == expected
    assert page_backward(org, order_by, size) == expected


# --- what is listed ------------------------------------------------------------------------


def test_it_lists_only_the_organizations_live_payments(org, other_org):
    mine = payment(org)
    payment(org, deleted_at=timezone.now())
    payment(other_org)

    page = insurance_payments_page(org)

    assert [p.pk for p in page.nodes] == [mine.pk]
    assert page.total_count == 1


def test_paid_date_filters_are_inclusive(org):
    days = [payment(org, paid_date=datetime.date(2024, 1, d)) for d in (1, 2, 30, 31)]
    days.append(payment(org, paid_date=datetime.date(2024, 2, 1)))

    page = insurance_payments_page(
        org,
        start_paid_date=datetime.date(2024, 1, 2),
        end_paid_date="2024-01-31",
        order_by="PAID_DATE_ASC",
    )

    assert [p.paid_date.day for p in page.nodes] == [2, 30, 31]


def test_keywords_match_npi_check_number_and_payer_ignoring_case(org):
    bcbs = payment(org, payer_name="Blue Cross Blue Shield", npi="1111111111")
    check = payment(org, payer_name="Aetna", ach_check_number="CHK-789012", npi="2222222222")
    npi = payment(org, payer_name="Cigna", npi="1234567890")
    payment(org, payer_name="Humana", npi="9999999999")

    def found(words):
        return {p.pk for p in insurance_payments_page(org, keywords=words).nodes}

    assert found("blue cross") == {bcbs.pk}
    assert found("cross BLUE") == {bcbs.pk}
    assert found("chk-789") == {check.pk}
    assert found("4567") == {npi.pk}
    assert found("aetna 789012") == {check.pk}
    assert found("aetna cigna") == set()
    assert found("  ") == {bcbs.pk, check.pk, npi.pk} | {
        p.pk for p in InsurancePayment.objects.filter(payer_name="Humana")
    }
    assert found("100%") == set()  # % and _ are literal, not wildcards


def test_deposit_status_and_exact_payer_filters(org):
    pending = payment(org, payer_name="Aetna")
    payment(org, payer_name="Aetna", deposit_status="DEPOSITED")
    payment(org, payer_name="Aetna Better Health")

    page = insurance_payments_page(org, deposit_status="PENDING", payer="Aetna")

    assert [p.pk for p in page.nodes] == [pending.pk]
    assert page.total_count == 1
    assert insurance_payments_filtered(org, payer="aetna").count() == 0


def test_total_count_is_counted_only_when_asked(org):
    payment(org)
    with CaptureQueriesContext(connection) as without:
        page = insurance_payments_page(org, with_total=False)
    with CaptureQueriesContext(connection) as with_total:
        counted = insurance_payments_page(org)

    assert page.total_count is None
    assert counted.total_count == 1
    assert len(with_total) == len(without) + 1


# --- page sizes and cursors ------------------------------------------------------------------


def test_first_defaults_to_20_and_allows_100(org):
    InsurancePayment.objects.bulk_create(
        [
            InsurancePayment(
                organization=org,
                paid_date=datetime.date(2024, 1, 1),
                paid_amount=Decimal("1.00"),
                source="manual",
                payer_name=f"Payer {i:03}",
            )
            for i in range(120)
        ]
    )

    assert len(insurance_payments_page(org).nodes) == 20
    assert len(insurance_payments_page(org, first=100).nodes) == 100
    assert len(insurance_payments_page(org, last=100).nodes) == 100
    assert insurance_payments_page(org, first=0).nodes == []


@pytest.mark.parametrize(
    ("arguments", "field", "message"),
    [
        ({"first": 101}, "first", "first cannot be greater than 100"),
        ({"last": 500}, "last", "last cannot be greater than 100"),
        ({"first": -1}, "first", "first cannot be negative"),
        (
            {"first": 5, "last": 5},
            "last",
            "Pass first (with after) or last (with before), not both",
        ),
        ({"after": "x", "before": "y"}, "before", "Pass after or before, not both"),
        ({"last": 5, "after": "x"}, "after", "after goes with first; use before with last"),
        ({"first": 5, "before": "x"}, "before", "before goes with last; use after with first"),
        ({"order_by": "PAYER_DESC"}, "order_by", None),
        (
            {"deposit_status": "LOST"},
            "deposit_status",
            "deposit_status must be PENDING or DEPOSITED",
        ),
        ({"start_paid_date": "01/02/2024"}, "start_paid_date", None),
        ({"keywords": "x" * 201}, "keywords", "keywords must be at most 200 characters"),
    ],
)
def test_it_refuses_arguments_it_cannot_answer(org, arguments, field, message):
    with pytest.raises(PageRequestError) as raised:
        insurance_payments_page(org, **arguments)

    assert raised.value.field == field
    if message is not None:
        assert raised.value.message == message


def _b64(payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor",
        "!!!!",
        _b64([1, 2]),
        _b64({"id": "12"}),
        _b64({"id": True}),
        _b64({"order_by": "PAID_DATE_DESC", "value": "yesterday", "id": 1}),
        _b64({"order_by": "PAID_DATE_DESC", "value": None, "id": 1}),  # paid_date is never null
        _b64({"order_by": "PAID_DATE_DESC", "value": "2024-01-01", "id": 1, "x": 1}),
        _b64({"id": 999999}),  # a bare id: no such payment here
    ],
)
def test_a_malformed_cursor_is_a_clear_message(org, cursor):
    payment(org)
    with pytest.raises(PageRequestError) as raised:
        insurance_payments_page(org, after=cursor)

    assert raised.value.field == "after"
    assert raised.value.message == "after is not a valid cursor: pass back a cursor from page_info"


def test_a_cursor_of_another_order_is_refused(org):
    payment(org)
    payment(org)
    cursor = insurance_payments_page(org, order_by="PAID_AMOUNT_ASC", first=1).end_cursor

    with pytest.raises(PageRequestError) as raised:
        insurance_payments_page(org, order_by="PAID_DATE_DESC", after=cursor)

    assert raised.value.message == (
        "after is a cursor for order_by PAID_AMOUNT_ASC, not PAID_DATE_DESC: "
        "start again from the first page"
    )


def test_a_cursor_outlives_the_row_it_points_at(org):
    rows = [payment(org, paid_amount=Decimal(n)) for n in ("1.00", "2.00", "3.00", "4.00")]
    page = insurance_payments_page(org, order_by="PAID_AMOUNT_ASC", first=2)
    rows[1].deleted_at = timezone.now()
    rows[1].save()

    rest = insurance_payments_page(org, order_by="PAID_AMOUNT_ASC", first=2, after=page.end_cursor)

    assert [p.pk for p in rest.nodes] == [rows[2].pk, rows[3].pk]
    assert rest.has_previous_page is True


def test_a_bare_id_cursor_pages_after_that_payment(org):
    rows = [payment(org, paid_date=datetime.date(2024, 1, d)) for d in (1, 2, 3)]

    page = insurance_payments_page(org, first=5, after=_b64({"id": rows[2].pk}))

    assert [p.pk for p in page.nodes] == [rows[1].pk, rows[0].pk]


def test_cursors_are_opaque_base64_json_of_the_sort_value_and_id(org):
    row = payment(org, paid_amount=Decimal("12.30"))
    page = insurance_payments_page(org, order_by="PAID_AMOUNT_DESC")

    assert json.loads(base64.urlsafe_b64decode(page.end_cursor)) == {
        "order_by": "PAID_AMOUNT_DESC",
        "value": "12.30",
        "id": row.pk,
    }


def test_another_organizations_payment_cannot_anchor_a_bare_cursor(org, other_org):
    theirs = payment(other_org)
    payment(org)

    with pytest.raises(PageRequestError):
        insurance_payments_page(org, after=_b64({"id": theirs.pk}))


# --- PostgreSQL: pages are read from the indexes ---------------------------------------------


def _plans(org, **arguments) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        insurance_payments_page(org, with_total=False, **arguments)
    plans = []
    with connection.cursor() as cursor:
        for query in queries.captured_queries:
            sql = query["sql"]
            if "payments_insurancepayment" in sql and "ORDER BY" in sql:
                cursor.execute("EXPLAIN " + sql)
                plans.append("\n".join(line for (line,) in cursor.fetchall()))
    return plans


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("order_by", "index"),
    [
        ("PAID_DATE_DESC", "ip_paid_date_idx"),
        ("PAID_AMOUNT_ASC", "ip_paid_amount_idx"),
        ("PAYER_NAME_ASC", "ip_payer_name_cp_idx"),
        ("NPI_DESC", "ip_npi_cp_idx"),
        ("ACH_CHECK_NUMBER_ASC", "ip_ach_check_cp_idx"),
        ("UPDATED_AT_DESC", "ip_updated_at_idx"),
    ],
)
def test_postgres_reads_deep_pages_from_the_keyset_indexes(org, order_by, index):
    other = factories.OrganizationFactory()
    rows = [
        InsurancePayment(
            organization=organization,
            paid_date=datetime.date(2020, 1, 1) + datetime.timedelta(days=i % 1500),
            paid_amount=Decimal(i % 9000 + 1) / 4,
            source="manual",
            payer_name=f"Payer {i % 300}",
            npi=None if i % 3 == 0 else f"{i % 10**10:010d}",
            ach_check_number=None if i % 4 == 0 else f"CHK-{i}",
            created_at=T0 + datetime.timedelta(minutes=i),
            updated_at=T0 + datetime.timedelta(minutes=i),
        )
        for organization in (org, other)
        for i in range(20_000)
    ]
    InsurancePayment.objects.bulk_create(rows, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE payments_insurancepayment")
    deep = insurance_payments_page(org, order_by=order_by, first=100)
    for _ in range(30):
        deep = insurance_payments_page(org, order_by=order_by, first=100, after=deep.end_cursor)

    plans = _plans(org, order_by=order_by, first=20, after=deep.end_cursor)
    plans += _plans(org, order_by=order_by, last=20, before=deep.start_cursor)
    if order_by in ("NPI_DESC", "ACH_CHECK_NUMBER_ASC"):
        # Deep among the null rows, read by id from the same index.
        field = ORDER_KEYS[order_by][0]
        null_row = InsurancePayment.objects.filter(
            organization=org, **{f"{field}__isnull": True}
        ).order_by("pk")[2000]
        among_nulls = _b64({"order_by": order_by, "value": None, "id": null_row.pk})
        plans += _plans(org, order_by=order_by, first=20, after=among_nulls)
        plans += _plans(org, order_by=order_by, last=20, before=among_nulls)

    assert plans
    for plan in plans:
        assert index in plan, plan
        assert "Sort" not in plan, plan  # rows come in index order: no sorting of the tail
        assert "Seq Scan" not in plan, plan
