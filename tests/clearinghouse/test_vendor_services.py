"""The Django side of the vendor adapters: the adapter for a configuration, its state,
enrollment submission and polling, the connection test and the beat tasks, against a test
double registered in place of `clearinghouse.vendors.adapter_class`."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError

import clearinghouse.vendors
from billing.models import AuditLog
from billing.tenancy import current_organization
from clearinghouse import vendor_services, vendor_tasks
from clearinghouse.adapter_state import DjangoAdapterState
from clearinghouse.models import PayerEnrollment, VendorCursor
from clearinghouse.vendors.base import (
    EnrollmentResult,
    HealthResult,
    PermanentFailure,
    TransientFailure,
    VendorAdapter,
    VendorTimeout,
)
from config.celery import app
from tests import factories
from tests.cache import clear_cache

pytestmark = pytest.mark.django_db

S = PayerEnrollment.Status


class FakeAdapter(VendorAdapter):
    """A vendor adapter that answers from `script` (a value, an exception to raise, or a
    callable taking the call's argument) and records every call in `calls`. Each test gets
    its own subclass from the `fake` fixture."""

    vendor = "sandbox"
    script: dict = {}
    calls: list = []
    instances: list = []

    def __init__(self, settings, state):
        super().__init__(settings, state)
        type(self).instances.append(self)

    def _answer(self, name, argument=None):
        type(self).calls.append((name, argument))
        value = type(self).script[name]
        if isinstance(value, Exception):
            raise value
        return value(argument) if callable(value) else value

    def submit_enrollment(self, request):
        return self._answer("submit_enrollment", request)

    def enrollment_status(self, reference):
        return self._answer("enrollment_status", reference)

    def submit_claims(self, x12, *, idempotency_key):
        return self._answer("submit_claims", (x12, idempotency_key))

    def fetch_reports(self):
        return self._answer("fetch_reports")

    def eligibility(self, x12_270):
        return self._answer("eligibility", x12_270)

    def claim_status(self, x12_276):
        return self._answer("claim_status", x12_276)

    def prior_auth(self, x12_278):
        return self._answer("prior_auth", x12_278)

    def fetch_eras(self):
        return self._answer("fetch_eras")

    def health_check(self):
        return self._answer("health_check")


def install_fake(monkeypatch) -> type[FakeAdapter]:
    """Register a fresh FakeAdapter subclass as the adapter of every vendor."""
    adapter = type("Adapter", (FakeAdapter,), {"script": {}, "calls": [], "instances": []})
    monkeypatch.setattr(
        clearinghouse.vendors, "adapter_class", lambda vendor: adapter, raising=False
    )
    return adapter


@pytest.fixture
def fake(monkeypatch):
    return install_fake(monkeypatch)


@pytest.fixture(autouse=True)
def empty_cache():
    clear_cache()
    yield
    clear_cache()


def practice(org):
    org.phone, org.tax_id = "(717) 555-0100", "12-3456789"
    org.save()
    return org


def config_for(org, **fields):
    fields.setdefault("display_name", "Waystar")
    fields.setdefault("vendor", "waystar")
    fields.setdefault("base_url", "http://127.0.0.1:8001/waystar")
    fields.setdefault("account_id", "svc-demo")
    config = factories.ClearinghouseConfigFactory(organization=org, **fields)
    config.set_credentials({"secret": "s3cret-value"})
    config.save()
    return config


@pytest.fixture
def enrollment(org):
    practice(org)
    return factories.PayerEnrollmentFactory(
        organization=org,
        payer=factories.PayerFactory(organization=org, name="Aetna", payer_id="AET01"),
        clearinghouse=config_for(org),
        electronic_payer_id="60054",
        covers_835=True,
        covers_270=True,
    )


def audits(action):
    return list(AuditLog.objects.filter(action=action).order_by("id"))


# --- adapter_for ---------------------------------------------------------------------------


def test_adapter_for_builds_the_vendor_settings_from_the_configuration(org, fake):
    config = config_for(org, submitter_id="SUB77", vendor="change_healthcare")

    adapter = vendor_services.adapter_for(config)

    assert isinstance(adapter, fake)
    assert adapter.settings.vendor == "change_healthcare"
    assert adapter.settings.base_url == "http://127.0.0.1:8001/waystar"
    assert adapter.settings.account_id == "svc-demo"
    assert adapter.settings.submitter_id == "SUB77"
    assert adapter.settings.secret == "s3cret-value"
    assert adapter.settings.timeout_s == 15.0
    assert adapter.settings.options == {}
    assert isinstance(adapter.state, DjangoAdapterState)
    assert adapter.state.clearinghouse == config


def test_adapter_for_takes_a_timeout_and_works_without_credentials(org, fake):
    config = factories.ClearinghouseConfigFactory(organization=org)
    adapter = vendor_services.adapter_for(config, timeout_ms=2500)
    assert adapter.settings.timeout_s == 2.5
    assert adapter.settings.secret == ""


def test_adapter_for_asks_the_registry_for_the_configurations_vendor(org, monkeypatch):
    asked = []
    monkeypatch.setattr(
        clearinghouse.vendors,
        "adapter_class",
        lambda vendor: asked.append(vendor) or FakeAdapter,
        raising=False,
    )
    vendor_services.adapter_for(config_for(org, vendor="claim_md"))
    assert asked == ["claim_md"]


# --- DjangoAdapterState ----------------------------------------------------------------------


def test_tokens_go_to_the_cache_encrypted_and_never_to_the_database(org):
    config = config_for(org)
    state = DjangoAdapterState(org, config)

    state.set("token:access", "bearer-abc123", ttl_s=300)

    assert state.get("token:access") == "bearer-abc123"
    assert DjangoAdapterState(org, config).get("token:access") == "bearer-abc123"
    assert not VendorCursor.objects.exists()
    stored = cache.get(state._cache_key("token:access"))
    assert stored and "bearer-abc123" not in stored


def test_the_oauth_helpers_entries_and_anything_with_a_lifetime_go_to_the_cache(org):
    config = config_for(org)
    state = DjangoAdapterState(org, config)
    long_token = '{"access_token": "' + "x" * 900 + '", "renew_at": 1}'  # a JWT is long

    state.set("oauth:change_healthcare:0123abcd", long_token, ttl_s=3600)
    state.set("throttle:until", "1764079200", ttl_s=30)

    assert DjangoAdapterState(org, config).get("oauth:change_healthcare:0123abcd") == long_token
    assert DjangoAdapterState(org, config).get("throttle:until") == "1764079200"
    assert not VendorCursor.objects.exists()
    state.set("throttle:until", "0")  # now without a lifetime: a cursor, and it wins
    assert DjangoAdapterState(org, config).get("throttle:until") == "0"
    assert VendorCursor.objects.get().key == "throttle:until"


def test_a_token_lapses_after_its_lifetime(org):
    state = DjangoAdapterState(org, config_for(org))
    with time_machine.travel(datetime.datetime(2026, 11, 25, 12, tzinfo=datetime.UTC)) as clock:
        state.set("token:access", "short-lived", ttl_s=60)
        clock.shift(59)
        assert state.get("token:access") == "short-lived"
        clock.shift(2)
        assert state.get("token:access") is None


def test_cursors_go_to_the_database_are_upserted_and_survive_a_new_instance(org):
    config = config_for(org)
    DjangoAdapterState(org, config).set("claim_md:svc-demo:last_response_id", "0")
    DjangoAdapterState(org, config).set("claim_md:svc-demo:last_response_id", "4711")

    row = VendorCursor.objects.get()
    assert (row.organization, row.clearinghouse, row.key, row.value) == (
        org,
        config,
        "claim_md:svc-demo:last_response_id",
        "4711",
    )
    clear_cache()  # cursors do not depend on the cache
    assert DjangoAdapterState(org, config).get("claim_md:svc-demo:last_response_id") == "4711"
    assert DjangoAdapterState(org, config).get("claim_md:svc-demo:last_era_id") is None


def test_state_is_kept_per_configuration(org, other_org):
    ours, theirs = config_for(org), config_for(other_org)
    DjangoAdapterState(org, ours).set("token:access", "ours")
    DjangoAdapterState(org, ours).set("cursor", "1")

    assert DjangoAdapterState(other_org, theirs).get("token:access") is None
    assert DjangoAdapterState(other_org, theirs).get("cursor") is None
    second = config_for(org, display_name="Availity", vendor="availity")
    assert DjangoAdapterState(org, second).get("cursor") is None


def test_state_refuses_a_configuration_of_another_organization(org, other_org):
    with pytest.raises(ValueError):
        DjangoAdapterState(org, config_for(other_org))


def test_a_cursor_too_long_for_its_column_is_refused(org):
    with pytest.raises(ValueError, match="at most"):
        DjangoAdapterState(org, config_for(org)).set("cursor", "x" * 501)
    assert not VendorCursor.objects.exists()


# --- enrollment_submit -----------------------------------------------------------------------


def _submit(org, user, enrollment):
    return vendor_services.enrollment_submit(organization=org, actor=user, enrollment=enrollment)


def test_submit_sends_the_enrollment_and_records_pending_with_the_reference(
    org, admin_user, enrollment, fake
):
    admin_user.email, admin_user.first_name, admin_user.last_name = "pat@example.com", "Pat", "Lee"
    admin_user.save()
    fake.script["submit_enrollment"] = EnrollmentResult(reference="ENR-42", status="pending")

    with time_machine.travel(datetime.datetime(2026, 11, 25, 15, tzinfo=datetime.UTC)):
        result = _submit(org, admin_user, enrollment)

    ((name, request),) = fake.calls
    assert name == "submit_enrollment"
    assert request.payer_name == "Aetna"
    assert request.payer_id == "AET01"
    assert request.electronic_payer_id == "60054"
    assert request.transaction_types == ("837P", "835", "270")
    assert request.provider_name == org.name
    assert request.provider_npi == org.billing_npi
    assert request.provider_tax_id == "123456789"
    assert (request.contact_name, request.contact_phone, request.contact_email) == (
        "Pat Lee",
        "(717) 555-0100",
        "pat@example.com",
    )
    enrollment.refresh_from_db()
    assert result.pk == enrollment.pk
    assert enrollment.enrollment_status == S.PENDING
    assert enrollment.vendor_reference == "ENR-42"
    assert enrollment.submitted_at == datetime.datetime(2026, 11, 25, 15, tzinfo=datetime.UTC)
    (row,) = audits("enrollment.submit")
    assert row.actor == admin_user
    assert row.record_id == str(enrollment.pk)
    assert row.old_values["vendor_reference"] == ""
    assert row.new_values["vendor_reference"] == "ENR-42"
    assert row.new_values["enrollment_status"] == "pending"


def test_a_refusal_rejects_the_enrollment_with_the_vendors_reason(
    org, admin_user, enrollment, fake
):
    fake.script["submit_enrollment"] = PermanentFailure(
        "waystar",
        "POST /api/v1/enrollments: HTTP 400: NPI not registered with this payer",
        status_code=400,
    )

    _submit(org, admin_user, enrollment)

    enrollment.refresh_from_db()
    assert enrollment.enrollment_status == S.REJECTED
    assert enrollment.status_reason == "NPI not registered with this payer"
    assert enrollment.vendor_reference == ""
    (row,) = audits("enrollment.submit")
    assert row.new_values["enrollment_status"] == "rejected"
    assert row.new_values["status_reason"] == "NPI not registered with this payer"


def test_a_rejection_in_the_answer_is_recorded_with_its_reason(org, admin_user, enrollment, fake):
    fake.script["submit_enrollment"] = EnrollmentResult(
        reference="ENR-9", status="rejected", reason="Payer does not accept electronic enrollment"
    )
    _submit(org, admin_user, enrollment)
    enrollment.refresh_from_db()
    assert (enrollment.enrollment_status, enrollment.status_reason) == (
        S.REJECTED,
        "Payer does not accept electronic enrollment",
    )


def test_an_approval_on_the_spot_makes_it_active_with_todays_enrolled_date(
    org, admin_user, enrollment, fake
):
    fake.script["submit_enrollment"] = EnrollmentResult(reference="ENR-1", status="active")
    # 02:00 UTC is still the 24th in New York, the organization's time zone.
    with time_machine.travel(datetime.datetime(2026, 11, 25, 2, tzinfo=datetime.UTC)):
        _submit(org, admin_user, enrollment)
    enrollment.refresh_from_db()
    assert enrollment.enrollment_status == S.ACTIVE
    assert enrollment.enrolled_on == datetime.date(2026, 11, 24)


@pytest.mark.parametrize(
    "failure",
    [
        VendorTimeout("waystar", "POST /api/v1/enrollments: no answer in time"),
        TransientFailure("waystar", "POST /api/v1/enrollments: HTTP 503", status_code=503),
    ],
)
def test_an_unreachable_clearinghouse_changes_nothing(org, admin_user, enrollment, fake, failure):
    fake.script["submit_enrollment"] = failure

    with pytest.raises(vendor_services.VendorUnavailable, match="Nothing was changed"):
        _submit(org, admin_user, enrollment)

    enrollment.refresh_from_db()
    assert (enrollment.enrollment_status, enrollment.submitted_at) == (S.PENDING, None)
    assert not AuditLog.objects.exists()


def test_an_unknown_status_keeps_the_submitted_enrollment_pending(
    org, admin_user, enrollment, fake
):
    fake.script["submit_enrollment"] = EnrollmentResult(reference="ENR-7", status="IN_REVIEW")
    _submit(org, admin_user, enrollment)
    enrollment.refresh_from_db()
    assert (enrollment.enrollment_status, enrollment.vendor_reference) == (S.PENDING, "ENR-7")
    assert enrollment.submitted_at is not None


def test_a_rejected_enrollment_can_be_submitted_again(org, admin_user, enrollment, fake):
    enrollment.enrollment_status, enrollment.status_reason = S.REJECTED, "Old reason"
    enrollment.submitted_at = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    enrollment.save()
    fake.script["submit_enrollment"] = EnrollmentResult(reference="ENR-2", status="pending")

    _submit(org, admin_user, enrollment)

    enrollment.refresh_from_db()
    assert (enrollment.enrollment_status, enrollment.status_reason) == (S.PENDING, "")


@pytest.mark.parametrize(
    ("status", "submitted"),
    [(S.ACTIVE, False), (S.PENDING, True), (S.INACTIVE, False), (S.EXPIRED, True)],
    ids=["active", "submitted", "inactive", "expired"],
)
def test_it_refuses_an_enrollment_with_nothing_to_submit(
    org, admin_user, enrollment, fake, status, submitted
):
    enrollment.enrollment_status = status
    enrollment.submitted_at = (
        datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC) if submitted else None
    )
    enrollment.save()

    with pytest.raises(ValidationError, match="nothing to submit"):
        _submit(org, admin_user, enrollment)
    assert fake.calls == []
    assert not AuditLog.objects.exists()


def test_it_refuses_to_submit_through_an_inactive_clearinghouse(org, admin_user, enrollment, fake):
    enrollment.clearinghouse.is_active = False
    enrollment.clearinghouse.save()
    with pytest.raises(ValidationError, match="Waystar is inactive"):
        _submit(org, admin_user, enrollment)
    assert fake.calls == []


def test_it_asks_for_the_practices_npi_and_tax_id_first(org, admin_user, enrollment, fake):
    org.billing_npi, org.tax_id = "", ""
    org.save()
    with pytest.raises(ValidationError, match="no billing NPI and no tax id"):
        _submit(org, admin_user, enrollment)
    assert fake.calls == []


# --- enrollment_poll -------------------------------------------------------------------------


@pytest.fixture
def submitted(enrollment):
    enrollment.vendor_reference = "ENR-42"
    enrollment.submitted_at = datetime.datetime(2026, 11, 20, tzinfo=datetime.UTC)
    enrollment.save()
    return enrollment


def test_poll_moves_an_approved_enrollment_to_active_audited_without_actor(org, submitted, fake):
    fake.script["enrollment_status"] = EnrollmentResult(reference="ENR-42", status="active")

    with time_machine.travel(datetime.datetime(2026, 11, 25, 15, tzinfo=datetime.UTC)):
        vendor_services.enrollment_poll(organization=org, enrollment=submitted)

    assert fake.calls == [("enrollment_status", "ENR-42")]
    submitted.refresh_from_db()
    assert submitted.enrollment_status == S.ACTIVE
    assert submitted.enrolled_on == datetime.date(2026, 11, 25)
    (row,) = audits("enrollment.status")
    assert row.actor is None
    assert row.old_values["enrollment_status"] == "pending"
    assert row.new_values["enrollment_status"] == "active"
    assert row.new_values["vendor_reference"] == "ENR-42"


def test_poll_records_a_rejection_with_its_reason(org, submitted, fake):
    fake.script["enrollment_status"] = EnrollmentResult(
        reference="ENR-42", status="rejected", reason="Tax id does not match the payer's records"
    )
    vendor_services.enrollment_poll(organization=org, enrollment=submitted)
    submitted.refresh_from_db()
    assert submitted.enrollment_status == S.REJECTED
    assert submitted.status_reason == "Tax id does not match the payer's records"
    assert audits("enrollment.status")[0].new_values["status_reason"] == submitted.status_reason


@pytest.mark.parametrize("status", ["pending", "UNDER_REVIEW"])
def test_poll_leaves_a_pending_or_unknown_answer_alone(org, submitted, fake, status):
    fake.script["enrollment_status"] = EnrollmentResult(reference="ENR-42", status=status)
    vendor_services.enrollment_poll(organization=org, enrollment=submitted)
    submitted.refresh_from_db()
    assert submitted.enrollment_status == S.PENDING
    assert not AuditLog.objects.exists()


def test_poll_lets_a_vendor_failure_through_and_changes_nothing(org, submitted, fake):
    fake.script["enrollment_status"] = TransientFailure("waystar", "GET /x: HTTP 503")
    with pytest.raises(TransientFailure):
        vendor_services.enrollment_poll(organization=org, enrollment=submitted)
    submitted.refresh_from_db()
    assert submitted.enrollment_status == S.PENDING


def test_poll_skips_an_enrollment_that_was_never_submitted(org, enrollment, fake):
    vendor_services.enrollment_poll(organization=org, enrollment=enrollment)
    assert fake.calls == []


def test_poll_does_not_overwrite_a_change_made_while_it_asked(org, submitted, fake):
    def answer(reference):
        PayerEnrollment.objects.filter(pk=submitted.pk).update(enrollment_status=S.INACTIVE)
        return EnrollmentResult(reference=reference, status="active")

    fake.script["enrollment_status"] = answer
    vendor_services.enrollment_poll(organization=org, enrollment=submitted)
    submitted.refresh_from_db()
    assert submitted.enrollment_status == S.INACTIVE
    assert not audits("enrollment.status")


# --- clearinghouse_test_connection -----------------------------------------------------------


def test_a_healthy_connection_is_returned_and_audited(org, admin_user, fake):
    config = config_for(org)
    fake.script["health_check"] = HealthResult(ok=True, latency_ms=84)

    result = vendor_services.clearinghouse_test_connection(
        organization=org, actor=admin_user, config=config
    )

    assert result == HealthResult(ok=True, latency_ms=84)
    (row,) = audits("clearinghouse.test_connection")
    assert (row.actor, row.record_id) == (admin_user, str(config.pk))
    assert row.new_values == {"ok": True, "latency_ms": 84, "detail": ""}
    last = vendor_services.last_connection_test(org, config)
    assert (last.ok, last.latency_ms, last.actor) == (True, 84, admin_user)


def test_a_vendor_failure_becomes_an_unhealthy_result(org, admin_user, fake):
    config = config_for(org)
    fake.script["health_check"] = VendorTimeout("waystar", "GET /api/v1/health: no answer in time")

    result = vendor_services.clearinghouse_test_connection(
        organization=org, actor=admin_user, config=config
    )

    assert not result.ok
    assert result.detail == "GET /api/v1/health: no answer in time"
    row = audits("clearinghouse.test_connection")[0]
    assert row.new_values["ok"] is False
    assert "s3cret-value" not in str(row.new_values)


def test_credentials_that_cannot_be_decrypted_are_an_unhealthy_result(org, admin_user, fake):
    config = config_for(org)
    config.credentials_encrypted = "not-a-fernet-token"
    config.save()
    result = vendor_services.clearinghouse_test_connection(
        organization=org, actor=admin_user, config=config
    )
    assert not result.ok
    assert "cannot be decrypted" in result.detail
    assert fake.calls == []


def test_there_is_no_last_test_before_the_first(org):
    assert vendor_services.last_connection_test(org, config_for(org)) is None


# --- beat tasks ------------------------------------------------------------------------------


def _submitted_enrollment(organization, reference, **fields):
    practice(organization)
    return factories.PayerEnrollmentFactory(
        organization=organization,
        clearinghouse=fields.pop("clearinghouse", None)
        or config_for(organization, display_name=f"CH {reference}"),
        vendor_reference=reference,
        submitted_at=datetime.datetime(2026, 11, 20, tzinfo=datetime.UTC),
        **fields,
    )


def test_the_poll_task_reads_each_organizations_pending_submissions_in_its_context(
    org, other_org, fake
):
    ours = _submitted_enrollment(org, "ENR-1")
    theirs = _submitted_enrollment(other_org, "ENR-2")
    _submitted_enrollment(org, "ENR-3", enrollment_status=S.ACTIVE)  # answered already
    factories.PayerEnrollmentFactory(organization=org)  # never submitted
    seen = []

    def answer(reference):
        seen.append((reference, current_organization()))
        return EnrollmentResult(reference=reference, status="active")

    fake.script["enrollment_status"] = answer

    result = vendor_tasks.poll_pending_enrollments()

    assert seen == [("ENR-1", org), ("ENR-2", other_org)]
    assert result == {
        org.slug: {"polled": 1, "changed": 1, "failed": 0},
        other_org.slug: {"polled": 1, "changed": 1, "failed": 0},
    }
    for enrollment in (ours, theirs):
        enrollment.refresh_from_db()
        assert enrollment.enrollment_status == S.ACTIVE


def test_the_poll_task_logs_one_failure_and_goes_on(org, other_org, fake, caplog):
    broken = _submitted_enrollment(org, "ENR-BAD")
    same_vendor = _submitted_enrollment(org, "ENR-SKIP", clearinghouse=broken.clearinghouse)
    theirs = _submitted_enrollment(other_org, "ENR-OK")

    def answer(reference):
        if reference == "ENR-BAD":
            raise TransientFailure("waystar", "GET /api/v1/enrollments/x: cannot connect")
        return EnrollmentResult(reference=reference, status="active")

    fake.script["enrollment_status"] = answer

    result = vendor_tasks.poll_pending_enrollments()

    assert result[org.slug] == {"polled": 0, "changed": 0, "failed": 1}
    # The unreachable clearinghouse is not asked again in this run.
    assert [ref for _, ref in fake.calls] == ["ENR-BAD", "ENR-OK"]
    theirs.refresh_from_db()
    same_vendor.refresh_from_db()
    assert theirs.enrollment_status == S.ACTIVE
    assert same_vendor.enrollment_status == S.PENDING
    assert "cannot connect" in caplog.text


def test_the_poll_task_can_run_for_one_organization(org, other_org, fake):
    _submitted_enrollment(org, "ENR-1")
    _submitted_enrollment(other_org, "ENR-2")
    fake.script["enrollment_status"] = EnrollmentResult(reference="x", status="pending")
    assert list(vendor_tasks.poll_pending_enrollments(organization_id=other_org.pk)) == [
        other_org.slug
    ]
    assert [ref for _, ref in fake.calls] == ["ENR-2"]


def test_the_fetch_task_visits_each_active_configuration_and_survives_failures(
    org, other_org, fake, caplog
):
    down = config_for(org, display_name="Down")
    config_for(org, display_name="Off", is_active=False)
    up = config_for(other_org, display_name="Up")
    visited = []

    def reports(_):
        state = fake.instances[-1].state
        visited.append((state.clearinghouse.display_name, current_organization()))
        if state.clearinghouse == down:
            raise TransientFailure("waystar", "GET /api/v1/reports: cannot connect")
        return []

    fake.script["fetch_reports"] = reports

    result = vendor_tasks.fetch_acknowledgements()

    assert visited == [("Down", org), ("Up", other_org)]
    assert result[org.slug]["failed"] == 1
    assert result[other_org.slug] == {
        "reports": 0,
        "acknowledgements": 0,
        "claims_updated": 0,
        "skipped": 0,
        "unmatched": 0,
        "failed": 0,
    }
    assert up.is_active


def test_the_tasks_log_credentials_that_cannot_be_decrypted_and_go_on(org, fake, caplog):
    broken = _submitted_enrollment(org, "ENR-1")
    broken.clearinghouse.credentials_encrypted = "not-a-fernet-token"
    broken.clearinghouse.save()
    fine = _submitted_enrollment(org, "ENR-2")
    fake.script["enrollment_status"] = EnrollmentResult(reference="x", status="active")
    fake.script["fetch_reports"] = []

    assert vendor_tasks.poll_pending_enrollments()[org.slug] == {
        "polled": 1,
        "changed": 1,
        "failed": 1,
    }
    assert vendor_tasks.fetch_acknowledgements()[org.slug]["failed"] == 1
    fine.refresh_from_db()
    assert fine.enrollment_status == S.ACTIVE
    assert "cannot be decrypted" in caplog.text
    assert "Traceback" not in caplog.text


def test_the_tasks_are_registered_late_acknowledged_and_scheduled_every_five_minutes():
    app.loader.import_default_modules()
    for task in (vendor_tasks.poll_pending_enrollments, vendor_tasks.fetch_acknowledgements):
        assert task.name in app.tasks  # discovered through clearinghouse.tasks
        assert task.acks_late and task.reject_on_worker_lost
        (entry,) = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == task.name]
        assert entry["schedule"] == 300


# --- end to end, against the sandbox clearinghouse over HTTP -----------------------------------


def test_end_to_end_an_enrollment_goes_through_the_sandbox_clearinghouse(
    org, admin_user, sandbox_clearinghouse
):
    practice(org)
    config = factories.ClearinghouseConfigFactory(
        organization=org,
        vendor="sandbox",
        display_name="Sandbox Clearinghouse",
        base_url=sandbox_clearinghouse.vendor_url("sandbox"),
    )
    approved, refused = (
        factories.PayerEnrollmentFactory(
            organization=org, clearinghouse=config, electronic_payer_id=payer_id
        )
        for payer_id in ("60054", "REJ001")
    )

    for enrollment in (approved, refused):
        enrollment = vendor_services.enrollment_submit(
            organization=org, actor=admin_user, enrollment=enrollment
        )
        assert enrollment.enrollment_status == S.PENDING
        assert enrollment.vendor_reference
    assert vendor_tasks.poll_pending_enrollments() == {
        org.slug: {"polled": 2, "changed": 2, "failed": 0}
    }

    approved.refresh_from_db()
    refused.refresh_from_db()
    assert approved.enrollment_status == S.ACTIVE
    assert approved.enrolled_on is not None
    assert refused.enrollment_status == S.REJECTED
    assert refused.status_reason
    assert len(audits("enrollment.submit")) == 2
    assert len(audits("enrollment.status")) == 2

    health = vendor_services.clearinghouse_test_connection(
        organization=org, actor=admin_user, config=config
    )
    assert health.ok, health.detail
    sandbox_clearinghouse.set_mode("sandbox", "failing")
    health = vendor_services.clearinghouse_test_connection(
        organization=org, actor=admin_user, config=config
    )
    assert not health.ok
    assert "503" in health.detail
