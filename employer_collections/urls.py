from django.urls import path

from employer_collections import views

# No app_name: URL names are global, as in the other apps.
urlpatterns = [
    path("pm/statements", views.statements, name="statements"),
    path("pm/collections/", views.collections_list, name="collections_list"),
    path("pm/collections/remove", views.collections_remove, name="collections_remove"),
    path("pm/collections/exports", views.export_create, name="collections_export_create"),
    path(
        "pm/collections/exports/<int:pk>.<str:file_format>",
        views.export_download,
        name="collections_export_download",
    ),
    path("pm/collections/pre-collections", views.precollections, name="precollections"),
    path(
        "pm/collections/pre-collections/make",
        views.precollections_make,
        name="precollections_make",
    ),
    path(
        "pm/collections/pre-collections/select",
        views.precollections_select,
        name="precollections_select",
    ),
    path(
        "pm/collections/pre-collections/set-action",
        views.precollections_set_action,
        name="precollections_set_action",
    ),
    path(
        "pm/collections/pre-collections/apply",
        views.precollections_apply,
        name="precollections_apply",
    ),
    path(
        "pm/collections/encounters/<int:pk>/to-collections",
        views.encounter_to_collections,
        name="collections_encounter_send",
    ),
    path(
        "pm/collections/patients/<int:pk>/send",
        views.patient_send_to_collections,
        name="collections_patient_send",
    ),
]
