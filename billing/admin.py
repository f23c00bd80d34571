"""The Django admin, scoped like every page: a staff member sees and changes only the
active organization's rows, needs `pm.org.admin` there, and every change is audited."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db.models import Q

from billing import models, permissions
from billing.audit import audit, model_values


def _is_org_admin(request) -> bool:
    return getattr(request, "organization", None) is not None and request.user.has_perm(
        permissions.ORG_ADMIN
    )


class OrgAdminPermissions:
    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_staff and _is_org_admin(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)


class TenantAdmin(OrgAdminPermissions, admin.ModelAdmin):
    exclude = ("organization",)
    list_per_page = 50

    def get_queryset(self, request):
        return super().get_queryset(request).filter(organization=request.organization)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        if issubclass(related, models.TenantModel):
            kwargs["queryset"] = related.objects.filter(organization=request.organization)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        related = db_field.related_model
        if issubclass(related, models.TenantModel):
            kwargs["queryset"] = related.objects.filter(organization=request.organization)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.organization = request.organization
        old = model_values(type(obj).objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)
        audit(
            organization=request.organization,
            actor=request.user,
            action=f"admin.{'change' if change else 'add'}",
            instance=obj,
            old_values=old,
            new_values=model_values(obj),
        )

    def delete_model(self, request, obj):
        old = model_values(obj)
        audit(
            organization=request.organization,
            actor=request.user,
            action="admin.delete",
            instance=obj,
            old_values=old,
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


class ReadOnlyTenantAdmin(TenantAdmin):
    """Ledger and audit rows change only through services, never by hand."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(models.Organization)
class OrganizationAdmin(OrgAdminPermissions, admin.ModelAdmin):
    list_display = ("name", "slug", "time_zone", "employer_collections_enabled")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(pk=getattr(request.organization, "pk", None))

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        old = model_values(models.Organization.objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)
        audit(
            organization=obj,
            actor=request.user,
            action="admin.change" if change else "admin.add",
            instance=obj,
            old_values=old,
            new_values=model_values(obj),
        )


@admin.register(models.Membership)
class MembershipAdmin(TenantAdmin):
    list_display = ("user", "role", "created_at")
    raw_id_fields = ("user",)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "role":
            kwargs["queryset"] = models.Role.objects.filter(
                Q(organization=request.organization) | Q(organization__isnull=True)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(models.Role)
class RoleAdmin(TenantAdmin):
    list_display = ("name", "is_builtin")

    def get_queryset(self, request):
        return models.Role.objects.filter(
            Q(organization=request.organization) | Q(organization__isnull=True)
        )

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and not (obj and obj.is_builtin)

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and not (obj and obj.is_builtin)


@admin.register(models.User)
class AppUserAdmin(UserAdmin):
    """Accounts span organizations, so only superusers manage them here."""

    def has_module_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    has_change_permission = has_view_permission
    has_add_permission = has_module_permission
    has_delete_permission = has_view_permission


@admin.register(models.Payer)
class PayerAdmin(TenantAdmin):
    list_display = ("name", "payer_id", "city", "state")
    search_fields = ("name", "payer_id")


@admin.register(models.Provider)
class ProviderAdmin(TenantAdmin):
    list_display = ("last_name", "first_name", "credential", "npi", "taxonomy_code")
    search_fields = ("last_name", "npi")


@admin.register(models.Patient)
class PatientAdmin(TenantAdmin):
    list_display = ("account_number", "last_name", "first_name", "birth_date", "sex")
    search_fields = ("last_name", "first_name", "account_number")


@admin.register(models.Coverage)
class CoverageAdmin(TenantAdmin):
    list_display = ("patient", "payer", "member_id", "order", "effective_from", "effective_to")
    search_fields = ("member_id", "patient__last_name")
    raw_id_fields = ("patient",)


@admin.register(models.Employer)
class EmployerAdmin(TenantAdmin):
    list_display = ("guarantor_id", "name", "is_tpa", "contact_name", "phone")
    search_fields = ("name", "guarantor_id")


@admin.register(models.Appointment)
class AppointmentAdmin(TenantAdmin):
    list_display = ("scheduled_at", "patient", "provider", "status")
    list_filter = ("status",)
    raw_id_fields = ("patient",)


@admin.register(models.Encounter)
class EncounterAdmin(TenantAdmin):
    list_display = ("date_of_service", "patient", "provider", "place_of_service")
    raw_id_fields = ("patient", "appointment")


@admin.register(models.Charge)
class ChargeAdmin(TenantAdmin):
    list_display = ("encounter", "procedure_code", "units", "amount", "status")
    list_filter = ("status",)
    raw_id_fields = ("encounter",)


@admin.register(models.Claim)
class ClaimAdmin(TenantAdmin):
    list_display = ("claim_number", "payer", "status", "total", "version", "submitted_at")
    list_filter = ("status",)
    raw_id_fields = ("encounter", "coverage", "charges")


@admin.register(models.LedgerEntry)
class LedgerEntryAdmin(ReadOnlyTenantAdmin):
    list_display = ("posted_at", "encounter", "kind", "amount", "source_table", "source_id")
    list_filter = ("kind",)


@admin.register(models.AuditLog)
class AuditLogAdmin(ReadOnlyTenantAdmin):
    list_display = ("created_at", "actor", "action", "table_name", "record_id")
    list_filter = ("action",)
