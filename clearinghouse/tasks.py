from __future__ import annotations

import datetime
import logging
import zoneinfo

from celery import shared_task

from billing.models import Organization
from billing.tenancy import tenant_context
from clearinghouse.services import enrollments_expire

logger = logging.getLogger(__name__)


@shared_task(name="clearinghouse.expire_enrollments", acks_late=True)
def expire_enrollments() -> dict[str, int]:
    """Daily: in each organization, in turn and in its own context and time zone, move
    enrollments whose end date has passed to expired. Running it twice does nothing more."""
    expired, failed = {}, []
    for organization in Organization.objects.order_by("pk"):
        today = datetime.datetime.now(zoneinfo.ZoneInfo(organization.time_zone)).date()
        try:
            with tenant_context(organization):
                ids = enrollments_expire(organization=organization, today=today)
        except Exception:
            # One organization's failure must not keep the others' enrollments live.
            logger.exception("Expiring enrollments failed for organization %s", organization.pk)
            failed.append(organization.slug)
            continue
        if ids:
            expired[organization.slug] = len(ids)
    if failed:
        raise RuntimeError(f"Expiring enrollments failed for: {', '.join(failed)}")
    return expired


from clearinghouse import vendor_tasks  # noqa: E402, F401  (Celery autodiscovers tasks.py only)
