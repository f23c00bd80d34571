"""The ERA list, the ERA page and the raw file download."""

from __future__ import annotations

import pytest
from django.urls import reverse

from billing.models import AuditLog, Membership, Role
from payments import ingestion
from payments.models import Era, EraFile
from tests import factories
from tests.payments import eras

pytestmark = pytest.mark.django_db


def ingest(org, text, name="acme.835"):
    return ingestion.era_file_ingest(
        organization=org, actor=None, content=text, source="command", file_name=name
    )


def member_with(org, username, codes):
    role = Role.objects.create(organization=org, name=f"Only {username}", codes=codes)
    user = factories.UserFactory(username=username)
    Membership.objects.create(user=user, organization=org, role=role)
    return user


@pytest.fixture
def era(org):
    payer = factories.PayerFactory(organization=org, name="Acme Health Plan")
    paid = eras.claim(org, payer, number="DFP-C000401")
    partly = eras.claim(org, payer, number="DFP-C000402")
    lines = [
        eras.line("99213", "150.00", "96.00", ("CO", "45", "30.00"), ("PR", "2", "24.00")),
        eras.line("87880", "35.00", "0.00", ("CO", "50", "35.00"), remarks=("N130",)),
    ]
    stranger = eras.paid_claim(paid)
    stranger.patient_control_number = "XYZ-999"
    text = eras.file_835(
        eras.remittance(
            org,
            [eras.paid_claim(paid), eras.paid_claim(partly, services=lines), stranger],
            trace="EFT4242",
        )
    )
    ingest(org, text)
    return Era.objects.get()


# --- list --------------------------------------------------------------------------------


def test_the_list_shows_eras_and_recent_files(admin_user, login, org, era):
    ingest(org, eras.fixture("e835p-blue_cross_nc_sample.835"), name="bcnc.835")
    ingest(org, eras.fixture("pyx12-mult-loops.835"), name="notice.835")

    response = login(admin_user).get(reverse("era_list"))

    assert response.status_code == 200
    body = response.content.decode()
    rows = list(response.context["page"])
    assert [r.trace_number for r in rows] == ["EFT4242", "000000000"]
    assert "EFT4242" in body and "$344.00" in body
    assert rows[0].claim_count == 3 and rows[0].unmatched_count == 1
    assert 'title="1 claim not found in this organization (XYZ-999): kept for follow-up."' in body
    notice = rows[1]
    assert notice.needs_review and notice.payment_amount == 0
    assert "Needs review" in body and "notice" in body
    files = {f.file_name: f for f in response.context["files"]}
    assert files["bcnc.835"].status == "refused"
    assert "Refused: No ISA interchange header" in body
    assert response.context["counts"] == {"review": 1, "pending": 0, "refused": 1}


def test_the_list_filters_to_eras_that_need_review_and_searches(admin_user, login, org, era):
    ingest(org, eras.fixture("pyx12-mult-loops.835"), name="notice.835")
    client = login(admin_user)

    review = client.get(reverse("era_list"), {"review": "1"})
    assert [e.trace_number for e in review.context["page"]] == ["000000000"]

    by_claim = client.get(
        reverse("era_list"),
        {"q": "DFP-C000402"},
        headers={"HX-Request": "true", "HX-Target": "era-rows"},
    )
    assert [(e.trace_number, e.claim_count) for e in by_claim.context["page"]] == [("EFT4242", 3)]
    assert not by_claim.content.decode().lstrip().startswith("<!doctype")  # the rows only

    nothing = client.get(reverse("era_list"), {"q": "no such trace"})
    assert "No ERAs match." in nothing.content.decode()


def test_another_organizations_member_sees_none_of_these(other, login, era):
    response = login(other).get(reverse("era_list"))
    assert response.status_code == 200
    assert list(response.context["page"]) == [] and response.context["files"] == []
    assert "EFT4242" not in response.content.decode()


@pytest.mark.parametrize("codes", [["can_see_billing"], ["sees_all_billing"], []])
def test_the_pages_need_both_billing_codes(org, login, era, codes):
    client = login(member_with(org, "partial", codes))
    for url in (
        reverse("era_list"),
        reverse("era_detail", args=[era.pk]),
        reverse("era_file_download", args=[era.era_file_id]),
        reverse("era_upload"),
    ):
        assert client.get(url).status_code == 403, url
    assert not AuditLog.objects.filter(action="era.download").exists()


def test_the_clerk_gets_403_and_anonymous_users_log_in(clerk, login, client, era):
    assert login(clerk).get(reverse("era_list")).status_code == 403
    client.logout()
    response = client.get(reverse("era_detail", args=[era.pk]))
    assert response.status_code == 302 and "login" in response["Location"]


# --- one ERA -------------------------------------------------------------------------------


def test_the_era_page_shows_claims_lines_adjustments_and_codes(admin_user, login, org, era):
    response = login(admin_user).get(reverse("era_detail", args=[era.pk]))

    assert response.status_code == 200
    body = response.content.decode()
    claims = response.context["claims"]
    assert [c.patient_control_number for c in claims] == ["DFP-C000401", "DFP-C000402", "XYZ-999"]
    for matched in claims[:2]:
        assert f'href="{reverse("claim_detail", args=[matched.claim_id])}"' in body
    assert body.count('data-testid="unmatched"') == 1
    assert "No claim with this number here: kept for follow-up." in body
    assert (
        "Charge exceeds fee schedule/maximum allowable or contracted/legislated fee arrangement."
        in body
    )
    assert "Non-covered: not deemed a &#x27;medical necessity&#x27; by the payer." in body
    assert "Coinsurance amount." in body
    assert (
        "N130" in body
        and (
            "Consult plan benefit documents/guidelines for information about restrictions for this "
            "service."
        )
        in body
    )
    assert "Processed as primary" in body
    assert (
        "Partially paid: paid 96.00, adjusted 30.00, patient owes 24.00, 35.00 still open with "
        "the payer." in body
    )
    assert "1 claim not found in this organization (XYZ-999): kept for follow-up." in body
    assert response.context["payment"].paid_amount == era.payment_amount
    assert f'href="{reverse("era_file_download", args=[era.era_file_id])}"' in body


def test_the_era_page_shows_provider_adjustments_and_a_notification(admin_user, login, org):
    ingest(org, eras.fixture("lfh-medicare-part-a.835"))
    ingest(org, eras.fixture("pyx12-mult-loops.835"), name="notice.835")
    client = login(admin_user)

    medicare = client.get(reverse("era_detail", args=[Era.objects.get(trace_number="12345").pk]))
    body = medicare.content.decode()
    assert (
        "Provider adjustments (PLB)" in body
        and "Capital passthru" in body
        and "\u2212$1.27" in body
    )

    notice = client.get(reverse("era_detail", args=[Era.objects.get(trace_number="000000000").pk]))
    body = notice.content.decode()
    assert "Zero-pay notification" in body and "none (no money moved)" in body
    assert "Needs review" in body
    assert "The payee UNKNOWN (tax id 444313000) matches neither" in body


def test_another_organizations_era_and_file_are_404(other, login, era):
    client = login(other)
    assert client.get(reverse("era_detail", args=[era.pk])).status_code == 404
    assert client.get(reverse("era_file_download", args=[era.era_file_id])).status_code == 404
    assert not AuditLog.objects.filter(action="era.download").exists()


# --- the raw file ----------------------------------------------------------------------------


def test_the_raw_file_downloads_as_received_and_is_audited(admin_user, login, org, era):
    era_file = EraFile.objects.get()

    response = login(admin_user).get(reverse("era_file_download", args=[era_file.pk]))

    assert response.status_code == 200
    assert response.content.decode() == era_file.content
    assert response["Content-Disposition"] == 'attachment; filename="acme.835"'
    assert response["Cache-Control"] == "no-store"
    (row,) = AuditLog.objects.filter(action="era.download")
    assert (row.actor, row.organization, row.table_name, row.record_id) == (
        admin_user,
        org,
        "payments_erafile",
        str(era_file.pk),
    )
    assert row.new_values == {"file_name": "acme.835", "sha256": era_file.sha256, "eras": [era.pk]}


def test_a_refused_file_can_be_downloaded_too(admin_user, login, org):
    ingest(org, eras.fixture("e835p-blue_cross_nc_sample.835"), name="BC NC/sample.835")
    era_file = EraFile.objects.get()

    response = login(admin_user).get(reverse("era_file_download", args=[era_file.pk]))

    assert response["Content-Disposition"] == 'attachment; filename="BC_NC_sample.835"'
    assert AuditLog.objects.get(action="era.download").new_values["eras"] == []
