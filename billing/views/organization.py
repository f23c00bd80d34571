"""Organization settings: the organization's own details, its members and its roles.
Every page here needs pm.org.admin."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from billing import permissions
from billing.forms.binding import posted_data
from billing.forms.organization import (
    MemberAddForm,
    MemberRoleForm,
    OrganizationSettingsForm,
    RoleForm,
)
from billing.http import OrgRequest, code_required
from billing.models import ApiKey, Membership, Role
from billing.selectors import organization as selectors
from billing.services import api_keys as key_services
from billing.services import organization as services


def _get_membership(request: OrgRequest, pk: int) -> Membership:
    membership = (
        Membership.objects.select_related("user", "role")
        .filter(organization=request.organization, pk=pk)
        .first()
    )
    if membership is None:
        raise Http404("No such member.")
    return membership


def _get_role(request: OrgRequest, pk: int) -> Role:
    # Built-in roles have no organization, so they are never found here: read-only.
    role = Role.objects.filter(organization=request.organization, pk=pk).first()
    if role is None:
        raise Http404("No such role.")
    return role


def _get_member_api_key(request: OrgRequest, pk: int) -> ApiKey:
    key = ApiKey.objects.filter(organization=request.organization, pk=pk).first()
    if key is None:
        raise Http404("No such API key.")
    return key


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


# --- settings -------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@code_required(permissions.ORG_ADMIN)
def organization_settings(request: OrgRequest) -> HttpResponse:
    instance = selectors.organization_for_update(request.organization)
    data = posted_data(request)
    form = OrganizationSettingsForm(data, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            services.organization_update(
                organization=request.organization,
                actor=request.user,
                changes=form.cleaned_data,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if form.has_changed():
                messages.success(request, "Organization settings saved.")
            else:
                messages.info(request, "Nothing changed.")
            return redirect("organization_settings")
    return render(request, "billing/organization_settings.html", {"form": form, "tab": "settings"})


# --- members --------------------------------------------------------------------------------


def _member_page(
    request: OrgRequest,
    *,
    add_form: MemberAddForm | None = None,
    row_errors: dict[int, str] | None = None,
) -> HttpResponse:
    organization = request.organization
    context = {
        "tab": "members",
        "members": selectors.members(organization),
        "roles": list(selectors.assignable_roles(organization)),
        "add_form": add_form or MemberAddForm(organization=organization),
        "row_errors": row_errors or {},
        "member_keys": selectors.other_members_active_api_keys(organization, request.user),
    }
    return render(request, "billing/member_list.html", context)


@require_safe
@code_required(permissions.ORG_ADMIN)
def member_list(request: OrgRequest) -> HttpResponse:
    return _member_page(request)


@require_POST
@code_required(permissions.ORG_ADMIN)
def member_add(request: OrgRequest) -> HttpResponse:
    form = MemberAddForm(request.POST, organization=request.organization)
    if form.is_valid():
        data = form.cleaned_data
        try:
            membership = services.member_add(
                organization=request.organization,
                actor=request.user,
                username=data["username"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                role=data["role"],
                password=data["password"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                f"{membership.user.get_full_name()} ({membership.user.username}) "
                f"was added as {membership.role}.",
            )
            return redirect("member_list")
    return _member_page(request, add_form=form)


@require_POST
@code_required(permissions.ORG_ADMIN)
def member_change_role(request: OrgRequest, pk: int) -> HttpResponse:
    membership = _get_membership(request, pk)
    form = MemberRoleForm(request.POST, organization=request.organization)
    if not form.is_valid():
        return _member_page(request, row_errors={membership.pk: "Choose one of the roles."})
    try:
        services.member_change_role(
            organization=request.organization,
            actor=request.user,
            membership=membership,
            role=form.cleaned_data["role"],
        )
    except ValidationError as error:
        return _member_page(request, row_errors={membership.pk: _error_text(error)})
    messages.success(
        request, f"{membership.user.username} now has the role {form.cleaned_data['role']}."
    )
    return redirect("member_list")


@require_POST
@code_required(permissions.ORG_ADMIN)
def member_remove(request: OrgRequest, pk: int) -> HttpResponse:
    membership = _get_membership(request, pk)
    try:
        services.member_remove(
            organization=request.organization, actor=request.user, membership=membership
        )
    except ValidationError as error:
        return _member_page(request, row_errors={membership.pk: _error_text(error)})
    messages.success(
        request,
        f"{membership.user.username} is no longer a member of {request.organization}.",
    )
    return redirect("member_list")


@require_POST
@code_required(permissions.ORG_ADMIN)
def member_api_key_revoke(request: OrgRequest, pk: int) -> HttpResponse:
    key = _get_member_api_key(request, pk)
    key_services.api_key_revoke(organization=request.organization, actor=request.user, api_key=key)
    messages.success(request, f"The API key {key.prefix}… of {key.user.username} was revoked.")
    return redirect("member_list")


# --- roles ----------------------------------------------------------------------------------


def _role_page(request: OrgRequest, *, row_errors: dict[int, str] | None = None) -> HttpResponse:
    context = {
        "tab": "roles",
        "builtin_roles": selectors.builtin_roles(),
        "roles": selectors.organization_roles(request.organization),
        "codes": permissions.CODES,
        "row_errors": row_errors or {},
    }
    return render(request, "billing/role_list.html", context)


@require_safe
@code_required(permissions.ORG_ADMIN)
def role_list(request: OrgRequest) -> HttpResponse:
    return _role_page(request)


def _role_form_page(request: OrgRequest, form: RoleForm, role: Role | None) -> HttpResponse:
    return render(request, "billing/role_form.html", {"form": form, "role": role, "tab": "roles"})


@require_http_methods(["GET", "HEAD", "POST"])
@code_required(permissions.ORG_ADMIN)
def role_add(request: OrgRequest) -> HttpResponse:
    form = RoleForm(posted_data(request), organization=request.organization)
    if request.method == "POST" and form.is_valid():
        try:
            role = services.role_create(
                organization=request.organization,
                actor=request.user,
                name=form.cleaned_data["name"],
                codes=form.cleaned_data["codes"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"The role {role.name} was created.")
            return redirect("role_list")
    return _role_form_page(request, form, None)


@require_http_methods(["GET", "HEAD", "POST"])
@code_required(permissions.ORG_ADMIN)
def role_edit(request: OrgRequest, pk: int) -> HttpResponse:
    role = _get_role(request, pk)
    data = posted_data(request)
    form = RoleForm(
        data,
        organization=request.organization,
        role=role,
        initial={"name": role.name, "codes": role.codes},
    )
    if request.method == "POST" and form.is_valid():
        try:
            role = services.role_update(
                organization=request.organization,
                actor=request.user,
                role=role,
                name=form.cleaned_data["name"],
                codes=form.cleaned_data["codes"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"The role {role.name} was saved.")
            return redirect("role_list")
    return _role_form_page(request, form, role)


@require_POST
@code_required(permissions.ORG_ADMIN)
def role_delete(request: OrgRequest, pk: int) -> HttpResponse:
    role = _get_role(request, pk)
    try:
        services.role_delete(organization=request.organization, actor=request.user, role=role)
    except ValidationError as error:
        return _role_page(request, row_errors={role.pk: _error_text(error)})
    messages.success(request, f"The role {role.name} was deleted.")
    return redirect("role_list")
