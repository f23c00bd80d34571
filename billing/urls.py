from django.contrib.auth import views as auth_views
from django.urls import path

from billing.views import (
    api_keys,
    appointments,
    charges,
    claims,
    core,
    encounters,
    organization,
    patients,
    payers,
)

urlpatterns = [
    path("", core.dashboard, name="dashboard"),
    path("login/", core.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("organization/switch", core.organization_switch, name="organization_switch"),
    path("pm/audit", core.audit_log, name="audit_log"),
    # payers
    path("pm/payers", payers.payer_list, name="payer_list"),
    path("pm/payers/new", payers.payer_add, name="payer_add"),
    path("pm/payers/<int:pk>/edit", payers.payer_edit, name="payer_edit"),
    # patients
    path("pm/patients", patients.patient_list, name="patient_list"),
    path("pm/patients/new", patients.patient_add, name="patient_add"),
    path("pm/patients/<int:pk>", patients.patient_detail, name="patient_detail"),
    path("pm/patients/<int:pk>/edit", patients.patient_edit, name="patient_edit"),
    path("pm/patients/<int:pk>/coverages/new", patients.coverage_add, name="coverage_add"),
    path("pm/coverages/<int:pk>/edit", patients.coverage_edit, name="coverage_edit"),
    path("pm/coverages/<int:pk>/end", patients.coverage_end, name="coverage_end"),
    # encounters
    path("pm/patients/<int:pk>/encounters/new", encounters.encounter_add, name="encounter_add"),
    path("pm/encounters/<int:pk>", encounters.encounter_detail, name="encounter_detail"),
    path("pm/encounters/<int:pk>/edit", encounters.encounter_edit, name="encounter_edit"),
    path(
        "pm/encounters/<int:pk>/payments/new",
        encounters.patient_payment_add,
        name="patient_payment_add",
    ),
    # charges
    path("pm/charges", charges.charge_list, name="charge_list"),
    path("pm/encounters/<int:pk>/charges/new", charges.charge_add, name="charge_add"),
    path("pm/charges/<int:pk>/edit", charges.charge_edit, name="charge_edit"),
    path("pm/charges/<int:pk>/void", charges.charge_void, name="charge_void"),
    # claims
    path("pm/claims", claims.claim_list, name="claim_list"),
    path("pm/claims/<int:pk>", claims.claim_detail, name="claim_detail"),
    # appointments
    path("pm/appointments", appointments.appointment_list, name="appointment_list"),
    path("pm/appointments/new", appointments.appointment_add, name="appointment_add"),
    path("pm/appointments/<int:pk>/edit", appointments.appointment_edit, name="appointment_edit"),
    # organization
    path("pm/settings", organization.organization_settings, name="organization_settings"),
    path("pm/settings/members", organization.member_list, name="member_list"),
    path("pm/settings/members/new", organization.member_add, name="member_add"),
    path(
        "pm/settings/members/<int:pk>/role",
        organization.member_change_role,
        name="member_change_role",
    ),
    path("pm/settings/members/<int:pk>/remove", organization.member_remove, name="member_remove"),
    path(
        "pm/settings/api-keys/<int:pk>/revoke",
        organization.member_api_key_revoke,
        name="member_api_key_revoke",
    ),
    path("pm/settings/roles", organization.role_list, name="role_list"),
    path("pm/settings/roles/new", organization.role_add, name="role_add"),
    path("pm/settings/roles/<int:pk>/edit", organization.role_edit, name="role_edit"),
    path("pm/settings/roles/<int:pk>/delete", organization.role_delete, name="role_delete"),
    # api_keys
    path("pm/account/api-keys", api_keys.api_key_list, name="api_key_list"),
    path("pm/account/api-keys/new", api_keys.api_key_create, name="api_key_create"),
    path("pm/account/api-keys/<int:pk>/revoke", api_keys.api_key_revoke, name="api_key_revoke"),
]
