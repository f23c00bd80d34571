"""The collection agency's file: one row per encounter (new ones, then recalls), a total
row, as XLSX (openpyxl) and CSV with the same columns."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font

from billing.models import ZERO, Organization

COLUMNS = [
    "Status",
    "Guarantor Type",
    "Guarantor ID",
    "Guarantor Name",
    "Address",
    "Phone",
    "Patient",
    "Encounter ID",
    "Date of Service",
    "Original Balance",
    "Current Balance",
    "Last Payment Date",
    "Days Outstanding",
]
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "mm/dd/yyyy"


def row_for(entry, status: str, today: datetime.date, time_zone) -> list:
    """The columns of one collections entry (with `current_balance`, `last_payment_at`)."""
    encounter = entry.encounter
    if entry.guarantor_employer_id:
        g = entry.guarantor_employer
        kind, gid, name, address, phone = "Employer", g.guarantor_id, g.name, g, g.phone
        if g.is_tpa:
            kind = "TPA"
    else:
        g = encounter.patient
        kind, gid, name, address, phone = "Patient", g.account_number, str(g), g, g.phone
    last = entry.last_payment_at.astimezone(time_zone).date() if entry.last_payment_at else None
    return [
        status,
        kind,
        _text(gid),
        _text(name),
        _text(address.address_oneline),
        _text(phone),
        _text(str(encounter.patient)),
        encounter.pk,
        encounter.date_of_service,
        entry.original_balance,
        entry.current_balance,
        last,
        (today - encounter.date_of_service).days,
    ]


def _text(value: str) -> str:
    """Text never starts a formula in the agency's spreadsheet program."""
    if value[:1] in ("=", "@") or (value[:1] in ("+", "-") and not value[1:2].isdigit()):
        return "'" + value
    return value


def build(
    organization: Organization, rows: list[list], created_at: datetime.datetime
) -> tuple[bytes, bytes, Decimal]:
    """XLSX bytes, CSV bytes and the total current balance of the new (not recalled) rows."""
    total = sum((r[10] for r in rows if r[0] == "New"), ZERO)
    original = sum((r[9] for r in rows if r[0] == "New"), ZERO)
    total_row = ["Total", "", "", "", "", "", "", "", None, original, total, None, None]

    book = Workbook()
    sheet = book.active
    sheet.title = "Collections"
    sheet.append(COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    sheet.append(total_row)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for line in sheet.iter_rows(min_row=2):
        line[8].number_format = DATE_FORMAT
        line[9].number_format = MONEY_FORMAT
        line[10].number_format = MONEY_FORMAT
        line[11].number_format = DATE_FORMAT
    for column, width in zip(
        "ABCDEFGHIJKLM", (8, 9, 12, 30, 40, 14, 24, 11, 12, 12, 12, 12, 10), strict=True
    ):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"
    book.properties.creator = organization.name
    book.properties.created = created_at.replace(tzinfo=None)
    xlsx = io.BytesIO()
    book.save(xlsx)

    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(COLUMNS)
    for row in [*rows, total_row]:
        writer.writerow([_csv_cell(v) for v in row])
    return xlsx.getvalue(), text.getvalue().encode("utf-8"), total


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.strftime("%m/%d/%Y")
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)
