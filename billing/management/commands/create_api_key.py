"""`manage.py create_api_key --user NAME [--org SLUG] [--name LABEL]`: a new API key.

The key goes to stdout alone, once (only its hash is stored), so a script can capture it:
`KEY=$(manage.py create_api_key --user admin)`. What it is for goes to stderr. Without
`--org` the user's only organization is used; a member of several must name one.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from billing.models import Membership, User
from billing.services.api_keys import api_key_create
from billing.tenancy import tenant_context


class Command(BaseCommand):
    help = "Create an API key for a user in one of their organizations and print it once."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--user", required=True, help="Username of the key's holder.")
        parser.add_argument("--org", help="Organization slug (needed if the user has several).")
        parser.add_argument("--name", help="A label to tell the key apart (default: the date).")

    def handle(self, *args, **options) -> None:
        user = User.objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"No user named {options['user']!r}.")
        memberships = Membership.objects.filter(user=user).select_related("organization")
        if options["org"]:
            membership = memberships.filter(organization__slug=options["org"]).first()
            if membership is None:
                raise CommandError(f"{user.username} is not a member of {options['org']!r}.")
        else:
            found = list(memberships.order_by("organization__slug"))
            if not found:
                raise CommandError(f"{user.username} is not a member of any organization.")
            if len(found) > 1:
                slugs = ", ".join(m.organization.slug for m in found)
                raise CommandError(f"{user.username} belongs to several; pass --org ({slugs}).")
            membership = found[0]
        organization = membership.organization
        name = options["name"] or f"Command line key {timezone.localdate():%Y-%m-%d}"
        try:
            with tenant_context(organization):
                key, raw_key = api_key_create(organization=organization, actor=user, name=name)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        self.stderr.write(
            f"API key {key.name!r} ({key.prefix}…) for {user.username} in {organization.name}. "
            "It is shown only now: store it somewhere safe."
        )
        self.stdout.write(raw_key)
