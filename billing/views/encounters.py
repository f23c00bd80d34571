"""Stub: replaced by the helper that owns this area (issue 3)."""

from django.http import HttpResponse


def encounter_add(request, pk):
    return HttpResponse("encounter_add")


def encounter_detail(request, pk):
    return HttpResponse("encounter_detail")


def encounter_edit(request, pk):
    return HttpResponse("encounter_edit")


def patient_payment_add(request, pk):
    return HttpResponse("patient_payment_add")
