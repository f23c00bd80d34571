from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from billing.models import AuditLog, Membership, Payer, Role
from billing.services import payers as services
from tests import factories

pytestmark = pytest.mark.django_db


def _rows(html: str) -> str:
    return html.split('<div id="payer-rows">')[1]


def _payer_data(**overrides) -> dict[str, str]:
    data = {
        "name": "Blue Cross Blue Shield of Illinois",
        "payer_id": "00621",
        "claim_filing_indicator": "BL",
        "address_line1": "PO Box 805107",
        "address_line2": "",
        "city": "Chicago",
        "state": "il",
        "zip_code": "60680-4112",
        "phone": "(800) 676-2583",
    }
    data.update(overrides)
    return data


def _no_payers_member(org):
    role = Role.objects.create(organization=org, name="No payers", codes=["can_see_billing"])
    user = factories.UserFactory(username="nopayers")
    Membership.objects.create(user=user, organization=org, role=role)
    return user


def _snapshot(payer: Payer) -> dict:
    payer.refresh_from_db()
    return {f: getattr(payer, f) for f in services.PAYER_FIELDS}


# --- who may open what ------------------------------------------------------------------


def test_it_sends_anonymous_visitors_to_login(client, org):
    payer = factories.PayerFactory(organization=org)
    for url in (
        reverse("payer_list"),
        reverse("payer_add"),
        reverse("payer_edit", args=[payer.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    response = client.post(reverse("payer_add"), _payer_data())
    assert response["Location"].startswith(reverse("login"))
    assert Payer.objects.count() == 1


def test_it_answers_404_to_another_organizations_member(login, other, org):
    payer = factories.PayerFactory(organization=org, name="Hidden Health")
    before = _snapshot(payer)
    client = login(other)

    assert client.get(reverse("payer_edit", args=[payer.pk])).status_code == 404
    response = client.post(reverse("payer_edit", args=[payer.pk]), _payer_data(name="Changed"))
    assert response.status_code == 404
    assert _snapshot(payer) == before
    assert "Hidden Health" not in client.get(reverse("payer_list")).content.decode()
    assert not AuditLog.objects.exists()


def test_it_refuses_every_write_to_the_clerk_and_changes_nothing(login, clerk, org):
    payer = factories.PayerFactory(organization=org)
    before = _snapshot(payer)
    client = login(clerk)

    assert client.get(reverse("payer_add")).status_code == 403
    assert client.post(reverse("payer_add"), _payer_data()).status_code == 403
    assert client.get(reverse("payer_edit", args=[payer.pk])).status_code == 403
    response = client.post(reverse("payer_edit", args=[payer.pk]), _payer_data(name="Changed"))
    assert response.status_code == 403

    assert _snapshot(payer) == before
    assert Payer.objects.count() == 1
    assert not AuditLog.objects.exists()


def test_it_shows_the_clerk_the_list_without_the_edit_actions(login, clerk, org):
    payer = factories.PayerFactory(organization=org, name="Aetna")
    html = login(clerk).get(reverse("payer_list")).content.decode()
    assert "Aetna" in html
    assert "New payer" not in html
    assert reverse("payer_edit", args=[payer.pk]) not in html


def test_it_refuses_the_pages_to_a_member_without_the_payers_code(login, org):
    payer = factories.PayerFactory(organization=org, name="Aetna")
    client = login(_no_payers_member(org))
    for url in (
        reverse("payer_list"),
        reverse("payer_add"),
        reverse("payer_edit", args=[payer.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 403
        assert b"Aetna" not in response.content


# --- the list ---------------------------------------------------------------------------


def test_it_lists_payers_with_their_counts(login, manager, org, other_org):
    aetna = factories.PayerFactory(
        organization=org,
        name="Aetna",
        payer_id="60054",
        city="Hartford",
        state="CT",
        phone="800-555-0100",
    )
    cigna = factories.PayerFactory(organization=org, name="Cigna", payer_id="62308")
    factories.PayerFactory(organization=other_org, name="Their Payer")
    factories.CoverageFactory.create_batch(
        3, patient__organization=org, organization=org, payer=aetna
    )
    factories.PayerEnrollmentFactory.create_batch(2, organization=org, payer=aetna)
    factories.PayerEnrollmentFactory(organization=org, payer=aetna, deleted_at=timezone.now())

    html = _rows(login(manager).get(reverse("payer_list")).content.decode())

    assert html.index("Aetna") < html.index("Cigna")
    assert "<code>60054</code>" in html
    assert "Hartford, CT" in html
    assert "800-555-0100" in html
    assert f'data-testid="coverages-{aetna.pk}">3</td>' in html
    assert f'data-testid="enrollments-{aetna.pk}">2</td>' in html
    assert f'data-testid="coverages-{cigna.pk}">0</td>' in html
    assert f'data-testid="enrollments-{cigna.pk}">0</td>' in html
    assert "Their Payer" not in html


def test_it_searches_by_name_or_payer_id(login, manager, org):
    factories.PayerFactory(organization=org, name="Aetna", payer_id="60054")
    factories.PayerFactory(organization=org, name="Cigna", payer_id="62308")
    client = login(manager)

    by_name = _rows(client.get(reverse("payer_list"), {"q": "aet"}).content.decode())
    by_id = _rows(client.get(reverse("payer_list"), {"q": "6230"}).content.decode())
    nothing = _rows(client.get(reverse("payer_list"), {"q": "zzz"}).content.decode())

    assert "Aetna" in by_name and "Cigna" not in by_name
    assert "Cigna" in by_id and "Aetna" not in by_id
    assert "No payer matches “zzz”." in nothing


def test_it_answers_htmx_with_only_the_rows(login, manager, org):
    factories.PayerFactory(organization=org, name="Aetna")
    response = login(manager).get(
        reverse("payer_list"),
        {"q": "aet"},
        headers={"HX-Request": "true", "HX-Target": "payer-rows"},
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="payer-rows">')
    assert "Aetna" in html
    assert "<form" not in html
    assert "HX-Request" in response["Vary"]


def test_it_paginates_and_keeps_the_search(login, manager, org):
    for n in range(55):
        factories.PayerFactory(organization=org, name=f"Plan {n:02d}")
    client = login(manager)

    first = client.get(reverse("payer_list"), {"q": "plan"}).content.decode()
    second = client.get(reverse("payer_list"), {"q": "plan", "page": 2}).content.decode()

    assert "55 rows · page 1 of 2" in first
    assert "?q=plan&amp;page=2" in first
    assert _rows(second).count("<tr>") == 1 + 5


def test_it_lists_in_a_fixed_number_of_queries(login, manager, org):
    client = login(manager)

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("payer_list")).status_code == 200
        return len(queries)

    factories.PayerFactory(organization=org)
    few = count_queries()
    for _ in range(8):
        payer = factories.PayerFactory(organization=org)
        factories.CoverageFactory(patient__organization=org, organization=org, payer=payer)
        factories.PayerEnrollmentFactory(organization=org, payer=payer)
    assert count_queries() == few


def test_it_says_when_there_are_no_payers(login, manager, clerk):
    assert "Add the first payer" in login(manager).get(reverse("payer_list")).content.decode()
    html = login(clerk).get(reverse("payer_list")).content.decode()
    assert "No payers yet." in html
    assert "Add the first payer" not in html


# --- new and edit ---------------------------------------------------------------------------


def test_it_adds_a_payer_with_its_audit_row(login, manager, org):
    response = login(manager).post(reverse("payer_add"), _payer_data())

    assert response.status_code == 302
    assert response["Location"] == reverse("payer_list")
    payer = Payer.objects.get(organization=org)
    assert payer.name == "Blue Cross Blue Shield of Illinois"
    assert payer.state == "IL"
    assert payer.zip_code == "606804112"
    assert payer.claim_filing_indicator == "BL"
    row = AuditLog.objects.get(action="payer.create")
    assert row.actor == manager
    assert row.record_id == str(payer.pk)
    assert row.new_values["payer_id"] == "00621"
    assert row.new_values["state"] == "IL"


def test_it_saves_an_edit_and_audits_the_changed_fields(login, manager, org):
    payer = factories.PayerFactory(
        organization=org, **{**_payer_data(), "state": "IL", "zip_code": "606804112"}
    )

    response = login(manager).post(
        reverse("payer_edit", args=[payer.pk]), _payer_data(phone="(800) 555-0199", city="Joliet")
    )

    assert response.status_code == 302
    payer.refresh_from_db()
    assert payer.phone == "(800) 555-0199"
    assert payer.city == "Joliet"
    row = AuditLog.objects.get(action="payer.update")
    assert row.old_values == {"city": "Chicago", "phone": "(800) 676-2583"}
    assert row.new_values == {"city": "Joliet", "phone": "(800) 555-0199"}


def test_an_edit_that_changes_nothing_writes_no_audit_row(login, manager, org):
    payer = factories.PayerFactory(
        organization=org, **{**_payer_data(), "state": "IL", "zip_code": "606804112"}
    )
    response = login(manager).post(
        reverse("payer_edit", args=[payer.pk]), _payer_data(), follow=True
    )
    assert "Nothing changed." in response.content.decode()
    assert not AuditLog.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"state": "Illinois"}, "Use the two-letter state code (as IL)."),
        ({"state": "ZZ"}, "Use the two-letter state code (as IL)."),
        ({"zip_code": "6068"}, "A ZIP code is 5 digits, or ZIP+4 (as 62701-1234)."),
        ({"zip_code": "60680-41"}, "A ZIP code is 5 digits, or ZIP+4 (as 62701-1234)."),
        ({"name": "  "}, "Enter the payer&#x27;s name."),
        ({"payer_id": ""}, "Enter the payer id."),
    ],
)
def test_it_refuses_bad_input_and_saves_nothing(login, manager, org, overrides, message):
    payer = factories.PayerFactory(organization=org, name="Aetna", payer_id="60054")
    before = _snapshot(payer)
    client = login(manager)

    added = client.post(reverse("payer_add"), _payer_data(**overrides))
    edited = client.post(reverse("payer_edit", args=[payer.pk]), _payer_data(**overrides))

    for response in (added, edited):
        assert response.status_code == 200
        assert message in response.content.decode()
        assert 'class="field-error"' in response.content.decode()
    assert Payer.objects.count() == 1
    assert _snapshot(payer) == before
    assert not AuditLog.objects.exists()
    assert "<h1>Edit Aetna</h1>" in edited.content.decode()  # the stored name


def test_it_refuses_a_payer_id_already_used_in_the_organization(login, manager, org, other_org):
    factories.PayerFactory(organization=org, name="Aetna", payer_id="60054")
    cigna = factories.PayerFactory(organization=org, name="Cigna", payer_id="62308")
    factories.PayerFactory(organization=other_org, name="Theirs", payer_id="77777")
    client = login(manager)

    added = client.post(reverse("payer_add"), _payer_data(payer_id="60054"))
    edited = client.post(
        reverse("payer_edit", args=[cigna.pk]), _payer_data(name="Cigna", payer_id=" 60054 ")
    )

    for response in (added, edited):
        assert response.status_code == 200
        assert "Payer id 60054 is already used by Aetna." in response.content.decode()
    assert Payer.objects.filter(organization=org).count() == 2
    cigna.refresh_from_db()
    assert cigna.payer_id == "62308"
    assert not AuditLog.objects.exists()
    # Another organization's payer ids do not count.
    assert client.post(reverse("payer_add"), _payer_data(payer_id="77777")).status_code == 302


def test_the_service_turns_a_duplicate_payer_id_into_a_message(manager, org):
    from django.core.exceptions import ValidationError

    factories.PayerFactory(organization=org, name="Aetna", payer_id="60054")
    with pytest.raises(ValidationError) as caught, transaction.atomic():
        services.payer_create(
            organization=org, actor=manager, data={"name": "Copy", "payer_id": "60054"}
        )
    assert caught.value.message_dict["payer_id"] == ["Payer id 60054 is already used by Aetna."]
