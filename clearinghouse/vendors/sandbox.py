"""The sandbox clearinghouse's own generic face: Waystar's paths and shapes, auth optional.

It is a demo and test clearinghouse of this project (`manage.py run_sandbox_clearinghouse`).
The face needs no credentials, but keys its accounts (mailboxes, claims, ERAs) by the
HTTP Basic user when one is sent: so the config's account id is sent as that user (with
the secret, which may be empty) when it is set, and organizations get separate
mailboxes. Without an account id nothing is sent and the face's default account answers.
"""

from __future__ import annotations

import httpx

from clearinghouse.vendors.waystar import WaystarAdapter


class SandboxAdapter(WaystarAdapter):
    vendor = "sandbox"

    def auth(self) -> httpx.Auth | None:
        if not self.settings.account_id:
            return None
        return httpx.BasicAuth(self.settings.account_id, self.settings.secret)
