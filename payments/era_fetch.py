"""New ERAs from the clearinghouses: each clearinghouse configuration with an active ERA
(835) enrollment is asked for its new 835 files through its own adapter. ERA retrieval is
never routed (DESIGN.md: ERAs come from the clearinghouse the payer is ERA-enrolled with;
they do not fail over), so this calls `adapter_for(config)` directly, not the router.

What a vendor hands over is gone at the vendor, so the files are stored first, in the same
transaction as the adapter's cursor (Claim.MD remembers the last ERA it gave): either both
are kept or neither, and the vendor sends them again. Each file is then ingested in a
transaction of its own; one that fails stays stored (pending) and the next run takes it up.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
from collections.abc import Iterable

from django.db.models import Q
from django.utils import timezone

from billing.models import Organization
from billing.tenancy import tenant_context
from clearinghouse.models import ClearinghouseConfig, PayerEnrollment, TransactionType
from clearinghouse.vendor_services import adapter_for
from payments.ingestion import era_file_process, era_file_store
from payments.models import EraFile

logger = logging.getLogger(__name__)

# An upload whose worker task was lost is taken up by the fetch after this long.
STALE_UPLOAD = datetime.timedelta(minutes=10)


@dataclasses.dataclass
class FetchSummary:
    fetched: int = 0  # 835 files the clearinghouse handed over
    stored: int = 0  # of them, new to this organization
    ingested: int = 0
    already_ingested: int = 0
    refused: int = 0
    failed: int = 0  # ingestion raised: the file stays pending for the next run
    tried: list[int] = dataclasses.field(default_factory=list)  # ERA file ids

    def add(self, other: FetchSummary) -> None:
        for item in dataclasses.fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "tried"}


def era_config_ids(organization: Organization) -> list[int]:
    """Active configurations some payer is actively ERA-enrolled through."""
    enrolled = (
        PayerEnrollment.objects.for_organization(organization)
        .active_for(TransactionType.ERA_835)
        .values("clearinghouse_id")
    )
    return list(
        ClearinghouseConfig.objects.for_organization(organization)
        .filter(is_active=True, pk__in=enrolled)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def eras_fetch(*, organization: Organization, config_id: int) -> FetchSummary:
    """Fetch, store and ingest the new ERAs of one configuration. Raises the adapter's
    `VendorError` (nothing stored then) or ValidationError (undecryptable credentials)."""
    summary = FetchSummary()
    with tenant_context(organization):
        config = (
            ClearinghouseConfig.objects.for_organization(organization)
            .select_related("organization")
            .filter(pk=config_id, is_active=True)
            .first()
        )
        if config is None:
            return summary
        reports = adapter_for(config).fetch_eras()
        stored_ids = []
        for report in reports:  # all kept, even one that is no 835: ingestion says so
            summary.fetched += 1
            era_file, created = era_file_store(
                organization=organization,
                actor=None,
                content=report.text,
                source=EraFile.Source.CLEARINGHOUSE,
                file_name=report.report_id[:255],
                clearinghouse_config_id=config.pk,
                vendor_report_id=report.report_id,
            )
            summary.stored += created
            stored_ids.append(era_file.pk)
    for era_file_id in dict.fromkeys(stored_ids):
        summary.add(_process(organization, era_file_id))
    return summary


def pending_eras_process(*, organization: Organization, skip: Iterable[int] = ()) -> FetchSummary:
    """Ingest the files left pending: fetched ones whose ingestion failed, and uploads whose
    worker task never ran (not those in `skip`, tried already in this run)."""
    summary = FetchSummary()
    with tenant_context(organization):
        ids = list(
            EraFile.objects.for_organization(organization)
            .filter(status=EraFile.Status.PENDING)
            .filter(
                Q(source=EraFile.Source.CLEARINGHOUSE)
                | Q(received_at__lt=timezone.now() - STALE_UPLOAD)
            )
            .exclude(pk__in=list(skip))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    for era_file_id in ids:
        summary.add(_process(organization, era_file_id))
    return summary


def _process(organization: Organization, era_file_id: int) -> FetchSummary:
    summary = FetchSummary(tried=[era_file_id])
    try:
        result = era_file_process(organization=organization, actor=None, era_file_id=era_file_id)
    except Exception:
        logger.exception("ERA file %s could not be ingested; it stays pending", era_file_id)
        summary.failed += 1
        return summary
    if result.refused:
        summary.refused += 1
        logger.warning("ERA file %s refused (see its page for why)", era_file_id)
    elif result.already_ingested:
        summary.already_ingested += 1
    else:
        summary.ingested += 1
    return summary
