from django.contrib import admin
from django.urls import include, path

from payments.graphql.views import graphql

urlpatterns = [
    path("admin/", admin.site.urls),
    path("graphql", graphql, name="graphql"),
    path("", include("billing.urls")),
    path("", include("clearinghouse.urls")),
    path("", include("batches.urls")),
    path("", include("payments.urls")),
    path("", include("employer_collections.urls")),
]
