"""A real Celery worker process, on the configured broker (Redis or the filesystem)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from django.conf import settings

from billing.tasks import ping


@pytest.fixture
def worker_queue():
    queue = f"test-{uuid.uuid4().hex[:12]}"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            f"--queues={queue}",
            "--loglevel=WARNING",
            f"--hostname={queue}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.test_settings"},
        cwd=settings.BASE_DIR,
    )
    try:
        yield queue
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_worker_process_answers_a_task(worker_queue):
    result = ping.apply_async(queue=worker_queue)
    assert result.get(timeout=90)["pong"] == "ok"


def test_celery_is_configured_to_lose_no_task_when_a_worker_dies():
    from config.celery import app

    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    visibility = app.conf.broker_transport_options["visibility_timeout"]
    assert visibility > app.conf.task_time_limit
