"""Lists of rows: pagination that keeps the filters, and the htmx partial switch."""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

PER_PAGE = 50


def paginate(request: HttpRequest, rows, per_page: int = PER_PAGE) -> Page:
    """The requested page of `rows`; an out-of-range or junk page number gives the nearest
    real page rather than an error."""
    return Paginator(rows, per_page).get_page(request.GET.get("page"))


def filters_query(request: HttpRequest) -> str:
    """The request's query string without `page`, for pager links that keep the filters."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def render_list(
    request: HttpRequest, template: str, context: dict, *, partial: str, target: str
) -> HttpResponse:
    """The whole page, or only `partial` when htmx asks for the element `target`."""
    if getattr(request, "htmx", False) and request.htmx.target == target:
        template = f"{template}#{partial}"
    response = render(request, template, {"filters_query": filters_query(request), **context})
    response["Vary"] = "HX-Request"
    return response
