"""Stub: replaced by the helper that owns this area (issue 4)."""

from django.http import HttpResponse


def enrollment_list(request):
    return HttpResponse("enrollment_list")


def enrollment_quick_add(request):
    return HttpResponse("enrollment_quick_add")


def enrollment_edit(request, pk):
    return HttpResponse("enrollment_edit")


def enrollment_status(request, pk):
    return HttpResponse("enrollment_status")


def enrollment_remove(request, pk):
    return HttpResponse("enrollment_remove")
