"""Reads for the payers page."""

from __future__ import annotations

import re

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Lower

from billing.models import Coverage, Organization, Payer
from clearinghouse.models import PayerEnrollment


def _count_per_payer(rows: QuerySet) -> Coalesce:
    """A correlated COUNT of `rows` for the outer payer: two counts over different
    relations in one query, without the join that would multiply them."""
    counted = (
        rows.filter(payer=OuterRef("pk"))
        .order_by()
        .values("payer")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def payer_list_queryset(organization: Organization, *, search: str = "") -> QuerySet:
    """The organization's payers by name; `search` matches the name or the payer id."""
    rows = Payer.objects.for_organization(organization)
    text = re.sub(r"\s+", " ", search).strip()
    if text:
        rows = rows.filter(Q(name__icontains=text) | Q(payer_id__icontains=text))
    return rows.annotate(
        coverage_count=_count_per_payer(Coverage.objects.all()),
        live_enrollment_count=_count_per_payer(PayerEnrollment.objects.live()),
    ).order_by(Lower("name"), "pk")


def payer_get(organization: Organization, pk: int) -> Payer | None:
    return Payer.objects.for_organization(organization).filter(pk=pk).first()


def payer_id_clash(payer: Payer) -> Payer | None:
    """Another payer of the organization with the same payer id (any letter case)."""
    return (
        Payer.objects.for_organization(payer.organization_id)
        .filter(payer_id__iexact=payer.payer_id)
        .exclude(pk=payer.pk)
        .first()
    )
