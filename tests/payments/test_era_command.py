"""`manage.py ingest_era FILE... --org SLUG`."""

from __future__ import annotations

import shutil

import pytest
from django.core.management import CommandError, call_command

from payments.models import EraFile, InsurancePayment
from tests import factories
from tests.payments import eras

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = _Buffer(), _Buffer()
    try:
        call_command("ingest_era", *args, stdout=out, stderr=err)
    except CommandError as error:
        return out.text, err.text, str(error)
    return out.text, err.text, None


class _Buffer:
    def __init__(self):
        self.text = ""

    def write(self, text):
        self.text += text

    def flush(self):
        pass


@pytest.fixture
def paying_file(org, tmp_path):
    payer = factories.PayerFactory(organization=org, name="Acme Health Plan")
    made = eras.claim(org, payer, number="DFP-C000200")
    path = tmp_path / "acme.835"
    path.write_text(eras.file_835(eras.remittance(org, [eras.paid_claim(made)])))
    return path


def test_it_ingests_files_and_says_what_each_gave(org, paying_file, tmp_path):
    sample = tmp_path / "lfh-managed-care.835"
    shutil.copy(f"{eras.FIXTURES}/lfh-managed-care.835", sample)

    out, err, error = run(str(paying_file), str(sample), "--org", org.slug)

    assert error is None and err == ""
    assert (
        f"{paying_file}: ingested: 1 ERA, 1 payment ($124.00), 1 claim (1 matched, 0 unmatched), "
        "2 ledger postings.\n"
    ) in out
    assert (
        f"{sample}: ingested: 1 ERA, 1 payment ($945.00), 2 claims (0 matched, 2 unmatched)" in out
    )
    assert "  5 warnings:\n" in out
    assert "  - line 4, segment 4 (BPR): BPR16 (payment date) '20002316' is not a date" in out
    assert InsurancePayment.objects.count() == 2
    assert set(EraFile.objects.values_list("source", "file_name")) == {
        ("command", "acme.835"),
        ("command", "lfh-managed-care.835"),
    }


def test_a_file_ingested_before_is_reported_and_exits_zero(org, paying_file):
    run(str(paying_file), "--org", org.slug)

    out, err, error = run(str(paying_file), "--org", org.slug)

    assert error is None and err == ""
    stored = EraFile.objects.get()
    assert out.startswith(f"{paying_file}: already ingested (ERA file #{stored.pk}, ")
    assert out.endswith("nothing was posted again.\n")
    assert InsurancePayment.objects.count() == 1


def test_a_refused_file_is_reported_and_exits_non_zero(org, paying_file, tmp_path):
    stripped = tmp_path / "no-envelope.835"
    shutil.copy(f"{eras.FIXTURES}/e835p-blue_cross_nc_sample.835", stripped)

    out, err, error = run(str(stripped), str(paying_file), "--org", org.slug)

    assert error == "1 of 2 files not ingested."
    assert err.startswith(f"{stripped}: Refused: No ISA interchange header")
    assert f"{paying_file}: ingested" in out  # the good file still went in
    assert InsurancePayment.objects.count() == 1


def test_a_missing_file_or_organization_is_an_error(org, tmp_path):
    _, err, error = run(str(tmp_path / "nope.835"), "--org", org.slug)
    assert error == "1 of 1 file not ingested."
    assert "nope.835: not read (No such file or directory)." in err

    _, _, error = run(str(tmp_path / "nope.835"), "--org", "no-such-practice")
    assert error == "No organization with the slug 'no-such-practice'."
    assert not EraFile.objects.exists()
