"""The demo's payments (payments.demo, called by seed_demo): ERAs for the claims left
submitted or accepted, ingested through the service, and manual checks over a year."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from billing.models import Claim, LedgerEntry
from billing.tenancy import tenant_context
from payments import demo
from payments.models import ClaimPayment, Era, EraFile, InsurancePayment
from tests import factories
from tests.payments import eras

pytestmark = pytest.mark.django_db


@pytest.fixture
def practice(org, admin_user):
    factories.ClearinghouseConfigFactory(organization=org, vendor="sandbox")
    payers = [
        factories.PayerFactory(organization=org, name=name, payer_id=payer_id)
        for name, payer_id in (("Aetna", "60054"), ("Cigna", "62308"))
    ]
    now = timezone.now()
    claims = []
    for n in range(24):
        made = eras.claim(
            org,
            payers[n % 2],
            number=f"DFP-C{n:06d}",
            lines=(("99213", "145.00"), ("36415", "15.00")) if n % 3 else (("99214", "210.00"),),
        )
        made.accepted_at = now - datetime.timedelta(days=20 + 12 * n)
        made.save()
        claims.append(made)
    return claims


def test_it_pays_the_open_claims_through_eras_and_adds_manual_checks(org, admin_user, practice):
    with tenant_context(org):
        note = demo.seed_organization(org, admin_user)

    assert "ERA files" in note
    files = EraFile.objects.filter(organization=org)
    assert files.filter(status="ingested").count() >= 5
    assert files.filter(status="refused").count() == 1
    assert files.filter(status="duplicate").count() == 1
    assert Era.objects.filter(needs_review=True).count() == 1
    assert ClaimPayment.objects.filter(claim__isnull=True).count() == 1  # the stranger
    assert ClaimPayment.objects.filter(status_code="22").count() == 1
    automatic = InsurancePayment.objects.filter(source="automatic")
    assert automatic.count() == Era.objects.filter(payment_amount__gt=0).count()
    manual = InsurancePayment.objects.filter(source="manual")
    assert manual.count() > 20
    oldest = manual.order_by("paid_date").first().paid_date
    assert (timezone.localdate() - oldest).days >= 330  # a year of checks
    # every posted claim's encounter balance is its ledger, and what ERAs posted adds up
    for claim in Claim.objects.filter(pk__in=[c.pk for c in practice]):
        posted = ClaimPayment.objects.filter(claim=claim).exists()
        if claim.status in ("paid", "partially_paid", "denied", "reversed"):
            assert posted, claim.claim_number
        era_total = LedgerEntry.objects.filter(
            claim=claim, source_table="payments_claimpayment"
        ).aggregate(t=Sum("amount"))["t"] or Decimal(0)
        assert claim.encounter.balance == claim.total + era_total
    # the ERA postings are dated when their files arrived, not when the demo ran
    assert not files.filter(received_at__gt=timezone.now() - datetime.timedelta(hours=1)).exists()


def test_it_is_deterministic_and_runs_once(org, admin_user, practice):
    with tenant_context(org):
        demo.seed_organization(org, admin_user)
        first = sorted(
            InsurancePayment.objects.values_list("paid_date", "paid_amount", "payer_name")
        )
        assert demo.seed_organization(org, admin_user) == ""
    assert (
        sorted(InsurancePayment.objects.values_list("paid_date", "paid_amount", "payer_name"))
        == first
    )
