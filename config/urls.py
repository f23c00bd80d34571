from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("billing.urls")),
    path("", include("clearinghouse.urls")),
    path("", include("batches.urls")),
]
