"""Stub: replaced by the helper that owns this area (issue 4)."""

from django.http import HttpResponse


def payer_list(request):
    return HttpResponse("payer_list")


def payer_add(request):
    return HttpResponse("payer_add")


def payer_edit(request, pk):
    return HttpResponse("payer_edit")
