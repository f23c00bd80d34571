"""clearinghouse.services (enrollments) and the daily expiry task."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from celery.schedules import crontab
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from billing.models import AuditLog
from billing.tenancy import current_organization
from clearinghouse import services, tasks
from clearinghouse.models import PayerEnrollment
from tests import factories

pytestmark = pytest.mark.django_db

S = PayerEnrollment.Status


@pytest.fixture
def payer(org):
    return factories.PayerFactory(organization=org, name="Aetna")


@pytest.fixture
def waystar(org):
    return factories.ClearinghouseConfigFactory(organization=org, display_name="Waystar")


def _create(org, actor, payer, clearinghouse, **kwargs):
    values = {"electronic_payer_id": "60054", "transaction_types": ["837P"], **kwargs}
    return services.enrollment_create(
        organization=org, actor=actor, payer=payer, clearinghouse=clearinghouse, **values
    )


def _audit(action):
    return list(AuditLog.objects.filter(action=action).order_by("pk"))


# --- create --------------------------------------------------------------------------------


def test_it_creates_an_enrollment_and_audits_the_new_values(org, admin_user, payer, waystar):
    enrollment = _create(
        org,
        admin_user,
        payer,
        waystar,
        electronic_payer_id="  60054 ",
        transaction_types=["837P", "835"],
    )

    enrollment.refresh_from_db()
    assert enrollment.electronic_payer_id == "60054"
    assert enrollment.enrollment_status == S.PENDING
    assert enrollment.transaction_types == ["837P", "835"]
    assert enrollment.created_by == admin_user
    [row] = _audit("enrollment.create")
    assert row.organization == org
    assert row.actor == admin_user
    assert row.record_id == str(enrollment.pk)
    assert row.old_values is None
    assert row.new_values["payer_id"] == payer.pk
    assert row.new_values["clearinghouse_id"] == waystar.pk
    assert row.new_values["electronic_payer_id"] == "60054"
    assert row.new_values["covers_835"] is True
    assert row.new_values["enrollment_status"] == "pending"


def test_it_refuses_a_second_live_enrollment_for_the_same_payer_and_clearinghouse(
    org, admin_user, payer, waystar
):
    _create(org, admin_user, payer, waystar)

    with pytest.raises(ValidationError) as error:
        _create(org, admin_user, payer, waystar, electronic_payer_id="OTHER")

    assert error.value.message_dict == {
        "payer": ["Aetna already has an enrollment with Waystar. Edit that one instead."]
    }
    assert PayerEnrollment.objects.count() == 1
    assert len(_audit("enrollment.create")) == 1


def test_it_turns_the_database_constraint_into_the_same_message_when_a_race_slips_past(
    org, admin_user, payer, waystar, monkeypatch
):
    """Another request inserts the same payer and clearinghouse between the check and the
    insert: the partial unique index catches it and the user still reads a message."""
    full_clean = PayerEnrollment.full_clean

    def full_clean_then_a_concurrent_insert(self, *args, **kwargs):
        full_clean(self, *args, **kwargs)
        PayerEnrollment.objects.create(
            organization=org, payer=payer, clearinghouse=waystar, electronic_payer_id="RACE"
        )

    monkeypatch.setattr(PayerEnrollment, "full_clean", full_clean_then_a_concurrent_insert)

    with pytest.raises(ValidationError) as error:
        _create(org, admin_user, payer, waystar)

    assert error.value.message_dict["payer"] == [
        "Aetna already has an enrollment with Waystar. Edit that one instead."
    ]
    assert not _audit("enrollment.create")


def test_it_allows_the_same_payer_with_another_clearinghouse(org, admin_user, payer, waystar):
    availity = factories.ClearinghouseConfigFactory(organization=org, display_name="Availity")
    _create(org, admin_user, payer, waystar)
    _create(org, admin_user, payer, availity)
    assert PayerEnrollment.objects.live().count() == 2


def test_it_allows_a_new_enrollment_after_the_old_one_was_removed(org, admin_user, payer, waystar):
    old = _create(org, admin_user, payer, waystar)
    services.enrollment_remove(organization=org, actor=admin_user, enrollment=old)

    new = _create(org, admin_user, payer, waystar, electronic_payer_id="NEW1")

    assert list(PayerEnrollment.objects.live()) == [new]
    assert PayerEnrollment.objects.count() == 2


def test_it_needs_at_least_one_transaction_type(org, admin_user, payer, waystar):
    with pytest.raises(ValidationError) as error:
        _create(org, admin_user, payer, waystar, transaction_types=[])
    assert "Choose at least one transaction type." in str(error.value)
    assert not PayerEnrollment.objects.exists()
    assert not AuditLog.objects.exists()


def test_it_refuses_an_end_date_before_the_effective_date(org, admin_user, payer, waystar):
    with pytest.raises(ValidationError) as error:
        _create(
            org,
            admin_user,
            payer,
            waystar,
            effective_from=datetime.date(2026, 5, 1),
            effective_to=datetime.date(2026, 4, 30),
        )
    assert error.value.message_dict["effective_to"] == [
        "The end date cannot be before the effective date."
    ]
    assert not PayerEnrollment.objects.exists()


@pytest.mark.parametrize("value", ["AB~1", "AB*1", "AB:1", "AB^1", "x" * 81, "tab\there", ""])
def test_it_refuses_a_bad_electronic_payer_id(org, admin_user, payer, waystar, value):
    with pytest.raises(ValidationError) as error:
        _create(org, admin_user, payer, waystar, electronic_payer_id=value)
    assert "electronic_payer_id" in error.value.message_dict
    assert not PayerEnrollment.objects.exists()


def test_it_refuses_a_payer_of_another_organization(org, other_org, admin_user, waystar):
    foreign = factories.PayerFactory(organization=other_org)
    with pytest.raises(ValidationError):
        _create(org, admin_user, foreign, waystar)
    assert not PayerEnrollment.objects.exists()


# --- update, status, remove -----------------------------------------------------------------


def test_it_audits_an_update_with_only_the_changed_values(org, admin_user, payer, waystar):
    enrollment = _create(org, admin_user, payer, waystar)

    services.enrollment_update(
        organization=org,
        actor=admin_user,
        enrollment=enrollment,
        data={"electronic_payer_id": " 60054X ", "transaction_types": ["837P", "270"]},
    )

    enrollment.refresh_from_db()
    assert enrollment.electronic_payer_id == "60054X"
    assert enrollment.covers_270 is True
    [row] = _audit("enrollment.update")
    assert row.old_values == {"electronic_payer_id": "60054", "covers_270": False}
    assert row.new_values == {"electronic_payer_id": "60054X", "covers_270": True}


def test_it_writes_no_audit_row_when_nothing_changed(org, admin_user, payer, waystar):
    enrollment = _create(org, admin_user, payer, waystar)
    services.enrollment_update(
        organization=org,
        actor=admin_user,
        enrollment=enrollment,
        data={"electronic_payer_id": "60054"},
    )
    assert not _audit("enrollment.update")
    assert not _audit("enrollment.status")


def test_it_refuses_an_update_that_would_duplicate_a_live_enrollment(
    org, admin_user, payer, waystar
):
    availity = factories.ClearinghouseConfigFactory(organization=org, display_name="Availity")
    _create(org, admin_user, payer, waystar)
    second = _create(org, admin_user, payer, availity, electronic_payer_id="AV1")

    with pytest.raises(ValidationError) as error:
        services.enrollment_update(
            organization=org, actor=admin_user, enrollment=second, data={"clearinghouse": waystar}
        )

    assert "payer" in error.value.message_dict
    second.refresh_from_db()
    assert second.clearinghouse == availity
    assert not _audit("enrollment.update")


def test_it_audits_a_status_change_as_one(org, admin_user, payer, waystar):
    enrollment = _create(org, admin_user, payer, waystar)

    services.enrollment_set_status(
        organization=org, actor=admin_user, enrollment=enrollment, status=S.ACTIVE
    )

    enrollment.refresh_from_db()
    assert enrollment.enrollment_status == S.ACTIVE
    [row] = _audit("enrollment.status")
    assert row.actor == admin_user
    assert row.record_id == str(enrollment.pk)
    assert row.old_values == {"enrollment_status": "pending"}
    assert row.new_values == {"enrollment_status": "active"}


def test_it_refuses_an_unknown_status(org, admin_user, payer, waystar):
    enrollment = _create(org, admin_user, payer, waystar)
    with pytest.raises(ValidationError):
        services.enrollment_set_status(
            organization=org, actor=admin_user, enrollment=enrollment, status="approved"
        )
    enrollment.refresh_from_db()
    assert enrollment.enrollment_status == S.PENDING
    assert not _audit("enrollment.status")


def test_it_removes_with_a_soft_delete_and_an_audit_row(org, admin_user, payer, waystar):
    enrollment = _create(org, admin_user, payer, waystar)

    services.enrollment_remove(organization=org, actor=admin_user, enrollment=enrollment)

    enrollment.refresh_from_db()
    assert enrollment.deleted_at is not None
    assert not PayerEnrollment.objects.live().exists()
    [row] = _audit("enrollment.remove")
    assert row.old_values == {"deleted_at": None}
    assert row.new_values == {"deleted_at": enrollment.deleted_at.isoformat()}


def test_it_does_not_change_another_organizations_enrollment(org, other_org, other, admin_user):
    foreign = factories.PayerEnrollmentFactory(organization=other_org)
    with pytest.raises(PayerEnrollment.DoesNotExist):
        services.enrollment_set_status(
            organization=org, actor=admin_user, enrollment=foreign, status=S.ACTIVE
        )
    with pytest.raises(PayerEnrollment.DoesNotExist):
        services.enrollment_remove(organization=org, actor=admin_user, enrollment=foreign)
    foreign.refresh_from_db()
    assert foreign.enrollment_status == S.PENDING
    assert foreign.deleted_at is None


# --- expiry --------------------------------------------------------------------------------


def _ending(org, end, **kwargs):
    return factories.PayerEnrollmentFactory(
        organization=org, effective_from=datetime.date(2025, 1, 1), effective_to=end, **kwargs
    )


def test_it_expires_only_live_enrollments_whose_end_date_has_passed(org, other_org):
    today = datetime.date(2026, 3, 10)
    yesterday = today - datetime.timedelta(days=1)
    active = _ending(org, yesterday, enrollment_status=S.ACTIVE)
    pending = _ending(org, yesterday, enrollment_status=S.PENDING)
    ends_today = _ending(org, today, enrollment_status=S.ACTIVE)
    open_ended = factories.PayerEnrollmentFactory(organization=org, enrollment_status=S.ACTIVE)
    removed = _ending(org, yesterday, enrollment_status=S.ACTIVE, deleted_at=timezone.now())
    already = _ending(org, yesterday, enrollment_status=S.EXPIRED)
    elsewhere = _ending(other_org, yesterday, enrollment_status=S.ACTIVE)

    ids = services.enrollments_expire(organization=org, today=today)

    assert sorted(ids) == sorted([active.pk, pending.pk])
    statuses = dict(PayerEnrollment.objects.values_list("pk", "enrollment_status"))
    assert statuses[active.pk] == statuses[pending.pk] == S.EXPIRED
    assert statuses[ends_today.pk] == statuses[open_ended.pk] == S.ACTIVE
    assert statuses[removed.pk] == S.ACTIVE
    assert statuses[elsewhere.pk] == S.ACTIVE
    assert statuses[already.pk] == S.EXPIRED
    [row] = _audit("enrollment.expire")
    assert row.organization == org
    assert row.actor is None
    assert sorted(row.new_values["ids"]) == sorted([active.pk, pending.pk])
    assert row.new_values["enrollment_status"] == "expired"
    assert row.old_values == {str(active.pk): "active", str(pending.pk): "pending"}


def test_it_does_nothing_when_expiry_runs_twice(org):
    today = datetime.date(2026, 3, 10)
    _ending(org, today - datetime.timedelta(days=3), enrollment_status=S.ACTIVE)

    assert len(services.enrollments_expire(organization=org, today=today)) == 1
    assert services.enrollments_expire(organization=org, today=today) == []
    assert len(_audit("enrollment.expire")) == 1


def test_the_beat_task_expires_each_organization_in_its_own_context(org, other_org, monkeypatch):
    ours = _ending(org, datetime.date(2026, 3, 1), enrollment_status=S.ACTIVE)
    theirs = _ending(other_org, datetime.date(2026, 3, 1), enrollment_status=S.ACTIVE)
    seen = []

    def recording(*, organization, today):
        seen.append((organization, current_organization()))
        return services.enrollments_expire(organization=organization, today=today)

    monkeypatch.setattr(tasks, "enrollments_expire", recording)

    with time_machine.travel(datetime.datetime(2026, 3, 10, 12, tzinfo=datetime.UTC)):
        result = tasks.expire_enrollments()

    assert result == {org.slug: 1, other_org.slug: 1}
    assert seen == [(org, org), (other_org, other_org)]
    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert ours.enrollment_status == theirs.enrollment_status == S.EXPIRED
    assert {row.organization for row in _audit("enrollment.expire")} == {org, other_org}
    assert tasks.expire_enrollments() == {}


def test_the_beat_task_uses_each_organizations_own_date(org, other_org):
    """04:30 UTC on March 10: already the 10th in New York, still the 9th in Chicago."""
    new_york = _ending(org, datetime.date(2026, 3, 9), enrollment_status=S.ACTIVE)
    chicago = _ending(other_org, datetime.date(2026, 3, 9), enrollment_status=S.ACTIVE)

    with time_machine.travel(datetime.datetime(2026, 3, 10, 4, 30, tzinfo=datetime.UTC)):
        tasks.expire_enrollments()

    new_york.refresh_from_db()
    chicago.refresh_from_db()
    assert new_york.enrollment_status == S.EXPIRED
    assert chicago.enrollment_status == S.ACTIVE


def test_a_daily_beat_schedule_entry_runs_the_expiry_task():
    entries = [
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == tasks.expire_enrollments.name
    ]
    assert len(entries) == 1
    schedule = entries[0]["schedule"]
    assert isinstance(schedule, crontab)
    assert len(schedule.hour) == 1 and len(schedule.minute) == 1
    assert schedule.day_of_week == set(range(7))
