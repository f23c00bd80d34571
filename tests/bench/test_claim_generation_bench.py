"""The Claim Generation benchmark at a tiny size, so its code never rots: both paths (the
batch job and the one-statement floor) make the same claims. Timings are not asserted."""

from __future__ import annotations

import json

import pytest

from bench import claim_generation as bench
from billing.models import Charge, Claim


def on_postgres(test):
    """The bench's own functions on the test database (COPY and VACUUM need autocommit)."""
    return pytest.mark.postgres(pytest.mark.django_db(transaction=True)(test))


@on_postgres
def test_it_makes_the_same_claims_on_both_paths_and_resets_between_runs():
    data = bench.load_data(200, log=lambda _: None)
    assert (data.charges, data.encounters, data.history_claims) == (200, 100, 50)
    period = {"organization": data.organization, "encounter__date_of_service__gte": bench.FIRST_DOS}

    job, floor = bench.measure(data, repeat=1, log=lambda _: None)

    assert (job.claims, job.links) == (floor.claims, floor.links) == (100, 200)
    assert job.queries > 0 and job.seconds > 0 and floor.seconds > 0
    # measure() leaves the data as it found it: the period unbilled, the history billed
    assert not Claim.objects.filter(**period).exists()
    assert set(Charge.objects.filter(**period).values_list("status", flat=True)) == {"approved"}
    assert Claim.objects.filter(organization=data.organization).count() == 50
    again = bench.load_data(200, log=lambda _: None)
    assert again == data


@on_postgres
def test_it_picks_the_payer_in_force_on_the_date_of_service():
    data = bench.load_data(400, log=lambda _: None)
    bench.run_floor(data)
    changed = Claim.objects.filter(
        organization=data.organization,
        encounter__date_of_service__gte=bench.FIRST_DOS,
        coverage__patient__coverages__effective_to__isnull=False,
    ).distinct()
    # every tenth patient changed payer at COVERAGE_CHANGE: their claims go to both payers
    assert {c.coverage.effective_to is None for c in changed} == {True, False}
    for claim in changed:
        day = claim.encounter.date_of_service
        assert claim.coverage.is_active_on(day) and claim.coverage.order == 1
        assert claim.payer_id == claim.coverage.payer_id


@on_postgres
def test_it_stops_when_the_job_breaks_rather_than_time_the_recovery(monkeypatch):
    data = bench.load_data(20, log=lambda _: None)

    def broken(**kwargs):
        raise RuntimeError("a column the database does not have")

    monkeypatch.setattr("batches.runners.claims_generate", broken)
    with pytest.raises(bench.JobBroke, match="a chunk failed"):
        bench.run_job(data)


def test_results_keep_the_other_benches_entries(tmp_path):
    path = tmp_path / "results.json"
    other = {"name": "edi_reader.read", "value": 1e-6, "unit": "s/segment", "floor": 1, "ratio": 1}
    old = {"name": "claim_generation.job_per_charge", "value": 9, "unit": "s/charge", "floor": 1}
    path.write_text(json.dumps([other, old]))
    data = bench.Dataset(None, None, charges=100, encounters=50, history_claims=0)
    job = bench.Run(seconds=2.0, claims=50, links=100)
    floor = bench.Run(seconds=0.1, claims=50, links=100)

    bench.save_results(bench.entries(data, job, floor), path)

    saved = json.loads(path.read_text())
    assert [e["name"] for e in saved] == [
        "edi_reader.read",
        "claim_generation.job_per_charge",
        "claim_generation.job_per_claim",
    ]
    assert saved[1] == {
        "name": "claim_generation.job_per_charge",
        "value": 0.02,
        "unit": "s/charge",
        "floor": 0.001,
        "ratio": 20.0,
    }
    assert saved[2]["unit"] == "s/claim" and saved[2]["ratio"] == 20.0
