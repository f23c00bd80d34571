from __future__ import annotations

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator

from billing import permissions
from billing.models import Organization, Role, User
from billing.selectors import organization as selectors
from billing.validators import validate_time_zone

US_TIME_ZONES = [
    ("America/New_York", "Eastern — New York"),
    ("America/Detroit", "Eastern — Detroit"),
    ("America/Indiana/Indianapolis", "Eastern — Indianapolis"),
    ("America/Chicago", "Central — Chicago"),
    ("America/Denver", "Mountain — Denver"),
    ("America/Boise", "Mountain — Boise"),
    ("America/Phoenix", "Mountain, no daylight saving — Phoenix"),
    ("America/Los_Angeles", "Pacific — Los Angeles"),
    ("America/Anchorage", "Alaska — Anchorage"),
    ("America/Adak", "Hawaii-Aleutian — Adak"),
    ("Pacific/Honolulu", "Hawaii — Honolulu"),
    ("America/Puerto_Rico", "Atlantic — Puerto Rico, Virgin Islands"),
    ("Pacific/Guam", "Chamorro — Guam, Northern Mariana Islands"),
    ("Pacific/Pago_Pago", "Samoa — American Samoa"),
    ("UTC", "UTC"),
]


class OrganizationSettingsForm(forms.ModelForm):
    """Bind it to a fresh copy of the organization (the selector's): a ModelForm writes
    the posted values onto its instance while it validates."""

    time_zone = forms.ChoiceField(label="Time zone")

    class Meta:
        model = Organization
        fields = [
            "name",
            "time_zone",
            "billing_npi",
            "tax_id",
            "address_line1",
            "address_line2",
            "city",
            "state",
            "zip_code",
            "phone",
            "employer_collections_enabled",
        ]
        labels = {"name": "Organization name", "tax_id": "Tax id (EIN)"}
        help_texts = {
            "employer_collections_enabled": (
                "When on, balances owed by an employer or TPA (encounters with an employer "
                "guarantor) can go to pre-collections and collections, as patient balances do."
            ),
            "billing_npi": "The organization's type 2 NPI, 10 digits.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = list(US_TIME_ZONES)
        current = self.instance.time_zone
        if current and current not in dict(choices):
            # A zone set elsewhere (the admin) stays selectable, so saving keeps it.
            choices.insert(0, (current, current))
        self.fields["time_zone"].choices = choices
        self.fields["time_zone"].error_messages["invalid_choice"] = (
            "Choose one of the listed time zones."
        )
        self.fields["time_zone"].validators.append(validate_time_zone)

    def clean_state(self) -> str:
        return self.cleaned_data["state"].strip().upper()

    def clean_tax_id(self) -> str:
        return self.cleaned_data["tax_id"].strip()

    def clean_billing_npi(self) -> str:
        return self.cleaned_data["billing_npi"].strip()


class MemberAddForm(forms.Form):
    username = forms.CharField(
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text="Letters, digits and @ . + - _ only. Must be unused across the system.",
    )
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    email = forms.EmailField()
    role = forms.ModelChoiceField(queryset=Role.objects.none(), empty_label="Choose a role…")
    password = forms.CharField(
        label="Initial password",
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="At least 8 characters, not all digits, not a common password and not "
        "like the name. Give it to the member privately.",
    )
    password_again = forms.CharField(
        label="Password again", strip=False, widget=forms.PasswordInput(render_value=False)
    )

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].queryset = selectors.assignable_roles(organization)

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("That username is taken.")
        return username

    def clean(self) -> dict:
        cleaned = super().clean()
        password, again = cleaned.get("password"), cleaned.get("password_again")
        if password and again and password != again:
            self.add_error("password_again", "The two passwords do not match.")
        elif password:
            user = User(
                username=cleaned.get("username", ""),
                first_name=cleaned.get("first_name", ""),
                last_name=cleaned.get("last_name", ""),
                email=cleaned.get("email", ""),
            )
            try:
                validate_password(password, user=user)
            except forms.ValidationError as error:
                self.add_error("password", error)
        return cleaned


class MemberRoleForm(forms.Form):
    role = forms.ModelChoiceField(queryset=Role.objects.none())

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].queryset = selectors.assignable_roles(organization)


class RoleForm(forms.Form):
    name = forms.CharField(max_length=60)
    codes = forms.MultipleChoiceField(
        label="Permissions",
        choices=list(permissions.CODES.items()),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Pick at least one permission."},
    )

    def __init__(self, *args, organization: Organization, role: Role | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization, self.role = organization, role

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        problem = selectors.role_name_problem(self.organization, name, self.role)
        if problem:
            raise forms.ValidationError(problem)
        return name
