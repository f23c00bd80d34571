"""The rejections worklist and Resubmit: claims the sandbox clearinghouse's 277CA rejected,
fixed and sent again as a new version with a new idempotency key, never the old one."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import AuditLog, Claim, ClaimStatusChange
from billing.tenancy import tenant_context
from clearinghouse.models import ClaimAcknowledgement, ClaimSubmission
from clearinghouse.submission import claim_submit, idempotency_key
from clearinghouse.vendor_services import acknowledgements_fetch
from tests import factories
from tests.cache import empty_cache  # noqa: F401  (autouse)
from tests.clearinghouse.pair import sandbox_pair
from tests.clearinghouse.test_export_837p import _claim

pytestmark = pytest.mark.django_db(transaction=True)

CS = ClaimSubmission.Status
URL = reverse("claim_rejections")


@pytest.fixture
def setup(org, sandbox_clearinghouse):
    return org, sandbox_pair(org, sandbox_clearinghouse), sandbox_clearinghouse


def fetch_acknowledgements(org, config) -> None:
    with tenant_context(org):
        acknowledgements_fetch(organization=org, config=config)


def rejected_claim(org, pair, *, member_id: str = "BAD0001") -> Claim:
    """A claim sent to the sandbox with an invalid member id: the sandbox refuses the file
    at once (its only claim is rejected) and its 277CA then says why."""
    claim = _claim(org, pair.payer)
    claim.coverage.member_id = member_id
    claim.coverage.save()
    assert claim_submit(organization=org, actor=None, claim=claim).status == CS.REJECTED
    fetch_acknowledgements(org, pair.primary)
    assert ClaimAcknowledgement.objects.filter(claim=claim, kind="277CA", accepted=False)
    claim.refresh_from_db()
    assert claim.status == Claim.Status.REJECTED
    return claim


def resubmit(client, claim, **data):
    return client.post(reverse("claim_resubmit", args=[claim.pk]), data)


def test_the_worklist_shows_each_rejection_in_words_with_its_age_and_payer(setup, login, clerk):
    org, pair, _server = setup
    claim = rejected_claim(org, pair)
    ClaimStatusChange.objects.filter(claim=claim, to_status="rejected").update(
        changed_at=timezone.now() - datetime.timedelta(days=6, hours=1)
    )
    _claim(org, pair.payer)  # a ready claim: not on the worklist

    html = login(clerk).get(URL).content.decode()

    assert 'data-testid="rejection-count">1<' in html
    assert claim.claim_number in html and pair.payer.name in html
    assert "277CA" in html and "SUBSCRIBER MEMBER ID IS INVALID" in html
    assert "6 days" in html
    assert 'data-testid="resubmit"' not in html  # a clerk may look, not resubmit


def test_a_clearinghouse_refusal_is_the_reason_when_it_came_last(org, login, manager):
    claim = factories.ClaimFactory(organization=org, status=Claim.Status.REJECTED)
    config = factories.ClearinghouseConfigFactory(organization=org, display_name="Waystar")
    ClaimSubmission.objects.create(
        organization=org,
        claim=claim,
        claim_version=1,
        clearinghouse=config,
        idempotency_key="k1",
        status=CS.REJECTED,
        message="Unknown billing provider NPI",
        settled_at=timezone.now(),
    )
    html = login(manager).get(URL).content.decode()
    assert "Waystar refused it: Unknown billing provider NPI" in html


def test_a_fixed_claim_is_resubmitted_as_a_new_version_with_a_new_key(setup, login, manager):
    org, pair, server = setup
    claim = rejected_claim(org, pair)
    first_key = idempotency_key(claim)
    claim.coverage.member_id = "W123456789"  # the fix
    claim.coverage.save()

    response = resubmit(login(manager), claim, next=URL)

    assert response.status_code == 302 and response["Location"] == URL
    claim.refresh_from_db()
    assert claim.version == 2 and claim.status == Claim.Status.SUBMITTED
    keys = [entry["idempotency_key"] for entry in server.log(kind="837P")]
    assert keys == [first_key, idempotency_key(claim)] and keys[0] != keys[1]
    assert list(
        ClaimSubmission.objects.filter(claim=claim)
        .order_by("id")
        .values_list("claim_version", "status")
    ) == [(1, CS.REJECTED), (2, CS.SENT)]
    row = AuditLog.objects.get(action="claim.resubmission")
    assert row.old_values == {"version": 1} and row.new_values["version"] == 2
    assert row.actor == manager
    follow = login(manager).get(URL).content.decode()
    assert "version 2 sent to Sandbox" in follow
    assert 'data-testid="no-rejections"' in follow  # off the worklist

    fetch_acknowledgements(org, pair.primary)
    claim.refresh_from_db()
    assert claim.status == Claim.Status.ACCEPTED
    assert ClaimAcknowledgement.objects.filter(claim=claim, accepted=True).exists()


def test_resubmitting_unfixed_data_is_rejected_again_and_shows_the_new_reason(
    setup, login, manager
):
    org, pair, server = setup
    claim = rejected_claim(org, pair)
    resubmit(login(manager), claim)
    fetch_acknowledgements(org, pair.primary)
    claim.refresh_from_db()
    assert claim.status == Claim.Status.REJECTED and claim.version == 2
    keys = [entry["idempotency_key"] for entry in server.log(kind="837P")]
    assert len(set(keys)) == 2
    page = login(manager).get(reverse("claim_detail", args=[claim.pk])).content.decode()
    assert "Rejected by 277CA" in page and "SUBSCRIBER MEMBER ID IS INVALID" in page
    assert page.count('data-testid="submission-row"') == 2


def test_an_unknown_outcome_is_sent_again_with_the_same_key_not_a_new_version(
    setup, login, manager
):
    org, pair, server = setup
    claim = rejected_claim(org, pair)
    claim.coverage.member_id = "W123456789"
    claim.coverage.save()
    server.set_mode("sandbox", "down")
    client = login(manager)

    response = resubmit(client, claim)
    claim.refresh_from_db()
    assert claim.version == 2 and claim.status == Claim.Status.REJECTED
    assert ClaimSubmission.objects.get(claim=claim, claim_version=2).status == CS.UNKNOWN
    page = client.get(response["Location"]).content.decode()
    assert "did not answer in time" in page and "Send again" in page

    server.set_mode("sandbox", "healthy")
    resubmit(client, claim)
    claim.refresh_from_db()
    assert claim.version == 2 and claim.status == Claim.Status.SUBMITTED
    keys = [entry["idempotency_key"] for entry in server.log(kind="837P")]
    assert keys[-1] == idempotency_key(claim) and len(set(keys)) == 2
    assert ClaimSubmission.objects.filter(claim=claim).count() == 2


def test_a_claim_that_is_not_rejected_is_not_resubmitted(setup, login, manager):
    org, pair, server = setup
    claim = _claim(org, pair.payer)
    claim_submit(organization=org, actor=None, claim=claim)
    client = login(manager)

    response = resubmit(client, claim)

    page = client.get(response["Location"]).content.decode()
    assert "only a rejected claim is resubmitted" in page
    claim.refresh_from_db()
    assert claim.version == 1 and len(server.log(kind="837P")) == 1
    assert not AuditLog.objects.filter(action="claim.resubmission").exists()


def test_a_member_without_the_charges_code_gets_403_and_nothing_is_sent(setup, login, clerk):
    org, pair, server = setup
    claim = rejected_claim(org, pair)
    assert resubmit(login(clerk), claim).status_code == 403
    claim.refresh_from_db()
    assert claim.version == 1 and len(server.log(kind="837P")) == 1


def test_another_organizations_member_gets_404_and_sees_none_of_it(setup, login, other):
    org, pair, server = setup
    claim = rejected_claim(org, pair)
    client = login(other)
    assert resubmit(client, claim).status_code == 404
    assert claim.claim_number not in client.get(URL).content.decode()
    assert len(server.log(kind="837P")) == 1


def test_the_worklist_needs_can_see_billing_and_resubmit_needs_post(org, login, manager):
    role = factories.role("Billing Clerk")
    role.pk = None
    role.organization, role.name, role.codes = org, "Front desk", ["pm.patients.edit"]
    role.save()
    user = factories.UserFactory(username="frontdesk")
    factories.MembershipFactory(user=user, organization=org, role=role)
    assert login(user).get(URL).status_code == 403
    claim = factories.ClaimFactory(organization=org, status=Claim.Status.REJECTED)
    assert login(manager).get(reverse("claim_resubmit", args=[claim.pk])).status_code == 405


def test_the_payer_filter_narrows_the_list_and_a_foreign_payer_is_ignored(
    org, other_org, login, manager
):
    mine = factories.ClaimFactory(organization=org, status=Claim.Status.REJECTED)
    theirs = factories.ClaimFactory(organization=org, status=Claim.Status.REJECTED)
    foreign = factories.PayerFactory(organization=other_org)
    client = login(manager)
    html = client.get(URL, {"payer": mine.payer_id}).content.decode()
    assert mine.claim_number in html and theirs.claim_number not in html
    html = client.get(URL, {"payer": foreign.pk}).content.decode()
    assert "Payer filter ignored" in html and theirs.claim_number in html
