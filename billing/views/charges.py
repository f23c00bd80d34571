"""Stub: replaced by the helper that owns this area (issue 3)."""

from django.http import HttpResponse


def charge_list(request):
    return HttpResponse("charge_list")


def charge_add(request, pk):
    return HttpResponse("charge_add")


def charge_edit(request, pk):
    return HttpResponse("charge_edit")
