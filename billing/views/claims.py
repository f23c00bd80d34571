"""Stub: replaced by the helper that owns this area (issue 3)."""

from django.http import HttpResponse


def claim_list(request):
    return HttpResponse("claim_list")


def claim_detail(request, pk):
    return HttpResponse("claim_detail")
