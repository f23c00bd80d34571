"""/graphql beyond the seed's examples: who may ask (session with CSRF, API keys), the
Unauthorized error, page sizes and cursors, validation messages, limits, introspection."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from billing import permissions
from billing.models import ApiKey, AuditLog, Membership
from billing.services.api_keys import api_key_create, api_key_revoke
from billing.tenancy import current_organization, tenant_context
from payments import selectors
from payments.models import InsurancePayment
from tests import factories
from tests.payments.graphql_helpers import GRAPHQL, automatic, bearer, gql, payment

pytestmark = pytest.mark.django_db

LIST = "query($first: Int, $last: Int, $after: String, $before: String, $order_by: InsurancePaymentsOrderKeys) { insurancePayments(first: $first, last: $last, after: $after, before: $before, order_by: $order_by) { total_count page_info { has_next_page end_cursor has_previous_page start_cursor } nodes { id organization_id payer_name created_by_id created_at updated_at } } }"  # noqa: E501
CREATE = "mutation($input: createInsurancePaymentInput!) { createInsurancePayment(input: $input) { insurance_payment { id paid_amount npi ach_check_number deposit_status } messages { field message } } }"  # noqa: E501
UPDATE = "mutation($input: updateManualInsurancePaymentInput!) { updateManualInsurancePayment(input: $input) { insurance_payment { id payer_name ach_check_number npi } messages { field message } } }"  # noqa: E501
DEPOSIT = "mutation($id: ID!) { updateInsurancePaymentDepositStatus(input: {payment_id: $id, deposit_status: DEPOSITED}) { insurance_payment { id } messages { field message } } }"  # noqa: E501
DELETE = "mutation($id: ID!) { deleteManualInsurancePayment(input: {payment_id: $id}) { insurance_payment { id } messages { field message } } }"  # noqa: E501
GOOD = {
    "paid_date": "2024-01-20",
    "npi": "1234567890",
    "paid_amount": 150.0,
    "deposit_status": "PENDING",
    "payer_name": "Blue Cross Blue Shield",
}


def key_for(user, organization) -> str:
    with tenant_context(organization):
        _key, raw = api_key_create(organization=organization, actor=user, name="Integration")
    return raw


def unauthorized(answer: dict) -> bool:
    return answer.get("data") is None and [e["message"] for e in answer["errors"]] == [
        "Unauthorized"
    ]


def ids(answer: dict) -> list[str]:
    return [n["id"] for n in answer["data"]["insurancePayments"]["nodes"]]


# --- who may ask ------------------------------------------------------------------------------


def test_anonymous_requests_get_the_unauthorized_error_and_no_data(client, org):
    payment(org)

    answer = gql(client, LIST)

    assert unauthorized(answer)
    assert answer["errors"][0]["extensions"] == {"code": "UNAUTHORIZED"}
    assert answer["errors"][0]["path"] == ["insurancePayments"]


def test_anonymous_mutations_are_unauthorized_and_change_nothing(client, org):
    row = payment(org)
    for query, variables in [
        (CREATE, {"input": GOOD}),
        (UPDATE, {"input": {"payment_id": str(row.pk), "payer_name": "X"}}),
        (DEPOSIT, {"id": str(row.pk)}),
        (DELETE, {"id": str(row.pk)}),
    ]:
        assert unauthorized(gql(client, query, variables))
    row.refresh_from_db()
    assert (row.payer_name, row.deposit_status, row.deleted_at) == (
        "Blue Cross Blue Shield",
        "PENDING",
        None,
    )
    assert InsurancePayment.objects.count() == 1
    assert not AuditLog.objects.exists()


@pytest.mark.parametrize(
    "codes",
    [
        [permissions.CAN_SEE_BILLING],
        [permissions.SEES_ALL_BILLING],
        [permissions.PAYERS_MANAGE],
    ],
)
def test_a_member_without_both_billing_codes_is_unauthorized(login, org, codes):
    role = factories.OrganizationRoleFactory(organization=org, codes=codes)
    user = factories.UserFactory(username="partial")
    factories.MembershipFactory(user=user, organization=org, role=role)
    payment(org)

    assert unauthorized(gql(login(user), LIST))
    assert unauthorized(gql(login(user), CREATE, {"input": GOOD}))
    assert InsurancePayment.objects.count() == 1


def test_the_billing_clerk_is_unauthorized_and_the_manager_is_not(login, org, clerk, manager):
    row = payment(org)

    assert unauthorized(gql(login(clerk), LIST))
    assert ids(gql(login(manager), LIST)) == [str(row.pk)]


def test_a_member_with_exactly_the_two_codes_is_enough(login, org):
    role = factories.OrganizationRoleFactory(
        organization=org, codes=[permissions.CAN_SEE_BILLING, permissions.SEES_ALL_BILLING]
    )
    user = factories.UserFactory(username="reader")
    factories.MembershipFactory(user=user, organization=org, role=role)
    row = payment(org)

    assert ids(gql(login(user), LIST)) == [str(row.pk)]


def test_a_session_sees_its_active_organization_only(login, org, other_org, manager):
    factories.MembershipFactory(
        user=manager, organization=other_org, role=factories.role("Billing Manager")
    )
    mine = payment(org)
    theirs = payment(other_org)
    client = login(manager)
    session = client.session
    session["organization_id"] = other_org.pk
    session.save()

    assert ids(gql(client, LIST)) == [str(theirs.pk)]
    answer = gql(client, UPDATE, {"input": {"payment_id": str(mine.pk), "payer_name": "X"}})
    assert answer["data"]["updateManualInsurancePayment"]["messages"] == [
        {"field": None, "message": "Payment not found"}
    ]


# --- API keys ---------------------------------------------------------------------------------


def test_an_api_key_acts_for_its_organization_as_its_user(client, org, manager):
    raw = key_for(manager, org)
    row = payment(org)

    listed = gql(client, LIST, **bearer(raw))
    created = gql(client, CREATE, {"input": GOOD}, **bearer(raw))

    assert ids(listed) == [str(row.pk)]
    new = InsurancePayment.objects.get(
        pk=created["data"]["createInsurancePayment"]["insurance_payment"]["id"]
    )
    assert (new.organization, new.created_by) == (org, manager)
    assert AuditLog.objects.get(action="insurance_payment.create").actor == manager
    assert ApiKey.objects.get().last_used_at is not None


def test_another_organizations_key_sees_nothing_of_this_one(client, org, other_org, other):
    mine = payment(org)
    theirs = payment(other_org)
    raw = key_for(other, other_org)

    assert ids(gql(client, LIST, **bearer(raw))) == [str(theirs.pk)]
    for query, variables in [
        (UPDATE, {"input": {"payment_id": str(mine.pk), "payer_name": "X"}}),
        (DELETE, {"id": str(mine.pk)}),
        (DEPOSIT, {"id": str(mine.pk)}),
    ]:
        answer = gql(client, query, variables, **bearer(raw))
        (payload,) = answer["data"].values()
        assert payload["messages"] == [{"field": None, "message": "Payment not found"}]
        assert payload["insurance_payment"] is None
    mine.refresh_from_db()
    assert (mine.payer_name, mine.deposit_status, mine.deleted_at) == (
        "Blue Cross Blue Shield",
        "PENDING",
        None,
    )


def test_a_key_of_a_member_without_the_codes_is_unauthorized(client, org, clerk):
    payment(org)

    assert unauthorized(gql(client, LIST, **bearer(key_for(clerk, org))))


def test_a_revoked_key_or_a_key_whose_holder_left_is_unauthorized(client, org, manager, admin_user):
    revoked = key_for(manager, org)
    with tenant_context(org):
        api_key_revoke(organization=org, actor=manager, api_key=ApiKey.objects.get())
    left = key_for(admin_user, org)
    Membership.objects.filter(user=admin_user).delete()
    payment(org)

    assert unauthorized(gql(client, LIST, **bearer(revoked)))
    assert unauthorized(gql(client, LIST, **bearer(left)))


@pytest.mark.parametrize(
    "header",
    [
        "Bearer bbo_00000000_notarealsecretnotarealsecretnotarealsec",
        "Bearer ",
        "Token {raw}",
        "Basic {raw}",
        "{raw}",
    ],
)
def test_a_header_without_a_live_bearer_key_is_unauthorized(client, org, manager, header):
    raw = key_for(manager, org)
    payment(org)

    assert unauthorized(gql(client, LIST, Authorization=header.format(raw=raw)))


def test_the_key_wins_over_a_session_and_a_bad_key_does_not_fall_back_to_it(
    login, org, other_org, manager, other
):
    theirs = payment(other_org)
    payment(org)
    client = login(manager)

    assert ids(gql(client, LIST, **bearer(key_for(other, other_org)))) == [str(theirs.pk)]
    assert unauthorized(gql(client, LIST, Authorization="Bearer nope"))


# --- CSRF -------------------------------------------------------------------------------------


@pytest.fixture
def csrf_client(manager):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    return client


def _post(client, query, variables=None, **headers):
    return client.post(
        GRAPHQL,
        json.dumps({"query": query, "variables": variables or {}}),
        content_type="application/json",
        headers=headers,
    )


def test_a_session_needs_the_csrf_token(csrf_client, org):
    refused = _post(csrf_client, CREATE, {"input": GOOD})

    assert refused.status_code == 403
    assert b"CSRF" in refused.content
    assert not InsurancePayment.objects.exists()

    token = "a" * 32  # what the csrftoken cookie holds, sent back in the header
    csrf_client.cookies["csrftoken"] = token
    accepted = _post(csrf_client, CREATE, {"input": GOOD}, **{"X-CSRFToken": token})

    assert accepted.status_code == 200
    assert accepted.json()["data"]["createInsurancePayment"]["messages"] == []
    assert InsurancePayment.objects.count() == 1


def test_an_api_key_needs_no_csrf_token(org, manager):
    client = Client(enforce_csrf_checks=True)

    response = _post(client, CREATE, {"input": GOOD}, **bearer(key_for(manager, org)))

    assert response.status_code == 200
    assert response.json()["data"]["createInsurancePayment"]["messages"] == []
    assert InsurancePayment.objects.count() == 1


def test_no_credentials_at_all_is_unauthorized_not_a_csrf_page(org):
    response = _post(Client(enforce_csrf_checks=True), LIST)

    assert response.status_code == 200
    assert unauthorized(response.json())


def test_queries_do_not_go_by_get(login, manager, org):
    response = login(manager).get(GRAPHQL, {"query": "{ insurancePayments { total_count } }"})

    assert response.status_code in (400, 405)
    assert b"total_count" not in response.content


# --- page sizes, cursors and arguments --------------------------------------------------------


@pytest.fixture
def api(login, manager):
    return login(manager)


@pytest.fixture
def many(org):
    return InsurancePayment.objects.bulk_create(
        [
            InsurancePayment(
                organization=org,
                paid_date=datetime.date(2024, 1, 1),
                paid_amount=Decimal("10.00"),
                source="manual",
                payer_name=f"Payer {i:03}",
            )
            for i in range(130)
        ]
    )


def test_first_defaults_to_20(api, many):
    page = gql(api, LIST)["data"]["insurancePayments"]

    assert len(page["nodes"]) == 20
    assert page["total_count"] == 130
    assert page["page_info"]["has_next_page"] is True
    assert page["page_info"]["has_previous_page"] is False


def test_first_up_to_100_and_more_is_a_message_not_a_cut(api, many):
    assert len(ids(gql(api, LIST, {"first": 100}))) == 100

    answer = gql(api, LIST, {"first": 101})

    assert answer["data"] is None
    assert [e["message"] for e in answer["errors"]] == ["first cannot be greater than 100"]
    assert answer["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "first"}


def test_last_and_before_page_backward(api, many):
    first = gql(api, LIST, {"first": 30, "order_by": "PAYER_NAME_ASC"})["data"]["insurancePayments"]
    second = gql(
        api,
        LIST,
        {"first": 30, "after": first["page_info"]["end_cursor"], "order_by": "PAYER_NAME_ASC"},
    )["data"]["insurancePayments"]
    back = gql(
        api,
        LIST,
        {"last": 30, "before": second["page_info"]["start_cursor"], "order_by": "PAYER_NAME_ASC"},
    )["data"]["insurancePayments"]
    tail = gql(api, LIST, {"last": 10, "order_by": "PAYER_NAME_ASC"})["data"]["insurancePayments"]

    assert back["nodes"] == first["nodes"]
    assert (back["page_info"]["has_previous_page"], back["page_info"]["has_next_page"]) == (
        False,
        True,
    )
    assert [n["payer_name"] for n in tail["nodes"]] == [f"Payer {i:03}" for i in range(120, 130)]
    assert (tail["page_info"]["has_previous_page"], tail["page_info"]["has_next_page"]) == (
        True,
        False,
    )


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"after": "garbage"}, "after is not a valid cursor: pass back a cursor from page_info"),
        ({"first": -1}, "first cannot be negative"),
        ({"last": 1000}, "last cannot be greater than 100"),
        ({"first": 1, "last": 1}, "Pass first (with after) or last (with before), not both"),
    ],
)
def test_arguments_it_cannot_answer_are_clear_errors(api, org, variables, message):
    payment(org)

    answer = gql(api, LIST, variables)

    assert answer["data"] is None
    assert [e["message"] for e in answer["errors"]] == [message]


def test_a_cursor_from_another_order_is_refused(api, many):
    cursor = gql(api, LIST, {"first": 1, "order_by": "PAID_AMOUNT_ASC"})["data"][
        "insurancePayments"
    ]["page_info"]["end_cursor"]

    answer = gql(api, LIST, {"after": cursor, "order_by": "NPI_ASC"})

    assert answer["errors"][0]["message"] == (
        "after is a cursor for order_by PAID_AMOUNT_ASC, not NPI_ASC: "
        "start again from the first page"
    )


def test_unknown_enum_values_and_bad_dates_are_refused_by_the_schema(api, org):
    bad_enum = gql(api, "{ insurancePayments(order_by: PAYER) { total_count } }")
    bad_date = gql(api, '{ insurancePayments(start_paid_date: "01/20/2024") { total_count } }')
    bad_status = gql(api, CREATE, {"input": {**GOOD, "deposit_status": "LOST"}})

    assert "InsurancePaymentsOrderKeys" in bad_enum["errors"][0]["message"]
    assert "ISO8601Date must be a date written YYYY-MM-DD" in bad_date["errors"][0]["message"]
    assert "InsurancePaymentsDepositStatusEnum" in bad_status["errors"][0]["message"]
    assert not InsurancePayment.objects.exists()


def test_total_count_is_only_counted_when_asked(api, org):
    payment(org)
    with CaptureQueriesContext(connection) as asked:
        gql(api, "{ insurancePayments { total_count nodes { id } } }")
    with CaptureQueriesContext(connection) as not_asked:
        gql(api, "{ insurancePayments { nodes { id } } }")

    def counts(queries):
        return sum("COUNT(" in q["sql"].upper() for q in queries.captured_queries)

    assert (counts(asked), counts(not_asked)) == (1, 0)


def test_nodes_give_every_field_of_the_type(api, org, manager):
    row = automatic(org, npi=None, ach_check_number="EFT-1", paid_amount=Decimal("10.10"))
    payment(org, created_by=manager, paid_date=datetime.date(2023, 1, 1))

    answer = gql(
        api,
        "{ insurancePayments { nodes { id organization_id paid_date paid_amount deposit_status"
        " source payer_name npi ach_check_number era_id created_by_id created_at updated_at } } }",
    )

    auto_node, manual_node = answer["data"]["insurancePayments"]["nodes"]
    assert auto_node == {
        "id": str(row.pk),
        "organization_id": str(org.pk),
        "paid_date": "2024-01-20",
        "paid_amount": 10.1,
        "deposit_status": "PENDING",
        "source": "automatic",
        "payer_name": "Blue Cross Blue Shield",
        "npi": None,
        "ach_check_number": "EFT-1",
        "era_id": str(row.era.pk),
        "created_by_id": None,
        "created_at": row.created_at.astimezone(datetime.UTC).isoformat(),
        "updated_at": row.updated_at.astimezone(datetime.UTC).isoformat(),
    }
    assert (manual_node["created_by_id"], manual_node["era_id"]) == (str(manager.pk), None)


# --- mutation messages ------------------------------------------------------------------------


def test_create_answers_a_message_per_bad_field_and_saves_nothing(api, org):
    answer = gql(
        api,
        CREATE,
        {
            "input": {
                "npi": "123",
                "paid_amount": 10.005,
                "payer_name": " ",
                "ach_check_number": None,
            }
        },
    )

    assert answer == {
        "data": {
            "createInsurancePayment": {
                "insurance_payment": None,
                "messages": [
                    {"field": "paid_date", "message": "Paid date is required"},
                    {"field": "npi", "message": "NPI must be exactly 10 digits"},
                    {
                        "field": "paid_amount",
                        "message": "Paid amount can have at most two decimal places",
                    },
                    {"field": "deposit_status", "message": "Deposit status is required"},
                    {"field": "payer_name", "message": "Payer name is required"},
                ],
            }
        }
    }
    assert not InsurancePayment.objects.exists()
    assert not AuditLog.objects.exists()


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (0, "Paid amount must be greater than 0"),
        (-1.5, "Paid amount must be greater than 0"),
        (0.001, "Paid amount can have at most two decimal places"),
    ],
)
def test_paid_amount_must_be_positive_with_cents_at_most(api, org, amount, message):
    answer = gql(api, CREATE, {"input": {**GOOD, "paid_amount": amount}})

    assert answer["data"]["createInsurancePayment"]["messages"] == [
        {"field": "paid_amount", "message": message}
    ]
    assert not InsurancePayment.objects.exists()


def test_update_changes_only_what_was_sent_and_null_clears_the_check_number(api, org):
    row = payment(org, ach_check_number="CHK-1", payer_name="Aetna")

    answer = gql(
        api,
        UPDATE,
        {"input": {"payment_id": str(row.pk), "ach_check_number": None, "npi": "1111111111"}},
    )
    required = gql(api, UPDATE, {"input": {"payment_id": str(row.pk), "payer_name": None}})

    assert answer["data"]["updateManualInsurancePayment"] == {
        "insurance_payment": {
            "id": str(row.pk),
            "payer_name": "Aetna",
            "ach_check_number": None,
            "npi": "1111111111",
        },
        "messages": [],
    }
    assert required["data"]["updateManualInsurancePayment"]["messages"] == [
        {"field": "payer_name", "message": "Payer name is required"}
    ]
    row.refresh_from_db()
    assert (row.payer_name, row.ach_check_number, row.npi) == ("Aetna", None, "1111111111")


def test_deposit_status_of_a_deleted_payment_is_not_found(api, org):
    row = payment(org)
    gql(api, DELETE, {"id": str(row.pk)})

    answer = gql(api, DEPOSIT, {"id": str(row.pk)})

    assert answer["data"]["updateInsurancePaymentDepositStatus"]["messages"] == [
        {"field": None, "message": "Payment not found"}
    ]


# --- the organization seam --------------------------------------------------------------------


def test_every_resolver_runs_inside_the_organizations_tenant_context(
    api, client, org, manager, monkeypatch
):
    seen = []
    real = selectors.insurance_payments_page

    def spy(organization, **kwargs):
        seen.append(current_organization())
        return real(organization, **kwargs)

    monkeypatch.setattr(selectors, "insurance_payments_page", spy)

    gql(api, LIST)
    gql(client, LIST, **bearer(key_for(manager, org)))

    assert seen == [org, org]


def test_an_unexpected_failure_is_masked(api, org, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("password=hunter2")

    monkeypatch.setattr(selectors, "insurance_payments_page", boom)

    answer = gql(api, LIST)

    assert [e["message"] for e in answer["errors"]] == ["Unexpected error."]
    assert "hunter2" not in json.dumps(answer)


# --- limits, introspection, GraphiQL ---------------------------------------------------------


def test_deep_queries_are_refused(api, org):
    answer = gql(api, "{ insurancePayments { nodes { id { a { b { c { d { e } } } } } } } }")

    assert "'anonymous' exceeds maximum operation depth of 6" in [
        e["message"] for e in answer["errors"]
    ]


def test_too_many_aliases_are_refused(api, org):
    query = "{ " + " ".join(f"a{i}: insurancePayments {{ total_count }}" for i in range(16)) + " }"

    answer = gql(api, query)

    assert answer["data"] is None
    assert answer["errors"][0]["message"] == "16 aliases found. Allowed: 15"


def test_too_many_tokens_are_refused(api, org):
    query = "{ insurancePayments { nodes { " + "id " * 2100 + "} } }"

    answer = gql(api, query)

    assert "more than 2000 tokens" in answer["errors"][0]["message"]


def test_batches_of_operations_are_refused(api, org):
    body = [{"query": "{ insurancePayments { total_count } }"}] * 2
    response = api.post(GRAPHQL, json.dumps(body), content_type="application/json")

    assert response.status_code == 400


INTROSPECTION = "{ __schema { queryType { name } } }"


def test_introspection_is_off_without_debug(api, org):
    answer = gql(api, INTROSPECTION)

    assert answer["data"] is None
    assert "introspection" in answer["errors"][0]["message"].lower()


@override_settings(DEBUG=True)
def test_introspection_is_on_with_debug(api, org):
    assert gql(api, INTROSPECTION) == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


def test_graphiql_is_served_only_with_debug(api, org):
    assert api.get(GRAPHQL, headers={"Accept": "text/html"}).status_code == 404

    with override_settings(DEBUG=True):
        response = api.get(GRAPHQL, headers={"Accept": "text/html"})

    assert response.status_code == 200
    assert b"graphiql" in response.content.lower()
