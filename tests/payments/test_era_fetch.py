"""The beat task `payments.fetch_eras` against the sandbox clearinghouse: claims sent in a
real 837P are paid (or denied) by the sandbox's 835s, fetched through the ERA-enrolled
configuration's adapter, stored, ingested and posted."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.conf import settings
from django.db.models import Sum

from billing.models import Claim, LedgerEntry
from clearinghouse import router, vendor_services
from clearinghouse.claim_files import build_837p
from edi.x835 import read_835
from payments import tasks
from payments.models import ClaimPayment, Era, EraFile, InsurancePayment
from tests import factories

pytestmark = pytest.mark.django_db


def _claim(org, payer, number, charges):
    patient = factories.PatientFactory(
        organization=org, address_line1="9 Elm St", city="Harrisburg", state="PA", zip_code="17101"
    )
    coverage = factories.CoverageFactory(organization=org, patient=patient, payer=payer)
    encounter = factories.EncounterFactory(organization=org, patient=patient)
    lines = [
        factories.ChargeFactory(
            encounter=encounter, procedure_code=code, amount=Decimal(amount), status="billed"
        )
        for code, amount in charges
    ]
    claim = factories.ClaimFactory(
        encounter=encounter,
        coverage=coverage,
        payer=payer,
        claim_number=number,
        status=Claim.Status.SUBMITTED,
        total=sum(line.amount for line in lines),
    )
    claim.charges.set(lines)
    return claim


@pytest.fixture
def sandbox(sandbox_clearinghouse, org):
    """A sandbox configuration the practice is ERA-enrolled through, and two claims it has
    accepted (the sandbox pays them at once: its ERA delay is 0 in tests)."""
    org.address_line1, org.city, org.state, org.zip_code = "1 Main St", "Camp Hill", "PA", "17011"
    org.phone = "(717) 555-0100"
    org.save()
    config = factories.ClearinghouseConfigFactory(
        organization=org,
        vendor="sandbox",
        display_name="Sandbox Clearinghouse",
        base_url=sandbox_clearinghouse.vendor_url("sandbox"),
        account_id=f"acct-{org.pk}",
        submitter_id="DEMO1234",
    )
    payer = factories.PayerFactory(organization=org, name="Aetna", payer_id="60054")
    enrollment = factories.PayerEnrollmentFactory(
        organization=org,
        clearinghouse=config,
        payer=payer,
        enrollment_status="active",
        electronic_payer_id="60054",
        covers_835=True,
    )
    claims = [
        _claim(org, payer, "DFP-C000301", [("99213", "145.00"), ("36415", "15.00")]),
        _claim(org, payer, "DFP-C000302", [("99204", "210.00")]),
    ]
    built = build_837p(organization=org, clearinghouse=config, claims=claims)
    assert not built.skipped
    vendor_services.adapter_for(config).submit_claims(built.text, idempotency_key="file-1")
    return config, enrollment, claims


@pytest.fixture
def unrouted(monkeypatch):
    """ERA retrieval never goes through the failover router."""

    def refuse(*args, **kwargs):
        raise AssertionError("ERA retrieval was routed")

    monkeypatch.setattr(router, "resolve_vendor_route", refuse)
    monkeypatch.setattr(router, "resolve_vendor_route_with_audit", refuse)


def test_it_fetches_stores_and_posts_the_sandboxs_eras(
    org, sandbox, unrouted, sandbox_clearinghouse
):
    config, enrollment, claims = sandbox

    results = tasks.fetch_eras(organization_id=org.pk)

    assert results[org.slug] == {
        "fetched": 1,
        "stored": 1,
        "ingested": 1,
        "already_ingested": 0,
        "refused": 0,
        "failed": 0,
        "configs": 1,
        "vendors_failed": 0,
    }
    era_file = EraFile.objects.get()
    assert (era_file.source, era_file.status, era_file.clearinghouse_config_id) == (
        "clearinghouse",
        "ingested",
        config.pk,
    )
    assert era_file.vendor_report_id and era_file.file_name == era_file.vendor_report_id
    (remittance,) = read_835(era_file.content).transactions
    era = Era.objects.get()
    assert (era.payer.name, era.payment_amount, era.needs_review) == (
        "Aetna",
        remittance.payment_amount,
        False,
    )
    by_number = {c.patient_control_number: c for c in remittance.claims}
    assert set(by_number) == {"DFP-C000301", "DFP-C000302"}
    for claim in claims:
        claim.refresh_from_db()
        adjudication = by_number[claim.claim_number]
        row = ClaimPayment.objects.get(claim=claim)
        assert row.paid_amount == adjudication.paid
        if adjudication.status_code == "4":
            assert claim.status == "denied"
            assert not LedgerEntry.objects.filter(claim=claim).exists()
        else:
            assert claim.status == "paid"
            posted = LedgerEntry.objects.filter(claim=claim).aggregate(t=Sum("amount"))["t"]
            contractual = sum(
                a.amount for s in adjudication.services for a in s.adjustments if a.group == "CO"
            )
            assert posted == -(adjudication.paid + contractual)
    if remittance.payment_amount > 0:
        payment = InsurancePayment.objects.get()
        assert (payment.paid_amount, payment.ach_check_number, payment.npi) == (
            remittance.payment_amount,
            remittance.trace_number,
            org.billing_npi,
        )
    enrollment.refresh_from_db()
    assert enrollment.last_era_received_at == era_file.received_at

    # The sandbox handed its ERA over once: the next run finds nothing new.
    again = tasks.fetch_eras(organization_id=org.pk)
    assert (again[org.slug]["fetched"], again[org.slug]["ingested"]) == (0, 0)
    assert EraFile.objects.count() == 1


def test_a_clearinghouse_without_an_era_enrollment_is_not_asked(
    org, sandbox, sandbox_clearinghouse
):
    config, enrollment, _ = sandbox
    enrollment.covers_835 = False
    enrollment.save()
    # an ERA enrollment that is not active does not count either
    factories.PayerEnrollmentFactory(
        organization=org, clearinghouse=config, enrollment_status="pending", covers_835=True
    )

    results = tasks.fetch_eras(organization_id=org.pk)

    assert results[org.slug]["configs"] == 0
    assert not EraFile.objects.exists()


def test_a_clearinghouse_that_is_down_is_tried_again_next_time(org, sandbox, sandbox_clearinghouse):
    sandbox_clearinghouse.set_mode("sandbox", "down")

    down = tasks.fetch_eras(organization_id=org.pk)

    assert down[org.slug]["vendors_failed"] == 1
    assert not EraFile.objects.exists()

    sandbox_clearinghouse.set_mode("sandbox", "healthy")
    up = tasks.fetch_eras(organization_id=org.pk)
    assert (up[org.slug]["vendors_failed"], up[org.slug]["ingested"]) == (0, 1)


def test_a_fetched_file_whose_ingestion_failed_is_taken_up_by_the_next_run(
    org, sandbox, sandbox_clearinghouse, monkeypatch
):
    from payments import era_fetch

    real = era_fetch.era_file_process

    def broken(**kwargs):
        raise RuntimeError("worker crashed")

    monkeypatch.setattr(era_fetch, "era_file_process", broken)
    first = tasks.fetch_eras(organization_id=org.pk)
    assert (first[org.slug]["stored"], first[org.slug]["failed"]) == (1, 1)
    assert EraFile.objects.get().status == "pending"  # kept: the vendor will not send it again

    monkeypatch.setattr(era_fetch, "era_file_process", real)
    second = tasks.fetch_eras(organization_id=org.pk)
    assert (second[org.slug]["fetched"], second[org.slug]["ingested"]) == (0, 1)
    assert EraFile.objects.get().status == "ingested"


def test_the_beat_schedule_fetches_eras_every_five_minutes():
    entry = settings.CELERY_BEAT_SCHEDULE["fetch-eras"]
    assert entry == {"task": "payments.fetch_eras", "schedule": 300}
