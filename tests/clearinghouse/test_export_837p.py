from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from billing.models import Claim, Coverage
from edi.x837p import read_837p
from tests import factories
from tests.edi.pyx12_check import validate_with_pyx12

pytestmark = pytest.mark.django_db


@pytest.fixture
def practice(org):
    org.address_line1, org.city, org.state, org.zip_code = "1 Main St", "Camp Hill", "PA", "17011"
    org.phone = "(717) 555-0100"
    org.save()
    clearinghouse = factories.ClearinghouseConfigFactory(organization=org, vendor="waystar")
    return org, clearinghouse


def _claim(org, payer, *, relationship=Coverage.Relationship.SELF, status=Claim.Status.READY):
    patient = factories.PatientFactory(
        organization=org, address_line1="9 Elm St", city="Harrisburg", state="PA", zip_code="17101"
    )
    coverage = factories.CoverageFactory(
        organization=org,
        patient=patient,
        payer=payer,
        relationship=relationship,
        subscriber_first_name="Sam" if relationship != Coverage.Relationship.SELF else "",
        subscriber_last_name="Parent" if relationship != Coverage.Relationship.SELF else "",
    )
    encounter = factories.EncounterFactory(
        organization=org, patient=patient, diagnosis_codes=["E11.9", "I10"]
    )
    charges = [
        factories.ChargeFactory(
            encounter=encounter,
            procedure_code="99214",
            amount=Decimal("150.00"),
            diagnosis_pointers=[1, 2],
            modifiers=["25"],
            status="billed",
        ),
        factories.ChargeFactory(
            encounter=encounter,
            procedure_code="36415",
            amount=Decimal("15.00"),
            diagnosis_pointers=[1],
            status="billed",
        ),
    ]
    claim = factories.ClaimFactory(
        encounter=encounter, coverage=coverage, payer=payer, status=status, total=Decimal("165.00")
    )
    claim.charges.set(charges)
    return claim


def _export(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("export_837p", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_prints_a_pyx12_clean_837p_of_the_ready_claims(practice):
    org, clearinghouse = practice
    enrollment = factories.PayerEnrollmentFactory(
        organization=org,
        clearinghouse=clearinghouse,
        enrollment_status="active",
        electronic_payer_id="WAY60054",
    )
    ready = _claim(org, enrollment.payer)
    child = _claim(org, enrollment.payer, relationship=Coverage.Relationship.CHILD)
    _claim(org, enrollment.payer, status=Claim.Status.SUBMITTED)  # not ready: not exported

    text, err = _export("--org", org.slug)

    assert validate_with_pyx12(text) == []
    claims = [c for batch in read_837p(text).transactions for c in batch.claims]
    assert sorted(c.patient_control_number for c in claims) == sorted(
        [ready.claim_number, child.claim_number]
    )
    assert {c.payer.payer_id for c in claims} == {"WAY60054"}  # the clearinghouse's id
    assert {c.total_charge for c in claims} == {Decimal("165.00")}
    assert "2 claim(s) through" in err


def test_it_skips_a_claim_whose_payer_is_not_enrolled_there_with_a_warning(practice):
    org, clearinghouse = practice
    enrolled = factories.PayerEnrollmentFactory(
        organization=org, clearinghouse=clearinghouse, enrollment_status="active"
    )
    pending = factories.PayerEnrollmentFactory(
        organization=org, clearinghouse=clearinghouse, enrollment_status="pending"
    )
    _claim(org, enrolled.payer)
    stuck = _claim(org, pending.payer)

    text, err = _export("--org", org.slug, "--clearinghouse", str(clearinghouse.pk))

    assert f"skipped claim {stuck.claim_number}" in err
    assert "has no active 837P enrollment" in err
    assert stuck.claim_number not in text


def test_it_takes_a_new_control_number_for_each_file(practice):
    org, clearinghouse = practice
    enrollment = factories.PayerEnrollmentFactory(
        organization=org, clearinghouse=clearinghouse, enrollment_status="active"
    )
    claim = _claim(org, enrollment.payer)
    first, _ = _export("--org", org.slug, "--claim", str(claim.pk))
    second, _ = _export("--org", org.slug, "--claim", str(claim.pk))
    assert [e.control_number for e in read_837p(first).envelopes] == [1]
    assert [e.control_number for e in read_837p(second).envelopes] == [2]


def test_it_explains_what_is_wrong_instead_of_printing_a_broken_file(practice, other_org):
    org, _clearinghouse = practice
    with pytest.raises(CommandError, match="No organization"):
        _export("--org", "nope")
    with pytest.raises(CommandError, match="No claim to export"):
        _export("--org", org.slug)
    foreign = factories.ClearinghouseConfigFactory(organization=other_org)
    with pytest.raises(CommandError, match="No clearinghouse configuration"):
        _export("--org", org.slug, "--clearinghouse", str(foreign.pk))
    factories.ClearinghouseConfigFactory(organization=org)
    with pytest.raises(CommandError, match="no single active clearinghouse"):
        _export("--org", org.slug)


def test_it_skips_a_claim_the_edi_writer_refuses_and_names_the_field(practice):
    org, clearinghouse = practice
    enrollment = factories.PayerEnrollmentFactory(
        organization=org, clearinghouse=clearinghouse, enrollment_status="active"
    )
    good = _claim(org, enrollment.payer)
    bad = _claim(org, enrollment.payer)
    bad.encounter.patient.last_name = "O*Brien"  # the element separator
    bad.encounter.patient.save()

    text, err = _export("--org", org.slug)

    assert good.claim_number in text and bad.claim_number not in text
    assert f"skipped claim {bad.claim_number}" in err and "separator" in err


def test_it_needs_the_organizations_phone_for_the_submitter_contact(practice):
    org, clearinghouse = practice
    org.phone = ""
    org.save()
    enrollment = factories.PayerEnrollmentFactory(
        organization=org, clearinghouse=clearinghouse, enrollment_status="active"
    )
    _claim(org, enrollment.payer)
    with pytest.raises(CommandError, match="No claim to export"):
        _export("--org", org.slug)


def test_every_demo_claim_makes_a_pyx12_clean_837p(db, settings):
    from billing.models import Organization
    from billing.tenancy import tenant_context
    from clearinghouse.claim_files import build_837p
    from clearinghouse.models import ClearinghouseConfig

    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())
    org = Organization.objects.get(slug="northside-orthopedics")
    with tenant_context(org):
        sandbox = ClearinghouseConfig.objects.get(organization=org, vendor="sandbox")
        claims = (
            Claim.objects.for_organization(org)
            .exclude(status=Claim.Status.VOIDED)
            .select_related("encounter__patient", "encounter__provider", "payer", "coverage")
            .prefetch_related("charges")
        )
        claim_file = build_837p(organization=org, clearinghouse=sandbox, claims=claims)

    assert claim_file.skipped == []
    assert len(claim_file.claims) == claims.count() > 200
    assert validate_with_pyx12(claim_file.text) == []


def test_an_export_without_a_named_clearinghouse_is_built_for_the_failover_primary(org):
    from clearinghouse.models import FailoverSettings
    from clearinghouse.selectors import default_claim_clearinghouse

    first = factories.ClearinghouseConfigFactory(organization=org)
    second = factories.ClearinghouseConfigFactory(organization=org)
    assert default_claim_clearinghouse(org) is None  # two active: ambiguous
    FailoverSettings.objects.create(organization=org, primary=second, secondary=first)
    assert default_claim_clearinghouse(org) == second
