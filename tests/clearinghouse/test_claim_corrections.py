"""Replace (frequency 7) and Void (8) of an accepted or paid claim: the payer's claim
control number from the ERA (CLP07) or typed, a new audited version, sent through the
router to the sandbox clearinghouse with CLM05-3 and REF*F8 (pyx12-clean)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from billing.models import AuditLog, Claim
from clearinghouse.models import ClaimSubmission
from clearinghouse.submission import claim_submit, idempotency_key
from edi.x837p import read_837p
from payments import ingestion
from payments.models import EraFile
from tests.cache import empty_cache  # noqa: F401  (autouse)
from tests.clearinghouse.pair import sandbox_pair
from tests.clearinghouse.test_claim_rejections import fetch_acknowledgements
from tests.clearinghouse.test_export_837p import _claim
from tests.edi.pyx12_check import validate_with_pyx12
from tests.payments import eras

pytestmark = pytest.mark.django_db(transaction=True)

CS = ClaimSubmission.Status


@pytest.fixture
def setup(org, sandbox_clearinghouse):
    return org, sandbox_pair(org, sandbox_clearinghouse), sandbox_clearinghouse


def accepted_claim(org, pair) -> Claim:
    claim = _claim(org, pair.payer)
    assert claim_submit(organization=org, actor=None, claim=claim).status == CS.SENT
    fetch_acknowledgements(org, pair.primary)
    claim.refresh_from_db()
    assert claim.status == Claim.Status.ACCEPTED
    return claim


def paid_by_era(org, claim) -> Claim:
    claim.lines = [("99214", "150.00"), ("36415", "15.00")]
    text = eras.file_835(eras.remittance(org, [eras.paid_claim(claim)], trace="EFT77"))
    ingestion.era_file_ingest(
        organization=org, actor=None, content=text, source=EraFile.Source.COMMAND
    )
    claim.refresh_from_db()
    assert claim.status in (Claim.Status.PAID, Claim.Status.PARTIALLY_PAID)
    return claim


def _sent_claim(submission: ClaimSubmission):
    return read_837p(submission.x12).transactions[0].claims[0]


def test_replace_takes_the_number_from_the_era_and_sends_frequency_7(setup, login, manager):
    org, pair, server = setup
    claim = paid_by_era(org, accepted_claim(org, pair))
    client = login(manager)
    detail = client.get(reverse("claim_detail", args=[claim.pk])).content.decode()
    assert 'data-testid="replace"' in detail and 'data-testid="void"' in detail

    form = client.get(reverse("claim_replace", args=[claim.pk])).content.decode()
    assert f'value="PCN{claim.claim_number}"' in form  # CLP07 of the ERA

    response = client.post(
        reverse("claim_replace", args=[claim.pk]),
        {"payer_claim_control_number": f"PCN{claim.claim_number}"},
    )

    assert response["Location"] == reverse("claim_detail", args=[claim.pk])
    claim.refresh_from_db()
    assert (claim.version, claim.frequency_code, claim.status) == (2, "7", "submitted")
    submission = ClaimSubmission.objects.get(claim=claim, claim_version=2)
    sent = _sent_claim(submission)
    assert sent.frequency_code == "7"
    assert sent.payer_claim_control_number == f"PCN{claim.claim_number}"
    assert validate_with_pyx12(submission.x12) == []
    keys = [entry["idempotency_key"] for entry in server.log(kind="837P")]
    assert keys == [f"claim-{org.pk}-{claim.pk}-v1", idempotency_key(claim)]
    row = AuditLog.objects.get(action="claim.replace")
    assert row.actor == manager
    assert row.old_values == {
        "frequency_code": "1",
        "payer_claim_control_number": "",
        "version": 1,
    }
    assert row.new_values["frequency_code"] == "7" and row.new_values["version"] == 2
    page = client.get(response["Location"]).content.decode()
    assert "Replacement: claim" in page and "version 2 sent to Sandbox" in page


def test_void_needs_a_typed_number_when_no_era_gave_one(setup, login, manager):
    org, pair, server = setup
    claim = accepted_claim(org, pair)
    client = login(manager)
    url = reverse("claim_void", args=[claim.pk])
    field = re.search(r'<input[^>]*name="payer_claim_control_number"[^>]*>', client.get(url).text)
    assert field and "value=" not in field.group(0)  # nothing to prefill it from

    blank = client.post(url, {"payer_claim_control_number": "  "}).content.decode()
    bad = client.post(url, {"payer_claim_control_number": "AB~12"}).content.decode()

    assert "This field is required" in blank or "Enter the payer" in blank
    assert "not ~ * : ^" in bad
    claim.refresh_from_db()
    assert (claim.version, claim.frequency_code) == (1, "1")
    assert len(server.log(kind="837P")) == 1

    client.post(url, {"payer_claim_control_number": "PAYER-998877"})

    claim.refresh_from_db()
    assert (claim.version, claim.frequency_code, claim.status) == (2, "8", "submitted")
    assert claim.payer_claim_control_number == "PAYER-998877"
    submission = ClaimSubmission.objects.get(claim=claim, claim_version=2)
    assert _sent_claim(submission).frequency_code == "8"
    assert "REF*F8*PAYER-998877~" in submission.x12.replace("\n", "")
    assert validate_with_pyx12(submission.x12) == []
    assert AuditLog.objects.filter(action="claim.void").count() == 1


def test_a_claim_the_payer_has_not_accepted_cannot_be_replaced(setup, login, manager):
    org, pair, server = setup
    claim = _claim(org, pair.payer)  # ready
    client = login(manager)
    url = reverse("claim_replace", args=[claim.pk])
    assert 'data-testid="not-correctable"' in client.get(url).content.decode()
    html = client.post(url, {"payer_claim_control_number": "X1"}).content.decode()
    assert "only an accepted, paid, partially paid or denied claim" in html
    claim.refresh_from_db()
    assert (claim.version, claim.frequency_code) == (1, "1")
    assert server.log(kind="837P") == []
    assert (
        'data-testid="replace"'
        not in client.get(reverse("claim_detail", args=[claim.pk])).content.decode()
    )


def test_a_clerk_gets_403_and_does_not_see_the_buttons(setup, login, clerk):
    org, pair, server = setup
    claim = accepted_claim(org, pair)
    client = login(clerk)
    assert client.get(reverse("claim_replace", args=[claim.pk])).status_code == 403
    response = client.post(
        reverse("claim_void", args=[claim.pk]), {"payer_claim_control_number": "X"}
    )
    assert response.status_code == 403
    detail = client.get(reverse("claim_detail", args=[claim.pk])).content.decode()
    assert 'data-testid="void"' not in detail
    claim.refresh_from_db()
    assert claim.version == 1 and len(server.log(kind="837P")) == 1


def test_another_organizations_member_gets_404(setup, login, other):
    org, pair, server = setup
    claim = accepted_claim(org, pair)
    client = login(other)
    assert client.get(reverse("claim_replace", args=[claim.pk])).status_code == 404
    response = client.post(
        reverse("claim_void", args=[claim.pk]), {"payer_claim_control_number": "X"}
    )
    assert response.status_code == 404
    claim.refresh_from_db()
    assert claim.version == 1 and len(server.log(kind="837P")) == 1
