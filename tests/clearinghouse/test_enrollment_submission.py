""" "Submit to clearinghouse" on the enrollment cards."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from billing.models import AuditLog, Membership, Role
from clearinghouse.models import PayerEnrollment
from clearinghouse.vendors.base import EnrollmentResult, PermanentFailure, VendorTimeout
from tests import factories
from tests.clearinghouse.test_vendor_services import config_for, install_fake, practice

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake(monkeypatch):
    return install_fake(monkeypatch)


LIST = reverse("enrollment_list")
S = PayerEnrollment.Status
BUTTON = "Submit to clearinghouse"


@pytest.fixture
def enrollment(org):
    practice(org)
    return factories.PayerEnrollmentFactory(
        organization=org,
        payer=factories.PayerFactory(organization=org, name="Aetna"),
        clearinghouse=config_for(org),
        electronic_payer_id="60054",
    )


def _url(enrollment):
    return reverse("enrollment_submit", args=[enrollment.pk])


def _snapshot(enrollment):
    enrollment.refresh_from_db()
    return (
        enrollment.enrollment_status,
        enrollment.vendor_reference,
        enrollment.submitted_at,
        enrollment.status_reason,
    )


def _messages(response):
    return [str(m) for m in response.context["messages"]]


# --- guards --------------------------------------------------------------------------------


def test_it_sends_anonymous_visitors_to_login(client, enrollment, fake):
    response = client.post(_url(enrollment))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert fake.calls == []


def test_it_answers_404_to_another_organizations_member(login, other, enrollment, fake):
    before = _snapshot(enrollment)
    assert login(other).post(_url(enrollment)).status_code == 404
    assert _snapshot(enrollment) == before
    assert fake.calls == []
    assert not AuditLog.objects.exists()


def test_it_refuses_the_clerk_and_changes_nothing(login, clerk, enrollment, fake):
    before = _snapshot(enrollment)
    assert login(clerk).post(_url(enrollment)).status_code == 403
    assert _snapshot(enrollment) == before
    assert fake.calls == []
    assert not AuditLog.objects.exists()


def test_it_refuses_an_editor_without_the_payers_code(login, org, enrollment, fake):
    role = Role.objects.create(
        organization=org, name="No payers", codes=["pm.payer_enrollments.edit"]
    )
    user = factories.UserFactory(username="nopayers")
    Membership.objects.create(user=user, organization=org, role=role)
    assert login(user).post(_url(enrollment)).status_code == 403
    assert fake.calls == []


def test_it_takes_only_post(login, admin_user, enrollment, fake):
    assert login(admin_user).get(_url(enrollment)).status_code == 405


def test_it_answers_404_for_a_removed_enrollment(login, admin_user, enrollment, fake):
    enrollment.deleted_at = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    enrollment.save()
    assert login(admin_user).post(_url(enrollment)).status_code == 404


# --- the cards -----------------------------------------------------------------------------


def test_the_button_is_on_cards_not_yet_submitted_or_rejected(login, manager, org, enrollment):
    rejected = factories.PayerEnrollmentFactory(
        organization=org,
        enrollment_status=S.REJECTED,
        status_reason="NPI not on file with the payer",
        submitted_at=datetime.datetime(2026, 11, 2, 15, tzinfo=datetime.UTC),
    )
    waiting = factories.PayerEnrollmentFactory(
        organization=org,
        vendor_reference="ENR-1",
        submitted_at=datetime.datetime(2026, 11, 3, 15, tzinfo=datetime.UTC),
    )
    others = [
        factories.PayerEnrollmentFactory(organization=org, enrollment_status=status)
        for status in (S.ACTIVE, S.INACTIVE, S.EXPIRED)
    ]

    html = login(manager).get(LIST).content.decode()

    for offered in (enrollment, rejected):
        assert f'action="{_url(offered)}"' in html
    for not_offered in (waiting, *others):
        assert f'action="{_url(not_offered)}"' not in html
    assert html.count(BUTTON) == 2
    assert "NPI not on file with the payer" in html
    assert "11/03/2026 · awaiting answer" in html
    assert "Not sent yet." in html and "Send it again." in html


def test_the_button_is_not_shown_to_the_clerk(login, clerk, enrollment):
    assert BUTTON not in login(clerk).get(LIST).content.decode()


# --- outcomes ------------------------------------------------------------------------------


def test_it_submits_shows_the_outcome_and_audits(login, manager, enrollment, fake):
    fake.script["submit_enrollment"] = EnrollmentResult(reference="ENR-42", status="pending")

    response = login(manager).post(_url(enrollment), {"next": f"{LIST}?q=600"}, follow=True)

    assert response.redirect_chain == [(f"{LIST}?q=600", 302)]
    assert _messages(response) == [
        "Aetna via Waystar submitted: pending, reference ENR-42. "
        "The status changes when Waystar answers."
    ]
    status, reference, submitted_at, _ = _snapshot(enrollment)
    assert (status, reference) == (S.PENDING, "ENR-42")
    assert submitted_at is not None
    (row,) = AuditLog.objects.filter(action="enrollment.submit")
    assert row.actor == manager
    html = response.content.decode()
    assert f'action="{_url(enrollment)}"' not in html  # now waiting for the answer
    assert "awaiting answer" in html


def test_it_shows_a_refusal_with_the_vendors_reason(login, admin_user, enrollment, fake):
    fake.script["submit_enrollment"] = PermanentFailure(
        "waystar", "POST /api/v1/enrollments: HTTP 422: Payer id 60054 is not enrollable"
    )

    response = login(admin_user).post(_url(enrollment), follow=True)

    assert _messages(response) == [
        "Waystar rejected the enrollment of Aetna via Waystar: Payer id 60054 is not enrollable"
    ]
    assert _snapshot(enrollment)[0] == S.REJECTED
    assert AuditLog.objects.filter(action="enrollment.submit").count() == 1
    assert "Payer id 60054 is not enrollable" in response.content.decode()


def test_it_says_when_the_clearinghouse_cannot_be_reached(login, admin_user, enrollment, fake):
    before = _snapshot(enrollment)
    fake.script["submit_enrollment"] = VendorTimeout(
        "waystar", "POST /api/v1/enrollments: no answer in time"
    )

    response = login(admin_user).post(_url(enrollment), follow=True)

    (message,) = _messages(response)
    assert message.startswith("Waystar could not take the enrollment now")
    assert "no answer in time" in message and "Nothing was changed" in message
    assert _snapshot(enrollment) == before
    assert not AuditLog.objects.exists()


def test_it_says_why_an_enrollment_cannot_be_submitted(login, admin_user, enrollment, fake):
    enrollment.enrollment_status = S.ACTIVE
    enrollment.save()
    response = login(admin_user).post(_url(enrollment), follow=True)
    assert _messages(response) == ["Aetna via Waystar is Active. There is nothing to submit."]
    assert fake.calls == []
    assert not AuditLog.objects.exists()
