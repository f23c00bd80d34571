"""Unmatched ERA claims: listed, matched to a claim by hand, and then posted exactly as
ingestion posts a matched claim (ledger, status, audit)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from billing.models import AuditLog, Claim, LedgerEntry
from payments import ingestion
from payments.models import ClaimPayment, EraFile
from tests import factories
from tests.payments import eras

pytestmark = pytest.mark.django_db

URL = reverse("era_unmatched")


@pytest.fixture
def payer(org):
    return factories.PayerFactory(organization=org, name="Acme Health Plan", payer_id="ACME1")


def ingest(org, text):
    return ingestion.era_file_ingest(
        organization=org, actor=None, content=text, source=EraFile.Source.COMMAND
    )


def ledger(claim):
    return list(
        LedgerEntry.objects.filter(claim=claim, source_table="payments_claimpayment")
        .order_by("id")
        .values_list("kind", "amount")
    )


@pytest.fixture
def unmatched(org, payer):
    """An ERA paying claim DFP-C000012 under a mistyped number (DFP-C00012), next to one
    matched claim; and the claim it is really for."""
    claim = eras.claim(org, payer, number="DFP-C000012")
    matched = eras.claim(org, payer, number="DFP-C000013")
    adjudication = eras.paid_claim(claim)
    adjudication.patient_control_number = "DFP-C00012"
    text = eras.file_835(
        eras.remittance(org, [eras.paid_claim(matched), adjudication], trace="EFT9")
    )
    assert ingest(org, text).claims_unmatched == 1
    return ClaimPayment.objects.get(claim__isnull=True), claim


def test_the_list_shows_what_the_era_says_about_each_unmatched_claim(unmatched, login, manager):
    row, _claim = unmatched
    html = login(manager).get(URL).content.decode()
    assert 'data-testid="unmatched-count">1<' in html
    assert "DFP-C00012" in html and "RIVERA, ANA" in html and "EFT9" in html
    assert reverse("era_unmatched_match", args=[row.pk]) in html


def test_matching_by_hand_posts_like_ingestion_and_is_audited(
    unmatched, login, manager, org, payer
):
    row, claim = unmatched
    client = login(manager)
    url = reverse("era_unmatched_match", args=[row.pk])
    search = client.get(url, {"q": "Rivera"}).content.decode()
    assert search.count('data-testid="candidate"') == 2  # both of Ana Rivera's claims
    assert (
        client.get(url, {"q": "DFP-C000012"}).content.decode().count('data-testid="candidate"') == 1
    )

    response = client.post(url, {"claim": claim.pk})

    assert response["Location"] == URL
    row.refresh_from_db()
    claim.refresh_from_db()
    assert row.claim == claim and row.posted_at is not None
    assert row.posting_note.startswith("Matched by hand to DFP-C000012.")
    # The same postings ingestion makes for a matched claim (see the matched one).
    twin = eras.claim(org, payer, number="DFP-C000099")
    ingest(org, eras.file_835(eras.remittance(org, [eras.paid_claim(twin)], trace="EFT10")))
    twin.refresh_from_db()
    assert ledger(claim) == ledger(twin)
    assert ledger(claim)[0] == ("insurance_payment", Decimal("-124.00"))
    assert claim.status == twin.status == Claim.Status.PAID
    audit = AuditLog.objects.get(action="era.claim_matched")
    assert audit.actor == manager and audit.new_values["claim"] == claim.pk
    assert len(audit.new_values["ledger"]) == len(ledger(claim))
    page = client.get(URL).content.decode()
    assert "matched to claim DFP-C000012 and posted" in page
    assert 'data-testid="no-unmatched"' in page


def test_a_row_matched_already_is_gone_and_nothing_posts_twice(unmatched, login, manager):
    row, claim = unmatched
    client = login(manager)
    url = reverse("era_unmatched_match", args=[row.pk])
    client.post(url, {"claim": claim.pk})
    entries = LedgerEntry.objects.count()
    assert client.post(url, {"claim": claim.pk}).status_code == 404
    assert LedgerEntry.objects.count() == entries


def test_bad_input_says_so_and_changes_nothing(unmatched, login, manager, other_org):
    row, _claim = unmatched
    client = login(manager)
    url = reverse("era_unmatched_match", args=[row.pk])
    foreign = factories.ClaimFactory(organization=other_org)
    entries = LedgerEntry.objects.count()

    nothing = client.post(url, {}).content.decode()
    theirs = client.post(url, {"claim": foreign.pk}).content.decode()
    junk = client.post(url, {"claim": "abc"}).content.decode()

    assert "Choose the claim this payment is for." in nothing
    assert "Choose one of your claims." in theirs and "Choose one of your claims." in junk
    row.refresh_from_db()
    assert row.claim is None and LedgerEntry.objects.count() == entries
    assert not AuditLog.objects.filter(action="era.claim_matched").exists()
    assert 'data-testid="no-candidates"' in client.get(url, {"q": "zzz"}).content.decode()


def test_both_billing_codes_are_needed(unmatched, login, clerk):
    row, claim = unmatched
    client = login(clerk)  # can_see_billing without sees_all_billing
    assert client.get(URL).status_code == 403
    url = reverse("era_unmatched_match", args=[row.pk])
    assert client.post(url, {"claim": claim.pk}).status_code == 403
    row.refresh_from_db()
    assert row.claim is None


def test_another_organizations_member_gets_404_and_an_empty_list(unmatched, login, other):
    row, claim = unmatched
    client = login(other)
    assert 'data-testid="no-unmatched"' in client.get(URL).content.decode()
    url = reverse("era_unmatched_match", args=[row.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"claim": claim.pk}).status_code == 404
    row.refresh_from_db()
    assert row.claim is None
