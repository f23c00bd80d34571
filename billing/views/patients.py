"""Stub: replaced by the helper that owns this area (issue 3)."""

from django.http import HttpResponse


def patient_list(request):
    return HttpResponse("patient_list")


def patient_add(request):
    return HttpResponse("patient_add")


def patient_detail(request, pk):
    return HttpResponse("patient_detail")


def patient_edit(request, pk):
    return HttpResponse("patient_edit")


def coverage_add(request, pk):
    return HttpResponse("coverage_add")


def coverage_edit(request, pk):
    return HttpResponse("coverage_edit")


def coverage_end(request, pk):
    return HttpResponse("coverage_end")
