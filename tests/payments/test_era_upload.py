"""The upload page: several 835 files stored at once, ingested by a worker task each,
progress polled with htmx."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from payments import tasks
from payments.models import Era, EraFile, InsurancePayment
from tests import factories
from tests.payments import eras

pytestmark = pytest.mark.django_db

URL = reverse("era_upload")
HTMX = {"HX-Request": "true", "HX-Target": "era-progress"}


@pytest.fixture
def enqueued(monkeypatch):
    """The tasks the page enqueued (after commit), for the test to run as the worker."""
    sent: list[dict] = []
    monkeypatch.setattr(tasks.ingest_era_file, "delay_on_commit", lambda **kw: sent.append(kw))
    return sent


def work(sent):
    """What a worker does with each enqueued message."""
    for kwargs in sent:
        tasks.ingest_era_file(**kwargs)
    sent.clear()


def upload(name: str, text: str | bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode() if isinstance(text, str) else text, "text/plain")


@pytest.fixture
def paying(org):
    payer = factories.PayerFactory(organization=org, name="Acme Health Plan")
    made = eras.claim(org, payer, number="DFP-C000501")
    return eras.file_835(eras.remittance(org, [eras.paid_claim(made)], trace="EFT5001"))


def test_the_page_offers_a_multiple_file_upload(admin_user, login):
    response = login(admin_user).get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'type="file"' in body and "multiple" in body and 'enctype="multipart/form-data"' in body


def test_several_files_are_stored_then_posted_by_workers_with_progress(
    admin_user, login, org, paying, enqueued
):
    client = login(admin_user)

    response = client.post(
        URL,
        {
            "files": [
                upload("acme.835", paying),
                upload("notice.835", eras.fixture("pyx12-mult-loops.835")),
                upload("stripped.835", eras.fixture("e835p-blue_cross_nc_sample.835")),
            ]
        },
    )

    stored = list(EraFile.objects.order_by("pk"))
    assert [(f.file_name, f.source, f.status, f.uploaded_by) for f in stored] == [
        ("acme.835", "upload", "pending", admin_user),
        ("notice.835", "upload", "pending", admin_user),
        ("stripped.835", "upload", "pending", admin_user),
    ]
    ids = ",".join(str(f.pk) for f in stored)
    assert response.status_code == 302 and response["Location"] == f"{URL}?files={ids}"
    assert enqueued == [{"organization_id": org.pk, "era_file_id": f.pk} for f in stored]
    assert not Era.objects.exists()  # nothing posted in the request

    waiting = client.get(response["Location"], headers=HTMX)
    body = waiting.content.decode()
    assert not body.lstrip().startswith("<!doctype")
    assert 'hx-trigger="every 1s"' in body and body.count("Posting…") == 3

    work(enqueued)

    done = client.get(response["Location"], headers=HTMX)
    body = done.content.decode()
    assert "hx-trigger" not in body  # polling stops
    assert (
        "1 ERA, 1 payment ($124.00), 1 claim (1 matched, 0 unmatched), 2 ledger postings." in body
    )
    assert "Refused: No ISA interchange header" in body
    assert [f.status for f in EraFile.objects.order_by("pk")] == ["ingested", "ingested", "refused"]
    era = Era.objects.get(trace_number="EFT5001")
    assert f'href="{reverse("era_detail", args=[era.pk])}"' in body
    assert InsurancePayment.objects.get().era == era


def test_the_worker_acts_as_the_uploader(admin_user, login, org, paying, enqueued):
    from billing.models import AuditLog

    login(admin_user).post(URL, {"files": [upload("acme.835", paying)]})
    work(enqueued)
    assert AuditLog.objects.get(action="era.ingest").actor == admin_user


def test_a_file_uploaded_again_is_not_stored_or_posted_twice(
    admin_user, login, org, paying, enqueued
):
    client = login(admin_user)
    client.post(URL, {"files": [upload("acme.835", paying)]})
    work(enqueued)

    again = client.post(URL, {"files": [upload("acme-copy.835", paying)]}, follow=True)

    assert EraFile.objects.count() == 1 and enqueued == []
    assert InsurancePayment.objects.count() == 1
    body = again.content.decode()
    assert "Ingested" in body and "acme.835" in body


def test_no_file_is_a_clear_message(admin_user, login):
    response = login(admin_user).post(URL, {})
    assert response.status_code == 200
    assert "Choose one or more 835 files to upload." in response.content.decode()
    assert not EraFile.objects.exists()


def test_a_bad_file_among_good_ones_stores_none_of_them(admin_user, login, paying, enqueued):
    response = login(admin_user).post(
        URL,
        {
            "files": [
                upload("acme.835", paying),
                upload("empty.835", ""),
                upload("scan.pdf", b"%PDF-1.7\x00\x01\x02binary"),
            ]
        },
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert "empty.835 is empty." in body
    assert "scan.pdf is not a text file: an 835 is plain text." in body
    assert not EraFile.objects.exists() and enqueued == []


def test_too_large_a_file_is_refused_at_the_door(admin_user, login, enqueued, monkeypatch):
    from payments import era_forms

    monkeypatch.setattr(era_forms, "MAX_FILE_BYTES", 10)
    response = login(admin_user).post(URL, {"files": [upload("big.835", "ISA*" + "x" * 50)]})
    assert "big.835 is larger than 5 MB: is it an 835?" in response.content.decode()
    assert not EraFile.objects.exists()


def test_members_without_both_codes_cannot_upload(clerk, login, paying, enqueued):
    response = login(clerk).post(URL, {"files": [upload("acme.835", paying)]})
    assert response.status_code == 403
    assert not EraFile.objects.exists() and enqueued == []


def test_another_organizations_files_are_not_shown(admin_user, other, login, org, paying, enqueued):
    login(admin_user).post(URL, {"files": [upload("acme.835", paying)]})
    mine = EraFile.objects.get()

    response = login(other).get(URL, {"files": str(mine.pk)})

    assert response.status_code == 200
    assert response.context["files"] == []
    assert "acme.835" not in response.content.decode()
