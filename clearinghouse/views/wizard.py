"""Stub: replaced by the helper that owns this area (issue 4)."""

from django.http import HttpResponse


def enrollment_wizard(request):
    return HttpResponse("enrollment_wizard")
