"""The Celery app. Configuration comes from Django settings (CELERY_* names).

Tasks that are started by a change in the database are enqueued with
`task.delay_on_commit(...)` (Celery's Django integration), so a worker never picks up a
job whose row is not committed yet.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
