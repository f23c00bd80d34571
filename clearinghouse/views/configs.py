"""Stub: replaced by the helper that owns this area (issue 4)."""

from django.http import HttpResponse


def clearinghouse_list(request):
    return HttpResponse("clearinghouse_list")


def clearinghouse_add(request):
    return HttpResponse("clearinghouse_add")


def clearinghouse_detail(request, pk):
    return HttpResponse("clearinghouse_detail")


def clearinghouse_baa(request, pk):
    return HttpResponse("clearinghouse_baa")


def clearinghouse_set_active(request, pk):
    return HttpResponse("clearinghouse_set_active")
