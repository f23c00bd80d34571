"""Batch History (seed 002): the list, the detail sheet, Cancel and Retry failed items."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from batches import engine, runners  # noqa: F401  (registers the runners)
from batches.models import BatchItem, BatchJob, JobType
from batches.services import batch_start
from billing.models import AuditLog, Charge, Membership, Role
from billing.permissions import BATCH_CLAIM_GENERATE, CODES
from tests import factories

pytestmark = pytest.mark.django_db

URL = reverse("batch_history")
Status = BatchJob.Status
SHEET = {"HX-Request": "true", "HX-Target": "batch-sheet"}


@pytest.fixture(autouse=True)
def _no_queue(monkeypatch):
    """Record what would be enqueued instead of talking to a broker."""
    sent = []
    monkeypatch.setattr("batches.tasks.run_batch_job.delay_on_commit", sent.append)
    monkeypatch.setattr("batches.tasks.run_batch_job.delay", sent.append)
    return sent


def no_batch_member(org):
    """Every code but pm.batch.claim_generate."""
    role = Role.objects.create(
        organization=org, name="No batches", codes=sorted(set(CODES) - {BATCH_CLAIM_GENERATE})
    )
    user = factories.UserFactory(username="nobatch")
    Membership.objects.create(user=user, organization=org, role=role)
    return user


def charges(org, n=1, *, covered=True, **fields):
    patient = factories.PatientFactory(organization=org)
    if covered:
        factories.CoverageFactory(organization=org, patient=patient)
    encounter = factories.EncounterFactory(organization=org, patient=patient)
    return [
        factories.ChargeFactory(encounter=encounter, amount=Decimal("100.00"), **fields)
        for _ in range(n)
    ]


def job_row(org, user, job_type=JobType.CHARGE_APPROVAL, status=Status.COMPLETED, **fields):
    """A job row as the engine leaves it (no items): for list tests."""
    now = timezone.now()
    values = {
        "total_count": 10,
        "processed_count": 10,
        "error_count": 0,
        "started_at": now,
        "finished_at": None if status in (Status.PENDING, Status.IN_PROGRESS) else now,
    }
    if status == Status.PENDING:
        values.update(processed_count=0, started_at=None)
    values.update(fields)
    return BatchJob.objects.create(
        organization=org, created_by=user, job_type=job_type, status=status, **values
    )


def run(org, user, job_type, records):
    job = batch_start(
        organization=org, actor=user, job_type=job_type, record_ids=[r.pk for r in records]
    )
    return engine.job_run(job.pk)


def partial_job(org, user):
    """A finished Charge Approval: two approved, one without coverage failed."""
    return run(org, user, JobType.CHARGE_APPROVAL, charges(org, 2) + charges(org, covered=False))


# --- guards ------------------------------------------------------------------------------


def test_it_sends_anonymous_visitors_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.parametrize(
    "name,method",
    [
        ("batch_history", "get"),
        ("batch_wizard", "get"),
        ("batch_job_detail", "get"),
        ("batch_job_cancel", "post"),
        ("batch_job_retry", "post"),
        ("batch_list_start", "post"),
    ],
)
def test_it_refuses_members_without_the_batch_code(org, admin_user, clerk, login, name, method):
    job = job_row(org, admin_user, status=Status.PARTIAL, error_count=2)
    args = [job.pk] if name.startswith("batch_job_") else []
    for user in (clerk, no_batch_member(org)):
        client = login(user)
        response = getattr(client, method)(reverse(name, args=args))
        assert response.status_code == 403
    assert BatchJob.objects.count() == 1


def test_the_menu_offers_batch_history_only_with_the_code(org, manager, clerk, login):
    assert f'href="{URL}"' in login(manager).get(reverse("dashboard")).content.decode()
    assert f'href="{URL}"' not in login(clerk).get(reverse("dashboard")).content.decode()


@pytest.mark.parametrize(
    "name,method",
    [("batch_job_detail", "get"), ("batch_job_cancel", "post"), ("batch_job_retry", "post")],
)
def test_another_organizations_job_is_not_found(org, admin_user, other, login, name, method):
    job = job_row(org, admin_user, status=Status.IN_PROGRESS, processed_count=3)
    response = getattr(login(other), method)(reverse(name, args=[job.pk]))
    assert response.status_code == 404
    job.refresh_from_db()
    assert job.cancel_requested_at is None and BatchJob.objects.count() == 1


# --- the list ----------------------------------------------------------------------------


def test_it_shows_the_empty_state(manager, login):
    html = login(manager).get(URL).content.decode()
    assert "No batch jobs yet" in html
    assert (
        "Batch history appears after running batch actions from the" in html
        and "charges</a>, <a" in html
        and "appointments</a> views." in html
    )
    assert "Run batch operation" in html


def test_it_lists_jobs_newest_first_with_status_counts_and_who(org, manager, other_org, login):
    manager.first_name, manager.last_name = "Mara", "Quist"
    manager.save()
    old = job_row(
        org,
        manager,
        JobType.CLAIM_GENERATION,
        Status.PARTIAL,
        error_count=3,
        created_at=timezone.now() - datetime.timedelta(hours=2),
    )
    failed = job_row(
        org,
        manager,
        JobType.CLAIM_SUBMISSION,
        Status.FAILED,
        error_count=10,
        created_at=timezone.now() - datetime.timedelta(hours=1),
    )
    running = job_row(
        org, manager, JobType.ELIGIBILITY_CHECK, Status.IN_PROGRESS, processed_count=4
    )
    job_row(
        other_org,
        None,
        JobType.CHARGE_APPROVAL,
        Status.COMPLETED,
        total_count=777,
        processed_count=777,
    )

    html = login(manager).get(URL).content.decode()

    body = html.split("<tbody>")[1].split("</tbody>")[0]
    assert body.index(f'id="job-{running.pk}"') < body.index(f'id="job-{failed.pk}"')
    assert body.index(f'id="job-{failed.pk}"') < body.index(f'id="job-{old.pk}"')
    assert "777" not in body
    for label in ("Claim Generation", "Claim Submission", "Eligibility Check"):
        assert label in body
    assert f'class="badge bh-st-partial" data-testid="status-{old.pk}">Partial<' in body
    assert ">Failed<" in body and ">In Progress<" in body
    assert '<td class="num bh-errors">3</td>' in body  # the destructive colour when non-zero
    assert '<td class="num">0</td>' in body  # and plain when zero
    assert "Mara Quist" in body
    local = timezone.localtime(old.started_at)
    assert local.strftime("%m/%d/%Y") in body


def test_running_rows_poll_every_two_seconds_and_finished_ones_do_not(org, manager, login):
    running = job_row(org, manager, status=Status.IN_PROGRESS, processed_count=2)
    done = job_row(org, manager, status=Status.COMPLETED)
    html = login(manager).get(URL).content.decode()
    row = html.split(f'id="job-{running.pk}"')[1].split(">")[0]
    assert 'hx-trigger="every 2s"' in row
    assert f'hx-get="{reverse("batch_job_detail", args=[running.pk])}"' in row
    finished = html.split(f'id="job-{done.pk}"')[1].split(">")[0]
    assert "hx-trigger" not in finished


def test_a_polled_row_comes_back_alone_and_stops_polling_when_the_job_ends(org, manager, login):
    job = job_row(org, manager, status=Status.IN_PROGRESS, processed_count=2)
    client = login(manager)
    headers = {"HX-Request": "true", "HX-Target": f"job-{job.pk}"}
    url = reverse("batch_job_detail", args=[job.pk])

    html = client.get(url, headers=headers).content.decode()
    assert html.lstrip().startswith(f'<tr id="job-{job.pk}"') and "every 2s" in html

    BatchJob.objects.filter(pk=job.pk).update(
        status=Status.COMPLETED, processed_count=10, finished_at=timezone.now()
    )
    html = client.get(url, headers=headers).content.decode()
    assert ">Completed<" in html and "hx-trigger" not in html


def test_it_paginates_fifty_jobs_a_page(org, manager, login):
    for _ in range(55):
        job_row(org, manager)
    client = login(manager)
    assert client.get(URL).content.decode().count('class="bh-row') == 50
    second = client.get(URL, {"page": 2}).content.decode()
    assert second.count('class="bh-row') == 5 and "page 2 of 2" in second


def test_the_list_takes_the_same_number_of_queries_for_3_or_40_jobs(
    org, manager, login, django_assert_max_num_queries
):
    client = login(manager)
    for _ in range(3):
        job_row(org, manager)
    with django_assert_max_num_queries(12) as few:
        client.get(URL)
    for _ in range(37):
        job_row(org, factories.UserFactory())
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(URL)


# --- the detail sheet -------------------------------------------------------------------


def test_the_sheet_shows_parameters_who_timings_progress_and_failures(org, manager, login):
    job = partial_job(org, manager)
    bad = BatchItem.objects.get(job=job, status="failed")
    failed_charge = Charge.objects.get(pk=bad.record_id)
    response = login(manager).get(reverse("batch_job_detail", args=[job.pk]), headers=SHEET)

    html = response.content.decode()
    assert html.lstrip().startswith('<aside id="batch-sheet"')
    assert "<html" not in html and "HX-Request" in response["Vary"]
    assert f'Charge Approval <span class="muted">#{job.pk}' in html
    assert ">Partial<" in html
    assert "<strong>3</strong> of 3 processed (100%)" in html
    assert "2 succeeded" in html and "1 failed" in html
    assert 'aria-valuenow="3"' in html
    for label in ("Started by", "Created", "Started", "Finished", "Duration"):
        assert f"<dt>{label}</dt>" in html
    assert (manager.get_full_name() or manager.username) in html
    assert reverse("encounter_detail", args=[failed_charge.encounter_id]) in html
    assert "no primary coverage" in bad.error_message and bad.error_message in html
    assert 'Failed records <span class="muted">(1)' in html
    assert "Retry failed items" in html and 'data-testid="cancel"' not in html
    assert "hx-trigger" not in html  # finished: no polling


def test_the_sheet_of_a_running_job_polls_and_offers_cancel(org, manager, login):
    job = batch_start(
        organization=org,
        actor=manager,
        job_type=JobType.CHARGE_APPROVAL,
        record_ids=[c.pk for c in charges(org, 2)],
        parameters={
            "source": "Charges list",
            "selection": "All matching the filter",
            "filters": {"Status": "Draft"},
            "token": "secret-token",
        },
    )
    html = (
        login(manager)
        .get(reverse("batch_job_detail", args=[job.pk]), headers=SHEET)
        .content.decode()
    )
    assert 'hx-trigger="every 2s"' in html
    assert 'data-testid="cancel"' in html and "Retry failed items" not in html
    assert "waiting for a worker" in html
    assert "<dt>Started from</dt><dd>Charges list</dd>" in html
    assert "<dt>Filter</dt><dd>Status: Draft</dd>" in html
    assert "secret-token" not in html


def test_the_full_page_opens_with_the_sheet_and_the_list(org, manager, login):
    job = partial_job(org, manager)
    html = login(manager).get(reverse("batch_job_detail", args=[job.pk])).content.decode()
    assert "<h1>Batch History</h1>" in html
    assert f'<aside id="batch-sheet" class="bh-sheet" data-job="{job.pk}"' in html
    assert 'class="bh-row bh-open"' in html


def test_closing_the_sheet_answers_an_empty_sheet(manager, login):
    html = login(manager).get(URL, headers=SHEET).content.decode()
    assert html.strip() == '<aside id="batch-sheet" class="bh-sheet" hidden></aside>'


def test_failed_records_link_to_claims_and_appointment_patients(org, manager, login):
    claim = factories.ClaimFactory(organization=org, claim_number="CLM0000042")
    job = job_row(
        org,
        manager,
        JobType.CLAIM_SUBMISSION,
        Status.FAILED,
        total_count=1,
        processed_count=1,
        error_count=1,
    )
    BatchItem.objects.create(
        organization=org,
        job=job,
        record_id=claim.pk,
        group_key=claim.pk,
        status="failed",
        error_message="No active 837P enrollment.",
    )
    appointment = factories.AppointmentFactory(organization=org)
    visit = job_row(
        org,
        manager,
        JobType.ELIGIBILITY_CHECK,
        Status.FAILED,
        total_count=1,
        processed_count=1,
        error_count=1,
    )
    BatchItem.objects.create(
        organization=org,
        job=visit,
        record_id=appointment.pk,
        group_key=appointment.pk,
        status="skipped",
        error_message="cancelled",
    )
    client = login(manager)

    html = client.get(reverse("batch_job_detail", args=[job.pk]), headers=SHEET).content.decode()
    assert f'href="{reverse("claim_detail", args=[claim.pk])}">CLM0000042</a>' in html
    assert "No active 837P enrollment." in html

    html = client.get(reverse("batch_job_detail", args=[visit.pk]), headers=SHEET).content.decode()
    assert reverse("patient_detail", args=[appointment.patient_id]) in html
    assert reverse("appointment_edit", args=[appointment.pk]) in html
    assert ">Skipped</span> cancelled" in html


def test_thousands_of_failures_are_paged_in_the_sheet_with_a_constant_query_count(
    org, manager, login, django_assert_max_num_queries
):
    few = charges(org, 3, covered=False)
    job = run(org, manager, JobType.CHARGE_APPROVAL, few)
    client = login(manager)
    url = reverse("batch_job_detail", args=[job.pk])
    with django_assert_max_num_queries(20) as small:
        client.get(url)
    many = run(org, manager, JobType.CHARGE_APPROVAL, charges(org, 60, covered=False))
    with django_assert_max_num_queries(len(small.captured_queries)):
        html = client.get(reverse("batch_job_detail", args=[many.pk])).content.decode()
    assert 'Failed records <span class="muted">(60)' in html
    assert html.count('data-testid="failed-') == 25 and "page 1 of 3" in html
    page3 = client.get(reverse("batch_job_detail", args=[many.pk]), {"items": 3}, headers=SHEET)
    assert page3.content.decode().count('data-testid="failed-') == 10


# --- cancel and retry ---------------------------------------------------------------------


def test_cancel_stops_a_running_job_and_is_audited(org, manager, login):
    job = batch_start(
        organization=org,
        actor=manager,
        job_type=JobType.CHARGE_APPROVAL,
        record_ids=[c.pk for c in charges(org, 2)],
    )
    BatchJob.objects.filter(pk=job.pk).update(status=Status.IN_PROGRESS, started_at=timezone.now())

    response = login(manager).post(reverse("batch_job_cancel", args=[job.pk]), follow=True)

    job.refresh_from_db()
    assert job.cancel_requested_at and job.cancel_requested_by == manager
    assert AuditLog.objects.filter(action="batch.cancel", record_id=str(job.pk)).count() == 1
    html = response.content.decode()
    assert f"Cancelling {job}" in html and "cancelling…" in html


def test_cancel_of_a_pending_job_ends_it_at_once(org, manager, login):
    job = batch_start(
        organization=org,
        actor=manager,
        job_type=JobType.CHARGE_APPROVAL,
        record_ids=[c.pk for c in charges(org, 2)],
    )
    response = login(manager).post(reverse("batch_job_cancel", args=[job.pk]), follow=True)
    job.refresh_from_db()
    assert job.status == Status.FAILED and job.error_count == 2
    assert "cancelled before it started; it ended Failed." in response.content.decode()


def test_cancel_of_a_finished_job_says_so_and_changes_nothing(org, manager, login):
    job = partial_job(org, manager)
    response = login(manager).post(reverse("batch_job_cancel", args=[job.pk]), follow=True)
    assert "already ended (Partial)" in response.content.decode()
    job.refresh_from_db()
    assert job.cancel_requested_at is None
    assert not AuditLog.objects.filter(action="batch.cancel").exists()


def test_retry_starts_a_job_for_the_failed_records_only(org, manager, login, _no_queue):
    job = partial_job(org, manager)
    failed = set(
        BatchItem.objects.filter(job=job, status="failed").values_list("record_id", flat=True)
    )

    response = login(manager).post(reverse("batch_job_retry", args=[job.pk]))

    retry = BatchJob.objects.exclude(pk=job.pk).get()
    assert response.status_code == 302
    assert response["Location"] == reverse("batch_job_detail", args=[retry.pk])
    assert retry.retry_of == job and retry.job_type == job.job_type and retry.created_by == manager
    assert set(retry.items.values_list("record_id", flat=True)) == failed
    assert _no_queue[-1] == retry.pk
    assert AuditLog.objects.filter(action="batch.create", record_id=str(retry.pk)).exists()
    html = login(manager).get(response["Location"]).content.decode()
    assert "Retry of</dt><dd><a" in html


def test_retry_of_a_job_without_failures_says_so_and_starts_nothing(org, manager, login):
    job = run(org, manager, JobType.CHARGE_APPROVAL, charges(org, 2))
    assert job.status == Status.COMPLETED
    response = login(manager).post(reverse("batch_job_retry", args=[job.pk]), follow=True)
    assert "has no failed records to retry" in response.content.decode()
    assert BatchJob.objects.count() == 1


def test_retry_and_cancel_only_answer_posts(org, manager, login):
    job = partial_job(org, manager)
    client = login(manager)
    assert client.get(reverse("batch_job_retry", args=[job.pk])).status_code == 405
    assert client.get(reverse("batch_job_cancel", args=[job.pk])).status_code == 405


def test_the_sheet_sums_up_the_most_frequent_reasons(org, manager, login):
    job = run(
        org,
        manager,
        JobType.CHARGE_APPROVAL,
        charges(org, 2, covered=False) + charges(org, 1, status="approved"),
    )
    html = login(manager).get(reverse("batch_job_detail", args=[job.pk]), headers=SHEET)
    reasons = html.content.decode().split('<ul class="bh-reasons"')[1].split("</ul>")[0]
    assert reasons.index('<span class="num">2</span>') < reasons.index('<span class="num">1</span>')
    assert "no primary coverage" in reasons and "only drafts are approved" in reasons
