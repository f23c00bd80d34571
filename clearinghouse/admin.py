from django.contrib import admin

from billing.admin import TenantAdmin
from clearinghouse.models import ClearinghouseConfig, PayerEnrollment


@admin.register(ClearinghouseConfig)
class ClearinghouseConfigAdmin(TenantAdmin):
    """Credentials are not editable here: the configuration page keeps them write-only."""

    list_display = ("display_name", "vendor", "base_url", "baa_on_file", "is_active")
    list_filter = ("vendor", "is_active")
    exclude = ("organization", "credentials_encrypted")


@admin.register(PayerEnrollment)
class PayerEnrollmentAdmin(TenantAdmin):
    list_display = ("payer", "clearinghouse", "electronic_payer_id", "enrollment_status")
    list_filter = ("enrollment_status",)
    search_fields = ("electronic_payer_id",)
