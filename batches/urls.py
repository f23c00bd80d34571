from django.urls import path

from batches import views

urlpatterns = [
    path("pm/batch-history", views.batch_history, name="batch_history"),
    path("pm/batch-history/run", views.batch_wizard, name="batch_wizard"),
    path("pm/batch-history/start", views.batch_list_start, name="batch_list_start"),
    path("pm/batch-history/<int:pk>", views.batch_job_detail, name="batch_job_detail"),
    path("pm/batch-history/<int:pk>/cancel", views.batch_job_cancel, name="batch_job_cancel"),
    path("pm/batch-history/<int:pk>/retry", views.batch_job_retry, name="batch_job_retry"),
]
