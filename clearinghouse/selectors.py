from __future__ import annotations

from billing.models import Organization
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
