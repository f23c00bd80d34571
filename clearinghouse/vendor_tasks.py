"""Beat tasks that talk to clearinghouses: the status of submitted enrollments, and the
acknowledgements that arrive after a claim file was sent.

Organizations are handled in turn, and each unit of work (one enrollment, one
configuration) in its own `tenant_context`, so no transaction stays open across many
vendor calls and one organization's failure (a vendor down, a bad file, a bug) is logged
without holding the others back; the next run tries again. Celery discovers these tasks
through `clearinghouse.tasks`, which imports this module.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from celery import shared_task
from django.core.exceptions import ValidationError

from billing.models import Organization
from billing.tenancy import tenant_context
from clearinghouse.health_checks import health_checks_due, health_checks_run
from clearinghouse.models import ClearinghouseConfig, FailoverSettings, PayerEnrollment
from clearinghouse.vendor_services import acknowledgements_fetch, enrollment_poll
from clearinghouse.vendors.base import TransientFailure, VendorError

logger = logging.getLogger(__name__)

SUMMED = ("reports", "acknowledgements", "claims_updated", "skipped", "unmatched")


def _organizations(organization_id: int | None) -> Iterable[Organization]:
    organizations = Organization.objects.order_by("pk")
    if organization_id is not None:
        organizations = organizations.filter(pk=organization_id)
    return organizations


def _pending(organization: Organization):
    return (
        PayerEnrollment.objects.for_organization(organization)
        .live()
        .filter(enrollment_status=PayerEnrollment.Status.PENDING)
        .exclude(vendor_reference="")
    )


@shared_task(
    name="clearinghouse.poll_pending_enrollments", acks_late=True, reject_on_worker_lost=True
)
def poll_pending_enrollments(*, organization_id: int | None = None) -> dict[str, dict[str, int]]:
    """Every few minutes: ask each clearinghouse about the enrollments submitted to it and
    still pending, and record active or rejected. All organizations, or only
    `organization_id`. After a clearinghouse fails to answer, its other enrollments wait
    for the next run instead of each waiting for the timeout."""
    results: dict[str, dict[str, int]] = {}
    for organization in _organizations(organization_id):
        counts = {"polled": 0, "changed": 0, "failed": 0}
        results[organization.slug] = counts
        try:
            with tenant_context(organization):
                ids = list(_pending(organization).order_by("pk").values_list("pk", flat=True))
        except Exception:
            logger.exception(
                "Listing pending enrollments failed for organization %s", organization.pk
            )
            counts["failed"] += 1
            continue
        unreachable: set[int] = set()
        for pk in ids:
            enrollment = None
            try:
                with tenant_context(organization):
                    enrollment = (
                        _pending(organization)
                        .select_related("organization", "clearinghouse")
                        .filter(pk=pk)
                        .first()
                    )
                    if enrollment is None or enrollment.clearinghouse_id in unreachable:
                        continue
                    status = enrollment_poll(
                        organization=organization, enrollment=enrollment
                    ).enrollment_status
            except (VendorError, ValidationError) as error:  # vendor down; undecryptable secret
                if isinstance(error, TransientFailure) and enrollment is not None:
                    unreachable.add(enrollment.clearinghouse_id)
                logger.warning("Enrollment %s status not read: %s", pk, error)
                counts["failed"] += 1
            except Exception:
                logger.exception("Enrollment %s status not read", pk)
                counts["failed"] += 1
            else:
                counts["polled"] += 1
                counts["changed"] += status != PayerEnrollment.Status.PENDING
    return results


@shared_task(
    name="clearinghouse.fetch_acknowledgements", acks_late=True, reject_on_worker_lost=True
)
def fetch_acknowledgements(*, organization_id: int | None = None) -> dict[str, dict[str, int]]:
    """Every few minutes: fetch the reports waiting at each active clearinghouse
    configuration and apply the 999, 277CA and 277 acknowledgements to the claims (835s are
    set aside for the ERA work). All organizations, or only `organization_id`."""
    results: dict[str, dict[str, int]] = {}
    for organization in _organizations(organization_id):
        counts = dict.fromkeys(SUMMED, 0) | {"failed": 0}
        results[organization.slug] = counts
        try:
            with tenant_context(organization):
                config_ids = list(
                    ClearinghouseConfig.objects.for_organization(organization)
                    .filter(is_active=True)
                    .order_by("pk")
                    .values_list("pk", flat=True)
                )
        except Exception:
            logger.exception("Listing clearinghouses failed for organization %s", organization.pk)
            counts["failed"] += 1
            continue
        for pk in config_ids:
            try:
                with tenant_context(organization):
                    config = (
                        ClearinghouseConfig.objects.for_organization(organization)
                        .select_related("organization")
                        .filter(pk=pk, is_active=True)
                        .first()
                    )
                    if config is None:
                        continue
                    summary = acknowledgements_fetch(organization=organization, config=config)
            except (VendorError, ValidationError) as error:  # vendor down; undecryptable secret
                logger.warning("Reports of clearinghouse %s not fetched: %s", pk, error)
                counts["failed"] += 1
            except Exception:
                logger.exception("Reports of clearinghouse %s not fetched", pk)
                counts["failed"] += 1
            else:
                for name in SUMMED:
                    counts[name] += getattr(summary, name)
    return results


@shared_task(name="clearinghouse.run_health_checks", acks_late=True)
def run_health_checks(*, organization_id: int | None = None) -> dict[str, int]:
    """Beat runs this every second; each organization's failover pair is checked at that
    organization's own interval (`health_checks_due`), not more often."""
    checked = {}
    for organization in _organizations(organization_id):
        try:
            with tenant_context(organization):
                settings = (
                    FailoverSettings.objects.select_related("primary", "secondary")
                    .filter(organization=organization)
                    .first()
                )
                if settings is None or not health_checks_due(organization, settings):
                    continue
                checked[organization.slug] = len(
                    health_checks_run(organization=organization, settings=settings)
                )
        except Exception:
            logger.exception("Health checks failed for organization %s", organization.pk)
    return checked
