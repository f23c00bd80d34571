from __future__ import annotations

import datetime

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from billing.models import AuditLog, Role
from clearinghouse.models import PayerEnrollment
from tests import factories

pytestmark = pytest.mark.django_db

START = reverse("enrollment_wizard")
PAYER_STEP = reverse("enrollment_wizard_step", args=["payer"])
CLEARINGHOUSE_STEP = reverse("enrollment_wizard_step", args=["clearinghouse"])
DETAILS_STEP = reverse("enrollment_wizard_step", args=["details"])
REVIEW_STEP = reverse("enrollment_wizard_step", args=["review"])
DISCARD = reverse("enrollment_wizard_discard")
STEPS = [PAYER_STEP, CLEARINGHOUSE_STEP, DETAILS_STEP, REVIEW_STEP]
DETAILS = {
    "transaction_types": ["837P", "835"],
    "enrollment_status": "active",
    "enrolled_on": "2025-01-06",
    "effective_from": "2025-02-01",
    "effective_to": "2026-01-31",
    "notes": "Approved by phone.",
}
HTMX = {"HX-Request": "true", "HX-Target": "wizard-body"}


@pytest.fixture
def payer(org):
    return factories.PayerFactory(organization=org, name="Aetna Better Health", payer_id="60054")


@pytest.fixture
def clearinghouse(org):
    return factories.ClearinghouseConfigFactory(organization=org, display_name="Waystar")


def key(organization) -> str:
    return f"enrollment_wizard:{organization.pk}"


def draft(client, organization) -> dict | None:
    return client.session.get(key(organization))


def walk_to_review(client, payer, clearinghouse, epid: str = "AETNA1"):
    assert client.post(PAYER_STEP, {"payer": payer.pk}).url == CLEARINGHOUSE_STEP
    response = client.post(
        CLEARINGHOUSE_STEP, {"clearinghouse": clearinghouse.pk, "electronic_payer_id": epid}
    )
    assert response.url == DETAILS_STEP
    assert client.post(DETAILS_STEP, DETAILS).url == REVIEW_STEP


def html(response) -> str:
    return response.content.decode()


# --- step 1: payer --------------------------------------------------------------------------


def test_it_offers_only_the_organizations_payers(login, admin_user, org, payer, clearinghouse):
    factories.PayerFactory(organization=factories.OrganizationFactory(), name="Elsewhere Health")

    page = html(login(admin_user).get(START))

    assert "Step 1 of 4 · Payer" in page
    assert "Aetna Better Health" in page
    assert "Elsewhere Health" not in page
    assert f'action="{PAYER_STEP}"' in page


def test_it_requires_a_payer(login, admin_user, org, payer, clearinghouse):
    client = login(admin_user)

    response = client.post(PAYER_STEP, {"payer": ""})

    assert response.status_code == 200
    assert "Choose a payer." in html(response)
    assert "Step 1 of 4" in html(response)
    assert draft(client, org) == {"payer": ""}


def test_it_moves_on_to_the_clearinghouse_step_and_keeps_the_raw_payer_id(
    login, admin_user, org, payer, clearinghouse
):
    client = login(admin_user)

    response = client.post(PAYER_STEP, {"payer": payer.pk})

    assert response.status_code == 302
    assert response.url == CLEARINGHOUSE_STEP
    assert draft(client, org) == {"payer": str(payer.pk)}
    assert "Step 2 of 4 · Clearinghouse and electronic payer id" in html(client.get(response.url))


# --- step 2: clearinghouse and electronic payer id -------------------------------------------


@pytest.mark.parametrize(
    ("epid", "message"),
    [
        ("", "Enter the electronic payer id the clearinghouse uses."),
        ("   ", "Enter the electronic payer id the clearinghouse uses."),
        ("AET~NA", "cannot contain the X12 delimiters ~ * : ^ (found ~)"),
        ("A*B:C^D", "cannot contain the X12 delimiters ~ * : ^ (found * : ^)"),
        ("X" * 81, "Ensure this value has at most 80 characters (it has 81)."),
        ("AETNA\u00e9", "Use visible characters only"),
    ],
)
def test_it_refuses_a_bad_electronic_payer_id(
    login, admin_user, org, payer, clearinghouse, epid, message
):
    client = login(admin_user)
    client.post(PAYER_STEP, {"payer": payer.pk})

    response = client.post(
        CLEARINGHOUSE_STEP, {"clearinghouse": clearinghouse.pk, "electronic_payer_id": epid}
    )

    assert response.status_code == 200
    assert message in html(response)
    assert client.get(DETAILS_STEP).url == CLEARINGHOUSE_STEP


def test_it_trims_the_electronic_payer_id(login, admin_user, org, payer, clearinghouse):
    client = login(admin_user)
    client.post(PAYER_STEP, {"payer": payer.pk})

    response = client.post(
        CLEARINGHOUSE_STEP,
        {"clearinghouse": clearinghouse.pk, "electronic_payer_id": "  AETNA 01  "},
    )

    assert response.url == DETAILS_STEP
    client.post(DETAILS_STEP, DETAILS)
    assert "<code>AETNA 01</code>" in html(client.get(REVIEW_STEP))


def test_later_steps_remind_the_member_of_the_earlier_answers(
    login, admin_user, org, payer, clearinghouse
):
    client = login(admin_user)
    client.post(PAYER_STEP, {"payer": payer.pk})

    second = html(client.get(CLEARINGHOUSE_STEP))
    client.post(
        CLEARINGHOUSE_STEP, {"clearinghouse": clearinghouse.pk, "electronic_payer_id": "A1"}
    )
    third = html(client.get(DETAILS_STEP))

    assert "Payer <strong>Aetna Better Health</strong></p>" in second
    assert "Clearinghouse <strong>Waystar</strong> · Electronic payer id <code>A1</code>" in third


def test_it_refuses_an_inactive_clearinghouse(login, admin_user, org, payer, clearinghouse):
    inactive = factories.ClearinghouseConfigFactory(
        organization=org, display_name="Old Vendor", is_active=False
    )
    client = login(admin_user)
    client.post(PAYER_STEP, {"payer": payer.pk})

    page = html(client.get(CLEARINGHOUSE_STEP))
    response = client.post(
        CLEARINGHOUSE_STEP, {"clearinghouse": inactive.pk, "electronic_payer_id": "AETNA1"}
    )

    assert "Old Vendor" not in page
    assert "Select a valid choice" in html(response)


# --- step 3: transaction types and dates -----------------------------------------------------


def test_it_starts_the_details_step_as_pending_with_837p(
    login, admin_user, org, payer, clearinghouse
):
    client = login(admin_user)
    client.post(PAYER_STEP, {"payer": payer.pk})
    client.post(
        CLEARINGHOUSE_STEP, {"clearinghouse": clearinghouse.pk, "electronic_payer_id": "A1"}
    )

    page = html(client.get(DETAILS_STEP))

    assert '<option value="pending" selected>Pending</option>' in page
    assert 'value="837P" id="id_transaction_types_0" checked>' in page
    assert 'value="835" id="id_transaction_types_1">' in page
    assert "Choose a payer." not in page


def test_it_requires_a_transaction_type(login, admin_user, org, payer, clearinghouse):
    client = login(admin_user)
    client.post(PAYER_STEP, {"payer": payer.pk})
    client.post(
        CLEARINGHOUSE_STEP, {"clearinghouse": clearinghouse.pk, "electronic_payer_id": "A1"}
    )

    response = client.post(DETAILS_STEP, {**DETAILS, "transaction_types": []})

    assert "Choose at least one transaction type." in html(response)
    assert draft(client, org)["transaction_types"] == []
    assert client.get(REVIEW_STEP).url == DETAILS_STEP


def test_it_refuses_an_end_before_the_start(login, admin_user, org, payer, clearinghouse):
    client = login(admin_user)
    client.post(PAYER_STEP, {"payer": payer.pk})
    client.post(
        CLEARINGHOUSE_STEP, {"clearinghouse": clearinghouse.pk, "electronic_payer_id": "A1"}
    )

    response = client.post(
        DETAILS_STEP, {**DETAILS, "effective_from": "2025-03-01", "effective_to": "2025-02-28"}
    )

    assert "The end date cannot be before the effective date." in html(response)
    assert 'value="2025-02-28"' in html(response)


def test_it_refuses_an_enrolled_date_in_the_future(login, admin_user, org, payer, clearinghouse):
    client = login(admin_user)
    client.post(PAYER_STEP, {"payer": payer.pk})
    client.post(
        CLEARINGHOUSE_STEP, {"clearinghouse": clearinghouse.pk, "electronic_payer_id": "A1"}
    )
    tomorrow = datetime.date.today() + datetime.timedelta(days=2)

    response = client.post(DETAILS_STEP, {**DETAILS, "enrolled_on": tomorrow.isoformat()})

    assert "The enrolled date cannot be in the future." in html(response)


# --- back, forward, reload and jumping ahead -------------------------------------------------


def test_it_keeps_invalid_input_when_going_back_and_shows_it_again_with_its_error(
    login, admin_user, org, payer, clearinghouse
):
    client = login(admin_user)
    client.post(PAYER_STEP, {"payer": payer.pk})

    response = client.post(
        CLEARINGHOUSE_STEP,
        {"clearinghouse": clearinghouse.pk, "electronic_payer_id": "AET~NA", "action": "back"},
    )

    assert response.url == PAYER_STEP
    assert f'<option value="{payer.pk}" selected>' in html(client.get(PAYER_STEP))
    forward = client.post(PAYER_STEP, {"payer": payer.pk})
    page = html(client.get(forward.url))
    assert 'value="AET~NA"' in page
    assert f'<option value="{clearinghouse.pk}" selected>' in page
    assert "cannot contain the X12 delimiters" in page


def test_it_keeps_every_step_when_going_back_from_the_review(
    login, admin_user, org, payer, clearinghouse
):
    client = login(admin_user)
    walk_to_review(client, payer, clearinghouse)

    assert client.post(REVIEW_STEP, {"action": "back"}).url == DETAILS_STEP
    page = html(client.get(DETAILS_STEP))
    assert 'value="2025-02-01"' in page
    assert "Approved by phone." in page
    assert '<option value="active" selected>Active</option>' in page
    back = client.post(DETAILS_STEP, {**DETAILS, "action": "back"})
    assert back.url == CLEARINGHOUSE_STEP
    assert 'value="AETNA1"' in html(client.get(CLEARINGHOUSE_STEP))


def test_a_reload_shows_the_draft(login, admin_user, org, payer, clearinghouse):
    client = login(admin_user)
    client.post(PAYER_STEP, {"payer": payer.pk})
    client.post(
        CLEARINGHOUSE_STEP, {"clearinghouse": clearinghouse.pk, "electronic_payer_id": "A1"}
    )

    page = html(client.get(CLEARINGHOUSE_STEP))

    assert 'value="A1"' in page
    assert f'<option value="{clearinghouse.pk}" selected>' in page
    assert f'<option value="{payer.pk}" selected>' in html(client.get(START))


def test_it_sends_a_jump_ahead_back_to_the_first_unfinished_step(
    login, admin_user, org, payer, clearinghouse
):
    client = login(admin_user)

    assert client.get(REVIEW_STEP).url == PAYER_STEP
    assert client.get(CLEARINGHOUSE_STEP).url == PAYER_STEP
    client.post(PAYER_STEP, {"payer": payer.pk})
    assert client.get(REVIEW_STEP).url == CLEARINGHOUSE_STEP
    assert client.post(REVIEW_STEP, {"action": "create"}).url == CLEARINGHOUSE_STEP
    assert not PayerEnrollment.objects.exists()


def test_it_marks_the_current_step_and_links_the_finished_ones(
    login, admin_user, org, payer, clearinghouse
):
    client = login(admin_user)
    walk_to_review(client, payer, clearinghouse)

    page = html(client.get(CLEARINGHOUSE_STEP))

    assert 'aria-current="step"' in page.split(f'href="{PAYER_STEP}"')[1]
    assert f'href="{DETAILS_STEP}"' in page
    assert f'href="{REVIEW_STEP}"' in page


def test_it_does_not_link_steps_that_cannot_be_reached_yet(
    login, admin_user, org, payer, clearinghouse
):
    page = html(login(admin_user).get(START))

    assert f'href="{CLEARINGHOUSE_STEP}"' not in page
    assert f'href="{REVIEW_STEP}"' not in page


def test_it_answers_404_for_an_unknown_step(login, admin_user, org, payer, clearinghouse):
    assert (
        login(admin_user).get(reverse("enrollment_wizard_step", args=["nope"])).status_code == 404
    )


# --- the draft belongs to one organization and one session -----------------------------------


def test_the_draft_is_per_organization(login, admin_user, org, other_org, payer, clearinghouse):
    factories.MembershipFactory(
        user=admin_user, organization=other_org, role=factories.role("Org Admin")
    )
    factories.PayerFactory(organization=other_org, name="Other Org Payer")
    factories.ClearinghouseConfigFactory(organization=other_org, display_name="Other Waystar")
    client = login(admin_user)
    client.post(reverse("organization_switch"), {"organization": org.pk})
    client.post(PAYER_STEP, {"payer": payer.pk})
    client.post(
        CLEARINGHOUSE_STEP, {"clearinghouse": clearinghouse.pk, "electronic_payer_id": "A1"}
    )

    client.post(reverse("organization_switch"), {"organization": other_org.pk})
    there = client.get(CLEARINGHOUSE_STEP)

    assert there.url == PAYER_STEP
    page = html(client.get(PAYER_STEP))
    assert "Other Org Payer" in page
    assert "Aetna Better Health" not in page
    assert '<option value="" selected>Choose a payer</option>' in page
    assert draft(client, other_org) is None
    client.post(reverse("organization_switch"), {"organization": org.pk})
    assert 'value="A1"' in html(client.get(CLEARINGHOUSE_STEP))


def test_the_draft_is_per_session(admin_user, org, payer, clearinghouse):
    first, second = Client(), Client()
    first.force_login(admin_user)
    second.force_login(admin_user)
    first.post(PAYER_STEP, {"payer": payer.pk})

    assert second.get(CLEARINGHOUSE_STEP).url == PAYER_STEP
    assert draft(second, org) is None


def test_discard_clears_the_draft(login, admin_user, org, payer, clearinghouse):
    client = login(admin_user)
    client.post(PAYER_STEP, {"payer": payer.pk})
    assert "Discard draft" in html(client.get(CLEARINGHOUSE_STEP))

    response = client.post(DISCARD)

    assert response.url == START
    assert draft(client, org) is None
    assert "The enrollment draft was discarded." in [
        str(m) for m in get_messages(response.wsgi_request)
    ]
    assert f'<option value="{payer.pk}" selected>' not in html(client.get(START))


# --- review and create -----------------------------------------------------------------------


def test_the_review_shows_everything_typed(login, admin_user, org, payer, clearinghouse):
    client = login(admin_user)
    walk_to_review(client, payer, clearinghouse)

    page = html(client.get(REVIEW_STEP))

    for text in [
        "Aetna Better Health",
        "payer id 60054",
        "Waystar",
        "<code>AETNA1</code>",
        "837P claims, 835 remittance (ERA)",
        "Active",
        "01/06/2025",
        "02/01/2025",
        "01/31/2026",
        "Approved by phone.",
        "Create enrollment",
        ">Back</button>",
    ]:
        assert text in page


def test_it_creates_the_enrollment_writes_the_audit_row_and_clears_the_draft(
    login, admin_user, org, payer, clearinghouse
):
    client = login(admin_user)
    walk_to_review(client, payer, clearinghouse)

    response = client.post(REVIEW_STEP, {"action": "create"})

    assert response.status_code == 302
    assert response.url == reverse("enrollment_list")
    enrollment = PayerEnrollment.objects.get()
    assert enrollment.organization == org
    assert enrollment.payer == payer
    assert enrollment.clearinghouse == clearinghouse
    assert enrollment.electronic_payer_id == "AETNA1"
    assert enrollment.enrollment_status == "active"
    assert enrollment.transaction_types == ["837P", "835"]
    assert enrollment.enrolled_on == datetime.date(2025, 1, 6)
    assert enrollment.effective_from == datetime.date(2025, 2, 1)
    assert enrollment.effective_to == datetime.date(2026, 1, 31)
    assert enrollment.notes == "Approved by phone."
    assert enrollment.created_by == admin_user
    row = AuditLog.objects.get(action="enrollment.create")
    assert row.record_id == str(enrollment.pk)
    assert row.actor == admin_user
    assert row.organization == org
    assert draft(client, org) is None
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert "Aetna Better Health" in message
    assert "Waystar" in message


def test_it_shows_a_duplicate_on_the_review_with_a_link_back_to_step_one(
    login, admin_user, org, payer, clearinghouse
):
    existing = factories.PayerEnrollmentFactory(
        organization=org, payer=payer, clearinghouse=clearinghouse, electronic_payer_id="OLD01"
    )
    client = login(admin_user)
    walk_to_review(client, payer, clearinghouse)

    response = client.post(REVIEW_STEP, {"action": "create"})

    page = html(response)
    assert response.status_code == 200
    assert "Aetna Better Health already has an enrollment with Waystar." in page
    assert f'<a href="{PAYER_STEP}">Go back to step 1 (Payer)</a>' in page
    edit = reverse("enrollment_edit", args=[existing.pk])
    assert f'<a href="{edit}">Open the existing enrollment (OLD01, Pending)</a>' in page
    assert PayerEnrollment.objects.count() == 1
    assert not AuditLog.objects.filter(action="enrollment.create").exists()
    assert draft(client, org)["payer"] == str(payer.pk)


def test_the_duplicate_links_the_existing_enrollment_only_for_members_who_may_edit_it(
    login, org, payer, clearinghouse
):
    factories.PayerEnrollmentFactory(organization=org, payer=payer, clearinghouse=clearinghouse)
    role = Role.objects.create(
        organization=org,
        name="Enroll, no edit",
        codes=["can_see_billing", "pm.payers.manage", "pm.payer_enrollments.create"],
    )
    user = factories.UserFactory(username="enroller")
    factories.MembershipFactory(user=user, organization=org, role=role)
    client = login(user)
    walk_to_review(client, payer, clearinghouse)

    page = html(client.post(REVIEW_STEP, {"action": "create"}))

    assert "already has an enrollment with Waystar" in page
    assert "Open the existing enrollment" not in page


def test_a_removed_enrollment_does_not_block_a_new_one(
    login, admin_user, org, payer, clearinghouse
):
    factories.PayerEnrollmentFactory(
        organization=org,
        payer=payer,
        clearinghouse=clearinghouse,
        deleted_at=datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC),
    )
    client = login(admin_user)
    walk_to_review(client, payer, clearinghouse)

    assert client.post(REVIEW_STEP, {"action": "create"}).url == reverse("enrollment_list")
    assert PayerEnrollment.objects.live().count() == 1


# --- htmx ------------------------------------------------------------------------------------


def test_htmx_gets_the_next_step_body_with_its_url_pushed(
    login, admin_user, org, payer, clearinghouse
):
    response = login(admin_user).post(PAYER_STEP, {"payer": payer.pk}, headers=HTMX)

    page = html(response)
    assert response.status_code == 200
    assert response["HX-Push-Url"] == CLEARINGHOUSE_STEP
    assert page.lstrip().startswith('<div id="wizard-body"')
    assert "Step 2 of 4" in page
    assert "<h1>" not in page


def test_htmx_gets_the_step_back_with_its_errors_as_422(
    login, admin_user, org, payer, clearinghouse
):
    response = login(admin_user).post(PAYER_STEP, {"payer": ""}, headers=HTMX)

    assert response.status_code == 422
    assert "Choose a payer." in html(response)
    assert html(response).lstrip().startswith('<div id="wizard-body"')


def test_htmx_create_redirects_the_whole_page(login, admin_user, org, payer, clearinghouse):
    client = login(admin_user)
    walk_to_review(client, payer, clearinghouse)

    response = client.post(REVIEW_STEP, {"action": "create"}, headers=HTMX)

    assert response["HX-Redirect"] == reverse("enrollment_list")
    assert PayerEnrollment.objects.count() == 1


# --- before you start ------------------------------------------------------------------------


def test_it_asks_for_a_payer_first(login, admin_user, org, clearinghouse):
    factories.PayerFactory(organization=factories.OrganizationFactory())
    client = login(admin_user)

    page = html(client.get(START))
    client.post(PAYER_STEP, {"payer": "1"})

    assert "Add a payer first" in page
    assert f'<a href="{reverse("payer_list")}">Go to Payers</a>' in page
    assert "Set up a clearinghouse first" not in page
    assert '<form method="post" action="/pm/enrollment/new/payer"' not in page
    assert 'name="payer"' not in page
    assert draft(client, org) is None


def test_it_asks_for_an_active_clearinghouse_first(login, admin_user, org, payer):
    factories.ClearinghouseConfigFactory(organization=org, is_active=False)
    factories.ClearinghouseConfigFactory(organization=factories.OrganizationFactory())

    page = html(login(admin_user).get(START))

    assert "Set up a clearinghouse first" in page
    assert f'<a href="{reverse("clearinghouse_list")}">Go to Clearinghouses</a>' in page
    assert "Add a payer first" not in page
    assert 'name="payer"' not in page


# --- personas --------------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client, org, payer, clearinghouse):
    for url in [START, *STEPS]:
        assert client.get(url).url.startswith(reverse("login"))
        assert client.post(url, {"payer": payer.pk}).url.startswith(reverse("login"))
    assert client.post(DISCARD).url.startswith(reverse("login"))


def test_the_clerk_gets_403_on_every_step_and_nothing_is_stored(
    login, clerk, org, payer, clearinghouse
):
    client = login(clerk)
    posted = {"payer": payer.pk, "clearinghouse": clearinghouse.pk, "electronic_payer_id": "A1"}

    for url in [START, *STEPS]:
        assert client.get(url).status_code == 403
        assert client.post(url, {**posted, **DETAILS, "action": "create"}).status_code == 403
    assert client.post(DISCARD).status_code == 403
    assert draft(client, org) is None
    assert not PayerEnrollment.objects.exists()


def test_a_member_without_payers_manage_gets_403(login, org, payer, clearinghouse):
    role = Role.objects.create(
        organization=org,
        name="Enroll only",
        codes=["can_see_billing", "pm.payer_enrollments.create"],
    )
    user = factories.UserFactory(username="enroller")
    factories.MembershipFactory(user=user, organization=org, role=role)
    client = login(user)

    assert client.get(START).status_code == 403
    assert client.post(PAYER_STEP, {"payer": payer.pk}).status_code == 403
    assert draft(client, org) is None


def test_another_organizations_member_cannot_use_its_payer_or_clearinghouse(
    login, other, other_org, org, payer, clearinghouse
):
    own_payer = factories.PayerFactory(organization=other_org, name="Ortho Payer")
    own_clearinghouse = factories.ClearinghouseConfigFactory(
        organization=other_org, display_name="Ortho Availity"
    )
    client = login(other)

    page = html(client.get(START))
    first = client.post(PAYER_STEP, {"payer": payer.pk})
    client.post(PAYER_STEP, {"payer": own_payer.pk})
    second = client.post(
        CLEARINGHOUSE_STEP, {"clearinghouse": clearinghouse.pk, "electronic_payer_id": "A1"}
    )

    assert "Aetna Better Health" not in page
    assert "Select a valid choice" in html(first)
    assert "Select a valid choice" in html(second)
    assert "Waystar" not in html(second)
    assert f'<option value="{own_clearinghouse.pk}">Ortho Availity</option>' in html(second)
    assert draft(client, org) is None
    assert draft(client, other_org)["clearinghouse"] == str(clearinghouse.pk)
    assert client.get(DETAILS_STEP).url == CLEARINGHOUSE_STEP


def test_another_organizations_member_creates_only_in_their_own_organization(
    login, other, other_org, org, payer, clearinghouse
):
    own_payer = factories.PayerFactory(organization=other_org, name="Ortho Payer")
    own_clearinghouse = factories.ClearinghouseConfigFactory(
        organization=other_org, display_name="Ortho Availity"
    )
    client = login(other)
    walk_to_review(client, own_payer, own_clearinghouse, epid="ORTHO1")

    client.post(REVIEW_STEP, {"action": "create"})

    enrollment = PayerEnrollment.objects.get()
    assert enrollment.organization == other_org
    assert enrollment.payer == own_payer
    assert AuditLog.objects.get(action="enrollment.create").organization == other_org
    assert not PayerEnrollment.objects.for_organization(org).exists()
