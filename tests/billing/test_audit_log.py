from __future__ import annotations

import pytest
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db


def test_it_lists_the_organizations_audit_rows_newest_first(login, manager, org, other_org):
    factories.AuditLogFactory(organization=org, action="claim.submit", record_id="11")
    factories.AuditLogFactory(organization=org, action="payment.post", record_id="12")
    factories.AuditLogFactory(organization=other_org, action="secret.other", record_id="99")

    html = login(manager).get(reverse("audit_log")).content.decode().split("<tbody>")[1]

    assert html.index("payment.post") < html.index("claim.submit")
    assert "secret.other" not in html


def test_it_filters_by_action(login, manager, org):
    factories.AuditLogFactory(organization=org, action="claim.submit")
    factories.AuditLogFactory(organization=org, action="payment.post")

    html = login(manager).get(reverse("audit_log"), {"action": "claim.submit"}).content.decode()

    assert "<code>claim.submit</code>" in html
    assert "<code>payment.post</code>" not in html


def test_it_paginates(login, manager, org):
    factories.AuditLogFactory.create_batch(55, organization=org)
    client = login(manager)
    first = client.get(reverse("audit_log")).content.decode()
    assert "55 rows · page 1 of 2" in first
    assert client.get(reverse("audit_log"), {"page": 2}).content.decode().count("<tr>") == 1 + 5


def test_it_answers_htmx_with_only_the_rows(login, manager, org):
    factories.AuditLogFactory(organization=org, action="claim.submit")
    response = login(manager).get(
        reverse("audit_log"), headers={"HX-Request": "true", "HX-Target": "audit-rows"}
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="audit-rows">')
    assert "<nav" not in html.split('<div id="audit-rows">')[0]
    assert response["Vary"] == "HX-Request" or "HX-Request" in response["Vary"]


def test_it_says_when_there_is_nothing(login, manager):
    assert (
        "Nothing has been audited yet." in login(manager).get(reverse("audit_log")).content.decode()
    )


def test_it_refuses_members_without_the_audit_code(login, clerk, org):
    factories.AuditLogFactory(organization=org, action="claim.submit")
    response = login(clerk).get(reverse("audit_log"))
    assert response.status_code == 403
    assert b"claim.submit" not in response.content


def test_it_shows_another_organizations_member_only_their_own_rows(login, other, org):
    factories.AuditLogFactory(organization=org, action="claim.submit")
    html = login(other).get(reverse("audit_log")).content.decode()
    assert "claim.submit" not in html
