"""Stub: replaced by the helper that owns this area (issue 3)."""

from django.http import HttpResponse


def appointment_list(request):
    return HttpResponse("appointment_list")


def appointment_add(request):
    return HttpResponse("appointment_add")


def appointment_edit(request, pk):
    return HttpResponse("appointment_edit")
