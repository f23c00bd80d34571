"""The ledger service, and the rule that keeps an encounter's balance equal to its non-void
charges less what was paid, adjusted and written off."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.models import AuditLog, Charge, LedgerEntry
from billing.services import charges as charge_services
from billing.services import encounters as encounter_services
from billing.services.ledger import charge_posted_amount, ledger_post
from tests import factories

pytestmark = pytest.mark.django_db

CENT = Decimal("0.01")


@pytest.fixture
def encounter(org):
    return factories.EncounterFactory(
        patient=factories.PatientFactory(organization=org), organization=org
    )


def post(encounter, kind, amount, **kwargs):
    with transaction.atomic():
        return ledger_post(
            organization=encounter.organization,
            actor=None,
            encounter=encounter,
            kind=kind,
            amount=Decimal(amount),
            **kwargs,
        )


def recomputed_balance(encounter) -> Decimal:
    """The balance from first principles: non-void charges less every money movement
    that is not a charge posting."""
    charges = Charge.objects.filter(encounter=encounter).exclude(status="void")
    charged = charges.aggregate(t=Sum("amount"))["t"] or Decimal("0")
    other = LedgerEntry.objects.filter(encounter=encounter).exclude(
        source_table="billing_charge"
    ).aggregate(t=Sum("amount"))["t"] or Decimal("0")
    return charged + other


# --- ledger_post --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "amount"),
    [
        ("charge", "100.00"),
        ("insurance_payment", "-60.00"),
        ("patient_payment", "-20.00"),
        ("write_off", "-5.00"),
        ("adjustment", "-15.00"),
        ("adjustment", "15.00"),
        ("reversal", "60.00"),
        ("reversal", "-60.00"),
    ],
)
def test_it_posts_amounts_whose_sign_fits_the_kind_and_audits_them(encounter, kind, amount):
    entry = post(encounter, kind, amount, memo="note")

    assert entry.amount == Decimal(amount)
    assert entry.encounter == encounter
    row = AuditLog.objects.get(action=f"ledger.{kind}")
    assert row.record_id == str(entry.pk)
    assert row.table_name == "billing_ledgerentry"
    assert row.new_values["amount"] == amount
    assert row.new_values["memo"] == "note"


@pytest.mark.parametrize(
    ("kind", "amount", "message"),
    [
        ("charge", "-5.00", "A charge posts a positive amount."),
        ("charge", "0.00", "A charge posts a positive amount."),
        ("insurance_payment", "5.00", "An insurance payment posts a negative amount."),
        ("patient_payment", "5.00", "A patient payment posts a negative amount."),
        ("patient_payment", "0", "A patient payment posts a negative amount."),
        ("write_off", "1.00", "A write-off posts a negative amount."),
        ("adjustment", "0.00", "An adjustment cannot be zero."),
        ("reversal", "0.00", "A reversal cannot be zero."),
        ("charge", "10.005", "Amounts are in dollars and cents."),
        ("gift", "10.00", "Unknown ledger entry kind"),
    ],
)
def test_it_refuses_a_sign_that_does_not_fit_the_kind(encounter, kind, amount, message):
    with pytest.raises(ValidationError) as caught:
        post(encounter, kind, amount)

    assert message in " ".join(caught.value.messages)
    assert not LedgerEntry.objects.exists()
    assert not AuditLog.objects.exists()


def test_it_refuses_a_claim_or_charge_of_another_encounter(encounter, org):
    elsewhere = factories.EncounterFactory(
        patient=factories.PatientFactory(organization=org), organization=org
    )
    claim = factories.ClaimFactory(encounter=elsewhere)
    charge = factories.ChargeFactory(encounter=elsewhere)

    with pytest.raises(ValidationError, match=r"That claim is for another encounter\."):
        post(encounter, "insurance_payment", "-10.00", claim=claim)
    with pytest.raises(ValidationError, match=r"That charge is on another encounter\."):
        post(encounter, "charge", "10.00", charge=charge)
    assert not LedgerEntry.objects.exists()


def test_it_refuses_another_organizations_encounter(encounter, other_org):
    with pytest.raises(ValidationError, match="another organization"), transaction.atomic():
        ledger_post(
            organization=other_org,
            actor=None,
            encounter=encounter,
            kind="charge",
            amount=Decimal("10.00"),
        )
    assert not LedgerEntry.objects.exists()


def test_it_records_who_posted(encounter, manager):
    with transaction.atomic():
        entry = ledger_post(
            organization=encounter.organization,
            actor=manager,
            encounter=encounter,
            kind="patient_payment",
            amount=Decimal("-5.00"),
        )
    assert entry.created_by == manager
    assert AuditLog.objects.get(action="ledger.patient_payment").actor == manager


# --- the charge posting rule --------------------------------------------------------------


def add_charge(encounter, amount, code="99213"):
    return charge_services.charge_create(
        organization=encounter.organization,
        actor=None,
        encounter=encounter,
        procedure_code=code,
        modifiers=[],
        diagnosis_pointers=[1],
        units=Decimal("1"),
        amount=Decimal(amount),
    )


def edit_charge(charge, amount, code=None):
    return charge_services.charge_update(
        organization=charge.organization,
        actor=None,
        charge=charge,
        procedure_code=code or charge.procedure_code,
        modifiers=charge.modifiers,
        diagnosis_pointers=charge.diagnosis_pointers,
        units=charge.units,
        amount=Decimal(amount),
    )


def test_a_new_charge_posts_its_amount(encounter):
    charge = add_charge(encounter, "145.00")

    entry = LedgerEntry.objects.get()
    assert (entry.kind, entry.amount, entry.charge) == ("charge", Decimal("145.00"), charge)
    assert entry.source_table == "billing_charge"
    assert entry.source_id == str(charge.pk)
    assert entry.memo == "99213 charge"
    assert encounter.balance == Decimal("145.00")


def test_editing_the_amount_reverses_the_old_posting_and_posts_the_new_one(encounter):
    charge = add_charge(encounter, "145.00")

    edit_charge(charge, "95.00")

    entries = list(LedgerEntry.objects.order_by("id").values_list("kind", "amount"))
    assert entries == [
        ("charge", Decimal("145.00")),
        ("reversal", Decimal("-145.00")),
        ("charge", Decimal("95.00")),
    ]
    assert encounter.balance == Decimal("95.00")
    assert charge_posted_amount(charge) == Decimal("95.00")


def test_an_edit_that_keeps_amount_and_code_posts_nothing(encounter):
    charge = add_charge(encounter, "145.00")
    charge_services.charge_update(
        organization=charge.organization,
        actor=None,
        charge=charge,
        procedure_code="99213",
        modifiers=["25"],
        diagnosis_pointers=[2, 1],
        units=Decimal("1"),
        amount=Decimal("145.00"),
    )
    assert LedgerEntry.objects.count() == 1


def test_a_changed_code_reposts_so_the_memo_names_the_code(encounter):
    charge = add_charge(encounter, "145.00")
    edit_charge(charge, "145.00", code="99214")
    assert list(LedgerEntry.objects.order_by("id").values_list("memo", flat=True)) == [
        "99213 charge",
        "99213 charge reversed (edited)",
        "99214 charge",
    ]
    assert encounter.balance == Decimal("145.00")


def test_a_void_reverses_what_the_charge_posted(encounter):
    keep = add_charge(encounter, "100.00")
    drop = add_charge(encounter, "60.00", code="36415")

    charge_services.charge_void(organization=encounter.organization, actor=None, charge=drop)

    reversal = LedgerEntry.objects.get(kind="reversal")
    assert (reversal.amount, reversal.charge) == (Decimal("-60.00"), drop)
    assert encounter.balance == keep.amount == Decimal("100.00")


def test_voiding_a_charge_that_never_posted_posts_nothing(encounter):
    """Charges loaded without a posting (e.g. older data) reverse only what they have."""
    charge = factories.ChargeFactory(encounter=encounter, amount=Decimal("50.00"))
    charge_services.charge_void(organization=encounter.organization, actor=None, charge=charge)
    assert not LedgerEntry.objects.exists()


def test_the_balance_equals_live_charges_less_payments_and_adjustments(encounter):
    a = add_charge(encounter, "200.00")
    b = add_charge(encounter, "80.00", code="81002")
    c = add_charge(encounter, "35.00", code="36415")
    edit_charge(b, "90.00")
    charge_services.charge_void(organization=encounter.organization, actor=None, charge=c)
    claim = factories.ClaimFactory(encounter=encounter)
    post(encounter, "insurance_payment", "-150.00", claim=claim)
    post(encounter, "adjustment", "-40.00", claim=claim)
    with transaction.atomic():
        encounter_services.patient_payment_post(
            organization=encounter.organization,
            actor=None,
            encounter=encounter,
            amount=Decimal("25.00"),
            method="cash",
            paid_on=encounter.date_of_service,
        )
    post(encounter, "write_off", "-5.00")

    expected = a.amount + Decimal("90.00") - 150 - 40 - 25 - 5
    assert encounter.balance == expected == Decimal("70.00")
    assert recomputed_balance(encounter) == expected
    annotated = type(encounter).objects.with_balance().get(pk=encounter.pk)
    assert annotated.balance == expected


operations = st.lists(
    st.tuples(
        st.sampled_from(["add", "edit", "void", "pay", "adjust"]),
        st.integers(min_value=0, max_value=5),
        st.decimals(min_value="0.01", max_value="999.99", places=2),
    ),
    max_size=12,
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operations)
def test_the_balance_always_recomputes_from_the_charges(org, ops):
    encounter = factories.EncounterFactory(
        patient=factories.PatientFactory(organization=org), organization=org
    )
    charges: list[Charge] = []
    for op, index, amount in ops:
        live = [c for c in charges if c.status == Charge.Status.DRAFT]
        if op == "add" or (op in ("edit", "void") and not live):
            charges.append(add_charge(encounter, amount))
        elif op == "edit":
            edit_charge(live[index % len(live)], amount)
        elif op == "void":
            target = live[index % len(live)]
            target.status = charge_services.charge_void(
                organization=org, actor=None, charge=target
            ).status
        elif op == "pay":
            post(encounter, "patient_payment", -amount)
        else:
            post(encounter, "adjustment", amount if index % 2 else -amount)

    # SQLite sums decimals as floats: compare to the cent.
    assert encounter.balance.quantize(CENT) == recomputed_balance(encounter).quantize(CENT)
