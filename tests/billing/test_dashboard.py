from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import Charge, Claim, LedgerEntry
from tests import factories

pytestmark = pytest.mark.django_db


def _charges(org, statuses):
    encounter = factories.EncounterFactory(organization=org, patient__organization=org)
    for status in statuses:
        factories.ChargeFactory(encounter=encounter, status=status, amount=Decimal("100.00"))
    return encounter


def test_it_shows_counts_of_charges_and_claims_by_status_from_the_database(
    login, admin_user, org, other_org
):
    _charges(org, ["draft", "draft", "approved", "billed", "void"])
    factories.ClaimFactory(encounter=_charges(org, []), status=Claim.Status.PAID)
    factories.ClaimFactory(encounter=_charges(org, []), status=Claim.Status.REJECTED)
    _charges(other_org, ["draft"] * 7)  # another practice's charges never count

    response = login(admin_user).get(reverse("dashboard"))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="charges-draft">2<' in html
    assert 'data-testid="charges-approved">1<' in html
    assert 'data-testid="charges-billed">1<' in html
    assert 'data-testid="charges-void">1<' in html
    assert 'data-testid="claims-paid">1<' in html
    assert 'data-testid="claims-rejected">1<' in html
    assert 'data-testid="claims-denied">0<' in html
    assert Charge.objects.filter(organization=org, status="draft").count() == 2


def test_it_shows_the_open_balance_derived_from_the_ledger(login, admin_user, org, other_org):
    owing = _charges(org, [])
    factories.LedgerEntryFactory(encounter=owing, amount=Decimal("200.00"))
    factories.LedgerEntryFactory(
        encounter=owing, kind="insurance_payment", amount=Decimal("-150.25")
    )
    settled = _charges(org, [])
    factories.LedgerEntryFactory(encounter=settled, amount=Decimal("80.00"))
    factories.LedgerEntryFactory(
        encounter=settled, kind="patient_payment", amount=Decimal("-90.00")
    )
    foreign = _charges(other_org, [])
    factories.LedgerEntryFactory(encounter=foreign, amount=Decimal("999.00"))

    html = login(admin_user).get(reverse("dashboard")).content.decode()

    assert 'data-testid="open-balance">$49.75<' in html
    assert 'data-testid="open-encounters">1<' in html
    assert sum(e.amount for e in LedgerEntry.objects.filter(encounter=owing)) == Decimal("49.75")


def test_it_ages_open_balances_by_date_of_service(login, admin_user, org):
    today = timezone.localdate()
    for days, owed in [
        (0, "10.00"),
        (30, "1.00"),
        (31, "20.00"),
        (75, "30.00"),
        (91, "40.00"),
        (400, "2.00"),
    ]:
        encounter = factories.EncounterFactory(
            organization=org,
            patient__organization=org,
            date_of_service=today - timedelta(days=days),
        )
        factories.LedgerEntryFactory(encounter=encounter, amount=Decimal(owed))

    html = login(admin_user).get(reverse("dashboard")).content.decode()

    assert 'data-testid="aging-0-30">$11.00<' in html
    assert 'data-testid="aging-31-60">$20.00<' in html
    assert 'data-testid="aging-61-90">$30.00<' in html
    assert 'data-testid="aging-90+">$42.00<' in html
    assert 'data-testid="open-balance">$103.00<' in html


def test_it_lists_in_the_menu_only_pages_the_member_may_open(login, clerk, manager):
    clerk_html = login(clerk).get(reverse("dashboard")).content.decode()
    assert "Audit Log" not in clerk_html
    manager_html = login(manager).get(reverse("dashboard")).content.decode()
    assert reverse("audit_log") in manager_html


def test_it_does_not_count_a_settled_encounter_whose_sum_is_a_float_crumb(login, admin_user, org):
    # 0.10 + 0.20 - 0.30 is 5.5e-17 in floating point, which SQLite uses to add decimals.
    encounter = factories.EncounterFactory(organization=org, patient__organization=org)
    for charged in ("0.10", "0.20"):
        factories.LedgerEntryFactory(encounter=encounter, amount=Decimal(charged))
    factories.LedgerEntryFactory(
        encounter=encounter, kind="patient_payment", amount=Decimal("-0.30")
    )

    html = login(admin_user).get(reverse("dashboard")).content.decode()

    assert 'data-testid="open-encounters">0<' in html
    assert encounter.balance == Decimal("0.00")
