"""The sandbox clearinghouse as a pytest fixture: a real HTTP server on a free loopback port,
in a thread of the test process, on a temporary data directory.

Registered for the whole suite by tests/conftest.py. A test gets a fresh sandbox whose ERA
and enrollment delays are 0 (so answers are ready at once), talks to it over HTTP at
`sandbox.url` (a vendor config's base_url is `sandbox.vendor_url("change_healthcare")`), and
drives it through the control API:

    sandbox_clearinghouse.set_mode("availity", "timeout", timeout_hold_s=5)
    sandbox_clearinghouse.settings(token_ttl_s=2)
    sandbox_clearinghouse.log(kind="837P", vendor="waystar")  # the witness
    sandbox_clearinghouse.restart()  # same port, same data directory
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from clearinghouse.sandbox.server import SandboxClearinghouse

TEST_SETTINGS = {"era_delay_s": 0, "enrollment_delay_s": 0, "timeout_hold_s": 30}


class RunningSandbox:
    def __init__(self, data_dir: Path, *, port: int = 0):
        self.data_dir = data_dir
        self.server = SandboxClearinghouse(data_dir, port=port)
        self.http = httpx.Client(timeout=5)  # for the control API: one client, kept alive

    @property
    def url(self) -> str:
        return self.server.url

    def vendor_url(self, vendor: str) -> str:
        """The base_url a ClearinghouseConfig of `vendor` points at."""
        return f"{self.url}/{vendor}"

    def start(self) -> RunningSandbox:
        for attempt in range(20):  # a restart rebinds the same port, which may linger briefly
            try:
                self.server.start()
                break
            except OSError:
                if attempt == 19:
                    raise
                time.sleep(0.1)
        self._wait_until_it_answers()
        return self

    def stop(self) -> None:
        self.http.close()
        self.server.stop()

    def restart(self) -> RunningSandbox:
        """Stop and start again on the same port and data directory."""
        self.stop()
        self.server = SandboxClearinghouse(self.data_dir, port=self.server.port)
        self.http = httpx.Client(timeout=5)
        return self.start()

    def _wait_until_it_answers(self) -> None:
        deadline = time.monotonic() + 5
        while True:
            try:
                self.http.get(f"{self.url}/_control/state", timeout=1).raise_for_status()
                return
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    # --- the control API ----------------------------------------------------------------------

    def control(self, method: str, path: str, json: dict | None = None, **params) -> dict:
        """Call /_control/<path> and return its JSON (raising on an error status)."""
        response = self.http.request(
            method,
            f"{self.url}/_control/{path.lstrip('/')}",
            json=json,
            params={k: v for k, v in params.items() if v},
        )
        response.raise_for_status()
        return response.json()

    def state(self) -> dict:
        return self.control("GET", "state")

    def set_mode(self, vendor: str, mode: str, **options: float) -> dict:
        """healthy | slow (slow_s=) | failing | timeout (timeout_hold_s=) | down; vendor "all"."""
        return self.control("POST", "mode", {"vendor": vendor, "mode": mode, **options})

    def settings(self, **values: float | None) -> dict:
        return self.control("POST", "settings", values)

    def log(self, kind: str = "", vendor: str = "") -> list[dict]:
        return self.control("GET", "log", kind=kind, vendor=vendor)["entries"]

    def reset(self) -> dict:
        return self.control("POST", "reset")


@pytest.fixture
def sandbox_clearinghouse(tmp_path):
    sandbox = RunningSandbox(tmp_path / "sandbox-clearinghouse").start()
    sandbox.settings(**TEST_SETTINGS)
    try:
        yield sandbox
    finally:
        sandbox.stop()
