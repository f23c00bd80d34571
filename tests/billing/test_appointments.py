from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.messages import get_messages
from django.db import transaction
from django.urls import reverse
from django.utils import dateformat, timezone

from billing.models import Appointment, AuditLog
from billing.services.appointments import appointment_update
from tests import factories

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")
HTMX = {"HX-Request": "true", "HX-Target": "appointment-rows"}


def _local_today() -> datetime.date:
    return timezone.localtime(timezone.now(), NEW_YORK).date()


def _at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    """A moment on a day in the organization's time zone (New York)."""
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=NEW_YORK)


def _appointment(org, *, days: int = 2, hour: int = 10, **kwargs):
    kwargs.setdefault("scheduled_at", _at(_local_today() + datetime.timedelta(days=days), hour))
    if "patient" not in kwargs:
        kwargs["patient"] = factories.PatientFactory(organization=org)
    if "provider" not in kwargs:
        kwargs["provider"] = factories.ProviderFactory(organization=org)
    return factories.AppointmentFactory(organization=org, **kwargs)


def _rows(html: str) -> str:
    return html.split("<tbody>")[1].split("</tbody>")[0] if "<tbody>" in html else ""


def _form(patient, provider, **overrides):
    data = {
        "account_number": patient.account_number,
        "provider": provider.pk,
        "date": (_local_today() + datetime.timedelta(days=3)).isoformat(),
        "time": "09:30",
        "duration_minutes": "30",
        "reason": "Follow-up",
        "status": "scheduled",
    }
    data.update(overrides)
    return data


# --- the list ---------------------------------------------------------------------------


def test_it_sends_anonymous_visitors_to_the_login_page(client, org):
    appointment = _appointment(org)
    for url in (
        reverse("appointment_list"),
        reverse("appointment_add"),
        reverse("appointment_edit", args=[appointment.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_it_lists_the_next_two_weeks_soonest_first(login, clerk, org, other_org):
    later = _appointment(org, days=5, reason="Later visit")
    sooner = _appointment(org, days=1, reason="Sooner visit")
    _appointment(org, days=20, reason="Too far ahead")
    _appointment(org, days=-3, reason="Already happened")
    other_patient = factories.PatientFactory(organization=other_org)
    factories.AppointmentFactory(
        organization=other_org,
        patient=other_patient,
        provider=factories.ProviderFactory(organization=other_org),
        reason="Other practice",
    )

    html = login(clerk).get(reverse("appointment_list")).content.decode()

    rows = _rows(html)
    assert rows.index("Sooner visit") < rows.index("Later visit")
    assert "Too far ahead" not in rows
    assert "Already happened" not in rows
    assert "Other practice" not in html
    assert reverse("patient_detail", args=[later.patient.pk]) in rows
    assert f'name="appointment_ids" value="{sooner.pk}"' in rows
    assert "Select all appointments on this page" in html
    today = _local_today()
    assert f'value="{today.isoformat()}"' in html
    assert f'value="{(today + datetime.timedelta(days=14)).isoformat()}"' in html


def test_it_shows_times_in_the_organizations_time_zone(login, clerk, org):
    day = _local_today() + datetime.timedelta(days=3)
    # 14:30 UTC is 9:30 or 10:30 in New York, depending on daylight saving time.
    moment = datetime.datetime.combine(day, datetime.time(14, 30), tzinfo=datetime.UTC)
    _appointment(org, scheduled_at=moment, reason="Timed visit")
    local = moment.astimezone(NEW_YORK)

    html = login(clerk).get(reverse("appointment_list")).content.decode()

    row = _rows(html)
    assert dateformat.format(local, "g:i A") in row
    assert f"{local:%m/%d/%Y}" in row
    assert "Times in America/New_York." in html


def test_it_shows_the_row_details_and_an_unchecked_eligibility_column(login, clerk, org):
    provider = factories.ProviderFactory(organization=org, first_name="Nora", last_name="Quill")
    _appointment(
        org,
        provider=provider,
        reason="Knee pain",
        duration_minutes=40,
        status=Appointment.Status.CHECKED_IN,
    )

    html = login(clerk).get(reverse("appointment_list")).content.decode()

    row = _rows(html)
    assert "Nora Quill, MD" in row
    assert "Knee pain" in row
    assert "40 min" in row
    assert '<span class="badge ca-appt-checked_in">Checked in</span>' in row
    assert "Check eligibility" in row  # never checked; the clerk holds pm.eligibility.check
    assert "<th>Eligibility</th>" in html


def test_it_shows_past_visits_latest_first(login, clerk, org):
    _appointment(org, days=-10, reason="Ten days ago", status=Appointment.Status.COMPLETED)
    _appointment(org, days=-2, reason="Two days ago", status=Appointment.Status.NO_SHOW)
    _appointment(org, days=-30, reason="A month ago")
    _appointment(org, days=2, reason="Still to come")

    html = login(clerk).get(reverse("appointment_list"), {"when": "past"}).content.decode()

    rows = _rows(html)
    assert rows.index("Two days ago") < rows.index("Ten days ago")
    assert "A month ago" not in rows
    assert "Still to come" not in rows
    assert 'aria-current="page">Past</a>' in html


def test_it_filters_by_provider_status_and_dates(login, clerk, org):
    lee = factories.ProviderFactory(organization=org, last_name="Lee")
    kim = factories.ProviderFactory(organization=org, last_name="Kim")
    _appointment(org, days=1, provider=lee, reason="Lee scheduled")
    _appointment(org, days=1, provider=kim, reason="Kim scheduled")
    _appointment(
        org, days=1, provider=lee, reason="Lee cancelled", status=Appointment.Status.CANCELLED
    )
    _appointment(org, days=30, provider=lee, reason="Lee next month")
    client = login(clerk)

    by_provider = _rows(
        client.get(reverse("appointment_list"), {"provider": lee.pk}).content.decode()
    )
    by_status = _rows(
        client.get(
            reverse("appointment_list"), {"provider": lee.pk, "status": "cancelled"}
        ).content.decode()
    )
    wide = _rows(
        client.get(
            reverse("appointment_list"),
            {"date_from": _local_today().isoformat(), "date_to": ""},
        ).content.decode()
    )

    assert "Lee scheduled" in by_provider and "Lee cancelled" in by_provider
    assert "Kim scheduled" not in by_provider
    assert "Lee next month" not in by_provider
    assert "Lee cancelled" in by_status and "Lee scheduled" not in by_status
    assert "Lee next month" in wide  # an emptied end date means no end


def test_it_keeps_provider_and_status_when_switching_direction(login, clerk, org):
    lee = factories.ProviderFactory(organization=org)

    html = (
        login(clerk)
        .get(
            reverse("appointment_list"),
            {"provider": lee.pk, "status": "completed", "date_from": "2026-01-01"},
        )
        .content.decode()
    )

    assert f'href="?provider={lee.pk}&amp;status=completed&amp;when=past"' in html


def test_it_ignores_another_organizations_provider_in_the_filter(login, clerk, org, other_org):
    _appointment(org, reason="Ours")
    foreign = factories.ProviderFactory(organization=other_org, last_name="Foreigner")

    html = login(clerk).get(reverse("appointment_list"), {"provider": foreign.pk}).content.decode()

    assert "Provider filter ignored" in html
    assert "Ours" in _rows(html)
    assert "Foreigner" not in html


def test_it_says_when_nothing_is_scheduled(login, clerk, org):
    html = login(clerk).get(reverse("appointment_list")).content.decode()
    assert "No upcoming appointments match these filters." in html


def test_it_paginates(login, clerk, org):
    patient = factories.PatientFactory(organization=org)
    provider = factories.ProviderFactory(organization=org)
    for n in range(55):
        _appointment(org, days=1 + n % 10, patient=patient, provider=provider)
    client = login(clerk)

    first = client.get(reverse("appointment_list")).content.decode()
    second = client.get(reverse("appointment_list"), {"page": 2}).content.decode()

    assert "55 rows · page 1 of 2" in first
    assert _rows(first).count("<tr>") == 50
    assert _rows(second).count("<tr>") == 5


def test_it_answers_htmx_with_only_the_rows(login, clerk, org):
    _appointment(org, reason="Shown", status=Appointment.Status.SCHEDULED)
    _appointment(org, reason="Hidden", status=Appointment.Status.CANCELLED)

    response = login(clerk).get(reverse("appointment_list"), {"status": "scheduled"}, headers=HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="appointment-rows">')
    assert "<h1>" not in html
    assert "Shown" in html and "Hidden" not in html
    assert "HX-Request" in response["Vary"]


def test_it_lists_appointments_in_a_bounded_number_of_queries(
    login, clerk, org, django_assert_max_num_queries
):
    for _ in range(30):
        _appointment(org)
    client = login(clerk)
    client.get(reverse("appointment_list"))

    with django_assert_max_num_queries(11):  # one of them: the page's latest eligibility checks
        response = client.get(reverse("appointment_list"))

    assert _rows(response.content.decode()).count("<tr>") == 30


def test_it_shows_edit_links_only_to_members_who_may_edit(login, clerk, manager, org):
    appointment = _appointment(org)
    edit = reverse("appointment_edit", args=[appointment.pk])

    assert edit not in login(clerk).get(reverse("appointment_list")).content.decode()
    manager_html = login(manager).get(reverse("appointment_list")).content.decode()
    assert edit in manager_html
    assert reverse("appointment_add") in manager_html


# --- add --------------------------------------------------------------------------------


def test_it_books_an_appointment_in_the_organizations_time_zone(login, manager, org):
    patient = factories.PatientFactory(organization=org, last_name="Rivera")
    provider = factories.ProviderFactory(organization=org)
    day = _local_today() + datetime.timedelta(days=3)

    response = login(manager).post(reverse("appointment_add"), _form(patient, provider))

    assert response.status_code == 302
    assert response["Location"] == reverse("appointment_list")
    appointment = Appointment.objects.get()
    assert appointment.organization == org
    assert appointment.patient == patient
    assert appointment.provider == provider
    assert appointment.scheduled_at == _at(day, 9, 30)
    assert appointment.duration_minutes == 30
    assert appointment.reason == "Follow-up"
    assert appointment.status == Appointment.Status.SCHEDULED
    row = AuditLog.objects.get(action="appointment.create")
    assert row.record_id == str(appointment.pk)
    assert row.new_values["patient_id"] == patient.pk
    assert row.new_values["status"] == "scheduled"
    message = str(next(iter(get_messages(response.wsgi_request))))
    assert message == f"Appointment booked: Rivera, Jordan on {day:%m/%d/%Y} at 9:30 AM."


def test_it_records_a_past_visit(login, manager, org):
    patient = factories.PatientFactory(organization=org)
    provider = factories.ProviderFactory(organization=org)
    yesterday = _local_today() - datetime.timedelta(days=1)

    login(manager).post(
        reverse("appointment_add"),
        _form(patient, provider, date=yesterday.isoformat(), status="completed"),
    )

    appointment = Appointment.objects.get()
    assert appointment.scheduled_at == _at(yesterday, 9, 30)
    assert appointment.status == Appointment.Status.COMPLETED


def test_it_prefills_the_account_number(login, manager, org):
    html = (
        login(manager)
        .get(reverse("appointment_add"), {"account_number": "P000123"})
        .content.decode()
    )
    assert 'value="P000123"' in html


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"account_number": "NOPE-1"}, "No patient with account number NOPE-1 in"),
        ({"duration_minutes": "0"}, "Ensure this value is greater than or equal to 1."),
        ({"duration_minutes": "481"}, "Ensure this value is less than or equal to 480."),
        ({"date": "someday"}, "Enter a valid date."),
        ({"time": "25:00"}, "Enter a valid time."),
        ({"status": "lost"}, "Select a valid choice."),
    ],
)
def test_it_refuses_bad_input_and_saves_nothing(login, manager, org, overrides, message):
    patient = factories.PatientFactory(organization=org)
    provider = factories.ProviderFactory(organization=org)

    response = login(manager).post(
        reverse("appointment_add"), _form(patient, provider, **overrides)
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert 'class="field-error"' in response.content.decode()
    assert not Appointment.objects.exists()
    assert not AuditLog.objects.exists()


def test_it_refuses_another_organizations_patient_and_provider(login, manager, org, other_org):
    foreign_patient = factories.PatientFactory(organization=other_org, account_number="NSO-77")
    foreign_provider = factories.ProviderFactory(organization=other_org)

    response = login(manager).post(
        reverse("appointment_add"), _form(foreign_patient, foreign_provider)
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "No patient with account number NSO-77 in Demo Family Practice." in html
    assert "Choose one of this organization&#x27;s providers." in html
    assert not Appointment.objects.exists()


def test_it_refuses_the_clerk_and_books_nothing(login, clerk, org):
    patient = factories.PatientFactory(organization=org)
    provider = factories.ProviderFactory(organization=org)
    client = login(clerk)

    assert client.get(reverse("appointment_add")).status_code == 403
    assert client.post(reverse("appointment_add"), _form(patient, provider)).status_code == 403

    assert not Appointment.objects.exists()
    assert not AuditLog.objects.exists()


# --- edit -------------------------------------------------------------------------------


def test_it_shows_the_appointment_in_the_form(login, manager, org):
    patient = factories.PatientFactory(organization=org, account_number="ACC-555")
    day = _local_today() + datetime.timedelta(days=4)
    appointment = _appointment(
        org, patient=patient, scheduled_at=_at(day, 15, 40), duration_minutes=45
    )

    html = login(manager).get(reverse("appointment_edit", args=[appointment.pk])).content.decode()

    assert 'value="ACC-555"' in html
    assert f'value="{day.isoformat()}"' in html
    assert 'value="15:40"' in html
    assert 'value="45"' in html
    assert f'<option value="{appointment.provider_id}" selected>' in html


@pytest.mark.parametrize("status", ["cancelled", "no_show", "completed"])
def test_it_changes_the_status_and_audits_only_what_changed(login, manager, org, status):
    appointment = _appointment(org, hour=11)
    local = timezone.localtime(appointment.scheduled_at, NEW_YORK)
    data = _form(
        appointment.patient,
        appointment.provider,
        date=local.date().isoformat(),
        time=f"{local:%H:%M}",
        duration_minutes=str(appointment.duration_minutes),
        reason=appointment.reason,
        status=status,
    )

    response = login(manager).post(reverse("appointment_edit", args=[appointment.pk]), data)

    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == status
    row = AuditLog.objects.get(action="appointment.update")
    assert row.record_id == str(appointment.pk)
    assert row.old_values == {"status": "scheduled"}
    assert row.new_values == {"status": status}


def test_it_moves_an_appointment_to_another_provider_and_time(login, manager, org):
    appointment = _appointment(org)
    provider = factories.ProviderFactory(organization=org)
    day = _local_today() + datetime.timedelta(days=6)

    login(manager).post(
        reverse("appointment_edit", args=[appointment.pk]),
        _form(appointment.patient, provider, date=day.isoformat(), time="16:20"),
    )

    appointment.refresh_from_db()
    assert appointment.provider == provider
    assert appointment.scheduled_at == _at(day, 16, 20)
    row = AuditLog.objects.get(action="appointment.update")
    assert set(row.new_values) >= {"provider_id", "scheduled_at"}


def test_it_refuses_bad_edits_and_changes_nothing(login, manager, org, other_org):
    appointment = _appointment(org, duration_minutes=20)
    foreign_provider = factories.ProviderFactory(organization=other_org)
    before = Appointment.objects.values().get(pk=appointment.pk)
    client = login(manager)

    zero = client.post(
        reverse("appointment_edit", args=[appointment.pk]),
        _form(appointment.patient, appointment.provider, duration_minutes="0"),
    )
    foreign = client.post(
        reverse("appointment_edit", args=[appointment.pk]),
        _form(appointment.patient, foreign_provider),
    )
    unknown = client.post(
        reverse("appointment_edit", args=[appointment.pk]),
        _form(appointment.patient, appointment.provider, account_number="NOPE"),
    )

    assert zero.status_code == foreign.status_code == unknown.status_code == 200
    assert "greater than or equal to 1" in zero.content.decode()
    assert "Choose one of this organization&#x27;s providers." in foreign.content.decode()
    assert "No patient with account number NOPE" in unknown.content.decode()
    assert Appointment.objects.values().get(pk=appointment.pk) == before
    assert not AuditLog.objects.exists()


def test_it_hides_another_organizations_appointment(login, other, org):
    appointment = _appointment(org, reason="Private reason")
    before = Appointment.objects.values().get(pk=appointment.pk)
    other_provider = factories.ProviderFactory(organization=other.memberships.get().organization)
    client = login(other)

    page = client.get(reverse("appointment_edit", args=[appointment.pk]))
    post = client.post(
        reverse("appointment_edit", args=[appointment.pk]),
        _form(appointment.patient, other_provider, status="cancelled"),
    )

    assert page.status_code == 404
    assert b"Private reason" not in page.content
    assert post.status_code == 404
    assert Appointment.objects.values().get(pk=appointment.pk) == before
    assert not AuditLog.objects.exists()


def test_it_refuses_the_clerk_edits_and_changes_nothing(login, clerk, org):
    appointment = _appointment(org)
    before = Appointment.objects.values().get(pk=appointment.pk)
    client = login(clerk)

    assert client.get(reverse("appointment_edit", args=[appointment.pk])).status_code == 403
    response = client.post(
        reverse("appointment_edit", args=[appointment.pk]),
        _form(appointment.patient, appointment.provider, status="cancelled"),
    )

    assert response.status_code == 403
    assert Appointment.objects.values().get(pk=appointment.pk) == before
    assert not AuditLog.objects.exists()


def test_it_writes_no_audit_row_when_nothing_changes(org, admin_user):
    appointment = _appointment(org)

    with transaction.atomic():
        changed = appointment_update(
            organization=org,
            actor=admin_user,
            appointment=appointment,
            patient=appointment.patient,
            provider=appointment.provider,
            scheduled_at=timezone.localtime(appointment.scheduled_at, NEW_YORK),
            duration_minutes=appointment.duration_minutes,
            reason=appointment.reason,
            status=appointment.status,
        )

    assert changed is False
    assert not AuditLog.objects.exists()
