from django.contrib.auth import views as auth_views
from django.urls import path

from billing.views import core

urlpatterns = [
    path("", core.dashboard, name="dashboard"),
    path("login/", core.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("organization/switch", core.organization_switch, name="organization_switch"),
    path("pm/audit", core.audit_log, name="audit_log"),
]
