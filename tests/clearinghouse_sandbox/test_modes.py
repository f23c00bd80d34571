"""Modes per vendor face: healthy, slow, failing (503), timeout (held), down (dropped)."""

from __future__ import annotations

import time

import httpx
import pytest


def health(sandbox, vendor: str = "sandbox", timeout: float = 5) -> httpx.Response:
    return sandbox.http.get(f"{sandbox.vendor_url(vendor)}/api/v1/health", timeout=timeout)


def test_slow_mode_answers_after_the_delay(sandbox_clearinghouse):
    sandbox_clearinghouse.set_mode("sandbox", "slow", slow_s=0.4)
    started = time.monotonic()
    assert health(sandbox_clearinghouse).status_code == 200
    assert time.monotonic() - started >= 0.4


def test_slow_mode_outlasts_a_short_client_timeout(sandbox_clearinghouse):
    sandbox_clearinghouse.set_mode("sandbox", "slow", slow_s=1)
    with pytest.raises(httpx.ReadTimeout):
        health(sandbox_clearinghouse, timeout=0.2)


def test_failing_mode_answers_503(sandbox_clearinghouse):
    sandbox_clearinghouse.set_mode("sandbox", "failing")
    response = health(sandbox_clearinghouse)
    assert response.status_code == 503
    assert "failing" in response.json()["message"]


def test_timeout_mode_holds_the_connection_without_an_answer(sandbox_clearinghouse):
    sandbox_clearinghouse.set_mode("sandbox", "timeout", timeout_hold_s=10)
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        health(sandbox_clearinghouse, timeout=0.3)
    assert time.monotonic() - started < 2


def test_timeout_mode_drops_the_connection_after_the_hold(sandbox_clearinghouse):
    sandbox_clearinghouse.set_mode("sandbox", "timeout", timeout_hold_s=0.2)
    with pytest.raises(httpx.RemoteProtocolError):
        health(sandbox_clearinghouse, timeout=5)


def test_down_mode_closes_the_connection_without_a_response(sandbox_clearinghouse):
    sandbox_clearinghouse.set_mode("sandbox", "down")
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        health(sandbox_clearinghouse)
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        sandbox_clearinghouse.http.post(
            f"{sandbox_clearinghouse.vendor_url('sandbox')}/api/v1/claims", content="x" * 10
        )


def test_a_mode_touches_only_its_own_face_and_never_the_control_api(sandbox_clearinghouse):
    sandbox_clearinghouse.set_mode("sandbox", "down")
    response = sandbox_clearinghouse.http.get(
        f"{sandbox_clearinghouse.vendor_url('waystar')}/api/v1/health", auth=("a", "b")
    )
    assert response.status_code == 200
    assert sandbox_clearinghouse.state()["modes"]["sandbox"]["mode"] == "down"


def test_healthy_mode_brings_a_face_back(sandbox_clearinghouse):
    sandbox_clearinghouse.set_mode("all", "failing")
    assert health(sandbox_clearinghouse).status_code == 503
    sandbox_clearinghouse.set_mode("all", "healthy")
    assert health(sandbox_clearinghouse).status_code == 200
    assert {m["mode"] for m in sandbox_clearinghouse.state()["modes"].values()} == {"healthy"}


def test_a_failing_face_neither_logs_nor_remembers(sandbox_clearinghouse):
    sandbox_clearinghouse.set_mode("sandbox", "failing")
    response = sandbox_clearinghouse.http.post(
        f"{sandbox_clearinghouse.vendor_url('sandbox')}/api/v1/eligibility",
        content="ISA",
        headers={"Idempotency-Key": "k"},
    )
    assert response.status_code == 503
    assert sandbox_clearinghouse.log() == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"vendor": "nobody", "mode": "down"}, "unknown vendor 'nobody'"),
        ({"vendor": "sandbox", "mode": "asleep"}, "unknown mode 'asleep'"),
        ({"vendor": "sandbox", "mode": "slow", "slow_s": -1}, "slow_s must be between"),
    ],
)
def test_the_control_api_refuses_a_bad_mode(sandbox_clearinghouse, body, message):
    response = sandbox_clearinghouse.http.post(
        f"{sandbox_clearinghouse.url}/_control/mode", json=body
    )
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert sandbox_clearinghouse.state()["modes"]["sandbox"]["mode"] == "healthy"
