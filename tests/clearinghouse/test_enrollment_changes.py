"""Edit, status change and removal of an enrollment."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from billing.models import AuditLog, Membership, Role
from clearinghouse.models import PayerEnrollment
from tests import factories

pytestmark = pytest.mark.django_db

LIST = reverse("enrollment_list")
S = PayerEnrollment.Status


@pytest.fixture
def enrollment(org):
    return factories.PayerEnrollmentFactory(
        organization=org,
        payer=factories.PayerFactory(organization=org, name="Aetna"),
        clearinghouse=factories.ClearinghouseConfigFactory(
            organization=org, display_name="Waystar"
        ),
        electronic_payer_id="60054",
        enrollment_status=S.PENDING,
        covers_835=True,
        enrolled_on=datetime.date(2026, 1, 15),
        notes="Submitted by fax",
    )


def _edit_data(enrollment, **changes):
    return {
        "payer": enrollment.payer_id,
        "clearinghouse": enrollment.clearinghouse_id,
        "electronic_payer_id": enrollment.electronic_payer_id,
        "transaction_types": enrollment.transaction_types,
        "enrollment_status": enrollment.enrollment_status,
        "enrolled_on": enrollment.enrolled_on.isoformat() if enrollment.enrolled_on else "",
        "effective_from": "",
        "effective_to": "",
        "notes": enrollment.notes,
        **changes,
    }


def _snapshot(enrollment):
    enrollment.refresh_from_db()
    return (
        enrollment.electronic_payer_id,
        enrollment.enrollment_status,
        enrollment.clearinghouse_id,
        enrollment.transaction_types,
        enrollment.effective_to,
        enrollment.deleted_at,
    )


def _urls(enrollment):
    return {
        "edit": reverse("enrollment_edit", args=[enrollment.pk]),
        "status": reverse("enrollment_status", args=[enrollment.pk]),
        "remove": reverse("enrollment_remove", args=[enrollment.pk]),
    }


# --- guards --------------------------------------------------------------------------------


def test_it_sends_anonymous_visitors_to_login(client, enrollment):
    for url in _urls(enrollment).values():
        response = client.post(url, {"status": "active"})
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert _snapshot(enrollment)[1] == S.PENDING


def test_it_refuses_every_change_to_the_clerk_and_changes_nothing(login, clerk, enrollment):
    before = _snapshot(enrollment)
    client = login(clerk)
    urls = _urls(enrollment)

    assert client.get(urls["edit"]).status_code == 403
    assert (
        client.post(urls["edit"], _edit_data(enrollment, electronic_payer_id="X1")).status_code
        == 403
    )
    assert client.post(urls["status"], {"status": "active"}).status_code == 403
    assert client.get(urls["remove"]).status_code == 403
    assert client.post(urls["remove"]).status_code == 403

    assert _snapshot(enrollment) == before
    assert not AuditLog.objects.exists()


def test_it_answers_404_to_another_organizations_member(login, other, enrollment):
    before = _snapshot(enrollment)
    client = login(other)
    urls = _urls(enrollment)

    assert client.get(urls["edit"]).status_code == 404
    assert (
        client.post(urls["edit"], _edit_data(enrollment, electronic_payer_id="X1")).status_code
        == 404
    )
    assert client.post(urls["status"], {"status": "active"}).status_code == 404
    assert client.get(urls["remove"]).status_code == 404
    assert client.post(urls["remove"]).status_code == 404

    assert _snapshot(enrollment) == before
    assert not AuditLog.objects.exists()


def test_it_refuses_an_editor_without_the_payers_code(login, org, enrollment):
    role = Role.objects.create(
        organization=org, name="No payers", codes=["pm.payer_enrollments.edit"]
    )
    user = factories.UserFactory(username="nopayers")
    Membership.objects.create(user=user, organization=org, role=role)
    assert login(user).post(_urls(enrollment)["status"], {"status": "active"}).status_code == 403
    assert _snapshot(enrollment)[1] == S.PENDING


def test_it_answers_404_for_a_removed_enrollment(login, admin_user, enrollment):
    client = login(admin_user)
    client.post(_urls(enrollment)["remove"])
    for url in _urls(enrollment).values():
        assert client.get(url).status_code in (404, 405)
        assert client.post(url, {"status": "active"}).status_code == 404


def test_status_change_takes_only_post(login, admin_user, enrollment):
    assert login(admin_user).get(_urls(enrollment)["status"]).status_code == 405


# --- edit ----------------------------------------------------------------------------------


def test_it_shows_the_edit_form_filled_in(login, admin_user, enrollment):
    html = login(admin_user).get(_urls(enrollment)["edit"]).content.decode()
    assert "<h1>Edit enrollment: Aetna</h1>" in html
    assert 'value="60054"' in html
    assert f'<option value="{enrollment.payer_id}" selected>Aetna</option>' in html
    assert 'value="835" id="id_transaction_types_1" checked' in html
    assert 'value="2026-01-15"' in html
    assert "Submitted by fax</textarea>" in html


def test_it_saves_an_edit_audits_it_and_goes_back_to_the_list(login, admin_user, enrollment):
    client = login(admin_user)
    response = client.post(
        _urls(enrollment)["edit"],
        {
            **_edit_data(
                enrollment,
                electronic_payer_id=" 60054A ",
                transaction_types=["837P", "270"],
                effective_from="2026-01-01",
                effective_to="2026-12-31",
            ),
            "next": f"{LIST}?q=600",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?q=600"
    enrollment.refresh_from_db()
    assert enrollment.electronic_payer_id == "60054A"
    assert enrollment.transaction_types == ["837P", "270"]
    assert enrollment.effective_to == datetime.date(2026, 12, 31)
    [row] = AuditLog.objects.filter(action="enrollment.update")
    assert row.actor == admin_user
    assert row.old_values["electronic_payer_id"] == "60054"
    assert row.new_values["electronic_payer_id"] == "60054A"
    assert row.old_values["covers_835"] is True and row.new_values["covers_835"] is False
    assert "Enrollment saved: Aetna." in client.get(response["Location"]).content.decode()


def test_an_edit_of_only_the_status_is_audited_as_a_status_change(login, admin_user, enrollment):
    login(admin_user).post(
        _urls(enrollment)["edit"], _edit_data(enrollment, enrollment_status="active")
    )
    [row] = AuditLog.objects.all()
    assert row.action == "enrollment.status"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"electronic_payer_id": ""}, "Enter the electronic payer id the clearinghouse uses."),
        ({"electronic_payer_id": "A:B"}, "(found :)"),
        ({"electronic_payer_id": "A^B~"}, "(found ^ ~)"),
        ({"transaction_types": []}, "Choose at least one transaction type."),
        (
            {"effective_from": "2026-06-01", "effective_to": "2026-05-31"},
            "The end date cannot be before the effective date.",
        ),
    ],
)
def test_it_refuses_bad_input_on_edit_and_saves_nothing(
    login, admin_user, enrollment, changes, message
):
    before = _snapshot(enrollment)
    response = login(admin_user).post(_urls(enrollment)["edit"], _edit_data(enrollment, **changes))
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert 'class="field-error"' in html
    assert _snapshot(enrollment) == before
    assert not AuditLog.objects.exists()


def test_it_refuses_an_edit_that_duplicates_a_live_enrollment(login, admin_user, org, enrollment):
    availity = factories.ClearinghouseConfigFactory(organization=org, display_name="Availity")
    second = factories.PayerEnrollmentFactory(
        organization=org, payer=enrollment.payer, clearinghouse=availity
    )
    before = _snapshot(second)

    response = login(admin_user).post(
        _urls(second)["edit"], _edit_data(second, clearinghouse=enrollment.clearinghouse_id)
    )

    html = response.content.decode()
    assert "Aetna already has an enrollment with Waystar. Edit that one instead." in html
    assert _snapshot(second) == before
    assert not AuditLog.objects.exists()


def test_it_refuses_another_organizations_payer_on_edit(login, admin_user, other_org, enrollment):
    theirs = factories.PayerFactory(organization=other_org)
    before = _snapshot(enrollment)
    response = login(admin_user).post(
        _urls(enrollment)["edit"], _edit_data(enrollment, payer=theirs.pk)
    )
    assert "Select a valid choice" in response.content.decode()
    assert _snapshot(enrollment) == before


def test_it_keeps_a_deactivated_clearinghouse_on_edit(login, admin_user, enrollment):
    enrollment.clearinghouse.is_active = False
    enrollment.clearinghouse.save()
    client = login(admin_user)

    assert "Waystar</option>" in client.get(_urls(enrollment)["edit"]).content.decode()
    response = client.post(_urls(enrollment)["edit"], _edit_data(enrollment, notes="Kept"))

    assert response.status_code == 302
    enrollment.refresh_from_db()
    assert enrollment.notes == "Kept"


def test_it_says_when_an_edit_changed_nothing(login, admin_user, enrollment):
    client = login(admin_user)
    response = client.post(_urls(enrollment)["edit"], _edit_data(enrollment))
    assert "Nothing changed." in client.get(response["Location"]).content.decode()
    assert not AuditLog.objects.exists()


# --- status --------------------------------------------------------------------------------


def test_it_changes_the_status_audits_it_and_keeps_the_filters(login, admin_user, enrollment):
    client = login(admin_user)
    response = client.post(
        _urls(enrollment)["status"], {"status": "active", "next": f"{LIST}?status=pending"}
    )

    assert response["Location"] == f"{LIST}?status=pending"
    enrollment.refresh_from_db()
    assert enrollment.enrollment_status == S.ACTIVE
    [row] = AuditLog.objects.filter(action="enrollment.status")
    assert row.actor == admin_user
    assert row.old_values == {"enrollment_status": "pending"}
    assert row.new_values == {"enrollment_status": "active"}
    page = client.get(response["Location"]).content.decode()
    assert "Aetna via Waystar: status Pending → Active." in page


@pytest.mark.parametrize("status", ["approved", ""])
def test_it_refuses_an_unknown_status(login, admin_user, enrollment, status):
    client = login(admin_user)
    response = client.post(_urls(enrollment)["status"], {"status": status})
    assert _snapshot(enrollment)[1] == S.PENDING
    assert not AuditLog.objects.exists()
    assert (
        "Choose one of the statuses in the list."
        in client.get(response["Location"]).content.decode()
    )


def test_it_says_when_the_status_is_already_set(login, admin_user, enrollment):
    client = login(admin_user)
    response = client.post(_urls(enrollment)["status"], {"status": "pending"})
    assert "Aetna is already Pending." in client.get(response["Location"]).content.decode()
    assert not AuditLog.objects.exists()


# --- remove --------------------------------------------------------------------------------


def test_it_asks_for_confirmation_on_a_page_without_javascript(login, admin_user, enrollment):
    html = (
        login(admin_user)
        .get(_urls(enrollment)["remove"], {"next": f"{LIST}?q=600"})
        .content.decode()
    )
    assert "<h1>Remove enrollment</h1>" in html
    assert "Claims already sent through it are not affected." in html
    assert f'action="{_urls(enrollment)["remove"]}"' in html
    assert 'name="next" value="/pm/clearinghouse/enrollments?q=600"' in html
    assert _snapshot(enrollment)[5] is None


def test_it_asks_for_confirmation_in_a_dialog_with_htmx(login, admin_user, enrollment):
    response = login(admin_user).get(
        _urls(enrollment)["remove"], headers={"HX-Request": "true", "HX-Target": "enr-dialog"}
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<dialog id="enr-modal"')
    assert "Claims already sent through it are not affected." in html
    assert "60054" in html
    assert _snapshot(enrollment)[5] is None


def test_the_list_links_remove_to_its_confirmation(login, admin_user, enrollment):
    html = login(admin_user).get(LIST).content.decode()
    link = html.split(">Remove</a>")[0].rsplit("<a", 1)[1]
    assert f'href="{_urls(enrollment)["remove"]}?next=' in link
    assert 'hx-target="#enr-dialog"' in link


def test_it_removes_softly_audits_and_leaves_claims_alone(login, admin_user, org, enrollment):
    claim = factories.ClaimFactory(
        organization=org,
        encounter=factories.EncounterFactory(organization=org),
        coverage__payer=enrollment.payer,
    )
    client = login(admin_user)

    response = client.post(_urls(enrollment)["remove"], {"next": f"{LIST}?status=pending"})

    assert response["Location"] == f"{LIST}?status=pending"
    enrollment.refresh_from_db()
    assert enrollment.deleted_at is not None  # the row stays for what went through it
    [row] = AuditLog.objects.filter(action="enrollment.remove")
    assert row.actor == admin_user
    assert row.record_id == str(enrollment.pk)
    assert row.old_values == {"deleted_at": None}
    claim_before = (claim.status, claim.payer_id, claim.total)
    claim.refresh_from_db()
    assert (claim.status, claim.payer_id, claim.total) == claim_before
    page = client.get(response["Location"]).content.decode()
    assert "Enrollment removed: Aetna via Waystar (60054)." in page
    assert 'data-testid="electronic-payer-id">60054<' not in page


def test_after_removal_the_same_payer_and_clearinghouse_can_be_added_again(
    login, admin_user, enrollment
):
    client = login(admin_user)
    client.post(_urls(enrollment)["remove"])
    client.post(
        reverse("enrollment_quick_add"),
        _edit_data(enrollment, electronic_payer_id="60054-NEW", enrolled_on=""),
    )
    assert list(PayerEnrollment.objects.live().values_list("electronic_payer_id", flat=True)) == [
        "60054-NEW"
    ]
