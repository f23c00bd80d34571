"""Celery tasks of ERA ingestion: one uploaded file on a worker, and the beat task fetching
new ERAs from every ERA-enrolled clearinghouse. Messages carry ids only."""

from __future__ import annotations

import logging

from celery import shared_task
from django.core.exceptions import ValidationError

from billing.models import Organization, User
from billing.tenancy import tenant_context
from clearinghouse.vendors.base import VendorError
from payments import era_fetch
from payments.ingestion import era_file_process
from payments.models import EraFile

logger = logging.getLogger(__name__)


@shared_task(name="payments.ingest_era_file", acks_late=True, reject_on_worker_lost=True)
def ingest_era_file(*, organization_id: int, era_file_id: int) -> dict[str, object]:
    """Ingest one stored file. Delivered twice, the second run finds it ingested and does
    nothing (the file row is locked while it is ingested)."""
    organization = Organization.objects.get(pk=organization_id)
    with tenant_context(organization):
        uploader_id = (
            EraFile.objects.for_organization(organization)
            .filter(pk=era_file_id)
            .values_list("uploaded_by", flat=True)
            .first()
        )
    actor = User.objects.filter(pk=uploader_id).first() if uploader_id else None
    result = era_file_process(organization=organization, actor=actor, era_file_id=era_file_id)
    return {"era_file": era_file_id, "status": result.status, "eras": len(result.eras)}


@shared_task(name="payments.fetch_eras", acks_late=True, reject_on_worker_lost=True)
def fetch_eras(*, organization_id: int | None = None) -> dict[str, dict[str, int]]:
    """Every few minutes: fetch the new ERAs of each clearinghouse configuration with an
    active ERA enrollment, store and ingest them; then take up files left pending. All
    organizations, or only `organization_id`; each configuration on its own, so one vendor
    that is down holds nobody back (the next run tries again)."""
    organizations = Organization.objects.order_by("pk")
    if organization_id is not None:
        organizations = organizations.filter(pk=organization_id)
    results: dict[str, dict[str, int]] = {}
    for organization in organizations:
        summary = era_fetch.FetchSummary()
        vendors_failed = 0
        try:
            with tenant_context(organization):
                config_ids = era_fetch.era_config_ids(organization)
        except Exception:
            logger.exception(
                "Listing ERA clearinghouses failed for organization %s", organization.pk
            )
            results[organization.slug] = {"vendors_failed": 1}
            continue
        for config_id in config_ids:
            try:
                summary.add(era_fetch.eras_fetch(organization=organization, config_id=config_id))
            except (VendorError, ValidationError) as error:  # down; undecryptable secret
                logger.warning("ERAs of clearinghouse %s not fetched: %s", config_id, error)
                vendors_failed += 1
            except Exception:
                logger.exception("ERAs of clearinghouse %s not fetched", config_id)
                vendors_failed += 1
        summary.add(era_fetch.pending_eras_process(organization=organization, skip=summary.tried))
        results[organization.slug] = summary.counts() | {
            "configs": len(config_ids),
            "vendors_failed": vendors_failed,
        }
    return results
