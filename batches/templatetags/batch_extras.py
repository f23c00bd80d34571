"""Template filters of the batch pages."""

from __future__ import annotations

import datetime

from django import template
from django.utils import timezone

from batches.models import BatchJob

register = template.Library()


@register.filter
def job_duration(job: BatchJob) -> str:
    """How long the job ran (or has been running): "45s", "3m 05s", "2h 14m"."""
    if job.started_at is None:
        return ""
    end = job.finished_at or timezone.now()
    return format_duration(end - job.started_at)


def format_duration(delta: datetime.timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {seconds:02d}s"
    return f"{seconds}s"


@register.filter
def percent(part: int, whole: int) -> int:
    """`part` of `whole` in whole percent, rounded down (so 999 of 1,000 is not "100%")."""
    if not whole:
        return 0
    return min(100, int(part * 100 // whole))
