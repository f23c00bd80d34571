from __future__ import annotations

import socket

from celery import shared_task


@shared_task(name="billing.ping", acks_late=True)
def ping() -> dict[str, str]:
    """Answers from a worker: proves the broker, a worker and the result backend work."""
    return {"pong": "ok", "host": socket.gethostname()}
