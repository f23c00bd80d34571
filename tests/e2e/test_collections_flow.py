"""A billing manager goes from Statements to Pre-Collections, makes a list, sets and
applies actions, moves encounters into collections, exports and downloads the agency
spreadsheet, and removes two encounters (which become recalls)."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from billing.models import AuditLog
from employer_collections.models import CollectionEntry, CollectionExport, PreCollectionEntry
from tests import factories
from tests.browser import screenshot
from tests.employer_collections.helpers import owed

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_statements_to_precollections_to_the_agency_spreadsheet(page, admin_user, org):
    org.employer_collections_enabled = True
    org.save()
    acme = factories.EmployerFactory(organization=org, guarantor_id="ACME01", name="Acme Freight")
    encounters = [owed(org, f"{100 + i}.00", employer=acme, days=40 + i * 20) for i in range(4)]
    owed(org, "55.00", days=70)  # a patient balance stays off the employer list

    page.goto("/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "demo")
    page.click("button[type=submit]")
    page.wait_for_selector("h1:has-text('Dashboard')")

    page.click("nav >> text=Statements")
    page.wait_for_selector("h1:has-text('Statements / Invoices Management')")
    assert "Acme Freight" in page.inner_text("[data-testid=statements]")
    screenshot(page, "collections-statements")
    page.click(".co-footer >> text=Pre-Collections")
    page.wait_for_selector("h1:has-text('Employer Pre-Collections')")

    page.click("button:has-text('Make List')")
    page.wait_for_selector("text=4 encounters added to the list.")
    page.click("button:has-text('Select All')")
    page.wait_for_selector("text=4 selected")
    boxes = page.locator("[data-testid=precollections] input[type=checkbox]")
    boxes.nth(3).uncheck()
    page.select_option("#id_action", "move")
    page.click("button:has-text('Set Action') >> nth=-1")
    page.wait_for_selector("text=on 3 rows")
    page.locator("[data-testid=precollections] input[type=checkbox]").nth(3).check()
    page.select_option("#id_action", "hold")
    page.locator("[data-testid=precollections] input[type=checkbox]").nth(0).uncheck()
    page.locator("[data-testid=precollections] input[type=checkbox]").nth(1).uncheck()
    page.locator("[data-testid=precollections] input[type=checkbox]").nth(2).uncheck()
    page.click("button:has-text('Set Action') >> nth=-1")
    page.wait_for_selector("text=on 1 row.")
    screenshot(page, "collections-precollections")

    page.click("button:has-text('Apply Action')")
    page.wait_for_selector("[data-testid=apply-warning]")
    assert "The checkboxes on the Set Action line items do not work" in page.inner_text(
        "[data-testid=apply-warning]"
    )
    page.click("button:has-text('Run')")
    page.wait_for_selector("text=3 moved to In Collections, 0 removed, 1 held, 0 skipped.")
    assert CollectionEntry.objects.count() == 3
    held = PreCollectionEntry.objects.get()
    assert held.held_at is not None

    page.click("a:has-text('In Collections →')")
    page.wait_for_selector("h1:has-text('In Collections')")
    page.click("[data-testid=create-spreadsheet]")
    page.wait_for_selector("text=Spreadsheet created: 3 encounters sent to the agency.")
    with page.expect_download() as info:
        page.click("[data-testid=exports] >> text=XLSX")
    book = load_workbook(io.BytesIO(info.value.path().read_bytes()))
    sheet_ids = {r[7] for r in list(book.active.iter_rows(values_only=True))[1:-1]}
    assert sheet_ids == {e.pk for e in encounters} - {held.encounter_id}
    screenshot(page, "collections-in-collections")

    rows = page.locator("[data-testid=in-collections] input[type=checkbox]")
    rows.nth(0).check()
    rows.nth(1).check()
    page.click("button:has-text('Remove from Collections')")
    page.wait_for_selector("[data-testid=remove-warning]")
    screenshot(page, "collections-remove-warning")
    page.click("button:has-text('Remove anyway')")
    page.wait_for_selector("text=2 encounters removed from In Collections.")
    assert CollectionEntry.objects.filter(removed_at__isnull=True).count() == 1
    assert len(page.locator("[data-testid=recalls] tbody tr").all()) == 2
    assert CollectionExport.objects.count() == 1
    actions = set(AuditLog.objects.values_list("action", flat=True))
    assert {
        "collections.precollections_add",
        "collections.apply_actions",
        "collections.export_create",
        "collections.export_download",
        "collections.remove",
    } <= actions
