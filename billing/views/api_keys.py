"""Stub: replaced by the helper that owns this area (issue 3)."""

from django.http import HttpResponse


def api_key_list(request):
    return HttpResponse("api_key_list")
