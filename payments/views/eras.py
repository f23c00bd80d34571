"""ERA pages: the list of ERAs and recent ERA files, one ERA (claims, service lines,
adjustments with their code meanings, warnings), the raw file download (audited as a PHI
export) and the upload page (files stored here, ingested on a worker, progress polled).
Every page needs both `can_see_billing` and `sees_all_billing`."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_http_methods, require_safe

from billing import permissions
from billing.audit import audit
from billing.http import OrgRequest, member_required
from billing.listing import paginate, render_list
from billing.models import ZERO
from payments import era_codes, era_selectors, tasks
from payments.era_forms import MAX_FILES, EraUploadForm
from payments.ingestion import era_file_store
from payments.models import Era, EraFile

LIST = "payments/era_list.html"
DETAIL = "payments/era_detail.html"
UPLOAD = "payments/era_upload.html"
ROWS_TARGET = "era-rows"
PROGRESS_TARGET = "era-progress"


def eras_access(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Membership plus both billing codes (seed 003); 403 without either."""
    codes = (permissions.CAN_SEE_BILLING, permissions.SEES_ALL_BILLING)
    return member_required(permission_required(codes, raise_exception=True)(view))


def _get_era(request: OrgRequest, pk: int) -> Era:
    era = era_selectors.era_get(request.organization, pk)
    if era is None:
        raise Http404("No such ERA.")
    return era


def _get_era_file(request: OrgRequest, pk: int) -> EraFile:
    era_file = era_selectors.era_file_get(request.organization, pk)
    if era_file is None:
        raise Http404("No such ERA file.")
    return era_file


def _url(name: str, *args) -> str | None:
    """A page of the payments pages when it exists (they are built alongside)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


@require_safe
@eras_access
def era_list(request: OrgRequest) -> HttpResponse:
    review = request.GET.get("review") == "1"
    search = request.GET.get("q", "").strip()[:80]
    eras = era_selectors.eras_list(request.organization, review=review, search=search)
    context = {
        "page": paginate(request, eras),
        "files": era_selectors.era_files_recent(request.organization),
        "counts": era_selectors.era_counts(request.organization),
        "review": review,
        "search": search,
        "filtered": review or bool(search),
        "payments_url": _url("payment_list"),
    }
    return render_list(request, LIST, context, partial="rows", target=ROWS_TARGET)


@require_safe
@eras_access
def era_detail(request: OrgRequest, pk: int) -> HttpResponse:
    era = _get_era(request, pk)
    claims = list(era.claim_payments.all())
    carcs: dict[str, str] = {}
    rarcs: dict[str, str] = {}
    for claim_payment in claims:
        allowed = []
        for line in claim_payment.service_lines.all():
            line.patient_part = sum(
                (a.amount for a in line.adjustments.all() if a.group_code == "PR"), ZERO
            )
            if line.allowed_amount is not None:
                allowed.append(line.allowed_amount)
            for adjustment in line.adjustments.all():
                carcs[adjustment.reason_code] = era_codes.carc(adjustment.reason_code)
            for code in line.remark_codes:
                rarcs[code] = era_codes.rarc(code)
        claim_payment.allowed_total = sum(allowed, ZERO) if allowed else None
        for adjustment in claim_payment.claim_adjustments:
            carcs[adjustment.reason_code] = era_codes.carc(adjustment.reason_code)
        for code in claim_payment.remark_codes:
            rarcs[code] = era_codes.rarc(code)
    payment = getattr(era, "payment", None)  # none for a zero-pay notification
    context = {
        "era": era,
        "claims": claims,
        "carcs": sorted(carcs.items(), key=lambda item: (not item[0].isdigit(), item[0].zfill(4))),
        "rarcs": sorted(rarcs.items()),
        "totals": {
            "charge": sum(c.charge_amount for c in claims),
            "paid": sum(c.paid_amount for c in claims),
            "patient": sum(c.patient_responsibility or 0 for c in claims),
            "unmatched": sum(1 for c in claims if c.claim_id is None),
        },
        "payment": payment,
        "payment_url": _url("payment_edit", payment.pk) if payment is not None else None,
    }
    return render(request, DETAIL, context)


@require_safe
@eras_access
def era_file_download(request: OrgRequest, pk: int) -> HttpResponse:
    """The file exactly as it arrived. It names patients and their claims: an export of
    PHI, so each download is audited."""
    era_file = _get_era_file(request, pk)
    audit(
        organization=request.organization,
        actor=request.user,
        action="era.download",
        instance=era_file,
        new_values={
            "file_name": era_file.file_name,
            "sha256": era_file.sha256,
            "eras": list(era_file.eras.values_list("pk", flat=True)),
        },
    )
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", era_file.file_name or "") or f"era-{era_file.pk}.835"
    response = HttpResponse(era_file.content, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
@eras_access
def era_upload(request: OrgRequest) -> HttpResponse:
    form = EraUploadForm()
    if request.method == "POST":
        form = EraUploadForm(request.POST, request.FILES)
        if form.is_valid():
            ids = []
            for name, text in form.cleaned_data["files"]:
                era_file, created = era_file_store(
                    organization=request.organization,
                    actor=request.user,
                    content=text,
                    source=EraFile.Source.UPLOAD,
                    file_name=name,
                )
                if created or era_file.status == EraFile.Status.PENDING:
                    tasks.ingest_era_file.delay_on_commit(
                        organization_id=request.organization.pk, era_file_id=era_file.pk
                    )
                ids.append(era_file.pk)
            query = ",".join(str(pk) for pk in dict.fromkeys(ids))
            return redirect(f"{reverse('era_upload')}?files={query}")
    ids = [int(n) for n in re.findall(r"\d+", request.GET.get("files", ""))][:MAX_FILES]
    files = era_selectors.era_files_by_id(request.organization, ids) if ids else []
    context = {
        "form": form,
        "files": files,
        "files_query": ",".join(str(f.pk) for f in files),
        "working": any(f.status == EraFile.Status.PENDING for f in files),
        "done": sum(1 for f in files if f.status != EraFile.Status.PENDING),
        "recent": [] if ids else era_selectors.era_files_recent(request.organization, limit=8),
    }
    template = UPLOAD
    if request.htmx and request.htmx.target == PROGRESS_TARGET:
        template = f"{UPLOAD}#progress"
    response = render(request, template, context)
    response["Vary"] = "HX-Request"
    return response
