"""OAuth2 client credentials for the vendors that use them (Change Healthcare, Availity).

A token is fetched from the vendor's token endpoint with the config's client id and secret,
and kept in the `AdapterState` (so every worker shares it) under a key namespaced by vendor,
base URL and client id. It is renewed `min(60 s, 20% of its lifetime)` before it expires;
a 401 on a call renews it once and repeats the call.

One adapter method is one transaction with one time budget, the config's `timeout_s`:
`OAuthSession.transaction()` gives a `Call` holding the httpx client, the deadline and the
bearer token. An HTTP 429 is waited out (its Retry-After) while the budget allows, then the
429 is raised as the transient failure it is.

Neither the token nor the secret is ever logged or put in an exception message: a vendor
that echoes them in an error body gets them replaced with "[redacted]".
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from clearinghouse.vendors import http
from clearinghouse.vendors.base import (
    AdapterState,
    PermanentFailure,
    TransientFailure,
    VendorError,
    VendorSettings,
    VendorTimeout,
)

logger = logging.getLogger(__name__)

RENEW_BEFORE_S = 60.0
RENEW_BEFORE_SHARE = 0.2
MIN_BACKOFF_S = 0.1
REDACTED = "[redacted]"


class Clock:
    """Wall time for token expiry (shared between processes), monotonic time and sleep
    for the time budget. Tests replace the module's `clock`."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


clock = Clock()


def renew_margin_s(lifetime_s: float) -> float:
    return min(RENEW_BEFORE_S, RENEW_BEFORE_SHARE * lifetime_s)


class Deadline:
    """One transaction's time budget."""

    def __init__(self, vendor: str, budget_s: float):
        self.vendor = vendor
        self.budget_s = budget_s
        self.ends = clock.monotonic() + budget_s

    def remaining(self) -> float:
        return self.ends - clock.monotonic()

    def request_timeout(self, where: str) -> float:
        """The httpx timeout for the next request: what is left of the budget."""
        left = self.remaining()
        if left <= 0:
            raise VendorTimeout(self.vendor, f"{where}: no time left of {self.budget_s:g} s")
        return left

    def wait(self, seconds: float, *, error: VendorError | None = None) -> None:
        """Sleep, or raise `error` (a VendorTimeout by default) when the budget would run
        out first."""
        if self.remaining() < seconds:
            raise error or VendorTimeout(
                self.vendor, f"no answer within {self.budget_s:g} s", outcome_unknown=True
            )
        clock.sleep(seconds)


class OAuthSession:
    """Client-credentials tokens for one vendor config, and bearer calls with them."""

    def __init__(
        self,
        settings: VendorSettings,
        state: AdapterState,
        *,
        vendor: str,
        token_path: str,
        default_lifetime_s: int,
        extra_form: dict[str, str] | None = None,
    ):
        self.settings = settings
        self.state = state
        self.vendor = vendor
        self.token_path = token_path
        self.default_lifetime_s = default_lifetime_s
        self.extra_form = extra_form or {}

    @property
    def key(self) -> str:
        scope = f"{self.settings.base_url.rstrip('/')}\n{self.settings.account_id}"
        return f"oauth:{self.vendor}:{hashlib.sha256(scope.encode()).hexdigest()[:32]}"

    def url(self, path: str) -> str:
        return self.settings.base_url.rstrip("/") + "/" + path.lstrip("/")

    @contextmanager
    def transaction(self) -> Iterator[Call]:
        deadline = Deadline(self.vendor, self.settings.timeout_s)
        with http.client(self.settings.timeout_s) as client:
            yield Call(self, client, deadline)

    # --- the token ---------------------------------------------------------------------

    def cached_token(self) -> str | None:
        """The stored token while it is not due for renewal."""
        raw = self.state.get(self.key)
        if not raw:
            return None
        try:
            entry = json.loads(raw)
            token, renew_at = entry["access_token"], float(entry["renew_at"])
        except (ValueError, KeyError, TypeError):
            return None
        return token if token and clock.time() < renew_at else None

    def token(self, call: Call, *, stale: str | None = None) -> str:
        """A usable token: the cached one, unless it is due or is `stale` (it just got a
        401), in which case a new one is fetched and stored."""
        cached = self.cached_token()
        if cached and cached != stale:
            return cached
        return self._fetch(call)

    def _fetch(self, call: Call) -> str:
        form = {
            "grant_type": "client_credentials",
            "client_id": self.settings.account_id,
            "client_secret": self.settings.secret,
            **self.extra_form,
        }
        response = call.send_plain("POST", self.token_path, data=form)
        try:
            body = response.json()
            token = body["access_token"]
            expires_in = body.get("expires_in")
            lifetime = float(self.default_lifetime_s if expires_in is None else expires_in)
        except (ValueError, KeyError, TypeError, AttributeError):
            raise TransientFailure(self.vendor, "token answer without an access token") from None
        if not isinstance(token, str) or not token:
            raise TransientFailure(self.vendor, "token answer without an access token")
        if lifetime < 1:
            # good for this call at most (expires_in counts whole seconds): not worth keeping
            logger.debug("%s: new OAuth token, valid under a second", self.vendor)
            return token
        now = clock.time()
        entry = {
            "access_token": token,
            "expires_at": now + lifetime,
            "renew_at": now + lifetime - renew_margin_s(lifetime),
        }
        self.state.set(self.key, json.dumps(entry), ttl_s=int(lifetime))
        logger.debug("%s: new OAuth token, valid %d s", self.vendor, int(lifetime))
        return token

    def redact(self, error: VendorError, *values: str) -> VendorError:
        """`error` with the secret and the given token(s) taken out of its message."""
        message = error.message
        for value in (self.settings.secret, *values):
            if value and len(value) >= 4 and value in message:
                message = message.replace(value, REDACTED)
        if message != error.message:
            error.message = message
            error.args = (f"{error.vendor}: {message}",)
        return error


class Call:
    """One transaction: the client, the deadline and the token of an `OAuthSession`."""

    def __init__(self, session: OAuthSession, client: httpx.Client, deadline: Deadline):
        self.session = session
        self.client = client
        self.deadline = deadline
        self._token: str | None = None

    @property
    def vendor(self) -> str:
        return self.session.vendor

    def send(
        self, method: str, path: str, *, headers: dict | None = None, **kwargs
    ) -> httpx.Response:
        """A bearer call; a 401 renews the token once and repeats the call."""
        try:
            self._token = self._token or self.session.token(self)
            try:
                return self._send(method, path, headers, **kwargs)
            except PermanentFailure as error:
                if error.status_code != 401:
                    raise
                logger.info("%s: %s %s answered 401; renewing the token", self.vendor, method, path)
                self._token = self.session.token(self, stale=self._token)
                return self._send(method, path, headers, **kwargs)
        except VendorError as error:
            raise self.session.redact(error, *(t for t in [self._token] if t)) from None

    def _send(self, method: str, path: str, headers: dict | None, **kwargs) -> httpx.Response:
        headers = {**(headers or {}), "Authorization": f"Bearer {self._token}"}
        return self.send_plain(method, path, headers=headers, **kwargs)

    def send_plain(self, method: str, path: str, **kwargs) -> httpx.Response:
        """A call without the bearer token; an HTTP 429 is waited out within the budget."""
        url = self.session.url(path)
        while True:
            timeout = self.deadline.request_timeout(f"{method} {path}")
            try:
                return http.send(self.vendor, self.client, method, url, timeout=timeout, **kwargs)
            except TransientFailure as error:
                if error.status_code != 429:
                    raise self.session.redact(error) from None
                asked = error.retry_after_s if error.retry_after_s is not None else 1.0
                pause = max(MIN_BACKOFF_S, asked)
                logger.info(
                    "%s: %s %s answered 429; waiting %.1f s", self.vendor, method, path, pause
                )
                self.deadline.wait(pause, error=error)
            except VendorError as error:
                raise self.session.redact(error) from None

    def fresh_budget(self) -> None:
        """Start a new time budget: for a loop of independent requests (a mailbox sweep)."""
        self.deadline = Deadline(self.vendor, self.session.settings.timeout_s)


def json_body(vendor: str, response: httpx.Response, *, outcome_unknown: bool = False) -> dict:
    """A JSON object answer; anything else is the vendor misbehaving (transient)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        where = f"{response.request.method} {response.request.url.path}"
        raise TransientFailure(
            vendor, f"{where}: the answer is not a JSON object", outcome_unknown=outcome_unknown
        )
    return body
