"""The Batch Operation Wizard (seed 002): job type -> filter and select records -> confirm the
count -> start, landing on the history with the new job."""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone

from batches.models import BatchJob, JobType
from tests import factories
from tests.batches.test_views import charges

pytestmark = pytest.mark.django_db

URL = reverse("batch_wizard")


@pytest.fixture(autouse=True)
def _no_queue(monkeypatch):
    sent = []
    monkeypatch.setattr("batches.tasks.run_batch_job.delay_on_commit", sent.append)
    return sent


@pytest.fixture
def mixed(org):
    """Two draft charges, one approved, one billed; and another organization's draft."""
    drafts = charges(org, 2)
    approved = charges(org, 1, status="approved")
    billed = charges(org, 1, status="billed")
    return {"drafts": drafts, "approved": approved, "billed": billed}


def _select(client, job_type, **params):
    return client.get(URL, {"type": job_type, "step": "select", **params})


def _confirm_url(job_type, **params):
    return f"{URL}?{urlencode({'type': job_type, 'step': 'confirm', **params}, doseq=True)}"


def test_step_one_offers_the_four_job_types(manager, login):
    html = login(manager).get(URL).content.decode()
    for job_type in JobType:
        assert f'name="type" value="{job_type.value}"' in html
        assert job_type.label in html
    assert 'aria-current="step"' in html and "Job type" in html


@pytest.mark.parametrize("params", [{"step": "select"}, {"step": "select", "type": "payroll"}])
def test_an_unknown_job_type_is_asked_again(manager, login, params):
    html = login(manager).get(URL, params).content.decode()
    assert "Choose a job type" in html
    assert 'name="type" value="charge_approval"' in html


def test_charge_approval_starts_with_the_draft_charges(org, manager, login, mixed, other_org):
    theirs = charges(other_org, 1)
    html = _select(login(manager), "charge_approval").content.decode()
    for charge in mixed["drafts"]:
        assert f'name="charge_ids" value="{charge.pk}"' in html
    for charge in mixed["approved"] + mixed["billed"] + theirs:
        assert f'value="{charge.pk}" data-row' not in html
    assert '<option value="draft" selected>' in html
    assert "Select all 2 matching the filter" in html
    assert 'name="filter_query" value="status=draft"' in html


def test_claim_generation_starts_with_the_approved_charges(org, manager, login, mixed):
    html = _select(login(manager), "claim_generation").content.decode()
    assert f'name="charge_ids" value="{mixed["approved"][0].pk}"' in html
    assert html.count('name="charge_ids"') == 1


def test_an_emptied_filter_is_respected_rather_than_the_default(org, manager, login, mixed):
    html = _select(login(manager), "claim_generation", status="").content.decode()
    assert html.count('name="charge_ids"') == 4


def test_claim_submission_starts_with_the_ready_claims(org, manager, login):
    ready = factories.ClaimFactory(organization=org, status="ready")
    factories.ClaimFactory(organization=org, status="submitted")
    html = _select(login(manager), "claim_submission").content.decode()
    assert html.count('name="claim_ids"') == 1
    assert f'name="claim_ids" value="{ready.pk}"' in html


def test_eligibility_check_starts_with_upcoming_scheduled_appointments(org, manager, login):
    soon = factories.AppointmentFactory(organization=org, status="scheduled")
    factories.AppointmentFactory(organization=org, status="cancelled")
    factories.AppointmentFactory(
        organization=org,
        status="scheduled",
        scheduled_at=timezone.now() - datetime.timedelta(days=1),
    )
    html = _select(login(manager), "eligibility_check").content.decode()
    assert html.count('name="appointment_ids"') == 1
    assert f'name="appointment_ids" value="{soon.pk}"' in html


def test_filter_changes_answer_htmx_with_only_the_records(org, manager, login, mixed):
    response = login(manager).get(
        URL,
        {"type": "charge_approval", "step": "select", "status": "billed"},
        headers={"HX-Request": "true", "HX-Target": "wizard-records"},
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="wizard-records">')
    assert f'value="{mixed["billed"][0].pk}"' in html and html.count('name="charge_ids"') == 1


def test_confirm_counts_all_matching_and_shows_the_filter(org, manager, login, mixed):
    html = (
        login(manager)
        .get(_confirm_url("charge_approval", all_matching="1", filter_query="status=draft"))
        .content.decode()
    )
    assert "Start <strong>Charge Approval</strong> for <strong>2 charges</strong>?" in html
    assert "Status: Draft" in html
    assert 'name="token"' in html and 'data-testid="start"' in html
    assert not BatchJob.objects.exists()


def test_confirm_with_nothing_selected_says_so_and_offers_no_start(org, manager, login, mixed):
    html = login(manager).get(_confirm_url("charge_approval", filter_query="")).content.decode()
    assert "Select at least one charge" in html and 'data-testid="start"' not in html


def test_confirm_with_foreign_ids_says_so_and_offers_no_start(
    org, other_org, manager, login, mixed
):
    theirs = charges(other_org, 1)
    url = _confirm_url("charge_approval", charge_ids=[mixed["drafts"][0].pk, theirs[0].pk])
    html = login(manager).get(url).content.decode()
    assert "1 of the 2 selected charges do not exist in this organization" in html
    assert 'data-testid="start"' not in html


def test_start_creates_the_job_and_lands_on_its_history(org, manager, login, mixed, _no_queue):
    response = login(manager).post(
        URL,
        {
            "job_type": "charge_approval",
            "all_matching": "1",
            "filter_query": "status=draft",
            "token": "tok-1",
        },
    )
    job = BatchJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("batch_job_detail", args=[job.pk])
    assert job.job_type == "charge_approval" and job.created_by == manager
    assert set(job.items.values_list("record_id", flat=True)) == {c.pk for c in mixed["drafts"]}
    assert job.parameters["source"] == "Batch Operation Wizard"
    assert job.parameters["filters"] == {"Status": "Draft"}
    assert _no_queue == [job.pk]
    page = login(manager).get(response["Location"]).content.decode()
    assert f"{job} started for 2 charges" in page
    assert f'id="job-{job.pk}"' in page and ">Pending<" in page


def test_submitting_the_same_confirmation_twice_starts_one_job(org, manager, login, mixed):
    client = login(manager)
    data = {"job_type": "charge_approval", "charge_ids": [mixed["drafts"][0].pk], "token": "t-9"}
    first = client.post(URL, data)
    second = client.post(URL, data, follow=True)
    assert BatchJob.objects.count() == 1
    assert second.redirect_chain[0][0] == first["Location"]
    assert "was already started from this confirmation" in second.content.decode()


@pytest.mark.parametrize(
    "data,message",
    [
        ({"job_type": "payroll", "charge_ids": ["1"]}, "Choose a job type"),
        ({"job_type": "charge_approval"}, "Select at least one charge"),
        ({"job_type": "charge_approval", "charge_ids": ["abc"]}, "is not a list of charges"),
    ],
)
def test_bad_starts_say_why_and_create_nothing(org, manager, login, data, message):
    response = login(manager).post(URL, data, follow=True)
    assert message in response.content.decode()
    assert not BatchJob.objects.exists()


def test_starting_with_another_organizations_ids_creates_nothing(
    org, other_org, manager, login, mixed
):
    theirs = charges(other_org, 1)
    data = {"job_type": "charge_approval", "charge_ids": [mixed["drafts"][0].pk, theirs[0].pk]}
    response = login(manager).post(URL, data, follow=True)
    assert "do not exist in this organization" in response.content.decode()
    assert not BatchJob.objects.exists()


def test_all_matching_resolves_the_filter_in_this_organization_only(
    org, other_org, manager, login, mixed
):
    charges(other_org, 3)
    login(manager).post(
        URL, {"job_type": "charge_approval", "all_matching": "1", "filter_query": ""}
    )
    job = BatchJob.objects.get()
    assert job.total_count == 4 and job.parameters["filters"] == {}


def test_the_selection_step_takes_the_same_number_of_queries_for_3_or_40_records(
    org, manager, login, django_assert_max_num_queries
):
    client = login(manager)
    for _ in range(3):
        charges(org, 1)
    with django_assert_max_num_queries(20) as few:
        _select(client, "charge_approval")
    for _ in range(37):
        charges(org, 1)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = _select(client, "charge_approval").content.decode()
    assert html.count('name="charge_ids"') == 40
