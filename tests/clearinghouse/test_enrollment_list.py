"""The Clearinghouse Enrollments page (seed 000): cards, filters, pagination, empty states."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from billing.models import Membership, Role
from clearinghouse.models import ClearinghouseConfig, PayerEnrollment
from tests import factories

pytestmark = pytest.mark.django_db

URL = reverse("enrollment_list")
NOTHING_YET = "Add payer enrollments to enable electronic claim submission for specific payers."
NO_MATCH = "No enrollments match the current filters."
HTMX = {"HX-Request": "true", "HX-Target": "enrollment-cards"}


@pytest.fixture
def no_payers_member(org):
    """A member whose custom role lacks pm.payers.manage."""
    role = Role.objects.create(organization=org, name="No payers", codes=["can_see_billing"])
    user = factories.UserFactory(username="nopayers")
    Membership.objects.create(user=user, organization=org, role=role)
    return user


def _cards(html: str) -> list[str]:
    return html.split('data-testid="enrollment-card"')[1:]


def _ids(html: str) -> list[str]:
    return re.findall(r'data-testid="electronic-payer-id">([^<]*)<', html)


def _enrollment(org, **kwargs):
    return factories.PayerEnrollmentFactory(organization=org, **kwargs)


# --- who may open it -----------------------------------------------------------------------


def test_it_sends_anonymous_visitors_to_login(client, org):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_refuses_a_member_without_the_payers_code(login, no_payers_member, org):
    _enrollment(org, electronic_payer_id="SECRET1")
    response = login(no_payers_member).get(URL)
    assert response.status_code == 403
    assert b"SECRET1" not in response.content


def test_it_shows_another_organizations_member_only_their_own_enrollments(login, other, org):
    _enrollment(org, electronic_payer_id="OURS1")
    html = login(other).get(URL).content.decode()
    assert "OURS1" not in html
    assert NOTHING_YET in html


# --- the cards -----------------------------------------------------------------------------


def test_it_shows_a_card_per_enrollment_with_the_seeds_fields(login, admin_user, org):
    payer = factories.PayerFactory(organization=org, name="Blue Cross Blue Shield of Texas")
    waystar = factories.ClearinghouseConfigFactory(organization=org, display_name="Waystar")
    _enrollment(
        org,
        payer=payer,
        clearinghouse=waystar,
        electronic_payer_id="84980",
        enrollment_status=PayerEnrollment.Status.ACTIVE,
        enrolled_on=datetime.date(2026, 2, 3),
        covers_835=True,
        covers_270=True,
    )

    html = login(admin_user).get(URL).content.decode()

    [card] = _cards(html)
    assert "Blue Cross Blue Shield of Texas" in card
    assert '<span class="badge enr-st-active" data-testid="status">Active</span>' in card
    assert "Waystar" in card
    assert ">84980<" in card
    assert "02/03/2026" in card
    assert re.findall(r"<li title=\"[^\"]+\">([^<]+)</li>", card) == ["837P", "835", "270/271"]
    assert "<table" not in html


def test_it_shows_a_dash_without_an_enrolled_date(login, admin_user, org):
    _enrollment(org, enrolled_on=None)
    [card] = _cards(login(admin_user).get(URL).content.decode())
    assert "<dt>Enrolled</dt><dd>—</dd>" in card


@pytest.mark.parametrize("status", PayerEnrollment.Status)
def test_it_gives_every_status_its_own_badge(login, admin_user, org, status):
    _enrollment(org, enrollment_status=status)
    html = login(admin_user).get(URL).content.decode()
    assert f'class="badge enr-st-{status.value}" data-testid="status">{status.label}<' in html


def test_it_lists_live_enrollments_newest_first(login, admin_user, org):
    now = timezone.now()
    _enrollment(org, electronic_payer_id="OLDEST", created_at=now - datetime.timedelta(days=3))
    _enrollment(org, electronic_payer_id="NEWEST", created_at=now)
    _enrollment(org, electronic_payer_id="MIDDLE", created_at=now - datetime.timedelta(days=1))
    _enrollment(org, electronic_payer_id="REMOVED", deleted_at=now)

    html = login(admin_user).get(URL).content.decode()

    assert _ids(html) == ["NEWEST", "MIDDLE", "OLDEST"]


def test_it_shows_the_add_and_change_actions_to_the_admin(login, admin_user, org):
    enrollment = _enrollment(org)
    html = login(admin_user).get(URL).content.decode()
    assert ">Quick Add</a>" in html
    assert f'href="{reverse("enrollment_wizard")}">New Enrollment</a>' in html
    assert reverse("enrollment_edit", args=[enrollment.pk]) in html
    assert f'action="{reverse("enrollment_status", args=[enrollment.pk])}"' in html
    assert reverse("enrollment_remove", args=[enrollment.pk]) in html


def test_it_hides_every_action_from_the_clerk(login, clerk, org):
    enrollment = _enrollment(org, electronic_payer_id="SEEN1")
    html = login(clerk).get(URL).content.decode()
    assert "SEEN1" in html
    assert "Quick Add" not in html
    assert "New Enrollment" not in html
    assert reverse("enrollment_quick_add") not in html
    assert reverse("enrollment_edit", args=[enrollment.pk]) not in html
    assert reverse("enrollment_status", args=[enrollment.pk]) not in html
    assert reverse("enrollment_remove", args=[enrollment.pk]) not in html


def test_a_member_with_create_but_not_edit_sees_only_the_add_actions(login, org):
    role = Role.objects.create(
        organization=org,
        name="Enroller",
        codes=["pm.payers.manage", "pm.payer_enrollments.create"],
    )
    user = factories.UserFactory(username="enroller")
    Membership.objects.create(user=user, organization=org, role=role)
    enrollment = _enrollment(org)
    html = login(user).get(URL).content.decode()
    assert "Quick Add" in html
    assert reverse("enrollment_edit", args=[enrollment.pk]) not in html


# --- filters -------------------------------------------------------------------------------


def test_it_filters_by_electronic_payer_id(login, admin_user, org):
    payer = factories.PayerFactory(organization=org, name="Cigna 62308")
    _enrollment(org, electronic_payer_id="62308")
    _enrollment(org, electronic_payer_id="CIGNA-62308-X")
    _enrollment(org, payer=payer, electronic_payer_id="OTHER")

    html = login(admin_user).get(URL, {"q": "62308"}).content.decode()

    assert sorted(_ids(html)) == ["62308", "CIGNA-62308-X"]
    assert 'value="62308"' in html  # the box keeps the filter after a reload


def test_it_matches_the_electronic_payer_id_ignoring_case(login, admin_user, org):
    _enrollment(org, electronic_payer_id="SX065")
    assert _ids(login(admin_user).get(URL, {"q": "sx0"}).content.decode()) == ["SX065"]


def test_it_filters_by_status(login, admin_user, org):
    _enrollment(org, electronic_payer_id="A1", enrollment_status="active")
    _enrollment(org, electronic_payer_id="R1", enrollment_status="rejected")

    html = login(admin_user).get(URL, {"status": "rejected"}).content.decode()

    assert _ids(html) == ["R1"]
    assert '<option value="rejected" selected>Rejected</option>' in html


def test_it_combines_search_and_status(login, admin_user, org):
    _enrollment(org, electronic_payer_id="87726", enrollment_status="active")
    _enrollment(org, electronic_payer_id="87726B", enrollment_status="pending")
    html = login(admin_user).get(URL, {"q": "87726", "status": "pending"}).content.decode()
    assert _ids(html) == ["87726B"]


def test_it_offers_all_statuses_and_the_five_in_the_dropdown(login, admin_user, org):
    html = login(admin_user).get(URL).content.decode()
    select = html.split('id="enr-status"')[1].split("</select>")[0]
    assert re.findall(r">([^<]+)</option>", select) == [
        "All statuses",
        "Pending",
        "Active",
        "Inactive",
        "Rejected",
        "Expired",
    ]


def test_it_ignores_an_unknown_status_in_the_query_string(login, admin_user, org):
    _enrollment(org, electronic_payer_id="A1")
    response = login(admin_user).get(URL, {"status": "bogus"})
    assert response.status_code == 200
    assert _ids(response.content.decode()) == ["A1"]


def test_it_searches_as_you_type_and_keeps_the_filter_in_the_address(login, admin_user, org):
    html = login(admin_user).get(URL).content.decode()
    search = html.split('id="enr-q"')[1].split(">")[0]
    assert 'hx-trigger="input changed delay:300ms, search"' in search
    form = html.split('role="search"')[1].split(">")[0]
    assert 'hx-push-url="true"' in form
    assert 'hx-target="#enrollment-cards"' in form
    assert f'action="{URL}"' in html.split('role="search"')[0].rsplit("<form", 1)[1]


def test_it_answers_htmx_with_only_the_cards(login, admin_user, org):
    _enrollment(org, electronic_payer_id="87726")
    _enrollment(org, electronic_payer_id="60054")

    response = login(admin_user).get(URL, {"q": "877"}, headers=HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="enrollment-cards">')
    assert "<h1>" not in html
    assert _ids(html) == ["87726"]
    assert "HX-Request" in response["Vary"]


# --- empty states --------------------------------------------------------------------------


def test_it_says_how_to_start_when_there_is_no_enrollment(login, admin_user, org):
    html = login(admin_user).get(URL).content.decode()
    assert NOTHING_YET in html
    assert NO_MATCH not in html


def test_it_treats_removed_enrollments_as_none(login, admin_user, org):
    _enrollment(org, deleted_at=timezone.now())
    assert NOTHING_YET in login(admin_user).get(URL).content.decode()


@pytest.mark.parametrize("query", [{"q": "NOPE"}, {"status": "expired"}])
def test_it_says_when_the_filters_match_nothing(login, admin_user, org, query):
    _enrollment(org, electronic_payer_id="60054", enrollment_status="active")
    html = login(admin_user).get(URL, query).content.decode()
    assert NO_MATCH in html
    assert NOTHING_YET not in html


def test_it_says_the_filtered_empty_state_in_the_htmx_answer_too(login, admin_user, org):
    html = login(admin_user).get(URL, {"q": "NOPE"}, headers=HTMX).content.decode()
    assert NO_MATCH in html


# --- before you start ----------------------------------------------------------------------


def test_it_tells_a_creator_to_add_a_payer_and_a_clearinghouse_first(login, admin_user, org):
    html = login(admin_user).get(URL).content.decode()
    assert "There is no payer yet." in html
    assert f'href="{reverse("payer_list")}"' in html
    assert "There is no active clearinghouse configuration yet." in html
    assert f'href="{reverse("clearinghouse_list")}"' in html


def test_it_counts_only_active_clearinghouses_as_ready(login, admin_user, org):
    factories.PayerFactory(organization=org)
    factories.ClearinghouseConfigFactory(organization=org, is_active=False)
    html = login(admin_user).get(URL).content.decode()
    assert "There is no payer yet." not in html
    assert "There is no active clearinghouse configuration yet." in html


def test_it_has_no_setup_message_when_ready(login, admin_user, org):
    _enrollment(org)
    assert 'data-testid="setup-message"' not in login(admin_user).get(URL).content.decode()


def test_it_shows_no_setup_message_to_the_clerk(login, clerk, org):
    assert 'data-testid="setup-message"' not in login(clerk).get(URL).content.decode()


# --- pagination ----------------------------------------------------------------------------


def test_it_paginates_by_fifty_and_keeps_the_filters_in_the_page_links(login, admin_user, org):
    factories.PayerEnrollmentFactory.create_batch(55, organization=org, enrollment_status="active")
    _enrollment(org, enrollment_status="pending")
    client = login(admin_user)

    first = client.get(URL, {"status": "active"}).content.decode()

    assert len(_cards(first)) == 50
    assert "55 enrollments · page 1 of 2" in first
    assert f'href="{URL}?status=active&amp;page=2"' in first
    second = client.get(URL, {"status": "active", "page": 2}).content.decode()
    assert len(_cards(second)) == 5
    assert f'href="{URL}?status=active&amp;page=1"' in second


def test_it_stays_fast_with_ten_thousand_enrollments(login, admin_user, org):
    payers = factories.PayerFactory.create_batch(100, organization=org)
    configs = ClearinghouseConfig.objects.bulk_create(
        ClearinghouseConfig(
            organization=org, vendor="sandbox", display_name=f"CH {i}", base_url="http://x.test"
        )
        for i in range(100)
    )
    now = timezone.now()
    PayerEnrollment.objects.bulk_create(
        PayerEnrollment(
            organization=org,
            payer=payer,
            clearinghouse=config,
            electronic_payer_id=f"E{p:03d}{c:03d}",
            enrollment_status="active",
            created_at=now - datetime.timedelta(minutes=p * 100 + c),
        )
        for p, payer in enumerate(payers)
        for c, config in enumerate(configs)
    )
    assert PayerEnrollment.objects.count() == 10_000
    client = login(admin_user)
    client.get(URL)  # warm the session and permission caches

    with CaptureQueriesContext(connection) as queries:
        html = client.get(URL, {"page": 7}).content.decode()

    assert len(queries) <= 12, [q["sql"] for q in queries]
    rows = [q["sql"] for q in queries if 'FROM "clearinghouse_payerenrollment"' in q["sql"]]
    # the count and one page, payer and clearinghouse joined; the payer alerts (silent ERA
    # enrollments, enrollments ending soon) in one more
    assert len(rows) == 3
    assert any("LIMIT 50" in sql and "OFFSET 300" in sql for sql in rows)
    assert len(_cards(html)) == 50
    assert "10,000 enrollments · page 7 of 200" in html
    assert _ids(html)[0] == "E003000"
