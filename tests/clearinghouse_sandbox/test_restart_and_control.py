"""State and log survive a restart; the control API and page; the launcher."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from clearinghouse.management.commands.run_sandbox_clearinghouse import default_port
from tests.clearinghouse_sandbox import x12_files
from tests.sandbox import RunningSandbox

ROOT = Path(__file__).resolve().parents[2]


def test_state_and_log_survive_a_restart(sandbox_clearinghouse):
    sandbox = sandbox_clearinghouse
    base = sandbox.vendor_url("change_healthcare")
    token = sandbox.http.post(
        f"{base}/apip/auth/v2/token",
        data={"client_id": "c", "client_secret": "s", "grant_type": "client_credentials"},
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "k-restart"}
    text = x12_files.claims_837(x12_files.claim("PCN-RS1"))
    url = f"{base}/medicalnetwork/professionalclaims/v3/raw-x12-submission"
    first = sandbox.http.post(url, json={"x12": text}, headers=headers)
    enrollment = sandbox.http.post(
        f"{base}/enrollment/v1/enrollments",
        json={"payerId": "ACME1", "npi": "1234567893"},
        headers=headers | {"Idempotency-Key": "k-enroll"},
    ).json()
    sandbox.set_mode("waystar", "failing")
    sandbox.settings(slow_s=7)
    log_before = sandbox.log()
    port = sandbox.server.port

    sandbox.restart()

    assert sandbox.server.port == port
    assert sandbox.log() == log_before
    state = sandbox.state()
    assert state["modes"]["waystar"]["mode"] == "failing"
    assert state["settings"]["slow_s"] == 7
    # the token, the remembered answer, the mailbox and the enrollment are all still there
    again = sandbox.http.post(url, json={"x12": text}, headers=headers)
    assert again.content == first.content
    reports = sandbox.http.get(f"{base}/medicalnetwork/reports/v2", headers=headers).json()
    assert len(reports["reportNames"]) == 3
    status = sandbox.http.get(
        f"{base}/enrollment/v1/enrollments/{enrollment['id']}", headers=headers
    )
    assert status.json()["status"] == "APPROVED"
    assert len(sandbox.log(kind="837P")) == 1


def test_reset_forgets_everything_but_the_settings(sandbox_clearinghouse):
    sandbox_clearinghouse.http.post(
        f"{sandbox_clearinghouse.vendor_url('sandbox')}/api/v1/claims",
        content=x12_files.claims_837(x12_files.claim("PCN-RS2")),
    )
    sandbox_clearinghouse.set_mode("availity", "down")
    sandbox_clearinghouse.reset()
    state = sandbox_clearinghouse.state()
    assert sandbox_clearinghouse.log() == []
    assert state["counts"]["claims_accepted"] == 0
    assert state["modes"]["availity"]["mode"] == "healthy"
    assert state["settings"]["era_delay_s"] == 0  # the fixture's setting stays
    reports = sandbox_clearinghouse.http.get(
        f"{sandbox_clearinghouse.vendor_url('sandbox')}/api/v1/reports"
    ).json()
    assert reports == {"reports": []}


def test_the_settings_refuse_unknown_names_and_bad_values(sandbox_clearinghouse):
    url = f"{sandbox_clearinghouse.url}/_control/settings"
    unknown = sandbox_clearinghouse.http.post(url, json={"era_delay": 1})
    assert unknown.status_code == 400
    assert "unknown setting 'era_delay'" in unknown.json()["error"]
    assert sandbox_clearinghouse.http.post(url, json={"slow_s": "soon"}).status_code == 400
    assert sandbox_clearinghouse.settings(token_ttl_s=None)["token_ttl_s"] is None


def test_the_control_page_shows_modes_settings_and_the_log(sandbox_clearinghouse):
    sandbox_clearinghouse.http.post(
        f"{sandbox_clearinghouse.vendor_url('sandbox')}/api/v1/claims",
        content=x12_files.claims_837(x12_files.claim("PCN-PAGE")),
        headers={"Idempotency-Key": "key-on-page"},
    )
    sandbox_clearinghouse.set_mode("claim_md", "slow", slow_s=2)
    page = sandbox_clearinghouse.http.get(f"{sandbox_clearinghouse.url}/_control/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "<h1>Sandbox clearinghouse</h1>" in html
    assert 'data-testid="mode-claim_md">slow</span> <span class="muted">2 s</span>' in html
    assert 'data-testid="mode-waystar">healthy</span>' in html
    assert f"http://127.0.0.1:{sandbox_clearinghouse.server.port}/change_healthcare" in html
    assert "PCN-PAGE" in html
    assert "key-on-page" in html
    assert 'name="era_delay_s"' in html


def test_the_control_page_s_buttons_set_modes(sandbox_clearinghouse):
    response = sandbox_clearinghouse.http.post(
        f"{sandbox_clearinghouse.url}/_control/mode", data={"vendor": "availity", "mode": "down"}
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/_control/"
    assert sandbox_clearinghouse.state()["modes"]["availity"]["mode"] == "down"
    response = sandbox_clearinghouse.http.post(
        f"{sandbox_clearinghouse.url}/_control/settings",
        data={"era_delay_s": "2", "token_ttl_s": "", "slow_s": "1.5"},
    )
    assert response.status_code == 303
    settings = sandbox_clearinghouse.state()["settings"]
    assert (settings["era_delay_s"], settings["token_ttl_s"], settings["slow_s"]) == (2, None, 1.5)


def test_the_control_page_says_when_nothing_happened_yet(sandbox_clearinghouse):
    assert (
        "Nothing yet"
        in sandbox_clearinghouse.http.get(f"{sandbox_clearinghouse.url}/_control/").text
    )


def test_the_root_leads_to_the_control_page_and_unknown_faces_are_404(sandbox_clearinghouse):
    root = sandbox_clearinghouse.http.get(f"{sandbox_clearinghouse.url}/")
    assert (root.status_code, root.headers["location"]) == (302, "/_control/")
    assert sandbox_clearinghouse.http.get(f"{sandbox_clearinghouse.url}/optum/x").status_code == 404


def test_two_sandboxes_keep_separate_state(tmp_path):
    one = RunningSandbox(tmp_path / "one").start()
    two = RunningSandbox(tmp_path / "two").start()
    try:
        one.set_mode("sandbox", "down")
        assert two.state()["modes"]["sandbox"]["mode"] == "healthy"
    finally:
        one.stop()
        two.stop()


def test_the_default_port_comes_from_the_settings(settings):
    settings.SANDBOX_CLEARINGHOUSE_URL = "http://127.0.0.1:8123"
    assert default_port() == 8123
    settings.SANDBOX_CLEARINGHOUSE_URL = "http://sandbox.internal"
    assert default_port() == 8001


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_management_command_serves_the_sandbox(tmp_path):
    port = _free_port()
    env = {**os.environ, "DEBUG": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "run_sandbox_clearinghouse",
            "--port",
            str(port),
            "--data-dir",
            str(tmp_path / "data"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                state = httpx.get(f"http://127.0.0.1:{port}/_control/state", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the sandbox did not start: {process.stdout.read()}")
                time.sleep(0.1)
        assert state.json()["settings"]["era_delay_s"] == 5  # the defaults outside tests
        assert (tmp_path / "data" / "sandbox.sqlite3").exists()
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert f"Sandbox clearinghouse on http://127.0.0.1:{port}/" in output
    assert f"http://127.0.0.1:{port}/change_healthcare" in output


def test_the_sandbox_imports_neither_django_nor_the_project_s_apps():
    code = (
        "import sys, clearinghouse.sandbox.server; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'django', 'billing', 'payments'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
    models = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, clearinghouse.sandbox.server; "
            "print([m for m in sys.modules if m.startswith('clearinghouse.')])",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "clearinghouse.models" not in models.stdout
    assert "clearinghouse.vendors" not in models.stdout


def test_the_sandbox_logs_no_credentials_or_claims(sandbox_clearinghouse, caplog):
    caplog.set_level("DEBUG")
    http = sandbox_clearinghouse.http
    http.post(
        f"{sandbox_clearinghouse.vendor_url('change_healthcare')}/apip/auth/v2/token",
        data={
            "client_id": "c",
            "client_secret": "chc-secret-1",
            "grant_type": "client_credentials",
        },
    )
    http.post(
        f"{sandbox_clearinghouse.vendor_url('claim_md')}/services/upload/?AccountKey=url-key-2",
        data={"AccountKey": "claim-md-key-3"},
        files={"File": ("claims.837", x12_files.claims_837(x12_files.claim("PCN-LOG")))},
    )
    http.get(
        f"{sandbox_clearinghouse.vendor_url('waystar')}/api/v1/health", auth=("u", "waystar-pw-4")
    )
    sandbox_logs = "\n".join(
        r.getMessage() for r in caplog.records if r.name.startswith("clearinghouse.sandbox")
    )
    assert "POST /claim_md/services/upload/ -> 200" in sandbox_logs
    for secret in ("chc-secret-1", "url-key-2", "claim-md-key-3", "waystar-pw-4", "XYZ123456789"):
        assert secret not in sandbox_logs
    assert "claim-md-key-3" not in str(sandbox_clearinghouse.log())
