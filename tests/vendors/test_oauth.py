"""The shared OAuth2 client-credentials session: token cache, renewal, 401, 429, budget."""

from __future__ import annotations

import datetime
import json
import logging

import httpx
import pytest
import time_machine

from clearinghouse.vendors import oauth
from clearinghouse.vendors.base import (
    PermanentFailure,
    TransientFailure,
    VendorError,
    VendorSettings,
    VendorTimeout,
)
from tests.vendors import recorded
from tests.vendors.state import MemoryState

SECRET = "s3cret-client-secret-value"
BASE = "https://api.example.test/v"


def settings(**overrides) -> VendorSettings:
    values = dict(
        vendor="change_healthcare",
        base_url=BASE,
        account_id="client-1",
        secret=SECRET,
        timeout_s=10.0,
    )
    return VendorSettings(**{**values, **overrides})


def session(state, **overrides) -> oauth.OAuthSession:
    return oauth.OAuthSession(
        settings(**overrides),
        state,
        vendor="change_healthcare",
        token_path="/token",
        default_lifetime_s=3600,
    )


class Vendor:
    """A token endpoint handing out tok-1, tok-2 ... and a /data endpoint answering
    `data_answers` in turn (default 200)."""

    def __init__(self, lifetime: int = 3600, data_answers=None):
        self.lifetime = lifetime
        self.tokens_issued = 0
        self.data_answers = list(data_answers or [])
        self.auth_seen: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            self.tokens_issued += 1
            return httpx.Response(
                200,
                json={"access_token": f"tok-{self.tokens_issued}", "expires_in": self.lifetime},
            )
        self.auth_seen.append(request.headers.get("Authorization", ""))
        answer = self.data_answers.pop(0) if self.data_answers else httpx.Response(200, json={})
        return answer(request) if callable(answer) else answer


@pytest.fixture
def clock(monkeypatch):
    return recorded.use_fake_clock(monkeypatch)


@pytest.fixture
def state(clock):
    return MemoryState(clock=clock.time)


def get_data(s: oauth.OAuthSession) -> httpx.Response:
    with s.transaction() as call:
        return call.send("GET", "/data")


def test_it_fetches_a_token_once_and_reuses_it(monkeypatch, state):
    vendor = Vendor()
    recorded.install(monkeypatch, vendor)
    get_data(session(state))
    get_data(session(state))
    assert vendor.tokens_issued == 1
    assert vendor.auth_seen == ["Bearer tok-1", "Bearer tok-1"]
    ((key, value, ttl),) = state.sets
    assert key.startswith("oauth:change_healthcare:")
    assert ttl == 3600
    assert json.loads(value)["access_token"] == "tok-1"


def test_it_keys_the_token_by_vendor_base_url_and_client_id(state):
    keys = {
        session(state).key,
        session(state, base_url="https://other.example.test/v").key,
        session(state, account_id="client-2").key,
        oauth.OAuthSession(
            settings(), state, vendor="availity", token_path="/t", default_lifetime_s=300
        ).key,
    }
    assert len(keys) == 4
    assert all(len(k) < 100 and " " not in k for k in keys)
    assert session(state).key == session(state, base_url=BASE + "/").key


def test_it_renews_sixty_seconds_before_a_long_lived_token_expires(monkeypatch, clock, state):
    vendor = Vendor(lifetime=3600)
    recorded.install(monkeypatch, vendor)
    get_data(session(state))
    clock.advance(3539)
    get_data(session(state))
    assert vendor.tokens_issued == 1
    clock.advance(2)  # 3541 s: inside the last minute
    get_data(session(state))
    assert vendor.tokens_issued == 2
    assert vendor.auth_seen[-1] == "Bearer tok-2"


def test_it_renews_a_short_lived_token_at_eighty_percent_of_its_life(monkeypatch, clock, state):
    vendor = Vendor(lifetime=10)  # margin min(60, 2) = 2 s
    recorded.install(monkeypatch, vendor)
    get_data(session(state))
    clock.advance(7.9)
    get_data(session(state))
    assert vendor.tokens_issued == 1
    clock.advance(0.2)
    get_data(session(state))
    assert vendor.tokens_issued == 2
    clock.advance(8.1)
    get_data(session(state))
    assert vendor.tokens_issued == 3
    assert [s[2] for s in state.sets] == [10, 10, 10]


def test_it_renews_on_the_real_clock_too(monkeypatch):
    """The default clock: time-machine moves wall time past the renewal point."""
    vendor = Vendor(lifetime=300)
    recorded.install(monkeypatch, vendor)
    state = MemoryState()
    start = datetime.datetime(2026, 11, 25, 9, 30, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        get_data(session(state))
        traveller.shift(239)
        get_data(session(state))
        assert vendor.tokens_issued == 1
        traveller.shift(2)  # 241 s: within min(60, 20% of 300) = 60 s of expiry
        get_data(session(state))
    assert vendor.tokens_issued == 2


def test_it_renews_once_on_a_401_and_repeats_the_call(monkeypatch, state):
    vendor = Vendor(data_answers=[httpx.Response(401), httpx.Response(200, json={"ok": 1})])
    recorded.install(monkeypatch, vendor)
    assert get_data(session(state)).json() == {"ok": 1}
    assert vendor.tokens_issued == 2
    assert vendor.auth_seen == ["Bearer tok-1", "Bearer tok-2"]


def test_it_gives_up_after_one_renewal(monkeypatch, state):
    vendor = Vendor(data_answers=[httpx.Response(401), httpx.Response(401)])
    recorded.install(monkeypatch, vendor)
    with pytest.raises(PermanentFailure) as caught:
        get_data(session(state))
    assert caught.value.status_code == 401
    assert vendor.tokens_issued == 2
    assert len(vendor.auth_seen) == 2


def test_it_uses_a_token_another_worker_renewed_after_a_401(monkeypatch, state):
    s = session(state)
    state.set(
        s.key, json.dumps({"access_token": "old", "renew_at": 2e9, "expires_at": 2e9}), ttl_s=60
    )

    def renewed_elsewhere(request):
        state.set(
            s.key, json.dumps({"access_token": "new", "renew_at": 2e9, "expires_at": 2e9}), ttl_s=60
        )
        return httpx.Response(401)

    vendor = Vendor(data_answers=[renewed_elsewhere])
    recorded.install(monkeypatch, vendor)
    get_data(s)
    assert vendor.tokens_issued == 0
    assert vendor.auth_seen == ["Bearer old", "Bearer new"]


def test_it_refuses_a_token_answer_without_a_token(monkeypatch, state):
    recorded.install(monkeypatch, lambda request: httpx.Response(200, json={"expires_in": 60}))
    with pytest.raises(TransientFailure, match="without an access token"):
        get_data(session(state))
    assert state.sets == []


def test_it_waits_out_a_429_then_succeeds(monkeypatch, clock, state):
    vendor = Vendor(
        data_answers=[
            httpx.Response(429, headers={"Retry-After": "3"}),
            httpx.Response(200, json={"ok": 1}),
        ]
    )
    recorded.install(monkeypatch, vendor)
    assert get_data(session(state)).json() == {"ok": 1}
    assert clock.sleeps == [3.0]


def test_it_raises_the_429_when_the_budget_is_spent(monkeypatch, clock, state):
    vendor = Vendor(data_answers=[httpx.Response(429, headers={"Retry-After": "4"})] * 5)
    recorded.install(monkeypatch, vendor)
    with pytest.raises(TransientFailure) as caught:
        get_data(session(state))  # budget 10 s: waits 4 + 4, then 4 more would not fit
    assert caught.value.status_code == 429
    assert not isinstance(caught.value, VendorTimeout)
    assert clock.sleeps == [4.0, 4.0]


@pytest.mark.parametrize(
    ("answer", "failure", "status"),
    [
        (httpx.ReadTimeout("slow"), VendorTimeout, None),
        (httpx.ConnectError("refused"), TransientFailure, None),
        (httpx.RemoteProtocolError("dropped"), TransientFailure, None),
        (httpx.Response(503), TransientFailure, 503),
        (httpx.Response(400, json={"message": "bad request"}), PermanentFailure, 400),
    ],
)
def test_it_maps_failures_to_the_typed_errors(monkeypatch, state, answer, failure, status):
    def reply(request):
        if isinstance(answer, Exception):
            raise answer
        return answer

    recorded.install(monkeypatch, Vendor(data_answers=[reply]))
    with pytest.raises(failure) as caught:
        get_data(session(state))
    assert caught.value.status_code == status


def test_it_passes_what_is_left_of_the_budget_as_the_request_timeout(monkeypatch, clock, state):
    timeouts = []

    def vendor(request):
        timeouts.append(request.extensions["timeout"]["read"])
        if request.url.path.endswith("/token"):
            clock.advance(4)
            return httpx.Response(200, json={"access_token": "tok", "expires_in": 60})
        return httpx.Response(200, json={})

    recorded.install(monkeypatch, vendor)
    get_data(session(state))
    assert timeouts == [10.0, 6.0]


def test_it_raises_the_timeout_when_no_budget_is_left(monkeypatch, clock, state):
    def vendor(request):
        clock.advance(11)
        return httpx.Response(200, json={"access_token": "tok", "expires_in": 60})

    recorded.install(monkeypatch, vendor)
    with pytest.raises(VendorTimeout, match="no time left"):
        get_data(session(state))


def test_it_never_logs_or_raises_the_secret_or_the_token(monkeypatch, state, caplog):
    """A vendor echoing the secret (token refusal) or the token (401 body) gets them
    redacted; nothing at DEBUG carries either."""
    caplog.set_level(logging.DEBUG)
    errors: list[VendorError] = []

    recorded.install(
        monkeypatch,
        lambda request: httpx.Response(
            401, json={"error_description": f"client_secret {SECRET} is not valid"}
        ),
    )
    with pytest.raises(PermanentFailure) as caught:
        get_data(session(state))
    errors.append(caught.value)

    vendor = Vendor(
        data_answers=[
            lambda request: httpx.Response(
                401, json={"message": f"{request.headers['Authorization']} expired"}
            )
        ]
        * 2
    )
    recorded.install(monkeypatch, vendor)
    with pytest.raises(PermanentFailure) as caught:
        get_data(session(state))
    errors.append(caught.value)

    texts = [caplog.text] + [f"{e} {e.message} {e.args!r}" for e in errors]
    assert "[redacted]" in str(errors[0]) and "[redacted]" in str(errors[1])
    for text in texts:
        for value in (SECRET, "tok-1", "tok-2"):
            assert value not in text
    assert "change_healthcare GET /v/data -> 401" in caplog.text


def test_it_defaults_a_missing_lifetime_and_does_not_keep_a_token_of_zero_seconds(
    monkeypatch, state
):
    lifetimes = [None, 0]

    def vendor(request):
        if request.url.path.endswith("/token"):
            body = {"access_token": f"tok-{len(lifetimes)}"}
            if (lifetime := lifetimes.pop(0)) is not None:
                body["expires_in"] = lifetime
            return httpx.Response(200, json=body)
        return httpx.Response(200, json={})

    recorded.install(monkeypatch, vendor)
    get_data(session(state))
    assert [ttl for _, _, ttl in state.sets] == [3600]
    state.values.clear()
    get_data(session(state))
    assert [ttl for _, _, ttl in state.sets] == [3600]
