"""Batch actions on the Charges, Claims and Appointments lists: tick rows or "select all
matching the filter", press an action, and the job starts on the history page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from batches.models import BatchJob
from tests import factories
from tests.batches.test_views import charges, no_batch_member

pytestmark = pytest.mark.django_db

START = reverse("batch_list_start")


@pytest.fixture(autouse=True)
def _no_queue(monkeypatch):
    sent = []
    monkeypatch.setattr("batches.tasks.run_batch_job.delay_on_commit", sent.append)
    return sent


@pytest.mark.parametrize(
    "list_name,buttons",
    [
        ("charge_list", ['value="charge_approval"', 'value="claim_generation"']),
        ("claim_list", ['value="claim_submission"']),
        ("appointment_list", ['value="eligibility_check"']),
    ],
)
def test_lists_offer_batch_actions_only_with_the_code(org, manager, login, list_name, buttons):
    charges(org, 1)
    factories.ClaimFactory(organization=org)
    factories.AppointmentFactory(organization=org)

    html = login(manager).get(reverse(list_name)).content.decode()
    assert f'action="{START}"' in html and "data-selection" in html
    assert "Select all 1 matching the filter" in html
    for button in buttons:
        assert f'name="job_type" {button}' in html

    html = login(no_batch_member(org)).get(reverse(list_name)).content.decode()
    assert START not in html and 'name="job_type"' not in html


def test_the_charge_list_carries_its_filter_for_all_matching(org, manager, login):
    charges(org, 1)
    html = login(manager).get(reverse("charge_list"), {"status": "draft", "page": "1"}).content
    assert b'name="filter_query" value="status=draft"' in html


def test_approve_selected_charges_starts_a_job_and_lands_on_the_history(
    org, manager, login, _no_queue
):
    picked = charges(org, 2)
    charges(org, 1)
    response = login(manager).post(
        START,
        {"job_type": "charge_approval", "charge_ids": [c.pk for c in picked], "all_matching": "0"},
        follow=True,
    )
    job = BatchJob.objects.get()
    assert response.redirect_chain == [(reverse("batch_job_detail", args=[job.pk]), 302)]
    assert set(job.items.values_list("record_id", flat=True)) == {c.pk for c in picked}
    assert job.parameters == {"source": "Charges list", "selection": "Selected rows"}
    assert _no_queue == [job.pk]
    assert f"{job} started for 2 charges" in response.content.decode()


def test_generate_claims_for_all_matching_resolves_the_filter_server_side(
    org, other_org, manager, login
):
    approved = charges(org, 2, status="approved") + charges(org, 1, status="approved")
    charges(org, 2)  # drafts: not matched
    charges(other_org, 2, status="approved")
    login(manager).post(
        START,
        {
            "job_type": "claim_generation",
            "all_matching": "1",
            "filter_query": "status=approved&page=3",
            "charge_ids": [approved[0].pk],  # ticked rows give way to "all matching"
        },
    )
    job = BatchJob.objects.get()
    assert job.job_type == "claim_generation"
    assert set(job.items.values_list("record_id", flat=True)) == {c.pk for c in approved}
    assert job.parameters["filters"] == {"Status": "Approved"}


def test_submit_claims_from_the_claim_list(org, manager, login):
    claim = factories.ClaimFactory(organization=org, status="ready")
    login(manager).post(START, {"job_type": "claim_submission", "claim_ids": [claim.pk]})
    job = BatchJob.objects.get()
    assert job.job_type == "claim_submission" and job.parameters["source"] == "Claims list"
    assert list(job.items.values_list("record_id", flat=True)) == [claim.pk]


def test_check_eligibility_for_all_matching_appointments(org, manager, login):
    upcoming = [factories.AppointmentFactory(organization=org) for _ in range(3)]
    factories.AppointmentFactory(organization=org, status="cancelled")
    login(manager).post(
        START,
        {"job_type": "eligibility_check", "all_matching": "1", "filter_query": "status=scheduled"},
    )
    job = BatchJob.objects.get()
    assert set(job.items.values_list("record_id", flat=True)) == {a.pk for a in upcoming}


@pytest.mark.parametrize(
    "data,message",
    [
        ({"job_type": "charge_approval"}, "Select at least one charge"),
        ({"job_type": "bulk_delete", "charge_ids": ["1"]}, "Choose a job type"),
        ({"job_type": "charge_approval", "charge_ids": ["1;drop"]}, "is not a list of charges"),
        (
            {"job_type": "charge_approval", "all_matching": "1", "filter_query": "status=void"},
            "No charges match the filter",
        ),
    ],
)
def test_bad_actions_say_why_and_start_nothing(org, manager, login, data, message):
    charges(org, 1)
    response = login(manager).post(
        START, data, follow=True, headers={"referer": "http://testserver/pm/charges?status=draft"}
    )
    assert message in response.content.decode()
    assert response.redirect_chain[-1][0].startswith(reverse("charge_list"))
    assert not BatchJob.objects.exists()


def test_an_error_goes_back_to_the_list_with_its_filter(org, manager, login):
    response = login(manager).post(
        START, {"job_type": "claim_submission", "filter_query": "status=ready&page=2"}
    )
    assert response["Location"] == reverse("claim_list") + "?status=ready"


def test_another_organizations_ids_start_nothing(org, other_org, manager, login):
    mine, theirs = charges(org, 1), charges(other_org, 1)
    response = login(manager).post(
        START,
        {"job_type": "charge_approval", "charge_ids": [mine[0].pk, theirs[0].pk]},
        follow=True,
    )
    assert (
        "1 of the selected charges do not exist in this organization" in response.content.decode()
    )
    assert not BatchJob.objects.exists()


def test_only_posts_are_answered(manager, login):
    assert login(manager).get(START).status_code == 405
