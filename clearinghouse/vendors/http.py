"""The one place adapters make HTTP calls: httpx with the per-transaction timeout, and
failures turned into the typed errors of `base`.

Never logged or put in an error: request bodies (X12 carries PHI), headers (credentials),
query strings (Claim.MD's account key travels in form fields and some vendors put keys in
the URL). Errors carry the method, the path and, for refusals, the vendor's message.
"""

from __future__ import annotations

import functools
import json
import logging
import ssl
from urllib.parse import urlsplit

import certifi
import httpx

from clearinghouse.vendors.base import PermanentFailure, TransientFailure, VendorTimeout

logger = logging.getLogger(__name__)

MESSAGE_LIMIT = 300


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every client: building one loads the CA bundle (~30 ms)."""
    return ssl.create_default_context(cafile=certifi.where())


def client(timeout_s: float) -> httpx.Client:
    return httpx.Client(timeout=httpx.Timeout(timeout_s), follow_redirects=False, verify=_tls())


def send(vendor: str, http: httpx.Client, method: str, url: str, **kwargs) -> httpx.Response:
    """Send a request; return the response when it is 2xx, else raise the typed failure.

    Timeouts and dropped connections after the request went out are transient with
    `outcome_unknown=True`; a refused connection is transient with a known outcome
    (nothing reached the vendor). 429 and 5xx are transient; other 4xx are permanent with
    the vendor's message.
    """
    where = f"{method} {urlsplit(url).path}"
    try:
        response = http.request(method, url, **kwargs)
    except httpx.TimeoutException:
        raise VendorTimeout(vendor, f"{where}: no answer in time", outcome_unknown=True) from None
    except httpx.ConnectError:
        raise TransientFailure(vendor, f"{where}: cannot connect") from None
    except httpx.TransportError as error:
        raise TransientFailure(
            vendor, f"{where}: connection lost ({type(error).__name__})", outcome_unknown=True
        ) from None
    logger.info("%s %s -> %s", vendor, where, response.status_code)
    if response.status_code == 429 or response.status_code >= 500:
        raise TransientFailure(
            vendor,
            f"{where}: HTTP {response.status_code}",
            status_code=response.status_code,
            outcome_unknown=response.status_code >= 500 and method != "GET",
            retry_after_s=retry_after_s(response) if response.status_code == 429 else None,
        )
    if response.status_code >= 400:
        raise PermanentFailure(
            vendor,
            f"{where}: HTTP {response.status_code}: {vendor_message(response)}",
            status_code=response.status_code,
        )
    return response


def vendor_message(response: httpx.Response) -> str:
    """The vendor's own words for a refusal: a JSON message/error field, else the text."""
    text = response.text
    try:
        body = json.loads(text)
    except ValueError:
        return text.strip()[:MESSAGE_LIMIT] or response.reason_phrase
    if isinstance(body, dict):
        for key in ("message", "userMessage", "error_description", "error", "errors", "detail"):
            if body.get(key):
                value = body[key]
                if isinstance(value, list) and all(isinstance(v, dict) for v in value):
                    # [{"description": "..."}, ...] (Change Healthcare), errorMessage (Availity)
                    words = [_first_text(v) for v in value]
                    value = "; ".join(w for w in words if w) or value
                return (value if isinstance(value, str) else json.dumps(value))[:MESSAGE_LIMIT]
    return text.strip()[:MESSAGE_LIMIT]


def _first_text(item: dict) -> str:
    for key in ("description", "message", "errorMessage", "detail", "error"):
        if isinstance(item.get(key), str) and item[key]:
            return item[key]
    return ""


def retry_after_s(response: httpx.Response, default: float = 1.0) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After", default)))
    except ValueError:
        return default
