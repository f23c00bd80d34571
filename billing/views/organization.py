"""Stub: replaced by the helper that owns this area (issue 3)."""

from django.http import HttpResponse


def organization_settings(request):
    return HttpResponse("organization_settings")


def member_list(request):
    return HttpResponse("member_list")


def role_list(request):
    return HttpResponse("role_list")
