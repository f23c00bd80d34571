"""Silent-payer alerts on the dashboard and the enrollments page: active ERA enrollments
whose last ERA is older than ERA_SILENT_AFTER_DAYS (default 30), and active enrollments
ending within 30 days."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from clearinghouse.followup_selectors import era_enrollment_alerts
from tests import factories

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def enrollment(org, name, **fields):
    fields.setdefault("enrollment_status", "active")
    fields.setdefault("covers_835", True)
    return factories.PayerEnrollmentFactory(
        organization=org, payer=factories.PayerFactory(organization=org, name=name), **fields
    )


@pytest.fixture
def enrollments(org):
    now = timezone.now()
    today = timezone.localdate()
    made = {
        "quiet": enrollment(org, "Quiet Mutual", last_era_received_at=now - 45 * DAY),
        "recent": enrollment(org, "Recent Health", last_era_received_at=now - 3 * DAY),
        "never": enrollment(org, "Never Paid Co", created_at=now - 60 * DAY),
        "new": enrollment(org, "New Plan", effective_from=today - 5 * DAY),
        "inactive": enrollment(
            org, "Dormant Care", enrollment_status="inactive", last_era_received_at=now - 90 * DAY
        ),
        "removed": enrollment(
            org, "Removed Health", last_era_received_at=now - 90 * DAY, deleted_at=now
        ),
        "ending": enrollment(
            org, "Ending Soon Plan", covers_835=False, effective_to=today + 10 * DAY
        ),
        "later": enrollment(org, "Ending Later", covers_835=False, effective_to=today + 45 * DAY),
    }
    return made


def test_it_lists_silent_era_enrollments_and_those_ending_soon(org, enrollments):
    alerts = era_enrollment_alerts(org)
    assert [e.payer.name for e in alerts.silent] == ["Never Paid Co", "Quiet Mutual"]
    assert [e.payer.name for e in alerts.ending] == ["Ending Soon Plan"]
    assert alerts.days == 30
    assert alerts.silent[1].silent_days == 45 and alerts.ending[0].ends_in_days == 10


def test_the_number_of_days_is_a_setting(org, enrollments, settings):
    settings.ERA_SILENT_AFTER_DAYS = 50
    alerts = era_enrollment_alerts(org)
    assert [e.payer.name for e in alerts.silent] == ["Never Paid Co"]
    assert alerts.days == 50


def test_the_dashboard_shows_the_alerts(org, enrollments, login, clerk):
    html = login(clerk).get(reverse("dashboard")).content.decode()
    assert html.count('data-testid="silent-payer"') == 2
    assert "Quiet Mutual" in html and "no ERA for 45 days" in html
    assert "Never Paid Co" in html and "no ERA received yet" in html
    assert 'data-testid="ending-enrollment"' in html and "Ending Soon Plan" in html
    assert "in 10 days" in html
    for name in ("Recent Health", "New Plan", "Dormant Care", "Removed Health", "Ending Later"):
        assert name not in html


def test_the_enrollments_page_shows_the_alerts(org, enrollments, login, manager):
    html = login(manager).get(reverse("enrollment_list")).content.decode()
    alerts = html.split('data-testid="era-alerts"')[1].split("</section>")[0]
    assert "Quiet Mutual" in alerts and "Ending Soon Plan" in alerts
    assert "Recent Health" not in alerts


def test_no_alerts_no_panel_and_another_organization_sees_none(org, enrollments, login, other):
    html = login(other).get(reverse("dashboard")).content.decode()
    assert 'data-testid="era-alerts"' not in html
