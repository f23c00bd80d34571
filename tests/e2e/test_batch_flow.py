"""A biller starts a Claim Generation batch from the Batch Operation Wizard and watches it
run to the end on the Batch History page (htmx polling), the job really running in a
thread of this process as a worker would run it."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.db import connections, transaction

from batches import engine
from batches.models import BatchJob, JobType
from billing.middleware import OrganizationMiddleware
from billing.models import Charge, Claim
from tests import factories
from tests.browser import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(monkeypatch):
    """Jobs run in a thread once the request that started them commits, one encounter per
    chunk and a pause between chunks, so the page can be seen In Progress.

    The test database is SQLite's shared-cache in-memory database, whose table locks do not
    wait (a worker and a page polling it would see "database table is locked"); here the
    worker's transactions and the live server's requests take turns. On a real database
    (a WAL file with a busy timeout, or PostgreSQL) they simply run side by side."""
    threads: list[threading.Thread] = []
    chunk = engine._transactional_chunk
    turns = threading.RLock()
    serve = OrganizationMiddleware.__call__
    tenant_context = engine.tenant_context

    def serve_in_turn(self, request):
        with turns:
            return serve(self, request)

    @contextmanager
    def tenant_context_in_turn(*args, **kwargs):
        with turns, tenant_context(*args, **kwargs):
            yield

    def slow_chunk(*args, **kwargs):
        time.sleep(1.2)  # outside the chunk's transaction: the pages keep answering
        return chunk(*args, **kwargs)

    def run(job_id: int) -> None:
        try:
            engine.job_run(job_id, chunk_groups=1)
        finally:
            connections.close_all()

    def enqueue(job_id: int) -> None:
        def start() -> None:
            thread = threading.Thread(target=run, args=(job_id,), daemon=True)
            threads.append(thread)
            thread.start()

        transaction.on_commit(start)

    monkeypatch.setattr(engine, "_transactional_chunk", slow_chunk)
    monkeypatch.setattr(engine, "tenant_context", tenant_context_in_turn)
    monkeypatch.setattr(OrganizationMiddleware, "__call__", serve_in_turn)
    monkeypatch.setattr("batches.tasks.run_batch_job.delay_on_commit", enqueue)
    yield threads
    for thread in threads:
        thread.join(timeout=30)


def _approved_encounter(org, n):
    patient = factories.PatientFactory(organization=org)
    factories.CoverageFactory(organization=org, patient=patient)
    encounter = factories.EncounterFactory(organization=org, patient=patient)
    return [
        factories.ChargeFactory(encounter=encounter, status="approved", amount=Decimal("120.00"))
        for _ in range(n)
    ]


def test_a_biller_starts_claim_generation_from_the_wizard_and_watches_it_complete(
    page, admin_user, org, worker
):
    approved = (
        _approved_encounter(org, 2) + _approved_encounter(org, 1) + _approved_encounter(org, 2)
    )
    draft = factories.ChargeFactory(encounter=approved[0].encounter, status="draft")

    page.goto("/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "demo")
    page.click("button[type=submit]")
    page.wait_for_selector("h1:has-text('Dashboard')")

    page.click("nav >> text=Batch History")
    page.wait_for_selector("text=No batch jobs yet")
    page.click("text=Run batch operation")
    page.check("input[name=type][value=claim_generation]")
    screenshot(page, "batch-wizard-1-type")
    page.click("button:has-text('Continue')")

    page.wait_for_selector("#wizard-records")
    rows = page.locator("#wizard-records input[name=charge_ids]")
    assert rows.count() == 5
    assert page.locator(f"#wizard-records input[value='{draft.pk}']").count() == 0
    page.click("[data-testid=select-all-matching]")
    assert page.is_visible("[data-testid=all-matching-note]")
    screenshot(page, "batch-wizard-2-select")
    page.click("[data-testid=continue]")

    page.wait_for_selector("[data-testid=confirm-count]")
    assert "for 5 charges" in page.inner_text("[data-testid=confirm-count]")
    screenshot(page, "batch-wizard-3-confirm")
    page.click("[data-testid=start]")

    page.wait_for_selector("h1:has-text('Batch History')")
    job = BatchJob.objects.get()
    assert job.job_type == JobType.CLAIM_GENERATION and job.total_count == 5
    badge = f"#job-{job.pk} [data-testid=status-{job.pk}]"
    page.wait_for_selector(f"{badge}:has-text('In Progress')", timeout=20_000)
    screenshot(page, "batch-history-in-progress")
    page.wait_for_selector(f"{badge}:has-text('Completed')", timeout=30_000)
    page.wait_for_selector(f"#batch-sheet [data-testid=status-{job.pk}]:has-text('Completed')")
    page.wait_for_function(
        "() => document.querySelector('#batch-sheet [data-testid=sheet-counts]')"
        ".innerText.includes('5 of 5 processed')",
        timeout=10_000,
    )
    sheet = page.inner_text("#batch-sheet")
    assert "5 succeeded" in sheet and "0 failed" in sheet
    screenshot(page, "batch-history-completed")

    job.refresh_from_db()
    assert job.status == BatchJob.Status.COMPLETED and job.finished_at
    assert Claim.objects.filter(organization=org).count() == 3
    assert Charge.objects.filter(pk__in=[c.pk for c in approved], status="billed").count() == 5
    # Nothing polls any more once the job has ended.
    assert page.locator("[hx-trigger]").count() == 0


def test_a_biller_approves_all_draft_charges_matching_the_filter_from_the_charge_list(
    page, admin_user, org, worker
):
    drafts = [
        factories.ChargeFactory(encounter=c.encounter, status="draft")
        for c in _approved_encounter(org, 1)
    ]
    drafts += _approved_encounter(org, 1)  # an approved one: not in the filter
    uncovered = factories.ChargeFactory(
        status="draft", encounter=factories.EncounterFactory(organization=org)
    )

    page.goto("/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "demo")
    page.click("button[type=submit]")
    page.wait_for_selector("h1:has-text('Dashboard')")
    page.goto("/pm/charges?status=draft")

    approve = page.locator("[data-testid=batch-approve]")
    assert approve.is_disabled()
    page.check(f"input[name=charge_ids][value='{uncovered.pk}']")
    assert page.inner_text("[data-selected-count]") == "1" and approve.is_enabled()
    page.click("[data-testid=select-all-matching]")
    assert "All 2 charges matching the filter selected" in page.inner_text("#charge-rows")
    screenshot(page, "charge-list-batch-actions")
    dialogs: list[str] = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    approve.click()

    page.wait_for_selector("h1:has-text('Batch History')")
    assert dialogs and "Approve charges for all 2 charges" in dialogs[0]
    job = BatchJob.objects.get()
    assert job.job_type == JobType.CHARGE_APPROVAL
    assert set(job.items.values_list("record_id", flat=True)) == {drafts[0].pk, uncovered.pk}
    page.wait_for_selector(f"[data-testid=status-{job.pk}]:has-text('Partial')", timeout=30_000)
    page.wait_for_selector("#batch-sheet:has-text('no primary coverage')")
    screenshot(page, "batch-history-partial-sheet")
    assert Charge.objects.get(pk=drafts[0].pk).status == "approved"
