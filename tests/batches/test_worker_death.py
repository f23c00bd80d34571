"""A real Celery worker process, killed with SIGKILL twice in the middle of a 2,000-claim
submission batch (real PostgreSQL, real Redis broker, the sandbox over real HTTP): after
restarts and the stalled-job sweep, the job ends Completed with counts equal to its items,
and the sandbox saw each claim exactly once."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings
from django.db import connection

from batches.models import BatchItem, BatchJob, JobType
from batches.services import batch_start
from batches.tasks import run_batch_job, sweep_stalled_jobs
from clearinghouse.models import ClaimSubmission
from tests.batches.submission_setup import ready_claims, sandbox_pair
from tests.cache import clear_cache

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]

CLAIMS = 2000
STALE_S = 2


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    def __init__(self, queue: str):
        self.queue = queue
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=solo",
                f"--queues={self.queue}",
                "--loglevel=WARNING",
                f"--hostname={self.queue}-{uuid.uuid4().hex[:6]}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            env={
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "config.test_settings",
                "DATABASE_URL": _database_url(),
            },
            cwd=settings.BASE_DIR,
            start_new_session=True,
        )

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def _wait(predicate, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _done(job: BatchJob) -> int:
    return BatchItem.objects.filter(job=job, status__in=["succeeded", "failed", "skipped"]).count()


@pytest.fixture
def worker(monkeypatch):
    queue = f"test-death-{uuid.uuid4().hex[:10]}"
    # The sweep re-enqueues on this test's queue, where only this test's worker listens.
    monkeypatch.setattr(
        "batches.tasks.run_batch_job.delay",
        lambda job_id: run_batch_job.apply_async(args=[job_id], queue=queue),
    )
    monkeypatch.setattr(
        "batches.tasks.run_batch_job.delay_on_commit",
        lambda job_id: run_batch_job.apply_async(args=[job_id], queue=queue),
    )
    worker = Worker(queue)
    yield worker
    worker.stop()


def test_a_killed_worker_loses_nothing_and_sends_nothing_twice(
    org, admin_user, sandbox_clearinghouse, worker, settings
):
    clear_cache()
    settings.BATCH_STALE_AFTER_S = STALE_S
    _primary, _secondary, payer = sandbox_pair(org, sandbox_clearinghouse)
    claims = ready_claims(org, payer, CLAIMS)
    rng = random.Random()
    kill_points = sorted(rng.sample(range(100, CLAIMS - 300), 2))

    worker.start()
    job = batch_start(
        organization=org,
        actor=admin_user,
        job_type=JobType.CLAIM_SUBMISSION,
        record_ids=[c.pk for c in claims],
    )
    for point in kill_points:
        _wait(lambda p=point: _done(job) >= p, timeout=240, what=f"{point} items done")
        worker.kill()  # usually holding a claimed chunk, sometimes between two chunks
        time.sleep(STALE_S + 0.5)  # the heartbeat goes stale
        assert sweep_stalled_jobs() == [job.pk]
        worker.start()

    job = _wait(
        lambda: BatchJob.objects.filter(pk=job.pk, finished_at__isnull=False).first(),
        timeout=300,
        what="the job to end",
    )
    items = BatchItem.objects.filter(job=job)
    assert job.status == BatchJob.Status.COMPLETED, list(
        items.exclude(status="succeeded").values_list("record_id", "error_message")[:5]
    )
    assert (job.total_count, job.processed_count, job.error_count) == (CLAIMS, CLAIMS, 0)
    assert items.filter(status="succeeded").count() == CLAIMS
    assert not items.filter(status__in=["pending", "processing"]).exists()

    log = sandbox_clearinghouse.log(kind="837P")
    keys = [entry["idempotency_key"] for entry in log]
    assert len(keys) == len(set(keys)) == CLAIMS, "each claim reached the vendor exactly once"
    assert ClaimSubmission.objects.filter(status="sent").count() == CLAIMS
