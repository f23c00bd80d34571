"""Run the sandbox clearinghouse: every vendor face the adapters speak, on one port."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from clearinghouse.sandbox.server import SandboxClearinghouse, describe


def default_port() -> int:
    return urlsplit(settings.SANDBOX_CLEARINGHOUSE_URL).port or 8001


class Command(BaseCommand):
    help = (
        "Serve the sandbox clearinghouse (Waystar, Availity, Change Healthcare, Claim.MD and "
        "the sandbox's own face) until interrupted. Its state lives in --data-dir."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--port",
            type=int,
            default=None,
            help="port to listen on (default: the port of SANDBOX_CLEARINGHOUSE_URL, 8001)",
        )
        parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
        parser.add_argument(
            "--data-dir",
            default=None,
            help="folder of the sandbox's SQLite state (default: .local/sandbox/ under LOCAL_DIR)",
        )

    def handle(self, *args, **options):
        port = options["port"] if options["port"] is not None else default_port()
        local = Path(getattr(settings, "LOCAL_DIR", Path(settings.BASE_DIR) / ".local"))
        data_dir = Path(options["data_dir"] or local / "sandbox")
        sandbox_logger = logging.getLogger("clearinghouse.sandbox")
        if not sandbox_logger.handlers:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("%(asctime)s sandbox %(message)s"))
            sandbox_logger.addHandler(handler)
            sandbox_logger.setLevel(logging.INFO)
            sandbox_logger.propagate = False
        sandbox = SandboxClearinghouse(data_dir, host=options["host"], port=port)
        try:
            sandbox.bind()
        except OSError as error:
            raise CommandError(f"Cannot listen on {options['host']}:{port}: {error}") from error
        self.stdout.write(describe(sandbox))
        self.stdout.flush()
        try:
            sandbox.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("Sandbox clearinghouse stopped.")
