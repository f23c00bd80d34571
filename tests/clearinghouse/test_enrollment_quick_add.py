"""Quick Add: the inline dialog (htmx) and its no-JavaScript page."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from billing.models import AuditLog, Membership, Role
from clearinghouse.models import PayerEnrollment
from tests import factories

pytestmark = pytest.mark.django_db

URL = reverse("enrollment_quick_add")
LIST = reverse("enrollment_list")
HTMX = {"HX-Request": "true", "HX-Target": "enr-dialog"}


@pytest.fixture
def payer(org):
    return factories.PayerFactory(organization=org, name="Aetna")


@pytest.fixture
def waystar(org):
    return factories.ClearinghouseConfigFactory(organization=org, display_name="Waystar")


@pytest.fixture
def data(payer, waystar):
    return {
        "payer": payer.pk,
        "clearinghouse": waystar.pk,
        "electronic_payer_id": "60054",
        "transaction_types": ["837P", "835"],
        "enrollment_status": "pending",
        "enrolled_on": "",
        "effective_from": "2026-01-01",
        "effective_to": "",
        "notes": "",
    }


def _post_htmx(client, data, current_url="http://testserver" + LIST):
    return client.post(
        URL,
        data,
        headers={
            "HX-Request": "true",
            "HX-Target": "enrollment-form",
            "HX-Current-URL": current_url,
        },
    )


# --- who may add ---------------------------------------------------------------------------


def test_it_sends_anonymous_visitors_to_login(client, org, data):
    for response in (client.get(URL), client.post(URL, data)):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert not PayerEnrollment.objects.exists()


def test_it_refuses_the_clerk_and_saves_nothing(login, clerk, data):
    client = login(clerk)
    assert client.get(URL).status_code == 403
    assert client.get(URL, headers=HTMX).status_code == 403
    assert client.post(URL, data).status_code == 403
    assert _post_htmx(client, data).status_code == 403
    assert not PayerEnrollment.objects.exists()
    assert not AuditLog.objects.exists()


def test_it_refuses_a_creator_without_the_payers_code(login, org, data):
    role = Role.objects.create(
        organization=org, name="No payers", codes=["pm.payer_enrollments.create"]
    )
    user = factories.UserFactory(username="nopayers")
    Membership.objects.create(user=user, organization=org, role=role)
    assert login(user).post(URL, data).status_code == 403
    assert not PayerEnrollment.objects.exists()


def test_it_does_not_offer_or_accept_another_organizations_payer(
    login, other, other_org, data, payer
):
    their_payer = factories.PayerFactory(organization=other_org, name="Their payer")
    their_waystar = factories.ClearinghouseConfigFactory(organization=other_org)
    client = login(other)
    form = client.get(URL).content.decode().split('id="id_payer"')[1].split("</select>")[0]
    assert "Their payer" in form
    assert payer.name not in form
    response = client.post(URL, {**data, "clearinghouse": their_waystar.pk})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not PayerEnrollment.objects.exists()
    assert their_payer.enrollments.count() == 0


def test_it_does_not_accept_another_organizations_clearinghouse(login, admin_user, other_org, data):
    theirs = factories.ClearinghouseConfigFactory(organization=other_org)
    response = login(admin_user).post(URL, {**data, "clearinghouse": theirs.pk})
    assert "Select a valid choice" in response.content.decode()
    assert not PayerEnrollment.objects.exists()


# --- the dialog ----------------------------------------------------------------------------


def test_it_answers_htmx_with_the_dialog_and_its_form(login, admin_user, payer, waystar):
    response = login(admin_user).get(URL, headers=HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<dialog id="enr-modal"')
    assert "<h1>" not in html
    assert f'hx-post="{URL}"' in html
    assert 'name="electronic_payer_id"' in html
    assert ">Aetna</option>" in html
    assert ">Waystar</option>" in html
    assert "showModal()" in html
    assert "HX-Request" in response["Vary"]


def test_the_list_opens_the_dialog_with_htmx_and_links_the_page_without(login, admin_user, org):
    html = login(admin_user).get(LIST, {"status": "active"}).content.decode()
    link = html.split(">Quick Add</a>")[0].rsplit("<a", 1)[1]
    assert f'href="{URL}?next=%2Fpm%2Fclearinghouse%2Fenrollments%3Fstatus%3Dactive"' in link
    assert f'hx-get="{URL}"' in link
    assert 'hx-target="#enr-dialog"' in link


def test_it_offers_only_active_clearinghouses(login, admin_user, org, payer, waystar):
    factories.ClearinghouseConfigFactory(
        organization=org, display_name="Old vendor", is_active=False
    )
    html = login(admin_user).get(URL, headers=HTMX).content.decode()
    assert "Waystar" in html
    assert "Old vendor" not in html


def test_it_adds_from_the_dialog_and_answers_with_the_updated_cards(
    login, admin_user, org, data, payer
):
    factories.PayerEnrollmentFactory(organization=org, electronic_payer_id="OLDER1")

    response = _post_htmx(login(admin_user), data)

    assert response.status_code == 200
    enrollment = PayerEnrollment.objects.get(electronic_payer_id="60054")
    assert enrollment.payer == payer
    assert enrollment.transaction_types == ["837P", "835"]
    assert enrollment.effective_from == datetime.date(2026, 1, 1)
    assert response["HX-Retarget"] == "#enrollment-cards"
    assert response["HX-Reswap"] == "outerHTML"
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="enrollment-cards">')
    assert "Enrollment added: Aetna via Waystar (60054)." in html
    assert html.index(">60054<") < html.index(">OLDER1<")  # newest first
    assert '<div id="enr-dialog" hx-swap-oob="true"></div>' in html  # closes the dialog
    [row] = AuditLog.objects.filter(action="enrollment.create")
    assert row.actor == admin_user
    assert row.record_id == str(enrollment.pk)


def test_the_updated_cards_keep_the_filters_of_the_page(login, admin_user, org, data):
    factories.PayerEnrollmentFactory(organization=org, electronic_payer_id="600-OTHER")
    factories.PayerEnrollmentFactory(organization=org, electronic_payer_id="NOMATCH")

    html = _post_htmx(
        login(admin_user), data, current_url=f"http://testserver{LIST}?q=600&status="
    ).content.decode()

    assert ">60054<" in html
    assert ">600-OTHER<" in html
    assert ">NOMATCH<" not in html
    assert 'name="next" value="/pm/clearinghouse/enrollments?q=600"' in html


def test_it_shows_errors_inside_the_dialog_with_422_and_saves_nothing(login, admin_user, data):
    response = _post_htmx(
        login(admin_user),
        {**data, "electronic_payer_id": "AB*1", "effective_to": "2025-12-31"},
    )

    assert response.status_code == 422
    html = response.content.decode()
    assert html.lstrip().startswith('<form id="enrollment-form"')
    assert "An electronic payer id cannot contain the X12 delimiters ~ * : ^ (found *)." in html
    assert "The end date cannot be before the effective date." in html
    assert 'value="AB*1"' in html  # what was typed stays
    assert "event.detail.xhr.status === 422" in html  # htmx swaps the 422 into the dialog
    assert not PayerEnrollment.objects.exists()
    assert not AuditLog.objects.exists()


# --- without JavaScript --------------------------------------------------------------------


def test_it_is_a_normal_page_without_javascript(login, admin_user, payer, waystar):
    html = login(admin_user).get(URL).content.decode()
    assert "<h1>Quick Add enrollment</h1>" in html
    assert f'action="{URL}"' in html
    assert "hx-post" not in html.split('id="enrollment-form"')[1].split(">")[0]
    assert "csrfmiddlewaretoken" in html


def test_it_adds_and_redirects_back_to_the_filtered_list(login, admin_user, data):
    client = login(admin_user)
    response = client.post(URL, {**data, "next": f"{LIST}?status=pending"})

    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?status=pending"
    assert PayerEnrollment.objects.filter(electronic_payer_id="60054").exists()
    html = client.get(response["Location"]).content.decode()
    assert "Enrollment added: Aetna via Waystar (60054)." in html


@pytest.mark.parametrize("next_url", ["https://evil.example/", "/pm/patients", "//evil.example"])
def test_it_never_redirects_off_the_list(login, admin_user, data, next_url):
    response = login(admin_user).post(URL, {**data, "next": next_url})
    assert response["Location"] == LIST


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "Enter the electronic payer id the clearinghouse uses."),
        ("   ", "Enter the electronic payer id the clearinghouse uses."),
        ("X" * 81, "at most 80 characters"),
        ("AB~1", "(found ~)"),
        ("AB*1", "(found *)"),
        ("AB:1", "(found :)"),
        ("AB^1", "(found ^)"),
        ("caf\u00e9", "Use visible characters only"),
    ],
)
def test_it_refuses_a_bad_electronic_payer_id(login, admin_user, data, value, message):
    response = login(admin_user).post(URL, {**data, "electronic_payer_id": value})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not PayerEnrollment.objects.exists()


def test_it_trims_the_electronic_payer_id(login, admin_user, data):
    login(admin_user).post(URL, {**data, "electronic_payer_id": "  60054  "})
    assert PayerEnrollment.objects.get().electronic_payer_id == "60054"


def test_it_accepts_eighty_characters(login, admin_user, data):
    login(admin_user).post(URL, {**data, "electronic_payer_id": "Y" * 80})
    assert PayerEnrollment.objects.get().electronic_payer_id == "Y" * 80


def test_it_refuses_a_second_live_enrollment_with_a_message_on_the_payer(
    login, admin_user, org, data, payer, waystar
):
    factories.PayerEnrollmentFactory(organization=org, payer=payer, clearinghouse=waystar)

    response = _post_htmx(login(admin_user), {**data, "electronic_payer_id": "NEW"})

    assert response.status_code == 422
    html = response.content.decode()
    payer_field = html.split('for="id_payer"')[1].split('for="id_clearinghouse"')[0]
    assert "Aetna already has an enrollment with Waystar. Edit that one instead." in payer_field
    assert PayerEnrollment.objects.count() == 1
    assert not AuditLog.objects.exists()


def test_it_needs_a_transaction_type(login, admin_user, data):
    response = login(admin_user).post(URL, {**data, "transaction_types": []})
    assert "Choose at least one transaction type." in response.content.decode()
    assert not PayerEnrollment.objects.exists()


def test_it_refuses_an_enrolled_date_in_the_future(login, admin_user, data):
    response = login(admin_user).post(URL, {**data, "enrolled_on": "2999-01-01"})
    assert "The enrolled date cannot be in the future." in response.content.decode()
    assert not PayerEnrollment.objects.exists()


def test_it_refuses_an_inactive_clearinghouse(login, admin_user, org, data, waystar):
    waystar.is_active = False
    waystar.save()
    factories.ClearinghouseConfigFactory(organization=org)  # another one keeps the form open
    response = login(admin_user).post(URL, data)
    assert "Select a valid choice" in response.content.decode()
    assert not PayerEnrollment.objects.exists()


# --- before you start ----------------------------------------------------------------------


def test_it_sends_the_user_to_the_payers_page_when_there_is_no_payer(login, admin_user, org):
    factories.ClearinghouseConfigFactory(organization=org)
    html = login(admin_user).get(URL, headers=HTMX).content.decode()
    assert "There is no payer yet." in html
    assert f'href="{reverse("payer_list")}"' in html
    assert 'name="electronic_payer_id"' not in html


def test_it_sends_the_user_to_the_clearinghouse_page_without_an_active_one(
    login, admin_user, org, payer
):
    factories.ClearinghouseConfigFactory(organization=org, is_active=False)
    html = login(admin_user).get(URL).content.decode()
    assert "There is no active clearinghouse configuration yet." in html
    assert f'href="{reverse("clearinghouse_list")}"' in html
    assert 'name="electronic_payer_id"' not in html


# --- in a browser --------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_biller_quick_adds_filters_and_removes_in_the_browser(page, admin_user, org):
    factories.PayerFactory(organization=org, name="Aetna")
    factories.ClearinghouseConfigFactory(organization=org, display_name="Waystar")
    factories.PayerEnrollmentFactory(
        organization=org, electronic_payer_id="87726", enrollment_status="active"
    )
    page.goto("/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "demo")
    page.click("button[type=submit]")
    page.wait_for_selector("h1:has-text('Dashboard')")
    page.goto(LIST)

    page.click("text=Quick Add")
    dialog = page.locator("dialog#enr-modal[open]")
    dialog.wait_for()
    dialog.locator("#id_payer").select_option(label="Aetna")
    dialog.locator("#id_clearinghouse").select_option(label="Waystar")
    dialog.locator("#id_electronic_payer_id").fill("600:54")
    dialog.locator("button[type=submit]").click()
    dialog.locator(".field-error:has-text('(found :)')").wait_for()
    assert not PayerEnrollment.objects.filter(payer__name="Aetna").exists()
    dialog.locator("#id_electronic_payer_id").fill("60054")
    dialog.locator("button[type=submit]").click()
    page.wait_for_selector("text=Enrollment added: Aetna via Waystar (60054).")
    assert page.locator("dialog").count() == 0
    assert page.url.endswith(LIST)  # no full reload, no navigation
    assert PayerEnrollment.objects.filter(electronic_payer_id="60054").exists()

    page.fill("#enr-q", "877")
    page.wait_for_url(f"**{LIST}?q=877*")
    page.wait_for_selector("[data-testid=electronic-payer-id]:has-text('60054')", state="detached")
    page.select_option("#enr-status", "pending")
    page.wait_for_selector("text=No enrollments match the current filters.")
    page.reload()
    assert page.input_value("#enr-q") == "877"
    page.select_option("#enr-status", "")
    page.fill("#enr-q", "")
    page.wait_for_selector("[data-testid=electronic-payer-id]:has-text('60054')")

    card = page.locator("[data-testid=enrollment-card]", has_text="60054")
    card.locator("text=Remove").click()
    page.locator("dialog#enr-modal[open]:has-text('Claims already sent through it')").wait_for()
    page.click("dialog button:has-text('Remove enrollment')")
    page.wait_for_selector("text=Enrollment removed: Aetna via Waystar (60054).")
    assert PayerEnrollment.objects.get(electronic_payer_id="60054").deleted_at is not None
