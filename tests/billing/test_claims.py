from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from billing.models import AuditLog, Claim, ClaimStatusChange, LedgerEntry
from billing.services.claims import claim_content_changed, claim_set_status
from tests import factories

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true", "HX-Target": "claim-rows"}


def _claim(org, *, dos=None, payer=None, provider=None, **kwargs):
    encounter_kwargs = {"organization": org, "patient__organization": org}
    if dos is not None:
        encounter_kwargs["date_of_service"] = dos
    if provider is not None:
        encounter_kwargs["provider"] = provider
    encounter = factories.EncounterFactory(**encounter_kwargs)
    coverage_kwargs = {"patient": encounter.patient, "organization": org}
    if payer is not None:
        coverage_kwargs["payer"] = payer
    coverage = factories.CoverageFactory(**coverage_kwargs)
    return factories.ClaimFactory(
        encounter=encounter, organization=org, coverage=coverage, payer=coverage.payer, **kwargs
    )


def _rows(html: str) -> str:
    return html.split("<tbody>")[1].split("</tbody>")[0]


# --- the list ---------------------------------------------------------------------------


def test_it_sends_anonymous_visitors_to_the_login_page(client, org):
    claim = _claim(org)
    for url in (reverse("claim_list"), reverse("claim_detail", args=[claim.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_it_lists_the_organizations_claims_with_links(login, clerk, org, other_org):
    claim = _claim(org, claim_number="DFP-C000042", total=Decimal("1234.50"))
    _claim(other_org, claim_number="NSO-SECRET")

    html = login(clerk).get(reverse("claim_list")).content.decode()

    rows = _rows(html)
    assert "DFP-C000042" in rows
    assert "NSO-SECRET" not in html
    assert reverse("claim_detail", args=[claim.pk]) in rows
    assert reverse("patient_detail", args=[claim.encounter.patient.pk]) in rows
    assert "$1,234.50" in rows
    assert f'name="claim_ids" value="{claim.pk}"' in rows
    assert "Select all claims on this page" in html


def test_it_filters_by_status_and_totals_the_filtered_set(login, manager, org):
    _claim(org, status=Claim.Status.PAID, total=Decimal("100.00"), claim_number="PAID-1")
    _claim(org, status=Claim.Status.PAID, total=Decimal("1150.25"), claim_number="PAID-2")
    _claim(org, status=Claim.Status.DENIED, total=Decimal("999.00"), claim_number="DENIED-1")

    html = login(manager).get(reverse("claim_list"), {"status": "paid"}).content.decode()

    assert "PAID-1" in html and "PAID-2" in html
    assert "DENIED-1" not in html
    assert '<strong data-testid="claim-count">2</strong>' in html
    assert '<strong data-testid="claim-sum">$1,250.25</strong>' in html


def test_it_totals_every_claim_when_unfiltered(login, manager, org):
    _claim(org, total=Decimal("10.00"))
    _claim(org, total=Decimal("20.00"))

    html = login(manager).get(reverse("claim_list")).content.decode()

    assert '<strong data-testid="claim-count">2</strong>' in html
    assert '<strong data-testid="claim-sum">$30.00</strong>' in html


def test_it_filters_by_payer_and_provider(login, manager, org):
    aetna = factories.PayerFactory(organization=org, name="Aetna")
    cigna = factories.PayerFactory(organization=org, name="Cigna")
    brown = factories.ProviderFactory(organization=org, last_name="Brown")
    acosta = factories.ProviderFactory(organization=org, last_name="Acosta")
    _claim(org, payer=aetna, provider=brown, claim_number="AETNA-BROWN")
    _claim(org, payer=aetna, provider=acosta, claim_number="AETNA-ACOSTA")
    _claim(org, payer=cigna, provider=brown, claim_number="CIGNA-BROWN")
    client = login(manager)

    by_payer = _rows(client.get(reverse("claim_list"), {"payer": aetna.pk}).content.decode())
    both = _rows(
        client.get(
            reverse("claim_list"), {"payer": aetna.pk, "provider": brown.pk}
        ).content.decode()
    )

    assert "AETNA-BROWN" in by_payer and "AETNA-ACOSTA" in by_payer
    assert "CIGNA-BROWN" not in by_payer
    assert "AETNA-BROWN" in both
    assert "AETNA-ACOSTA" not in both and "CIGNA-BROWN" not in both


def test_it_filters_by_date_of_service(login, manager, org):
    _claim(org, dos=datetime.date(2026, 3, 1), claim_number="MARCH-1")
    _claim(org, dos=datetime.date(2026, 3, 31), claim_number="MARCH-31")
    _claim(org, dos=datetime.date(2026, 4, 1), claim_number="APRIL-1")

    html = (
        login(manager)
        .get(
            reverse("claim_list"),
            {"date_basis": "service", "date_from": "2026-03-01", "date_to": "2026-03-31"},
        )
        .content.decode()
    )

    assert "MARCH-1" in html and "MARCH-31" in html
    assert "APRIL-1" not in html
    assert '<strong data-testid="claim-count">2</strong>' in html


def test_it_filters_by_created_day_in_the_organizations_time_zone(login, manager, org):
    # 03:30 UTC on March 2 is still March 1 in New York.
    late_evening = datetime.datetime(2026, 3, 2, 3, 30, tzinfo=datetime.UTC)
    _claim(org, created_at=late_evening, claim_number="LATE-MARCH-1")
    _claim(
        org,
        created_at=datetime.datetime(2026, 3, 2, 15, 0, tzinfo=datetime.UTC),
        claim_number="MARCH-2",
    )
    # Its date of service is March 2, which a created-date filter must not look at.
    _claim(
        org,
        dos=datetime.date(2026, 3, 1),
        created_at=datetime.datetime(2026, 3, 10, 15, 0, tzinfo=datetime.UTC),
        claim_number="CREATED-LATER",
    )

    html = (
        login(manager)
        .get(
            reverse("claim_list"),
            {"date_basis": "created", "date_from": "2026-03-01", "date_to": "2026-03-01"},
        )
        .content.decode()
    )

    assert "LATE-MARCH-1" in html
    assert "MARCH-2" not in html
    assert "CREATED-LATER" not in html
    assert "Created date" in html


def test_it_ignores_another_organizations_payer_in_the_filter(login, manager, org, other_org):
    _claim(org, claim_number="OURS-1")
    foreign = factories.PayerFactory(organization=other_org, name="Foreign Payer")

    html = login(manager).get(reverse("claim_list"), {"payer": foreign.pk}).content.decode()

    assert "Payer filter ignored" in html
    assert "OURS-1" in html
    assert "Foreign Payer" not in html


def test_it_says_when_the_end_date_is_before_the_start(login, manager, org):
    _claim(org, claim_number="ANY-1")

    html = (
        login(manager)
        .get(reverse("claim_list"), {"date_from": "2026-05-01", "date_to": "2026-04-01"})
        .content.decode()
    )

    assert "The end date is before the start date." in html


def test_it_says_when_no_claim_matches(login, manager, org):
    client = login(manager)
    assert "No claims yet." in client.get(reverse("claim_list")).content.decode()
    _claim(org, status=Claim.Status.PAID)
    html = client.get(reverse("claim_list"), {"status": "denied"}).content.decode()
    assert "No claims match these filters." in html


def test_it_paginates_and_keeps_the_filters(login, manager, org):
    payer = factories.PayerFactory(organization=org)
    for _ in range(55):
        _claim(org, payer=payer, status=Claim.Status.PAID)
    client = login(manager)

    first = client.get(reverse("claim_list"), {"status": "paid"}).content.decode()
    second = client.get(reverse("claim_list"), {"status": "paid", "page": 2}).content.decode()

    assert "55 rows · page 1 of 2" in first
    assert "status=paid&amp;page=2" in first
    assert _rows(first).count("<tr>") == 50
    assert _rows(second).count("<tr>") == 5
    assert '<strong data-testid="claim-count">55</strong>' in second


def test_it_answers_htmx_with_only_the_rows(login, manager, org):
    _claim(org, claim_number="HX-1", status=Claim.Status.PAID)
    _claim(org, claim_number="HX-2", status=Claim.Status.DENIED)

    response = login(manager).get(reverse("claim_list"), {"status": "paid"}, headers=HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="claim-rows">')
    assert "<h1>" not in html and '<form method="get"' not in html
    assert "HX-1" in html and "HX-2" not in html
    assert "HX-Request" in response["Vary"]


def test_it_lists_claims_in_a_bounded_number_of_queries(
    login, manager, org, django_assert_max_num_queries
):
    payers = factories.PayerFactory.create_batch(3, organization=org)
    for n in range(30):
        _claim(org, payer=payers[n % 3])
    client = login(manager)
    client.get(reverse("claim_list"))  # warm the session

    with django_assert_max_num_queries(12):
        response = client.get(reverse("claim_list"))

    assert _rows(response.content.decode()).count("<tr>") == 30


# --- the claim page ---------------------------------------------------------------------


@pytest.fixture
def paid_claim(org, admin_user):
    encounter = factories.EncounterFactory(
        organization=org,
        patient__organization=org,
        diagnosis_codes=["J06.9", "I10", "E11.9"],
    )
    coverage = factories.CoverageFactory(
        patient=encounter.patient, organization=org, member_id="XJH123456789"
    )
    claim = factories.ClaimFactory(
        encounter=encounter,
        organization=org,
        coverage=coverage,
        payer=coverage.payer,
        claim_number="DFP-C000777",
        status=Claim.Status.PAID,
        total=Decimal("305.00"),
        payer_claim_control_number="PCN-5550001",
        version=2,
    )
    office = factories.ChargeFactory(
        encounter=encounter,
        procedure_code="99214",
        modifiers=["25"],
        diagnosis_pointers=[3, 1],
        amount=Decimal("210.00"),
    )
    xray = factories.ChargeFactory(
        encounter=encounter,
        procedure_code="71046",
        modifiers=["26", "RT"],
        diagnosis_pointers=[2],
        units=Decimal("2"),
        amount=Decimal("95.00"),
    )
    claim.charges.add(office, xray)
    factories.LedgerEntryFactory(
        encounter=encounter, claim=claim, charge=office, amount=Decimal("210.00"), memo="charge"
    )
    factories.LedgerEntryFactory(
        encounter=encounter,
        claim=claim,
        kind=LedgerEntry.Kind.INSURANCE_PAYMENT,
        amount=Decimal("-1150.10"),
        memo="Aetna payment, EFT 744550314",
    )
    factories.LedgerEntryFactory(
        encounter=encounter,
        claim=claim,
        kind=LedgerEntry.Kind.ADJUSTMENT,
        amount=Decimal("-39.90"),
        memo="CO-45 contractual adjustment",
    )
    factories.ClaimStatusChangeFactory(
        claim=claim,
        from_status=Claim.Status.ACCEPTED,
        to_status=Claim.Status.PAID,
        actor=admin_user,
        note="ERA posted",
    )
    return claim


def test_it_shows_the_claim_header(login, clerk, paid_claim):
    html = login(clerk).get(reverse("claim_detail", args=[paid_claim.pk])).content.decode()

    assert "<h1>Claim DFP-C000777" in html
    assert '<span class="badge ca-claim-paid" data-testid="claim-status">Paid</span>' in html
    assert "1 Original" in html
    assert paid_claim.payer.name in html
    assert '<span data-testid="member-id">XJH123456789</span>' in html
    assert "PCN-5550001" in html
    assert '<dd class="nowrap" data-testid="claim-total">$305.00</dd>' in html
    assert reverse("encounter_detail", args=[paid_claim.encounter.pk]) in html
    assert reverse("patient_detail", args=[paid_claim.encounter.patient.pk]) in html


def test_it_shows_the_lines_with_the_diagnoses_their_pointers_name(login, clerk, paid_claim):
    html = login(clerk).get(reverse("claim_detail", args=[paid_claim.pk])).content.decode()

    lines = html.split('id="claim-lines"')[1].split("</section>")[0]
    first, second = lines.split('data-testid="claim-line"')[1:3]
    assert "<code>99214</code>" in first
    assert "<code>25</code>" in first
    assert "<code>E11.9</code>, <code>J06.9</code>" in first
    assert "$210.00" in first
    assert "<code>71046</code>" in second
    assert "<code>26</code> <code>RT</code>" in second
    assert "<code>I10</code>" in second
    assert '<td class="num">2</td>' in second
    assert "$305.00" in lines  # lines total


def test_it_shows_the_status_history(login, clerk, paid_claim, admin_user):
    html = login(clerk).get(reverse("claim_detail", args=[paid_claim.pk])).content.decode()

    history = html.split('id="claim-history"')[1].split("</section>")[0]
    assert "Accepted → Paid" in history
    assert admin_user.get_full_name() in history
    assert "ERA posted" in history
    assert "No status changes recorded yet." not in history


def test_it_says_when_there_is_no_status_history(login, clerk, org):
    claim = _claim(org)
    html = login(clerk).get(reverse("claim_detail", args=[claim.pk])).content.decode()
    assert "No status changes recorded yet." in html


def test_it_shows_the_payments_posted_against_the_claim(login, clerk, paid_claim):
    html = login(clerk).get(reverse("claim_detail", args=[paid_claim.pk])).content.decode()

    payments = html.split('id="claim-payments"')[1].split("</section>")[0]
    assert payments.count('data-testid="payment-row"') == 2
    assert "Aetna payment, EFT 744550314" in payments
    assert "\u2212$1,150.10" in payments
    assert "CO-45 contractual adjustment" in payments
    assert '<th class="num nowrap" data-testid="payments-total">\u2212$1,190.00</th>' in payments
    assert ">charge<" not in payments


def test_it_titles_the_sections_later_work_fills(login, clerk, org):
    claim = _claim(org, status=Claim.Status.READY)
    html = login(clerk).get(reverse("claim_detail", args=[claim.pk])).content.decode()

    for title in ("Files sent", "Acknowledgements", "Payments"):
        assert f">{title}</h2>" in html
    assert "appear here once the claim is submitted" in html
    assert "appear here once the payer pays the claim" in html


def test_it_shows_the_claim_page_in_a_bounded_number_of_queries(
    login, clerk, paid_claim, django_assert_max_num_queries
):
    client = login(clerk)
    client.get(reverse("claim_detail", args=[paid_claim.pk]))

    with django_assert_max_num_queries(12):
        client.get(reverse("claim_detail", args=[paid_claim.pk]))


def test_it_hides_another_organizations_claim(login, other, org):
    claim = _claim(org)
    response = login(other).get(reverse("claim_detail", args=[claim.pk]))
    assert response.status_code == 404
    assert claim.claim_number.encode() not in response.content


def test_it_answers_404_for_a_claim_that_does_not_exist(login, clerk):
    assert login(clerk).get(reverse("claim_detail", args=[999999])).status_code == 404


def test_it_refuses_writes_to_the_read_only_claim_pages(login, admin_user, org):
    claim = _claim(org)
    client = login(admin_user)
    assert client.post(reverse("claim_list")).status_code == 405
    assert client.post(reverse("claim_detail", args=[claim.pk])).status_code == 405


# --- claim_set_status -------------------------------------------------------------------


def test_it_moves_a_claim_and_records_history_and_audit(org, admin_user):
    claim = _claim(org, status=Claim.Status.READY)

    with transaction.atomic():
        change = claim_set_status(
            organization=org,
            actor=admin_user,
            claim=claim,
            to_status=Claim.Status.SUBMITTED,
            note="Batch 12",
        )

    claim.refresh_from_db()
    assert claim.status == Claim.Status.SUBMITTED
    assert claim.submitted_at is not None
    assert change.from_status == Claim.Status.READY
    assert change.to_status == Claim.Status.SUBMITTED
    assert change.actor == admin_user
    assert change.note == "Batch 12"
    assert list(ClaimStatusChange.objects.filter(claim=claim)) == [change]
    row = AuditLog.objects.get(action="claim.status", record_id=str(claim.pk))
    assert row.organization == org
    assert row.actor == admin_user
    assert row.table_name == "billing_claim"
    assert row.old_values == {"status": "ready"}
    assert row.new_values["status"] == "submitted"
    assert row.new_values["note"] == "Batch 12"


def test_it_stamps_acceptance_and_records_the_system_as_actor(org):
    claim = _claim(org, status=Claim.Status.SUBMITTED)

    change = claim_set_status(
        organization=org, actor=None, claim=claim, to_status=Claim.Status.ACCEPTED
    )

    assert claim.status == Claim.Status.ACCEPTED  # updated in place
    assert claim.accepted_at is not None
    assert change.actor is None
    assert AuditLog.objects.get(action="claim.status").actor is None


def test_it_refuses_a_status_change_that_changes_nothing(org, admin_user):
    claim = _claim(org, status=Claim.Status.PAID)

    with pytest.raises(ValidationError, match="already Paid"):
        claim_set_status(
            organization=org, actor=admin_user, claim=claim, to_status=Claim.Status.PAID
        )

    assert not ClaimStatusChange.objects.exists()
    assert not AuditLog.objects.filter(action="claim.status").exists()


def test_it_refuses_an_unknown_status(org, admin_user):
    claim = _claim(org, status=Claim.Status.READY)

    with pytest.raises(ValidationError):
        claim_set_status(organization=org, actor=admin_user, claim=claim, to_status="lost")

    claim.refresh_from_db()
    assert claim.status == Claim.Status.READY
    assert not ClaimStatusChange.objects.exists()


def test_it_refuses_to_move_another_organizations_claim(org, other_org, other):
    claim = _claim(org, status=Claim.Status.READY)

    with pytest.raises(ValidationError):
        claim_set_status(
            organization=other_org, actor=other, claim=claim, to_status=Claim.Status.SUBMITTED
        )

    claim.refresh_from_db()
    assert claim.status == Claim.Status.READY
    assert not AuditLog.objects.exists()


def test_it_shows_the_history_the_service_writes(login, clerk, org, admin_user):
    claim = _claim(org, status=Claim.Status.READY)
    with transaction.atomic():
        claim_set_status(
            organization=org, actor=admin_user, claim=claim, to_status=Claim.Status.SUBMITTED
        )
        claim_set_status(
            organization=org,
            actor=None,
            claim=claim,
            to_status=Claim.Status.REJECTED,
            note="277CA: invalid member id",
        )

    html = login(clerk).get(reverse("claim_detail", args=[claim.pk])).content.decode()

    history = html.split('id="claim-history"')[1].split("</section>")[0]
    assert history.index("Ready → Submitted") < history.index("Submitted → Rejected")
    assert "277CA: invalid member id" in history
    assert "system" in history


def test_it_bumps_the_version_when_content_changes(org):
    claim = _claim(org, version=3, status=Claim.Status.SUBMITTED)

    assert claim_content_changed(claim) == 4

    claim.refresh_from_db()
    assert claim.version == 4
    assert claim.status == Claim.Status.SUBMITTED
    assert not AuditLog.objects.exists()


def test_it_says_nothing_is_recorded_yet_for_a_submitted_claim(login, clerk, org):
    claim = _claim(org, status=Claim.Status.SUBMITTED, submitted_at=timezone.now())
    html = login(clerk).get(reverse("claim_detail", args=[claim.pk])).content.decode()

    assert "No files are recorded for this claim yet." in html
    assert "No acknowledgements are recorded for this claim yet." in html
    assert "once the claim is submitted" not in html
