"""The insurance payments list: columns, filters, the 16 sorts, keyset pages and totals, and
"Mark deposited" for ticked rows."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import AuditLog
from payments.models import InsurancePayment
from payments.selectors import ORDER_KEYS
from tests.payments.pages import automatic, manual

pytestmark = pytest.mark.django_db

URL = reverse("payment_list")
ROW_IDS = re.compile(r'href="/pm/payments/(\d+)\?next=')


def _shown(response) -> list[int]:
    """The payments on the page, in the order they are listed."""
    return [int(pk) for pk in ROW_IDS.findall(response.content.decode())]


@pytest.fixture
def client(login, manager):
    return login(manager)


def test_it_lists_both_sources_with_their_columns(client, org):
    paid = manual(
        org,
        paid_date="2026-03-02",
        paid_amount="1234.50",
        payer_name="Aetna",
        ach_check_number="CHK-789012",
        deposit_status="DEPOSITED",
    )
    era = automatic(org, paid_date="2026-03-05", paid_amount="410.25", trace="0012345678")
    response = client.get(URL)
    body = response.content.decode()
    assert _shown(response) == [era.pk, paid.pk]  # PAID_DATE_DESC by default
    for text in ("03/02/2026", "Aetna", "$1,234.50", "CHK-789012", "1234567890", "0012345678"):
        assert text in body
    assert '<span class="badge pay-src-manual">Manual</span>' in body
    assert '<span class="badge pay-src-automatic">Automatic</span>' in body
    assert '<span class="badge pay-dep-deposited">Deposited</span>' in body
    assert '<span class="badge pay-dep-pending">Pending</span>' in body
    # only the pending one can be ticked for "Mark deposited"
    assert f'name="payment_ids" value="{era.pk}"' in body
    assert f'name="payment_ids" value="{paid.pk}"' not in body
    assert 'data-testid="payment-totals"><strong>2</strong> payments' in body
    assert "$1,644.75" in body  # total
    assert "Payments</a>" in body and 'aria-current="page">Payments' in body


@pytest.mark.urls("tests.payments.era_urls")
def test_automatic_payments_link_their_era(client, org):
    era_payment = automatic(org)
    hand = manual(org)
    body = client.get(URL).content.decode()
    assert f'href="/pm/payments/eras/{era_payment.era_id}" data-testid="era-link"' in body
    assert body.count('data-testid="era-link"') == 1
    assert f"/pm/payments/{hand.pk}?next=" in body


def test_it_leaves_out_deleted_payments_and_other_organizations(client, org, other_org):
    kept = manual(org, payer_name="Kept Payer")
    manual(org, payer_name="Deleted Payer", deleted_at=timezone.now())
    manual(other_org, payer_name="Their Payer")
    response = client.get(URL)
    body = response.content.decode()
    assert _shown(response) == [kept.pk]
    assert "Deleted Payer" not in body and "Their Payer" not in body


@pytest.fixture
def mix(org):
    return {
        "jan": manual(
            org,
            paid_date="2026-01-10",
            payer_name="Aetna",
            npi="1111111111",
            ach_check_number="CHK-100",
            paid_amount="100.00",
        ),
        "feb": manual(
            org,
            paid_date="2026-02-10",
            payer_name="Cigna",
            npi="2222222222",
            ach_check_number="CHK-200",
            paid_amount="200.00",
            deposit_status="DEPOSITED",
        ),
        "mar": automatic(
            org,
            paid_date="2026-03-10",
            payer_name="Blue Cross Blue Shield",
            trace="TRN300",
            paid_amount="300.00",
        ),
        "apr": manual(
            org,
            paid_date="2026-04-10",
            payer_name="aetna better health",
            npi="3333333333",
            ach_check_number=None,
            paid_amount="400.00",
        ),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"start_paid_date": "2026-02-10"}, ["apr", "mar", "feb"]),
        ({"end_paid_date": "2026-02-10"}, ["feb", "jan"]),
        ({"start_paid_date": "2026-02-01", "end_paid_date": "2026-03-31"}, ["mar", "feb"]),
        ({"keywords": "AETNA"}, ["apr", "jan"]),
        ({"keywords": "blue shield"}, ["mar"]),
        ({"keywords": "2222222"}, ["feb"]),
        ({"keywords": "chk-1"}, ["jan"]),
        ({"keywords": "trn300"}, ["mar"]),
        ({"deposit_status": "DEPOSITED"}, ["feb"]),
        ({"deposit_status": "PENDING"}, ["apr", "mar", "jan"]),
        ({"payer": "Aetna"}, ["jan"]),
        ({"payer": "Cigna", "deposit_status": "PENDING"}, []),
    ],
)
def test_the_filters_show_the_matching_payments(client, mix, query, expected):
    response = client.get(URL, query)
    assert _shown(response) == [mix[name].pk for name in expected]
    body = response.content.decode()
    if expected:
        total = sum((mix[name].paid_amount for name in expected), Decimal("0"))
        assert f'data-testid="payment-total">${total:,.2f}<' in body
        assert f"<strong>{len(expected)}</strong> payment" in body
    else:
        assert "No payments match these filters." in body


def test_the_payer_filter_offers_the_payers_of_the_payments(client, mix):
    form = client.get(URL).context["form"]
    assert [name for name, _ in form.fields["payer"].choices] == [
        "",
        "Aetna",
        "aetna better health",
        "Blue Cross Blue Shield",
        "Cigna",
    ]


def test_a_bad_filter_is_shown_and_left_out(client, mix):
    response = client.get(URL, {"start_paid_date": "2026-13-40", "payer": "Nobody"})
    body = response.content.decode()
    assert "Paid from: Enter a valid date." in body
    assert "Payer: Select a valid choice." in body
    assert len(_shown(response)) == 4
    response = client.get(URL, {"start_paid_date": "2026-04-01", "end_paid_date": "2026-01-01"})
    assert "The end date is before the start date." in response.content.decode()


def _expected(payments: list[InsurancePayment], key: str) -> list[int]:
    """The seed's order for `key`, computed apart from the selector: nulls last in both
    directions, ties by id in the key's direction, payer names ignoring ASCII case."""
    field, direction = ORDER_KEYS[key]
    descending = direction == "desc"

    def value(p):
        v = getattr(p, field)
        return v.lower() if field == "payer_name" else v

    present = sorted(
        (p for p in payments if value(p) is not None),
        key=lambda p: (value(p), p.pk),
        reverse=descending,
    )
    nulls = sorted(
        (p for p in payments if value(p) is None), key=lambda p: p.pk, reverse=descending
    )
    return [p.pk for p in present + nulls]


@pytest.fixture
def sortable(org):
    base = timezone.now()
    rows = []
    specs = [
        ("2026-01-05", "120.00", "Cigna", "3333333333", "CHK-3", "manual"),
        ("2026-01-05", "75.10", "aetna", None, None, "manual"),
        ("2026-02-11", "990.00", "Aetna", "1111111111", "0007", "automatic"),
        ("2026-03-01", "120.00", "UnitedHealthcare", "2222222222", "CHK-10", "manual"),
        ("2026-02-11", "15.00", "Humana", "1111111111", None, "manual"),
        ("2025-12-31", "2500.00", "Cigna", None, "A-1", "automatic"),
    ]
    for n, (day, amount, payer, npi, number, source) in enumerate(specs):
        stamps = {
            "created_at": base - datetime.timedelta(hours=n),
            "updated_at": base + datetime.timedelta(minutes=7 * ((n * 5) % 6)),
        }
        if source == "manual":
            rows.append(
                manual(
                    org,
                    paid_date=day,
                    paid_amount=amount,
                    payer_name=payer,
                    npi=npi,
                    ach_check_number=number,
                    **stamps,
                )
            )
        else:
            rows.append(
                automatic(
                    org,
                    paid_date=day,
                    paid_amount=amount,
                    payer_name=payer,
                    trace=number,
                    npi=npi,
                    **stamps,
                )
            )
    return rows


@pytest.mark.parametrize("key", list(ORDER_KEYS))
def test_each_of_the_16_sorts_lists_the_seeds_order(client, sortable, key):
    response = client.get(URL, {"order_by": key})
    assert _shown(response) == _expected(sortable, key)
    form = response.context["form"]
    assert f'<option value="{key}" selected>' in str(form["order_by"])


def test_the_column_headers_sort_and_toggle(client, sortable):
    body = client.get(URL).content.decode()
    # default PAID_DATE_DESC: the Paid date header offers the other direction
    assert (
        '<a href="?order_by=PAID_DATE_ASC" title="Sort by paid date, oldest first">Paid date</a> ▼'
        in body
    )
    assert '<a href="?order_by=PAYER_NAME_ASC"' in body
    body = client.get(URL, {"order_by": "PAYER_NAME_ASC", "keywords": "a"}).content.decode()
    assert '<a href="?order_by=PAYER_NAME_DESC&amp;keywords=a"' in body
    assert "Payer</a> ▲" in body


def test_the_sort_select_offers_all_16_keys(client):
    form = client.get(URL).context["form"]
    assert [key for key, _ in form.fields["order_by"].choices] == list(ORDER_KEYS)


def test_it_pages_forward_and_back_with_cursors(client, org):
    for n in range(120):
        manual(
            org,
            paid_date=str(datetime.date(2026, 1, 1) + datetime.timedelta(days=n // 3)),
            paid_amount=f"{n + 1}.00",
        )
    everything = [p.pk for p in InsurancePayment.objects.order_by("-paid_date", "-pk")]
    first = client.get(URL)
    assert _shown(first) == everything[:50]
    body = first.content.decode()
    assert "<strong>120</strong> payments" in body
    assert 'data-testid="previous-page"' not in body
    pager = first.context["pager"]
    second = client.get(URL + pager["next"])
    assert _shown(second) == everything[50:100]
    third = client.get(URL + second.context["pager"]["next"])
    assert _shown(third) == everything[100:]
    assert 'data-testid="next-page"' not in third.content.decode()
    back = client.get(URL + third.context["pager"]["previous"])
    assert _shown(back) == everything[50:100]
    again = client.get(URL + back.context["pager"]["previous"])
    assert _shown(again) == everything[:50]
    assert again.context["pager"]["previous"] is None
    # the page total is of the rows shown
    assert (
        f"${sum(p.paid_amount for p in second.context['page'].nodes):,.2f}"
        in second.content.decode()
    )


def test_cursors_keep_the_filters_and_sort(client, org):
    for n in range(120):
        manual(org, payer_name="Aetna" if n % 2 else "Cigna", paid_amount=f"{n + 1}.00")
    first = client.get(URL, {"payer": "Aetna", "order_by": "PAID_AMOUNT_ASC"})
    assert "payer=Aetna" in first.context["pager"]["next"]
    assert "order_by=PAID_AMOUNT_ASC" in first.context["pager"]["next"]
    second = client.get(URL + first.context["pager"]["next"])
    amounts = [p.paid_amount for p in first.context["page"].nodes + second.context["page"].nodes]
    assert amounts == [Decimal(f"{n}.00") for n in range(2, 121, 2)]


def test_a_stale_cursor_says_so_and_shows_the_first_page(client, org):
    rows = [manual(org, paid_amount=f"{n}.00") for n in range(1, 4)]
    first = client.get(URL, {"order_by": "PAID_AMOUNT_ASC"})
    cursor = first.context["page"].end_cursor
    response = client.get(URL, {"order_by": "PAID_AMOUNT_DESC", "after": cursor})
    body = response.content.decode()
    assert "is a cursor for order_by PAID_AMOUNT_ASC, not PAID_AMOUNT_DESC" in body
    assert _shown(response) == [p.pk for p in reversed(rows)]
    response = client.get(URL, {"after": "not-a-cursor"})
    assert "after is not a valid cursor" in response.content.decode()


def test_htmx_filtering_swaps_only_the_rows(client, mix):
    response = client.get(
        URL, {"payer": "Cigna"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="payment-rows"
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="payment-rows">')
    assert "<h1>" not in body
    assert _shown(response) == [mix["feb"].pk]


def test_the_empty_list_says_how_payments_arrive(client):
    body = client.get(URL).content.decode()
    assert "No insurance payments yet." in body
    assert f'href="{reverse("payment_add")}"' in body


# --- Mark deposited ---------------------------------------------------------------------

MARK = reverse("payments_mark_deposited")


def test_mark_deposited_changes_the_ticked_rows_and_audits_once(client, org, manager, mix):
    back = URL + "?deposit_status=PENDING"
    response = client.post(MARK, {"payment_ids": [mix["jan"].pk, mix["mar"].pk], "next": back})
    assert response.status_code == 302
    assert response["Location"] == back
    statuses = dict(InsurancePayment.objects.values_list("pk", "deposit_status"))
    assert statuses[mix["jan"].pk] == statuses[mix["mar"].pk] == "DEPOSITED"
    assert statuses[mix["apr"].pk] == "PENDING"
    row = AuditLog.objects.get(action="insurance_payment.mark_deposited")
    assert row.actor == manager
    assert row.new_values["payment_ids"] == sorted([mix["jan"].pk, mix["mar"].pk])
    page = client.get(back)
    assert "2 payments marked deposited." in page.content.decode()
    assert _shown(page) == [mix["apr"].pk]


def test_mark_deposited_counts_the_ones_already_deposited(client, mix):
    response = client.post(MARK, {"payment_ids": [mix["feb"].pk, mix["apr"].pk]}, follow=True)
    assert "1 payment marked deposited. 1 was already deposited or deleted." in (
        response.content.decode()
    )


def test_mark_deposited_without_ticks_says_so(client, mix):
    response = client.post(MARK, {}, follow=True)
    assert "Tick the payments to mark deposited first." in response.content.decode()
    assert not AuditLog.objects.filter(action="insurance_payment.mark_deposited").exists()


def test_mark_deposited_refuses_ids_of_another_organization(client, org, other_org, mix):
    theirs = manual(other_org)
    response = client.post(MARK, {"payment_ids": [mix["jan"].pk, theirs.pk]})
    assert response.status_code == 404
    assert InsurancePayment.objects.get(pk=mix["jan"].pk).deposit_status == "PENDING"
    assert InsurancePayment.objects.get(pk=theirs.pk).deposit_status == "PENDING"
    assert client.post(MARK, {"payment_ids": ["x1"]}).status_code == 404


def test_mark_deposited_ignores_an_offsite_next(client, mix):
    response = client.post(MARK, {"payment_ids": [mix["jan"].pk], "next": "https://evil.example/"})
    assert response["Location"] == URL
