"""Deliver playbook webhooks: signed JSON POSTs with retries, and Slack-compatible payloads.

A receiver checks a delivery by recomputing ``sign(secret, timestamp, body)`` from the
``X-Helix-Timestamp`` header and the raw body, and comparing it with ``X-Helix-Signature``
(``verify`` does exactly that). ``Idempotency-Key`` is the same on every attempt of one
delivery, so a receiver can drop the duplicates that retries may cause.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

SIGNATURE_HEADER = "X-Helix-Signature"
TIMESTAMP_HEADER = "X-Helix-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
USER_AGENT = "Helix-Webhooks/1"
MAX_RETRY_AFTER_SECONDS = 30.0
_RETRYABLE_STATUS = frozenset({408, 429})
_SLACK_SECTION_LIMIT = 3000


@dataclass(frozen=True)
class WebhookResult:
    """The outcome of one delivery, after all its attempts."""

    ok: bool
    status_code: int | None
    attempts: int
    error: str | None
    permanent: bool


@dataclass(frozen=True)
class _Request:
    """One delivery's fixed parts, the same on every attempt."""

    url: str
    body: bytes
    secret: str | None
    idempotency_key: str
    timeout: float


@dataclass(frozen=True)
class _Attempt:
    """The outcome of a single HTTP attempt."""

    status_code: int | None = None
    error: str | None = None
    retryable: bool = False
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Return ``"sha256=<hex>"``, the HMAC-SHA256 of ``"<timestamp>." + body`` under ``secret``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    now: float | None = None,
    tolerance_seconds: int = 300,
) -> bool:
    """Tell whether ``signature`` is valid for the body and the timestamp is fresh enough."""
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance_seconds:
        return False
    expected = sign(secret, timestamp, body)
    return hmac.compare_digest(expected.encode(), signature.encode())


def slack_payload(
    text: str, *, title: str | None = None, link: str | None = None
) -> dict[str, Any]:
    """Build a Slack incoming-webhook message: fallback ``text`` plus one mrkdwn section."""
    body = _slack_escape(text)
    if title:
        body = f"*{_slack_escape(title)}*\n{body}"
    if link:
        # "|" would end the URL part of Slack's <url|label> link syntax.
        safe_link = _slack_escape(link).replace("|", "%7C")
        body = f"{body}\n<{safe_link}|Open in Helix>"
    fallback = f"{title}: {text}" if title else text
    section = {"type": "section", "text": {"type": "mrkdwn", "text": _truncate(body)}}
    return {"text": fallback, "blocks": [section]}


def post_webhook(
    url: str,
    payload: Mapping[str, Any],
    *,
    secret: str | None,
    idempotency_key: str,
    attempts: int = 3,
    backoff_seconds: float = 0.5,
    timeout: float = 10.0,
    client: httpx.Client | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> WebhookResult:
    """POST ``payload`` as signed JSON, retrying temporary failures; never raises for delivery.

    Raises ValueError only for a URL that is not http(s) or for fewer than one attempt.
    """
    _check_url(url)
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, not {attempts}")
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str).encode()
    request = _Request(url, body, secret, idempotency_key, timeout)
    own_client = client is None
    http = httpx.Client() if client is None else client
    try:
        return _deliver(http, request, attempts, backoff_seconds, sleep)
    finally:
        if own_client:
            http.close()


def _deliver(
    http: httpx.Client,
    request: _Request,
    attempts: int,
    backoff_seconds: float,
    sleep: Callable[[float], None],
) -> WebhookResult:
    """Run the attempts, sleeping between them, and summarise the last one."""
    number = 0
    outcome = _Attempt()
    for number in range(1, attempts + 1):
        outcome = _attempt(http, request)
        if outcome.ok or not outcome.retryable or number == attempts:
            break
        sleep(_delay(outcome, number, backoff_seconds))
    return WebhookResult(
        ok=outcome.ok,
        status_code=outcome.status_code,
        attempts=number,
        error=outcome.error,
        permanent=not outcome.ok and not outcome.retryable,
    )


def _headers(body: bytes, secret: str | None, idempotency_key: str) -> dict[str, str]:
    """Headers for one attempt; the timestamp and signature are fresh each time."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        IDEMPOTENCY_HEADER: idempotency_key,
    }
    if secret:
        timestamp = str(int(time.time()))
        headers[TIMESTAMP_HEADER] = timestamp
        headers[SIGNATURE_HEADER] = sign(secret, timestamp, body)
    return headers


def _attempt(http: httpx.Client, request: _Request) -> _Attempt:
    """Make one POST; the response body is never read, only its status and headers."""
    headers = _headers(request.body, request.secret, request.idempotency_key)
    try:
        with http.stream(
            "POST", request.url, content=request.body, headers=headers, timeout=request.timeout
        ) as response:
            return _judge(response)
    except httpx.TimeoutException:
        error = f"the receiver did not answer within {request.timeout:g} s"
        return _Attempt(error=error, retryable=True)
    except httpx.ConnectError as exc:
        return _Attempt(error=f"could not connect to the receiver: {exc}", retryable=True)
    except httpx.HTTPError as exc:
        return _Attempt(error=f"the request failed: {exc}", retryable=True)


def _judge(response: httpx.Response) -> _Attempt:
    """Turn an HTTP answer into an attempt outcome."""
    status = response.status_code
    if 200 <= status < 300:
        return _Attempt(status_code=status)
    answer = f"HTTP {status} {response.reason_phrase}".strip()
    if status >= 500 or status in _RETRYABLE_STATUS:
        return _Attempt(
            status_code=status,
            error=f"the receiver answered {answer}",
            retryable=True,
            retry_after=_retry_after(response.headers.get("Retry-After")),
        )
    if 300 <= status < 400:
        # Redirects are not followed: re-sending a signed payload elsewhere is the
        # receiver owner's call, made by updating the URL.
        where = response.headers.get("Location", "another address")
        return _Attempt(status_code=status, error=f"the receiver redirected ({answer}) to {where}")
    return _Attempt(
        status_code=status,
        error=f"the receiver refused the webhook with {answer}; retrying will not help",
    )


def _delay(outcome: _Attempt, number: int, backoff_seconds: float) -> float:
    """Seconds to wait after attempt ``number``: the server's Retry-After, else backoff."""
    if outcome.retry_after is not None:
        return outcome.retry_after
    return backoff_seconds * 2 ** (number - 1)


def _retry_after(value: str | None) -> float | None:
    """A numeric Retry-After in seconds, capped; HTTP-date forms fall back to backoff."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    if seconds != seconds or seconds < 0:  # NaN or negative
        return None
    return min(seconds, MAX_RETRY_AFTER_SECONDS)


def _check_url(url: str) -> None:
    """Accept only absolute http and https URLs."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise ValueError(f"invalid webhook URL {url!r}: {exc}") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"webhook URL must be http:// or https:// and name a host: {url!r}")


def _slack_escape(value: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _truncate(value: str) -> str:
    """Slack rejects section text longer than 3000 characters."""
    if len(value) <= _SLACK_SECTION_LIMIT:
        return value
    return value[: _SLACK_SECTION_LIMIT - 1] + "…"
