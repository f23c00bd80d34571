from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import AuditLog, Charge, Encounter, LedgerEntry
from tests import factories

pytestmark = pytest.mark.django_db

MINUS = "\u2212"  # how the pages write a negative amount


@pytest.fixture
def patient(org):
    return factories.PatientFactory(organization=org, first_name="Ada", last_name="Lovelace")


@pytest.fixture
def provider(org):
    return factories.ProviderFactory(organization=org, first_name="Gregory", last_name="House")


@pytest.fixture
def encounter(patient, provider):
    return factories.EncounterFactory(
        patient=patient,
        organization=patient.organization,
        provider=provider,
        diagnosis_codes=["J06.9", "I10", "E11.9"],
    )


def days_ago(n: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=n)


def encounter_post(doctor, **overrides) -> dict:
    data = {
        "provider": doctor.pk,
        "date_of_service": days_ago(3).isoformat(),
        "place_of_service": "11",
        "guarantor_employer": "",
        "diagnosis_codes": "J06.9\nI10",
    }
    data.update(overrides)
    return data


# --- the encounter form: create -----------------------------------------------------------


def test_it_creates_an_encounter_with_normalised_codes_and_audits_it(
    login, manager, patient, provider
):
    response = login(manager).post(
        reverse("encounter_add", args=[patient.pk]),
        encounter_post(provider, diagnosis_codes="j06.9, i10\n e119 "),
    )

    encounter = Encounter.objects.get(patient=patient)
    assert response.status_code == 302
    assert response["Location"] == reverse("encounter_detail", args=[encounter.pk])
    assert encounter.diagnosis_codes == ["J06.9", "I10", "E11.9"]
    assert encounter.provider == provider
    assert encounter.guarantor_employer is None
    row = AuditLog.objects.get(action="encounter.create")
    assert row.record_id == str(encounter.pk)
    assert row.actor == manager
    assert row.new_values["diagnosis_codes"] == ["J06.9", "I10", "E11.9"]


def test_it_makes_an_employer_the_responsible_guarantor(login, manager, org, patient, provider):
    employer = factories.EmployerFactory(organization=org, name="Acme Freight")

    login(manager).post(
        reverse("encounter_add", args=[patient.pk]),
        encounter_post(provider, guarantor_employer=employer.pk),
    )

    assert Encounter.objects.get(patient=patient).guarantor_employer == employer


def test_it_offers_the_patient_and_the_organizations_employers_as_guarantor(
    login, manager, org, other_org, patient, provider
):
    factories.EmployerFactory(organization=org, name="Acme Freight")
    factories.EmployerFactory(organization=other_org, name="Secret Employer")

    html = login(manager).get(reverse("encounter_add", args=[patient.pk])).content.decode()

    assert "The patient (Lovelace, Ada)" in html
    assert "Acme Freight" in html
    assert "Secret Employer" not in html


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"date_of_service": (timezone.localdate() + datetime.timedelta(days=1)).isoformat()},
            "The date of service cannot be in the future.",
        ),
        ({"diagnosis_codes": "J06.9, banana"}, "BANANA is not an ICD-10-CM code"),
        (
            {"diagnosis_codes": ", ".join(f"J0{i % 10}.{i}" for i in range(13))},
            "Up to 12 diagnosis codes; you entered 13.",
        ),
        ({"diagnosis_codes": "I10, i10"}, "Listed more than once: I10."),
        ({"provider": ""}, "This field is required."),
        ({"place_of_service": "99"}, "Select a valid choice."),
    ],
)
def test_it_refuses_bad_encounters_with_a_message_and_saves_nothing(
    login, manager, patient, provider, overrides, message
):
    response = login(manager).post(
        reverse("encounter_add", args=[patient.pk]), encounter_post(provider, **overrides)
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert 'class="field-error"' in response.content.decode()
    assert not Encounter.objects.exists()
    assert not AuditLog.objects.filter(action="encounter.create").exists()


def test_it_refuses_another_organizations_provider(login, manager, other_org, patient):
    stranger = factories.ProviderFactory(organization=other_org)

    response = login(manager).post(
        reverse("encounter_add", args=[patient.pk]), encounter_post(stranger)
    )

    assert "Select a valid choice" in response.content.decode()
    assert not Encounter.objects.exists()


def test_it_refuses_the_clerk_the_encounter_form_and_saves_nothing(login, clerk, patient, provider):
    client = login(clerk)
    assert client.get(reverse("encounter_add", args=[patient.pk])).status_code == 403
    response = client.post(reverse("encounter_add", args=[patient.pk]), encounter_post(provider))
    assert response.status_code == 403
    assert not Encounter.objects.exists()


def test_it_hides_another_organizations_patient(login, other, patient, provider):
    client = login(other)
    assert client.get(reverse("encounter_add", args=[patient.pk])).status_code == 404
    response = client.post(reverse("encounter_add", args=[patient.pk]), encounter_post(provider))
    assert response.status_code == 404
    assert not Encounter.objects.exists()


def test_it_sends_anonymous_visitors_to_log_in(client, encounter):
    for url in [
        reverse("encounter_add", args=[encounter.patient_id]),
        reverse("encounter_detail", args=[encounter.pk]),
        reverse("encounter_edit", args=[encounter.pk]),
        reverse("patient_payment_add", args=[encounter.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


# --- the encounter form: edit -------------------------------------------------------------


def test_it_edits_an_encounter_and_audits_old_and_new_values(
    login, manager, org, encounter, provider
):
    other_provider = factories.ProviderFactory(organization=org)

    response = login(manager).post(
        reverse("encounter_edit", args=[encounter.pk]),
        encounter_post(
            other_provider,
            date_of_service=days_ago(20).isoformat(),
            place_of_service="02",
            diagnosis_codes="J06.9, I10, E11.9, Z00.00",
        ),
    )

    assert response.status_code == 302
    encounter.refresh_from_db()
    assert encounter.provider == other_provider
    assert encounter.date_of_service == days_ago(20)
    assert encounter.place_of_service == "02"
    assert encounter.diagnosis_codes == ["J06.9", "I10", "E11.9", "Z00.00"]
    row = AuditLog.objects.get(action="encounter.update")
    assert row.old_values["provider_id"] == provider.pk
    assert row.new_values["provider_id"] == other_provider.pk
    assert row.new_values["diagnosis_codes"][-1] == "Z00.00"


def test_it_shows_the_encounter_in_the_edit_form(login, manager, encounter):
    html = login(manager).get(reverse("encounter_edit", args=[encounter.pk])).content.decode()
    assert "J06.9\nI10\nE11.9</textarea>" in html
    assert f'value="{encounter.date_of_service.isoformat()}"' in html


def test_it_refuses_to_remove_a_diagnosis_a_charge_points_at(login, manager, encounter, provider):
    factories.ChargeFactory(encounter=encounter, procedure_code="99213", diagnosis_pointers=[2])

    response = login(manager).post(
        reverse("encounter_edit", args=[encounter.pk]),
        encounter_post(provider, diagnosis_codes="J06.9, E11.9"),
    )

    assert response.status_code == 200
    assert "I10 cannot be removed: charge 99213 points at it." in response.content.decode()
    encounter.refresh_from_db()
    assert encounter.diagnosis_codes == ["J06.9", "I10", "E11.9"]
    assert not AuditLog.objects.filter(action="encounter.update").exists()


def test_it_keeps_charges_pointing_at_the_same_codes_when_they_are_reordered(
    login, manager, encounter, provider
):
    charge = factories.ChargeFactory(encounter=encounter, diagnosis_pointers=[2, 3])

    login(manager).post(
        reverse("encounter_edit", args=[encounter.pk]),
        encounter_post(provider, diagnosis_codes="E11.9, I10"),
    )

    encounter.refresh_from_db()
    charge.refresh_from_db()
    assert encounter.diagnosis_codes == ["E11.9", "I10"]
    assert [encounter.diagnosis_codes[p - 1] for p in charge.diagnosis_pointers] == [
        "I10",
        "E11.9",
    ]
    row = AuditLog.objects.get(action="encounter.update")
    assert row.new_values["charge_pointers"] == {str(charge.pk): [2, 1]}


def test_a_void_charge_does_not_block_removing_its_diagnosis(login, manager, encounter, provider):
    factories.ChargeFactory(encounter=encounter, diagnosis_pointers=[2], status=Charge.Status.VOID)

    login(manager).post(
        reverse("encounter_edit", args=[encounter.pk]),
        encounter_post(provider, diagnosis_codes="J06.9"),
    )

    encounter.refresh_from_db()
    assert encounter.diagnosis_codes == ["J06.9"]


def test_it_refuses_a_future_date_on_edit(login, manager, encounter, provider):
    before = encounter.date_of_service
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    response = login(manager).post(
        reverse("encounter_edit", args=[encounter.pk]),
        encounter_post(provider, date_of_service=tomorrow),
    )
    assert "The date of service cannot be in the future." in response.content.decode()
    encounter.refresh_from_db()
    assert encounter.date_of_service == before


def test_it_refuses_the_clerk_the_edit_and_changes_nothing(login, clerk, encounter, provider):
    client = login(clerk)
    assert client.get(reverse("encounter_edit", args=[encounter.pk])).status_code == 403
    response = client.post(
        reverse("encounter_edit", args=[encounter.pk]),
        encounter_post(provider, diagnosis_codes="Z00.00"),
    )
    assert response.status_code == 403
    encounter.refresh_from_db()
    assert encounter.diagnosis_codes == ["J06.9", "I10", "E11.9"]


def test_it_hides_another_organizations_encounter(login, other, encounter, provider):
    client = login(other)
    for name in ["encounter_detail", "encounter_edit", "patient_payment_add"]:
        assert client.get(reverse(name, args=[encounter.pk])).status_code == 404
    response = client.post(
        reverse("encounter_edit", args=[encounter.pk]),
        encounter_post(provider, diagnosis_codes="Z00.00"),
    )
    assert response.status_code == 404
    response = client.post(
        reverse("patient_payment_add", args=[encounter.pk]),
        {"amount": "10.00", "method": "cash", "paid_on": days_ago(0).isoformat()},
    )
    assert response.status_code == 404
    encounter.refresh_from_db()
    assert encounter.diagnosis_codes == ["J06.9", "I10", "E11.9"]
    assert not LedgerEntry.objects.exists()


# --- the encounter page -------------------------------------------------------------------


def test_the_encounter_page_shows_header_charges_claims_and_ledger(
    login, clerk, org, encounter, patient
):
    employer = factories.EmployerFactory(organization=org, name="Acme Freight")
    Encounter.objects.filter(pk=encounter.pk).update(guarantor_employer=employer)
    charge = factories.ChargeFactory(
        encounter=encounter,
        procedure_code="99214",
        modifiers=["25"],
        diagnosis_pointers=[3, 1],
        amount=Decimal("180.00"),
    )
    claim = factories.ClaimFactory(encounter=encounter, claim_number="C-0042", total=Decimal("180"))
    factories.LedgerEntryFactory(
        encounter=encounter, charge=charge, amount=Decimal("180.00"), memo="99214 charge"
    )

    html = login(clerk).get(reverse("encounter_detail", args=[encounter.pk])).content.decode()

    assert reverse("patient_detail", args=[patient.pk]) in html
    assert "Lovelace, Ada" in html
    assert "Gregory House, MD" in html
    assert encounter.date_of_service.strftime("%m/%d/%Y") in html
    assert "11 Office" in html
    assert "Acme Freight" in html
    dx = html.split('data-testid="diagnoses"')[1].split("</ol>")[0]
    assert dx.index("1.") < dx.index("J06.9") < dx.index("2.") < dx.index("I10") < dx.index("3.")
    charges = html.split('data-testid="charges"')[1].split("</table>")[0]
    assert "<code>E11.9</code>, <code>J06.9</code>" in charges
    assert "<code>25</code>" in charges
    assert "$180.00" in charges
    assert "Draft" in charges
    claims = html.split('data-testid="claims"')[1].split("</table>")[0]
    assert reverse("claim_detail", args=[claim.pk]) in claims
    assert "C-0042" in claims
    assert claim.payer.name in claims
    assert 'data-testid="encounter-balance">$180.00' in html


def test_the_clerk_sees_no_write_actions(login, clerk, encounter):
    factories.ChargeFactory(encounter=encounter)
    html = login(clerk).get(reverse("encounter_detail", args=[encounter.pk])).content.decode()
    assert reverse("charge_add", args=[encounter.pk]) not in html
    assert reverse("patient_payment_add", args=[encounter.pk]) not in html
    assert reverse("encounter_edit", args=[encounter.pk]) not in html
    assert "<summary>Actions</summary>" in html


def test_the_manager_sees_the_write_actions(login, manager, encounter):
    html = login(manager).get(reverse("encounter_detail", args=[encounter.pk])).content.decode()
    assert reverse("charge_add", args=[encounter.pk]) in html
    assert reverse("patient_payment_add", args=[encounter.pk]) in html
    assert reverse("encounter_edit", args=[encounter.pk]) in html


def test_the_ledger_lists_entries_in_posting_order_with_a_running_balance(login, clerk, encounter):
    now = timezone.now()
    for days, kind, amount, memo in [
        (30, "charge", "200.00", "first charge"),
        (10, "patient_payment", "-25.00", "copay"),
        (20, "insurance_payment", "-120.00", "payer paid"),
        (5, "adjustment", "-30.00", "contractual"),
    ]:
        factories.LedgerEntryFactory(
            encounter=encounter,
            kind=kind,
            amount=Decimal(amount),
            memo=memo,
            posted_at=now - datetime.timedelta(days=days),
        )

    html = login(clerk).get(reverse("encounter_detail", args=[encounter.pk])).content.decode()
    ledger = html.split('data-testid="ledger"')[1].split("</table>")[0]

    order = [ledger.index(m) for m in ["first charge", "payer paid", "copay", "contractual"]]
    assert order == sorted(order)
    rows = ledger.split("<tbody>")[1].split("</tr>")
    assert "$200.00" in rows[0]
    assert MINUS + "$120.00" in rows[1] and "$80.00" in rows[1]
    assert MINUS + "$25.00" in rows[2] and "$55.00" in rows[2]
    assert MINUS + "$30.00" in rows[3] and "$25.00" in rows[3]
    assert 'data-testid="ledger-balance">$25.00' in ledger
    assert 'data-testid="encounter-balance">$25.00' in html


def test_a_credit_balance_is_shown_as_a_credit(login, clerk, encounter):
    factories.LedgerEntryFactory(encounter=encounter, kind="patient_payment", amount=-40)
    html = login(clerk).get(reverse("encounter_detail", args=[encounter.pk])).content.decode()
    assert 'data-testid="encounter-balance">' + MINUS + "$40.00" in html
    assert "credit" in html


def test_the_encounter_page_says_when_there_is_nothing_yet(login, clerk, encounter):
    html = login(clerk).get(reverse("encounter_detail", args=[encounter.pk])).content.decode()
    assert "No charges yet." in html
    assert "No claims for this encounter yet." in html
    assert "Nothing posted yet." in html


# --- patient payments ---------------------------------------------------------------------


def test_it_records_a_patient_payment_as_a_negative_entry_and_audits_it(login, manager, encounter):
    factories.LedgerEntryFactory(encounter=encounter, amount=Decimal("150.00"))

    response = login(manager).post(
        reverse("patient_payment_add", args=[encounter.pk]),
        {
            "amount": "40.00",
            "method": "check",
            "reference": "1234",
            "paid_on": days_ago(2).isoformat(),
        },
    )

    assert response.status_code == 302
    entry = LedgerEntry.objects.get(kind="patient_payment")
    assert entry.amount == Decimal("-40.00")
    assert entry.memo == "Patient payment, check 1234"
    assert timezone.localtime(entry.posted_at).date() == days_ago(2)
    assert entry.created_by == manager
    assert encounter.balance == Decimal("110.00")
    row = AuditLog.objects.get(action="ledger.patient_payment")
    assert row.record_id == str(entry.pk)
    assert row.new_values["amount"] == "-40.00"
    page = login(manager).get(response["Location"]).content.decode()
    assert "Payment of $40.00 recorded." in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"amount": "0"}, "Enter the amount received, more than $0.00."),
        ({"amount": "-5.00"}, "Enter the amount received, more than $0.00."),
        ({"amount": "1.234"}, "Ensure that there are no more than 2 decimal places."),
        ({"amount": ""}, "This field is required."),
        ({"method": "bitcoin"}, "Select a valid choice."),
        (
            {"paid_on": (timezone.localdate() + datetime.timedelta(days=1)).isoformat()},
            "The payment date cannot be in the future.",
        ),
    ],
)
def test_it_refuses_bad_payments_and_posts_nothing(login, manager, encounter, overrides, message):
    data = {"amount": "10.00", "method": "cash", "reference": "", "paid_on": days_ago(0)}
    data.update(overrides)

    response = login(manager).post(reverse("patient_payment_add", args=[encounter.pk]), data)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not LedgerEntry.objects.exists()
    assert not AuditLog.objects.filter(action="ledger.patient_payment").exists()


def test_it_refuses_the_clerk_a_payment_and_posts_nothing(login, clerk, encounter):
    client = login(clerk)
    assert client.get(reverse("patient_payment_add", args=[encounter.pk])).status_code == 403
    response = client.post(
        reverse("patient_payment_add", args=[encounter.pk]),
        {"amount": "10.00", "method": "cash", "paid_on": days_ago(0).isoformat()},
    )
    assert response.status_code == 403
    assert not LedgerEntry.objects.exists()


def test_the_payment_form_shows_the_balance_and_today(login, manager, encounter):
    factories.LedgerEntryFactory(encounter=encounter, amount=Decimal("75.50"))
    html = login(manager).get(reverse("patient_payment_add", args=[encounter.pk])).content.decode()
    assert 'data-testid="encounter-balance">$75.50' in html
    assert f'value="{timezone.localdate().isoformat()}"' in html


def test_the_encounter_page_costs_the_same_queries_for_many_rows(
    login, clerk, encounter, django_assert_max_num_queries
):
    claim = factories.ClaimFactory(encounter=encounter)
    for _ in range(25):
        charge = factories.ChargeFactory(encounter=encounter, diagnosis_pointers=[1, 2])
        factories.LedgerEntryFactory(encounter=encounter, charge=charge, claim=claim)
    client = login(clerk)
    client.get(reverse("encounter_detail", args=[encounter.pk]))

    # session, user, memberships, savepoint, encounter, charges, claims, ledger, release,
    # and on PostgreSQL two for the tenant setting: none per row.
    with django_assert_max_num_queries(11):
        html = client.get(reverse("encounter_detail", args=[encounter.pk])).content.decode()

    assert html.count(claim.claim_number) == 26
