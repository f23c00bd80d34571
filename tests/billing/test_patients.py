from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from billing.models import AuditLog, Claim, LedgerEntry, Patient
from tests import factories

pytestmark = pytest.mark.django_db

K = LedgerEntry.Kind


def _rows(html: str) -> str:
    return html.split('<div id="patient-rows">')[1]


def _search(client, q: str) -> str:
    return _rows(client.get(reverse("patient_list"), {"q": q}).content.decode())


def _patient_data(**overrides) -> dict[str, str]:
    data = {
        "account_number": "A1001",
        "last_name": "Rivera",
        "first_name": "Ana",
        "birth_date": "1975-03-09",
        "sex": "F",
        "address_line1": "12 Elm St",
        "address_line2": "",
        "city": "Springfield",
        "state": "il",
        "zip_code": "62701-1234",
        "phone": "(217) 555-0101",
        "email": "ana@example.com",
    }
    data.update(overrides)
    return data


# --- who may open what ------------------------------------------------------------------


def test_it_sends_anonymous_visitors_to_login(client, org):
    patient = factories.PatientFactory(organization=org)
    for url in (
        reverse("patient_list"),
        reverse("patient_add"),
        reverse("patient_detail", args=[patient.pk]),
        reverse("patient_edit", args=[patient.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_it_answers_404_to_another_organizations_member(login, other, org):
    patient = factories.PatientFactory(organization=org, last_name="Hidden")
    client = login(other)
    assert client.get(reverse("patient_detail", args=[patient.pk])).status_code == 404
    assert client.get(reverse("patient_edit", args=[patient.pk])).status_code == 404
    response = client.post(
        reverse("patient_edit", args=[patient.pk]), _patient_data(last_name="Changed")
    )
    assert response.status_code == 404
    patient.refresh_from_db()
    assert patient.last_name == "Hidden"
    assert not AuditLog.objects.exists()


def test_it_refuses_every_write_to_the_clerk_and_changes_nothing(login, clerk, org):
    patient = factories.PatientFactory(organization=org, last_name="Kept")
    client = login(clerk)
    assert client.get(reverse("patient_add")).status_code == 403
    assert client.post(reverse("patient_add"), _patient_data()).status_code == 403
    assert client.get(reverse("patient_edit", args=[patient.pk])).status_code == 403
    edit = client.post(reverse("patient_edit", args=[patient.pk]), _patient_data())
    assert edit.status_code == 403
    assert list(Patient.objects.values_list("last_name", flat=True)) == ["Kept"]
    assert not AuditLog.objects.exists()


def test_it_offers_new_patient_only_to_members_who_may_edit(login, manager, clerk, org):
    factories.PatientFactory(organization=org)
    assert "New patient" in login(manager).get(reverse("patient_list")).content.decode()
    assert "New patient" not in login(clerk).get(reverse("patient_list")).content.decode()


# --- the list and its search ------------------------------------------------------------


@pytest.fixture
def smiths(org, other_org):
    john = factories.PatientFactory(
        organization=org,
        account_number="DFP000123",
        last_name="Smith",
        first_name="John",
        birth_date=datetime.date(1962, 4, 3),
    )
    jane = factories.PatientFactory(
        organization=org,
        account_number="DFP000124",
        last_name="Smithers",
        first_name="Jane",
        birth_date=datetime.date(1990, 11, 30),
    )
    baker = factories.PatientFactory(
        organization=org,
        account_number="DFP000200",
        last_name="Baker",
        first_name="Smithy",
        birth_date=datetime.date(1971, 1, 15),
    )
    factories.PatientFactory(
        organization=other_org, account_number="DFP000123", last_name="Smith", first_name="John"
    )
    return john, jane, baker


def test_it_lists_only_the_organizations_patients_by_name(login, manager, smiths, other_org):
    html = _rows(login(manager).get(reverse("patient_list")).content.decode())
    assert "3 rows" in html
    assert html.index("Baker, Smithy") < html.index("Smith, John") < html.index("Smithers, Jane")


def test_it_finds_a_name_typed_last_first_or_first_last(login, manager, smiths):
    client = login(manager)
    for q in ("smith jo", "jo smith", "Smith, John", "SMITH,JOHN", "  smith   john "):
        html = _search(client, q)
        assert "Smith, John" in html, q
        assert "Smithers, Jane" not in html, q
        assert "1 row" in html, q


def test_it_finds_names_by_their_beginning(login, manager, smiths):
    html = _search(login(manager), "smith")
    assert "Smith, John" in html
    assert "Smithers, Jane" in html
    assert "Baker, Smithy" in html  # a first name that starts with the word


def test_it_finds_a_birth_date_in_either_format(login, manager, smiths):
    client = login(manager)
    for q in ("04/03/1962", "4/3/1962", "1962-04-03"):
        html = _search(client, q)
        assert "Smith, John" in html, q
        assert "1 row" in html, q


def test_it_finds_an_account_number(login, manager, smiths):
    html = _search(login(manager), "dfp000124")
    assert "Smithers, Jane" in html
    assert "1 row" in html


def test_it_finds_a_member_id_of_any_coverage(login, manager, smiths, org):
    john, _jane, baker = smiths
    factories.CoverageFactory(patient=john, member_id="XJH55501")
    factories.CoverageFactory(
        patient=baker, member_id="ZZ9001", order=2, effective_to=datetime.date(2024, 6, 30)
    )
    client = login(manager)
    html = _search(client, "xjh55501")
    assert "Smith, John" in html
    assert "1 row" in html
    assert "Baker, Smithy" in _search(client, "ZZ9001")


def test_it_says_when_nothing_matches(login, manager, smiths):
    html = _search(login(manager), "Zimmerman")
    assert "No patient matches “Zimmerman”" in html


def test_it_says_when_there_are_no_patients(login, manager):
    html = login(manager).get(reverse("patient_list")).content.decode()
    assert "No patients yet." in html
    assert "Add the first patient" in html


def test_it_shows_primary_payer_member_id_and_open_balance(login, manager, org):
    patient = factories.PatientFactory(organization=org, last_name="Owes")
    factories.CoverageFactory(
        patient=patient,
        payer=factories.PayerFactory(organization=org, name="Old Payer"),
        member_id="OLD1",
        effective_to=datetime.date(2024, 12, 31),
    )
    factories.CoverageFactory(
        patient=patient,
        payer=factories.PayerFactory(organization=org, name="Acme Health"),
        member_id="NEW1",
        effective_from=datetime.date(2025, 1, 1),
    )
    owed = factories.EncounterFactory(patient=patient)
    factories.LedgerEntryFactory(encounter=owed, amount=Decimal("200.00"))
    factories.LedgerEntryFactory(encounter=owed, kind=K.PATIENT_PAYMENT, amount=Decimal("-20.50"))
    credit = factories.EncounterFactory(patient=patient)  # a credit is not netted
    factories.LedgerEntryFactory(encounter=credit, amount=Decimal("50.00"))
    factories.LedgerEntryFactory(encounter=credit, kind=K.ADJUSTMENT, amount=Decimal("-60.00"))

    html = _rows(login(manager).get(reverse("patient_list")).content.decode())

    assert "Acme Health" in html
    assert "NEW1" in html
    assert "Old Payer" not in html
    assert f'data-testid="balance-{patient.pk}">$179.50<' in html


def test_it_paginates(login, manager, org):
    factories.PatientFactory.create_batch(55, organization=org)
    client = login(manager)
    first = client.get(reverse("patient_list")).content.decode()
    assert "55 rows · page 1 of 2" in first
    second = _rows(client.get(reverse("patient_list"), {"page": 2}).content.decode())
    assert second.split("<tbody>")[1].count("<tr>") == 5


def test_it_keeps_the_search_in_pager_links(login, manager, org):
    factories.PatientFactory.create_batch(51, organization=org, last_name="Lee")
    html = login(manager).get(reverse("patient_list"), {"q": "lee"}).content.decode()
    assert "?q=lee&amp;page=2" in html


def test_it_answers_htmx_with_only_the_rows(login, manager, smiths):
    response = login(manager).get(
        reverse("patient_list"),
        {"q": "smithers"},
        headers={"HX-Request": "true", "HX-Target": "patient-rows"},
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="patient-rows">')
    assert "<form" not in html
    assert "Smithers, Jane" in html
    assert "Smith, John" not in html
    assert "HX-Request" in response["Vary"]


def test_it_has_a_live_search_with_a_plain_form_fallback(login, manager):
    html = login(manager).get(reverse("patient_list")).content.decode()
    form = html.split('role="search"')[0].rsplit("<form", 1)[1] + html.split('role="search"')[1]
    assert 'method="get"' in form
    assert f'action="{reverse("patient_list")}"' in form
    assert 'hx-target="#patient-rows"' in html
    assert "delay:" in html


def test_the_list_costs_the_same_queries_for_many_rows(
    login, manager, org, django_assert_max_num_queries
):
    def add_patients(n: int) -> None:
        for _ in range(n):
            patient = factories.PatientFactory(organization=org)
            factories.CoverageFactory(patient=patient)
            encounter = factories.EncounterFactory(patient=patient)
            factories.LedgerEntryFactory(encounter=encounter)

    client = login(manager)
    add_patients(2)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("patient_list"))
    add_patients(30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(reverse("patient_list")).content.decode()
    assert "32 rows" in html


# --- the patient page -------------------------------------------------------------------


@pytest.fixture
def chart(org):
    """A patient with coverages, encounters, a claim and payments."""
    patient = factories.PatientFactory(
        organization=org, last_name="Nguyen", first_name="Lan", account_number="DFP000777"
    )
    primary = factories.CoverageFactory(
        patient=patient,
        payer=factories.PayerFactory(organization=org, name="Blue Plan"),
        member_id="BP123",
        group_number="G-77",
    )
    factories.CoverageFactory(
        patient=patient,
        payer=factories.PayerFactory(organization=org, name="Gone Plan"),
        member_id="GP9",
        order=2,
        effective_from=datetime.date(2022, 1, 1),
        effective_to=datetime.date(2023, 12, 31),
    )
    employer = factories.EmployerFactory(organization=org, name="Acme Steel", is_tpa=False)
    first = factories.EncounterFactory(
        patient=patient, date_of_service=datetime.date(2025, 3, 4), guarantor_employer=employer
    )
    second = factories.EncounterFactory(patient=patient, date_of_service=datetime.date(2025, 5, 6))
    factories.ChargeFactory(encounter=first, amount=Decimal("150.00"))
    factories.ChargeFactory(encounter=first, amount=Decimal("75.00"))
    factories.ChargeFactory(encounter=first, amount=Decimal("999.00"), status="void")  # not counted
    factories.ChargeFactory(encounter=second, amount=Decimal("95.00"))
    for encounter, amount in ((first, "225.00"), (second, "95.00")):
        factories.LedgerEntryFactory(encounter=encounter, amount=Decimal(amount))
    factories.LedgerEntryFactory(
        encounter=first, kind=K.INSURANCE_PAYMENT, amount=Decimal("-180.00")
    )
    factories.LedgerEntryFactory(
        encounter=first, kind=K.PATIENT_PAYMENT, amount=Decimal("-20.00"), memo="Copay, card"
    )
    factories.LedgerEntryFactory(
        encounter=second, kind=K.PATIENT_PAYMENT, amount=Decimal("-100.00"), memo="Overpaid"
    )
    claim = factories.ClaimFactory(
        encounter=first, coverage=primary, claim_number="C0004242", total=Decimal("225.00")
    )
    return patient, first, second, claim


def test_the_patient_page_shows_demographics_and_coverages(login, manager, chart):
    patient, *_ = chart
    html = login(manager).get(reverse("patient_detail", args=[patient.pk])).content.decode()
    assert "Nguyen, Lan" in html
    assert "DFP000777" in html
    assert "05/17/1980" in html
    coverages = html.split('id="coverages-h"')[1].split("</section>")[0]
    assert coverages.index("Blue Plan") < coverages.index("Gone Plan")  # primary first
    assert "BP123" in coverages
    assert "G-77" in coverages
    assert "Active" in coverages
    assert "Ended" in coverages
    assert "12/31/2023" in coverages


def test_the_patient_page_lists_encounters_claims_and_payments(login, manager, chart):
    patient, first, second, claim = chart
    html = login(manager).get(reverse("patient_detail", args=[patient.pk])).content.decode()

    encounters = html.split('id="encounters-h"')[1].split("</section>")[0]
    assert f'href="{reverse("encounter_detail", args=[first.pk])}">03/04/2025<' in encounters
    assert f'href="{reverse("encounter_detail", args=[second.pk])}">05/06/2025<' in encounters
    assert "Acme Steel" in encounters
    assert "$225.00" in encounters  # void charges are not counted
    assert "$25.00" in encounters  # 225 - 180 - 20
    assert "-$5.00" in encounters  # 95 - 100: a credit

    claims = html.split('id="claims-h"')[1].split("</section>")[0]
    assert f'href="{reverse("claim_detail", args=[claim.pk])}">C0004242<' in claims
    assert Claim.Status.DRAFT.label in claims

    payments = html.split('id="payments-h"')[1].split("</section>")[0]
    assert "Copay, card" in payments
    assert "$20.00" in payments
    assert "$100.00" in payments
    assert "$180.00" not in payments  # insurance payments are not listed here


def test_the_patient_page_balance_is_the_ledger_recomputed(login, manager, chart):
    patient, *_ = chart
    by_encounter = (
        LedgerEntry.objects.filter(encounter__patient=patient)
        .values("encounter")
        .annotate(total=Sum("amount"))
    )
    expected = sum((r["total"] for r in by_encounter if r["total"] > 0), Decimal("0"))
    assert expected == Decimal("25.00")

    client = login(manager)
    html = client.get(reverse("patient_detail", args=[patient.pk])).content.decode()
    assert f'data-testid="open-balance">${expected:.2f}<' in html
    listing = client.get(reverse("patient_list")).content.decode()
    assert f'data-testid="balance-{patient.pk}">${expected:.2f}<' in listing


def test_a_settled_encounter_owes_nothing_whatever_the_database_sums_with(login, manager, org):
    patient = factories.PatientFactory(organization=org)
    encounter = factories.EncounterFactory(patient=patient)
    # SQLite sums these as floats to 1.4e-14, not 0.
    for kind, amount in (
        (K.CHARGE, "145.00"),
        (K.CHARGE, "45.00"),
        (K.CHARGE, "30.00"),
        (K.INSURANCE_PAYMENT, "-150.04"),
        (K.PATIENT_PAYMENT, "-69.96"),
    ):
        factories.LedgerEntryFactory(encounter=encounter, kind=kind, amount=Decimal(amount))
    client = login(manager)
    html = client.get(reverse("patient_detail", args=[patient.pk])).content.decode()
    assert 'data-testid="open-balance">$0.00<' in html
    assert "-$0.00" not in html
    listing = client.get(reverse("patient_list")).content.decode()
    assert f'data-testid="balance-{patient.pk}"><span class="muted">$0.00</span><' in listing


def test_the_patient_page_offers_edit_actions_to_editors(login, manager, chart):
    patient, *_ = chart
    html = login(manager).get(reverse("patient_detail", args=[patient.pk])).content.decode()
    actions = html.split('class="pt-actions-list"')[1].split("</ul>")[0]
    assert f'href="{reverse("patient_edit", args=[patient.pk])}">Edit demographics<' in actions
    assert reverse("coverage_add", args=[patient.pk]) in html
    assert reverse("encounter_add", args=[patient.pk]) in html
    assert reverse("coverage_edit", args=[patient.coverages.get(order=1).pk]) in html
    assert reverse("coverage_end", args=[patient.coverages.get(order=1).pk]) in html
    # an ended coverage has nothing left to end
    assert reverse("coverage_end", args=[patient.coverages.get(order=2).pk]) not in html


def test_the_patient_page_is_read_only_for_the_clerk(login, clerk, chart):
    patient, *_ = chart
    html = login(clerk).get(reverse("patient_detail", args=[patient.pk])).content.decode()
    assert "Nguyen, Lan" in html
    assert reverse("patient_edit", args=[patient.pk]) not in html
    assert reverse("coverage_add", args=[patient.pk]) not in html
    assert reverse("encounter_add", args=[patient.pk]) not in html
    assert "/end" not in html
    assert "No actions for your role." in html


def test_the_patient_page_explains_empty_sections(login, manager, org):
    patient = factories.PatientFactory(organization=org)
    html = login(manager).get(reverse("patient_detail", args=[patient.pk])).content.decode()
    assert "No coverage on file: the patient is self-pay." in html
    assert "No encounters yet." in html
    assert "No claims for this patient yet" in html
    assert "No patient payments recorded." in html
    assert 'data-testid="open-balance">$0.00<' in html


# --- adding and editing -----------------------------------------------------------------


def test_it_adds_a_patient_and_audits_it(login, manager, org):
    response = login(manager).post(reverse("patient_add"), _patient_data())

    patient = Patient.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("patient_detail", args=[patient.pk])
    assert patient.organization == org
    assert (patient.last_name, patient.state, patient.zip_code) == ("Rivera", "IL", "627011234")
    row = AuditLog.objects.get(action="patient.create")
    assert row.organization == org
    assert row.actor == manager
    assert row.record_id == str(patient.pk)
    assert row.new_values["account_number"] == "A1001"
    assert row.new_values["birth_date"] == "1975-03-09"


def test_it_edits_demographics_and_audits_old_and_new_values(login, manager, org):
    patient = factories.PatientFactory(
        organization=org, account_number="A1001", last_name="Rivera", first_name="Ana", sex="F"
    )
    response = login(manager).post(
        reverse("patient_edit", args=[patient.pk]),
        _patient_data(last_name="Rivera-Cole", phone="(217) 555-0199", birth_date="05/17/1980"),
    )
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.last_name == "Rivera-Cole"
    row = AuditLog.objects.get(action="patient.update")
    assert row.record_id == str(patient.pk)
    assert row.old_values["last_name"] == "Rivera"
    assert row.new_values["last_name"] == "Rivera-Cole"
    assert row.new_values["phone"] == "(217) 555-0199"
    assert "first_name" not in row.new_values  # unchanged fields are left out


def test_it_refuses_a_birth_date_in_the_future(login, manager, org):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = login(manager).post(
        reverse("patient_add"), _patient_data(birth_date=tomorrow.isoformat())
    )
    assert response.status_code == 200
    assert "The birth date cannot be in the future." in response.content.decode()
    assert not Patient.objects.exists()
    assert not AuditLog.objects.exists()


def test_it_refuses_a_duplicate_account_number_with_a_clear_message(login, manager, org):
    factories.PatientFactory(organization=org, account_number="A1001", last_name="First")
    response = login(manager).post(reverse("patient_add"), _patient_data(account_number="a1001"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Account number A1001 is already used by First, Jordan" in html
    assert 'class="field-error"' in html
    assert Patient.objects.count() == 1
    assert not AuditLog.objects.exists()


def test_it_refuses_to_take_another_patients_account_number_on_edit(login, manager, org):
    factories.PatientFactory(organization=org, account_number="A1001")
    patient = factories.PatientFactory(organization=org, account_number="A2002", last_name="Kim")
    response = login(manager).post(
        reverse("patient_edit", args=[patient.pk]),
        _patient_data(account_number="A1001", last_name="Changed"),
    )
    assert "is already used by" in response.content.decode()
    patient.refresh_from_db()
    assert (patient.account_number, patient.last_name) == ("A2002", "Kim")


def test_an_account_number_may_repeat_across_organizations(login, manager, org, other_org):
    factories.PatientFactory(organization=other_org, account_number="A1001")
    response = login(manager).post(reverse("patient_add"), _patient_data())
    assert response.status_code == 302
    assert Patient.objects.filter(organization=org, account_number="A1001").exists()


def test_it_checks_the_state_zip_and_required_fields(login, manager, org):
    response = login(manager).post(
        reverse("patient_add"),
        _patient_data(state="KA", zip_code="1234", last_name="", email="not-an-email"),
    )
    html = response.content.decode()
    assert "Use the two-letter state code (as IL)." in html
    assert "A ZIP code is 5 or 9 digits." in html
    assert "This field is required." in html
    assert "Enter a valid email address." in html
    assert not Patient.objects.exists()


def test_the_edit_form_shows_the_current_values(login, manager, org):
    patient = factories.PatientFactory(organization=org, account_number="A5", last_name="Ortiz")
    html = login(manager).get(reverse("patient_edit", args=[patient.pk])).content.decode()
    assert 'value="Ortiz"' in html
    assert 'value="1980-05-17"' in html
    assert "csrfmiddlewaretoken" in html
