from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from hypothesis import given
from hypothesis import strategies as st

from billing.models import LedgerEntry
from billing.validators import npi_check_digit_ok, validate_npi
from tests import factories


@pytest.mark.parametrize("npi", ["1234567893", "1245319599", "1679576722"])
def test_it_accepts_npis_with_a_right_check_digit(npi):
    validate_npi(npi)


@pytest.mark.parametrize("npi", ["1234567890", "123456789", "12345678901", "abcdefghij", ""])
def test_it_refuses_npis_that_are_malformed_or_fail_the_check_digit(npi):
    with pytest.raises(ValidationError):
        validate_npi(npi)


@given(st.from_regex(r"\A[12]\d{8}\Z"))
def test_exactly_one_check_digit_fits_every_npi_stem(stem):
    assert sum(npi_check_digit_ok(stem + str(d)) for d in range(10)) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "amount"),
    [
        ("charge", "-5.00"),
        ("insurance_payment", "5.00"),
        ("patient_payment", "5.00"),
        ("write_off", "1.00"),
        ("adjustment", "0.00"),
        ("charge", "0.00"),
    ],
)
def test_the_ledger_refuses_amounts_whose_sign_does_not_match_the_kind(kind, amount):
    encounter = factories.EncounterFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            organization=encounter.organization,
            encounter=encounter,
            kind=kind,
            amount=Decimal(amount),
        )


@pytest.mark.django_db
def test_an_encounters_balance_is_the_sum_of_its_ledger():
    encounter = factories.EncounterFactory()
    for kind, amount in [
        ("charge", "120.00"),
        ("insurance_payment", "-80.00"),
        ("adjustment", "-15.50"),
    ]:
        factories.LedgerEntryFactory(encounter=encounter, kind=kind, amount=Decimal(amount))
    assert encounter.balance == Decimal("24.50")
    annotated = type(encounter).objects.with_balance().get(pk=encounter.pk)
    assert annotated.balance == Decimal("24.50")


@pytest.mark.django_db
def test_a_row_cannot_point_at_another_organizations_record(org, other_org):
    patient = factories.PatientFactory(organization=org)
    foreign_payer = factories.PayerFactory(organization=other_org)
    coverage = factories.CoverageFactory.build(
        patient=patient, organization=org, payer=foreign_payer
    )
    with pytest.raises(ValidationError) as excinfo:
        coverage.full_clean()
    assert "payer" in excinfo.value.message_dict


@pytest.mark.django_db
def test_a_charge_checks_codes_modifiers_and_pointers():
    encounter = factories.EncounterFactory(diagnosis_codes=["E11.9", "I10"])
    good = factories.ChargeFactory.build(
        encounter=encounter,
        organization=encounter.organization,
        modifiers=["25"],
        diagnosis_pointers=[1, 2],
    )
    good.full_clean()
    bad = factories.ChargeFactory.build(
        encounter=encounter,
        organization=encounter.organization,
        procedure_code="9921",
        modifiers=["255"],
        diagnosis_pointers=[3],
    )
    with pytest.raises(ValidationError) as excinfo:
        bad.full_clean()
    assert set(excinfo.value.message_dict) == {"procedure_code", "modifiers", "diagnosis_pointers"}


@pytest.mark.django_db
def test_an_encounter_refuses_codes_that_are_not_icd10():
    encounter = factories.EncounterFactory.build(
        organization=factories.OrganizationFactory(), diagnosis_codes=["J06.9", "12345"]
    )
    encounter.patient = factories.PatientFactory(organization=encounter.organization)
    encounter.provider = factories.ProviderFactory(organization=encounter.organization)
    with pytest.raises(ValidationError, match="ICD-10"):
        encounter.full_clean()


@pytest.mark.django_db
def test_an_encounter_accepts_u_codes_such_as_covid_19():
    encounter = factories.EncounterFactory(diagnosis_codes=["U07.1", "J12.82"])
    encounter.full_clean()
