"""Four workers ingesting at once (PostgreSQL: real row locks and unique-index waits)."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connections

from billing.models import ClaimStatusChange, LedgerEntry
from payments import ingestion
from payments.models import ClaimPayment, Era, EraFile, InsurancePayment
from tests import factories
from tests.payments import eras

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WORKERS = 4


def _at_once(jobs) -> list:
    """Run the callables in threads released together; their results, or the errors."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def run(index, job):
        try:
            barrier.wait()
            results[index] = job()
        except BaseException as error:  # surfaced by the assertions
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.fixture
def claim(org):
    payer = factories.PayerFactory(organization=org, name="Acme Health Plan")
    return eras.claim(org, payer, number="DFP-C000100")


def _posted_once(claim):
    assert InsurancePayment.objects.count() == 1
    assert Era.objects.count() == 1
    assert ClaimPayment.objects.count() == 1
    assert list(
        LedgerEntry.objects.filter(claim=claim, source_table="payments_claimpayment")
        .order_by("id")
        .values_list("amount", flat=True)
    ) == [Decimal("-124.00"), Decimal("-37.00")]
    assert ClaimStatusChange.objects.filter(claim=claim).count() == 1
    claim.refresh_from_db()
    assert claim.status == "paid"


def test_the_same_file_four_times_at_once_is_ingested_once(org, claim):
    text = eras.file_835(eras.remittance(org, [eras.paid_claim(claim)]))

    def job():
        return ingestion.era_file_ingest(
            organization=org, actor=None, content=text, source="command"
        ).status

    statuses = _at_once([job] * WORKERS)

    assert sorted(statuses) == ["already_ingested"] * 3 + ["ingested"]
    assert EraFile.objects.count() == 1
    _posted_once(claim)


def test_four_workers_processing_one_stored_file_ingest_it_once(org, claim):
    text = eras.file_835(eras.remittance(org, [eras.paid_claim(claim)]))
    stored, _ = ingestion.era_file_store(
        organization=org, actor=None, content=text, source="upload"
    )

    def job():
        return ingestion.era_file_process(
            organization=org, actor=None, era_file_id=stored.pk
        ).status

    statuses = _at_once([job] * WORKERS)

    assert sorted(statuses) == ["already_ingested"] * 3 + ["ingested"]
    _posted_once(claim)


def test_one_era_in_four_different_files_at_once_is_ingested_once(org, claim):
    era = eras.remittance(org, [eras.paid_claim(claim)], trace="EFT777")
    texts = [eras.file_835(era, control_number=n) for n in range(1, WORKERS + 1)]

    def job_for(text):
        def job():
            result = ingestion.era_file_ingest(
                organization=org, actor=None, content=text, source="command"
            )
            return (result.status, len(result.eras), len(result.skipped))

        return job

    outcomes = _at_once([job_for(text) for text in texts])

    assert sorted(outcomes) == [("ingested", 0, 1)] * 3 + [("ingested", 1, 0)]
    assert sorted(EraFile.objects.values_list("status", flat=True)) == ["duplicate"] * 3 + [
        "ingested"
    ]
    _posted_once(claim)
