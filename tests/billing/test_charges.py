from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import AuditLog, Charge, LedgerEntry
from tests import factories

pytestmark = pytest.mark.django_db


def days_ago(n: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=n)


@pytest.fixture
def encounter(org):
    return factories.EncounterFactory(
        patient=factories.PatientFactory(organization=org, last_name="Lovelace"),
        organization=org,
        diagnosis_codes=["J06.9", "I10", "E11.9"],
    )


def charge_post(**overrides) -> dict:
    data = {
        "procedure_code": "99213",
        "modifiers": "",
        "pointer_1": "1",
        "pointer_2": "",
        "pointer_3": "",
        "pointer_4": "",
        "units": "1",
        "amount": "145.00",
    }
    data.update(overrides)
    return data


# --- adding a charge ----------------------------------------------------------------------


def test_it_adds_a_draft_charge_posts_it_and_audits_both(login, manager, encounter):
    response = login(manager).post(
        reverse("charge_add", args=[encounter.pk]),
        charge_post(
            procedure_code="99214", modifiers="25, 59", pointer_1="3", pointer_2="1", units="2"
        ),
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("encounter_detail", args=[encounter.pk])
    charge = Charge.objects.get()
    assert charge.status == Charge.Status.DRAFT
    assert charge.procedure_code == "99214"
    assert charge.modifiers == ["25", "59"]
    assert charge.diagnosis_pointers == [3, 1]
    assert charge.units == Decimal("2")
    assert charge.amount == Decimal("145.00")
    created = AuditLog.objects.get(action="charge.create")
    assert created.record_id == str(charge.pk)
    assert created.actor == manager
    entry = LedgerEntry.objects.get()
    assert (entry.kind, entry.amount, entry.charge) == ("charge", Decimal("145.00"), charge)
    assert AuditLog.objects.filter(action="ledger.charge", record_id=str(entry.pk)).exists()


def test_it_upper_cases_codes_and_modifiers(login, manager, encounter):
    login(manager).post(
        reverse("charge_add", args=[encounter.pk]),
        charge_post(procedure_code=" j3301 ", modifiers="rt lt"),
    )
    charge = Charge.objects.get()
    assert (charge.procedure_code, charge.modifiers) == ("J3301", ["RT", "LT"])


def test_the_form_offers_the_encounters_diagnoses_as_pointers(login, manager, encounter):
    html = login(manager).get(reverse("charge_add", args=[encounter.pk])).content.decode()
    assert '<option value="1">1. J06.9</option>' in html
    assert '<option value="3">3. E11.9</option>' in html
    assert "Primary diagnosis" in html


def test_it_asks_for_diagnosis_codes_before_charges(login, manager, org):
    encounter = factories.EncounterFactory(
        patient=factories.PatientFactory(organization=org), organization=org, diagnosis_codes=[]
    )
    html = login(manager).get(reverse("charge_add", args=[encounter.pk])).content.decode()
    assert "This encounter has no diagnosis codes yet" in html
    assert reverse("encounter_edit", args=[encounter.pk]) in html


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"procedure_code": "9921"}, "Not a CPT/HCPCS code."),
        ({"procedure_code": "ABCDE"}, "Not a CPT/HCPCS code."),
        ({"procedure_code": ""}, "This field is required."),
        ({"modifiers": "25 59 76 77 91"}, "Up to 4 modifiers of two letters or digits."),
        ({"modifiers": "2"}, "Up to 4 modifiers of two letters or digits."),
        ({"pointer_1": "4"}, "Point at one of the encounter&#x27;s diagnosis codes."),
        ({"pointer_1": ""}, "Point at the diagnosis this charge treats."),
        ({"pointer_1": "2", "pointer_2": "2"}, "Point at each diagnosis only once."),
        ({"units": "0"}, "Units must be at least 1."),
        ({"units": "-1"}, "Units must be at least 1."),
        ({"amount": "0"}, "Enter an amount greater than $0.00."),
        ({"amount": "-10.00"}, "Enter an amount greater than $0.00."),
        ({"amount": "12.345"}, "Ensure that there are no more than 2 decimal places."),
    ],
)
def test_it_refuses_bad_charges_with_a_message_and_saves_nothing(
    login, manager, encounter, overrides, message
):
    response = login(manager).post(
        reverse("charge_add", args=[encounter.pk]), charge_post(**overrides)
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert 'class="field-error"' in html
    assert not Charge.objects.exists()
    assert not LedgerEntry.objects.exists()
    assert not AuditLog.objects.exists()


def test_it_shows_every_shape_error_at_once(login, manager, encounter):
    response = login(manager).post(
        reverse("charge_add", args=[encounter.pk]),
        charge_post(procedure_code="9921", modifiers="25 59 76 77 91", units="0", amount="0"),
    )
    html = response.content.decode()
    assert html.count('class="field-error"') == 4
    assert not Charge.objects.exists()


def test_it_refuses_the_clerk_charge_capture_and_saves_nothing(login, clerk, encounter):
    client = login(clerk)
    assert client.get(reverse("charge_add", args=[encounter.pk])).status_code == 403
    response = client.post(reverse("charge_add", args=[encounter.pk]), charge_post())
    assert response.status_code == 403
    assert not Charge.objects.exists()
    assert not LedgerEntry.objects.exists()


def test_it_hides_another_organizations_encounter_and_charges(login, other, encounter):
    charge = factories.ChargeFactory(encounter=encounter, amount=Decimal("50.00"))
    client = login(other)

    assert client.get(reverse("charge_add", args=[encounter.pk])).status_code == 404
    assert client.post(reverse("charge_add", args=[encounter.pk]), charge_post()).status_code == 404
    assert client.get(reverse("charge_edit", args=[charge.pk])).status_code == 404
    response = client.post(reverse("charge_edit", args=[charge.pk]), charge_post(amount="1.00"))
    assert response.status_code == 404
    assert client.post(reverse("charge_void", args=[charge.pk])).status_code == 404

    charge.refresh_from_db()
    assert (charge.amount, charge.status) == (Decimal("50.00"), Charge.Status.DRAFT)
    assert Charge.objects.count() == 1


def test_it_sends_anonymous_visitors_to_log_in(client, encounter):
    charge = factories.ChargeFactory(encounter=encounter)
    for url in [
        reverse("charge_list"),
        reverse("charge_add", args=[encounter.pk]),
        reverse("charge_edit", args=[charge.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    response = client.post(reverse("charge_void", args=[charge.pk]))
    assert response.status_code == 302
    charge.refresh_from_db()
    assert charge.status == Charge.Status.DRAFT


# --- editing a charge ---------------------------------------------------------------------


def test_it_edits_a_draft_charge_and_reposts_a_changed_amount(login, manager, encounter):
    charge = factories.ChargeFactory(encounter=encounter, amount=Decimal("145.00"))
    factories.LedgerEntryFactory(
        encounter=encounter,
        charge=charge,
        amount=Decimal("145.00"),
        source_table="billing_charge",
        source_id=str(charge.pk),
    )

    response = login(manager).post(
        reverse("charge_edit", args=[charge.pk]),
        charge_post(amount="95.00", modifiers="25", pointer_1="2"),
    )

    assert response.status_code == 302
    charge.refresh_from_db()
    assert (charge.amount, charge.modifiers, charge.diagnosis_pointers) == (
        Decimal("95.00"),
        ["25"],
        [2],
    )
    row = AuditLog.objects.get(action="charge.update")
    assert row.old_values["amount"] == "145.00"
    assert row.new_values["amount"] == "95.00"
    assert list(LedgerEntry.objects.order_by("id").values_list("kind", "amount")) == [
        ("charge", Decimal("145.00")),
        ("reversal", Decimal("-145.00")),
        ("charge", Decimal("95.00")),
    ]
    assert encounter.balance == Decimal("95.00")


def test_the_edit_form_shows_the_charge(login, manager, encounter):
    charge = factories.ChargeFactory(
        encounter=encounter,
        procedure_code="99214",
        modifiers=["25", "59"],
        diagnosis_pointers=[3, 1],
        units=Decimal("2"),
        amount=Decimal("210.00"),
    )
    html = login(manager).get(reverse("charge_edit", args=[charge.pk])).content.decode()
    assert 'value="99214"' in html
    assert 'value="25 59"' in html
    assert 'value="2"' in html
    assert 'value="210.00"' in html
    assert '<option value="3" selected>3. E11.9</option>' in html


@pytest.mark.parametrize("status", ["approved", "billed", "void"])
def test_it_refuses_to_edit_a_charge_that_left_draft(login, manager, encounter, status):
    charge = factories.ChargeFactory(encounter=encounter, status=status, amount=Decimal("80.00"))
    client = login(manager)

    page = client.get(reverse("charge_edit", args=[charge.pk])).content.decode()
    assert f"This charge is {status} and can no longer be edited." in page
    assert 'name="amount"' not in page

    response = client.post(reverse("charge_edit", args=[charge.pk]), charge_post(amount="1.00"))
    assert response.status_code == 409
    assert "can no longer be edited" in response.content.decode()
    charge.refresh_from_db()
    assert charge.amount == Decimal("80.00")
    assert not AuditLog.objects.exists()


def test_it_refuses_bad_edits_and_changes_nothing(login, manager, encounter):
    charge = factories.ChargeFactory(encounter=encounter, amount=Decimal("80.00"))
    response = login(manager).post(
        reverse("charge_edit", args=[charge.pk]), charge_post(amount="0", units="0")
    )
    html = response.content.decode()
    assert "Enter an amount greater than $0.00." in html
    assert "Units must be at least 1." in html
    charge.refresh_from_db()
    assert charge.amount == Decimal("80.00")
    assert not AuditLog.objects.exists()


def test_it_refuses_the_clerk_edits(login, clerk, encounter):
    charge = factories.ChargeFactory(encounter=encounter, amount=Decimal("80.00"))
    client = login(clerk)
    assert client.get(reverse("charge_edit", args=[charge.pk])).status_code == 403
    response = client.post(reverse("charge_edit", args=[charge.pk]), charge_post(amount="1.00"))
    assert response.status_code == 403
    charge.refresh_from_db()
    assert charge.amount == Decimal("80.00")


# --- voiding a charge ---------------------------------------------------------------------


@pytest.mark.parametrize("status", ["draft", "approved"])
def test_it_voids_a_charge_reverses_its_posting_and_audits_it(login, manager, encounter, status):
    charge = factories.ChargeFactory(encounter=encounter, status=status, amount=Decimal("60.00"))
    factories.LedgerEntryFactory(
        encounter=encounter,
        charge=charge,
        amount=Decimal("60.00"),
        source_table="billing_charge",
        source_id=str(charge.pk),
    )

    response = login(manager).post(reverse("charge_void", args=[charge.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("encounter_detail", args=[encounter.pk])
    charge.refresh_from_db()
    assert charge.status == Charge.Status.VOID
    row = AuditLog.objects.get(action="charge.void")
    assert (row.old_values, row.new_values) == ({"status": status}, {"status": "void"})
    reversal = LedgerEntry.objects.get(kind="reversal")
    assert (reversal.amount, reversal.charge) == (Decimal("-60.00"), charge)
    assert encounter.balance == Decimal("0.00")
    page = login(manager).get(response["Location"]).content.decode()
    assert "voided and its amount reversed" in page


@pytest.mark.parametrize("status", ["billed", "void"])
def test_it_refuses_to_void_a_billed_or_void_charge(login, manager, encounter, status):
    charge = factories.ChargeFactory(encounter=encounter, status=status)

    response = login(manager).post(reverse("charge_void", args=[charge.pk]), follow=True)

    assert "only draft and approved charges can be voided" in response.content.decode()
    charge.refresh_from_db()
    assert charge.status == status
    assert not LedgerEntry.objects.exists()
    assert not AuditLog.objects.exists()


def test_it_refuses_the_clerk_a_void(login, clerk, encounter):
    charge = factories.ChargeFactory(encounter=encounter)
    assert login(clerk).post(reverse("charge_void", args=[charge.pk])).status_code == 403
    charge.refresh_from_db()
    assert charge.status == Charge.Status.DRAFT


def test_void_only_answers_posts(login, manager, encounter):
    charge = factories.ChargeFactory(encounter=encounter)
    assert login(manager).get(reverse("charge_void", args=[charge.pk])).status_code == 405
    charge.refresh_from_db()
    assert charge.status == Charge.Status.DRAFT


def test_the_encounter_page_offers_edit_and_void_by_status(login, manager, encounter):
    draft = factories.ChargeFactory(encounter=encounter, status="draft")
    approved = factories.ChargeFactory(encounter=encounter, status="approved")
    billed = factories.ChargeFactory(encounter=encounter, status="billed")

    html = login(manager).get(reverse("encounter_detail", args=[encounter.pk])).content.decode()

    assert reverse("charge_edit", args=[draft.pk]) in html
    assert reverse("charge_void", args=[draft.pk]) in html
    assert reverse("charge_edit", args=[approved.pk]) not in html
    assert reverse("charge_void", args=[approved.pk]) in html
    assert reverse("charge_edit", args=[billed.pk]) not in html
    assert reverse("charge_void", args=[billed.pk]) not in html


# --- the charge list ----------------------------------------------------------------------


@pytest.fixture
def listed(org, other_org):
    """Charges across two providers and two payers, and one of another organization."""
    house = factories.ProviderFactory(organization=org, first_name="Gregory", last_name="House")
    wilson = factories.ProviderFactory(organization=org, first_name="James", last_name="Wilson")
    aetna = factories.PayerFactory(organization=org, name="Aetna")
    cigna = factories.PayerFactory(organization=org, name="Cigna")

    def charge(provider, payer, dos_days_ago, status, amount, code):
        patient = factories.PatientFactory(organization=org)
        if payer is not None:
            factories.CoverageFactory(
                patient=patient, organization=org, payer=payer, effective_from=days_ago(400)
            )
        encounter = factories.EncounterFactory(
            patient=patient,
            organization=org,
            provider=provider,
            date_of_service=days_ago(dos_days_ago),
        )
        return factories.ChargeFactory(
            encounter=encounter, status=status, amount=Decimal(amount), procedure_code=code
        )

    rows = {
        "a": charge(house, aetna, 5, "draft", "100.00", "99211"),
        "b": charge(house, cigna, 40, "approved", "200.00", "99212"),
        "c": charge(wilson, aetna, 90, "billed", "300.00", "99213"),
        "d": charge(wilson, None, 10, "void", "50.00", "99214"),
    }
    factories.ChargeFactory(
        encounter=factories.EncounterFactory(
            patient=factories.PatientFactory(organization=other_org), organization=other_org
        ),
        procedure_code="G0008",
    )
    return {"house": house, "wilson": wilson, "aetna": aetna, "cigna": cigna, **rows}


def listed_codes(html: str) -> list[str]:
    body = html.split("<tbody>")[1].split("</tbody>")[0] if "<tbody>" in html else ""
    return [c for c in ["99211", "99212", "99213", "99214", "G0008"] if f"<code>{c}</code>" in body]


def test_the_list_shows_the_organizations_charges_newest_service_first(login, clerk, listed):
    html = login(clerk).get(reverse("charge_list")).content.decode()

    body = html.split("<tbody>")[1]
    assert body.index("99211") < body.index("99214") < body.index("99212") < body.index("99213")
    assert "G0008" not in html
    assert "4 charges" in html
    assert 'data-testid="charge-total">$650.00' in html
    assert "($600.00 without void charges)" in html
    assert "Aetna" in body and "Cigna" in body
    assert "G. House" in body
    for key in "abcd":
        assert f'name="charge_ids" value="{listed[key].pk}"' in html
    assert "data-select-all" in html
    assert "data-selected-count" in html


@pytest.mark.parametrize(
    ("params", "codes", "total"),
    [
        ({"status": "approved"}, ["99212"], "$200.00"),
        ({"status": "void"}, ["99214"], "$50.00"),
        ({"date_from": days_ago(45).isoformat()}, ["99211", "99214", "99212"], "$350.00"),
        ({"date_to": days_ago(10).isoformat()}, ["99214", "99212", "99213"], "$550.00"),
        (
            {"date_from": days_ago(40).isoformat(), "date_to": days_ago(10).isoformat()},
            ["99214", "99212"],
            "$250.00",
        ),
    ],
)
def test_it_filters_by_status_and_date_of_service(login, clerk, listed, params, codes, total):
    html = login(clerk).get(reverse("charge_list"), params).content.decode()
    assert listed_codes(html) == sorted(codes)
    assert f'data-testid="charge-total">{total}' in html


def test_it_filters_by_provider(login, clerk, listed):
    html = login(clerk).get(reverse("charge_list"), {"provider": listed["wilson"].pk}).content
    assert listed_codes(html.decode()) == ["99213", "99214"]


def test_it_filters_by_the_primary_payer_on_the_date_of_service(login, clerk, org, listed):
    html = login(clerk).get(reverse("charge_list"), {"payer": listed["aetna"].pk}).content
    assert listed_codes(html.decode()) == ["99211", "99213"]
    # A primary coverage that ended before the date of service does not count.
    ended = listed["b"].encounter.patient.coverages.get()
    ended.effective_to = listed["b"].encounter.date_of_service - datetime.timedelta(days=1)
    ended.save()
    html = login(clerk).get(reverse("charge_list"), {"payer": listed["cigna"].pk}).content
    assert "No charges match these filters." in html.decode()


def test_it_ignores_junk_filters(login, clerk, listed):
    html = (
        login(clerk)
        .get(
            reverse("charge_list"),
            {"status": "nonsense", "date_from": "yesterday", "provider": "x"},
        )
        .content.decode()
    )
    assert listed_codes(html) == ["99211", "99212", "99213", "99214"]


def test_it_offers_only_the_organizations_providers_and_payers(login, clerk, listed, other_org):
    factories.PayerFactory(organization=other_org, name="Secret Mutual")
    html = login(clerk).get(reverse("charge_list")).content.decode()
    assert "Aetna" in html
    assert "Secret Mutual" not in html


def test_it_answers_htmx_with_only_the_rows(login, clerk, listed):
    response = login(clerk).get(
        reverse("charge_list"),
        {"status": "draft"},
        headers={"HX-Request": "true", "HX-Target": "charge-rows"},
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="charge-rows">')
    assert "<h1>" not in html
    assert listed_codes(html) == ["99211"]
    assert "HX-Request" in response["Vary"]


def test_it_paginates_and_keeps_the_filters(login, clerk, org):
    encounter = factories.EncounterFactory(
        patient=factories.PatientFactory(organization=org), organization=org
    )
    factories.ChargeFactory.create_batch(55, encounter=encounter, status="draft")
    client = login(clerk)
    first = client.get(reverse("charge_list"), {"status": "draft"}).content.decode()
    assert "55 rows · page 1 of 2" in first
    assert "?status=draft&amp;page=2" in first
    second = client.get(reverse("charge_list"), {"status": "draft", "page": 2}).content.decode()
    assert second.count('name="charge_ids"') == 5


def test_it_says_when_there_are_no_charges(login, clerk):
    html = login(clerk).get(reverse("charge_list")).content.decode()
    assert "No charges yet." in html


def test_the_list_costs_the_same_queries_for_many_rows(
    login, clerk, org, django_assert_max_num_queries
):
    payer = factories.PayerFactory(organization=org)
    for _ in range(40):
        patient = factories.PatientFactory(organization=org)
        factories.CoverageFactory(patient=patient, organization=org, payer=payer)
        encounter = factories.EncounterFactory(patient=patient, organization=org)
        factories.ChargeFactory(encounter=encounter)
    client = login(clerk)
    client.get(reverse("charge_list"))  # warm the session

    # session, user, memberships, savepoint, count, totals, providers, payers, rows, release,
    # and on PostgreSQL two for the tenant setting: none per row.
    with django_assert_max_num_queries(12):
        html = client.get(reverse("charge_list")).content.decode()

    assert html.count('name="charge_ids"') == 40
