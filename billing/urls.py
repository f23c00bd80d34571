from django.contrib.auth import views as auth_views
from django.urls import path

from billing import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("organization/switch", views.organization_switch, name="organization_switch"),
    path("pm/audit", views.audit_log, name="audit_log"),
]
