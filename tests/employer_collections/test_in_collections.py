from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from billing.models import AuditLog
from employer_collections.models import CollectionEntry, CollectionExport, PreCollectionEntry
from employer_collections.spreadsheet import COLUMNS
from tests import factories
from tests.employer_collections.helpers import owed, pay

pytestmark = pytest.mark.django_db

LIST = reverse("collections_list")
EXPORT = reverse("collections_export_create")
REMOVE = reverse("collections_remove")


def _in_collections(encounter, *, balance_for=None):
    return CollectionEntry.objects.create(
        organization=encounter.organization,
        encounter=encounter,
        balance_for=balance_for or ("employer" if encounter.guarantor_employer_id else "patient"),
        guarantor_employer=encounter.guarantor_employer,
        original_balance=encounter.balance,
    )


def _sheet(export):
    book = load_workbook(io.BytesIO(bytes(export.xlsx)))
    return [list(r) for r in book.active.iter_rows(values_only=True)]


def test_the_spreadsheet_matches_the_database(enabled, manager, login, acme):
    a = owed(enabled, "250.00", employer=acme, days=95)
    pay(a, "50.00", days_ago=3)
    b = owed(enabled, "80.00", days=40)
    for e in (a, b):
        _in_collections(e)
    client = login(manager)
    response = client.post(EXPORT, follow=True)
    assert "Spreadsheet created: 2 encounters sent to the agency." in response.content.decode()
    export = CollectionExport.objects.get()
    rows = _sheet(export)
    assert rows[0] == COLUMNS
    by_id = {r[7]: r for r in rows[1:-1]}
    assert set(by_id) == {a.pk, b.pk}
    row = by_id[a.pk]
    assert row[:6] == [
        "New",
        "Employer",
        "ACME01",
        "Acme Freight",
        "1 Dock St, Harrisburg, PA 17101",
        "717-555-0100",
    ]
    assert row[8].date() == a.date_of_service
    assert Decimal(str(row[9])) == Decimal("200.00") and Decimal(str(row[10])) == a.balance
    assert row[11].date() == (timezone.localdate() - timezone.timedelta(days=3))
    assert row[12] == 95
    assert by_id[b.pk][2] == b.patient.account_number and by_id[b.pk][11] is None
    total = rows[-1]
    assert total[0] == "Total"
    assert Decimal(str(total[10])) == a.balance + b.balance == export.total_balance
    csv_rows = list(csv.reader(io.StringIO(bytes(export.csv).decode())))
    assert csv_rows[0] == COLUMNS and len(csv_rows) == len(rows)
    assert {r[7] for r in csv_rows[1:-1]} == {str(a.pk), str(b.pk)}
    assert set(CollectionEntry.objects.values_list("sent_export", flat=True)) == {export.pk}
    assert AuditLog.objects.filter(action="collections.export_create").count() == 1
    response = client.post(EXPORT, follow=True)
    assert "Nothing to send" in response.content.decode()
    assert CollectionExport.objects.count() == 1


def test_redownload_returns_the_stored_bytes_and_is_audited_as_phi(enabled, manager, login, acme):
    _in_collections(owed(enabled, employer=acme))
    client = login(manager)
    client.post(EXPORT)
    export = CollectionExport.objects.get()
    response = client.get(reverse("collections_export_download", args=[export.pk, "xlsx"]))
    assert response.content == bytes(export.xlsx)
    assert "attachment" in response["Content-Disposition"]
    response = client.get(reverse("collections_export_download", args=[export.pk, "csv"]))
    assert response.content == bytes(export.csv)
    rows = AuditLog.objects.filter(action="collections.export_download")
    assert rows.count() == 2 and all(r.new_values["phi_export"] for r in rows)


def test_removing_several_employer_encounters_warns_for_sent_ones_and_recalls_them(
    enabled, manager, login, acme
):
    sent = _in_collections(owed(enabled, employer=acme))
    client = login(manager)
    client.post(EXPORT)
    unsent = _in_collections(owed(enabled, employer=acme))
    response = client.post(REMOVE, {"entry": [sent.pk, unsent.pk]})
    assert "already been sent to the Collection Agency" in response.content.decode()
    assert not CollectionEntry.objects.filter(removed_at__isnull=False).exists()
    response = client.post(
        REMOVE, {"entry": [sent.pk, unsent.pk], "confirm": "remove"}, follow=True
    )
    body = response.content.decode()
    assert "2 encounters removed from In Collections. 1 of them the agency already has" in body
    assert CollectionEntry.objects.filter(removed_at__isnull=False).count() == 2
    assert AuditLog.objects.filter(action="collections.remove").count() == 1
    client.post(EXPORT)
    recall = CollectionExport.objects.order_by("-pk").first()
    assert recall.recall_encounter_ids == [sent.encounter_id] and recall.encounter_ids == []
    rows = _sheet(recall)
    assert [r[0] for r in rows[1:-1]] == ["Recall"]


def test_removing_patient_encounters_at_once_is_refused(enabled, manager, login):
    entry = _in_collections(owed(enabled))
    response = login(manager).post(REMOVE, {"entry": [entry.pk]}, follow=True)
    assert "for Employers only" in response.content.decode()
    assert CollectionEntry.objects.get().removed_at is None


def test_a_clerk_views_but_cannot_remove_or_export(enabled, clerk, login, acme):
    entry = _in_collections(owed(enabled, employer=acme))
    client = login(clerk)
    response = client.get(LIST)
    body = response.content.decode()
    assert "Acme Freight" in body and "Create spreadsheet" not in body
    assert client.post(REMOVE, {"entry": [entry.pk]}).status_code == 403
    assert client.post(EXPORT).status_code == 403
    assert (
        CollectionEntry.objects.get().removed_at is None and not CollectionExport.objects.exists()
    )


def test_another_organizations_ids_are_404(enabled, manager, login, other_org, other):
    theirs = _in_collections(
        owed(other_org, employer=factories.EmployerFactory(organization=other_org))
    )
    mine = _in_collections(owed(enabled, employer=factories.EmployerFactory(organization=enabled)))
    client = login(manager)
    client.post(EXPORT)
    export = CollectionExport.objects.get()
    assert client.post(REMOVE, {"entry": [theirs.pk]}).status_code == 404
    assert CollectionEntry.objects.get(pk=theirs.pk).removed_at is None
    other_client = login(other)
    assert (
        other_client.get(
            reverse("collections_export_download", args=[export.pk, "xlsx"])
        ).status_code
        == 404
    )
    assert other_client.post(REMOVE, {"entry": [mine.pk]}).status_code == 404


def test_to_collections_on_the_encounter_page(enabled, manager, clerk, login, acme):
    encounter = owed(enabled, employer=acme)
    url = reverse("collections_encounter_send", args=[encounter.pk])
    page = login(manager).get(reverse("encounter_detail", args=[encounter.pk]))
    assert "To Collections" in page.content.decode()
    response = login(manager).post(url, follow=True)
    assert "was added to the Employer Pre-Collections list" in response.content.decode()
    assert PreCollectionEntry.objects.get().encounter == encounter
    response = login(manager).post(url, follow=True)
    assert "already on the Employer Pre-Collections list" in response.content.decode()
    assert PreCollectionEntry.objects.count() == 1
    assert login(clerk).post(url).status_code == 403
    assert (
        "To Collections"
        not in login(clerk).get(reverse("encounter_detail", args=[encounter.pk])).content.decode()
    )


def test_to_collections_refuses_settled_and_employer_when_off(org, manager, login, acme):
    employer_enc = owed(org, employer=acme)
    response = login(manager).post(
        reverse("collections_encounter_send", args=[employer_enc.pk]), follow=True
    )
    assert "Employer Collections must be activated" in response.content.decode()
    settled = owed(org)
    pay(settled, "100.00")
    response = login(manager).post(
        reverse("collections_encounter_send", args=[settled.pk]), follow=True
    )
    assert "no balance due" in response.content.decode()
    assert not PreCollectionEntry.objects.exists()


def test_send_to_collections_from_the_patient_action_menu(enabled, manager, login, other_org):
    encounter = owed(enabled, "75.00")
    patient = encounter.patient
    client = login(manager)
    detail = client.get(reverse("patient_detail", args=[patient.pk])).content.decode()
    url = reverse("collections_patient_send", args=[patient.pk])
    assert "Send to Collections" in detail and url in detail
    response = client.post(url, {"encounter": encounter.pk}, follow=True)
    assert "was added to the Patient Pre-Collections list" in response.content.decode()
    assert PreCollectionEntry.objects.get(list__balance_for="patient").encounter == encounter
    stranger = owed(enabled)
    assert client.post(url, {"encounter": stranger.pk}).status_code == 404
    foreign = owed(other_org)
    assert (
        client.get(reverse("collections_patient_send", args=[foreign.patient.pk])).status_code
        == 404
    )


def test_statements_show_balances_by_guarantor_with_aging(enabled, clerk, login, acme):
    a = owed(enabled, "100.00", employer=acme, days=10)
    owed(enabled, "200.00", employer=acme, days=45)
    pay(a, "25.00", days_ago=2)
    owed(enabled, "60.00", days=120)
    response = login(clerk).get(reverse("statements"))
    rows = {r.name: r for r in response.context["rows"]}
    acme_row = rows["Acme Freight"]
    assert acme_row.total == Decimal("275.00") and acme_row.encounters == 2
    assert acme_row.bucket_list == [Decimal("75.00"), Decimal("200.00"), 0, 0]
    assert acme_row.last_payment_at is not None
    assert response.context["total"] == Decimal("335.00")
    body = response.content.decode()
    assert "Pre-Collections" in body and "$335.00" in body
