from django.urls import path

from payments.views import denials, eras, payments, unmatched

# No app_name: URL names are global ("payment_list", "era_detail", ...).
urlpatterns = [
    path("pm/payments", payments.payment_list, name="payment_list"),
    path("pm/payments/new", payments.payment_add, name="payment_add"),
    path("pm/payments/mark-deposited", payments.mark_deposited, name="payments_mark_deposited"),
    path(
        "pm/payments/reconciliation",
        payments.reconciliation,
        name="payments_reconciliation",
    ),
    path(
        "pm/payments/reconciliation/import",
        payments.reconciliation_import,
        name="payments_reconciliation_import",
    ),
    # ERAs (835 remittances): list, upload, one ERA, the raw file
    path("pm/payments/eras", eras.era_list, name="era_list"),
    path("pm/payments/eras/upload", eras.era_upload, name="era_upload"),
    path("pm/payments/eras/<int:pk>", eras.era_detail, name="era_detail"),
    path("pm/payments/eras/unmatched", unmatched.era_unmatched, name="era_unmatched"),
    path(
        "pm/payments/eras/unmatched/<int:pk>/match",
        unmatched.era_unmatched_match,
        name="era_unmatched_match",
    ),
    path(
        "pm/payments/eras/files/<int:pk>/download",
        eras.era_file_download,
        name="era_file_download",
    ),
    # denials worklist (claim lines denied or partly unpaid on an ERA)
    path("pm/claims/denials", denials.denial_list, name="denial_list"),
    path(
        "pm/claims/denials/<int:pk>/write-off",
        denials.denial_write_off_view,
        name="denial_write_off",
    ),
    path(
        "pm/claims/denials/<int:pk>/patient",
        denials.denial_to_patient_view,
        name="denial_to_patient",
    ),
    path("pm/payments/<int:pk>", payments.payment_edit, name="payment_edit"),
    path("pm/payments/<int:pk>/delete", payments.payment_delete, name="payment_delete"),
    path(
        "pm/payments/<int:pk>/deposit-status",
        payments.payment_deposit_status,
        name="payment_deposit_status",
    ),
]
