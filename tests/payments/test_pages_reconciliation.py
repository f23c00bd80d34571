"""Deposit reconciliation: pending payments of a date range with their totals, and a bank
deposit CSV matched to them by trace number and amount, applied in one click."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from billing.models import AuditLog
from payments.models import InsurancePayment
from payments.reconciliation import BankCsvError, match_deposits, read_bank_csv, trace_in
from tests.payments.pages import automatic, manual

pytestmark = pytest.mark.django_db

URL = reverse("payments_reconciliation")
IMPORT = reverse("payments_reconciliation_import")
MARK = reverse("payments_mark_deposited")
HEADER = "date,amount,description\n"


@pytest.fixture
def client(login, manager):
    return login(manager)


def _upload(text: str | bytes, name: str = "deposits.csv") -> SimpleUploadedFile:
    data = text.encode() if isinstance(text, str) else text
    return SimpleUploadedFile(name, data, content_type="text/csv")


def _statuses(org) -> dict[int, str]:
    return dict(
        InsurancePayment.objects.filter(organization=org).values_list("pk", "deposit_status")
    )


# --- the pending list -------------------------------------------------------------------


def test_it_lists_pending_payments_of_the_range_with_totals(client, org):
    inside = [
        manual(org, paid_date="2026-03-02", paid_amount="150.00", payer_name="Aetna"),
        automatic(org, paid_date="2026-03-20", paid_amount="410.25", payer_name="Cigna"),
        manual(org, paid_date="2026-03-31", paid_amount="39.75", payer_name="Aetna"),
    ]
    manual(org, paid_date="2026-03-10", paid_amount="999.00", deposit_status="DEPOSITED")
    manual(org, paid_date="2026-04-01", paid_amount="888.00")
    manual(org, paid_date="2026-03-11", paid_amount="777.00", deleted_at=timezone.now())
    response = client.get(URL, {"start_paid_date": "2026-03-01", "end_paid_date": "2026-03-31"})
    body = response.content.decode()
    assert '<strong data-testid="pending-count">3</strong> payments' in body
    assert '<strong data-testid="pending-sum">$600.00</strong>' in body
    assert [p.pk for p in response.context["page"].nodes] == [p.pk for p in inside]
    for amount in ("999.00", "888.00", "777.00"):
        assert f"${amount}" not in body
    by_payer = {
        row["payer_name"]: (row["count"], row["total"]) for row in response.context["by_payer"]
    }
    assert by_payer == {"Aetna": (2, Decimal("189.75")), "Cigna": (1, Decimal("410.25"))}


def test_without_a_range_it_shows_every_pending_payment(client, org):
    manual(org, paid_date="2020-01-01", paid_amount="1.00")
    manual(org, paid_date="2026-01-01", paid_amount="2.00")
    body = client.get(URL).content.decode()
    assert '<strong data-testid="pending-count">2</strong>' in body
    assert "all dates" in body


def test_a_reversed_range_says_so(client, org):
    response = client.get(URL, {"start_paid_date": "2026-03-31", "end_paid_date": "2026-03-01"})
    assert "The end date is before the start date." in response.content.decode()


def test_when_nothing_is_pending_it_says_so(client, org):
    manual(org, deposit_status="DEPOSITED")
    assert "No pending payments" in client.get(URL).content.decode()


# --- the CSV import ---------------------------------------------------------------------


@pytest.fixture
def book(org, other_org):
    """Pending and deposited payments, and look-alikes that must not match."""
    return {
        "era": automatic(org, paid_amount="410.25", trace="0012345678", payer_name="BCBS"),
        "check": manual(org, paid_amount="150.00", ach_check_number="CHK-789012"),
        "zeros": manual(org, paid_amount="75.00", ach_check_number="000456789"),
        "wrong_amount": manual(org, paid_amount="500.00", ach_check_number="TRACE99001"),
        "done": manual(
            org, paid_amount="60.00", ach_check_number="DEP-1", deposit_status="DEPOSITED"
        ),
        "short": manual(org, paid_amount="33.00", ach_check_number="12345"),
        "twin_a": manual(org, paid_amount="20.00", ach_check_number="TWIN7"),
        "twin_b": manual(org, paid_amount="20.00", ach_check_number="TWIN7"),
        "deleted": manual(
            org, paid_amount="44.00", ach_check_number="GONE1", deleted_at=timezone.now()
        ),
        "theirs": manual(other_org, paid_amount="410.25", ach_check_number="0012345678"),
    }


BANK_FILE = (
    HEADER
    + '2026-03-04,410.25,"HCCLAIMPMT BCBS TRN*1*0012345678*1512345678\\"\n'
    + "03/05/2026,$150.00,MOBILE DEPOSIT chk-789012\n"
    + "2026-03-05,75.00,ACH CREDIT REF 456789 MEDICAID\n"
    + '2026-03-06,"1,234.00",ACH CREDIT TRACE99001\n'
    + "2026-03-06,60.00,DEPOSIT DEP-1\n"
    + "2026-03-07,33.00,ACH 9123456\n"
    + "2026-03-07,20.00,CHECK TWIN7\n"
    + "2026-03-08,44.00,CHECK GONE1\n"
    + "2026-03-08,-15.00,SERVICE FEE\n"
    + "2026-03-09,410.25,HCCLAIMPMT TRN*1*0012345678*1512345678\n"
)


def test_the_import_proposes_the_right_matches_and_explains_the_rest(client, org, book):
    before = _statuses(org)
    response = client.post(IMPORT, {"deposits": _upload(BANK_FILE)})
    assert response.status_code == 200
    result = response.context["result"]
    assert [(p.deposit.line, p.payment.pk) for p in result.proposals] == [
        (2, book["era"].pk),
        (3, book["check"].pk),
        (4, book["zeros"].pk),
    ]
    reasons = {u.deposit.line: u.reason for u in result.unmatched}
    assert reasons == {
        5: "Trace number TRACE99001 is on a pending payment of $500.00 from Aetna paid "
        "03/02/2026: the amounts differ.",
        6: "Already deposited: $60.00 from Aetna paid 03/02/2026.",
        7: "No pending payment has a trace number in the description and this amount.",
        8: "2 pending payments have this trace number and amount: mark the right one "
        "deposited from the list.",
        9: "No pending payment has a trace number in the description and this amount.",
        10: "Not a deposit (the amount is not positive).",
        11: "Its payment is already proposed for line 2.",
    }
    body = response.content.decode()
    assert "<strong>3 matched</strong> ($635.25)" in body
    assert "<strong>7 not matched</strong>" in body
    for payment in (book["era"], book["check"], book["zeros"]):
        assert f'name="payment_ids" value="{payment.pk}" checked' in body
    # reading the file changes nothing
    assert _statuses(org) == before
    assert not AuditLog.objects.exists()


def test_the_proposals_are_marked_deposited_in_one_click(client, org, manager, book):
    response = client.post(
        IMPORT,
        {
            "deposits": _upload(BANK_FILE),
            "start_paid_date": "2026-03-01",
            "end_paid_date": "2026-03-31",
        },
    )
    back = response.context["next"]
    assert back == URL + "?start_paid_date=2026-03-01&end_paid_date=2026-03-31"
    ids = [p.payment.pk for p in response.context["result"].proposals]
    response = client.post(MARK, {"payment_ids": ids, "next": back}, follow=True)
    assert response.redirect_chain == [(back, 302)]
    assert "3 payments marked deposited." in response.content.decode()
    statuses = _statuses(org)
    assert {statuses[pk] for pk in ids} == {"DEPOSITED"}
    assert statuses[book["wrong_amount"].pk] == statuses[book["twin_a"].pk] == "PENDING"
    row = AuditLog.objects.get(action="insurance_payment.mark_deposited")
    assert row.actor == manager and row.new_values["payment_ids"] == sorted(ids)
    # importing the same file again proposes nothing: they are deposited now
    again = client.post(IMPORT, {"deposits": _upload(BANK_FILE)}).context["result"]
    assert again.proposals == []
    assert {u.deposit.line: u.reason for u in again.unmatched}[2].startswith("Already deposited")


def test_unticked_proposals_stay_pending(client, org, book):
    result = client.post(IMPORT, {"deposits": _upload(BANK_FILE)}).context["result"]
    first = result.proposals[0].payment
    client.post(MARK, {"payment_ids": [first.pk]})
    statuses = _statuses(org)
    assert statuses[first.pk] == "DEPOSITED"
    assert statuses[book["check"].pk] == "PENDING"


def test_it_reads_the_columns_in_any_order_and_case(client, org):
    payment = manual(org, paid_amount="1234.56", ach_check_number="CHK-42")
    text = '\ufeffDescription,Posted,AMOUNT,Date\n"DEPOSIT, CHECK CHK-42",x,"$1,234.56",3/4/26\n'
    result = client.post(IMPORT, {"deposits": _upload(text)}).context["result"]
    assert [(p.deposit.date, p.payment.pk) for p in result.proposals] == [
        (datetime.date(2026, 3, 4), payment.pk)
    ]


BAD_FILES = [
    ("", "The file is empty."),
    ("   \n\n", "The file is empty."),
    ("date,amount\n2026-03-04,10.00\n", "missing: description."),
    ("when,how much,memo\n", "missing: date, amount, description."),
    (HEADER, "The file has a header but no deposit lines."),
    (HEADER + "2026-02-30,10.00,X\n", 'Line 2: the date "2026-02-30" is not a date.'),
    (HEADER + "yesterday,10.00,X\n", 'Line 2: the date "yesterday" is not a date.'),
    (HEADER + "2026-03-04,ten,X\n", 'Line 2: the amount "ten" is not an amount.'),
    (HEADER + "2026-03-04,10.001,X\n", 'Line 2: the amount "10.001" is not an amount.'),
    (HEADER + "2026-03-04,,X\n", 'Line 2: the amount "" is not an amount.'),
    (HEADER + "2026-03-04\n", 'Line 2: the amount "" is not an amount.'),
]


@pytest.mark.parametrize(("text", "message"), BAD_FILES)
def test_a_bad_file_gets_a_clear_message_and_changes_nothing(client, org, book, text, message):
    before = _statuses(org)
    response = client.post(IMPORT, {"deposits": _upload(text)})
    assert response.status_code == 200
    errors = response.context["csv_form"].errors["deposits"]
    assert any(message in error for error in errors), errors
    assert 'data-testid="csv-error">' in response.content.decode()
    assert response.context["result"] is None
    assert _statuses(org) == before
    assert not AuditLog.objects.exists()


def test_every_bad_line_is_named_up_to_ten(client, org):
    text = HEADER + "".join(f"2026-03-{n:02d},bad,X\n" for n in range(1, 16))
    errors = client.post(IMPORT, {"deposits": _upload(text)}).context["csv_form"].errors["deposits"]
    assert len(errors) == 11
    assert errors[0] == 'Line 2: the amount "bad" is not an amount.'
    assert errors[-1] == "… and 5 more."


def test_no_file_chosen_says_so(client, org):
    response = client.post(IMPORT, {})
    assert response.context["csv_form"].errors["deposits"] == [
        "Choose the bank's deposit CSV file."
    ]


def test_a_binary_file_is_not_read_as_deposits(client, org):
    response = client.post(IMPORT, {"deposits": _upload(b"\x89PNG\r\n\x1a\n\x00\x00\x00")})
    errors = response.context["csv_form"].errors["deposits"]
    assert errors and response.context["result"] is None


# --- the matching rules, directly -------------------------------------------------------


@pytest.mark.parametrize(
    ("trace", "description", "found"),
    [
        ("0012345678", "TRN*1*0012345678*1512345678\\", True),
        ("0012345678", "TRN*1*12345678*1512345678", True),
        ("12345678", "TRN*1*0012345678*1", True),
        ("CHK-789012", "mobile deposit chk-789012", True),
        ("12345", "ACH 9123456", False),
        ("12345", "ACH 123456", False),
        ("12345", "REF:12345/XYZ", True),
        ("A-1", "A-12", False),
        ("", "anything", False),
        (None, "anything", False),
        ("000", "000", False),
    ],
)
def test_a_trace_number_must_stand_as_a_whole_word(trace, description, found):
    assert trace_in(trace, description) is found


def test_read_bank_csv_keeps_line_numbers_and_amounts():
    lines = read_bank_csv(
        (HEADER + "2026-03-04,(12.50),FEE\n\n2026-03-05,1000,X\n").encode("cp1252")
    )
    assert [(line.line, line.amount) for line in lines] == [
        (2, Decimal("-12.50")),
        (4, Decimal("1000.00")),
    ]


def test_read_bank_csv_refuses_a_huge_file():
    with pytest.raises(BankCsvError, match="larger than 5 MB"):
        read_bank_csv(b"x" * (5 * 1024 * 1024 + 1))


def test_matching_never_proposes_another_organizations_payment(org, other_org):
    manual(other_org, paid_amount="10.00", ach_check_number="XYZ123")
    result = match_deposits(org, read_bank_csv((HEADER + "2026-03-04,10.00,XYZ123\n").encode()))
    assert result.proposals == []
