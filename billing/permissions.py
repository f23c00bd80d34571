"""Permission codes (the seeds' strings, verbatim) and the built-in roles.

A member's codes come from the role of their membership in the active organization;
`billing.auth_backends.OrganizationPermissionBackend` answers `user.has_perm(code)` with
them.
"""

from __future__ import annotations

PAYERS_MANAGE = "pm.payers.manage"
PAYERS_EDIT = "pm.payers.edit"
PAYER_ENROLLMENTS_CREATE = "pm.payer_enrollments.create"
PAYER_ENROLLMENTS_EDIT = "pm.payer_enrollments.edit"
CLEARINGHOUSE_ADMIN = "pm.clearinghouse.admin"
BATCH_CLAIM_GENERATE = "pm.batch.claim_generate"
PATIENTS_EDIT = "pm.patients.edit"
CHARGES_EDIT = "pm.charges.edit"
ELIGIBILITY_CHECK = "pm.eligibility.check"
CAN_SEE_BILLING = "can_see_billing"
SEES_ALL_BILLING = "sees_all_billing"
COLLECTIONS_MANAGE = "pm.collections.manage"
COLLECTIONS_EXPORT = "pm.collections.export"
AUDIT_VIEW = "pm.audit.view"
ORG_ADMIN = "pm.org.admin"

CODES: dict[str, str] = {
    PAYERS_MANAGE: "Open payer, clearinghouse, enrollment and failover pages",
    PAYERS_EDIT: "Create and edit payers",
    PAYER_ENROLLMENTS_CREATE: "Create enrollments",
    PAYER_ENROLLMENTS_EDIT: "Edit, change status, remove enrollments",
    CLEARINGHOUSE_ADMIN: "Write clearinghouse configs, failover settings, payer routes",
    BATCH_CLAIM_GENERATE: "Batch history and batch operations",
    PATIENTS_EDIT: "Create and edit patients, coverages, encounters, appointments",
    CHARGES_EDIT: "Charge capture, claim edits, write-offs",
    ELIGIBILITY_CHECK: "Run an eligibility check",
    CAN_SEE_BILLING: "Billing information",
    SEES_ALL_BILLING: "Billing across the organization",
    COLLECTIONS_MANAGE: "Work pre-collections and collections lists",
    COLLECTIONS_EXPORT: "Create and download agency spreadsheets",
    AUDIT_VIEW: "Audit log",
    ORG_ADMIN: "Members, roles, other members' API keys, organization settings",
}

ORG_ADMIN_ROLE = "Org Admin"
BILLING_MANAGER_ROLE = "Billing Manager"
BILLING_CLERK_ROLE = "Billing Clerk"

BUILTIN_ROLES: dict[str, frozenset[str]] = {
    ORG_ADMIN_ROLE: frozenset(CODES),
    BILLING_MANAGER_ROLE: frozenset(CODES) - {CLEARINGHOUSE_ADMIN, ORG_ADMIN},
    BILLING_CLERK_ROLE: frozenset({PAYERS_MANAGE, ELIGIBILITY_CHECK, CAN_SEE_BILLING}),
}
