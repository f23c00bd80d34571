"""`manage.py seed_demo`: demo data that is valid, stays inside its organization, and loads
only once. Each test seeds a fresh test database (a few seconds)."""

from __future__ import annotations

import datetime
import io
from collections import defaultdict
from decimal import Decimal
from itertools import pairwise

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db.models import F
from django.utils import timezone

from billing.models import (
    Appointment,
    Charge,
    Claim,
    ClaimStatusChange,
    Coverage,
    Employer,
    Encounter,
    LedgerEntry,
    Membership,
    Organization,
    Patient,
    Payer,
    Provider,
    TenantModel,
    User,
)
from billing.permissions import BILLING_CLERK_ROLE, BILLING_MANAGER_ROLE, ORG_ADMIN_ROLE
from billing.roles import builtin_role
from billing.tenancy import tenant_context
from billing.validators import npi_check_digit_ok

DEMO, NORTHSIDE = "demo-family-practice", "northside-orthopedics"

EXPECTED_MEMBERSHIPS = {
    "admin": {DEMO: ORG_ADMIN_ROLE, NORTHSIDE: BILLING_MANAGER_ROLE},
    "manager": {DEMO: BILLING_MANAGER_ROLE},
    "clerk": {DEMO: BILLING_CLERK_ROLE},
    "other": {NORTHSIDE: ORG_ADMIN_ROLE},
}

COUNTED = (
    Organization,
    User,
    Membership,
    Payer,
    Provider,
    Patient,
    Coverage,
    Employer,
    Appointment,
    Encounter,
    Charge,
    Claim,
    Claim.charges.through,
    LedgerEntry,
)


def seed(**options) -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


def memberships_of(user: User) -> dict[str, str]:
    return {
        m.organization.slug: m.role.name
        for m in Membership.objects.filter(user=user).select_related("organization", "role")
    }


def balances(organization: Organization) -> dict[int, Decimal]:
    """Each encounter's ledger sum, added up in Python (SQLite sums decimals as floats)."""
    totals: dict[int, Decimal] = defaultdict(Decimal)
    rows = LedgerEntry.objects.for_organization(organization).values_list("encounter_id", "amount")
    for encounter_id, amount in rows:
        totals[encounter_id] += amount
    return totals


def every_nth(queryset, n: int) -> list:
    rows = list(queryset.order_by("pk"))
    return rows[:: max(1, len(rows) // n)][:n]


def test_it_refuses_without_debug_unless_forced(db, settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG"):
        seed()
    assert not Organization.objects.exists()
    assert not User.objects.exists()

    output = seed(force=True)

    assert set(Organization.objects.values_list("slug", flat=True)) == {DEMO, NORTHSIDE}
    assert "Log in as admin, manager, clerk or other (password: demo)" in output


def test_it_seeds_two_practices_their_users_and_valid_tenant_clean_data(db, settings):
    settings.DEBUG = True

    seed()

    demo = Organization.objects.get(slug=DEMO)
    northside = Organization.objects.get(slug=NORTHSIDE)
    assert (demo.name, demo.time_zone) == ("Demo Family Practice", "America/New_York")
    assert (northside.name, northside.time_zone) == ("Northside Orthopedics", "America/Chicago")
    for organization in (demo, northside):
        organization.full_clean()
        assert npi_check_digit_ok(organization.billing_npi)

    # users, roles, passwords
    for username, expected in EXPECTED_MEMBERSHIPS.items():
        user = User.objects.get(username=username)
        assert memberships_of(user) == expected
        assert user.check_password("demo")
        assert user.first_name and user.last_name
        assert user.is_staff == (username in ("admin", "other"))
        assert not user.is_superuser
    admin = User.objects.get(username="admin")
    assert admin.last_organization == demo
    first, second = Membership.objects.filter(user=admin).order_by("pk")
    assert (first.organization, second.organization) == (demo, northside)

    with tenant_context(demo):
        assert Payer.objects.for_organization(demo).count() >= 20
        providers = list(Provider.objects.for_organization(demo))
        assert len(providers) == 5
        assert all(npi_check_digit_ok(p.npi) for p in providers)
        assert Patient.objects.for_organization(demo).count() == 500
        assert Employer.objects.for_organization(demo).count() == 30
        assert Encounter.objects.for_organization(demo).count() == 2000
        charges = Charge.objects.for_organization(demo)
        claims = Claim.objects.for_organization(demo)
        assert set(charges.values_list("status", flat=True)) == set(Charge.Status.values)
        assert set(claims.values_list("status", flat=True)) == set(Claim.Status.values)
        assert (
            Appointment.objects.for_organization(demo)
            .filter(status=Appointment.Status.SCHEDULED, scheduled_at__gt=timezone.now())
            .exists()
        )

        for charge in every_nth(charges.select_related("encounter"), 50):
            charge.full_clean()
        for model in (Payer, Patient, Coverage, Employer, Appointment, Encounter, Claim):
            for row in every_nth(model.objects.for_organization(demo), 20):
                row.full_clean()

        # every patient has one primary coverage; secondaries are with another payer
        primaries = Coverage.objects.for_organization(demo).filter(order=Coverage.Order.PRIMARY)
        assert primaries.values("patient").distinct().count() == primaries.count() == 500
        secondaries = Coverage.objects.for_organization(demo).filter(order=Coverage.Order.SECONDARY)
        assert 50 <= secondaries.count() <= 250
        primary_payer = dict(primaries.values_list("patient_id", "payer_id"))
        assert all(
            primary_payer[p] != payer
            for p, payer in secondaries.values_list("patient_id", "payer_id")
        )

        # claims add up and bill the primary coverage (secondary claims, made after the
        # primary's ERA, the secondary one)
        for claim in claims.prefetch_related("charges").select_related("coverage", "encounter"):
            assert claim.total == sum((c.amount for c in claim.charges.all()), Decimal("0.00"))
            assert claim.coverage.order == (
                Coverage.Order.SECONDARY if claim.primary_claim_id else Coverage.Order.PRIMARY
            )
            assert claim.coverage.payer_id == claim.payer_id
            assert claim.coverage.patient_id == claim.encounter.patient_id

        # each claim's status history is a chain that ends at its status
        history = defaultdict(list)
        for change in ClaimStatusChange.objects.for_organization(demo).order_by("changed_at", "pk"):
            history[change.claim_id].append(change)
        for claim in claims:
            steps = history[claim.pk]
            if claim.status == Claim.Status.DRAFT:
                assert steps == []
                continue
            assert steps[0].from_status == Claim.Status.DRAFT
            assert steps[-1].to_status == claim.status
            assert all(a.to_status == b.from_status for a, b in pairwise(steps))

        # one charge entry per posted charge; balances are real and never negative
        entries = LedgerEntry.objects.for_organization(demo)
        assert not entries.filter(amount=0).exists()
        posted = charges.exclude(status=Charge.Status.VOID)
        charge_entries = entries.filter(kind=LedgerEntry.Kind.CHARGE)
        assert sorted(charge_entries.values_list("charge_id", flat=True)) == sorted(
            posted.values_list("pk", flat=True)
        )
        assert set(entries.values_list("kind", flat=True)) == set(LedgerEntry.Kind.values)
        balance = balances(demo)
        assert min(balance.values()) >= 0
        assert sum(1 for b in balance.values() if b > 0) >= 200
        old = timezone.localdate() - datetime.timedelta(days=90)
        employer_owed = Encounter.objects.for_organization(demo).filter(
            guarantor_employer__isnull=False, date_of_service__lt=old
        )
        assert sum(1 for pk in employer_owed.values_list("pk", flat=True) if balance[pk] > 0) >= 10

    with tenant_context(northside):
        assert Payer.objects.for_organization(northside).count() < 20
        providers = list(Provider.objects.for_organization(northside))
        assert 0 < len(providers) < 5
        assert all(npi_check_digit_ok(p.npi) for p in providers)
        assert 0 < Patient.objects.for_organization(northside).count() < 500
        assert 0 < Encounter.objects.for_organization(northside).count() < 2000
        assert Claim.objects.for_organization(northside).exists()
        for charge in every_nth(
            Charge.objects.for_organization(northside).select_related("encounter"), 20
        ):
            charge.full_clean()

    # no row points at a row of another organization
    for model in (m for m in apps.get_models() if issubclass(m, TenantModel)):
        for field in model._meta.concrete_fields:
            if not field.is_relation or field.name == "organization":
                continue
            if not issubclass(field.related_model, TenantModel):
                continue
            crossing = model.objects.exclude(**{f"{field.name}__isnull": True}).exclude(
                **{f"{field.name}__organization": F("organization")}
            )
            assert not crossing.exists(), f"{model.__name__}.{field.name} crosses organizations"
    assert not Claim.charges.through.objects.exclude(
        charge__organization=F("claim__organization")
    ).exists()


def test_it_is_idempotent_and_repairs_the_demo_users(db, settings):
    settings.DEBUG = True
    seed()
    before = counts()
    clerk = User.objects.get(username="clerk")
    clerk.set_password("something else")
    clerk.is_superuser = True
    clerk.save()
    Membership.objects.filter(user__username="manager").update(role=builtin_role(ORG_ADMIN_ROLE))
    Membership.objects.filter(user__username="other").delete()

    output = seed()

    assert "already there, skipped" in output
    after = counts()
    assert after == before
    clerk.refresh_from_db()
    assert clerk.check_password("demo")
    assert not clerk.is_superuser
    for username, expected in EXPECTED_MEMBERSHIPS.items():
        assert memberships_of(User.objects.get(username=username)) == expected
