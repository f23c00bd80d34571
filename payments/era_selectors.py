"""Reads for the ERA pages: ERAs and ERA files of one organization."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

from billing.models import Organization
from payments.models import ClaimPayment, Era, EraFile, PaymentAdjustment, ServiceLinePayment


def eras_list(
    organization: Organization, *, review: bool = False, search: str = ""
) -> QuerySet[Era]:
    """Newest payment first, with claim counts; `review`: only those that need a look."""
    eras = (
        Era.objects.for_organization(organization)
        .select_related("era_file", "payer", "payment")
        .defer("era_file__content")
        .annotate(
            claim_count=Count("claim_payments"),
            unmatched_count=Count("claim_payments", filter=Q(claim_payments__claim__isnull=True)),
        )
        .order_by("-payment_date", "-id")
    )
    if review:
        eras = eras.filter(needs_review=True)
    if search:
        by_claim = ClaimPayment.objects.filter(
            organization=organization, patient_control_number__iexact=search
        ).values("era_id")
        eras = eras.filter(
            Q(trace_number__icontains=search)
            | Q(payer_name__icontains=search)
            | Q(payer__name__icontains=search)
            | Q(pk__in=by_claim)
        )
    return eras


def _era_links() -> Prefetch:
    return Prefetch(
        "eras", queryset=Era.objects.only("pk", "era_file_id", "trace_number").order_by("pk")
    )


def era_files_recent(organization: Organization, *, limit: int = 10) -> list[EraFile]:
    return list(
        EraFile.objects.for_organization(organization)
        .defer("content")
        .select_related("uploaded_by")
        .annotate(era_count=Count("eras"))
        .prefetch_related(_era_links())
        .order_by("-received_at", "-id")[:limit]
    )


def era_files_by_id(organization: Organization, ids: list[int]) -> list[EraFile]:
    return list(
        EraFile.objects.for_organization(organization)
        .defer("content")
        .filter(pk__in=ids)
        .annotate(era_count=Count("eras"))
        .prefetch_related(_era_links())
        .order_by("pk")
    )


def era_counts(organization: Organization) -> dict[str, int]:
    eras = Era.objects.for_organization(organization)
    files = EraFile.objects.for_organization(organization)
    return {
        "review": eras.filter(needs_review=True).count(),
        "pending": files.filter(status=EraFile.Status.PENDING).count(),
        "refused": files.filter(status=EraFile.Status.REFUSED).count(),
    }


def era_get(organization: Organization, pk: int) -> Era | None:
    """One ERA with everything its page shows, or None when it is not this organization's."""
    adjustments = PaymentAdjustment.objects.order_by("id")
    lines = ServiceLinePayment.objects.order_by("id").prefetch_related(
        Prefetch("adjustments", queryset=adjustments)
    )
    claim_payments = (
        ClaimPayment.objects.order_by("id")
        .select_related("claim", "reversed_by")
        .prefetch_related(
            Prefetch("service_lines", queryset=lines),
            Prefetch(
                "adjustments",
                queryset=adjustments.filter(service_line__isnull=True),
                to_attr="claim_adjustments",
            ),
        )
    )
    return (
        Era.objects.for_organization(organization)
        .select_related("era_file", "payer", "payment")
        .defer("era_file__content")
        .prefetch_related(Prefetch("claim_payments", queryset=claim_payments))
        .filter(pk=pk)
        .first()
    )


def era_file_get(organization: Organization, pk: int) -> EraFile | None:
    return EraFile.objects.for_organization(organization).filter(pk=pk).first()
