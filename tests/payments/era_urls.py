"""The project's URLs with an `era_detail` route, for tests of the ERA links whether or not
the ERA pages are installed."""

from django.http import HttpResponse
from django.urls import path

from config.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    *project_urlpatterns,
    path("pm/payments/eras/<int:pk>", lambda request, pk: HttpResponse(), name="era_detail"),
]
