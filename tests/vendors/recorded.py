"""Contract-test helpers for the OAuth vendors: recorded exchanges, a scripted
`httpx.MockTransport` that checks each request against its recording and answers with the
recorded response, and a fake clock for the token cache and the time budget.

A fixture file (fixtures/<vendor>/<name>.json) is `{"description", "exchanges": [{"request":
{"method", "path", "headers", and one of "form"/"json"/"text"}, "response": {"status",
"headers", and one of "json"/"text"}}]}`. Paths are relative to the config's base URL.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from clearinghouse.vendors import http, oauth

FIXTURES = Path(__file__).parent / "fixtures"


def load(vendor: str, *names: str) -> list[dict]:
    """The exchanges of the named fixtures, in order."""
    exchanges = []
    for name in names:
        exchanges += json.loads((FIXTURES / vendor / f"{name}.json").read_text())["exchanges"]
    return exchanges


def request_of(vendor: str, name: str, index: int = 0) -> dict:
    return load(vendor, name)[index]["request"]


def response_of(vendor: str, name: str, index: int = 0) -> dict:
    return load(vendor, name)[index]["response"]


def answer(recorded: dict) -> httpx.Response:
    headers = dict(recorded.get("headers") or {})
    if "json" in recorded:
        return httpx.Response(recorded["status"], headers=headers, json=recorded["json"])
    return httpx.Response(recorded["status"], headers=headers, text=recorded.get("text", ""))


def check(request: httpx.Request, recorded: dict, base_path: str = "") -> None:
    """Assert that `request` is the recorded one: method, path, headers, body."""
    where = f"{request.method} {request.url.path}"
    assert request.method == recorded["method"], where
    assert request.url.raw_path.decode() == base_path + recorded["path"], where
    for name, value in recorded["headers"].items():
        assert request.headers.get(name) == value, f"{where}: header {name}"
    body = request.content
    if "form" in recorded:
        form = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
        assert form == recorded["form"], where
    elif "json" in recorded:
        assert json.loads(body) == recorded["json"], where
    elif "text" in recorded:
        assert body.decode() == recorded["text"], where
    else:
        assert body == b"", where


Handler = Callable[[httpx.Request], httpx.Response]


class Script:
    """Expects the exchanges in order; an entry may also be a callable handler (to raise a
    transport error or answer something unrecorded)."""

    def __init__(self, exchanges: list[dict | Handler], base_url: str):
        self.pending = list(exchanges)
        self.base_path = urlsplit(base_url).path.rstrip("/")
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.seen.append(request)
        assert self.pending, f"unexpected request {request.method} {request.url}"
        step = self.pending.pop(0)
        if callable(step):
            return step(request)
        check(request, step["request"], self.base_path)
        return answer(step["response"])

    def done(self) -> None:
        assert not self.pending, f"{len(self.pending)} recorded request(s) never made"


def install(monkeypatch, handler: Handler) -> None:
    """Route every adapter client through `handler` (http.client keeps its signature)."""

    def client(timeout_s: float) -> httpx.Client:
        transport = httpx.MockTransport(handler)
        return httpx.Client(transport=transport, timeout=httpx.Timeout(timeout_s))

    monkeypatch.setattr(http, "client", client)


class FakeClock:
    """Wall and monotonic time that only move when slept (or `advance`d)."""

    def __init__(self, start: float = 1_800_000_000.0):
        self.now = start
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


def use_fake_clock(monkeypatch) -> FakeClock:
    clock = FakeClock()
    monkeypatch.setattr(oauth, "clock", clock)
    return clock
