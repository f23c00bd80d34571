from django.urls import path

from clearinghouse.views import (
    claim_followup,
    configs,
    eligibility,
    enrollments,
    failover,
    wizard,
)

urlpatterns = [
    path("pm/clearinghouse", configs.clearinghouse_list, name="clearinghouse_list"),
    path("pm/clearinghouse/new", configs.clearinghouse_add, name="clearinghouse_add"),
    path("pm/clearinghouse/<int:pk>", configs.clearinghouse_detail, name="clearinghouse_detail"),
    path("pm/clearinghouse/<int:pk>/baa", configs.clearinghouse_baa, name="clearinghouse_baa"),
    path(
        "pm/clearinghouse/<int:pk>/active",
        configs.clearinghouse_set_active,
        name="clearinghouse_set_active",
    ),
    path(
        "pm/clearinghouse/<int:pk>/test-connection",
        configs.clearinghouse_test_connection,
        name="clearinghouse_test_connection",
    ),
    path("pm/clearinghouse/failover", failover.failover_settings, name="failover_settings"),
    path(
        "pm/clearinghouse/failover/simulate/<int:pk>",
        failover.failover_simulate,
        name="failover_simulate",
    ),
    path("pm/clearinghouse/failover/routes", failover.payer_route_add, name="failover_route_add"),
    path(
        "pm/clearinghouse/failover/routes/<int:pk>",
        failover.payer_route_edit,
        name="failover_route_edit",
    ),
    path(
        "pm/clearinghouse/failover/routes/<int:pk>/delete",
        failover.payer_route_delete,
        name="failover_route_delete",
    ),
    path("pm/clearinghouse/enrollments", enrollments.enrollment_list, name="enrollment_list"),
    path(
        "pm/clearinghouse/enrollments/quick-add",
        enrollments.enrollment_quick_add,
        name="enrollment_quick_add",
    ),
    path(
        "pm/clearinghouse/enrollments/<int:pk>/edit",
        enrollments.enrollment_edit,
        name="enrollment_edit",
    ),
    path(
        "pm/clearinghouse/enrollments/<int:pk>/status",
        enrollments.enrollment_status,
        name="enrollment_status",
    ),
    path(
        "pm/clearinghouse/enrollments/<int:pk>/remove",
        enrollments.enrollment_remove,
        name="enrollment_remove",
    ),
    path(
        "pm/clearinghouse/enrollments/<int:pk>/submit",
        enrollments.enrollment_submit,
        name="enrollment_submit",
    ),
    path("pm/enrollment/new", wizard.enrollment_wizard, name="enrollment_wizard"),
    path(
        "pm/enrollment/new/discard",
        wizard.enrollment_wizard_discard,
        name="enrollment_wizard_discard",
    ),
    path("pm/enrollment/new/<slug:step>", wizard.enrollment_wizard, name="enrollment_wizard_step"),
    # eligibility checks (the result page is named patient_* for the Patients menu)
    path(
        "pm/coverages/<int:pk>/eligibility",
        eligibility.coverage_eligibility,
        name="coverage_eligibility",
    ),
    path(
        "pm/appointments/<int:pk>/eligibility",
        eligibility.appointment_eligibility,
        name="appointment_eligibility",
    ),
    path("pm/eligibility/<int:pk>", eligibility.eligibility_detail, name="patient_eligibility"),
    # claim follow-up (named claim_* for the Claims menu)
    path("pm/claims/rejections", claim_followup.claim_rejections, name="claim_rejections"),
    path("pm/claims/<int:pk>/resubmit", claim_followup.claim_resubmit, name="claim_resubmit"),
    path(
        "pm/claims/<int:pk>/replace",
        claim_followup.claim_correct,
        {"kind": "replace"},
        name="claim_replace",
    ),
    path(
        "pm/claims/<int:pk>/void", claim_followup.claim_correct, {"kind": "void"}, name="claim_void"
    ),
]
