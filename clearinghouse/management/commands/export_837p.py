"""Print the 837P interchange that would be sent, so anyone can inspect it."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from billing.models import Claim, Organization
from billing.tenancy import tenant_context
from clearinghouse import selectors
from clearinghouse.claim_files import build_837p


class Command(BaseCommand):
    help = (
        "Write to standard output the 837P interchange for an organization's claims (default: "
        "all claims ready to submit) through one clearinghouse (default: its only active one). "
        "Claims that cannot go there are listed on standard error. Takes a real control number."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, metavar="SLUG", help="the organization's slug")
        parser.add_argument("--clearinghouse", type=int, metavar="ID", help="configuration id")
        parser.add_argument(
            "--claim", type=int, action="append", metavar="ID", help="a claim id (repeatable)"
        )
        parser.add_argument("--test", action="store_true", help="mark the file as test (ISA15 T)")

    def handle(self, *args, **options):
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            raise CommandError(f"No organization with the slug {options['org']!r}.")
        with tenant_context(organization):
            clearinghouse = self._clearinghouse(organization, options["clearinghouse"])
            claims = (
                Claim.objects.for_organization(organization)
                .select_related("encounter__patient", "encounter__provider", "payer", "coverage")
                .prefetch_related("charges")
                .order_by("pk")
            )
            if options["claim"]:
                claims = claims.filter(pk__in=options["claim"])
                missing = set(options["claim"]) - {c.pk for c in claims}
                if missing:
                    raise CommandError(
                        f"No claim with id {', '.join(map(str, sorted(missing)))} in "
                        f"{organization}."
                    )
            else:
                claims = claims.filter(status=Claim.Status.READY)
            claim_file = build_837p(
                organization=organization,
                clearinghouse=clearinghouse,
                claims=claims,
                usage="T" if options["test"] else "P",
            )
        for claim, reason in claim_file.skipped:
            self.stderr.write(
                f"warning: skipped claim {claim.claim_number} (id {claim.pk}): {reason}"
            )
        if not claim_file.claims:
            raise CommandError(f"No claim to export through {clearinghouse}.")
        self.stdout.write(claim_file.text, ending="")
        self.stderr.write(
            f"{len(claim_file.claims)} claim(s) through {clearinghouse}, "
            f"interchange control number {claim_file.control_number}."
        )

    def _clearinghouse(self, organization: Organization, pk: int | None):
        if pk is not None:
            clearinghouse = selectors.clearinghouse_get(organization, pk)
            if clearinghouse is None:
                raise CommandError(f"No clearinghouse configuration {pk} in {organization}.")
            return clearinghouse
        clearinghouse = selectors.default_claim_clearinghouse(organization)
        if clearinghouse is None:
            choices = ", ".join(
                f"{c.pk} {c.display_name}"
                for c in selectors.clearinghouse_list(organization).filter(is_active=True)
            )
            raise CommandError(
                f"{organization} has no single active clearinghouse: pass --clearinghouse ID "
                f"(active: {choices or 'none'})."
            )
        return clearinghouse
