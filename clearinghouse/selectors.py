from __future__ import annotations

from django.db.models import Count, Q

from billing.models import Organization, Payer
from clearinghouse.models import ClearinghouseConfig, PayerEnrollment


def enrollment_list(organization: Organization, *, q: str = "", status: str = ""):
    """Live enrollments, newest first; `q` matches the electronic payer id."""
    rows = (
        PayerEnrollment.objects.for_organization(organization)
        .live()
        .select_related("payer", "clearinghouse")
        .order_by("-created_at", "-id")
    )
    if q:
        rows = rows.filter(electronic_payer_id__icontains=q)
    if status:
        rows = rows.filter(enrollment_status=status)
    return rows


def enrollment_get(organization: Organization, pk: int) -> PayerEnrollment | None:
    return (
        PayerEnrollment.objects.for_organization(organization)
        .live()
        .select_related("payer", "clearinghouse")
        .filter(pk=pk)
        .first()
    )


def clearinghouse_list(organization: Organization):
    return ClearinghouseConfig.objects.for_organization(organization).order_by(
        "-is_active", "display_name"
    )


def clearinghouse_get(organization: Organization, pk: int) -> ClearinghouseConfig | None:
    return ClearinghouseConfig.objects.for_organization(organization).filter(pk=pk).first()


# --- the clearinghouse configuration pages ---------------------------------------------------


def clearinghouse_table(organization: Organization):
    """The configurations page: each with its number of live enrollments, in one query."""
    live = Count("enrollments", filter=Q(enrollments__deleted_at__isnull=True))
    return clearinghouse_list(organization).annotate(live_enrollments=live)


def clearinghouse_detail(organization: Organization, pk: int) -> ClearinghouseConfig | None:
    return (
        ClearinghouseConfig.objects.for_organization(organization)
        .select_related("baa_acknowledged_by")
        .filter(pk=pk)
        .first()
    )


def enrollment_counts(
    organization: Organization, config: ClearinghouseConfig
) -> list[tuple[str, str, int]]:
    """(status, label, number of live enrollments) for every status, through `config`."""
    counts = dict(
        PayerEnrollment.objects.for_organization(organization)
        .live()
        .filter(clearinghouse=config)
        .order_by()
        .values_list("enrollment_status")
        .annotate(n=Count("pk"))
    )
    return [(value, label, counts.get(value, 0)) for value, label in PayerEnrollment.Status.choices]


def enrollment_setup_missing(organization: Organization) -> dict[str, bool]:
    """The seed's "Before you start": an enrollment needs a payer and an active
    clearinghouse configuration; True marks what is missing."""
    return {
        "payer": not Payer.objects.for_organization(organization).exists(),
        "clearinghouse": not clearinghouse_list(organization).filter(is_active=True).exists(),
    }


def default_claim_clearinghouse(organization: Organization) -> ClearinghouseConfig | None:
    """Where claims go when nobody names a clearinghouse: the organization's only active
    configuration (the failover settings' primary takes over once they exist)."""
    active = list(clearinghouse_list(organization).filter(is_active=True)[:2])
    return active[0] if len(active) == 1 else None


def clearinghouse_health(organization: Organization, configs) -> dict[int, object]:
    """The health of the configurations in the organization's failover pair (the ones the
    scheduled checks watch), by config id; the others are not monitored."""
    from clearinghouse import health
    from clearinghouse.models import FailoverSettings

    settings = FailoverSettings.objects.filter(organization=organization).first()
    if settings is None:
        return {}
    watched = {settings.primary_id, settings.secondary_id} - {None}
    return {
        c.pk: health.vendor_health(organization, c, settings) for c in configs if c.pk in watched
    }
