from __future__ import annotations

import datetime
import random
from decimal import Decimal

import factory
from django.utils import timezone

from billing import models
from billing.validators import npi_check_digit_ok


def valid_npi(seed: int) -> str:
    """A 10-digit NPI whose check digit is right, distinct per seed."""
    base = f"1{seed % 10**8:08d}"
    for check in range(10):
        if npi_check_digit_ok(base + str(check)):
            return base + str(check)
    raise AssertionError("unreachable: one check digit always fits")


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Organization
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Practice {n}")
    slug = factory.Sequence(lambda n: f"practice-{n}")
    time_zone = "America/New_York"
    billing_npi = factory.Sequence(lambda n: valid_npi(n + 7000))
    tax_id = "12-3456789"
    city = "Springfield"
    state = "IL"
    zip_code = "62701"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Pat"
    last_name = factory.Sequence(lambda n: f"Member{n}")
    password = factory.django.Password("demo")


def role(name: str) -> models.Role:
    return models.Role.objects.get(organization=None, name=name)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = factory.LazyFunction(lambda: role("Billing Clerk"))


class PayerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Payer

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Payer {n}")
    payer_id = factory.Sequence(lambda n: f"{60000 + n}")


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Provider

    organization = factory.SubFactory(OrganizationFactory)
    first_name = "Dana"
    last_name = factory.Sequence(lambda n: f"Provider{n}")
    credential = "MD"
    npi = factory.Sequence(valid_npi)
    taxonomy_code = "207Q00000X"


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Patient

    organization = factory.SubFactory(OrganizationFactory)
    account_number = factory.Sequence(lambda n: f"P{n:06d}")
    first_name = "Jordan"
    last_name = factory.Sequence(lambda n: f"Patient{n}")
    birth_date = datetime.date(1980, 5, 17)
    sex = "F"


class CoverageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Coverage

    patient = factory.SubFactory(PatientFactory)
    organization = factory.SelfAttribute("patient.organization")
    payer = factory.SubFactory(PayerFactory, organization=factory.SelfAttribute("..organization"))
    member_id = factory.Sequence(lambda n: f"MBR{n:08d}")
    effective_from = datetime.date(2024, 1, 1)


class EmployerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Employer

    organization = factory.SubFactory(OrganizationFactory)
    guarantor_id = factory.Sequence(lambda n: f"EMP{n:04d}")
    name = factory.Sequence(lambda n: f"Employer {n} LLC")


class EncounterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Encounter

    patient = factory.SubFactory(PatientFactory)
    organization = factory.SelfAttribute("patient.organization")
    provider = factory.SubFactory(
        ProviderFactory, organization=factory.SelfAttribute("..organization")
    )
    date_of_service = factory.LazyFunction(
        lambda: timezone.localdate() - datetime.timedelta(days=10)
    )
    diagnosis_codes = factory.LazyFunction(lambda: ["J06.9", "I10"])


class ChargeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Charge

    encounter = factory.SubFactory(EncounterFactory)
    organization = factory.SelfAttribute("encounter.organization")
    procedure_code = "99213"
    diagnosis_pointers = factory.LazyFunction(lambda: [1])
    units = Decimal("1")
    amount = factory.LazyFunction(lambda: Decimal(random.choice(["95.00", "145.00", "210.00"])))


class ClaimFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Claim

    encounter = factory.SubFactory(EncounterFactory)
    organization = factory.SelfAttribute("encounter.organization")
    coverage = factory.SubFactory(
        CoverageFactory,
        patient=factory.SelfAttribute("..encounter.patient"),
        organization=factory.SelfAttribute("..organization"),
    )
    payer = factory.SelfAttribute("coverage.payer")
    claim_number = factory.Sequence(lambda n: f"C{n:07d}")
    total = Decimal("145.00")


class LedgerEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.LedgerEntry

    encounter = factory.SubFactory(EncounterFactory)
    organization = factory.SelfAttribute("encounter.organization")
    kind = models.LedgerEntry.Kind.CHARGE
    amount = Decimal("100.00")


class AuditLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.AuditLog

    organization = factory.SubFactory(OrganizationFactory)
    action = "test.action"
    table_name = "billing_patient"
    record_id = "1"


class AppointmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Appointment

    patient = factory.SubFactory(PatientFactory)
    organization = factory.SelfAttribute("patient.organization")
    provider = factory.SubFactory(
        ProviderFactory, organization=factory.SelfAttribute("..organization")
    )
    scheduled_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=2))


class ClaimStatusChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.ClaimStatusChange

    claim = factory.SubFactory(ClaimFactory)
    organization = factory.SelfAttribute("claim.organization")
    from_status = ""
    to_status = models.Claim.Status.DRAFT


# --- organization settings and API keys ---------------------------------------------------


class OrganizationRoleFactory(factory.django.DjangoModelFactory):
    """A role an organization defined for itself."""

    class Meta:
        model = models.Role

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Custom role {n}")
    codes = factory.LazyFunction(lambda: ["can_see_billing"])


class ApiKeyFactory(factory.django.DjangoModelFactory):
    """A stored key (its raw form is unknown); use services.api_keys to get a usable one."""

    class Meta:
        model = models.ApiKey

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Key {n}")
    prefix = factory.Sequence(lambda n: f"{n:08x}")
    key_hash = factory.Sequence(lambda n: f"{n:064x}")


# --- clearinghouse configurations and payer enrollments -----------------------------------


class ClearinghouseConfigFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "clearinghouse.ClearinghouseConfig"

    organization = factory.SubFactory(OrganizationFactory)
    vendor = "sandbox"
    display_name = factory.Sequence(lambda n: f"Clearinghouse {n}")
    base_url = "http://127.0.0.1:8089/sandbox"
    submitter_id = factory.Sequence(lambda n: f"SUB{n:05d}")
    is_active = True


class PayerEnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "clearinghouse.PayerEnrollment"

    organization = factory.SubFactory(OrganizationFactory)
    payer = factory.SubFactory(PayerFactory, organization=factory.SelfAttribute("..organization"))
    clearinghouse = factory.SubFactory(
        ClearinghouseConfigFactory, organization=factory.SelfAttribute("..organization")
    )
    electronic_payer_id = factory.Sequence(lambda n: f"EP{n:05d}")
    enrollment_status = "pending"
    covers_837p = True


class FailoverSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "clearinghouse.FailoverSettings"

    organization = factory.SubFactory(OrganizationFactory)


class PayerRouteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "clearinghouse.PayerRoute"

    organization = factory.SubFactory(OrganizationFactory)
    payer = factory.SubFactory(PayerFactory, organization=factory.SelfAttribute("..organization"))
    forced_vendor = factory.SubFactory(
        ClearinghouseConfigFactory, organization=factory.SelfAttribute("..organization")
    )
    allow_failover = False
