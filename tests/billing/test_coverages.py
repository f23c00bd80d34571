from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from billing.models import AuditLog, Coverage
from billing.services import patients as services
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(org):
    return factories.PatientFactory(organization=org, last_name="Okafor", first_name="Ada")


@pytest.fixture
def payer(org):
    return factories.PayerFactory(organization=org, name="Blue Plan")


def _coverage_data(payer, **overrides) -> dict[str, str]:
    data = {
        "order": "1",
        "payer": str(payer.pk),
        "member_id": "BP0001",
        "group_number": "G1",
        "relationship": "18",
        "subscriber_last_name": "",
        "subscriber_first_name": "",
        "subscriber_birth_date": "",
        "effective_from": "2025-01-01",
        "effective_to": "",
    }
    data.update(overrides)
    return data


# --- who may open what ------------------------------------------------------------------


def test_it_sends_anonymous_visitors_to_login(client, patient):
    coverage = factories.CoverageFactory(patient=patient)
    for url in (
        reverse("coverage_add", args=[patient.pk]),
        reverse("coverage_edit", args=[coverage.pk]),
        reverse("coverage_end", args=[coverage.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_it_answers_404_to_another_organizations_member(login, other, other_org, patient):
    coverage = factories.CoverageFactory(patient=patient, member_id="KEEP")
    their_payer = factories.PayerFactory(organization=other_org)
    client = login(other)
    for url in (
        reverse("coverage_add", args=[patient.pk]),
        reverse("coverage_edit", args=[coverage.pk]),
        reverse("coverage_end", args=[coverage.pk]),
    ):
        assert client.get(url).status_code == 404, url
    data = _coverage_data(their_payer, order="2", member_id="HACK")
    assert client.post(reverse("coverage_add", args=[patient.pk]), data).status_code == 404
    assert client.post(reverse("coverage_edit", args=[coverage.pk]), data).status_code == 404
    end = client.post(reverse("coverage_end", args=[coverage.pk]), {"end_date": "2025-06-30"})
    assert end.status_code == 404
    coverage.refresh_from_db()
    assert (coverage.member_id, coverage.effective_to) == ("KEEP", None)
    assert Coverage.objects.count() == 1
    assert not AuditLog.objects.exists()


def test_it_refuses_every_write_to_the_clerk_and_changes_nothing(login, clerk, patient, payer):
    coverage = factories.CoverageFactory(patient=patient, member_id="KEEP")
    client = login(clerk)
    data = _coverage_data(payer, order="2", member_id="NEW")
    for url in (
        reverse("coverage_add", args=[patient.pk]),
        reverse("coverage_edit", args=[coverage.pk]),
        reverse("coverage_end", args=[coverage.pk]),
    ):
        assert client.get(url).status_code == 403, url
        assert client.post(url, {**data, "end_date": "2025-06-30"}).status_code == 403, url
    coverage.refresh_from_db()
    assert (coverage.member_id, coverage.effective_to) == ("KEEP", None)
    assert Coverage.objects.count() == 1
    assert not AuditLog.objects.exists()


# --- adding -----------------------------------------------------------------------------


def test_it_adds_a_coverage_and_audits_it(login, manager, org, patient, payer):
    response = login(manager).post(
        reverse("coverage_add", args=[patient.pk]), _coverage_data(payer)
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("patient_detail", args=[patient.pk])
    coverage = Coverage.objects.get()
    assert (coverage.organization, coverage.patient, coverage.payer) == (org, patient, payer)
    assert (coverage.member_id, coverage.order, coverage.effective_to) == ("BP0001", 1, None)
    row = AuditLog.objects.get(action="coverage.create")
    assert row.actor == manager
    assert row.record_id == str(coverage.pk)
    assert row.new_values["payer_id"] == payer.pk
    assert row.new_values["patient_id"] == patient.pk
    assert row.new_values["member_id"] == "BP0001"


def test_the_payer_list_holds_only_the_organizations_payers(
    login, manager, other_org, patient, payer
):
    theirs = factories.PayerFactory(organization=other_org, name="Foreign Payer")
    client = login(manager)
    html = client.get(reverse("coverage_add", args=[patient.pk])).content.decode()
    assert "Blue Plan" in html
    assert "Foreign Payer" not in html

    response = client.post(reverse("coverage_add", args=[patient.pk]), _coverage_data(theirs))
    assert "Select a valid choice" in response.content.decode()
    assert not Coverage.objects.exists()


def test_it_requires_the_member_id(login, manager, patient, payer):
    response = login(manager).post(
        reverse("coverage_add", args=[patient.pk]), _coverage_data(payer, member_id="  ")
    )
    assert response.status_code == 200
    assert "Enter the member id from the card." in response.content.decode()
    assert not Coverage.objects.exists()
    assert not AuditLog.objects.exists()


def test_it_refuses_an_end_before_the_start(login, manager, patient, payer):
    response = login(manager).post(
        reverse("coverage_add", args=[patient.pk]),
        _coverage_data(payer, effective_from="2025-03-01", effective_to="2025-02-28"),
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "The end date cannot be before the effective date." in html
    assert html.count('class="field-error"') == 1
    assert not Coverage.objects.exists()


def test_it_refuses_a_second_open_primary(login, manager, patient, payer):
    factories.CoverageFactory(patient=patient, order=1, member_id="FIRST")
    response = login(manager).post(
        reverse("coverage_add", args=[patient.pk]), _coverage_data(payer, member_id="SECOND")
    )
    assert response.status_code == 200
    assert (
        "This patient already has an open primary coverage; end it first."
        in response.content.decode()
    )
    assert list(Coverage.objects.values_list("member_id", flat=True)) == ["FIRST"]
    assert not AuditLog.objects.exists()


def test_an_open_secondary_and_an_ended_primary_are_fine(login, manager, patient, payer):
    factories.CoverageFactory(patient=patient, order=1, member_id="FIRST")
    client = login(manager)
    secondary = client.post(
        reverse("coverage_add", args=[patient.pk]),
        _coverage_data(payer, order="2", member_id="SEC"),
    )
    assert secondary.status_code == 302
    closed_primary = client.post(
        reverse("coverage_add", args=[patient.pk]),
        _coverage_data(
            payer, member_id="OLD", effective_from="2020-01-01", effective_to="2020-12-31"
        ),
    )
    assert closed_primary.status_code == 302
    assert Coverage.objects.count() == 3


def test_it_asks_for_the_subscriber_when_the_patient_is_a_dependent(login, manager, patient, payer):
    response = login(manager).post(
        reverse("coverage_add", args=[patient.pk]), _coverage_data(payer, relationship="19")
    )
    assert "Enter the subscriber&#x27;s name" in response.content.decode()
    assert not Coverage.objects.exists()


def test_a_lost_race_for_the_open_primary_is_a_message_not_an_error(
    manager, org, patient, payer, monkeypatch
):
    factories.CoverageFactory(patient=patient, order=1)
    # Skip the service's own check, as a concurrent request that checked first would.
    monkeypatch.setattr(services, "_check_coverage", lambda coverage: None)
    with pytest.raises(ValidationError) as caught:
        services.coverage_create(
            organization=org,
            actor=manager,
            patient=patient,
            data={
                "payer": payer,
                "order": 1,
                "member_id": "RACE",
                "effective_from": datetime.date(2025, 1, 1),
            },
        )
    assert caught.value.message_dict["order"] == [
        "This patient already has an open primary coverage; end it first."
    ]
    assert Coverage.objects.count() == 1


# --- editing ----------------------------------------------------------------------------


def test_it_edits_a_coverage_and_audits_old_and_new_values(login, manager, patient, payer):
    coverage = factories.CoverageFactory(patient=patient, payer=payer, member_id="OLD")
    response = login(manager).post(
        reverse("coverage_edit", args=[coverage.pk]),
        _coverage_data(payer, member_id="NEW", effective_from="2024-01-01"),
    )
    assert response.status_code == 302
    coverage.refresh_from_db()
    assert (coverage.member_id, coverage.group_number) == ("NEW", "G1")
    row = AuditLog.objects.get(action="coverage.update")
    assert row.record_id == str(coverage.pk)
    assert row.old_values == {"member_id": "OLD", "group_number": ""}
    assert row.new_values == {"member_id": "NEW", "group_number": "G1"}


def test_the_edit_form_shows_the_current_values(login, manager, patient, payer):
    coverage = factories.CoverageFactory(patient=patient, payer=payer, member_id="SHOWN")
    html = login(manager).get(reverse("coverage_edit", args=[coverage.pk])).content.decode()
    assert 'value="SHOWN"' in html
    assert 'value="2024-01-01"' in html
    assert f'<option value="{payer.pk}" selected>' in html


def test_reopening_an_ended_primary_beside_an_open_one_is_refused(login, manager, patient, payer):
    ended = factories.CoverageFactory(
        patient=patient, payer=payer, member_id="ENDED", effective_to=datetime.date(2024, 6, 30)
    )
    factories.CoverageFactory(patient=patient, effective_from=datetime.date(2024, 7, 1))
    response = login(manager).post(
        reverse("coverage_edit", args=[ended.pk]),
        _coverage_data(payer, member_id="ENDED", effective_from="2024-01-01", effective_to=""),
    )
    assert "already has an open primary coverage" in response.content.decode()
    ended.refresh_from_db()
    assert ended.effective_to == datetime.date(2024, 6, 30)
    assert not AuditLog.objects.exists()


# --- ending -----------------------------------------------------------------------------


def test_it_ends_a_coverage_and_audits_it(login, manager, patient):
    coverage = factories.CoverageFactory(patient=patient)
    response = login(manager).post(
        reverse("coverage_end", args=[coverage.pk]), {"end_date": "2025-06-30"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("patient_detail", args=[patient.pk])
    coverage.refresh_from_db()
    assert coverage.effective_to == datetime.date(2025, 6, 30)
    row = AuditLog.objects.get(action="coverage.end")
    assert row.old_values == {"effective_to": None}
    assert row.new_values == {"effective_to": "2025-06-30"}


def test_ending_without_a_date_ends_today(login, manager, patient):
    coverage = factories.CoverageFactory(patient=patient)
    login(manager).post(reverse("coverage_end", args=[coverage.pk]))
    coverage.refresh_from_db()
    assert coverage.effective_to == timezone.localdate()


def test_the_end_page_offers_today(login, manager, patient):
    coverage = factories.CoverageFactory(patient=patient)
    html = login(manager).get(reverse("coverage_end", args=[coverage.pk])).content.decode()
    assert f'value="{timezone.localdate():%Y-%m-%d}"' in html


def test_it_refuses_an_end_date_before_the_start(login, manager, patient):
    coverage = factories.CoverageFactory(patient=patient)  # effective 01/01/2024
    response = login(manager).post(
        reverse("coverage_end", args=[coverage.pk]), {"end_date": "2023-12-31"}
    )
    assert response.status_code == 200
    assert "The end date cannot be before the effective date (01/01/2024)." in (
        response.content.decode()
    )
    coverage.refresh_from_db()
    assert coverage.effective_to is None
    assert not AuditLog.objects.exists()


def test_it_refuses_to_end_an_ended_coverage(login, manager, patient):
    coverage = factories.CoverageFactory(patient=patient, effective_to=datetime.date(2024, 3, 31))
    response = login(manager).post(
        reverse("coverage_end", args=[coverage.pk]), {"end_date": "2025-06-30"}
    )
    assert "This coverage already ends on 03/31/2024." in response.content.decode()
    coverage.refresh_from_db()
    assert coverage.effective_to == datetime.date(2024, 3, 31)
    assert not AuditLog.objects.exists()


def test_an_ended_primary_makes_room_for_a_new_one(login, manager, patient, payer):
    old = factories.CoverageFactory(patient=patient)
    client = login(manager)
    client.post(reverse("coverage_end", args=[old.pk]), {"end_date": "2025-06-30"})
    response = client.post(
        reverse("coverage_add", args=[patient.pk]),
        _coverage_data(payer, member_id="NEXT", effective_from="2025-07-01"),
    )
    assert response.status_code == 302
    html = client.get(reverse("patient_detail", args=[patient.pk])).content.decode()
    assert "NEXT" in html
    assert "06/30/2025" in html
