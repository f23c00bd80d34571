"""Claim Generation benchmark: a batch job over 100,000 approved charges (`batch_start` +
`engine.job_run`, chunk per transaction, as a worker runs it) beside one `INSERT ... SELECT`
that makes the same claims in raw SQL (the floor), on the same data in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/billing_bench \\
    REDIS_URL=redis://127.0.0.1:6379/13 \\
        .venv/bin/python bench/claim_generation.py [--charges 100000] [--repeat 1] [--fresh]
        [--profile] [--chunk-groups N] [--no-save]

PostgreSQL only, in a database of its own: the name in DATABASE_URL must contain "bench";
it is created when missing and migrated. The scale data (one organization, with a billed
history half the size of the period to bill) is generated once with COPY and reused;
`--fresh` rebuilds it. Each measured run starts from the same state: the period's claims,
links, batch jobs and audit rows deleted, its charges back to approved, the claim number
sequence back to the history's last number, then VACUUM ANALYZE.

Results are costs (seconds per charge and per claim; ratio = value / floor, higher is
worse), printed as a table and written to bench/results.json (see bench/README.md).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime
import functools
import io
import json
import logging
import os
import pstats
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results.json"
NAME = "claim_generation"  # prefix of this bench's entries in results.json
ORG_SLUG = "bench-claim-generation"
CHARGES_PER_PATIENT = 5  # 100,000 charges -> 20,000 patients
PAYERS = 12
PROVIDERS = 40
# Charges per encounter, in turn: 2, 3, 1 (two on average: 100,000 charges, 50,000 claims).
CHARGES_PER_ENCOUNTER = (2, 3, 1)
FIRST_DOS = datetime.date(2025, 7, 1)  # a year of encounters ...
COVERAGE_CHANGE = datetime.date(2026, 1, 1)  # ... across a change of payer for some patients
PROCEDURES = (
    ("99213", Decimal("145.00")),
    ("87880", Decimal("35.00")),
    ("99214", Decimal("210.00")),
    ("90471", Decimal("28.50")),
    ("J1100", Decimal("12.75")),
)


# --- the data --------------------------------------------------------------------------------
#
# One organization: patients with a primary coverage (some changed payer on COVERAGE_CHANGE,
# some have a secondary too), providers with valid NPIs, and two periods of encounters:
# - the history (before FIRST_DOS): half as many charges, already billed by an earlier
#   Claim Generation job whose claims, links and items are there, as in a practice that
#   has been billing for a while (the tables the job writes are not empty, and their
#   statistics say so);
# - the period to bill (FIRST_DOS and after): `charges` approved charges, 1 to 3 per
#   encounter, which both paths turn into one claim per encounter.


@dataclass(frozen=True)
class Dataset:
    organization: Any  # billing.models.Organization
    actor: Any  # billing.models.User
    charges: int  # approved charges to bill
    encounters: int  # their encounters = the claims both paths must make
    history_claims: int  # claims there before (numbers 1..history_claims)


def valid_npi(seed: int) -> str:
    """A 10-digit NPI with a right check digit, distinct per seed (as tests/factories.py)."""
    from billing.validators import npi_check_digit_ok

    base = f"1{seed % 10**8:08d}"
    return next(base + str(d) for d in range(10) if npi_check_digit_ok(base + str(d)))


def charges_per_encounter(charges: int) -> list[int]:
    """How many charges each encounter has (1 to 3), adding up to `charges`."""
    counts: list[int] = []
    total = 0
    while total < charges:
        n = min(CHARGES_PER_ENCOUNTER[len(counts) % 3], charges - total)
        counts.append(n)
        total += n
    return counts


def _reserve_ids(model, count: int) -> list[int]:
    with _cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [model._meta.db_table, count],
        )
        return [row[0] for row in cursor.fetchall()]


def copy_rows(model, rows: Iterable[dict[str, Any]]) -> int:
    """COPY rows into the model's table, with ids reserved from its sequence. A field a row
    leaves out gets the model's default (Django's defaults live in Python, not in the
    table); JSON values are dumped here."""
    from django.db import connection

    rows = list(rows)
    fields = list(model._meta.concrete_fields)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
    for row, pk in zip(rows, _reserve_ids(model, len(rows)), strict=True):
        row["id"] = pk
    with _cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            values = []
            for f in fields:
                value = row[f.attname] if f.attname in row else f.get_default()
                values.append(json.dumps(value) if f.get_internal_type() == "JSONField" else value)
            copy.write_row(values)
    return len(rows)


def _encounters_with_charges(
    organization, patient_ids, provider_ids, charges: int, first_day, days: int, status: str
) -> int:
    """`charges` charges in encounters of 1 to 3, dated over `days` days from `first_day`.
    Returns the number of encounters."""
    from django.utils import timezone

    from billing.models import Charge, Encounter

    now = timezone.now()
    counts = charges_per_encounter(charges)
    encounters = [
        {
            "organization_id": organization.pk,
            "patient_id": patient_ids[n % len(patient_ids)],
            "provider_id": provider_ids[n % len(provider_ids)],
            "date_of_service": first_day + datetime.timedelta(days=n % days),
            "diagnosis_codes": ["J06.9", "I10"],
            "created_at": now,
        }
        for n in range(len(counts))
    ]
    copy_rows(Encounter, encounters)
    rows = []
    for encounter, count in zip(encounters, counts, strict=True):
        for _ in range(count):
            code, amount = PROCEDURES[len(rows) % len(PROCEDURES)]
            rows.append(
                {
                    "organization_id": organization.pk,
                    "encounter_id": encounter["id"],
                    "procedure_code": code,
                    "diagnosis_pointers": [1 + len(rows) % 2],
                    "units": Decimal(1),
                    "amount": amount,
                    "status": status,
                    "created_at": now,
                }
            )
    copy_rows(Charge, rows)
    return len(counts)


def _generate(organization, actor, charges: int, log: Callable[[str], None]) -> None:
    from django.utils import timezone

    from batches.models import BatchItem, BatchJob, JobType
    from billing.models import Charge, Claim, Coverage, NumberSequence, Patient, Payer, Provider
    from billing.services.billing_run import CLAIM_NUMBER_SEQUENCE

    now = timezone.now()
    org = organization.pk
    payers = Payer.objects.bulk_create(
        Payer(organization=organization, name=f"Bench Payer {n}", payer_id=f"{70000 + n}")
        for n in range(PAYERS)
    )
    providers = Provider.objects.bulk_create(
        Provider(
            organization=organization,
            first_name="Dana",
            last_name=f"Provider{n}",
            credential="MD",
            npi=valid_npi(500 + n),
            taxonomy_code="207Q00000X",
        )
        for n in range(PROVIDERS)
    )
    patients = [
        {
            "organization_id": org,
            "account_number": f"B{n:07d}",
            "first_name": "Jordan",
            "last_name": f"Patient{n}",
            "birth_date": datetime.date(1950 + n % 60, 1 + n % 12, 1 + n % 28),
            "sex": "FM"[n % 2],
            "created_at": now,
        }
        for n in range(max(1, charges // CHARGES_PER_PATIENT))
    ]
    copy_rows(Patient, patients)
    # Every patient has a primary coverage; every tenth changed payer on COVERAGE_CHANGE (a
    # closed primary before it), so the date of service picks the payer; every 25th also
    # has a secondary, which claim generation must ignore.
    since = datetime.date(2024, 1, 1)
    coverages = []
    for n, patient in enumerate(patients):
        base = {"organization_id": org, "patient_id": patient["id"], "member_id": f"M{n:08d}"}
        primary = base | {"payer_id": payers[n % PAYERS].pk, "order": Coverage.Order.PRIMARY}
        if n % 10 == 0:
            before = COVERAGE_CHANGE - datetime.timedelta(days=1)
            coverages.append(
                primary
                | {
                    "payer_id": payers[(n + 1) % PAYERS].pk,
                    "effective_from": since,
                    "effective_to": before,
                }
            )
            coverages.append(primary | {"effective_from": COVERAGE_CHANGE})
        else:
            coverages.append(primary | {"effective_from": since})
        if n % 25 == 0:
            secondary = {"payer_id": payers[(n + 2) % PAYERS].pk, "effective_from": since}
            coverages.append(base | secondary | {"order": Coverage.Order.SECONDARY})
    copy_rows(Coverage, coverages)
    patient_ids = [p["id"] for p in patients]
    provider_ids = [p.pk for p in providers]

    # The history: approved, then billed by the floor statement, with the job that did it.
    NumberSequence.objects.update_or_create(
        organization=organization, name=CLAIM_NUMBER_SEQUENCE, defaults={"last_value": 0}
    )
    history_charges = max(1, charges // 2)
    _encounters_with_charges(
        organization,
        patient_ids,
        provider_ids,
        history_charges,
        FIRST_DOS - datetime.timedelta(days=181),
        181,
        Charge.Status.APPROVED,
    )
    with _cursor() as cursor:
        cursor.execute(*floor_statement(organization))
    history = BatchJob.objects.create(
        organization=organization,
        job_type=JobType.CLAIM_GENERATION,
        status=BatchJob.Status.COMPLETED,
        total_count=history_charges,
        processed_count=history_charges,
        parameters=HISTORY_JOB,
        created_by=actor,
        created_at=now,
        started_at=now,
        finished_at=now,
        heartbeat_at=now,
    )
    with _cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {BatchItem._meta.db_table}
                   (organization_id, job_id, record_id, group_key, status, error_message,
                    result, attempts, claimed_at, finished_at)
            SELECT %s, %s, c.id, c.encounter_id, %s, '', jsonb_build_object('claim_id', l.claim_id),
                   1, %s, %s
              FROM {Charge._meta.db_table} c
              JOIN {Claim.charges.through._meta.db_table} l ON l.charge_id = c.id
             WHERE c.organization_id = %s
            """,
            [org, history.pk, BatchItem.Status.SUCCEEDED, now, now, org],
        )
    encounters = _encounters_with_charges(
        organization,
        patient_ids,
        provider_ids,
        charges,
        FIRST_DOS,
        365,
        Charge.Status.APPROVED,
    )
    log(
        f"  generated {len(patients):,} patients, {len(coverages):,} coverages; history: "
        f"{history_charges:,} billed charges; to bill: {encounters:,} encounters, "
        f"{charges:,} approved charges"
    )


HISTORY_JOB = {"bench": "history"}


def _delete_generated(organization) -> None:
    """Everything the bench made in its organization (the organization stays)."""
    from batches.models import BatchItem, BatchJob
    from billing.models import Charge, Claim, Coverage, Encounter, Patient, Payer, Provider

    reset(organization, vacuum=False)
    with _cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {Claim.charges.through._meta.db_table} WHERE claim_id IN "
            f"(SELECT id FROM {Claim._meta.db_table} WHERE organization_id = %s)",
            [organization.pk],
        )
        for model in (BatchItem, BatchJob, Claim, Charge, Encounter, Coverage, Patient, Provider):
            cursor.execute(
                f"DELETE FROM {model._meta.db_table} WHERE organization_id = %s",
                [organization.pk],
            )
        cursor.execute(
            f"DELETE FROM {Payer._meta.db_table} WHERE organization_id = %s", [organization.pk]
        )


def load_data(charges: int, *, fresh: bool = False, log: Callable[[str], None] = print) -> Dataset:
    """The bench organization with `charges` approved charges to bill (and a history half
    that size), reused when it is already there at that size (and reset), else generated."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from billing.models import Charge, Claim, Encounter, Organization

    organization, _ = Organization.objects.get_or_create(
        slug=ORG_SLUG, defaults={"name": "Bench Claim Generation"}
    )
    actor, _ = get_user_model().objects.get_or_create(username=ORG_SLUG)
    to_bill = Charge.objects.filter(
        organization=organization, encounter__date_of_service__gte=FIRST_DOS
    )
    history = Claim.objects.filter(
        organization=organization, encounter__date_of_service__lt=FIRST_DOS
    )
    have = to_bill.count()
    if fresh or have != charges or not history.exists():
        if have:
            log(f"  deleting the data there ({have:,} charges to bill; {charges:,} wanted)")
            _delete_generated(organization)
        start = time.perf_counter()
        with transaction.atomic():
            _generate(organization, actor, charges, log)
        log(f"  in {time.perf_counter() - start:.1f} s")
    else:
        log(f"  reusing {have:,} charges of organization {ORG_SLUG!r}")
    reset(organization)
    return Dataset(
        organization,
        actor,
        charges,
        Encounter.objects.filter(organization=organization, date_of_service__gte=FIRST_DOS).count(),
        history.count(),
    )


@contextlib.contextmanager
def _cursor():
    from django.db import connection

    with connection.cursor() as cursor:
        yield cursor


def _analyze(vacuum: bool = False) -> None:
    """Fresh statistics (and, after a reset, no dead rows) so that every run plans and
    scans alike. VACUUM cannot run in a transaction: skipped inside one."""
    from django.db import connection

    from batches.models import BatchItem, BatchJob
    from billing.models import AuditLog, Charge, Claim, Coverage, Encounter, NumberSequence

    tables = [
        m._meta.db_table
        for m in (Charge, Claim, Encounter, Coverage, NumberSequence, BatchItem, BatchJob, AuditLog)
    ]
    tables.append(Claim.charges.through._meta.db_table)
    command = "VACUUM (ANALYZE)" if vacuum and not connection.in_atomic_block else "ANALYZE"
    with _cursor() as cursor:
        cursor.execute(f"{command} {', '.join(tables)}")


def reset(organization, *, vacuum: bool = True) -> None:
    """Back to the state before this period's Claim Generation: its claims deleted, its
    charges approved, the claim numbers after the history's, no batch jobs (but the
    history's) and no audit rows in the bench organization; then VACUUM and ANALYZE."""
    from django.db import transaction

    from batches.models import BatchItem, BatchJob
    from billing.models import (
        AuditLog,
        Charge,
        Claim,
        ClaimStatusChange,
        Encounter,
        NumberSequence,
    )
    from billing.services.billing_run import CLAIM_NUMBER_SEQUENCE

    claims = Claim._meta.db_table
    period = f"""
        SELECT k.id FROM {claims} k JOIN {Encounter._meta.db_table} e ON e.id = k.encounter_id
         WHERE k.organization_id = %s AND e.date_of_service >= %s"""
    org = organization.pk
    with transaction.atomic(), _cursor() as cursor:
        for table in (Claim.charges.through._meta.db_table, ClaimStatusChange._meta.db_table):
            cursor.execute(f"DELETE FROM {table} WHERE claim_id IN ({period})", [org, FIRST_DOS])
        cursor.execute(f"DELETE FROM {claims} WHERE id IN ({period})", [org, FIRST_DOS])
        cursor.execute(
            f"""
            UPDATE {Charge._meta.db_table} c SET status = %s
              FROM {Encounter._meta.db_table} e
             WHERE e.id = c.encounter_id AND c.organization_id = %s
               AND e.date_of_service >= %s AND c.status <> %s
            """,
            [Charge.Status.APPROVED, org, FIRST_DOS, Charge.Status.APPROVED],
        )
        jobs = BatchJob.objects.filter(organization=organization).exclude(parameters=HISTORY_JOB)
        BatchItem.objects.filter(job__in=jobs).delete()
        jobs.delete()
        AuditLog.objects.filter(organization=organization).delete()
        NumberSequence.objects.update_or_create(
            organization=organization,
            name=CLAIM_NUMBER_SEQUENCE,
            defaults={"last_value": Claim.objects.filter(organization=organization).count()},
        )
    _analyze(vacuum=vacuum)


# --- the two paths ----------------------------------------------------------------------------


@dataclass
class Run:
    seconds: float
    claims: int
    links: int
    queries: int = 0
    sql_seconds: float = 0.0
    commits: int = 0
    commit_seconds: float = 0.0
    statements: dict[str, list] = field(default_factory=dict)
    parts: dict[str, float] = field(default_factory=dict)


class DatabaseTimer:
    """Counts the queries Django sends and the time spent waiting for them, and for the
    commits (where PostgreSQL checks the deferred foreign keys)."""

    def __init__(self) -> None:
        self.queries = 0
        self.seconds = 0.0
        self.commits = 0
        self.commit_seconds = 0.0
        self.statements: dict[str, list] = {}  # its first words -> [count, seconds]

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            seconds = time.perf_counter() - start
            self.seconds += seconds
            self.queries += 1
            entry = self.statements.setdefault(" ".join(sql.split())[:72], [0, 0.0])
            entry[0] += 1
            entry[1] += seconds

    @contextlib.contextmanager
    def timing(self) -> Iterator[DatabaseTimer]:
        from django.db import connection

        commit = connection._commit

        def timed_commit():
            start = time.perf_counter()
            try:
                return commit()
            finally:
                self.commit_seconds += time.perf_counter() - start
                self.commits += 1

        connection._commit = timed_commit
        try:
            with connection.execute_wrapper(self):
                yield self
        finally:
            del connection._commit


class JobBroke(AssertionError):
    """The job hit an error the engine would log and work around (a chunk rolled back and
    retried group by group): the bench would then time something else, so it stops."""


class _StopOnError(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)

    def emit(self, record: logging.LogRecord) -> None:
        raise JobBroke(f"the job broke: {record.getMessage()}") from (
            record.exc_info[1] if record.exc_info else None
        )


@contextlib.contextmanager
def stop_on_engine_error() -> Iterator[None]:
    logger = logging.getLogger("batches.engine")
    handler = _StopOnError()
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


@contextlib.contextmanager
def no_broker() -> Iterator[list[int]]:
    """batch_start hands the job to Celery on commit; here the bench runs it in-process."""
    from batches.tasks import run_batch_job

    sent: list[int] = []
    run_batch_job.delay_on_commit = sent.append
    try:
        yield sent
    finally:
        del run_batch_job.delay_on_commit


def _approved_ids(organization) -> list[int]:
    from billing.models import Charge

    return list(
        Charge.objects.filter(organization=organization, status=Charge.Status.APPROVED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def run_job(data: Dataset, *, chunk_groups: int | None = None) -> Run:
    """The Claim Generation batch job over every approved charge, as a worker runs it."""
    from batches import engine, runners  # noqa: F401  (runners register themselves)
    from batches.models import BatchJob, JobType
    from batches.services import batch_start

    ids = _approved_ids(data.organization)
    timer = DatabaseTimer()
    with no_broker() as sent, stop_on_engine_error(), timer.timing():
        start = time.perf_counter()
        job = batch_start(
            organization=data.organization,
            actor=data.actor,
            job_type=JobType.CLAIM_GENERATION,
            record_ids=ids,
        )
        started = time.perf_counter()
        job = engine.job_run(job.pk, chunk_groups=chunk_groups)
        end = time.perf_counter()
    assert sent == [job.pk], "batch_start must hand the job to the workers once"
    assert job.status == BatchJob.Status.COMPLETED, (job.status, job.error_count)
    assert (job.total_count, job.processed_count, job.error_count) == (len(ids), len(ids), 0)
    shape = result_shape(data.organization)
    return Run(
        seconds=end - start,
        claims=shape["claims"],
        links=shape["links"],
        queries=timer.queries,
        sql_seconds=timer.seconds,
        commits=timer.commits,
        commit_seconds=timer.commit_seconds,
        statements=timer.statements,
        parts={"batch_start": started - start, "engine.job_run": end - started},
    )


# The claim columns the floor computes; every other column of Claim gets the model's
# default, as `Claim(...)` in claims_generate does (so a field added to Claim later is
# filled, and compared by result_shape, without touching the bench).
FLOOR_CLAIM_VALUES = {
    "organization_id": "%(org)s",
    "encounter_id": "g.encounter_id",
    "payer_id": "g.payer_id",
    "coverage_id": "g.coverage_id",
    "claim_number": "'CLM' || lpad(m.number::text, greatest(7, length(m.number::text)), '0')",
    "status": "%(ready)s",
    "total": "g.total",
    "created_at": "now()",
}


def floor_statement(organization) -> tuple[str, dict[str, Any]]:
    """One statement: lock the approved charges, find each one's primary coverage in force
    on its date of service, group per (encounter, coverage), take that many claim numbers
    from the organization's sequence, insert the claims, link the charges, mark them billed.
    Data-modifying CTEs see one snapshot, so each step feeds the next through RETURNING."""
    from django.db import connection

    from billing.models import Charge, Claim, Coverage, Encounter, NumberSequence
    from billing.services.billing_run import CLAIM_NUMBER_SEQUENCE

    params: dict[str, Any] = {
        "org": organization.pk,
        "approved": Charge.Status.APPROVED,
        "billed": Charge.Status.BILLED,
        "primary": Coverage.Order.PRIMARY,
        "sequence": CLAIM_NUMBER_SEQUENCE,
        "ready": Claim.Status.READY,
    }
    columns, values = [], []
    for f in Claim._meta.concrete_fields:
        if f.primary_key:
            continue
        columns.append(connection.ops.quote_name(f.column))
        if f.column in FLOOR_CLAIM_VALUES:
            values.append(FLOOR_CLAIM_VALUES[f.column])
        else:
            params[f.column] = f.get_db_prep_save(f.get_default(), connection)
            values.append(f"CAST(%({f.column})s AS {f.db_type(connection)})")
    sql = f"""
    WITH approved AS (
        SELECT c.id, c.encounter_id, c.amount, e.patient_id, e.date_of_service
          FROM {Charge._meta.db_table} c
          JOIN {Encounter._meta.db_table} e ON e.id = c.encounter_id
         WHERE c.organization_id = %(org)s AND c.status = %(approved)s
           FOR UPDATE OF c
    ), covered AS (
        SELECT a.id AS charge_id, a.encounter_id, a.amount, v.id AS coverage_id, v.payer_id
          FROM approved a
          CROSS JOIN LATERAL (
              SELECT v.id, v.payer_id FROM {Coverage._meta.db_table} v
               WHERE v.organization_id = %(org)s AND v.patient_id = a.patient_id
                 AND v."order" = %(primary)s AND v.effective_from <= a.date_of_service
                 AND (v.effective_to IS NULL OR v.effective_to >= a.date_of_service)
               ORDER BY v.effective_from DESC, v.id DESC
               LIMIT 1) v
    ), grouped AS (
        SELECT encounter_id, coverage_id, payer_id, sum(amount) AS total,
               row_number() OVER (ORDER BY encounter_id, coverage_id) AS n
          FROM covered
         GROUP BY encounter_id, coverage_id, payer_id
    ), numbers AS (
        UPDATE {NumberSequence._meta.db_table}
           SET last_value = last_value + (SELECT count(*) FROM grouped)
         WHERE organization_id = %(org)s AND name = %(sequence)s
        RETURNING last_value - (SELECT count(*) FROM grouped) AS before
    ), claims AS (
        INSERT INTO {Claim._meta.db_table} ({", ".join(columns)})
        SELECT {", ".join(values)}
          FROM grouped g CROSS JOIN numbers s CROSS JOIN LATERAL (SELECT s.before + g.n) m(number)
        RETURNING id, encounter_id, coverage_id
    ), links AS (
        INSERT INTO {Claim.charges.through._meta.db_table} (claim_id, charge_id)
        SELECT k.id, c.charge_id
          FROM claims k JOIN covered c USING (encounter_id, coverage_id)
        RETURNING charge_id
    )
    UPDATE {Charge._meta.db_table} SET status = %(billed)s
     WHERE id IN (SELECT charge_id FROM links)
    """
    return sql, params


def run_floor(data: Dataset) -> Run:
    """The same claims in one SQL statement, in one transaction."""
    from django.db import transaction

    sql, params = floor_statement(data.organization)
    start = time.perf_counter()
    with transaction.atomic(), _cursor() as cursor:
        # The floor at its best: no JIT compilation (0.6 s of a 5 s statement here: it pays
        # off only on longer queries) and sorts in memory rather than on disk.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(sql, params)
        billed = cursor.rowcount
    seconds = time.perf_counter() - start
    shape = result_shape(data.organization)
    assert billed == shape["links"], (billed, shape)
    return Run(seconds=seconds, claims=shape["claims"], links=shape["links"], queries=1, commits=1)


def result_shape(organization) -> dict[str, Any]:
    """What Claim Generation left in the period to bill, in a form two runs can be compared
    by: counts, the claim numbers used, and a digest of every claim's columns (but its id,
    number and creation time) and charges."""
    from billing.models import Charge, Claim, Encounter, NumberSequence
    from billing.services.billing_run import CLAIM_NUMBER_SEQUENCE

    links = Claim.charges.through._meta.db_table
    with _cursor() as cursor:
        cursor.execute(
            f"""
            SELECT count(*), count(DISTINCT claim_number), min(claim_number),
                   max(claim_number), coalesce(sum(linked), 0),
                   md5(string_agg((to_jsonb(k) - 'id' - 'claim_number' - 'created_at')::text,
                                  ';' ORDER BY encounter_id, coverage_id))
              FROM (SELECT k.*, l.linked, l.charge_ids
                      FROM {Claim._meta.db_table} k
                      JOIN {Encounter._meta.db_table} e ON e.id = k.encounter_id
                      LEFT JOIN LATERAL (
                          SELECT count(*) AS linked,
                                 string_agg(charge_id::text, ',' ORDER BY charge_id) AS charge_ids
                            FROM {links} WHERE claim_id = k.id) l ON true
                     WHERE k.organization_id = %s AND e.date_of_service >= %s) k
            """,
            [organization.pk, FIRST_DOS],
        )
        claims, numbers, first, last, linked, digest = cursor.fetchone()
    return {
        "claims": claims,
        "links": linked,
        "distinct_numbers": numbers,
        "first_number": first,
        "last_number": last,
        "sequence": NumberSequence.objects.get(
            organization=organization, name=CLAIM_NUMBER_SEQUENCE
        ).last_value,
        "billed": Charge.objects.filter(
            organization=organization,
            encounter__date_of_service__gte=FIRST_DOS,
            status=Charge.Status.BILLED,
        ).count(),
        "digest": digest,
    }


def measure(
    data: Dataset,
    *,
    repeat: int = 1,
    chunk_groups: int | None = None,
    log: Callable[[str], None] = print,
):
    """Best of `repeat` runs of each path, each from the reset state; asserts both made the
    same claims (numbers, payers, totals, charge links) and billed every charge once."""
    job_runs, floor_runs, shapes = [], [], {}
    for attempt in range(repeat):
        job_path = functools.partial(run_job, chunk_groups=chunk_groups)
        for label, path, runs in (("job", job_path, job_runs), ("floor", run_floor, floor_runs)):
            reset(data.organization)
            run = path(data)
            runs.append(run)
            shape = result_shape(data.organization)
            shapes.setdefault(label, shape)
            assert shape == shapes[label], f"{label} run {attempt + 1} made other claims"
            log(f"  {label:<5} run {attempt + 1}: {run.seconds:8.2f} s, {run.claims:,} claims")
    job, floor = shapes["job"], shapes["floor"]
    assert job == floor, f"the two paths made different claims:\n job   {job}\n floor {floor}"
    from billing.services.billing_run import claim_number

    expected = {
        "claims": data.encounters,
        "links": data.charges,
        "distinct_numbers": data.encounters,
        "first_number": claim_number(data.history_claims + 1),
        "last_number": claim_number(data.history_claims + data.encounters),
        "sequence": data.history_claims + data.encounters,
        "billed": data.charges,
    }
    got = {key: job[key] for key in expected}
    assert got == expected, f"expected {expected}, got {got}"
    reset(data.organization)
    return min(job_runs, key=lambda r: r.seconds), min(floor_runs, key=lambda r: r.seconds)


# --- output -----------------------------------------------------------------------------------


def entries(data: Dataset, job: Run, floor: Run) -> list[dict[str, Any]]:
    """This bench's results.json entries: costs, ratio = value / floor."""
    rows = []
    for per, count in (("charge", data.charges), ("claim", job.claims)):
        value, base = job.seconds / count, floor.seconds / count
        rows.append(
            {
                "name": f"{NAME}.job_per_{per}",
                "value": float(f"{value:.4g}"),
                "unit": f"s/{per}",
                "floor": float(f"{base:.4g}"),
                "ratio": round(value / base, 1),
            }
        )
    return rows


def save_results(rows: list[dict[str, Any]], path: Path = RESULTS) -> None:
    """Replace this bench's entries in results.json (by name), keep the other benches'."""
    kept: list[dict[str, Any]] = []
    if path.exists():
        try:
            kept = json.loads(path.read_text())
        except json.JSONDecodeError:
            kept = []
    kept = [e for e in kept if not str(e.get("name", "")).startswith(f"{NAME}.")]
    path.write_text(json.dumps(kept + rows, indent=2) + "\n")


def table(data: Dataset, job: Run, floor: Run) -> str:
    def line(label: str, run_seconds: float, claims: int, ratio: str = "") -> str:
        return (
            f"{label:<34}{run_seconds:>9.2f}{data.charges / run_seconds:>12,.0f}"
            f"{claims / run_seconds:>11,.0f}{run_seconds / data.charges * 1e6:>11.1f}{ratio:>8}"
        )

    head = (
        f"{'path':<34}{'wall s':>9}{'charges/s':>12}{'claims/s':>11}{'µs/charge':>11}{'ratio':>8}"
    )
    python = job.seconds - job.sql_seconds - job.commit_seconds
    queries = f"in SQL statements ({job.queries:,})"
    commits = f"in commits ({job.commits:,})"
    lines = [
        f"Claim Generation: {data.charges:,} approved charges -> {job.claims:,} claims "
        f"({job.links:,} charge links), same claims on both paths",
        head,
        "-" * len(head),
        line(
            "batch job (batch_start + job_run)",
            job.seconds,
            job.claims,
            f"{job.seconds / floor.seconds:.1f}",
        ),
        *(f"  {name:<32}{seconds:>9.2f}" for name, seconds in job.parts.items()),
        f"  {queries:<32}{job.sql_seconds:>9.2f}",
        f"  {commits:<32}{job.commit_seconds:>9.2f}",
        f"  {'in Python':<32}{python:>9.2f}",
        line("INSERT ... SELECT (floor)", floor.seconds, floor.claims, "1.0"),
        "",
        "the job's slowest statements (seconds, count, statement):",
        *(
            f"{seconds:8.2f} {count:6,}  {sql}"
            for sql, (count, seconds) in sorted(job.statements.items(), key=lambda e: -e[1][1])[:6]
        ),
    ]
    return "\n".join(lines)


def profile_job(data: Dataset, top: int = 30) -> str:
    """One more job run under cProfile (slower than the measured one): where the time goes."""
    reset(data.organization)
    profiler = cProfile.Profile()
    profiler.enable()
    run_job(data)
    profiler.disable()
    reset(data.organization)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


# --- the command ------------------------------------------------------------------------------


def _refuse(message: str) -> None:
    print(f"bench/claim_generation.py: {message}", file=sys.stderr)
    raise SystemExit(2)


def _database_settings() -> dict[str, Any]:
    """DATABASE_URL, checked: PostgreSQL, and a database of the bench's own."""
    import dj_database_url

    url = os.environ.get("DATABASE_URL", "")
    if not url:
        _refuse(
            "set DATABASE_URL to a PostgreSQL database of the bench's own, e.g. "
            "postgres://postgres@127.0.0.1:5432/billing_bench (SQLite is not measured)"
        )
    settings = dj_database_url.parse(url)
    if settings["ENGINE"] != "django.db.backends.postgresql":
        _refuse(f"PostgreSQL only; DATABASE_URL names {settings['ENGINE']}")
    if "bench" not in settings["NAME"]:
        _refuse(
            f"the database {settings['NAME']!r} does not look like the bench's own (its name "
            "must contain 'bench'): the bench writes scale data there, so it never uses a "
            "developer's database"
        )
    return settings


def _create_database(settings: dict[str, Any]) -> None:
    import psycopg
    from psycopg import sql

    connect = {
        "host": settings.get("HOST") or None,
        "port": settings.get("PORT") or None,
        "user": settings.get("USER") or None,
        "password": settings.get("PASSWORD") or None,
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **connect) as conn:
        name = settings["NAME"]
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        print(f"  created database {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--charges", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each path (best kept)")
    parser.add_argument("--fresh", action="store_true", help="rebuild the scale data")
    parser.add_argument("--profile", action="store_true", help="profile one more job run")
    parser.add_argument("--no-save", action="store_true", help="leave bench/results.json as is")
    parser.add_argument(
        "--chunk-groups", type=int, help="encounters per chunk (default: the runner's, 200)"
    )
    args = parser.parse_args()

    settings = _database_settings()
    # The bench is no web server: keys of its own, and DEBUG off (no query log in memory).
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-any-deployment-0123456789")
    os.environ.setdefault("FIELD_ENCRYPTION_KEY", "YmVuY2gtb25seS1mZXJuZXQta2V5LTAxMjM0NTY3ODk=")
    os.environ["DEBUG"] = "0"
    os.environ["BATCH_MAX_RECORDS"] = str(max(args.charges, 200_000))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    _create_database(settings)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        _refuse("PostgreSQL only")
    call_command("migrate", verbosity=0)
    with _cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    print(
        f"database {settings['NAME']} (PostgreSQL {version}), {os.cpu_count()} CPUs, "
        f"Python {sys.version.split()[0]}"
    )
    print(f"scale data: {args.charges:,} charges")
    data = load_data(args.charges, fresh=args.fresh)
    print("measuring")
    job, floor = measure(data, repeat=args.repeat, chunk_groups=args.chunk_groups)
    print()
    print(table(data, job, floor))
    rows = entries(data, job, floor)
    if not args.no_save:
        save_results(rows)
        print(f"\n{RESULTS.relative_to(ROOT)}: {', '.join(r['name'] for r in rows)}")
    if args.profile:
        print("\nprofile of one more job run (cProfile; slower than the measured run):")
        print(profile_job(data))


if __name__ == "__main__":
    main()
