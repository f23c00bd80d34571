"""Every query and mutation of seed 003, verbatim, against known payments, with the whole
answer expected. Cursors are taken from the previous answer."""

from __future__ import annotations

import base64
import datetime
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from payments.graphql.schema import build_schema
from payments.models import InsurancePayment
from payments.selectors import encode_cursor
from tests.payments.graphql_helpers import automatic, gql, payment

pytestmark = pytest.mark.django_db

SEED = Path(__file__).resolve().parents[1] / "fixtures" / "seeds" / "003_c1fdadb6a81d5c26.txt"

# --- the seed's operations, copied verbatim ---------------------------------------------------

LIST_QUERY = "query insurancePayments( $start_paid_date: ISO8601Date $end_paid_date: ISO8601Date $order_by: InsurancePaymentsOrderKeys $keywords: String $deposit_status: InsurancePaymentsDepositStatusEnum $payer: String $first: Int $after: String) { insurancePayments( start_paid_date: $start_paid_date end_paid_date: $end_paid_date order_by: $order_by keywords: $keywords deposit_status: $deposit_status payer: $payer first: $first after: $after ) { page_info { has_next_page end_cursor } total_count nodes { id paid_date paid_amount payer_name npi ach_check_number deposit_status source era_id } }}"  # noqa: E501
FIRST_PAGE = "query { insurancePayments( first: 20 order_by: PAID_DATE_DESC ) { page_info { has_next_page end_cursor } total_count nodes { id paid_date paid_amount payer_name deposit_status } }}"  # noqa: E501
NEXT_PAGE = 'query { insurancePayments( first: 20 after: "eyJpZCI6MTIzNDV9" order_by: PAID_DATE_DESC ) { page_info { has_next_page end_cursor } nodes { id paid_date paid_amount } }}'  # noqa: E501
CREATE = "mutation createInsurancePayment( $paid_date: ISO8601Date! $npi: String! $paid_amount: Float! $deposit_status: InsurancePaymentsDepositStatusEnum! $payer_name: String! $ach_check_number: String) { createInsurancePayment( input: { paid_date: $paid_date npi: $npi paid_amount: $paid_amount deposit_status: $deposit_status payer_name: $payer_name ach_check_number: $ach_check_number } ) { insurance_payment { id paid_amount payer_name source } messages { field message } }}"  # noqa: E501
UPDATE = "mutation updateManualInsurancePayment( $payment_id: ID! $paid_date: ISO8601Date $npi: String $ach_check_number: String $paid_amount: Float $deposit_status: InsurancePaymentsDepositStatusEnum) { updateManualInsurancePayment( input: { payment_id: $payment_id paid_date: $paid_date npi: $npi ach_check_number: $ach_check_number paid_amount: $paid_amount deposit_status: $deposit_status } ) { insurance_payment { id paid_amount deposit_status updated_at } messages { field message } }}"  # noqa: E501
DEPOSIT_STATUS = "mutation updateInsurancePaymentDepositStatus( $payment_id: ID! $deposit_status: InsurancePaymentsDepositStatusEnum!) { updateInsurancePaymentDepositStatus( input: { payment_id: $payment_id deposit_status: $deposit_status } ) { insurance_payment { id deposit_status updated_at } messages { field message } }}"  # noqa: E501
DELETE = "mutation deleteManualInsurancePayment($payment_id: ID!) { deleteManualInsurancePayment(input: { payment_id: $payment_id }) { insurance_payment { id } messages { field message } }}"  # noqa: E501
RECONCILE = 'query { insurancePayments( start_paid_date: "2024-01-01" end_paid_date: "2024-01-31" deposit_status: PENDING first: 50 ) { total_count nodes { id paid_amount paid_date payer_name ach_check_number era_id } }}'  # noqa: E501
MARK_DEPOSITED = 'mutation { updateInsurancePaymentDepositStatus( input: { payment_id: "123" deposit_status: DEPOSITED } ) { insurance_payment { id deposit_status } }}'  # noqa: E501
SEARCH = 'query { insurancePayments( keywords: "Blue Cross" order_by: PAID_DATE_DESC first: 20 ) { total_count nodes { id paid_amount paid_date payer_name npi ach_check_number source deposit_status } }}'  # noqa: E501
CREATE_EXAMPLE = '{ "paid_date": "2024-01-20", "npi": "1234567890", "paid_amount": 150.00, "deposit_status": "PENDING", "payer_name": "Blue Cross Blue Shield", "ach_check_number": "CHK-789012"}'  # noqa: E501
NOT_FOUND_ANSWER = '{ "data": { "updateManualInsurancePayment": { "insurance_payment": null, "messages": [ { "field": null, "message": "Payment not found" } ] } }}'  # noqa: E501
PAYMENT_TYPE = "type InsurancePayment { id: ID! organization_id: ID! paid_date: ISO8601Date! paid_amount: Float! deposit_status: InsurancePaymentsDepositStatusEnum! source: String! payer_name: String! npi: String ach_check_number: String era_id: ID created_by_id: ID created_at: ISO8601DateTime! updated_at: ISO8601DateTime!}"  # noqa: E501
VERBATIM = [
    LIST_QUERY,
    FIRST_PAGE,
    NEXT_PAGE,
    CREATE,
    UPDATE,
    DEPOSIT_STATUS,
    DELETE,
    RECONCILE,
    MARK_DEPOSITED,
    SEARCH,
    CREATE_EXAMPLE,
    NOT_FOUND_ANSWER,
    PAYMENT_TYPE,
]


@pytest.mark.parametrize("text", VERBATIM, ids=lambda text: text[:40])
def test_the_operations_here_are_the_seeds_verbatim(text):
    assert text in SEED.read_text()


def test_the_insurance_payment_type_is_the_seeds():
    printed = build_schema(introspection=False).as_str()
    block = re.search(r"type InsurancePayment \{.*?\n\}", printed, re.S).group()

    assert " ".join(block.split()) == " ".join(PAYMENT_TYPE.replace("!}", "! }").split())


# --- data -------------------------------------------------------------------------------------


@pytest.fixture
def api(login, manager):
    """The test client, signed in as a Billing Manager (both billing codes)."""
    return login(manager)


@pytest.fixture
def book(org, other_org):
    """January 2024 and a little around it; a deleted payment and another practice's."""
    rows = {
        "bcbs": payment(
            org,
            paid_date=datetime.date(2024, 1, 20),
            paid_amount=Decimal("150.00"),
            payer_name="Blue Cross Blue Shield",
            npi="1234567890",
            ach_check_number="CHK-789012",
        ),
        "aetna": automatic(
            org,
            paid_date=datetime.date(2024, 1, 25),
            paid_amount=Decimal("1234.56"),
            payer_name="Aetna",
            npi="1987654321",
            ach_check_number="ACH-555",
            deposit_status="DEPOSITED",
        ),
        "idaho": payment(
            org,
            paid_date=datetime.date(2024, 1, 5),
            paid_amount=Decimal("75.25"),
            payer_name="Blue Cross of Idaho",
            npi=None,
        ),
        "uhc": automatic(
            org,
            paid_date=datetime.date(2024, 1, 10),
            paid_amount=Decimal("980.10"),
            payer_name="UnitedHealthcare",
            npi="1112223334",
            ach_check_number="EFT-42",
        ),
        "cigna": automatic(
            org,
            paid_date=datetime.date(2024, 2, 2),
            paid_amount=Decimal("310.00"),
            payer_name="Cigna",
            npi="1555555555",
        ),
    }
    payment(org, paid_date=datetime.date(2024, 1, 21), deleted_at=timezone.now())
    payment(other_org, paid_date=datetime.date(2024, 1, 22))
    return rows


def node(p: InsurancePayment, *fields: str) -> dict:
    values = {
        "id": str(p.pk),
        "paid_date": p.paid_date.isoformat(),
        "paid_amount": float(p.paid_amount),
        "payer_name": p.payer_name,
        "npi": p.npi,
        "ach_check_number": p.ach_check_number,
        "deposit_status": p.deposit_status,
        "source": p.source,
        "era_id": str(p.era_id) if p.era_id else None,
        "updated_at": p.updated_at.astimezone(datetime.UTC).isoformat(),
    }
    return {field: values[field] for field in fields}


LIST_FIELDS = (
    "id",
    "paid_date",
    "paid_amount",
    "payer_name",
    "npi",
    "ach_check_number",
    "deposit_status",
    "source",
    "era_id",
)


# --- queries ----------------------------------------------------------------------------------


def test_the_list_query_pages_with_its_variables(api, book):
    first = gql(api, LIST_QUERY, {"order_by": "PAID_DATE_DESC", "first": 2})
    end = first["data"]["insurancePayments"]["page_info"]["end_cursor"]
    second = gql(api, LIST_QUERY, {"order_by": "PAID_DATE_DESC", "first": 2, "after": end})
    end2 = second["data"]["insurancePayments"]["page_info"]["end_cursor"]
    third = gql(api, LIST_QUERY, {"order_by": "PAID_DATE_DESC", "first": 2, "after": end2})

    b = book
    assert first == {
        "data": {
            "insurancePayments": {
                "page_info": {
                    "has_next_page": True,
                    "end_cursor": encode_cursor(
                        "PAID_DATE_DESC", b["aetna"].paid_date, b["aetna"].pk
                    ),
                },
                "total_count": 5,
                "nodes": [node(b["cigna"], *LIST_FIELDS), node(b["aetna"], *LIST_FIELDS)],
            }
        }
    }
    assert second["data"]["insurancePayments"]["nodes"] == [
        node(b["bcbs"], *LIST_FIELDS),
        node(b["uhc"], *LIST_FIELDS),
    ]
    assert second["data"]["insurancePayments"]["page_info"]["has_next_page"] is True
    assert third == {
        "data": {
            "insurancePayments": {
                "page_info": {
                    "has_next_page": False,
                    "end_cursor": encode_cursor(
                        "PAID_DATE_DESC", b["idaho"].paid_date, b["idaho"].pk
                    ),
                },
                "total_count": 5,
                "nodes": [node(b["idaho"], *LIST_FIELDS)],
            }
        }
    }


def test_the_list_query_filters_with_every_variable(api, book):
    answer = gql(
        api,
        LIST_QUERY,
        {
            "start_paid_date": "2024-01-05",
            "end_paid_date": "2024-01-20",
            "order_by": "PAID_AMOUNT_ASC",
            "keywords": "blue",
            "deposit_status": "PENDING",
            "payer": "Blue Cross of Idaho",
            "first": 10,
            "after": None,
        },
    )

    assert answer["data"]["insurancePayments"]["total_count"] == 1
    assert answer["data"]["insurancePayments"]["nodes"] == [node(book["idaho"], *LIST_FIELDS)]
    assert answer["data"]["insurancePayments"]["page_info"]["has_next_page"] is False


def test_fetching_the_first_page(api, book):
    b = book
    answer = gql(api, FIRST_PAGE)

    fields = ("id", "paid_date", "paid_amount", "payer_name", "deposit_status")
    assert answer == {
        "data": {
            "insurancePayments": {
                "page_info": {
                    "has_next_page": False,
                    "end_cursor": encode_cursor(
                        "PAID_DATE_DESC", b["idaho"].paid_date, b["idaho"].pk
                    ),
                },
                "total_count": 5,
                "nodes": [
                    node(b[name], *fields) for name in ("cigna", "aetna", "bcbs", "uhc", "idaho")
                ],
            }
        }
    }


@pytest.fixture
def year(org):
    """23 payments, one a day from 2024-01-01."""
    return [
        payment(org, paid_date=datetime.date(2024, 1, 1) + datetime.timedelta(days=i))
        for i in range(23)
    ]


def test_fetching_subsequent_pages_with_the_previous_end_cursor(api, year):
    first = gql(api, FIRST_PAGE)["data"]["insurancePayments"]
    cursor = first["page_info"]["end_cursor"]

    answer = gql(api, NEXT_PAGE.replace('"eyJpZCI6MTIzNDV9"', json.dumps(cursor)))

    newest_first = year[::-1]
    assert first["page_info"]["has_next_page"] is True
    assert [n["id"] for n in first["nodes"]] == [str(p.pk) for p in newest_first[:20]]
    assert answer == {
        "data": {
            "insurancePayments": {
                "page_info": {
                    "has_next_page": False,
                    "end_cursor": encode_cursor("PAID_DATE_DESC", year[0].paid_date, year[0].pk),
                },
                "nodes": [node(p, "id", "paid_date", "paid_amount") for p in newest_first[20:]],
            }
        }
    }


def test_the_seeds_example_cursor_means_after_payment_12345(api, org):
    older = payment(org, paid_date=datetime.date(2024, 1, 1))
    payment(org, pk=12345, paid_date=datetime.date(2024, 1, 2))
    payment(org, paid_date=datetime.date(2024, 1, 3))
    assert base64.b64decode("eyJpZCI6MTIzNDV9") == b'{"id":12345}'

    answer = gql(api, NEXT_PAGE)

    assert answer == {
        "data": {
            "insurancePayments": {
                "page_info": {
                    "has_next_page": False,
                    "end_cursor": encode_cursor("PAID_DATE_DESC", older.paid_date, older.pk),
                },
                "nodes": [node(older, "id", "paid_date", "paid_amount")],
            }
        }
    }


def test_the_seeds_example_cursor_without_payment_12345_is_a_clear_error(api, org):
    payment(org)

    answer = gql(api, NEXT_PAGE)

    assert answer["data"] is None
    assert [e["message"] for e in answer["errors"]] == [
        "after is not a valid cursor: pass back a cursor from page_info"
    ]


def test_reconciling_pending_january_payments(api, book):
    answer = gql(api, RECONCILE)

    fields = ("id", "paid_amount", "paid_date", "payer_name", "ach_check_number", "era_id")
    assert answer == {
        "data": {
            "insurancePayments": {
                "total_count": 3,
                "nodes": [node(book[name], *fields) for name in ("bcbs", "uhc", "idaho")],
            }
        }
    }
    assert answer["data"]["insurancePayments"]["nodes"][1]["era_id"] == str(book["uhc"].era.pk)


def test_searching_payment_history(api, book):
    answer = gql(api, SEARCH)

    fields = (
        "id",
        "paid_amount",
        "paid_date",
        "payer_name",
        "npi",
        "ach_check_number",
        "source",
        "deposit_status",
    )
    assert answer == {
        "data": {
            "insurancePayments": {
                "total_count": 2,
                "nodes": [node(book["bcbs"], *fields), node(book["idaho"], *fields)],
            }
        }
    }


# --- mutations --------------------------------------------------------------------------------


def test_creating_a_manual_payment_with_the_seeds_example(api, org, manager):
    answer = gql(api, CREATE, json.loads(CREATE_EXAMPLE))

    created = InsurancePayment.objects.get()
    assert answer == {
        "data": {
            "createInsurancePayment": {
                "insurance_payment": {
                    "id": str(created.pk),
                    "paid_amount": 150.0,
                    "payer_name": "Blue Cross Blue Shield",
                    "source": "manual",
                },
                "messages": [],
            }
        }
    }
    assert (created.organization, created.created_by, created.paid_amount) == (
        org,
        manager,
        Decimal("150.00"),
    )
    assert (created.paid_date, created.npi, created.ach_check_number) == (
        datetime.date(2024, 1, 20),
        "1234567890",
        "CHK-789012",
    )


def test_updating_a_manual_payment(api, book):
    bcbs = book["bcbs"]

    answer = gql(
        api,
        UPDATE,
        {"payment_id": str(bcbs.pk), "paid_amount": 175.5, "deposit_status": "DEPOSITED"},
    )

    bcbs.refresh_from_db()
    assert answer == {
        "data": {
            "updateManualInsurancePayment": {
                "insurance_payment": {
                    "id": str(bcbs.pk),
                    "paid_amount": 175.5,
                    "deposit_status": "DEPOSITED",
                    "updated_at": bcbs.updated_at.astimezone(datetime.UTC).isoformat(),
                },
                "messages": [],
            }
        }
    }
    assert bcbs.paid_amount == Decimal("175.50")
    assert (bcbs.npi, bcbs.ach_check_number, bcbs.paid_date) == (
        "1234567890",
        "CHK-789012",
        datetime.date(2024, 1, 20),
    )


@pytest.mark.parametrize("which", ["automatic", "missing"])
def test_updating_an_automatic_or_missing_payment_answers_the_seeds_error(api, book, which):
    payment_id = str(book["aetna"].pk) if which == "automatic" else "987654"

    answer = gql(api, UPDATE, {"payment_id": payment_id, "paid_amount": 1.0})

    assert answer == json.loads(NOT_FOUND_ANSWER)
    book["aetna"].refresh_from_db()
    assert book["aetna"].paid_amount == Decimal("1234.56")


def test_updating_the_deposit_status_of_an_automatic_payment(api, book):
    uhc = book["uhc"]

    answer = gql(api, DEPOSIT_STATUS, {"payment_id": str(uhc.pk), "deposit_status": "DEPOSITED"})

    uhc.refresh_from_db()
    assert answer == {
        "data": {
            "updateInsurancePaymentDepositStatus": {
                "insurance_payment": {
                    "id": str(uhc.pk),
                    "deposit_status": "DEPOSITED",
                    "updated_at": uhc.updated_at.astimezone(datetime.UTC).isoformat(),
                },
                "messages": [],
            }
        }
    }
    assert uhc.deposit_status == "DEPOSITED"


def test_deleting_a_manual_payment(api, book):
    bcbs = book["bcbs"]

    answer = gql(api, DELETE, {"payment_id": str(bcbs.pk)})

    assert answer == {
        "data": {
            "deleteManualInsurancePayment": {
                "insurance_payment": {"id": str(bcbs.pk)},
                "messages": [],
            }
        }
    }
    bcbs.refresh_from_db()
    assert bcbs.deleted_at is not None
    listed = gql(api, FIRST_PAGE)["data"]["insurancePayments"]
    assert str(bcbs.pk) not in [n["id"] for n in listed["nodes"]]
    assert listed["total_count"] == 4


def test_deleting_an_automatic_payment_is_not_found(api, book):
    answer = gql(api, DELETE, {"payment_id": str(book["aetna"].pk)})

    assert answer == {
        "data": {
            "deleteManualInsurancePayment": {
                "insurance_payment": None,
                "messages": [{"field": None, "message": "Payment not found"}],
            }
        }
    }
    assert InsurancePayment.objects.live().filter(pk=book["aetna"].pk).exists()


def test_marking_payment_123_deposited(api, org):
    automatic(org, pk=123)

    answer = gql(api, MARK_DEPOSITED)

    assert answer == {
        "data": {
            "updateInsurancePaymentDepositStatus": {
                "insurance_payment": {"id": "123", "deposit_status": "DEPOSITED"}
            }
        }
    }
    assert InsurancePayment.objects.get(pk=123).deposit_status == "DEPOSITED"
