"""Claim follow-up: the rejections worklist, Resubmit (a rejected claim as a new version, or
the current version again when its outcome is open), and Replace/Void of an accepted or
adjudicated claim.

Viewing needs can_see_billing; sending needs pm.charges.edit. The sending views run outside
the request's transaction (they wait on a clearinghouse) and enter `tenant_context` around
each piece of database work.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from billing import permissions
from billing.forms.binding import add_service_errors, posted_data
from billing.http import OrgRequest, code_required, outside_request_transaction
from billing.listing import paginate, render_list
from billing.models import Claim, Payer
from billing.selectors import claims as claim_selectors
from billing.tenancy import tenant_context
from clearinghouse import followup
from clearinghouse import followup_selectors as selectors
from clearinghouse.models import ClaimSubmission, ClearinghouseConfig
from clearinghouse.router import RouteError
from clearinghouse.submission import claim_submit
from clearinghouse.vendor_services import vendor_words

CS = ClaimSubmission.Status
KINDS = {"replace": Claim.Frequency.REPLACEMENT, "void": Claim.Frequency.VOID}


def _get_claim(request: OrgRequest, pk: int) -> Claim:
    claim = claim_selectors.claim_for_page(request.organization, pk)
    if claim is None:
        raise Http404("No such claim.")
    return claim


def _next(request: OrgRequest, default: str) -> str:
    candidate = request.POST.get("next", "")
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


class RejectionFilterForm(forms.Form):
    payer = forms.ModelChoiceField(
        queryset=Payer.objects.none(), required=False, empty_label="All payers"
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["payer"].queryset = claim_selectors.claim_payers(organization)  # type: ignore[attr-defined]


@require_safe
@code_required(permissions.CAN_SEE_BILLING)
def claim_rejections(request: OrgRequest) -> HttpResponse:
    form = RejectionFilterForm(request.GET, organization=request.organization)
    payer = form.cleaned_data.get("payer") if form.is_valid() else None
    page = paginate(request, selectors.rejected_claims(request.organization, payer=payer))
    reasons = selectors.rejection_reasons(request.organization, list(page))
    now = timezone.now()
    for claim in page:
        claim.reason = reasons.get(claim.pk)
        claim.age_days = (now - claim.rejected_at).days if claim.rejected_at else None
    context = {
        "form": form,
        "page": page,
        "filtered": payer is not None,
        "can_resubmit": request.user.has_perm(permissions.CHARGES_EDIT),
        "list_url": request.get_full_path(),
    }
    return render_list(
        request,
        "clearinghouse/claim_rejections.html",
        context,
        partial="rows",
        target="rejection-rows",
    )


def _send(request: OrgRequest, claim: Claim, what: str) -> ClaimSubmission | None:
    """Send the claim's current version and say what happened, in words."""
    try:
        submission = claim_submit(
            organization=request.organization, actor=request.user, claim=claim
        )
    except (RouteError, ValidationError) as error:
        text = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        messages.error(request, f"Claim {claim.claim_number} was not sent: {text}")
        return None
    with tenant_context(request.organization):  # outside the request's transaction
        where = ClearinghouseConfig.objects.get(pk=submission.clearinghouse_id).display_name
    version = f"claim {claim.claim_number} version {submission.claim_version}"
    if submission.status in (CS.SENT, CS.ACCEPTED):
        messages.success(request, f"{what}: {version} sent to {where}.")
    elif submission.status == CS.REJECTED:
        messages.error(request, f"{where} refused {version}: {vendor_words(submission.message)}")
    elif submission.status == CS.UNKNOWN:
        messages.warning(
            request,
            f"{where} did not answer in time about {version}: it may have arrived. Use Send "
            f"again on the claim to settle it with {where} (same file, same key).",
        )
    else:
        messages.error(
            request,
            f"{version.capitalize()} did not reach {where} ({submission.message or 'no answer'})."
            " Nothing was sent; try again.",
        )
    return submission


@outside_request_transaction
@require_POST
@code_required(permissions.CHARGES_EDIT)
def claim_resubmit(request: OrgRequest, pk: int) -> HttpResponse:
    with tenant_context(request.organization):
        claim = _get_claim(request, pk)
        back = _next(request, reverse("claim_detail", args=[claim.pk]))
        try:
            claim = followup.claim_resubmission_prepare(
                organization=request.organization, actor=request.user, claim=claim
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(back)
    _send(request, claim, "Resubmitted")
    return redirect(back)


class CorrectionForm(forms.Form):
    payer_claim_control_number = forms.CharField(
        label="Payer claim control number",
        max_length=50,
        help_text="The payer's number for the claim (CLP07 of its ERA); it goes in REF*F8.",
    )


@outside_request_transaction
@require_http_methods(["GET", "HEAD", "POST"])
@code_required(permissions.CHARGES_EDIT)
def claim_correct(request: OrgRequest, pk: int, kind: str) -> HttpResponse:
    frequency = KINDS.get(kind)
    if frequency is None:
        raise Http404("No such correction.")
    with tenant_context(request.organization):
        claim = _get_claim(request, pk)
        initial = {
            "payer_claim_control_number": selectors.payer_claim_control_number(
                request.organization, claim
            )
        }
        form = CorrectionForm(posted_data(request), initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                claim = followup.claim_correction_prepare(
                    organization=request.organization,
                    actor=request.user,
                    claim=claim,
                    frequency_code=frequency,
                    payer_claim_control_number=form.cleaned_data["payer_claim_control_number"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                form = None
        if form is not None:
            context = {
                "claim": claim,
                "form": form,
                "kind": kind,
                "action_url": reverse(f"claim_{kind}", args=[claim.pk]),
                "frequency": frequency,
                "correctable": claim.status in followup.CORRECTABLE,
            }
            return render(request, "clearinghouse/claim_correction.html", context)
    _send(request, claim, "Replacement" if kind == "replace" else "Void")
    return redirect("claim_detail", pk=claim.pk)
