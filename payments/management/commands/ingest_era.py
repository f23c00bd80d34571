"""`manage.py ingest_era FILE... --org SLUG`: ingest ERA 835 files from disk."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from billing.models import Organization
from payments.ingestion import IngestResult, era_file_ingest
from payments.models import EraFile


class Command(BaseCommand):
    help = (
        "Ingest ERA 835 files for an organization: each file in its own transaction, its "
        "payments posted to the claims they pay. A file ingested before is reported as already "
        "ingested (exit status 0); a file that cannot be read or does not balance is refused "
        "and nothing of it is posted (exit status 1)."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE", help="835 files to ingest")
        parser.add_argument("--org", required=True, metavar="SLUG", help="the organization's slug")

    def handle(self, *args, **options):
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            raise CommandError(f"No organization with the slug {options['org']!r}.")
        failed = 0
        for name in options["files"]:
            path = Path(name)
            try:
                content = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                reason = error.strerror if isinstance(error, OSError) else "not a UTF-8 text file"
                self.stderr.write(f"{name}: not read ({reason}).")
                failed += 1
                continue
            result = era_file_ingest(
                organization=organization,
                actor=None,
                content=content,
                source=EraFile.Source.COMMAND,
                file_name=path.name,
            )
            if result.refused:
                self.stderr.write(f"{name}: {result.message}")
                failed += 1
            else:
                self.stdout.write(self._report(name, result))
        if failed:
            total = len(options["files"])
            raise CommandError(f"{failed} of {total} file{'s' if total != 1 else ''} not ingested.")

    def _report(self, name: str, result: IngestResult) -> str:
        if result.already_ingested:
            done = result.era_file.ingested_at or result.era_file.received_at
            return (
                f"{name}: already ingested (ERA file #{result.era_file.pk}, "
                f"{timezone.localtime(done):%m/%d/%Y %H:%M}); nothing was posted again."
            )
        lines = [f"{name}: ingested: {result.message}"]
        if result.warnings:
            count = len(result.warnings)
            lines.append(f"  {count} warning{'s' if count != 1 else ''}:")
            lines += [f"  - {warning}" for warning in result.warnings]
        return "\n".join(lines)
